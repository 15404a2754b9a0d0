//! The pubgrub `DependencyProvider` over a [`ModuleIndex`]: which package to
//! decide next, which version to try, and each version's dependencies.
//!
//! - `prioritize`: the distribution first, then modules whose range admits
//!   fewest versions (most constrained), and last the modules that may stay
//!   absent (optional dependencies and conflicts), so that real requirements
//!   accumulate before "not installed" is tried;
//! - `choose_version`: "absent" when allowed, else the locked version if it
//!   still fits, else the newest non-yanked version in range (a yanked one
//!   only if it is the locked one);
//! - `get_dependencies`: requires → present and in range; optional → absent
//!   or in range; conflicts → absent or outside the range.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use pubgrub::{
    Dependencies, DependencyConstraints, DependencyProvider, PackageResolutionStatistics,
};
use semver::Version;
use version_ranges::Ranges;

use super::RootRequirement;
use super::index::{Candidate, IndexError, ModuleIndex};
use super::package::Pkg;
use super::ranges::{Key, KeyRanges, or_absent, to_ranges};
use crate::manifest::names::ModuleName;

pub(crate) struct Provider<'a> {
    pub index: &'a dyn ModuleIndex,
    pub roots: &'a [RootRequirement],
    /// Versions to keep when they still satisfy (from the lock file).
    pub locked: &'a BTreeMap<ModuleName, Version>,
    cache: RefCell<HashMap<ModuleName, Arc<Vec<Candidate>>>>,
}

impl<'a> Provider<'a> {
    pub fn new(
        index: &'a dyn ModuleIndex,
        roots: &'a [RootRequirement],
        locked: &'a BTreeMap<ModuleName, Version>,
    ) -> Self {
        Provider {
            index,
            roots,
            locked,
            cache: RefCell::new(HashMap::new()),
        }
    }

    pub fn candidates(&self, name: &ModuleName) -> Result<Arc<Vec<Candidate>>, IndexError> {
        if let Some(found) = self.cache.borrow().get(name) {
            return Ok(found.clone());
        }
        let found = self.index.candidates(name)?;
        self.cache.borrow_mut().insert(name.clone(), found.clone());
        Ok(found)
    }

    pub fn candidate(
        &self,
        name: &ModuleName,
        version: &Version,
    ) -> Result<Option<Candidate>, IndexError> {
        Ok(self
            .candidates(name)?
            .iter()
            .find(|c| &c.version == version)
            .cloned())
    }

    /// Versions that may be picked: not yanked, unless locked.
    fn usable<'c>(
        &self,
        name: &ModuleName,
        candidates: &'c [Candidate],
    ) -> impl Iterator<Item = &'c Candidate> {
        let locked = self.locked.get(name).cloned();
        candidates
            .iter()
            .filter(move |c| !c.yanked || Some(&c.version) == locked.as_ref())
    }
}

impl DependencyProvider for Provider<'_> {
    type P = Pkg;
    type V = Key;
    type VS = KeyRanges;
    type M = String;
    type Err = IndexError;
    type Priority = (u8, u32, Reverse<usize>);

    fn prioritize(
        &self,
        package: &Pkg,
        range: &KeyRanges,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let Some(name) = package.module() else {
            return (3, 0, Reverse(0));
        };
        let class = if range.contains(&Key::Absent) { 0 } else { 2 };
        let count = self.candidates(name).map_or(0, |cs| {
            cs.iter()
                .filter(|c| range.contains(&Key::of(&c.version)))
                .count()
        });
        (class, stats.conflict_count(), Reverse(count))
    }

    fn choose_version(&self, package: &Pkg, range: &KeyRanges) -> Result<Option<Key>, IndexError> {
        let name = match package {
            Pkg::Root(_) => return Ok(Some(Key::Release(Version::new(0, 0, 0)))),
            Pkg::Module(name) => {
                if range.contains(&Key::Absent) {
                    return Ok(Some(Key::Absent));
                }
                name
            }
            Pkg::Feature(name, _) => name,
        };
        let candidates = self.candidates(name)?;
        if let Some(locked) = self.locked.get(name) {
            let key = Key::of(locked);
            if range.contains(&key) && candidates.iter().any(|c| &c.version == locked) {
                return Ok(Some(key));
            }
        }
        Ok(self
            .usable(name, &candidates)
            .map(|c| Key::of(&c.version))
            .filter(|k| range.contains(k))
            .max())
    }

    fn get_dependencies(
        &self,
        package: &Pkg,
        version: &Key,
    ) -> Result<Dependencies<Pkg, KeyRanges, String>, IndexError> {
        let mut deps: BTreeMap<Pkg, KeyRanges> = BTreeMap::new();
        let mut add = |pkg: Pkg, range: KeyRanges| {
            let merged = match deps.remove(&pkg) {
                Some(existing) => existing.intersection(&range),
                None => range,
            };
            deps.insert(pkg, merged);
        };
        match (package, version) {
            (Pkg::Root(_), _) => {
                for root in self.roots {
                    let range = to_ranges(&root.req);
                    for feature in &root.features {
                        add(
                            Pkg::Feature(root.name.clone(), feature.clone()),
                            range.clone(),
                        );
                    }
                    add(Pkg::Module(root.name.clone()), range);
                }
            }
            (Pkg::Module(_), Key::Absent) => {}
            (Pkg::Module(name), Key::Pre(v) | Key::Release(v)) => {
                let Some(candidate) = self.candidate(name, v)? else {
                    return Ok(Dependencies::Unavailable(format!(
                        "{name} {v} is not in the index"
                    )));
                };
                for (dep, req) in &candidate.requires {
                    add(Pkg::Module(dep.clone()), to_ranges(req));
                }
                for (dep, req) in &candidate.optional {
                    add(Pkg::Module(dep.clone()), or_absent(&to_ranges(req)));
                }
                for (dep, req) in &candidate.conflicts {
                    add(Pkg::Module(dep.clone()), to_ranges(req).complement());
                }
            }
            (Pkg::Feature(name, feature), Key::Pre(v) | Key::Release(v)) => {
                let Some(candidate) = self.candidate(name, v)? else {
                    return Ok(Dependencies::Unavailable(format!(
                        "{name} {v} is not in the index"
                    )));
                };
                let Some(enabled) = candidate.features.get(feature) else {
                    return Ok(Dependencies::Unavailable(format!(
                        "{name} {v} has no feature `{feature}`"
                    )));
                };
                add(
                    Pkg::Module(name.clone()),
                    Ranges::singleton(version.clone()),
                );
                for dep in enabled {
                    let req = candidate
                        .optional
                        .iter()
                        .find(|(n, _)| n == dep)
                        .map(|(_, r)| to_ranges(r));
                    add(
                        Pkg::Module(dep.clone()),
                        req.unwrap_or_else(super::ranges::present),
                    );
                }
            }
            (Pkg::Feature(..), Key::Absent) => {}
        }
        Ok(Dependencies::Available(
            deps.into_iter().collect::<DependencyConstraints<_, _>>(),
        ))
    }
}

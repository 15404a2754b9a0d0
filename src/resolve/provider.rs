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
use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Included, Unbounded};
use std::ops::Deref;
use std::rc::Rc;
use std::sync::Arc;

use pubgrub::{
    Dependencies, DependencyConstraints, DependencyProvider, PackageResolutionStatistics,
};
use rustc_hash::FxHashMap;
use semver::{Version, VersionReq};
use version_ranges::Ranges;

use super::RootRequirement;
use super::index::{Candidate, IndexError, ModuleIndex};
use super::package::Pkg;
use super::ranges::{Key, KeyRanges, or_absent, to_ranges};
use crate::manifest::names::ModuleName;

type Deps = Dependencies<Pkg, KeyRanges, String>;

pub(crate) struct Provider<'a> {
    pub index: &'a dyn ModuleIndex,
    pub roots: &'a [RootRequirement],
    /// Versions to keep when they still satisfy (from the lock file).
    pub locked: &'a BTreeMap<ModuleName, Version>,
    /// Each module's versions, as read once from the index.
    versions: RefCell<FxHashMap<ModuleName, Rc<Versions>>>,
    /// Each requirement's range: the same few requirements (`^1.0`) recur
    /// across thousands of index lines.
    ranges: RefCell<FxHashMap<VersionReq, KeyRanges>>,
}

/// A module's candidates, and their keys sorted for the solver's questions
/// ("how many versions in this range", "the newest one in it").
struct Versions {
    candidates: Arc<Vec<Candidate>>,
    /// Ascending, with whether the version may be picked: not yanked, unless locked.
    keys: Vec<(Key, bool)>,
}

/// A candidate borrowed from its module's list, which it keeps alive.
pub(crate) struct Found {
    candidates: Arc<Vec<Candidate>>,
    at: usize,
}

impl Deref for Found {
    type Target = Candidate;
    fn deref(&self) -> &Candidate {
        &self.candidates[self.at]
    }
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
            versions: RefCell::default(),
            ranges: RefCell::default(),
        }
    }

    pub fn candidates(&self, name: &ModuleName) -> Result<Arc<Vec<Candidate>>, IndexError> {
        Ok(self.versions(name)?.candidates.clone())
    }

    /// The candidate of exactly this version (the first, if listed twice).
    pub fn candidate(
        &self,
        name: &ModuleName,
        version: &Version,
    ) -> Result<Option<Found>, IndexError> {
        let candidates = self.candidates(name)?;
        Ok(candidates
            .iter()
            .position(|c| &c.version == version)
            .map(|at| Found { candidates, at }))
    }

    fn versions(&self, name: &ModuleName) -> Result<Rc<Versions>, IndexError> {
        if let Some(found) = self.versions.borrow().get(name) {
            return Ok(found.clone());
        }
        let candidates = self.index.candidates(name)?;
        let locked = self.locked.get(name);
        let mut keys: Vec<(Key, bool)> = candidates
            .iter()
            .map(|c| {
                let usable = !c.yanked || Some(&c.version) == locked;
                (Key::of(&c.version), usable)
            })
            .collect();
        keys.sort();
        let versions = Rc::new(Versions { candidates, keys });
        self.versions
            .borrow_mut()
            .insert(name.clone(), versions.clone());
        Ok(versions)
    }

    fn ranges(&self, req: &VersionReq) -> KeyRanges {
        if let Some(found) = self.ranges.borrow().get(req) {
            return found.clone();
        }
        let ranges = to_ranges(req);
        self.ranges.borrow_mut().insert(req.clone(), ranges.clone());
        ranges
    }
}

/// How many of the sorted `keys` lie in `range`: a binary search per segment.
fn count_in(keys: &[(Key, bool)], range: &KeyRanges) -> usize {
    range
        .iter()
        .map(|(lo, hi)| {
            let start = match lo {
                Unbounded => 0,
                Included(k) => keys.partition_point(|(x, _)| x < k),
                Excluded(k) => keys.partition_point(|(x, _)| x <= k),
            };
            let end = match hi {
                Unbounded => keys.len(),
                Included(k) => keys.partition_point(|(x, _)| x <= k),
                Excluded(k) => keys.partition_point(|(x, _)| x < k),
            };
            end.saturating_sub(start)
        })
        .sum()
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
        let count = self.versions(name).map_or(0, |v| count_in(&v.keys, range));
        (class, stats.conflict_count(), Reverse(count))
    }

    fn choose_version(&self, package: &Pkg, range: &KeyRanges) -> Result<Option<Key>, IndexError> {
        let name = match package {
            Pkg::Root(_) => return Ok(Some(Key::Release(0, 0, 0))),
            Pkg::Module(name) => {
                if range.contains(&Key::Absent) {
                    return Ok(Some(Key::Absent));
                }
                name
            }
            Pkg::Feature(name, _) => name,
        };
        let versions = self.versions(name)?;
        if let Some(locked) = self.locked.get(name) {
            let key = Key::of(locked);
            if range.contains(&key) && versions.candidates.iter().any(|c| &c.version == locked) {
                return Ok(Some(key));
            }
        }
        Ok(versions
            .keys
            .iter()
            .rev()
            .find(|(key, usable)| *usable && range.contains(key))
            .map(|(key, _)| key.clone()))
    }

    fn get_dependencies(&self, package: &Pkg, version: &Key) -> Result<Deps, IndexError> {
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
                    let range = self.ranges(&root.req);
                    for feature in &root.features {
                        add(
                            Pkg::Feature(root.name.clone(), feature.clone()),
                            range.clone(),
                        );
                    }
                    add(Pkg::Module(root.name.clone()), range);
                }
            }
            (Pkg::Module(_) | Pkg::Feature(..), Key::Absent) => {}
            (Pkg::Module(name), version) => {
                let found = match self.contents_of(name, version)? {
                    Ok(found) => found,
                    Err(unavailable) => return Ok(unavailable),
                };
                let contents = found.contents()?;
                for (dep, req) in &contents.requires {
                    add(Pkg::Module(dep.clone()), self.ranges(req));
                }
                for (dep, req) in &contents.optional {
                    add(Pkg::Module(dep.clone()), or_absent(&self.ranges(req)));
                }
                for (dep, req) in &contents.conflicts {
                    add(Pkg::Module(dep.clone()), self.ranges(req).complement());
                }
            }
            (Pkg::Feature(name, feature), version) => {
                let found = match self.contents_of(name, version)? {
                    Ok(found) => found,
                    Err(unavailable) => return Ok(unavailable),
                };
                let contents = found.contents()?;
                let Some(enabled) = contents.features.get(feature) else {
                    return Ok(Dependencies::Unavailable(format!(
                        "{name} {} has no feature `{feature}`",
                        found.version
                    )));
                };
                add(
                    Pkg::Module(name.clone()),
                    Ranges::singleton(version.clone()),
                );
                for dep in enabled {
                    let req = contents
                        .optional
                        .iter()
                        .find(|(n, _)| n == dep)
                        .map(|(_, r)| self.ranges(r));
                    add(
                        Pkg::Module(dep.clone()),
                        req.unwrap_or_else(super::ranges::present),
                    );
                }
            }
        }
        Ok(Dependencies::Available(
            deps.into_iter().collect::<DependencyConstraints<_, _>>(),
        ))
    }
}

impl Provider<'_> {
    /// The candidate of a chosen key, or why its dependencies are unavailable.
    fn contents_of(&self, name: &ModuleName, key: &Key) -> Result<Result<Found, Deps>, IndexError> {
        let version = key.version().expect("a present key");
        Ok(self.candidate(name, &version)?.ok_or_else(|| {
            Dependencies::Unavailable(format!("{name} {version} is not in the index"))
        }))
    }
}

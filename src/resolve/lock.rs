//! `oent resolve` / `oent update` on disk: given the distribution and its
//! bases (loaded by `workspace/`), open its registries, keep what `oent.lock`
//! already pins, resolve, and write the lock file — atomically, and not at all when its text does
//! not change (cargo's habit), so that an unchanged lock keeps its bytes and
//! its mtime. Under `--locked`, a lock that would change is an error.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::sources::{NamedSource, SourceSet, SourceSetError};
use super::{CapabilityRequirement, Request, Resolution, ResolveError, RootRequirement, resolve};
use crate::manifest::distribution::{DistributionChain, RegistryLocation};
use crate::manifest::lockfile::{LOCK_FILE, LOCK_VERSION, LockError, LockedModule, Lockfile};
use crate::manifest::names::ModuleName;
use crate::manifest::{Diagnostic, ReadError};
use crate::registry::cache::Cache;
use crate::registry::embedded::EMBEDDED_NAME;
use crate::registry::open::{open_embedded, open_pinned_source};
use crate::registry::source::FetchError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// Keep every locked version that still satisfies.
    Nothing,
    /// Let these modules move (all when empty).
    Modules(Vec<ModuleName>),
}

#[derive(Debug, Clone)]
pub struct LockOptions {
    pub update: Update,
    /// Fail instead of changing the lock (CI).
    pub locked: bool,
    pub offline: bool,
    pub cache: Cache,
}

impl LockOptions {
    /// Options with the download cache in its usual place (`OENT_CACHE_DIR`,
    /// else the user's cache directory).
    pub fn new(update: Update, locked: bool, offline: bool) -> Result<Self, FetchError> {
        Ok(LockOptions {
            update,
            locked,
            offline,
            cache: Cache::default_location()?,
        })
    }
}

#[derive(Debug)]
pub struct LockOutcome {
    pub path: PathBuf,
    pub lock: Lockfile,
    pub resolution: Resolution,
    /// Whether the file's bytes changed.
    pub changed: bool,
    /// The modules that moved from the lock it replaces, sorted by name.
    pub moved: Vec<ModuleChange>,
    /// The registries, opened once; they cache the index files already read.
    pub sources: SourceSet,
}

#[derive(Debug, thiserror::Error)]
pub enum LockOpError {
    #[error("`{}` has problems; run `oent lint {}` for details", .path.display(), .path.display())]
    Distribution {
        path: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("registry `{name}` at {location}: {source}")]
    Source {
        name: String,
        location: String,
        source: Box<FetchError>,
    },
    #[error(transparent)]
    Sources(#[from] SourceSetError),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(
        "{name} {version} is locked with sha256 {locked} but registry `{source_name}` now serves {served}: a published version changed; investigate before trusting it"
    )]
    ChecksumChanged {
        name: String,
        version: String,
        locked: String,
        served: String,
        source_name: String,
    },
    #[error("`{}` would change, but --locked forbids it:\n{}\nhelp: run `oent resolve` (or `oent update`) and commit the new lock file", .path.display(), .changes.join("\n"))]
    WouldChange { path: PathBuf, changes: Vec<String> },
    #[error("cannot write `{}`: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Resolves `chain` (its lock file beside its top distribution) and writes
/// the lock when its text changes.
pub fn lock_chain(
    chain: &DistributionChain,
    options: &LockOptions,
) -> Result<LockOutcome, LockOpError> {
    lock_chain_with(chain, options, true)
}

/// As [`lock_chain`]; with `write` false the lock is computed but never
/// written (`oent update --dry-run`, `oent build --diff`): `changed` then
/// says whether it would be.
pub fn lock_chain_with(
    chain: &DistributionChain,
    options: &LockOptions,
    write: bool,
) -> Result<LockOutcome, LockOpError> {
    let top = chain.top();
    let lock_path = top.dir().join(LOCK_FILE);
    let (previous, previous_text) = Lockfile::read_with_text(&lock_path)?.unzip();

    let request = request(chain, previous.as_ref(), &options.update);
    let sources = open_sources(chain, &options.cache, options.offline)?;
    // A second thread reads the index files of listable registries while
    // the solver runs: most files the solver asks for are then ready.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let resolution = std::thread::scope(|scope| {
        scope.spawn(|| sources.prefetch(&stop));
        let resolution = resolve(&request, &sources);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        resolution
    })?;
    check_checksums(previous.as_ref(), &resolution)?;

    let lock = to_lockfile(&request.distribution, &resolution);
    let text = lock.to_text();
    let moved = lock_changes(previous.as_ref(), &lock);
    let changed = previous_text.as_deref() != Some(text.as_str());
    if changed && options.locked {
        let mut changes = describe_changes(&moved);
        if changes.is_empty() {
            changes.push(if previous.is_none() {
                "- there is no lock file yet".into()
            } else {
                "- the lock file's text is not what oent writes".into()
            });
        }
        return Err(LockOpError::WouldChange {
            path: lock_path,
            changes,
        });
    }
    if changed && write {
        crate::fsutil::write_atomic(&lock_path, text.as_bytes()).map_err(|source| {
            LockOpError::Write {
                path: lock_path.clone(),
                source,
            }
        })?;
    }
    Ok(LockOutcome {
        path: lock_path,
        lock,
        resolution,
        changed,
        moved,
        sources,
    })
}

/// What the resolver is asked for a distribution: its modules and
/// capabilities (the nearest layer's request winning), with the versions
/// `previous` pins that `update` does not let move.
pub fn request(chain: &DistributionChain, previous: Option<&Lockfile>, update: &Update) -> Request {
    Request {
        distribution: chain.top().name.to_string(),
        roots: chain
            .module_requests()
            .into_values()
            .map(|r| RootRequirement {
                name: r.name.clone(),
                req: r.req.clone(),
                features: r.features.iter().map(|(f, _)| f.clone()).collect(),
                origin: r.origin.clone(),
            })
            .collect(),
        capabilities: chain
            .capability_requests()
            .into_values()
            .map(|c| CapabilityRequirement {
                capability: c.capability.clone(),
                req: c.req.clone(),
                origin: c.origin.clone(),
            })
            .collect(),
        locked: locked_versions(previous, update),
    }
}

fn locked_versions(
    previous: Option<&Lockfile>,
    update: &Update,
) -> BTreeMap<ModuleName, semver::Version> {
    let Some(previous) = previous else {
        return BTreeMap::new();
    };
    previous
        .modules
        .iter()
        .filter_map(|m| {
            Some((
                m.name.parse::<ModuleName>().ok()?,
                semver::Version::parse(&m.version).ok()?,
            ))
        })
        .filter(|(name, _)| match update {
            Update::Nothing => true,
            Update::Modules(names) if names.is_empty() => false,
            Update::Modules(names) => !names.contains(name),
        })
        .collect()
}

/// The distribution's registries, opened (HTTP ones from the cache only
/// when `offline`), each namespace given to the registry that owns it; a
/// distribution that lists none reads the catalogue built into the binary.
pub fn open_sources(
    chain: &DistributionChain,
    cache: &Cache,
    offline: bool,
) -> Result<SourceSet, LockOpError> {
    let specs = chain.registries();
    if specs.is_empty() {
        return embedded_sources(cache);
    }
    let mut sources = Vec::new();
    for spec in specs {
        let location = match &spec.location {
            RegistryLocation::Url(url) => url.clone(),
            RegistryLocation::Path(path) => path.display().to_string(),
        };
        let source =
            open_pinned_source(&location, &spec.keys, cache, offline).map_err(|source| {
                LockOpError::Source {
                    name: spec.name.clone(),
                    location: location.clone(),
                    source: Box::new(source),
                }
            })?;
        sources.push(NamedSource {
            name: spec.name.clone(),
            source,
        });
    }
    Ok(SourceSet::new(sources)?)
}

/// The catalogue built into the binary, alone: the registries of a
/// distribution that lists none, and what `oent search` reads outside one.
pub fn embedded_sources(cache: &Cache) -> Result<SourceSet, LockOpError> {
    let source = open_embedded(cache).map_err(|source| LockOpError::Source {
        name: EMBEDDED_NAME.to_owned(),
        location: "the oent binary".to_owned(),
        source: Box::new(source),
    })?;
    Ok(SourceSet::new(vec![NamedSource {
        name: EMBEDDED_NAME.to_owned(),
        source,
    }])?)
}

/// A locked version served with other bytes is a red flag, never silently relocked.
fn check_checksums(
    previous: Option<&Lockfile>,
    resolution: &Resolution,
) -> Result<(), LockOpError> {
    let Some(previous) = previous else {
        return Ok(());
    };
    for module in resolution.modules.values() {
        if let Some(locked) = previous.module(module.name.as_str())
            && locked.version == module.version.to_string()
            && locked.sha256 != module.sha256
        {
            return Err(LockOpError::ChecksumChanged {
                name: module.name.to_string(),
                version: locked.version.clone(),
                locked: locked.sha256.clone(),
                served: module.sha256.clone(),
                source_name: module.source.clone(),
            });
        }
    }
    Ok(())
}

pub fn to_lockfile(distribution: &str, resolution: &Resolution) -> Lockfile {
    Lockfile {
        lock: LOCK_VERSION,
        distribution: distribution.to_owned(),
        modules: resolution
            .modules
            .values()
            .map(|m| LockedModule {
                name: m.name.to_string(),
                version: m.version.to_string(),
                source: m.source.clone(),
                sha256: m.sha256.clone(),
                requires: m.requires.iter().map(ToString::to_string).collect(),
                features: m.features.clone(),
                image: m.image.clone(),
            })
            .collect(),
    }
}

impl LockOutcome {
    /// What moved, for the summary: `+ openent/x 1.0.0` and `~ openent/z
    /// 1.0.0 -> 1.1.0` by name, then `- openent/y 2.0.0`.
    pub fn changes(&self) -> Vec<String> {
        describe_changes(&self.moved)
    }
}

/// A module whose locked version changes (`None`: not there before, or no
/// longer there).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModuleChange {
    pub name: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// The modules whose locked version differs between `previous` (none: no
/// lock yet, every module is new) and `new`, sorted by name.
pub fn lock_changes(previous: Option<&Lockfile>, new: &Lockfile) -> Vec<ModuleChange> {
    let versions = |lock: &Lockfile| -> BTreeMap<String, String> {
        lock.modules
            .iter()
            .map(|m| (m.name.clone(), m.version.clone()))
            .collect()
    };
    let before = previous.map(versions).unwrap_or_default();
    let after = versions(new);
    let names: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    names
        .into_iter()
        .filter(|name| before.get(*name) != after.get(*name))
        .map(|name| ModuleChange {
            name: name.clone(),
            old: before.get(name).cloned(),
            new: after.get(name).cloned(),
        })
        .collect()
}

/// `+ openent/x 1.0.0`, `- openent/y 2.0.0`, `~ openent/z 1.0.0 -> 1.1.0`:
/// the modules there now first, then those removed, each by name.
fn describe_changes(moved: &[ModuleChange]) -> Vec<String> {
    let (now, removed): (Vec<&ModuleChange>, Vec<&ModuleChange>) =
        moved.iter().partition(|c| c.new.is_some());
    now.into_iter()
        .chain(removed)
        .map(|c| match (&c.old, &c.new) {
            (Some(v), Some(version)) => format!("~ {} {v} -> {version}", c.name),
            (None, Some(version)) => format!("+ {} {version}", c.name),
            (old, None) => format!("- {} {}", c.name, old.as_deref().unwrap_or_default()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(name: &str, old: Option<&str>, new: Option<&str>) -> ModuleChange {
        ModuleChange {
            name: name.into(),
            old: old.map(Into::into),
            new: new.map(Into::into),
        }
    }

    #[test]
    fn a_module_that_moves_arrives_or_leaves_is_a_change_and_one_that_stays_is_not() {
        let before = Lockfile::of_versions(&[
            ("openent/a", "1.0.0"),
            ("openent/b", "2.0.0"),
            ("openent/c", "1.0.0"),
        ]);
        let after = Lockfile::of_versions(&[
            ("openent/a", "1.1.0"),
            ("openent/b", "2.0.0"),
            ("openent/d", "0.1.0"),
        ]);
        assert_eq!(
            lock_changes(Some(&before), &after),
            [
                change("openent/a", Some("1.0.0"), Some("1.1.0")),
                change("openent/c", Some("1.0.0"), None),
                change("openent/d", None, Some("0.1.0")),
            ]
        );
        assert_eq!(
            lock_changes(None, &before)[0],
            change("openent/a", None, Some("1.0.0"))
        );
        assert!(lock_changes(Some(&after), &after).is_empty());
        // The summary: what is there now by name, then what left.
        assert_eq!(
            describe_changes(&lock_changes(Some(&before), &after)),
            [
                "~ openent/a 1.0.0 -> 1.1.0",
                "+ openent/d 0.1.0",
                "- openent/c 1.0.0"
            ]
        );
    }
}

//! `oent resolve` and `oent update` (the lock written), `oent tree` and
//! `oent why` (the resolution explained).

use std::path::Path;

use semver::Version;

use crate::manifest::names::ModuleName;
use crate::resolve::graph::Graph;
use crate::resolve::lock::{LockOpError, LockOptions};
use crate::workspace::{Locked, lock};

/// Resolves the distribution (a distribution.yaml or its directory) and
/// writes `oent.lock` when its text changes.
pub fn resolve(distribution: &Path, options: &LockOptions) -> Result<Locked, LockOpError> {
    lock(distribution, options)
}

#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error(transparent)]
    Lock(Box<LockOpError>),
    /// `--invert` names no module (as written).
    #[error("{0}")]
    Name(String),
    #[error("`{0}` is not part of this distribution's resolution")]
    NotResolved(ModuleName),
}

impl From<LockOpError> for TreeError {
    fn from(e: LockOpError) -> Self {
        TreeError::Lock(Box::new(e))
    }
}

/// The resolution drawn as a tree under the distribution, or, with
/// `invert`, what depends on that module (as written on the command line).
pub fn tree(
    distribution: &Path,
    options: &LockOptions,
    invert: Option<&str>,
) -> Result<String, TreeError> {
    let outcome = resolve(distribution, options)?.lock;
    let graph = Graph::new(&outcome.resolution);
    let distribution = &outcome.lock.distribution;
    match invert {
        Some(target) => {
            let target: ModuleName = target.parse().map_err(TreeError::Name)?;
            if !outcome.resolution.modules.contains_key(&target) {
                return Err(TreeError::NotResolved(target));
            }
            Ok(graph.inverted(&target, distribution))
        }
        None => Ok(graph.tree(distribution)),
    }
}

/// Why a module is in the distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Why {
    pub version: Version,
    pub distribution: String,
    /// Each path from the distribution to the module, as
    /// `openent/a 1.0.0 → openent/b 2.1.0`, sorted.
    pub paths: Vec<String>,
}

/// `None` when the module is not part of the resolution.
pub fn why(
    distribution: &Path,
    options: &LockOptions,
    target: &ModuleName,
) -> Result<Option<Why>, LockOpError> {
    let outcome = resolve(distribution, options)?.lock;
    let resolution = &outcome.resolution;
    let Some(module) = resolution.modules.get(target) else {
        return Ok(None);
    };
    let paths = Graph::new(resolution)
        .paths_to(target)
        .iter()
        .map(|path| {
            path.iter()
                .map(|m| format!("{m} {}", resolution.modules[m].version))
                .collect::<Vec<_>>()
                .join(" → ")
        })
        .collect();
    Ok(Some(Why {
        version: module.version.clone(),
        distribution: outcome.lock.distribution.clone(),
        paths,
    }))
}

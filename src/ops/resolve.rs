//! `oent resolve` and `oent update` (the lock written), `oent tree` and
//! `oent why` (the resolution explained).

use std::path::Path;

use semver::Version;

use crate::manifest::names::ModuleName;
use crate::resolve::graph::Graph;
use crate::resolve::lock::{LockOpError, LockOptions, LockOutcome};
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
    Ok(match inverted(&outcome, invert)? {
        Some(target) => graph.inverted(&target, distribution),
        None => graph.tree(distribution),
    })
}

/// The module `--invert` names (as written), refused when it is not resolved.
fn inverted(outcome: &LockOutcome, invert: Option<&str>) -> Result<Option<ModuleName>, TreeError> {
    let Some(target) = invert else {
        return Ok(None);
    };
    let target: ModuleName = target.parse().map_err(TreeError::Name)?;
    if !outcome.resolution.modules.contains_key(&target) {
        return Err(TreeError::NotResolved(target));
    }
    Ok(Some(target))
}

/// A module and its version, one step of a path in [`Why`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    pub name: String,
    pub version: String,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, self.version)
    }
}

/// The resolution as data (`oent tree --format json`): the modules the
/// distribution asks for, and every module of the lock; with `invert`, only
/// the modules through which the distribution reaches that one.
#[derive(Debug, Clone)]
pub struct TreeData {
    pub distribution: String,
    pub roots: Vec<String>,
    pub modules: Vec<crate::manifest::lockfile::LockedModule>,
}

pub fn tree_data(
    distribution: &Path,
    options: &LockOptions,
    invert: Option<&str>,
) -> Result<TreeData, TreeError> {
    let outcome = resolve(distribution, options)?.lock;
    let kept: Option<std::collections::BTreeSet<String>> =
        inverted(&outcome, invert)?.map(|target| {
            let paths = Graph::new(&outcome.resolution).paths_to(&target);
            paths.iter().flatten().map(ToString::to_string).collect()
        });
    let keep = |name: &str| kept.as_ref().is_none_or(|k| k.contains(name));
    Ok(TreeData {
        distribution: outcome.lock.distribution.clone(),
        roots: outcome
            .resolution
            .roots
            .iter()
            .map(ToString::to_string)
            .filter(|r| keep(r))
            .collect(),
        modules: outcome
            .lock
            .modules
            .iter()
            .filter(|m| keep(&m.name))
            .cloned()
            .collect(),
    })
}

/// Why a module is in the distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Why {
    pub version: Version,
    pub distribution: String,
    /// Each path from the distribution's request to the module (first the
    /// module the distribution asks for, last the module), sorted.
    pub paths: Vec<Vec<Step>>,
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
                .map(|m| Step {
                    name: m.to_string(),
                    version: resolution.modules[m].version.to_string(),
                })
                .collect()
        })
        .collect();
    Ok(Some(Why {
        version: module.version.clone(),
        distribution: outcome.lock.distribution.clone(),
        paths,
    }))
}

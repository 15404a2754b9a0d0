//! `oent fetch`: the versions of one module that a requirement selects
//! (the newest, or all of them, yanked ones too), downloaded from one
//! registry and verified into the cache.

use std::path::PathBuf;

use semver::VersionReq;

use crate::manifest::names::ModuleName;
use crate::registry::cache::Cache;
use crate::registry::fetch::{Progress, fetch_all, newest_matching};
use crate::registry::index::IndexEntry;
use crate::registry::open::open_pinned_source;
use crate::registry::source::{FetchError, Source};

#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub module: ModuleName,
    pub requirement: VersionReq,
    /// A directory, or an http:// or https:// URL.
    pub registry: String,
    /// OpenSSH public key lines the registry's snapshot must be signed by.
    pub keys: Vec<String>,
    pub cache: Cache,
    pub offline: bool,
    /// Downloads in flight at once.
    pub jobs: usize,
    /// Every matching version instead of the newest.
    pub all: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchOpError {
    #[error(transparent)]
    Source(Box<FetchError>),
    #[error("reading the versions of {name}")]
    Versions {
        name: ModuleName,
        source: Box<FetchError>,
    },
    #[error("{registry} has no version of {name}; check the module name")]
    NoVersion { registry: String, name: ModuleName },
    #[error("no version of {name} in {registry} satisfies `{requirement}`; published: {published}")]
    NoneSatisfies {
        name: ModuleName,
        registry: String,
        requirement: VersionReq,
        published: String,
    },
}

impl From<FetchError> for FetchOpError {
    fn from(e: FetchError) -> Self {
        FetchOpError::Source(Box::new(e))
    }
}

/// Each version selected, with the path of its verified archive in the cache.
pub fn fetch(
    options: &FetchOptions,
    progress: &dyn Progress,
) -> Result<Vec<(IndexEntry, PathBuf)>, FetchOpError> {
    let source = open_pinned_source(
        &options.registry,
        &options.keys,
        &options.cache,
        options.offline,
    )?;
    // Fails early and clearly when the location is not a registry at all.
    source.config()?;
    let lines = select(source.as_ref(), options)?;
    let paths = fetch_all(source.as_ref(), &lines, options.jobs, progress)?;
    Ok(lines.into_iter().zip(paths).collect())
}

fn select(source: &dyn Source, options: &FetchOptions) -> Result<Vec<IndexEntry>, FetchOpError> {
    let name = &options.module;
    let req = &options.requirement;
    let lines = source
        .versions(name)
        .map_err(|source| FetchOpError::Versions {
            name: name.clone(),
            source: Box::new(source),
        })?;
    if lines.is_empty() {
        return Err(FetchOpError::NoVersion {
            registry: source.label(),
            name: name.clone(),
        });
    }
    let chosen: Vec<IndexEntry> = if options.all {
        lines
            .iter()
            .filter(|l| req.matches(&l.version))
            .cloned()
            .collect()
    } else {
        newest_matching(&lines, req).cloned().into_iter().collect()
    };
    if chosen.is_empty() {
        let published: Vec<_> = lines
            .iter()
            .map(|l| format!("{}{}", l.version, if l.yanked { " (yanked)" } else { "" }))
            .collect();
        return Err(FetchOpError::NoneSatisfies {
            name: name.clone(),
            registry: source.label(),
            requirement: req.clone(),
            published: published.join(", "),
        });
    }
    Ok(chosen)
}

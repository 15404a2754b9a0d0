//! Published modules on disk: an archive fetched from the registry that
//! owns its namespace, verified, and unpacked safely into the cache under
//! its sha256 (`modules/<sha256>/`, content-addressed). Here rather than in
//! `registry/` because a module is found through the distribution's source
//! set (`resolve/`), and read as a manifest.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::WorkspaceError;
use crate::manifest::names::ModuleName;
use crate::manifest::{Module, module::MODULE_FILE};
use crate::package::unpack::{self, Limits};
use crate::registry::cache::Cache;
use crate::registry::source::FetchError;
use crate::resolve::Resolution;
use crate::resolve::sources::SourceSet;

/// The unpacked directory of one published version (its `module.yaml` not
/// yet validated), fetched, verified and unpacked into the cache if needed;
/// `sha256` when the caller knows which archive it expects.
pub fn fetch_module_dir(
    sources: &SourceSet,
    cache: &Cache,
    name: &ModuleName,
    wanted: &semver::Version,
    sha256: Option<&str>,
) -> Result<PathBuf, WorkspaceError> {
    let version = wanted.to_string();
    let fetch_error = |source: FetchError| WorkspaceError::Fetch {
        name: name.to_string(),
        version: version.clone(),
        source: Box::new(source),
    };
    let owner = sources
        .owner(name.namespace())
        .ok_or_else(|| WorkspaceError::NotInRegistry {
            name: name.to_string(),
            version: version.clone(),
            registry: format!("(none owns namespace `{}`)", name.namespace()),
        })?;
    let line = owner
        .source
        .versions(name)
        .map_err(fetch_error)?
        .into_iter()
        .find(|l| l.version == *wanted && sha256.is_none_or(|s| l.sha256 == s))
        .ok_or_else(|| WorkspaceError::NotInRegistry {
            name: name.to_string(),
            version: version.clone(),
            registry: owner.name.clone(),
        })?;
    let dir = cache.root.join("modules").join(&line.sha256);
    if !dir.join(MODULE_FILE).is_file() {
        let archive = owner.source.archive(&line).map_err(fetch_error)?;
        let file = std::fs::File::open(&archive).map_err(|source| WorkspaceError::Io {
            path: archive.clone(),
            source,
        })?;
        let root = crate::package::archive::archive_root(name, &version);
        let _ = std::fs::remove_dir_all(&dir);
        unpack::unpack(
            std::io::BufReader::new(file),
            &root,
            &dir,
            Limits::default(),
        )
        .map_err(|source| WorkspaceError::Unpack {
            name: name.to_string(),
            version: version.clone(),
            source,
        })?;
    }
    Ok(dir)
}

/// Fetches each module of the resolution into the cache, then reads its
/// manifest; every manifest's problems are reported at once.
pub(super) fn fetch_modules(
    sources: &SourceSet,
    cache: &Cache,
    resolution: &Resolution,
) -> Result<BTreeMap<ModuleName, Module>, WorkspaceError> {
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, resolved) in &resolution.modules {
        let dir = fetch_module_dir(
            sources,
            cache,
            name,
            &resolved.version,
            Some(&resolved.sha256),
        )?;
        let loaded = Module::load(&dir.join(MODULE_FILE))?;
        if loaded.has_errors() {
            problems.extend(loaded.diagnostics);
            continue;
        }
        if let Some(module) = loaded.into_valid() {
            out.insert(name.clone(), module);
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(WorkspaceError::Problems(problems))
    }
}

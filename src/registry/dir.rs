//! [`DirSource`]: a registry directory read in place, as a [`Source`].

use std::path::{Path, PathBuf};

use super::cache::Cache;
use super::checks::{check_line, check_names, utf8, verify_file};
use super::config::RegistryConfig;
use super::index::{self, IndexEntry, index_path};
use super::local::LocalRegistry;
use super::signing::PublicKey;
use super::source::{FetchError, IndexText, Source, check_served, io_error};
use super::trust::Trust;
use crate::manifest::names::ModuleName;

/// A registry directory, read in place: nothing is copied into the cache
/// (with pinned keys, the cache remembers the snapshot versions seen).
#[derive(Debug)]
pub struct DirSource {
    registry: LocalRegistry,
    trust: Option<Trust>,
}

impl DirSource {
    pub fn open(root: &Path) -> Result<DirSource, FetchError> {
        Ok(DirSource {
            registry: LocalRegistry::open(root)?,
            trust: None,
        })
    }

    /// Requires a snapshot signed by one of `keys` and checks every index
    /// file against it.
    pub fn pinned(mut self, keys: Vec<PublicKey>, cache: &Cache) -> DirSource {
        let label = self.label();
        let state = cache.registry_dir(&label);
        self.trust = Some(Trust::new(&label, keys, state));
        self
    }

    /// A file of the registry, `None` when absent.
    fn read(&self, relative: &str) -> Result<Option<Vec<u8>>, FetchError> {
        let path = self.registry.root.join(relative);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&path)(e)),
        }
    }
}

impl Source for DirSource {
    fn label(&self) -> String {
        self.registry.root.display().to_string()
    }

    fn config(&self) -> Result<RegistryConfig, FetchError> {
        match &self.trust {
            None => Ok(self.registry.config.clone()),
            Some(trust) => Ok(trust.verified(&|r| self.read(r))?.config.clone()),
        }
    }

    fn versions(&self, name: &ModuleName) -> Result<Vec<IndexEntry>, FetchError> {
        let Some(trust) = &self.trust else {
            check_served(&self.registry.config, &self.label(), name)?;
            let lines = self.registry.versions(name.as_str())?;
            check_names(&lines, name, &self.label())?;
            return Ok(lines);
        };
        // Checked and parsed from the same bytes: nothing can change between.
        let relative = index_path(name.as_str());
        let bytes = trust.index_file(&|r| self.read(r), &self.label(), name, &relative)?;
        let Some(bytes) = bytes else {
            return Ok(Vec::new());
        };
        let path = self.registry.root.join(&relative);
        let lines = index::parse(&path, &utf8(&path, bytes)?)?;
        check_names(&lines, name, &self.label())?;
        Ok(lines)
    }

    /// Read as [`LocalRegistry::versions`] reads it, without the parsing.
    /// A pinned registry's index file is checked against the signed
    /// snapshot exactly as [`Source::versions`] checks it.
    fn index_text(&self, name: &ModuleName) -> Result<Option<IndexText>, FetchError> {
        let relative = index_path(name.as_str());
        let path = self.registry.root.join(&relative);
        let bytes = match &self.trust {
            Some(trust) => trust.index_file(&|r| self.read(r), &self.label(), name, &relative)?,
            None => {
                check_served(&self.registry.config, &self.label(), name)?;
                self.read(&relative)?
            }
        };
        let text = match bytes {
            Some(bytes) => utf8(&path, bytes)?,
            None => String::new(),
        };
        Ok(Some(IndexText { path, text }))
    }

    fn archive(&self, line: &IndexEntry) -> Result<PathBuf, FetchError> {
        check_line(line, &self.label())?;
        let path = self.registry.root.join(&line.archive);
        verify_file(&path, line)?;
        Ok(path)
    }

    fn modules(&self) -> Result<Vec<ModuleName>, FetchError> {
        Ok(self.registry.modules()?)
    }
}

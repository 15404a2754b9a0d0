//! [`EmbeddedSource`]: the association's catalogue (the repository's
//! `registry/`), built into the binary by `build.rs`, as a [`Source`]. It is
//! the registry of a distribution that lists none: a first build needs only
//! the binary, offline.
//!
//! It is read and checked like a directory registry: the namespace check,
//! the index lines' check, and each archive's size and sha256 against its
//! line before the archive is written into the cache (content-addressed, so
//! a later build finds it there and checks it again).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::cache::Cache;
use super::checks::{check_line, check_names, utf8, verify_file};
use super::config::RegistryConfig;
use super::index::{self, IndexEntry, index_path};
use super::source::{FetchError, IndexText, Source, check_served, io_error};
use super::{REGISTRY_FILE, RegistryError};
use crate::manifest::names::ModuleName;
use crate::package::checksum::sha256_hex;

/// The name of the embedded registry, in messages and in the lock's
/// `source:` of the modules it served.
pub const EMBEDDED_NAME: &str = "openent (embedded)";

/// Every file of `registry/` at build time, by path relative to it.
static FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/embedded_registry.rs"));

/// The catalogue built into the binary.
#[derive(Debug)]
pub struct EmbeddedSource {
    files: BTreeMap<&'static str, &'static [u8]>,
    config: RegistryConfig,
    cache: Cache,
}

impl EmbeddedSource {
    /// The catalogue of this binary; its archives are written into `cache`
    /// when asked for.
    pub fn open(cache: &Cache) -> Result<EmbeddedSource, FetchError> {
        Self::from_files(FILES, cache)
    }

    /// A catalogue from other files (tests: a tampered copy).
    pub fn from_files(
        files: &[(&'static str, &'static [u8])],
        cache: &Cache,
    ) -> Result<EmbeddedSource, FetchError> {
        let files: BTreeMap<_, _> = files.iter().copied().collect();
        let label = Path::new(EMBEDDED_NAME).join(REGISTRY_FILE);
        let bytes = files
            .get(REGISTRY_FILE)
            .ok_or_else(|| RegistryError::NotARegistry(PathBuf::from(EMBEDDED_NAME)))?;
        let config = RegistryConfig::from_bytes(&label, bytes)?;
        Ok(EmbeddedSource {
            files,
            config,
            cache: cache.clone(),
        })
    }

    /// The path shown for a file of the catalogue.
    fn shown(relative: &str) -> PathBuf {
        Path::new(EMBEDDED_NAME).join(relative)
    }
}

impl Source for EmbeddedSource {
    fn label(&self) -> String {
        EMBEDDED_NAME.to_owned()
    }

    fn config(&self) -> Result<RegistryConfig, FetchError> {
        Ok(self.config.clone())
    }

    fn versions(&self, name: &ModuleName) -> Result<Vec<IndexEntry>, FetchError> {
        let Some(text) = self.index_text(name)? else {
            return Ok(Vec::new());
        };
        let lines = index::parse(&text.path, &text.text)?;
        check_names(&lines, name, &self.label())?;
        Ok(lines)
    }

    fn index_text(&self, name: &ModuleName) -> Result<Option<IndexText>, FetchError> {
        check_served(&self.config, &self.label(), name)?;
        let relative = index_path(name.as_str());
        let path = Self::shown(&relative);
        let text = match self.files.get(relative.as_str()) {
            Some(bytes) => utf8(&path, bytes.to_vec())?,
            None => String::new(),
        };
        Ok(Some(IndexText { path, text }))
    }

    /// Checks the embedded bytes against the line, then writes them into
    /// the cache (unless a file there already has them).
    fn archive(&self, line: &IndexEntry) -> Result<PathBuf, FetchError> {
        check_line(line, &self.label())?;
        let url = Self::shown(&line.archive).display().to_string();
        let bytes = self
            .files
            .get(line.archive.as_str())
            .ok_or_else(|| FetchError::NotFound { url: url.clone() })?;
        if bytes.len() as u64 != line.size {
            return Err(FetchError::SizeMismatch {
                url,
                expected: line.size,
                got: bytes.len() as u64,
            });
        }
        let sha256 = sha256_hex(bytes);
        if sha256 != line.sha256.as_str() {
            return Err(FetchError::ChecksumMismatch {
                url,
                expected: line.sha256.to_string(),
                got: sha256,
            });
        }
        let path = self.cache.archive_path(line.sha256.as_str());
        if verify_file(&path, line).is_ok() {
            return Ok(path);
        }
        let mut temp = self.cache.archive_temp(line.sha256.as_str())?;
        temp.write_all(bytes).map_err(io_error(temp.path()))?;
        temp.persist(&path).map_err(|e| io_error(&path)(e.error))?;
        Ok(path)
    }

    fn modules(&self) -> Result<Vec<ModuleName>, FetchError> {
        let mut modules: Vec<ModuleName> = self
            .files
            .keys()
            .filter_map(|p| {
                p.strip_prefix("index/")?
                    .strip_suffix(".jsonl")?
                    .parse()
                    .ok()
            })
            .collect();
        modules.sort();
        Ok(modules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_of_the_build_is_embedded_and_each_archive_verifies() {
        let cache_dir = tempfile::tempdir().unwrap();
        let source = EmbeddedSource::open(&Cache::new(cache_dir.path())).unwrap();
        let on_disk = super::super::local::LocalRegistry::open(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("registry"),
        )
        .unwrap();
        let modules = source.modules().unwrap();
        assert_eq!(modules, on_disk.modules().unwrap());
        for name in &modules {
            for line in source.versions(name).unwrap() {
                let path = source.archive(&line).unwrap();
                verify_file(&path, &line).unwrap();
            }
        }
    }

    #[test]
    fn an_archive_that_does_not_match_its_line_is_refused() {
        let cache_dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(cache_dir.path());
        let real = EmbeddedSource::open(&cache).unwrap();
        let name = real.modules().unwrap().remove(0);
        let line = real.versions(&name).unwrap().remove(0);
        let archive: &'static str = Box::leak(line.archive.clone().into_boxed_str());
        let size = line.size as usize;
        let tampered: &'static [u8] = Box::leak(vec![b'x'; size].into_boxed_slice());
        let mut files: Vec<_> = FILES
            .iter()
            .copied()
            .filter(|(p, _)| *p != archive)
            .collect();
        files.push((archive, tampered));
        let source = EmbeddedSource::from_files(&files, &cache).unwrap();
        let err = source.archive(&line).unwrap_err();
        assert!(matches!(err, FetchError::ChecksumMismatch { .. }), "{err}");
        assert!(
            err.to_string().starts_with("openent (embedded)/archives/"),
            "{err}"
        );
        assert!(!cache.archive_path(line.sha256.as_str()).exists());
    }
}

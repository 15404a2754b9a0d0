//! Operations on a registry directory: `init`, `add` (publish one archive),
//! `build` (publish every module of a tree) and `check` (is the directory
//! exactly what the tree produces?).
//!
//! Publishing is ordered so that a crash at any point leaves a registry that
//! readers accept: the archive is written under a temporary name, flushed,
//! linked to its final name only if that name is free (create-if-absent), its
//! directory flushed; only then is the index file rewritten atomically with
//! the new line appended.
//!
//! A kill between those steps leaves an archive that no index line names
//! (invisible to readers) and hidden temporaries. Such an archive does not
//! hold its version: the next publish of that version replaces it, and
//! [`LocalRegistry::recover`] (run by the forge at start) removes it and
//! the temporaries.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::config::RegistryConfig;
use super::index::{self, IndexEntry, Sha256};
use super::{REGISTRY_FILE, RegistryError, io_error, time};
use crate::manifest::{Module, module::MODULE_FILE};
use crate::package::archive;
use crate::package::checksum::sha256_hex;
use crate::package::unpack::{self, Limits};

/// Archives larger than this are refused before they are read whole.
pub const MAX_ARCHIVE_BYTES: u64 = 256 << 20;

/// A registry on disk.
#[derive(Debug, Clone)]
pub struct LocalRegistry {
    pub root: PathBuf,
    pub config: RegistryConfig,
}

/// What `add` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    Published(IndexEntry),
    /// The same bytes were already published: nothing to do.
    AlreadyPresent(IndexEntry),
}

impl LocalRegistry {
    pub fn init(root: &Path, config: RegistryConfig) -> Result<LocalRegistry, RegistryError> {
        let file = root.join(REGISTRY_FILE);
        if file.exists() {
            return Err(RegistryError::AlreadyExists(root.to_path_buf()));
        }
        for dir in ["index", "archives"] {
            let path = root.join(dir);
            std::fs::create_dir_all(&path).map_err(io_error(&path))?;
        }
        crate::fsutil::write_atomic(&file, config.to_yaml().as_bytes()).map_err(io_error(&file))?;
        Ok(LocalRegistry {
            root: root.to_path_buf(),
            config,
        })
    }

    pub fn open(root: &Path) -> Result<LocalRegistry, RegistryError> {
        let file = root.join(REGISTRY_FILE);
        if !file.is_file() {
            return Err(RegistryError::NotARegistry(root.to_path_buf()));
        }
        Ok(LocalRegistry {
            root: root.to_path_buf(),
            config: RegistryConfig::load(&file)?,
        })
    }

    /// Every published version of a module, in publication order.
    pub fn versions(&self, name: &str) -> Result<Vec<IndexEntry>, RegistryError> {
        let path = self.root.join(index::index_path(name));
        match std::fs::read_to_string(&path) {
            Ok(text) => index::parse(&path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(RegistryError::Io { path, source: e }),
        }
    }

    /// Every module with an index file, sorted.
    pub fn modules(&self) -> Result<Vec<crate::manifest::names::ModuleName>, RegistryError> {
        let mut out = Vec::new();
        let index = self.root.join("index");
        let Ok(namespaces) = std::fs::read_dir(&index) else {
            return Ok(out);
        };
        for ns in namespaces {
            let ns = ns.map_err(io_error(&index))?;
            let Ok(files) = std::fs::read_dir(ns.path()) else {
                continue;
            };
            for file in files {
                let file = file.map_err(io_error(&index))?;
                let file_name = file.file_name();
                let Some(name) = file_name.to_str().and_then(|n| n.strip_suffix(".jsonl")) else {
                    continue;
                };
                if let Ok(module) = format!("{}/{name}", ns.file_name().to_string_lossy()).parse() {
                    out.push(module);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Removes what an interrupted publish or sync leaves: hidden
    /// temporaries (`.oent-add-*`, `.oent-*.tmp`) anywhere in the registry,
    /// and archives that no index line names. Only for a registry nothing
    /// else is writing to (the forge runs it before it listens).
    pub fn recover(&self) -> Result<Recovered, RegistryError> {
        let mut recovered = Recovered::default();
        let mut named = std::collections::HashSet::new();
        let mut archives = Vec::new();
        for path in files_under(&self.root)? {
            let relative = path.strip_prefix(&self.root).unwrap_or(&path);
            let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if is_leftover(file_name) {
                std::fs::remove_file(&path).map_err(io_error(&path))?;
                recovered.leftovers.push(relative.to_path_buf());
            } else if relative.starts_with("index") && file_name.ends_with(".jsonl") {
                named.extend(archives_named(&path)?);
            } else if relative.starts_with("archives") && file_name.ends_with(".tar.gz") {
                archives.push(relative.to_path_buf());
            }
        }
        for relative in archives {
            if !named.contains(&relative) {
                let path = self.root.join(&relative);
                std::fs::remove_file(&path).map_err(io_error(&path))?;
                recovered.orphans.push(relative);
            }
        }
        Ok(recovered)
    }

    /// Publishes archive bytes whose manifest [`inspect_archive`] already
    /// read: the archive, then its index line (immutable versions; the same
    /// bytes again is a no-op). Only through [`super::publish::Publisher`],
    /// which admits it and signs again after.
    pub(super) fn add_inspected(
        &self,
        module: &Module,
        bytes: &[u8],
    ) -> Result<Added, RegistryError> {
        let namespace = module.name.namespace();
        if !self.config.owns(namespace) {
            return Err(RegistryError::NamespaceNotOwned {
                registry: self.config.name.clone(),
                namespace: namespace.to_owned(),
                owned: self.config.namespaces.join(", "),
            });
        }
        let sha256 = Sha256::of(bytes);
        let relative = format!(
            "archives/{namespace}/{}",
            archive::archive_file_name(module)
        );
        let line = IndexEntry::for_module(
            module,
            &sha256,
            bytes.len() as u64,
            &relative,
            &self.config.name,
            &time::now_rfc3339(),
        );
        let existing = self.versions(module.name.as_str())?;
        if let Some(published) = existing.iter().find(|l| l.version == line.version) {
            if published.sha256 == sha256 && published.same_content(&line) {
                return Ok(Added::AlreadyPresent(published.clone()));
            }
            return Err(RegistryError::VersionExists {
                name: line.name.to_string(),
                version: line.version.to_string(),
                existing: published.sha256.to_string(),
            });
        }
        let archive_path = self.root.join(&relative);
        write_archive(&archive_path, bytes)?;
        let index_path = self.root.join(index::index_path(module.name.as_str()));
        let mut text = std::fs::read_to_string(&index_path).unwrap_or_default();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&line.to_json_line());
        crate::fsutil::write_atomic(&index_path, text.as_bytes()).map_err(io_error(&index_path))?;
        Ok(Added::Published(line))
    }

    /// Flips `yanked` on one published version; the line is otherwise
    /// untouched. Returns the line as it now is and whether the index
    /// changed; `None`: no such version.
    pub(super) fn set_yanked(
        &self,
        name: &str,
        version: &str,
        yanked: bool,
    ) -> Result<Option<(IndexEntry, bool)>, RegistryError> {
        let index_path = self.root.join(index::index_path(name));
        let old = match std::fs::read_to_string(&index_path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&index_path)(e)),
        };
        let Some(line) = index::parse(&index_path, &old)?
            .into_iter()
            .find(|l| l.is_version(version))
        else {
            return Ok(None);
        };
        if line.yanked == yanked {
            return Ok(Some((line, false)));
        }
        let changed = line.with_yanked(yanked);
        // Raw lines are kept as they are: a line of a newer format, which
        // this version cannot parse, must survive the rewrite.
        let mut text = String::with_capacity(old.len() + 1);
        for raw in old.lines().filter(|l| !l.trim().is_empty()) {
            match index::parse_line(&index_path, 1, raw) {
                Ok(Some(parsed)) if parsed.is_version(version) => {
                    text.push_str(&changed.to_json_line())
                }
                _ => {
                    text.push_str(raw);
                    text.push('\n');
                }
            }
        }
        crate::fsutil::write_atomic(&index_path, text.as_bytes()).map_err(io_error(&index_path))?;
        Ok(Some((changed, true)))
    }

    /// Differences between the registry and what `modules_dir` produces:
    /// missing versions, versions whose archive differs, archives on disk
    /// that do not match their index line. Empty: up to date.
    pub fn check(&self, modules_dir: &Path) -> Result<Vec<String>, RegistryError> {
        let mut differences = Vec::new();
        for dir in module_dirs(modules_dir)? {
            // Only compared with what is published: the module is linted by
            // packing, and its own archive needs no unpacking to be trusted.
            let (module, _, sha256) = pack_to_memory(&dir)?;
            let versions = self.versions(module.name.as_str())?;
            match versions.iter().find(|l| l.version == module.version) {
                None => differences.push(format!("- {} {} ({}) is not in the registry", module.name, module.version, dir.display())),
                Some(line) if line.sha256 != sha256 => differences.push(format!(
                    "- {} {} in {} differs from the published archive (sha256 {} vs {}): bump its version",
                    module.name, module.version, dir.display(), &sha256[..12], line.sha256.short()
                )),
                Some(line) => {
                    let path = self.root.join(&line.archive);
                    match std::fs::read(&path) {
                        Ok(on_disk) if sha256_hex(&on_disk) == line.sha256 => {}
                        Ok(_) => differences.push(format!("- {} does not match its index line", path.display())),
                        Err(_) => differences.push(format!("- {} is missing", path.display())),
                    }
                }
            }
        }
        Ok(differences)
    }
}

/// Module directories (holding module.yaml) under `dir`, sorted.
pub fn module_dirs(dir: &Path) -> Result<Vec<PathBuf>, RegistryError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        if current.join(MODULE_FILE).is_file() {
            out.push(current);
            continue;
        }
        for entry in std::fs::read_dir(&current).map_err(io_error(&current))? {
            let entry = entry.map_err(io_error(&current))?;
            let name = entry.file_name();
            if entry.file_type().is_ok_and(|t| t.is_dir())
                && !name.to_string_lossy().starts_with('.')
            {
                stack.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// What [`LocalRegistry::recover`] removed, relative to the registry.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Temporaries of writes that never finished.
    pub leftovers: Vec<PathBuf>,
    /// Archives no index line names.
    pub orphans: Vec<PathBuf>,
}

/// Temporary names of [`write_archive`] and [`crate::fsutil::write_atomic`].
fn is_leftover(file_name: &str) -> bool {
    file_name.starts_with(".oent-add-") || crate::fsutil::is_temporary(file_name)
}

/// Every regular file under `dir`, outside hidden directories (`.git`);
/// symbolic links are neither followed nor listed.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>, RegistryError> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).map_err(io_error(&current))? {
            let entry = entry.map_err(io_error(&current))?;
            let kind = entry.file_type().map_err(io_error(&entry.path()))?;
            if kind.is_dir() && !entry.file_name().to_string_lossy().starts_with('.') {
                stack.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The `archive` of every line of an index file, read as plain JSON so that
/// lines of a newer format (which [`index::parse`] skips) still protect
/// their archive. A line that is not JSON stops the recovery: better keep
/// an orphan than delete a published archive.
fn archives_named(index_file: &Path) -> Result<Vec<PathBuf>, RegistryError> {
    let text = std::fs::read_to_string(index_file).map_err(io_error(index_file))?;
    let mut named = Vec::new();
    for raw in text.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value =
            serde_json::from_str(raw).map_err(|e| RegistryError::Io {
                path: index_file.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            })?;
        if let Some(archive) = value.get("archive").and_then(|a| a.as_str()) {
            named.push(crate::fsutil::normalize(Path::new(archive)));
        }
    }
    Ok(named)
}

/// The linted module, its archive and the archive's sha256, packed by
/// [`archive::Packing`] with SOURCE_DATE_EPOCH as `oent package` does.
pub fn pack_to_memory(dir: &Path) -> Result<(Module, Vec<u8>, String), RegistryError> {
    let packed = archive::Packing::read(dir)?.into_memory(archive::source_date_epoch())?;
    Ok((packed.module, packed.bytes, packed.sha256))
}

pub(super) fn read_bounded(path: &Path) -> Result<Vec<u8>, RegistryError> {
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    let mut bytes = Vec::new();
    file.take(MAX_ARCHIVE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error(path))?;
    if bytes.len() as u64 > MAX_ARCHIVE_BYTES {
        return Err(RegistryError::InvalidArchive {
            path: path.to_path_buf(),
            reason: format!("larger than {MAX_ARCHIVE_BYTES} bytes"),
        });
    }
    Ok(bytes)
}

/// Unpacks an archive into a temporary directory and validates its manifest.
pub fn inspect_archive(label: &Path, bytes: &[u8]) -> Result<Module, RegistryError> {
    inspect_archive_with(label, bytes, |_| ()).map(|(module, ())| module)
}

/// [`inspect_archive`], also handing the unpacked module directory to
/// `read` (for files beside the manifest, such as a README) before the
/// temporary directory goes away.
pub fn inspect_archive_with<T>(
    label: &Path,
    bytes: &[u8],
    read: impl FnOnce(&Path) -> T,
) -> Result<(Module, T), RegistryError> {
    let temp = tempfile::tempdir().map_err(io_error(label))?;
    let root = archive_root(bytes).map_err(|reason| RegistryError::InvalidArchive {
        path: label.to_path_buf(),
        reason,
    })?;
    let dest = temp.path().join("module");
    unpack::unpack(bytes, &root, &dest, Limits::default())?;
    let manifest = dest.join(MODULE_FILE);
    if !manifest.is_file() {
        return Err(RegistryError::InvalidArchive {
            path: label.to_path_buf(),
            reason: format!("it has no `{root}/{MODULE_FILE}`"),
        });
    }
    let loaded = Module::load(&manifest)?;
    if loaded.has_errors() {
        // Name the file inside the archive, not the temporary copy that is about to vanish.
        let inside = std::path::PathBuf::from(format!("{}:{root}/{MODULE_FILE}", label.display()));
        let diagnostics = loaded
            .diagnostics
            .into_iter()
            .map(|mut d| {
                if let Ok(rest) = d.path.strip_prefix(&dest) {
                    d.path = if rest == Path::new(MODULE_FILE) {
                        inside.clone()
                    } else {
                        std::path::PathBuf::from(format!(
                            "{}:{root}/{}",
                            label.display(),
                            rest.display()
                        ))
                    };
                }
                d
            })
            .collect();
        return Err(RegistryError::InvalidManifest {
            path: label.to_path_buf(),
            diagnostics,
        });
    }
    let module = loaded
        .into_valid()
        .ok_or_else(|| RegistryError::InvalidArchive {
            path: label.to_path_buf(),
            reason: "no module.yaml".into(),
        })?;
    let expected = archive::archive_root(&module.name, &module.version);
    if root != expected {
        return Err(RegistryError::InvalidArchive {
            path: label.to_path_buf(),
            reason: format!(
                "its root directory is `{root}` but the manifest inside says `{expected}`"
            ),
        });
    }
    let extra = read(&dest);
    Ok((module, extra))
}

/// The first path component of the first entry, or why it cannot be read.
fn archive_root(bytes: &[u8]) -> Result<String, String> {
    let corrupt = |e: std::io::Error| format!("it is not a valid tar.gz: {e}");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut entries = archive.entries().map_err(corrupt)?;
    let first = entries
        .next()
        .ok_or("it has no `<name>-<version>/` root directory (the archive is empty)")?
        .map_err(corrupt)?;
    let path = first.path().map_err(corrupt)?.into_owned();
    path.components()
        .find_map(|c| match c {
            std::path::Component::Normal(p) => p.to_str().map(str::to_owned),
            _ => None,
        })
        .ok_or_else(|| "it has no `<name>-<version>/` root directory".to_owned())
}

/// Writes the archive of a version no index line names yet: temporary
/// file, fsync, hard link to the final name, fsync of the directory. A file
/// already under that name is a leftover of an interrupted publish (its
/// index line was never written): identical, it is kept; different, it is
/// replaced (atomic rename), as it was never published.
fn write_archive(path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let mut temp = crate::fsutil::public_temp()
        .prefix(".oent-add-")
        .tempfile_in(dir)
        .map_err(io_error(dir))?;
    temp.write_all(bytes).map_err(io_error(path))?;
    temp.as_file().sync_all().map_err(io_error(path))?;
    match std::fs::hard_link(temp.path(), path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if std::fs::read(path).map_err(io_error(path))? != bytes {
                temp.persist(path).map_err(|e| io_error(path)(e.error))?;
            }
        }
        Err(e) => {
            return Err(RegistryError::Io {
                path: path.to_path_buf(),
                source: e,
            });
        }
    }
    crate::fsutil::sync_dir(dir).map_err(io_error(dir))
}

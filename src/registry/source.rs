//! Where a registry is read from: the [`Source`] trait that the rest of oent
//! uses (resolution, fetching), the [`DirSource`] over a registry directory,
//! [`open_source`] that picks one from a location, and [`FetchError`], the
//! errors of reading a source. The HTTP source lives in [`super::http`], the
//! download cache in [`super::cache`].
//!
//! Every archive a source hands out has been checked against its index line
//! (size and sha256) just before: callers never see unverified bytes.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::RegistryError;
use super::cache::Cache;
use super::config::RegistryConfig;
use super::http::HttpSource;
use super::index::{IndexLine, index_path};
use super::local::{LocalRegistry, MAX_ARCHIVE_BYTES};
use super::signing::{PublicKey, SigningError};
use super::snapshot::SnapshotError;
use super::trust::Trust;
use crate::manifest::names::ModuleName;
use crate::package::checksum::HashingWriter;

/// A registry to read from: a directory or a web server.
///
/// Sync and object-safe: the fetcher shares one source between its workers.
pub trait Source: Send + Sync {
    /// The URL or path, for messages.
    fn label(&self) -> String;
    /// The registry's `registry.yaml`.
    fn config(&self) -> Result<RegistryConfig, FetchError>;
    /// Every published version of a module, in publication order; empty when
    /// the registry has no index file for it.
    fn versions(&self, name: &ModuleName) -> Result<Vec<IndexLine>, FetchError>;
    /// The text of a module's index file, unparsed (empty when the registry
    /// has no index file for it), for readers that parse only the lines they
    /// need; such readers must refuse what [`Source::versions`] refuses.
    /// `None` when this source has no cheaper way than `versions`.
    fn index_text(&self, _name: &ModuleName) -> Result<Option<IndexText>, FetchError> {
        Ok(None)
    }
    /// A local file holding the archive of `line`, whose size and sha256 have
    /// just been checked against the line.
    fn archive(&self, line: &IndexLine) -> Result<PathBuf, FetchError>;
    /// Every module with an index file. Static web servers cannot list a
    /// directory, so only sources that can say it implement this.
    fn modules(&self) -> Result<Vec<ModuleName>, FetchError> {
        Err(FetchError::Unlistable {
            registry: self.label(),
        })
    }
}

/// An index file as read, before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexText {
    /// The file's path or URL, for messages.
    pub path: PathBuf,
    pub text: String,
}

/// Errors of reading a registry. Each names the URL or path involved and
/// says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(
        "registry {registry} cannot list its modules (a static web server has no directory listing); name the module that provides a capability instead of the capability"
    )]
    Unlistable { registry: String },
    #[error(
        "cannot reach {url}: {reason}; check the registry URL and the network, or pass --offline to work from the cache"
    )]
    ServerUnreachable { url: String, reason: String },
    #[error(
        "{url} does not exist (HTTP 404); check the registry URL, or tell the registry's maintainers if its index lists this file"
    )]
    NotFound { url: String },
    #[error(
        "{url}: the server answered HTTP {status}; try again later, or tell the registry's maintainers"
    )]
    HttpStatus { url: String, status: u16 },
    #[error(
        "{url}: the transfer stopped after {got} bytes{}; the connection was cut, try again",
        expected.map(|e| format!(" of {e}")).unwrap_or_default()
    )]
    Truncated {
        url: String,
        expected: Option<u64>,
        got: u64,
    },
    #[error(
        "{url}: the server sent more than the {limit} bytes expected; refusing it (the registry is inconsistent or the file was replaced)"
    )]
    TooLong { url: String, limit: u64 },
    #[error(
        "{url} is {got} bytes but the index says {expected}; the file is corrupt or was replaced: refusing it"
    )]
    SizeMismatch {
        url: String,
        expected: u64,
        got: u64,
    },
    #[error(
        "{url} has sha256 {got} but the index says {expected}; the archive is corrupt or was tampered with: refusing it"
    )]
    ChecksumMismatch {
        url: String,
        expected: String,
        got: String,
    },
    #[error("{what} is not in the cache; run without --offline to download it")]
    Offline { what: String },
    #[error("the index of {registry} has an unusable line for {name} {version}: {message}")]
    InvalidLine {
        registry: String,
        name: String,
        version: String,
        message: String,
    },
    #[error("no cache directory: set OENT_CACHE_DIR, XDG_CACHE_HOME or HOME")]
    NoCacheDir,
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{url}: {error}{help}")]
    Snapshot {
        url: String,
        /// Not a `#[source]`: the message already says it.
        error: Box<SnapshotError>,
        /// Empty, or a `\nhelp: …` line.
        help: String,
    },
    #[error(
        "{url} does not exist, but the distribution pins the key {keys} for this registry: refusing unsigned metadata; ask the registry's maintainers to sign it (`oent registry build --sign KEY`), or remove `key:` if the registry is not meant to be signed"
    )]
    Unsigned { url: String, keys: String },
    #[error(
        "registry {registry} was asked for namespace `{namespace}`, which it neither owns nor mirrors ({served}): refusing anything it serves for it (dependency confusion)"
    )]
    NamespaceNotServed {
        registry: String,
        namespace: String,
        /// What the registry owns and mirrors, in words.
        served: String,
    },
    #[error(
        "`{}` should hold the highest snapshot version accepted from a registry, but holds `{found}`; delete it to accept the registry's current snapshot",
        .path.display()
    )]
    BadVersionState { path: PathBuf, found: String },
    #[error("the key pinned for registry {registry} is unusable: {error}")]
    InvalidKey {
        registry: String,
        error: Box<SigningError>,
    },
    #[error(
        "{url} is not usable: {reason}\nhelp: a registry's URL names the folder that holds registry.yaml, index/ and archives/"
    )]
    NotARegistryFile { url: String, reason: String },
    /// Over a limit of [`super::transfer::TransferLimits`]; `help` says which
    /// variable raises it.
    #[error("{url}: the transfer {what}; {help}")]
    TooSlow {
        url: String,
        what: String,
        help: String,
    },
    #[error("{name} is `{value}`, not {expected}")]
    BadSetting {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(transparent)]
    Invalid(#[from] RegistryError),
}

impl FetchError {
    /// Whether trying again may help: the network or the server failed, not
    /// the content. A 404 or a wrong checksum will be the same next time.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::ServerUnreachable { .. } | FetchError::Truncated { .. } => true,
            FetchError::HttpStatus { status, .. } => {
                *status >= 500 || *status == 408 || *status == 429
            }
            _ => false,
        }
    }
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Opens the registry at `location`: an `http://` or `https://` URL (read
/// through `cache`; with `offline`, from the cache only), else a directory
/// (`file://` allowed), read in place.
pub fn open_source(
    location: &str,
    cache: &Cache,
    offline: bool,
) -> Result<Box<dyn Source>, FetchError> {
    open_pinned_source(location, &[], cache, offline)
}

/// [`open_source`] for a registry whose snapshot must be signed by one of
/// `keys` (OpenSSH public key lines; none: an unsigned registry). See
/// [`super::trust`] for what is then checked.
pub fn open_pinned_source(
    location: &str,
    keys: &[String],
    cache: &Cache,
    offline: bool,
) -> Result<Box<dyn Source>, FetchError> {
    let keys = keys
        .iter()
        .map(|k| PublicKey::parse(k))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| FetchError::InvalidKey {
            registry: location.to_owned(),
            error: Box::new(error),
        })?;
    if location.starts_with("http://") || location.starts_with("https://") {
        let source = HttpSource::new(location, cache.clone(), offline)?;
        return Ok(Box::new(if keys.is_empty() {
            source
        } else {
            source.pinned(keys)
        }));
    }
    let path = location.strip_prefix("file://").unwrap_or(location);
    let source = DirSource::open(Path::new(path))?;
    Ok(Box::new(if keys.is_empty() {
        source
    } else {
        source.pinned(keys, cache)
    }))
}

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

    fn versions(&self, name: &ModuleName) -> Result<Vec<IndexLine>, FetchError> {
        let Some(trust) = &self.trust else {
            check_served(&self.registry.config, &self.label(), name)?;
            let lines = self.registry.versions(name.as_str())?;
            check_names(&lines, name, &self.label())?;
            return Ok(lines);
        };
        // Checked and parsed from the same bytes: nothing can change between.
        let relative = super::index::index_path(name.as_str());
        let bytes = trust.index_file(&|r| self.read(r), &self.label(), name, &relative)?;
        let Some(bytes) = bytes else {
            return Ok(Vec::new());
        };
        let path = self.registry.root.join(&relative);
        let lines = super::index::parse(&path, &utf8(&path, bytes)?)?;
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

    fn archive(&self, line: &IndexLine) -> Result<PathBuf, FetchError> {
        check_line(line, &self.label())?;
        let path = self.registry.root.join(&line.archive);
        verify_file(&path, line)?;
        Ok(path)
    }

    fn modules(&self) -> Result<Vec<ModuleName>, FetchError> {
        Ok(self.registry.modules()?)
    }
}

/// The text of an index file, or an error naming it.
pub(crate) fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String, FetchError> {
    String::from_utf8(bytes).map_err(|_| {
        RegistryError::InvalidIndex {
            path: path.to_path_buf(),
            line: 1,
            message: "the file is not UTF-8".into(),
        }
        .into()
    })
}

/// Refuses to read `name` from a registry whose `registry.yaml` neither
/// owns nor mirrors its namespace, before anything of it is read: whatever
/// such a registry's index holds, it does not speak for that namespace
/// (dependency confusion). Keyed or not, over HTTP or from a directory.
pub fn check_served(
    config: &RegistryConfig,
    registry: &str,
    name: &ModuleName,
) -> Result<(), FetchError> {
    match config.serves(name.namespace()) {
        true => Ok(()),
        false => Err(not_served(config, registry, name)),
    }
}

/// The refusal of [`check_served`].
pub(crate) fn not_served(config: &RegistryConfig, registry: &str, name: &ModuleName) -> FetchError {
    FetchError::NamespaceNotServed {
        registry: registry.trim_end_matches('/').to_owned(),
        namespace: name.namespace().to_owned(),
        served: config.served_in_words(),
    }
}

/// Refuses index lines that could make oent read or write outside the
/// registry or the cache: the archive path must be relative and plain, the
/// size bounded. (The sha256, which names the cache file, is a
/// [`Sha256`](super::index::Sha256): checked when the line was read.)
pub fn check_line(line: &IndexLine, registry: &str) -> Result<(), FetchError> {
    let invalid = |message: &str| FetchError::InvalidLine {
        registry: registry.to_owned(),
        name: line.name.to_string(),
        version: line.version.to_string(),
        message: message.to_owned(),
    };
    let plain = !line.archive.is_empty()
        && !line.archive.contains('\\')
        && Path::new(&line.archive)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Err(invalid(
            "its archive path must be relative, without `..` (like `archives/ns/name-1.0.0.tar.gz`)",
        ));
    }
    if line.size > MAX_ARCHIVE_BYTES {
        return Err(invalid(&format!(
            "its size {} is larger than the {MAX_ARCHIVE_BYTES} bytes oent accepts",
            line.size
        )));
    }
    Ok(())
}

/// Refuses an index file holding lines of another module: a resolver
/// trusting them would take one module for another.
pub fn check_names(
    lines: &[IndexLine],
    name: &ModuleName,
    registry: &str,
) -> Result<(), FetchError> {
    match lines.iter().find(|l| l.name != *name) {
        Some(line) => Err(FetchError::InvalidLine {
            registry: registry.to_owned(),
            name: line.name.to_string(),
            version: line.version.to_string(),
            message: format!("it is in the index file of {name}"),
        }),
        None => Ok(()),
    }
}

/// Checks that the file at `path` has the size and sha256 of `line`.
pub fn verify_file(path: &Path, line: &IndexLine) -> Result<(), FetchError> {
    let label = path.display().to_string();
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(FetchError::NotFound { url: label });
        }
        Err(e) => return Err(io_error(path)(e)),
    };
    let size = file.metadata().map_err(io_error(path))?.len();
    if size != line.size {
        return Err(FetchError::SizeMismatch {
            url: label,
            expected: line.size,
            got: size,
        });
    }
    let mut hasher = HashingWriter::new(std::io::sink());
    // `take`: the file may grow while we read it; hash what the size allows.
    std::io::copy(&mut file.take(line.size), &mut hasher).map_err(io_error(path))?;
    let (_, sha256, _) = hasher.finish();
    if sha256 != line.sha256 {
        return Err(FetchError::ChecksumMismatch {
            url: label,
            expected: line.sha256.to_string(),
            got: sha256,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::checksum::sha256_hex;
    use std::collections::BTreeMap;

    fn line(archive: &str, sha256: &str, size: u64) -> IndexLine {
        IndexLine {
            v: 1,
            name: "t/x".parse().unwrap(),
            version: "1.0.0".parse().unwrap(),
            requires: BTreeMap::new(),
            optional: BTreeMap::new(),
            conflicts: BTreeMap::new(),
            provides: vec![],
            features: BTreeMap::new(),
            licence: "CECILL-2.1".into(),
            sha256: sha256.parse().unwrap(),
            size,
            archive: archive.into(),
            yanked: false,
            origin: "t".into(),
            published_at: "2026-11-26T10:00:00Z".into(),
        }
    }

    #[test]
    fn lines_that_escape_are_refused() {
        let good = "ab".repeat(32);
        assert!(check_line(&line("archives/t/x-1.0.0.tar.gz", &good, 1), "r").is_ok());
        for archive in ["../x.tar.gz", "/etc/passwd", "a/../../b", "a\\b", ""] {
            let err = check_line(&line(archive, &good, 1), "r").unwrap_err();
            assert!(err.to_string().contains("archive path"), "{archive}: {err}");
        }
        for sha in ["../../../../x", &"AB".repeat(32), "ab"] {
            let err = sha.parse::<crate::registry::index::Sha256>().unwrap_err();
            assert!(err.contains("sha256"), "{sha}: {err}");
        }
    }

    #[test]
    fn verify_file_checks_size_then_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.tar.gz");
        std::fs::write(&path, b"abc").unwrap();
        let sha = sha256_hex(b"abc");
        assert!(verify_file(&path, &line("a", &sha, 3)).is_ok());
        let err = verify_file(&path, &line("a", &sha, 4)).unwrap_err();
        assert!(
            matches!(err, FetchError::SizeMismatch { got: 3, .. }),
            "{err}"
        );
        let err = verify_file(&path, &line("a", &"0".repeat(64), 3)).unwrap_err();
        assert!(matches!(err, FetchError::ChecksumMismatch { .. }), "{err}");
        let err = verify_file(&dir.path().join("none"), &line("a", &sha, 3)).unwrap_err();
        assert!(matches!(err, FetchError::NotFound { .. }), "{err}");
    }

    #[test]
    fn only_network_and_server_failures_are_transient() {
        let url = || "http://x/".to_string();
        assert!(
            FetchError::HttpStatus {
                url: url(),
                status: 503
            }
            .is_transient()
        );
        assert!(
            !FetchError::HttpStatus {
                url: url(),
                status: 403
            }
            .is_transient()
        );
        assert!(!FetchError::NotFound { url: url() }.is_transient());
        assert!(
            !FetchError::ChecksumMismatch {
                url: url(),
                expected: String::new(),
                got: String::new()
            }
            .is_transient()
        );
    }
}

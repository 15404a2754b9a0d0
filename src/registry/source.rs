//! Where a registry is read from: the [`Source`] trait that the rest of oent
//! uses (resolution, fetching) and [`FetchError`], the errors of reading a
//! source, with the namespace check every source makes first. The sources
//! themselves live beside it: [`super::dir`] over a directory, [`super::http`]
//! over a web server; [`super::open`] picks one from a location.
//!
//! Every archive a source hands out has been checked against its index line
//! (size and sha256) just before: callers never see unverified bytes (see
//! [`super::checks`]).

use std::path::{Path, PathBuf};

use super::RegistryError;
use super::config::RegistryConfig;
use super::index::IndexEntry;
use super::signing::SigningError;
use super::snapshot::SnapshotError;
use crate::manifest::names::ModuleName;

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
    fn versions(&self, name: &ModuleName) -> Result<Vec<IndexEntry>, FetchError>;
    /// The text of a module's index file, unparsed (empty when the registry
    /// has no index file for it), for readers that parse only the lines they
    /// need; such readers must refuse what [`Source::versions`] refuses.
    /// `None` when this source has no cheaper way than `versions`.
    fn index_text(&self, _name: &ModuleName) -> Result<Option<IndexText>, FetchError> {
        Ok(None)
    }
    /// A local file holding the archive of `line`, whose size and sha256 have
    /// just been checked against the line.
    fn archive(&self, line: &IndexEntry) -> Result<PathBuf, FetchError>;
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

#[cfg(test)]
mod tests {
    use super::*;

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

//! Registries: static files that list published module versions and hold
//! their archives, served from a directory, any web server, or the forge.
//! Uses `manifest/` and `package/`.
//!
//! ```text
//! registry.yaml                     name, namespaces owned, API URL, public keys
//! index/<ns>/<name>.jsonl           one JSON line per published version
//! archives/<ns>/<name>-<v>.tar.gz   the archives, immutable
//! snapshot.json                     signed: every index file's sha256, version, expiry
//! mirrors/<peer>/snapshot.json      a mirrored peer's own signed snapshot
//! ```
//!
//! - [`config`] — `registry.yaml`;
//! - [`index`] — the index line format (versioned like cargo's, unknown `v` skipped),
//!   read into an [`index::IndexEntry`] (`ModuleName`, `semver::Version`, `Sha256`)
//!   only through the line check, written back only by `to_json_line`; its serde
//!   shape is private to `index.rs`;
//! - [`local`] — a registry directory: init, read, check, recover;
//! - [`publish`] — [`publish::Publisher`], the one way a registry directory
//!   changes (publish, yank, a mirroring batch), signed again once after;
//! - [`source`] — the [`source::Source`] trait that readers use, and its errors;
//!   [`dir`] and [`http`], the two sources, and [`embedded`], the catalogue
//!   built into the binary (the registry of a distribution that lists none); [`open`], the factory that opens a
//!   registry entry of `distribution.yaml` (directory or URL, pinned keys or not);
//!   [`checks`] — what every source checks of what it reads;
//! - [`cache`] — the download cache; [`fetch`] — concurrent downloads;
//!   [`transfer`] — download limits and pace;
//! - [`signing`] — Ed25519 keys and SSH signatures, in OpenSSH's formats;
//! - [`snapshot`] — `snapshot.json`, the signed list of metadata hashes, and
//!   [`snapshot::Signer`], which only [`publish`] calls;
//! - [`trust`] — what a client checks of a registry whose key it pins;
//! - [`time`] — RFC 3339 timestamps without a date library.
//!
//! Who uses whom inside the stage (a tree: no file imports one that imports it
//! back; every file may use this `mod.rs`: [`RegistryError`], the file names):
//!
//! ```text
//! open     -> dir, http, embedded, cache, signing, source
//! embedded -> checks, cache, config, index, source
//! dir      -> trust, checks, cache, local, config, index, signing, source
//! http     -> trust, checks, cache, transfer, snapshot, config, index, signing, source
//! publish  -> local, snapshot, index
//! fetch    -> source, index
//! checks   -> local, source, index
//! trust    -> snapshot, source, config, signing
//! cache, transfer -> source
//! source   -> snapshot, config, index, signing
//! snapshot -> config, signing, time
//! local    -> config, index, time
//! config   -> signing
//! index, signing, time -> (nothing of the stage)
//! ```

pub mod cache;
pub mod checks;
pub mod config;
pub mod dir;
pub mod embedded;
pub mod fetch;
pub mod http;
pub mod index;
pub mod local;
pub mod open;
pub mod publish;
pub mod signing;
pub mod snapshot;
pub mod source;
pub mod time;
pub mod transfer;
pub mod trust;

use std::path::PathBuf;

use crate::manifest::{Diagnostic, ReadError};
use crate::package::{PackageError, unpack::UnpackError};

pub const REGISTRY_FILE: &str = "registry.yaml";
/// The signed snapshot ([`snapshot`]); here so that `config` can name a
/// mirror's copy without importing `snapshot`, which imports `config`.
pub const SNAPSHOT_FILE: &str = "snapshot.json";

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("`{}` is not a registry: it has no registry.yaml (create one with `oent registry init`)", .0.display())]
    NotARegistry(PathBuf),
    #[error("`{}` already holds a registry", .0.display())]
    AlreadyExists(PathBuf),
    #[error("`{}` is invalid", .path.display())]
    InvalidConfig {
        path: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
    #[error(
        "registry `{registry}` does not own namespace `{namespace}` (it owns: {owned}); a namespace is published by its own registry only"
    )]
    NamespaceNotOwned {
        registry: String,
        namespace: String,
        owned: String,
    },
    #[error(
        "{name} {version} is already published with other content (sha256 {existing}); versions are immutable: bump the version"
    )]
    VersionExists {
        name: String,
        version: String,
        existing: String,
    },
    #[error("archive `{}` is invalid: {reason}", .path.display())]
    InvalidArchive { path: PathBuf, reason: String },
    #[error("the manifest inside `{}` has problems", .path.display())]
    InvalidManifest {
        path: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
    #[error("{}:{line}: {message}", .path.display())]
    InvalidIndex {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("registry `{}` is out of date:\n{}\nhelp: run `oent registry build` and commit the result", .path.display(), .differences.join("\n"))]
    OutOfDate {
        path: PathBuf,
        differences: Vec<String>,
    },
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error(transparent)]
    Unpack(#[from] UnpackError),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub(crate) fn io_error(
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> RegistryError + '_ {
    move |source| RegistryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

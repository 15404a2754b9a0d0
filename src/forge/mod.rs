//! The forge: a server over a registry directory that adds authenticated
//! publishing and yanking, federation with peer forges, and a browsable
//! catalogue. Uses `registry/` (the directory layout, publishing, snapshots)
//! and `package/` (safe unpacking of uploads).
//!
//! - [`catalogue`] — the web catalogue: module list, search, a page per module;
//! - [`config`] — `forge.yaml`: registry, listen address, tokens, peers;
//! - [`files`] — static GETs of the registry's files with ETag and Range;
//! - [`publish`] — the forge's admission of a publish or yank (URL, token
//!   scope, fork licence), given to [`crate::registry::publish::Publisher`];
//! - [`server`] — the axum router (one function per route), its layers
//!   (request timeout, body limit on uploads) and graceful shutdown;
//! - [`state`] — [`state::Forge`], what every handler shares (config, publisher, files);
//! - [`error`] — [`error::ApiError`], the one HTTP error type: status, code
//!   and JSON body of every refusal;
//! - [`auth`] — [`auth::Authenticated`], the bearer-token extractor of the
//!   write routes;
//! - [`extract`] — [`extract::UrlPath`], axum's `Path` answering its
//!   rejections in the same JSON shape;
//! - [`upload`] — reading a publish's body under `max-upload-mib`;
//! - [`sync`] — federation: mirroring peers' namespaces, verified, as one
//!   batch of the registry's publisher (signed once);
//! - [`sync_state`] — the ETag of each peer's snapshot kept between sync
//!   rounds: an idle round is one conditional request per peer;
//! - [`client`] — `oent publish` and `oent yank` against a forge's API;
//! - [`gitlab`] — `oent publish --to gitlab:…`: a GitLab project's generic
//!   packages and releases (the Adullact forge is a GitLab).

pub mod auth;
pub mod catalogue;
pub mod client;
pub mod config;
pub mod error;
pub mod extract;
pub mod files;
pub mod gitlab;
pub mod publish;
pub mod server;
pub mod state;
pub mod sync;
pub mod sync_state;
pub mod upload;

use std::path::PathBuf;

use crate::manifest::Diagnostic;
use crate::registry::RegistryError;

#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    #[error("{0}")]
    Config(String),
    #[error("`{}` is invalid", .path.display())]
    InvalidConfig {
        path: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot listen on {address}: {source} (is another forge running? choose another `listen:` in forge.yaml)"
    )]
    Listen {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
}

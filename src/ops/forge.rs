//! `oent forge serve|sync|token`: a forge assembled from its forge.yaml
//! (the registry, the key that signs its snapshot, the static files) and
//! served, one mirroring pass over its peers, and a new publish token.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::forge::ForgeError;
use crate::forge::config::{ForgeConfig, hash_token};
use crate::forge::files::StaticFiles;
use crate::forge::server;
use crate::forge::state::{Forge, Shared};
use crate::forge::sync::{SyncError, SyncReport, sync_all};
use crate::registry::RegistryError;
use crate::registry::fetch::Progress;
use crate::registry::local::LocalRegistry;
use crate::registry::publish::Publisher;
use crate::registry::signing::{SecretKey, SigningError};
use crate::registry::snapshot::{Signer, SnapshotError};

#[derive(Debug, thiserror::Error)]
pub enum ForgeOpError {
    #[error("forge.yaml `registry: {}`", .path.display())]
    Registry {
        path: PathBuf,
        source: RegistryError,
    },
    #[error("forge.yaml `signing-key: {}`", .path.display())]
    SigningKey { path: PathBuf, source: SigningError },
    #[error("signing the registry's snapshot at start")]
    SignAtStart(#[source] SnapshotError),
    #[error("signing the registry's snapshot")]
    Sign(#[source] SnapshotError),
    #[error("reading /dev/urandom")]
    Random(#[source] std::io::Error),
    #[error("starting the server's runtime")]
    Runtime(#[source] std::io::Error),
    #[error("installing the signal handlers")]
    Signals(#[source] std::io::Error),
    #[error(transparent)]
    Serve(#[from] ForgeError),
}

/// The registry the forge serves, with the key that signs its snapshot.
pub fn publisher(config: &ForgeConfig) -> Result<Publisher, ForgeOpError> {
    let registry =
        LocalRegistry::open(&config.registry).map_err(|source| ForgeOpError::Registry {
            path: config.registry.clone(),
            source,
        })?;
    let signing = match &config.signing_key {
        Some(path) => Some(Signer::new(
            SecretKey::read(path).map_err(|source| ForgeOpError::SigningKey {
                path: path.clone(),
                source,
            })?,
            Duration::from_secs(u64::from(config.snapshot_validity_days) * 86_400),
        )),
        None => None,
    };
    Ok(Publisher::new(registry, signing))
}

/// The forge `oent forge serve` runs, its snapshot signed before the first
/// request (a registry changed by hand while the forge was down is signed again).
pub fn forge(config: ForgeConfig) -> Result<Shared, ForgeOpError> {
    let publisher = publisher(&config)?;
    publisher.sign().map_err(ForgeOpError::SignAtStart)?;
    let files = StaticFiles::new(&publisher.registry().root);
    Ok(Arc::new(Forge {
        config,
        publisher,
        files,
    }))
}

/// `oent forge serve`: `forge` served until SIGINT or SIGTERM (the
/// requests in flight finished), its peers mirrored periodically;
/// `bound` hears the address once it listens.
pub fn serve(forge: Shared, bound: impl FnOnce(SocketAddr)) -> Result<(), ForgeOpError> {
    let runtime = tokio::runtime::Runtime::new().map_err(ForgeOpError::Runtime)?;
    runtime.block_on(async {
        let stop = server::shutdown_signal().map_err(ForgeOpError::Signals)?;
        server::spawn_periodic_sync(forge.clone());
        Ok(server::serve(forge, stop, bound).await?)
    })
}

/// One mirroring pass: what each peer gave, in the order of forge.yaml, and
/// whether the snapshot was signed again after a change (`Ok` when nothing changed).
#[derive(Debug)]
pub struct Synced {
    pub peers: Vec<Result<SyncReport, SyncError>>,
    pub signed: Result<(), ForgeOpError>,
}

pub fn sync(config: &ForgeConfig, progress: &dyn Progress) -> Result<Synced, ForgeOpError> {
    let publisher = publisher(config)?;
    let synced = sync_all(&publisher, &config.peers, progress);
    Ok(Synced {
        peers: synced.outcome,
        signed: synced.signed.map(drop).map_err(ForgeOpError::Sign),
    })
}

/// A publish token, shown once, and the hash forge.yaml keeps of it.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub token: String,
    pub sha256: String,
}

/// 32 random bytes from the kernel, as `oent_<hex>`.
pub fn new_token() -> Result<NewToken, ForgeOpError> {
    use std::io::Read;
    let mut random = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut random))
        .map_err(ForgeOpError::Random)?;
    let token = format!("oent_{}", crate::package::checksum::hex(&random));
    let sha256 = hash_token(&token);
    Ok(NewToken { token, sha256 })
}

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
///
/// One single-threaded runtime per core, each accepting on its own socket
/// ([`server::bind_per_thread`]): a GET never changes thread, where tokio's
/// shared runtime moved work between its workers (context switches that
/// held static reads below nginx on two cores). Publishes and yanks run on
/// the blocking pool of the runtime that took them (the publisher locks
/// across threads); the signals and the periodic sync live on this thread's
/// own runtime, which tells the others to stop.
pub fn serve(forge: Shared, bound: impl FnOnce(SocketAddr)) -> Result<(), ForgeOpError> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let (local, sockets) = server::bind_per_thread(forge.config.listen, threads)?;
    server::recover(&forge);
    let app = server::router(forge.clone());
    let (stop_all, stopped) = tokio::sync::watch::channel(false);
    // Each thread says when it ends.
    let (ended, mut any_ended) = tokio::sync::mpsc::unbounded_channel();
    let mut workers = Vec::with_capacity(sockets.len());
    for (i, socket) in sockets.into_iter().enumerate() {
        let (app, mut stopped, ended) = (app.clone(), stopped.clone(), ended.clone());
        // Each socket listens here, registered with the runtime its thread
        // will drive: every one listens before the address is printed, and
        // one that cannot stops the start with its reason.
        let worker = current_thread_runtime().and_then(|runtime| {
            let listener = {
                let _inside = runtime.enter();
                server::listen(socket, local)?
            };
            std::thread::Builder::new()
                .name(format!("oent-forge-{i}"))
                .spawn(move || {
                    let stop = async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    };
                    let served = runtime.block_on(server::serve(app, (listener, local), stop));
                    let _ = ended.send(());
                    served
                })
                .map_err(ForgeOpError::Runtime)
        });
        match worker {
            Ok(worker) => workers.push(worker),
            Err(e) => return Err(stop_and_join(&stop_all, workers).err().unwrap_or(e)),
        }
    }
    let control = current_thread_runtime()?;
    let signals = control.block_on(async {
        let stop = server::shutdown_signal().map_err(ForgeOpError::Signals)?;
        bound(local);
        tracing::info!(%local, threads, registry = %forge.config.registry.display(), "forge listening");
        server::spawn_periodic_sync(forge.clone());
        // A thread that ends on its own (an accept error) stops the forge.
        tokio::select! {
            () = stop => {},
            _ = any_ended.recv() => {},
        }
        Ok(())
    });
    let served = stop_and_join(&stop_all, workers);
    tracing::info!("forge stopped");
    signals.and(served)
}

fn current_thread_runtime() -> Result<tokio::runtime::Runtime, ForgeOpError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ForgeOpError::Runtime)
}

/// Tells every serving thread to finish its requests and stop, waits for
/// them, and returns the first error one of them met.
fn stop_and_join(
    stop_all: &tokio::sync::watch::Sender<bool>,
    workers: Vec<std::thread::JoinHandle<Result<(), ForgeError>>>,
) -> Result<(), ForgeOpError> {
    let _ = stop_all.send(true);
    let mut outcome = Ok(());
    for worker in workers {
        let served = worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        if outcome.is_ok() {
            outcome = served.map_err(ForgeOpError::from);
        }
    }
    outcome
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

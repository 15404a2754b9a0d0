//! Federation: mirroring peers' namespaces, every byte verified.
//!
//! For each peer of forge.yaml, `sync` fetches its signed snapshot and
//! checks it with the pinned keys (and against the version already
//! mirrored: no rollback); then, for each namespace trusted from that peer,
//! the snapshot that vouches for it — the peer's own, or for a namespace the
//! peer itself mirrors, the original registry's snapshot that the peer keeps
//! under `mirrors/<origin>/`, checked with the keys of the peer's signed
//! registry.yaml — and every index file of the namespace whose hash
//! changed. Each index line must name a module of that namespace published
//! by that origin; each new archive must have the size and sha256 of its
//! line. Archives are written first, index files next, the origin's
//! snapshot last, then the forge's own registry.yaml (its `mirrors:`) and
//! snapshot. Nothing is taken from a namespace the forge owns itself.
//!
//! The snapshot is asked for with the ETag kept from the peer's last
//! complete sync ([`super::sync_state`]): when nothing changed, the round
//! is that one conditional request, answered 304, whatever the catalogue's size.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{ETAG, IF_NONE_MATCH};
use tempfile::TempPath;

use super::config::Peer;
use super::sync_state::{SyncState, Validator, validator};
use crate::package::checksum::{HashingWriter, sha256_hex};
use crate::registry::config::{Mirror, RegistryConfig, mirror_snapshot_path};
use crate::registry::http::{CONNECT_TIMEOUT, MAX_CONFIG_BYTES, MAX_INDEX_BYTES, USER_AGENT};
use crate::registry::index::{self, IndexEntry};
use crate::registry::local::LocalRegistry;
use crate::registry::publish::{Change, Publisher};
use crate::registry::signing::PublicKey;
use crate::registry::snapshot::{self, MAX_SNAPSHOT_BYTES, SNAPSHOT_FILE, Snapshot, SnapshotError};
use crate::registry::{REGISTRY_FILE, RegistryError};

/// Archives downloaded at once from one peer: enough that each request's
/// round trip hides behind the others' transfers (each worker keeps its
/// connection of the shared client's pool alive), few enough for a small
/// self-hosted peer.
pub const SYNC_JOBS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("peer `{peer}`: cannot fetch {url}: {reason}")]
    Fetch {
        peer: String,
        url: String,
        reason: String,
    },
    #[error("peer `{peer}`: {url}: {source}")]
    Snapshot {
        peer: String,
        url: String,
        #[source]
        source: Box<SnapshotError>,
    },
    #[error("peer `{peer}`: {url}: {reason}; nothing from it was mirrored")]
    Refused {
        peer: String,
        url: String,
        reason: String,
    },
    #[error(
        "peer `{peer}`: key `{key}` in forge.yaml is not an OpenSSH ed25519 public key: {reason}"
    )]
    Key {
        peer: String,
        key: String,
        reason: String,
    },
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("{}: {source}", .path.display())]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// What one peer's sync did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    pub peer: String,
    /// Versions of the snapshots mirrored, by origin registry.
    pub snapshots: BTreeMap<String, u64>,
    pub index_files: usize,
    pub archives: usize,
    pub bytes: u64,
    /// Trusted namespaces the peer neither owns nor mirrors.
    pub skipped_namespaces: Vec<String>,
    /// The peer answered 304 to the ETag of its snapshot kept from the
    /// last complete sync: nothing else was asked of it.
    pub not_modified: bool,
}

/// What one peer's sync did, the mirrors to list in registry.yaml, and
/// the validator its snapshot came with, to keep for the next round
/// (`None` after a 304, or when the peer sent no ETag).
pub struct PeerSync {
    pub report: SyncReport,
    pub mirrors: Vec<Mirror>,
    pub validator: Option<Validator>,
}

/// A file's bytes and the ETag the peer sent with them.
type Tagged = (Vec<u8>, Option<String>);

/// A registry whose files are read over HTTP, bounded in size.
struct Remote<'a> {
    peer: &'a str,
    base: &'a str,
    http: &'a Client,
}

impl Remote<'_> {
    fn url(&self, relative: &str) -> String {
        format!("{}/{relative}", self.base)
    }

    fn fetch_error(&self, relative: &str, reason: impl Into<String>) -> SyncError {
        SyncError::Fetch {
            peer: self.peer.to_owned(),
            url: self.url(relative),
            reason: reason.into(),
        }
    }

    fn send(&self, relative: &str, etag: Option<&str>) -> Result<Response, SyncError> {
        let mut request = self.http.get(self.url(relative));
        if let Some(tag) = etag {
            request = request.header(IF_NONE_MATCH, tag);
        }
        request
            .send()
            .map_err(|e| self.fetch_error(relative, e.to_string()))
    }

    /// `response` if it is a 200; anything else is a failure (every file
    /// a sync asks for must exist), the 304 of a conditional GET aside,
    /// which its caller handles first.
    fn ok(&self, relative: &str, response: Response) -> Result<Response, SyncError> {
        match response.status() {
            StatusCode::OK => Ok(response),
            StatusCode::NOT_FOUND => Err(self.fetch_error(relative, "not found (404)")),
            status => Err(self.fetch_error(relative, format!("the server answered {status}"))),
        }
    }

    /// The answer to a GET of `relative`, its body still unread.
    fn open(&self, relative: &str) -> Result<Response, SyncError> {
        self.ok(relative, self.send(relative, None)?)
    }

    fn require(&self, relative: &str, limit: u64) -> Result<Vec<u8>, SyncError> {
        let response = self.open(relative)?;
        self.read(relative, response, limit)
    }

    /// `relative` with the ETag it was sent with, unless the peer answers
    /// 304 to `etag` (`None`). A peer that ignores `If-None-Match` answers
    /// 200 with the whole file, as it would without it.
    fn require_changed(
        &self,
        relative: &str,
        limit: u64,
        etag: Option<&str>,
    ) -> Result<Option<Tagged>, SyncError> {
        let response = self.send(relative, etag)?;
        if etag.is_some() && response.status() == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        let response = self.ok(relative, response)?;
        let tag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Some((self.read(relative, response, limit)?, tag)))
    }

    fn read(&self, relative: &str, response: Response, limit: u64) -> Result<Vec<u8>, SyncError> {
        let mut bytes = Vec::new();
        response
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.fetch_error(relative, e.to_string()))?;
        if bytes.len() as u64 > limit {
            return Err(self.fetch_error(relative, format!("larger than {limit} bytes")));
        }
        Ok(bytes)
    }

    fn refused(&self, relative: &str, reason: impl Into<String>) -> SyncError {
        SyncError::Refused {
            peer: self.peer.to_owned(),
            url: self.url(relative),
            reason: reason.into(),
        }
    }

    fn snapshot_error(&self, relative: &str) -> impl FnOnce(SnapshotError) -> SyncError + '_ {
        let url = self.url(relative);
        move |source| SyncError::Snapshot {
            peer: self.peer.to_owned(),
            url,
            source: Box::new(source),
        }
    }
}

pub fn client() -> Client {
    Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(Duration::from_secs(300))
        .build()
        .expect("a client with rustls builds")
}

/// Mirrors what `peer` serves of its trusted namespaces into `registry`;
/// with `etag` (kept from the last complete sync), only if the peer's
/// snapshot changed since.
pub fn sync_peer(
    registry: &LocalRegistry,
    peer: &Peer,
    http: &Client,
    etag: Option<&str>,
) -> Result<PeerSync, SyncError> {
    let remote = Remote {
        peer: &peer.name,
        base: &peer.url,
        http,
    };
    let keys = peer
        .keys
        .iter()
        .map(|k| {
            PublicKey::parse(k).map_err(|e| SyncError::Key {
                peer: peer.name.clone(),
                key: k.clone(),
                reason: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut report = SyncReport {
        peer: peer.name.clone(),
        ..SyncReport::default()
    };

    // Checked before anything is asked of the peer: its 304 below says
    // nothing of this forge's own registry.yaml.
    if let Some(namespace) = peer.namespaces.iter().find(|n| registry.config.owns(n)) {
        return Err(remote.refused(
            REGISTRY_FILE,
            format!("forge.yaml trusts namespace `{namespace}` from this peer, but this forge owns it: remove it from the peer's namespaces"),
        ));
    }
    // The peer's own snapshot, then its registry.yaml as that snapshot lists it.
    // Each file as the snapshot names it (its hashed copy, when the
    // snapshot is consistent): a publish on the peer meanwhile cannot mix.
    // Unchanged since the last complete sync (304): everything it vouches
    // for (its registry.yaml, its index files, the index files it relays,
    // whose every change makes it sign again) is already mirrored.
    let Some((snapshot_bytes, snapshot_etag)) =
        remote.require_changed(SNAPSHOT_FILE, MAX_SNAPSHOT_BYTES, etag)?
    else {
        report.not_modified = true;
        return Ok(PeerSync {
            report,
            mirrors: Vec::new(),
            validator: None,
        });
    };
    let peer_snapshot = verified(registry, &remote, SNAPSHOT_FILE, &snapshot_bytes, &keys)?;
    let peer_config_bytes =
        remote.require(&peer_snapshot.read_path(REGISTRY_FILE), MAX_CONFIG_BYTES)?;
    peer_snapshot
        .check_file(REGISTRY_FILE, &peer_config_bytes)
        .map_err(remote.snapshot_error(REGISTRY_FILE))?;
    let peer_config = parse_config(&remote, &peer_config_bytes)?;

    // Which snapshot vouches for each trusted namespace.
    let mut origins: BTreeMap<String, Origin> = BTreeMap::new();
    for namespace in &peer.namespaces {
        if peer_config.owns(namespace) {
            origins
                .entry(peer_config.name.clone())
                .or_insert_with(|| Origin::new(peer_config.name.clone(), keys.clone(), None))
                .namespaces
                .push(namespace.clone());
        } else if let Some(mirror) = peer_config
            .mirrors
            .iter()
            .find(|m| m.namespaces.contains(namespace))
        {
            origins
                .entry(mirror.name.clone())
                .or_insert_with(|| {
                    Origin::new(
                        mirror.name.clone(),
                        mirror.keys.clone(),
                        Some(mirror.snapshot_path()),
                    )
                })
                .namespaces
                .push(namespace.clone());
        } else {
            tracing::warn!(
                peer = peer.name,
                namespace,
                "the peer neither owns nor mirrors this namespace"
            );
            report.skipped_namespaces.push(namespace.clone());
        }
    }

    let mut mirrors = Vec::new();
    let mut first_expiry = peer_snapshot.expires;
    for origin in origins.values() {
        let (snapshot, bytes) = match &origin.snapshot_path {
            None => (peer_snapshot.clone(), snapshot_bytes.clone()),
            Some(path) => {
                let bytes = remote.require(path, MAX_SNAPSHOT_BYTES)?;
                (
                    verified(registry, &remote, path, &bytes, &origin.keys)?,
                    bytes,
                )
            }
        };
        if snapshot.registry != origin.name {
            return Err(remote.refused(
                origin.snapshot_path.as_deref().unwrap_or(SNAPSHOT_FILE),
                format!(
                    "the snapshot is registry `{}`'s, not `{}`'s",
                    snapshot.registry, origin.name
                ),
            ));
        }
        first_expiry = first_expiry.min(snapshot.expires);
        mirror_namespaces(registry, &remote, origin, &snapshot, &mut report)?;
        let local = registry.root.join(mirror_snapshot_path(&origin.name));
        write(&local, &bytes, Durability::Now)?;
        report
            .snapshots
            .insert(origin.name.clone(), snapshot.version);
        mirrors.push(Mirror {
            name: origin.name.clone(),
            namespaces: origin.namespaces.clone(),
            keys: origin.keys.clone(),
        });
    }
    Ok(PeerSync {
        report,
        mirrors,
        validator: snapshot_etag.map(|tag| validator(peer, tag, first_expiry)),
    })
}

struct Origin {
    name: String,
    keys: Vec<PublicKey>,
    /// Where the peer keeps this origin's snapshot; `None`: the peer is the origin.
    snapshot_path: Option<String>,
    namespaces: Vec<String>,
}

impl Origin {
    fn new(name: String, keys: Vec<PublicKey>, snapshot_path: Option<String>) -> Origin {
        Origin {
            name,
            keys,
            snapshot_path,
            namespaces: Vec::new(),
        }
    }
}

/// Verifies a snapshot against its keys, refusing one older than the copy
/// this forge already mirrors (a peer cannot roll its mirrors back).
fn verified(
    registry: &LocalRegistry,
    remote: &Remote<'_>,
    relative: &str,
    bytes: &[u8],
    keys: &[PublicKey],
) -> Result<Snapshot, SyncError> {
    let fresh = snapshot::verify(bytes, keys, SystemTime::now(), None)
        .map_err(remote.snapshot_error(relative))?;
    // The copy mirrored before is found by the registry name the fresh
    // snapshot gives, so the rollback check comes after its signature check.
    let local = registry.root.join(mirror_snapshot_path(&fresh.registry));
    let seen = std::fs::read(&local)
        .ok()
        .and_then(|old| snapshot::verify(&old, keys, SystemTime::UNIX_EPOCH, None).ok());
    match seen {
        Some(seen) if fresh.version < seen.version => {
            Err(remote.snapshot_error(relative)(SnapshotError::Rollback {
                version: fresh.version,
                seen: seen.version,
            }))
        }
        // Each signing numbers a new version, so two different signed
        // states under one number mean the registry's history split (a
        // restored backup signed again, or a key showing each peer its
        // own view): neither can be trusted to follow the other.
        Some(seen) if fresh.version == seen.version && !same_signed_state(&fresh, &seen) => {
            Err(remote.refused(
                relative,
                format!(
                    "its version {} was already accepted from registry `{}` with other contents: the registry's history forked (a restored backup signed again, or two views signed with one number); ask its maintainers to sign a new version from the state this forge mirrors",
                    fresh.version, fresh.registry
                ),
            ))
        }
        _ => Ok(fresh),
    }
}

/// Whether two snapshots sign the same state (whichever keys signed them).
fn same_signed_state(a: &Snapshot, b: &Snapshot) -> bool {
    a.registry == b.registry
        && a.version == b.version
        && a.expires == b.expires
        && a.files == b.files
        && a.consistent == b.consistent
}

fn parse_config(remote: &Remote<'_>, bytes: &[u8]) -> Result<RegistryConfig, SyncError> {
    RegistryConfig::from_bytes(Path::new(&remote.url(REGISTRY_FILE)), bytes)
        .map_err(|e| remote.refused(REGISTRY_FILE, format!("its registry.yaml is invalid: {e}")))
}

/// Index files of the origin's namespaces whose hash changed, with the
/// archives their new lines need. Files are written without a flush each
/// (a sync of thousands of archives would otherwise wait for thousands of
/// fsyncs) and made durable in two barriers: every archive before any
/// index file that names it, every index file before the origin's snapshot.
fn mirror_namespaces(
    registry: &LocalRegistry,
    remote: &Remote<'_>,
    origin: &Origin,
    snapshot: &Snapshot,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    // Path, new content, sha256 of the content it replaces.
    let mut changed: Vec<(&str, Vec<u8>, Option<String>)> = Vec::new();
    // Hashed copies missing beside an index file already up to date (a
    // mirror synced by an older oent).
    let mut copies: Vec<(&str, &str, Vec<u8>)> = Vec::new();
    let mut lines: Vec<IndexEntry> = Vec::new();
    for namespace in &origin.namespaces {
        let prefix = format!("index/{namespace}/");
        for (path, sha256) in snapshot
            .files
            .iter()
            .filter(|(p, _)| p.starts_with(&prefix))
        {
            let local = std::fs::read(registry.root.join(path)).ok();
            let local_sha = local.as_deref().map(sha256_hex);
            if local_sha.as_ref() == Some(sha256) {
                let copy = registry.root.join(snapshot::hashed_path(path, sha256));
                if snapshot.consistent && !copy.is_file() {
                    copies.push((path, sha256, local.unwrap_or_default()));
                }
                continue;
            }
            let bytes = remote.require(&snapshot.read_path(path), MAX_INDEX_BYTES)?;
            snapshot
                .check_file(path, &bytes)
                .map_err(remote.snapshot_error(path))?;
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| remote.refused(path, "the index file is not UTF-8"))?;
            let parsed = index::parse(Path::new(&remote.url(path)), text)?;
            for line in &parsed {
                check_line(remote, path, line, namespace, &origin.name)?;
            }
            lines.extend(parsed);
            changed.push((path, bytes, local_sha));
        }
    }
    if changed.is_empty() && copies.is_empty() {
        return Ok(());
    }
    fetch_archives(registry, remote, &lines, report)?;
    barrier(&registry.root)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SyncError::Io { path, source }
    };
    let root = &registry.root;
    for (path, bytes, _) in &changed {
        write(&root.join(path), bytes, Durability::Later)?;
        if snapshot.consistent {
            let sha256 = &snapshot.files[*path];
            snapshot::store_hashed(root, path, sha256, bytes).map_err(io(&root.join(path)))?;
        }
    }
    for (path, sha256, bytes) in &copies {
        snapshot::store_hashed(root, path, sha256, bytes).map_err(io(&root.join(path)))?;
    }
    barrier(root)?;
    // The copies the previous mirrored snapshot named retire now.
    let now = SystemTime::now();
    for (path, _, previous) in &changed {
        let current = snapshot.files.get(*path).map(String::as_str);
        snapshot::retire_hashed(root, path, previous.as_deref(), current, now)
            .map_err(io(&root.join(snapshot::BY_HASH_DIR).join(path)))?;
    }
    report.index_files += changed.len();
    Ok(())
}

/// Makes every write so far durable: one `syncfs` of the registry's file
/// system instead of an fsync per file.
fn barrier(root: &Path) -> Result<(), SyncError> {
    crate::fsutil::sync_file_system(root).map_err(|source| SyncError::Io {
        path: root.to_path_buf(),
        source,
    })
}

/// A line may only describe a module of the namespace its file is for,
/// published by the origin, with an archive under that namespace.
fn check_line(
    remote: &Remote<'_>,
    path: &str,
    line: &IndexEntry,
    namespace: &str,
    origin: &str,
) -> Result<(), SyncError> {
    if index::index_path(line.name.as_str()) != path || line.name.namespace() != namespace {
        return Err(remote.refused(
            path,
            format!(
                "it lists `{}`, a module outside namespace `{namespace}`",
                line.name
            ),
        ));
    }
    if line.origin != origin {
        return Err(remote.refused(
            path,
            format!(
                "{} {} claims origin `{}`, but namespace `{namespace}` is published by `{origin}`",
                line.name, line.version, line.origin
            ),
        ));
    }
    // The checks every reader makes (plain relative path, sha256, size),
    // then this namespace's own archive directory.
    crate::registry::checks::check_line(line, remote.base)
        .map_err(|e| remote.refused(path, e.to_string()))?;
    let archive_prefix = format!("archives/{namespace}/");
    if !line.archive.starts_with(&archive_prefix) || !line.archive.ends_with(".tar.gz") {
        return Err(remote.refused(
            path,
            format!(
                "{} {}: archive path `{}` is not under {archive_prefix}",
                line.name, line.version, line.archive
            ),
        ));
    }
    Ok(())
}

/// Downloads the archives this forge lacks, [`SYNC_JOBS`] in flight over
/// the one client, each hashed as its bytes arrive into a temporary file
/// beside its place. Only once every one has the size and sha256 of its
/// line are they renamed into place: a refused peer leaves nothing, and
/// after a failure no new download starts.
fn fetch_archives(
    registry: &LocalRegistry,
    remote: &Remote<'_>,
    lines: &[IndexEntry],
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let missing: Vec<&IndexEntry> = lines
        .iter()
        .filter(|l| {
            let path = registry.root.join(&l.archive);
            !std::fs::metadata(&path).is_ok_and(|m| m.len() == l.size)
        })
        .collect();
    let slots: Vec<OnceLock<Result<TempPath, SyncError>>> =
        missing.iter().map(|_| OnceLock::new()).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..SYNC_JOBS.min(missing.len()) {
            scope.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(line) = missing.get(i) else { return };
                    let result = download(registry, remote, line);
                    failed.fetch_or(result.is_err(), Ordering::Relaxed);
                    let _ = slots[i].set(result);
                }
            });
        }
    });
    // Lines are taken in order and every one taken completes, so the
    // first error in line order is the one reported; the temporary files
    // of the others are removed as they drop.
    let downloaded = slots
        .into_iter()
        .filter_map(OnceLock::into_inner)
        .collect::<Result<Vec<TempPath>, SyncError>>()?;
    for (temp, line) in downloaded.into_iter().zip(&missing) {
        let path = registry.root.join(&line.archive);
        temp.persist(&path).map_err(|e| SyncError::Io {
            path,
            source: e.error,
        })?;
        report.bytes += line.size;
    }
    report.archives += missing.len();
    Ok(())
}

/// One archive streamed into a temporary file in its directory, refused
/// as soon as it grows past its line's size, and unless it ends with
/// that size and sha256.
fn download(
    registry: &LocalRegistry,
    remote: &Remote<'_>,
    line: &IndexEntry,
) -> Result<TempPath, SyncError> {
    let path = registry.root.join(&line.archive);
    let io = |source| SyncError::Io {
        path: path.clone(),
        source,
    };
    let dir = path.parent().unwrap_or(&registry.root);
    let temp = crate::fsutil::temp_in(dir).map_err(io)?;
    let mut response = remote.open(&line.archive)?.take(line.size + 1);
    let mut out = HashingWriter::new(std::io::BufWriter::with_capacity(64 * 1024, temp));
    // A read error is the peer's; a write error is this forge's disk.
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let n = response
            .read(&mut buffer)
            .map_err(|e| remote.fetch_error(&line.archive, e.to_string()))?;
        if n == 0 {
            break;
        }
        std::io::Write::write_all(&mut out, &buffer[..n]).map_err(io)?;
    }
    let (writer, sha256, size) = out.finish();
    if size != line.size || sha256 != line.sha256 {
        return Err(remote.refused(
            &line.archive,
            format!(
                "the archive of {} {} does not have the size and sha256 of its index line (tampered or corrupt)",
                line.name, line.version
            ),
        ));
    }
    let temp = writer.into_inner().map_err(|e| io(e.into_error()))?;
    Ok(temp.into_temp_path())
}

/// Whether a write is flushed at once or by the next [`barrier`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Durability {
    Now,
    Later,
}

fn write(path: &Path, bytes: &[u8], durability: Durability) -> Result<(), SyncError> {
    let io = |source| SyncError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    match durability {
        Durability::Now => crate::fsutil::write_atomic(path, bytes),
        Durability::Later => crate::fsutil::write_atomic_unflushed(path, bytes),
    }
    .map_err(io)
}

/// Lists `mirrors` in the registry's registry.yaml (replacing entries of
/// the same names), so that clients find the origins' keys.
pub fn record_mirrors(
    registry: &mut LocalRegistry,
    mirrors: Vec<Mirror>,
) -> Result<bool, SyncError> {
    let mut config = registry.config.clone();
    for mirror in mirrors {
        match config.mirrors.iter_mut().find(|m| m.name == mirror.name) {
            Some(existing) => *existing = mirror,
            None => config.mirrors.push(mirror),
        }
    }
    config.mirrors.sort_by(|a, b| a.name.cmp(&b.name));
    if config == registry.config {
        return Ok(false);
    }
    let path = registry.root.join(REGISTRY_FILE);
    write(&path, config.to_yaml().as_bytes(), Durability::Now)?;
    registry.config = config;
    Ok(true)
}

/// Syncs every peer in turn (a failing peer does not stop the others) and
/// lists their origins in registry.yaml: one batch of the registry's
/// [`Publisher`], signed once after if anything changed. The outcome holds
/// each peer's, in the order of `peers`; `progress` counts the peers done.
pub fn sync_all(
    publisher: &Publisher,
    peers: &[Peer],
    progress: &dyn crate::registry::fetch::Progress,
) -> Change<Vec<Result<SyncReport, SyncError>>> {
    let http = client();
    progress.start(peers.len() as u64);
    let Ok(change) = publisher.batch(|publisher| {
        let root = &publisher.registry().root;
        let kept = SyncState::load(root);
        let mut state = SyncState::default();
        let now = SystemTime::now();
        let mut changed = false;
        let mut outcomes = Vec::with_capacity(peers.len());
        for peer in peers {
            // Opened again for each peer: the one before may have listed
            // new mirrors in registry.yaml.
            let outcome = LocalRegistry::open(root)
                .map_err(SyncError::from)
                .and_then(|mut registry| {
                    let etag = kept.etag_for(peer, now);
                    let synced = sync_peer(&registry, peer, &http, etag)?;
                    let recorded = record_mirrors(&mut registry, synced.mirrors)?;
                    changed |= recorded || synced.report.index_files > 0;
                    // Kept only once all the peer vouches for is mirrored;
                    // a 304 keeps the one that was sent.
                    let validator = if synced.report.not_modified {
                        kept.peers.get(&peer.name).cloned()
                    } else {
                        synced.validator
                    };
                    if let Some(validator) = validator {
                        state.peers.insert(peer.name.clone(), validator);
                    }
                    Ok(synced.report)
                });
            match &outcome {
                Ok(report) if report.not_modified => {
                    tracing::debug!(peer = peer.name, "peer unchanged (304)")
                }
                Ok(report) => tracing::info!(
                    peer = peer.name,
                    index_files = report.index_files,
                    archives = report.archives,
                    bytes = report.bytes,
                    snapshots = ?report.snapshots,
                    "peer synced"
                ),
                Err(e) => {
                    tracing::warn!(peer = peer.name, reason = %e, "peer refused: nothing from it was taken")
                }
            }
            outcomes.push(outcome);
            progress.advance(1);
        }
        // A peers' list edited meanwhile drops the entries of peers gone.
        if state != kept
            && let Err(e) = state.save(root)
        {
            tracing::warn!(path = %SyncState::path(root).display(), reason = %e, "could not keep the peers' ETags: the next round fetches them in full");
        }
        Ok::<_, std::convert::Infallible>((outcomes, changed))
    });
    progress.finish();
    change
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// A peer on loopback that answers each GET with the status line
    /// `statuses` gives for its path (`200 OK` with a body and an ETag),
    /// whatever `If-None-Match` says: a server that is not a registry.
    fn peer(statuses: &'static [(&'static str, &'static str)]) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
                // The headers, up to the blank line.
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap() <= 2 {
                        break;
                    }
                }
                let status = statuses
                    .iter()
                    .find(|(p, _)| path == format!("/{p}"))
                    .map_or("404 Not Found", |(_, s)| s);
                let body = if status.starts_with("200") {
                    "hello"
                } else {
                    ""
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nETag: \"v1\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        base
    }

    #[test]
    fn a_peer_answers_200_or_the_sync_fails_saying_what_it_answered() {
        let base = peer(&[
            ("ok", "200 OK"),
            ("broken", "500 Internal Server Error"),
            ("same", "304 Not Modified"),
        ]);
        let http = client();
        let remote = Remote {
            peer: "assoc",
            base: &base,
            http: &http,
        };
        assert_eq!(remote.require("ok", 5).unwrap(), b"hello");
        let message = |e: SyncError| e.to_string().replace(&base, "[PEER]");
        assert_eq!(
            message(remote.require("ok", 4).unwrap_err()),
            "peer `assoc`: cannot fetch [PEER]/ok: larger than 4 bytes"
        );
        assert_eq!(
            message(remote.require("missing", 5).unwrap_err()),
            "peer `assoc`: cannot fetch [PEER]/missing: not found (404)"
        );
        assert_eq!(
            message(remote.require("broken", 5).unwrap_err()),
            "peer `assoc`: cannot fetch [PEER]/broken: the server answered 500 Internal Server Error"
        );
        // A 304 is an answer only to a conditional GET.
        assert!(
            remote
                .require_changed("same", 5, Some("\"v1\""))
                .unwrap()
                .is_none()
        );
        assert_eq!(
            message(remote.require_changed("same", 5, None).unwrap_err()),
            "peer `assoc`: cannot fetch [PEER]/same: the server answered 304 Not Modified"
        );
        assert_eq!(
            remote.require_changed("ok", 5, Some("\"v0\"")).unwrap(),
            Some((b"hello".to_vec(), Some("\"v1\"".to_owned())))
        );
        assert_eq!(
            message(
                remote
                    .require_changed("missing", 5, Some("\"v0\""))
                    .unwrap_err()
            ),
            "peer `assoc`: cannot fetch [PEER]/missing: not found (404)"
        );
    }
}

//! `snapshot.json`: the signed list of a registry's metadata files, after
//! TUF's snapshot role. One file at the registry root, so that a publisher
//! replaces it in one rename:
//!
//! ```json
//! {"signed":{"schema":"oent/snapshot/v1","registry":"openent","version":7,"expires":"2026-12-26T10:00:00Z","files":{"index/openent/portail.jsonl":"9f2c…","registry.yaml":"41ab…"}},
//!  "signatures":[{"key":"SHA256:…","sig":"-----BEGIN SSH SIGNATURE-----\n…"}]}
//! ```
//!
//! Each signature is an SSHSIG (namespace [`SNAPSHOT_NAMESPACE`]) of the
//! exact bytes of the `signed` object as they stand in the file: the reader
//! takes them with [`RawValue`] and never re-serialises, so no two JSON
//! writers have to agree on a canonical form. `files` maps every covered
//! path to its sha256; archives are covered through the sha256 of their
//! index line. Against TUF's attacks, a client refuses:
//!
//! - a snapshot no pinned key signed (arbitrary metadata);
//! - a `version` lower than the highest it has accepted (rollback);
//! - a snapshot past `expires` (freeze: an old, validly signed view kept
//!   from its updates);
//! - a covered file whose sha256 differs, or a file the snapshot does not
//!   list (mix-and-match).
//!
//! Consistent snapshots (`oent/snapshot/v2`, after TUF's): the registry
//! also keeps each listed file's content at [`hashed_path`]
//! (`by-hash/<path>/<sha256>`), written before the snapshot that names it
//! and kept for [`BY_HASH_GRACE`] after a newer snapshot stops naming it.
//! A client reads the snapshot, then those copies: a publish in between
//! changes the plain files, never the copies, so what it reads is one view.
//! `oent/snapshot/v1` (older oent) has no copies: the plain paths are read.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::config::RegistryConfig;
use super::signing::{PublicKey, SNAPSHOT_NAMESPACE, SecretKey, SigningError, signer_of};
use super::{REGISTRY_FILE, RegistryError, time};
use crate::package::checksum::{is_sha256_hex, sha256_hex};

pub use super::SNAPSHOT_FILE;
/// The schema oent writes: a consistent snapshot, whose files all have
/// copies addressed by their hash.
pub const SNAPSHOT_SCHEMA: &str = "oent/snapshot/v2";
/// Written by older oent: no hashed copies; still read.
pub const SNAPSHOT_SCHEMA_V1: &str = "oent/snapshot/v1";
/// Where a registry keeps the copies of its files addressed by their hash.
pub const BY_HASH_DIR: &str = "by-hash";
/// How long a hashed copy stays after a newer snapshot stopped naming it: a
/// client that read the older snapshot (or a cache or CDN serving it a
/// while longer) still finds the files it names.
pub const BY_HASH_GRACE: Duration = Duration::from_secs(86_400);
/// How long `oent registry build --sign` makes a snapshot valid by default:
/// a month, so that a forgotten re-signing is noticed before it bites, and
/// a frozen view cannot be served for longer than that.
pub const DEFAULT_VALIDITY: Duration = Duration::from_secs(30 * 86_400);
/// Snapshots larger than this are refused before they are parsed.
pub const MAX_SNAPSHOT_BYTES: u64 = 16 << 20;

/// A verified (or just written) snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The registry's name, as in its `registry.yaml`.
    pub registry: String,
    /// Grows by one at each signing; clients refuse to go back.
    pub version: u64,
    /// After this instant clients refuse the snapshot.
    pub expires: SystemTime,
    /// Path relative to the registry root → lowercase hex sha256.
    pub files: BTreeMap<String, String>,
    /// Whether each listed file also has a copy at [`hashed_path`]
    /// (`oent/snapshot/v2`); `false` for snapshots of older oent.
    pub consistent: bool,
    /// Fingerprints of the pinned keys whose signatures were verified
    /// (for [`write_signed`]: the signing key).
    pub signed_by: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("it is not a valid snapshot: {reason}")]
    Malformed { reason: String },
    #[error(
        "its schema `{found}` is not supported (this oent reads `{SNAPSHOT_SCHEMA_V1}` and `{SNAPSHOT_SCHEMA}`); update oent"
    )]
    UnsupportedSchema { found: String },
    #[error(
        "it carries no signature, but the registry's key {pinned} is pinned: refusing unsigned metadata"
    )]
    Unsigned { pinned: String },
    #[error(
        "it is signed by {signers}, not by the pinned key {pinned}; if the registry really changed its key, check the new one with its maintainers and update `key:` in distribution.yaml"
    )]
    UntrustedSigner { signers: String, pinned: String },
    #[error("{error}; refusing it: someone altered or forged it, tell the registry's maintainers")]
    BadSignature { error: SigningError },
    #[error(
        "its version {version} is older than version {seen}, already accepted from this registry: an old snapshot is being served again (rollback attack or stale mirror); refusing it"
    )]
    Rollback { version: u64, seen: u64 },
    #[error(
        "it expired at {expires} (it is now {now}): the registry is frozen on old metadata (freeze attack) or was not re-signed in time; ask its maintainers to run `oent registry build --sign`"
    )]
    Expired { expires: String, now: String },
    #[error(
        "`{path}` is not listed in the signed snapshot (version {version}): refusing a file the registry did not sign (mix-and-match)"
    )]
    NotListed { path: String, version: u64 },
    #[error(
        "`{path}` has sha256 {got} but the signed snapshot (version {version}) says {expected}: the file was altered or mixed from another snapshot (mix-and-match); refusing it"
    )]
    FileMismatch {
        path: String,
        version: u64,
        expected: String,
        got: String,
    },
    #[error(
        "`{path}` is listed in the signed snapshot (version {version}) but the registry does not serve it: a published file is being withheld; refusing the registry's answer"
    )]
    Withheld { path: String, version: u64 },
    #[error(
        "`{}` cannot be read to number the next snapshot ({reason}); restore it, or move it away to start again at version 1 (clients that saw a higher version will refuse the new one)",
        .path.display()
    )]
    PreviousUnreadable { path: PathBuf, reason: String },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// The raw file: `signed` kept as the exact bytes that were signed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile<'a> {
    #[serde(borrow)]
    signed: &'a RawValue,
    signatures: Vec<RawSignature>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignature {
    /// Fingerprint of the signing key: a hint for people and tools; the
    /// key that counts is the one inside the SSH signature.
    key: String,
    sig: String,
}

/// The signed object; fields in the order they are written.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Signed {
    schema: String,
    registry: String,
    version: u64,
    expires: String,
    files: BTreeMap<String, String>,
}

/// Parses `bytes` and checks it: signed by at least one of `keys`, a
/// version not below `min_version` (rollback), not expired at `now`
/// (freeze). Errors say which check failed and what to do; the caller
/// names the file or URL.
pub fn verify(
    bytes: &[u8],
    keys: &[PublicKey],
    now: SystemTime,
    min_version: Option<u64>,
) -> Result<Snapshot, SnapshotError> {
    let raw = parse_raw(bytes)?;
    let signed_bytes = raw.signed.get().as_bytes();
    let signed_by = check_signatures(signed_bytes, &raw.signatures, keys)?;
    let mut snapshot = parse_signed(raw.signed)?;
    snapshot.signed_by = signed_by;
    if let Some(seen) = min_version
        && snapshot.version < seen
    {
        return Err(SnapshotError::Rollback {
            version: snapshot.version,
            seen,
        });
    }
    if snapshot.expires <= now {
        return Err(SnapshotError::Expired {
            expires: time::rfc3339(time::unix_seconds(snapshot.expires)),
            now: time::rfc3339(time::unix_seconds(now)),
        });
    }
    Ok(snapshot)
}

impl Snapshot {
    /// Refuses `bytes` as the content of `path` unless the snapshot lists
    /// `path` with their sha256 (mix-and-match).
    pub fn check_file(&self, path: &str, bytes: &[u8]) -> Result<(), SnapshotError> {
        let Some(expected) = self.files.get(path) else {
            return Err(SnapshotError::NotListed {
                path: path.to_owned(),
                version: self.version,
            });
        };
        let got = sha256_hex(bytes);
        if &got != expected {
            return Err(SnapshotError::FileMismatch {
                path: path.to_owned(),
                version: self.version,
                expected: expected.clone(),
                got,
            });
        }
        Ok(())
    }

    /// Whether the snapshot lists `path` (a listed file the server does not
    /// have is being hidden).
    pub fn lists(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// Where to read `path` as this snapshot saw it: its hashed copy when
    /// the snapshot is consistent and lists it, else the plain path.
    pub fn read_path(&self, path: &str) -> String {
        match self.files.get(path) {
            Some(sha256) if self.consistent => hashed_path(path, sha256),
            _ => path.to_owned(),
        }
    }
}

/// `by-hash/<path>/<sha256>`: the copy of `path` whose content has this
/// sha256. Grouped by path, so that the copies of one file are pruned
/// together; outside `index/`, so that nothing listing modules sees them.
pub fn hashed_path(path: &str, sha256: &str) -> String {
    format!("{BY_HASH_DIR}/{path}/{sha256}")
}

/// The plain path and sha256 of a [`hashed_path`], if `path` is one.
pub fn parse_hashed_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix(BY_HASH_DIR)?.strip_prefix('/')?;
    let (plain, sha256) = rest.rsplit_once('/')?;
    (!plain.is_empty() && is_sha256_hex(sha256)).then_some((plain, sha256))
}

/// Writes the copy of `relative` addressed by `sha256` (the sha256 of
/// `bytes`) under `root` unless it is there, unflushed: the caller flushes
/// before writing the snapshot that names it.
pub fn store_hashed(
    root: &Path,
    relative: &str,
    sha256: &str,
    bytes: &[u8],
) -> std::io::Result<()> {
    let path = root.join(hashed_path(relative, sha256));
    if path.is_file() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::fsutil::write_atomic_unflushed(&path, bytes)
}

/// After `relative` changed from `previous` to `current` (either `None`
/// when absent): the copy of `previous` retires now (its modification time,
/// the start of its grace period, is set to `now`), and copies retired more
/// than [`BY_HASH_GRACE`] ago are deleted. Only the copies of files that
/// change are looked at, so signing stays cheap however large the registry.
pub fn retire_hashed(
    root: &Path,
    relative: &str,
    previous: Option<&str>,
    current: Option<&str>,
    now: SystemTime,
) -> std::io::Result<()> {
    if previous == current {
        return Ok(());
    }
    let dir = root.join(BY_HASH_DIR).join(relative);
    if let Some(previous) = previous {
        match std::fs::File::options()
            .write(true)
            .open(dir.join(previous))
        {
            Ok(file) => file.set_modified(now)?,
            // Written by an older oent, or already pruned: nothing to keep.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let expired = now
        .checked_sub(BY_HASH_GRACE)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let keep = [previous, current]
            .into_iter()
            .flatten()
            .any(|sha| name.as_os_str() == sha);
        if keep || !entry.file_type()?.is_file() {
            continue;
        }
        if entry.metadata()?.modified()? < expired {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn parse_raw(bytes: &[u8]) -> Result<RawFile<'_>, SnapshotError> {
    if bytes.len() as u64 > MAX_SNAPSHOT_BYTES {
        return Err(SnapshotError::Malformed {
            reason: format!("it is larger than {MAX_SNAPSHOT_BYTES} bytes"),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| SnapshotError::Malformed {
        reason: "it is not UTF-8".into(),
    })?;
    serde_json::from_str(text).map_err(|e| SnapshotError::Malformed {
        reason: format!(
            "{e} (expected {{\"signed\": {{…}}, \"signatures\": [{{\"key\", \"sig\"}}]}})"
        ),
    })
}

/// The fingerprints of the pinned keys with a valid signature; an error
/// when there is none, saying why.
fn check_signatures(
    signed: &[u8],
    signatures: &[RawSignature],
    keys: &[PublicKey],
) -> Result<Vec<String>, SnapshotError> {
    let pinned = keys
        .iter()
        .map(PublicKey::fingerprint)
        .collect::<Vec<_>>()
        .join(" or ");
    if signatures.is_empty() {
        return Err(SnapshotError::Unsigned { pinned });
    }
    let mut valid = Vec::new();
    let mut failure = None;
    for signature in signatures {
        for key in keys {
            match key.verify(SNAPSHOT_NAMESPACE, signed, &signature.sig) {
                Ok(()) => {
                    if !valid.contains(&key.fingerprint()) {
                        valid.push(key.fingerprint());
                    }
                }
                // Another signer: it may be some other pinned key's.
                Err(SigningError::WrongKey { .. }) => {}
                Err(err) => {
                    failure.get_or_insert(err);
                }
            }
        }
    }
    if !valid.is_empty() {
        return Ok(valid);
    }
    if let Some(error) = failure {
        return Err(SnapshotError::BadSignature { error });
    }
    let signers = signatures
        .iter()
        .map(|s| signer_of(&s.sig).unwrap_or_else(|| format!("{} (claimed)", s.key)))
        .collect::<Vec<_>>()
        .join(", ");
    Err(SnapshotError::UntrustedSigner { signers, pinned })
}

fn parse_signed(signed: &RawValue) -> Result<Snapshot, SnapshotError> {
    let malformed = |reason: String| SnapshotError::Malformed { reason };
    // The schema first, so that a newer format gets its own message.
    let value: serde_json::Value =
        serde_json::from_str(signed.get()).map_err(|e| malformed(e.to_string()))?;
    let consistent = match value.get("schema").and_then(serde_json::Value::as_str) {
        Some(SNAPSHOT_SCHEMA) => true,
        Some(SNAPSHOT_SCHEMA_V1) => false,
        Some(found) => {
            return Err(SnapshotError::UnsupportedSchema {
                found: found.to_owned(),
            });
        }
        None => return Err(malformed("`signed` has no `schema`".into())),
    };
    let body: Signed =
        serde_json::from_value(value).map_err(|e| malformed(format!("`signed`: {e}")))?;
    let expires = time::parse_rfc3339(&body.expires).ok_or_else(|| {
        malformed(format!(
            "`expires` is `{}`, expected an RFC 3339 UTC time like `2026-12-26T10:00:00Z`",
            body.expires
        ))
    })?;
    for (path, sha256) in &body.files {
        if !plain_relative(path) {
            return Err(malformed(format!(
                "`files` lists `{path}`, which is not a plain relative path"
            )));
        }
        if !is_sha256_hex(sha256) {
            return Err(malformed(format!(
                "the sha256 of `{path}` is not 64 lowercase hexadecimal digits"
            )));
        }
    }
    Ok(Snapshot {
        registry: body.registry,
        version: body.version,
        expires: time::system_time(expires),
        files: body.files,
        consistent,
        signed_by: Vec::new(),
    })
}

fn plain_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// Signs the registry at `dir`: hashes `registry.yaml` and every index file
/// (except those of namespaces it mirrors, which the peer's own snapshot
/// covers), numbers the snapshot one above the previous one (1 if none),
/// makes it expire `validity` from now, and replaces `snapshot.json`
/// atomically (temporary file, fsync, rename, fsync of the directory).
pub fn write_signed(
    dir: &Path,
    key: &SecretKey,
    validity: Duration,
) -> Result<Snapshot, SnapshotError> {
    write_signed_cached(dir, key, validity, &mut FileHashes::default())
}

/// The one signing entry after a change: `oent registry add|build`, the
/// forge's publish and yank, `oent forge sync` and the periodic sync all sign
/// through it. One signing at a time (each covers every index file as it
/// then is), with the hashes of unchanged files kept between signings.
pub struct Signer {
    key: SecretKey,
    validity: Duration,
    hashes: std::sync::Mutex<FileHashes>,
}

impl Signer {
    pub fn new(key: SecretKey, validity: Duration) -> Signer {
        Signer {
            key,
            validity,
            hashes: std::sync::Mutex::new(FileHashes::default()),
        }
    }

    pub fn key(&self) -> &SecretKey {
        &self.key
    }

    /// Signs the snapshot of the registry at `dir` again.
    pub fn sign(&self, dir: &Path) -> Result<Snapshot, SnapshotError> {
        let mut hashes = self.hashes.lock().expect("snapshot hashes");
        write_signed_cached(dir, &self.key, self.validity, &mut hashes)
    }
}

/// The sha256 of files already hashed, kept while their inode, size and
/// modification time stay the same (every rewrite of an index file is a
/// rename, so a new inode). A forge signs after every publish: without it,
/// each signing would read every index file again, and 1,000 publishes
/// would read half a million files.
#[derive(Debug, Default)]
pub struct FileHashes {
    known: std::collections::HashMap<PathBuf, (u64, u64, Option<SystemTime>, String)>,
}

impl FileHashes {
    fn hash(&mut self, path: &Path) -> Result<String, SnapshotError> {
        use std::os::unix::fs::MetadataExt;
        let io = |source| SnapshotError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        let stamp = (meta.ino(), meta.len(), meta.modified().ok());
        if let Some((ino, len, modified, sha)) = self.known.get(path)
            && (*ino, *len, *modified) == stamp
        {
            return Ok(sha.clone());
        }
        let sha = sha256_hex(&std::fs::read(path).map_err(io)?);
        self.known
            .insert(path.to_path_buf(), (stamp.0, stamp.1, stamp.2, sha.clone()));
        Ok(sha)
    }
}

/// [`write_signed`], reusing the hashes of index files that did not change.
pub fn write_signed_cached(
    dir: &Path,
    key: &SecretKey,
    validity: Duration,
    hashes: &mut FileHashes,
) -> Result<Snapshot, SnapshotError> {
    let config_path = dir.join(REGISTRY_FILE);
    if !config_path.is_file() {
        return Err(RegistryError::NotARegistry(dir.to_path_buf()).into());
    }
    let config = RegistryConfig::load(&config_path)?;
    let path = dir.join(SNAPSHOT_FILE);
    let previous = previous_snapshot(&path)?;
    let (files, copied) = hash_files(dir, &config, hashes)?;
    flush(dir, &copied)?;
    let version = previous.as_ref().map_or(1, |p| p.version + 1);
    let now = SystemTime::now();
    let expires_at = time::unix_seconds(now) + validity.as_secs() as i64;
    let body = Signed {
        schema: SNAPSHOT_SCHEMA.to_owned(),
        registry: config.name.clone(),
        version,
        expires: time::rfc3339(expires_at),
        files,
    };
    let signed = serde_json::to_string(&body).expect("a snapshot always serialises");
    let signature = RawSignature {
        key: key.public().fingerprint(),
        sig: key.sign(SNAPSHOT_NAMESPACE, signed.as_bytes()),
    };
    let text = format!(
        "{{\"signed\":{signed},\n\"signatures\":[{}]}}\n",
        serde_json::to_string(&signature).expect("a signature always serialises")
    );
    // What is written must be what clients accept.
    let snapshot = verify(text.as_bytes(), &[key.public()], now, Some(version))
        .expect("a snapshot just signed verifies");
    let io = |source| SnapshotError::Io {
        path: path.clone(),
        source,
    };
    crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(io)?;
    let before = previous.map(|p| p.files).unwrap_or_default();
    for relative in before.keys().chain(snapshot.files.keys()) {
        let (old, new) = (before.get(relative), snapshot.files.get(relative));
        retire_hashed(
            dir,
            relative,
            old.map(String::as_str),
            new.map(String::as_str),
            now,
        )
        .map_err(|source| SnapshotError::Io {
            path: dir.join(BY_HASH_DIR).join(relative),
            source,
        })?;
    }
    Ok(snapshot)
}

/// Makes the hashed copies just written durable before the snapshot that
/// names them: after a publish, one or two files, each flushed with its
/// directories; after the first signing of a large registry, one `syncfs`
/// rather than thousands of fsyncs.
fn flush(dir: &Path, copies: &[PathBuf]) -> Result<(), SnapshotError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SnapshotError::Io { path, source }
    };
    if copies.len() > 16 {
        return crate::fsutil::sync_file_system(dir).map_err(io(dir));
    }
    for copy in copies {
        std::fs::File::open(copy)
            .and_then(|f| f.sync_all())
            .map_err(io(copy))?;
        // Each directory up to the registry's: any may have just been made.
        for parent in copy.ancestors().skip(1).take_while(|p| *p != dir) {
            crate::fsutil::sync_dir(parent).map_err(io(parent))?;
        }
    }
    Ok(())
}

/// The snapshot already at `path`, unverified: only its number and its
/// files (whose hashed copies retire) are used; `None` when there is none.
fn previous_snapshot(path: &Path) -> Result<Option<Signed>, SnapshotError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SnapshotError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let unreadable = |reason: String| SnapshotError::PreviousUnreadable {
        path: path.to_path_buf(),
        reason,
    };
    let raw = parse_raw(&bytes).map_err(|e| unreadable(e.to_string()))?;
    let signed: Signed =
        serde_json::from_str(raw.signed.get()).map_err(|e| unreadable(e.to_string()))?;
    Ok(Some(signed))
}

/// `registry.yaml` and the index files the registry itself vouches for,
/// by relative path, each with its hashed copy ([`store_hashed`]); and
/// the copies that had to be written (unflushed).
fn hash_files(
    dir: &Path,
    config: &RegistryConfig,
    hashes: &mut FileHashes,
) -> Result<(BTreeMap<String, String>, Vec<PathBuf>), SnapshotError> {
    let mut files = BTreeMap::new();
    let mut copied = Vec::new();
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SnapshotError::Io { path, source }
    };
    // The copy is written from the bytes it is named after: a file
    // replaced meanwhile gets the hash of what was copied.
    let mut add = |relative: String, path: &Path, sha256: String| {
        let hashed = dir.join(hashed_path(&relative, &sha256));
        let sha256 = match hashed.is_file() {
            true => sha256,
            false => {
                let bytes = std::fs::read(path).map_err(io(path))?;
                let sha256 = sha256_hex(&bytes);
                store_hashed(dir, &relative, &sha256, &bytes).map_err(io(&hashed))?;
                copied.push(dir.join(hashed_path(&relative, &sha256)));
                sha256
            }
        };
        files.insert(relative, sha256);
        Ok::<(), SnapshotError>(())
    };
    let config_path = dir.join(REGISTRY_FILE);
    let config_sha = sha256_hex(&std::fs::read(&config_path).map_err(io(&config_path))?);
    add(REGISTRY_FILE.to_owned(), &config_path, config_sha)?;
    let index = dir.join("index");
    let mut stack = vec![index.clone()];
    while let Some(current) = stack.pop() {
        let entries = match std::fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && current == index => break,
            Err(source) => {
                return Err(SnapshotError::Io {
                    path: current,
                    source,
                });
            }
        };
        for entry in entries {
            let entry = entry.map_err(|source| SnapshotError::Io {
                path: current.clone(),
                source,
            })?;
            let path = entry.path();
            let Ok(relative) = path.strip_prefix(dir) else {
                continue;
            };
            let Some(relative) = relative.to_str().map(str::to_owned) else {
                continue;
            };
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            } else if relative.ends_with(".jsonl") {
                let namespace = relative.split('/').nth(1).unwrap_or_default();
                if config.mirror_of(namespace).is_none() {
                    let sha256 = hashes.hash(&path)?;
                    add(relative, &path, sha256)?;
                }
            }
        }
    }
    Ok((files, copied))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn registry(dir: &Path) {
        std::fs::create_dir_all(dir.join("index/t")).unwrap();
        std::fs::write(
            dir.join(REGISTRY_FILE),
            "schema: oent/registry/v1\nname: t\nnamespaces: [t]\n",
        )
        .unwrap();
        std::fs::write(dir.join("index/t/x.jsonl"), "{\"v\":1}\n").unwrap();
        std::fs::write(dir.join("index/t/.oent-tmp.jsonl"), "half").unwrap();
    }

    fn signed(dir: &Path, key: &SecretKey) -> Vec<u8> {
        write_signed(dir, key, DAY).unwrap();
        std::fs::read(dir.join(SNAPSHOT_FILE)).unwrap()
    }

    #[test]
    fn one_signer_sees_an_index_file_rewritten_between_two_signings() {
        let dir = tempfile::tempdir().unwrap();
        registry(dir.path());
        let signer = Signer::new(SecretKey::generate("t"), DAY);
        signer.sign(dir.path()).unwrap();
        let index = dir.path().join("index/t/x.jsonl");
        crate::fsutil::write_atomic(&index, b"{\"v\":1}\n{\"v\":1}\n").unwrap();
        let second = signer.sign(dir.path()).unwrap();
        assert_eq!(second.version, 2);
        assert_eq!(
            second.files["index/t/x.jsonl"],
            sha256_hex(&std::fs::read(&index).unwrap())
        );
        let bytes = std::fs::read(dir.path().join(SNAPSHOT_FILE)).unwrap();
        verify(&bytes, &[signer.key().public()], SystemTime::now(), Some(2)).unwrap();
    }

    #[test]
    fn writes_verifies_and_counts_up() {
        let dir = tempfile::tempdir().unwrap();
        registry(dir.path());
        let key = SecretKey::generate("t");
        let first = write_signed(dir.path(), &key, DAY).unwrap();
        assert_eq!(first.version, 1);
        assert_eq!(first.registry, "t");
        assert_eq!(
            first.files.keys().collect::<Vec<_>>(),
            ["index/t/x.jsonl", "registry.yaml"]
        );
        let second = write_signed(dir.path(), &key, DAY).unwrap();
        assert_eq!(second.version, 2);
        let bytes = std::fs::read(dir.path().join(SNAPSHOT_FILE)).unwrap();
        let now = SystemTime::now();
        let read = verify(&bytes, &[key.public()], now, Some(2)).unwrap();
        assert_eq!(read, second);
        assert_eq!(read.signed_by, [key.public().fingerprint()]);
        read.check_file("index/t/x.jsonl", b"{\"v\":1}\n").unwrap();
        let expires = time::unix_seconds(read.expires) - time::unix_seconds(now);
        assert!((86_399..=86_401).contains(&expires), "{expires}");
    }

    #[test]
    fn a_wrong_or_missing_signature_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        registry(dir.path());
        let key = SecretKey::generate("t");
        let bytes = signed(dir.path(), &key);
        let now = SystemTime::now();

        let other = SecretKey::generate("other").public();
        let err = verify(&bytes, std::slice::from_ref(&other), now, None).unwrap_err();
        assert!(
            matches!(err, SnapshotError::UntrustedSigner { .. }),
            "{err}"
        );
        let text = err.to_string();
        assert!(text.contains(&key.public().fingerprint()), "{text}");
        assert!(text.contains(&other.fingerprint()), "{text}");
        // One of several pinned keys is enough (key rotation).
        verify(&bytes, &[other, key.public()], now, None).unwrap();

        let text = String::from_utf8(bytes.clone()).unwrap();
        let unsigned = format!(
            "{}\"signatures\":[]}}",
            text.split("\"signatures\"").next().unwrap()
        );
        let err = verify(unsigned.as_bytes(), &[key.public()], now, None).unwrap_err();
        assert!(matches!(err, SnapshotError::Unsigned { .. }), "{err}");
    }

    #[test]
    fn the_exact_signed_bytes_count_not_their_meaning() {
        let dir = tempfile::tempdir().unwrap();
        registry(dir.path());
        let key = SecretKey::generate("t");
        let text = String::from_utf8(signed(dir.path(), &key)).unwrap();
        let now = SystemTime::now();
        // Same JSON value, other bytes: a re-serialising verifier would accept it.
        let spaced = text.replacen("\"version\":1", "\"version\": 1", 1);
        assert_ne!(spaced, text);
        let err = verify(spaced.as_bytes(), &[key.public()], now, None).unwrap_err();
        assert!(matches!(err, SnapshotError::BadSignature { .. }), "{err}");
        assert!(err.to_string().contains("altered"), "{err}");
        // Whitespace outside `signed` is not signed and does not matter.
        let outside = text.replacen("{\"signed\":", "{ \"signed\" :", 1);
        verify(outside.as_bytes(), &[key.public()], now, None).unwrap();
        // A changed hash: refused.
        let sha = sha256_hex(b"{\"v\":1}\n");
        let tampered = text.replacen(&sha, &"0".repeat(64), 1);
        let err = verify(tampered.as_bytes(), &[key.public()], now, None).unwrap_err();
        assert!(matches!(err, SnapshotError::BadSignature { .. }), "{err}");
    }

    #[test]
    fn rollback_and_expiry_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        registry(dir.path());
        let key = SecretKey::generate("t");
        let bytes = signed(dir.path(), &key);
        let keys = [key.public()];
        let now = SystemTime::now();
        verify(&bytes, &keys, now, Some(1)).unwrap();
        let err = verify(&bytes, &keys, now, Some(2)).unwrap_err();
        assert!(
            matches!(
                err,
                SnapshotError::Rollback {
                    version: 1,
                    seen: 2
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("rollback"), "{err}");
        let err = verify(&bytes, &keys, now + 2 * DAY, None).unwrap_err();
        assert!(matches!(err, SnapshotError::Expired { .. }), "{err}");
        assert!(err.to_string().contains("freeze"), "{err}");
    }

    #[test]
    fn files_missing_or_different_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        registry(dir.path());
        let key = SecretKey::generate("t");
        let snapshot = verify(
            &signed(dir.path(), &key),
            &[key.public()],
            SystemTime::now(),
            None,
        )
        .unwrap();
        let err = snapshot.check_file("index/t/y.jsonl", b"").unwrap_err();
        assert!(matches!(err, SnapshotError::NotListed { .. }), "{err}");
        let err = snapshot
            .check_file("index/t/x.jsonl", b"{\"v\":2}\n")
            .unwrap_err();
        assert!(
            err.to_string().starts_with("`index/t/x.jsonl` has sha256 "),
            "{err}"
        );
        assert!(!snapshot.lists("index/t/.oent-tmp.jsonl"));
    }

    #[test]
    fn malformed_snapshots_say_what_is_wrong() {
        let key = SecretKey::generate("t");
        let keys = [key.public()];
        let now = SystemTime::now();
        let err = verify(b"{}", &keys, now, None).unwrap_err();
        assert!(err.to_string().contains("missing field `signed`"), "{err}");
        let sign = |signed: &str| {
            format!(
                "{{\"signed\":{signed},\"signatures\":[{{\"key\":\"k\",\"sig\":{}}}]}}",
                serde_json::to_string(&key.sign(SNAPSHOT_NAMESPACE, signed.as_bytes())).unwrap()
            )
        };
        let v3 = sign("{\"schema\":\"oent/snapshot/v3\"}");
        let err = verify(v3.as_bytes(), &keys, now, None).unwrap_err();
        assert!(
            matches!(err, SnapshotError::UnsupportedSchema { .. }),
            "{err}"
        );
        // A snapshot of older oent (no hashed copies) is still read.
        let v1 = sign(&format!(
            "{{\"schema\":\"{SNAPSHOT_SCHEMA_V1}\",\"registry\":\"t\",\"version\":1,\"expires\":\"2999-01-01T00:00:00Z\",\"files\":{{\"registry.yaml\":\"{}\"}}}}",
            "a".repeat(64)
        ));
        let old = verify(v1.as_bytes(), &keys, now, None).unwrap();
        assert!(!old.consistent);
        assert_eq!(old.read_path("registry.yaml"), "registry.yaml");
        let escape = sign(&format!(
            "{{\"schema\":\"{SNAPSHOT_SCHEMA}\",\"registry\":\"t\",\"version\":1,\"expires\":\"2999-01-01T00:00:00Z\",\"files\":{{\"../x\":\"{}\"}}}}",
            "a".repeat(64)
        ));
        let err = verify(escape.as_bytes(), &keys, now, None).unwrap_err();
        assert!(err.to_string().contains("`../x`"), "{err}");
        let dates = sign(&format!(
            "{{\"schema\":\"{SNAPSHOT_SCHEMA}\",\"registry\":\"t\",\"version\":1,\"expires\":\"tomorrow\",\"files\":{{}}}}"
        ));
        let err = verify(dates.as_bytes(), &keys, now, None).unwrap_err();
        assert!(err.to_string().contains("`expires` is `tomorrow`"), "{err}");
    }

    #[test]
    fn each_listed_file_has_a_copy_named_by_its_hash_until_the_grace_period_ends() {
        let dir = tempfile::tempdir().unwrap();
        registry(dir.path());
        let key = SecretKey::generate("t");
        let first = write_signed(dir.path(), &key, DAY).unwrap();
        assert!(first.consistent);
        for (path, sha) in &first.files {
            let copy = std::fs::read(dir.path().join(first.read_path(path))).unwrap();
            assert_eq!(
                copy,
                std::fs::read(dir.path().join(path)).unwrap(),
                "{path}"
            );
            assert_eq!(first.read_path(path), format!("by-hash/{path}/{sha}"));
        }
        let old_copy = dir.path().join(first.read_path("index/t/x.jsonl"));
        let copies = dir.path().join("by-hash/index/t/x.jsonl");
        let count = || std::fs::read_dir(&copies).unwrap().count();

        // A new version: the old copy stays (a client may have read
        // snapshot 1), retired now, whatever its age.
        let long_ago = SystemTime::now() - 10 * DAY;
        std::fs::File::options()
            .write(true)
            .open(&old_copy)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        std::fs::write(dir.path().join("index/t/x.jsonl"), "{\"v\":1}\n{\"v\":1}\n").unwrap();
        let second = write_signed(dir.path(), &key, DAY).unwrap();
        assert!(old_copy.is_file());
        assert_eq!(count(), 2);
        let retired = std::fs::metadata(&old_copy).unwrap().modified().unwrap();
        assert!(retired > long_ago + DAY, "retired now, not when written");

        // Its grace period over, the next change prunes it; the copies
        // of the current and the previous snapshot stay.
        std::fs::File::options()
            .write(true)
            .open(&old_copy)
            .unwrap()
            .set_modified(SystemTime::now() - BY_HASH_GRACE - DAY)
            .unwrap();
        std::fs::write(dir.path().join("index/t/x.jsonl"), "{\"v\":2}\n").unwrap();
        let third = write_signed(dir.path(), &key, DAY).unwrap();
        assert!(!old_copy.is_file());
        assert_eq!(count(), 2);
        for snapshot in [&second, &third] {
            assert!(
                dir.path()
                    .join(snapshot.read_path("index/t/x.jsonl"))
                    .is_file()
            );
        }
    }

    #[test]
    fn hashed_paths_round_trip_and_nothing_else_parses_as_one() {
        let sha = "ab".repeat(32);
        let path = hashed_path("index/t/x.jsonl", &sha);
        assert_eq!(
            parse_hashed_path(&path),
            Some(("index/t/x.jsonl", sha.as_str()))
        );
        for other in [
            "index/t/x.jsonl",
            "by-hash/x",
            "by-hash//abc",
            "by-hashes/a/b",
        ] {
            assert_eq!(parse_hashed_path(other), None, "{other}");
        }
    }

    #[test]
    fn a_damaged_previous_snapshot_stops_signing() {
        let dir = tempfile::tempdir().unwrap();
        registry(dir.path());
        std::fs::write(dir.path().join(SNAPSHOT_FILE), "{oops").unwrap();
        let err = write_signed(dir.path(), &SecretKey::generate("t"), DAY).unwrap_err();
        assert!(
            matches!(err, SnapshotError::PreviousUnreadable { .. }),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join(SNAPSHOT_FILE)).unwrap(),
            "{oops"
        );
    }
}

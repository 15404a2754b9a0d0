//! Reading a registry whose snapshot key the distribution pins: [`Trust`]
//! checks `snapshot.json` before anything else is believed, then every
//! file the source hands out against it.
//!
//! 1. `snapshot.json` must be signed by a pinned key, not older than the
//!    highest version this machine accepted from the registry (remembered
//!    in the cache, so a restart does not forget it), and not expired;
//! 2. `registry.yaml` must have the hash the snapshot lists, and name the
//!    registry the snapshot names;
//! 3. each mirrored peer's own `mirrors/<peer>/snapshot.json` must be
//!    signed by one of the peer's keys listed in that (signed)
//!    `registry.yaml`, with the same rollback and expiry checks;
//! 4. an index file must have the hash the snapshot of its namespace lists
//!    (the registry's own for its namespaces, the peer's for mirrored
//!    ones); a file the snapshot lists but the server lacks is being
//!    withheld; a namespace the registry neither owns nor mirrors is
//!    refused outright.
//!
//! Each file is read where the snapshot that covers it says
//! ([`Snapshot::read_path`]): from a consistent snapshot, the copy named
//! by its hash, so that a publish after the snapshot was read cannot mix
//! two views; from an older snapshot, the plain path.
//!
//! Archives need nothing more: their size and sha256 come from index lines
//! that were just verified.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::config::RegistryConfig;
use super::signing::PublicKey;
use super::snapshot::{self, SNAPSHOT_FILE, Snapshot, SnapshotError};
use super::source::{FetchError, io_error, not_served};
use super::{REGISTRY_FILE, RegistryError};
use crate::manifest::names::ModuleName;

/// Reads one file of the registry by relative path; `None`: the registry
/// has no such file.
pub type ReadFile<'a> = &'a dyn Fn(&str) -> Result<Option<Vec<u8>>, FetchError>;

/// The pinned keys of one registry and what was verified with them.
#[derive(Debug)]
pub struct Trust {
    /// The registry's URL or path, for messages.
    label: String,
    keys: Vec<PublicKey>,
    /// Where the highest accepted snapshot versions are remembered.
    state_dir: PathBuf,
    /// Verified once per process; a failure is not kept, so the next call
    /// tries again.
    verified: Mutex<Option<Arc<Verified>>>,
}

/// A registry's verified snapshot, configuration and mirrored peers' snapshots.
#[derive(Debug)]
pub struct Verified {
    pub snapshot: Snapshot,
    pub config: RegistryConfig,
    /// Peer name → its verified snapshot.
    pub peers: BTreeMap<String, Snapshot>,
}

impl Trust {
    /// `keys` must not be empty; `state_dir` is the registry's directory in
    /// the cache.
    pub fn new(label: &str, keys: Vec<PublicKey>, state_dir: PathBuf) -> Trust {
        assert!(!keys.is_empty(), "a Trust needs at least one key");
        Trust {
            label: label.trim_end_matches('/').to_owned(),
            keys,
            state_dir,
            verified: Mutex::new(None),
        }
    }

    fn url(&self, relative: &str) -> String {
        format!("{}/{relative}", self.label)
    }

    /// The verified view of the registry, checked on first use.
    pub fn verified(&self, read: ReadFile) -> Result<Arc<Verified>, FetchError> {
        let mut slot = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(verified) = &*slot {
            return Ok(verified.clone());
        }
        let verified = Arc::new(self.verify(read)?);
        *slot = Some(verified.clone());
        Ok(verified)
    }

    /// An index file checked against the snapshot covering its namespace,
    /// read as that snapshot saw it. A module a consistent snapshot does
    /// not list has no index file in that view (it may have been published
    /// since): `None`, without asking the registry.
    pub fn index_file(
        &self,
        read: ReadFile,
        label: &str,
        name: &ModuleName,
        relative: &str,
    ) -> Result<Option<Vec<u8>>, FetchError> {
        let verified = self.verified(read)?;
        let snapshot = verified.covering(label, name)?;
        if snapshot.consistent && !snapshot.lists(relative) {
            return Ok(None);
        }
        let path = snapshot.read_path(relative);
        let bytes = read(&path)?;
        verified.check_index(label, name, relative, &path, bytes.as_deref())?;
        Ok(bytes)
    }

    /// Verifies the whole view (the snapshot, `registry.yaml`, each peer's
    /// snapshot) before remembering any version: a snapshot refused at any
    /// step must not raise the version against which the genuine one is
    /// then checked (it would be refused as a rollback).
    fn verify(&self, read: ReadFile) -> Result<Verified, FetchError> {
        let now = SystemTime::now();
        let mut accepted = Vec::new();
        let snapshot =
            self.verify_snapshot(read, SNAPSHOT_FILE, &self.keys, &self.state_dir, now)?;
        accepted.push((VersionState::new(&self.state_dir), snapshot.version));
        let config_path = snapshot.read_path(REGISTRY_FILE);
        let config_url = self.url(&config_path);
        let config_bytes = match read(&config_path)? {
            Some(bytes) => bytes,
            None if snapshot.consistent => {
                return Err(self.refused(
                    &config_url,
                    SnapshotError::Withheld {
                        path: REGISTRY_FILE.to_owned(),
                        version: snapshot.version,
                    },
                ));
            }
            None => {
                return Err(FetchError::Invalid(RegistryError::NotARegistry(
                    PathBuf::from(&self.label),
                )));
            }
        };
        snapshot
            .check_file(REGISTRY_FILE, &config_bytes)
            .map_err(|error| self.refused(&config_url, error))?;
        let config = RegistryConfig::from_bytes(Path::new(&config_url), &config_bytes)?;
        if config.name != snapshot.registry {
            return Err(FetchError::Snapshot {
                url: self.url(SNAPSHOT_FILE),
                error: Box::new(SnapshotError::Malformed {
                    reason: format!(
                        "it is the snapshot of registry `{}`, but registry.yaml says `{}`: refusing metadata mixed from another registry",
                        snapshot.registry, config.name
                    ),
                }),
                help: String::new(),
            });
        }
        let mut peers = BTreeMap::new();
        for mirror in &config.mirrors {
            let relative = mirror.snapshot_path();
            let state = self.state_dir.join("mirrors").join(&mirror.name);
            let peer = self.verify_snapshot(read, &relative, &mirror.keys, &state, now)?;
            accepted.push((VersionState::new(&state), peer.version));
            if peer.registry != mirror.name {
                return Err(FetchError::Snapshot {
                    url: self.url(&relative),
                    error: Box::new(SnapshotError::Malformed {
                        reason: format!(
                            "it is the snapshot of registry `{}`, but registry.yaml mirrors `{}` from there",
                            peer.registry, mirror.name
                        ),
                    }),
                    help: String::new(),
                });
            }
            peers.insert(mirror.name.clone(), peer);
        }
        for (state, version) in accepted {
            state.raise(version)?;
        }
        Ok(Verified {
            snapshot,
            config,
            peers,
        })
    }

    /// Reads and verifies one snapshot file; the caller remembers its
    /// version once everything it vouches for is verified.
    fn verify_snapshot(
        &self,
        read: ReadFile,
        relative: &str,
        keys: &[PublicKey],
        state_dir: &Path,
        now: SystemTime,
    ) -> Result<Snapshot, FetchError> {
        let url = self.url(relative);
        let Some(bytes) = read(relative)? else {
            return Err(FetchError::Unsigned {
                url,
                keys: fingerprints(keys),
            });
        };
        let state = VersionState::new(state_dir);
        let seen = state.read()?;
        let snapshot = snapshot::verify(&bytes, keys, now, seen).map_err(|error| {
            let help = match error {
                SnapshotError::Rollback { .. } => format!(
                    "\nhelp: if the registry was really rebuilt from scratch, check it with its maintainers, then delete `{}` to accept its current snapshot",
                    state.path.display()
                ),
                _ => String::new(),
            };
            FetchError::Snapshot {
                url,
                error: Box::new(error),
                help,
            }
        })?;
        Ok(snapshot)
    }

    fn refused(&self, url: &str, error: SnapshotError) -> FetchError {
        FetchError::Snapshot {
            url: url.to_owned(),
            error: Box::new(error),
            help: String::new(),
        }
    }
}

impl Verified {
    /// The snapshot that covers the index file of `name`: the registry's
    /// own for its namespaces, the peer's for mirrored ones; an error for
    /// any other namespace (asked before anything is downloaded).
    pub fn covering(&self, label: &str, name: &ModuleName) -> Result<&Snapshot, FetchError> {
        let namespace = name.namespace();
        if self.config.owns(namespace) {
            return Ok(&self.snapshot);
        }
        if let Some(mirror) = self.config.mirror_of(namespace) {
            return Ok(&self.peers[&mirror.name]);
        }
        Err(not_served(&self.config, label, name))
    }

    /// Checks an index file `relative` (`bytes` as read from `read_path`,
    /// its plain or hashed path; `None` when the registry has none) of
    /// module `name` against the snapshot that covers its namespace.
    pub fn check_index(
        &self,
        label: &str,
        name: &ModuleName,
        relative: &str,
        read_path: &str,
        bytes: Option<&[u8]>,
    ) -> Result<(), FetchError> {
        let snapshot = self.covering(label, name)?;
        let url = format!("{}/{read_path}", label.trim_end_matches('/'));
        let refused = |error| FetchError::Snapshot {
            url: url.clone(),
            error: Box::new(error),
            help: String::new(),
        };
        match bytes {
            Some(bytes) => snapshot.check_file(relative, bytes).map_err(refused),
            None if snapshot.lists(relative) => Err(refused(SnapshotError::Withheld {
                path: relative.to_owned(),
                version: snapshot.version,
            })),
            None => Ok(()),
        }
    }
}

fn fingerprints(keys: &[PublicKey]) -> String {
    keys.iter()
        .map(PublicKey::fingerprint)
        .collect::<Vec<_>>()
        .join(" or ")
}

/// `<dir>/snapshot.version`: the highest snapshot version accepted, one
/// decimal number. Raised under an exclusive lock (`snapshot.version.lock`)
/// so that two oent processes cannot lower it; written atomically.
#[derive(Debug)]
pub struct VersionState {
    pub path: PathBuf,
}

impl VersionState {
    pub fn new(dir: &Path) -> VersionState {
        VersionState {
            path: dir.join("snapshot.version"),
        }
    }

    /// The highest version accepted so far, if any.
    pub fn read(&self) -> Result<Option<u64>, FetchError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&self.path)(e)),
        };
        text.trim()
            .parse()
            .map(Some)
            .map_err(|_| FetchError::BadVersionState {
                path: self.path.clone(),
                found: text.chars().take(40).collect(),
            })
    }

    /// Remembers `version` if it is higher than the one remembered.
    pub fn raise(&self, version: u64) -> Result<(), FetchError> {
        use std::os::fd::AsRawFd;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let mut lock_path = self.path.clone().into_os_string();
        lock_path.push(".lock");
        let lock_path = PathBuf::from(lock_path);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_error(&lock_path))?;
        // SAFETY: flock on a descriptor we own; released when `lock` closes.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io_error(&lock_path)(std::io::Error::last_os_error()));
        }
        if self.read()?.is_some_and(|seen| seen >= version) {
            return Ok(());
        }
        crate::fsutil::write_atomic(&self.path, format!("{version}\n").as_bytes())
            .map_err(io_error(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A registry directory signed twice: the first snapshot, then a new
    /// index line and a second snapshot; and the index file's two contents.
    struct SignedTwice {
        key: crate::registry::signing::SecretKey,
        first: Vec<u8>,
        old_index: Vec<u8>,
        new_index: Vec<u8>,
    }

    fn registry_signed_twice(dir: &Path) -> SignedTwice {
        let key = crate::registry::signing::SecretKey::generate("test");
        std::fs::write(
            dir.join(REGISTRY_FILE),
            "schema: oent/registry/v1\nname: openent\nnamespaces: [openent]\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.join("index/openent")).unwrap();
        let index = dir.join("index/openent/x.jsonl");
        let old_index = b"{\"line\":1}\n".to_vec();
        std::fs::write(&index, &old_index).unwrap();
        snapshot::write_signed(dir, &key, std::time::Duration::from_secs(3600)).unwrap();
        let first = std::fs::read(dir.join(SNAPSHOT_FILE)).unwrap();
        std::fs::write(&index, "{\"line\":1}\n{\"line\":2}\n").unwrap();
        snapshot::write_signed(dir, &key, std::time::Duration::from_secs(3600)).unwrap();
        SignedTwice {
            key,
            first,
            old_index,
            new_index: std::fs::read(&index).unwrap(),
        }
    }

    /// Reads the registry at `dir`, except that `snapshot.json` is `snapshot`.
    fn reader(
        dir: &Path,
        snapshot: Vec<u8>,
    ) -> impl Fn(&str) -> Result<Option<Vec<u8>>, FetchError> {
        let dir = dir.to_path_buf();
        move |relative: &str| {
            if relative == SNAPSHOT_FILE {
                return Ok(Some(snapshot.clone()));
            }
            Ok(std::fs::read(dir.join(relative)).ok())
        }
    }

    #[test]
    fn a_publish_after_the_snapshot_was_read_does_not_mix_views() {
        let dir = tempfile::tempdir().unwrap();
        let signed = registry_signed_twice(dir.path());
        // The client read snapshot 1; the index file is already the new one.
        let read = reader(dir.path(), signed.first.clone());
        let state = tempfile::tempdir().unwrap();
        let trust = Trust::new("reg", vec![signed.key.public()], state.path().to_path_buf());
        let name: ModuleName = "openent/x".parse().unwrap();
        let bytes = trust
            .index_file(&read, "reg", &name, "index/openent/x.jsonl")
            .unwrap();
        assert_eq!(bytes, Some(signed.old_index), "the view of snapshot 1");
        assert_ne!(signed.new_index, signed.first);
        // A module published after snapshot 1 is not in its view.
        std::fs::write(dir.path().join("index/openent/y.jsonl"), "{}\n").unwrap();
        let y: ModuleName = "openent/y".parse().unwrap();
        let none = trust.index_file(&read, "reg", &y, "index/openent/y.jsonl");
        assert_eq!(none.unwrap(), None);
    }

    #[test]
    fn a_hashed_copy_that_does_not_match_or_is_missing_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let signed = registry_signed_twice(dir.path());
        let snapshot = std::fs::read(dir.path().join(SNAPSHOT_FILE)).unwrap();
        let sha = crate::package::checksum::sha256_hex(&signed.new_index);
        let copy = dir
            .path()
            .join(snapshot::hashed_path("index/openent/x.jsonl", &sha));
        let name: ModuleName = "openent/x".parse().unwrap();
        let fetch = || {
            let state = tempfile::tempdir().unwrap();
            let trust = Trust::new("reg", vec![signed.key.public()], state.path().to_path_buf());
            trust.index_file(
                &reader(dir.path(), snapshot.clone()),
                "reg",
                &name,
                "index/openent/x.jsonl",
            )
        };
        std::fs::write(&copy, "{\"line\":\"forged\"}\n").unwrap();
        let err = fetch().unwrap_err();
        assert!(err.to_string().contains("mix-and-match"), "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("reg/by-hash/index/openent/x.jsonl/{sha}: ")),
            "{err}"
        );
        std::fs::remove_file(&copy).unwrap();
        let err = fetch().unwrap_err();
        assert!(err.to_string().contains("is being withheld"), "{err}");
    }

    #[test]
    fn the_remembered_version_only_grows() {
        let dir = tempfile::tempdir().unwrap();
        let state = VersionState::new(&dir.path().join("reg"));
        assert_eq!(state.read().unwrap(), None);
        state.raise(5).unwrap();
        state.raise(3).unwrap();
        assert_eq!(state.read().unwrap(), Some(5));
        state.raise(6).unwrap();
        assert_eq!(std::fs::read_to_string(&state.path).unwrap(), "6\n");
        std::fs::write(&state.path, "six").unwrap();
        let err = state.read().unwrap_err();
        assert!(err.to_string().contains("snapshot.version"), "{err}");
        assert!(err.to_string().contains("delete it"), "{err}");
    }
}

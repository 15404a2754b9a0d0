//! What a forge remembers of each peer between sync rounds: the ETag its
//! `snapshot.json` had when everything it vouched for was mirrored, so that
//! the next round asks `If-None-Match` and an idle round costs one
//! conditional request per peer, whatever the size of the catalogue.
//!
//! Kept in `.sync-state.json` at the registry's root (a hidden file: the
//! forge does not serve it, recovery and signing do not read it), written
//! atomically, once per round and only when it changed. The ETags are the
//! peer's own, kept as it sent them: an ETag is opaque (RFC 9110 §8.8.3),
//! so it cannot be derived from the mirrored copy when the peer is nginx
//! or a CDN (their ETags are made of a date and a size), and the peer's own
//! snapshot is not kept at all when it only relays other registries.
//!
//! An entry is used only for the peer as forge.yaml describes it now (its
//! URL, keys and namespaces: trusting one more namespace must fetch again)
//! and until a day before the earliest expiry of the snapshots taken from
//! it, so that a relay's fresher copy of an origin's snapshot is picked up
//! before this forge's copy expires.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::config::Peer;
use crate::package::checksum::sha256_hex;

pub const STATE_FILE: &str = ".sync-state.json";

/// How long before a mirrored snapshot expires a peer is fetched in full again.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(24 * 3600);

/// The validator of one peer's last complete sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validator {
    /// sha256 of the peer's entry in forge.yaml when it was taken.
    pub peer: String,
    /// The ETag of the peer's snapshot.json, as the peer sent it.
    pub etag: String,
    /// Seconds since the epoch when the first snapshot taken from it expires.
    pub expires: u64,
}

#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    pub peers: BTreeMap<String, Validator>,
}

impl SyncState {
    pub fn path(root: &Path) -> PathBuf {
        root.join(STATE_FILE)
    }

    /// The state kept under `root`; an unreadable or missing file is an
    /// empty state (the next round fetches every peer in full).
    pub fn load(root: &Path) -> SyncState {
        std::fs::read(Self::path(root))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, root: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).expect("a map of strings serializes");
        crate::fsutil::write_atomic(&Self::path(root), &json)
    }

    /// The ETag to send to `peer` now, if its last sync is still good to revalidate.
    pub fn etag_for(&self, peer: &Peer, now: SystemTime) -> Option<&str> {
        let kept = self.peers.get(&peer.name)?;
        let deadline = SystemTime::UNIX_EPOCH + Duration::from_secs(kept.expires);
        (kept.peer == fingerprint(peer) && now + EXPIRY_MARGIN < deadline)
            .then_some(kept.etag.as_str())
    }
}

/// Identifies a peer's entry in forge.yaml: a change of URL, keys or
/// namespaces makes the kept ETag unusable.
pub fn fingerprint(peer: &Peer) -> String {
    let text = format!(
        "{}\n{}\n{}\n{}",
        peer.name,
        peer.url,
        peer.keys.join(","),
        peer.namespaces.join(",")
    );
    sha256_hex(text.as_bytes())
}

/// A validator for `peer` whose snapshots expire first at `expires`.
pub fn validator(peer: &Peer, etag: String, expires: SystemTime) -> Validator {
    Validator {
        peer: fingerprint(peer),
        etag,
        expires: expires
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(namespaces: &[&str]) -> Peer {
        Peer {
            name: "assoc".into(),
            url: "http://127.0.0.1:1/registry".into(),
            keys: vec!["ssh-ed25519 AAAA".into()],
            namespaces: namespaces.iter().map(|n| n.to_string()).collect(),
        }
    }

    #[test]
    fn an_etag_is_sent_only_for_the_same_peer_entry_and_far_from_expiry() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let mut state = SyncState::default();
        let week = now + Duration::from_secs(7 * 24 * 3600);
        state.peers.insert(
            "assoc".into(),
            validator(&peer(&["openent"]), "\"abc\"".into(), week),
        );
        assert_eq!(state.etag_for(&peer(&["openent"]), now), Some("\"abc\""));
        // One more namespace trusted: everything is fetched again.
        assert_eq!(state.etag_for(&peer(&["openent", "idf"]), now), None);
        // Within a day of the expiry: fetched again (a relay may have a fresher copy).
        let late = week - Duration::from_secs(3600);
        assert_eq!(state.etag_for(&peer(&["openent"]), late), None);
    }

    #[test]
    fn the_state_round_trips_and_a_damaged_file_is_an_empty_state() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = SyncState::default();
        state.peers.insert(
            "assoc".into(),
            validator(&peer(&["openent"]), "W/\"x\"".into(), SystemTime::now()),
        );
        state.save(dir.path()).unwrap();
        assert_eq!(SyncState::load(dir.path()), state);
        std::fs::write(SyncState::path(dir.path()), "{not json").unwrap();
        assert_eq!(SyncState::load(dir.path()), SyncState::default());
    }
}

//! The deployment where nginx (or a CDN) serves the forge's `registry/` and
//! the forge only takes writes: while a publisher publishes module after
//! module through the forge, a reader going through nginx must only ever see
//! consistent registries. The forge writes archive → index line → by-hash
//! copies → snapshot, each by rename, so that every intermediate state holds.

mod forge_support;
mod http_support;
mod support;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use forge_support::RunningForge;
use http_support::Nginx;
use oent::package::checksum::sha256_hex;
use oent::registry::signing::PublicKey;
use oent::registry::snapshot::{self, Snapshot};
use support::Test;
use support::registry::write_module;

/// Modules published while the reader reads, in batches of [`BATCH`].
const MODULES: usize = 24;
const BATCH: usize = 4;

/// A GET through nginx: the status and the body.
fn get(port: u16, path: &str) -> (u16, Vec<u8>) {
    let answer = reqwest::blocking::get(format!("http://127.0.0.1:{port}/{path}"))
        .unwrap_or_else(|e| panic!("GET /{path}: {e}"));
    let status = answer.status().as_u16();
    let body = answer
        .bytes()
        .unwrap_or_else(|e| panic!("GET /{path}: {e}"));
    (status, body.to_vec())
}

/// The body of `path`, which must be served (200).
fn fetch(port: u16, path: &str, state: &str) -> Vec<u8> {
    let (status, body) = get(port, path);
    assert_eq!(status, 200, "{state}: GET /{path} answered {status}");
    body
}

/// The index file of module `i`.
fn index_path(i: usize) -> String {
    format!("index/openent/m{i:02}.jsonl")
}

/// Every line of an index file's `text` names an archive that is served
/// with the line's sha256; the lines' `name@version`s.
fn check_lines(port: u16, state: &str, path: &str, text: &[u8]) -> Vec<String> {
    let mut listed = Vec::new();
    for line in String::from_utf8(text.to_vec()).unwrap().lines() {
        let line: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{state}: {path}: {e}: {line}"));
        let archive = line["archive"].as_str().unwrap();
        let body = fetch(port, archive, state);
        assert_eq!(
            sha256_hex(&body),
            line["sha256"].as_str().unwrap(),
            "{state}: {archive} does not have the sha256 its line in {path} says"
        );
        listed.push(format!("{}@{}", line["name"], line["version"]));
    }
    listed
}

/// What static readers see through nginx at one moment, checked. A client
/// pinning the forge's key: the snapshot verifies and never goes back, each
/// index file it lists has its hashed copy with the listed sha256, and each
/// line of those copies names an archive served with the line's sha256. A
/// reader without a key asks for every module's index file by name (404
/// until it is published): each line names an archive served with its
/// sha256. Returns the snapshot's version and the `name@version`s it lists.
fn check_state(port: u16, key: &PublicKey, seen: Option<u64>) -> (u64, BTreeSet<String>) {
    let bytes = fetch(port, "snapshot.json", "snapshot");
    let snapshot: Snapshot =
        snapshot::verify(&bytes, std::slice::from_ref(key), SystemTime::now(), seen)
            .unwrap_or_else(|e| panic!("the snapshot served by nginx is refused: {e}"));
    let state = format!("snapshot version {}", snapshot.version);
    let mut listed = BTreeSet::new();
    for path in snapshot.files.keys().filter(|p| p.starts_with("index/")) {
        let copy = fetch(port, &snapshot.read_path(path), &state);
        snapshot
            .check_file(path, &copy)
            .unwrap_or_else(|e| panic!("{state}: {e}"));
        listed.extend(check_lines(port, &state, path, &copy));
    }
    for i in 0..MODULES {
        let path = index_path(i);
        match get(port, &path) {
            (404, _) => {}
            (200, plain) => {
                check_lines(port, "read without the snapshot", &path, &plain);
            }
            (status, _) => panic!("GET /{path} answered {status}"),
        }
    }
    (snapshot.version, listed)
}

#[test]
fn nginx_serving_the_forge_registry_only_ever_shows_consistent_states() {
    let root = tempfile::tempdir().unwrap();
    // nginx's workers run as another user when the tests run as root.
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = root.path().join("forge");
    std::fs::create_dir_all(&dir).unwrap();
    Test::at(&dir)
        .args(["key", "new", "forge-key"])
        .run()
        .status(0);
    let forge = RunningForge::start(&dir, "openent", "openent", "signing-key: forge-key\n");
    let key_line = std::fs::read_to_string(dir.join("forge-key.pub")).unwrap();
    let key = PublicKey::parse(key_line.trim()).unwrap();
    let nginx = Nginx::start(&forge.registry(), &root.path().join("nginx"));

    let done = AtomicBool::new(false);
    let (states, versions, last) = std::thread::scope(|scope| {
        let publisher = scope.spawn(|| {
            for batch in 0..MODULES / BATCH {
                let batch_dir = root.path().join(format!("batch-{batch}"));
                for i in 0..BATCH {
                    let name = format!("openent/m{:02}", batch * BATCH + i);
                    write_module(&batch_dir, &name, "1.0.0", "");
                }
                Test::at(&batch_dir)
                    .args(["publish", "src"])
                    .forge(&forge)
                    .run()
                    .status(0);
            }
            done.store(true, Ordering::Relaxed);
        });
        let mut seen = None;
        let mut versions = BTreeSet::new();
        let mut states = 0;
        while !done.load(Ordering::Relaxed) {
            let (version, _) = check_state(nginx.port, &key, seen);
            seen = Some(version);
            versions.insert(version);
            states += 1;
        }
        publisher.join().unwrap();
        (states, versions, check_state(nginx.port, &key, seen).1)
    });
    assert!(
        versions.len() >= 3,
        "the reader saw {states} states but only snapshot versions {versions:?}: it did not read while the forge published"
    );
    let expected: BTreeSet<String> = (0..MODULES)
        .map(|i| format!("\"openent/m{i:02}\"@\"1.0.0\""))
        .collect();
    assert_eq!(last, expected, "the last snapshot lists every module");
}

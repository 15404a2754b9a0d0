//! Federation: three forges on loopback — the association's, a région's
//! that mirrors it, a département's that mirrors the région — and peers
//! that misbehave. Keys are made by the real ssh-keygen, as an
//! administrator would, and read by oent.

mod forge_support;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use forge_support::{RunningForge, assert_consistent};
use support::registry::write_module;
use support::{Output, Test, copy_dir};

/// An ed25519 key pair made by ssh-keygen: (private key path, public key line).
fn keygen(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .status()
        .expect("ssh-keygen (Debian package openssh-client) is needed: run .ci/setup");
    assert!(status.success());
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    (path, public.trim().to_owned())
}

fn peer(name: &str, url: &str, key: &str, namespaces: &str) -> String {
    format!(
        "peers:\n  - {{ name: {name}, url: \"{url}\", keys: [\"{key}\"], namespaces: [{namespaces}] }}\nsync-interval-seconds: 0\n"
    )
}

fn sync(forge: &RunningForge) -> Output {
    Test::at(&forge.dir)
        .args(["forge", "sync", "--config", "forge.yaml"])
        .run()
}

/// A forge in `root/<dir>` owning `namespace`, signing with a key of its
/// own, with `peers` as its forge.yaml lines; and its public key.
fn signed_forge(root: &Path, dir: &str, namespace: &str, peers: &str) -> (RunningForge, String) {
    let dir = root.join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (signing, public) = keygen(&dir, "forge-key");
    let forge = RunningForge::start(
        &dir,
        namespace,
        namespace,
        &format!("signing-key: {}\n{peers}", signing.display()),
    );
    (forge, public)
}

/// A forge in `root/<dir>` owning `namespace`, unsigned, with `peers` as
/// its forge.yaml lines.
fn mirror_forge(root: &Path, dir: &str, namespace: &str, peers: &str) -> RunningForge {
    RunningForge::start(&root.join(dir), namespace, namespace, peers)
}

/// `oent forge sync` on `forge` exits 1, saying `reason`.
fn assert_sync_refused(forge: &RunningForge, reason: &str) {
    sync(forge).status(1).stderr_contains(reason);
}

/// The association's forge with two modules published and signed.
fn association(root: &Path) -> (RunningForge, String) {
    let dir = root.join("assoc");
    std::fs::create_dir_all(&dir).unwrap();
    let (key, public) = keygen(&dir, "assoc-key");
    let forge = RunningForge::start(
        &dir,
        "openent",
        "openent",
        &format!("signing-key: {}\n", key.display()),
    );
    write_module(&dir, "openent/annuaire", "2.0.0", "");
    write_module(
        &dir,
        "openent/portail",
        "1.4.0",
        "requires: { openent/annuaire: \"^2\" }\n",
    );
    Test::at(&dir)
        .args(["publish", "src"])
        .forge(&forge)
        .run()
        .status(0);
    (forge, public)
}

#[test]
fn a_departement_mirroring_a_region_mirroring_the_association_serves_the_original_signatures() {
    let root = tempfile::tempdir().unwrap();
    let (assoc, assoc_key) = association(root.path());

    let (region, region_key) = signed_forge(
        root.path(),
        "region",
        "idf",
        &peer("assoc", &assoc.url, &assoc_key, "openent"),
    );
    let out = sync(&region).status(0);
    assert!(
        out.stdout.contains("assoc: 2 index files, 2 archives"),
        "{}",
        out.stdout
    );
    // Nothing new: nothing fetched.
    let again = sync(&region);
    assert!(
        again.stdout.contains(
            "assoc: unchanged since the last round (its snapshot.json answered 304 Not Modified)"
        ),
        "{}",
        again.stdout
    );

    let (dept, dept_key) = signed_forge(
        root.path(),
        "dept",
        "dep77",
        &peer("region", &region.url, &region_key, "idf, openent"),
    );
    let out = sync(&dept).status(0);
    assert!(out.stdout.contains("openent v"), "{}", out.stdout);

    // The département keeps the association's snapshot byte for byte, and its archives.
    assert_eq!(
        std::fs::read(dept.registry().join("mirrors/openent/snapshot.json")).unwrap(),
        std::fs::read(assoc.registry().join("snapshot.json")).unwrap()
    );
    for file in [
        "index/openent/portail.jsonl",
        "archives/openent/portail-1.4.0.tar.gz",
    ] {
        assert_eq!(
            std::fs::read(dept.registry().join(file)).unwrap(),
            std::fs::read(assoc.registry().join(file)).unwrap(),
            "{file}"
        );
    }
    assert_eq!(assert_consistent(&dept.registry()), 2);
    // …and the copies of the association's index files named by their hash
    // in its snapshot, which clients pinning the département read.
    let copies = "by-hash/index/openent/portail.jsonl";
    assert_eq!(
        support::walk(&dept.registry().join(copies)),
        support::walk(&assoc.registry().join(copies))
            .iter()
            .map(|p| dept
                .registry()
                .join(p.strip_prefix(assoc.registry()).unwrap()))
            .collect::<Vec<_>>()
    );
    let config = std::fs::read_to_string(dept.registry().join("registry.yaml")).unwrap();
    assert!(
        config.contains("name: openent") && config.contains(&assoc_key),
        "{config}"
    );
    // Mirrored entries keep their origin.
    let line =
        std::fs::read_to_string(dept.registry().join("index/openent/portail.jsonl")).unwrap();
    assert!(line.contains("\"origin\":\"openent\""), "{line}");

    // A distribution that knows (and pins) only the département's forge gets
    // the association's modules, checked against the association's signature.
    let dist = root.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("distribution.yaml"),
        format!(
            "schema: oent/distribution/v1\nname: dep77/colleges\nversion: 2026.1.0\ncollectivite: {{ nom: Seine-et-Marne, type: departement }}\n\
             registries:\n  - {{ name: dep77, url: \"{}\", key: \"{}\" }}\nmodules:\n  openent/portail: \"^1\"\n",
            dept.url, dept_key
        ),
    )
    .unwrap();
    Test::at(root.path())
        .current_dir("dist")
        .env("OENT_CACHE_DIR", root.path().join("cache"))
        .args(["resolve", "."])
        .run()
        .status(0);
    let lock = std::fs::read_to_string(dist.join("oent.lock")).unwrap();
    assert!(
        lock.contains("openent/portail") && lock.contains("openent/annuaire"),
        "{lock}"
    );
}

#[test]
fn a_peer_serving_a_tampered_archive_is_refused_and_nothing_is_mirrored() {
    let root = tempfile::tempdir().unwrap();
    let (assoc, assoc_key) = association(root.path());
    let archive = assoc
        .registry()
        .join("archives/openent/portail-1.4.0.tar.gz");
    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&archive, bytes).unwrap();

    let region = mirror_forge(
        root.path(),
        "region",
        "idf",
        &peer("assoc", &assoc.url, &assoc_key, "openent"),
    );
    assert_sync_refused(&region, "tampered or corrupt");
    assert!(
        !region
            .registry()
            .join("index/openent/portail.jsonl")
            .exists()
    );
    // Not the sound archive either (annuaire's, fetched beside it), nor a
    // temporary file: a refused peer leaves the mirror as it was.
    let archives = region.registry().join("archives/openent");
    let left: Vec<_> = std::fs::read_dir(&archives)
        .map(|dir| dir.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    assert!(!region.registry().join("mirrors/openent").exists());
}

#[test]
fn a_rolled_back_snapshot_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let (assoc, assoc_key) = association(root.path());
    let old_snapshot = std::fs::read(assoc.registry().join("snapshot.json")).unwrap();
    let old_index = std::fs::read(assoc.registry().join("index/openent/portail.jsonl")).unwrap();
    let region = mirror_forge(
        root.path(),
        "region",
        "idf",
        &peer("assoc", &assoc.url, &assoc_key, "openent"),
    );

    publish_portail(&assoc, "1.5.0");
    sync(&region).status(0);

    // The association's server is made to serve its old, validly signed state.
    std::fs::write(assoc.registry().join("snapshot.json"), &old_snapshot).unwrap();
    std::fs::write(
        assoc.registry().join("index/openent/portail.jsonl"),
        &old_index,
    )
    .unwrap();
    let before = std::fs::read(region.registry().join("index/openent/portail.jsonl")).unwrap();
    assert_sync_refused(&region, "rollback");
    assert_eq!(
        std::fs::read(region.registry().join("index/openent/portail.jsonl")).unwrap(),
        before
    );
}

#[test]
fn a_forked_snapshot_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let (assoc, assoc_key) = association(root.path());
    // A second forge started from a copy of the association's, with the
    // same key: its next snapshot takes the same number as the original's.
    let clone_dir = root.path().join("assoc-clone");
    copy_dir(&assoc.dir, &clone_dir);
    std::fs::remove_file(clone_dir.join("forge.log")).ok();
    let clone = RunningForge::spawn(&clone_dir);
    let region = mirror_forge(
        root.path(),
        "region",
        "idf",
        &peer("assoc", &assoc.url, &assoc_key, "openent"),
    );
    let publish = publish_portail;
    let version = |forge: &RunningForge| {
        let bytes = std::fs::read(forge.registry().join("snapshot.json")).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["signed"]["version"].as_u64().unwrap()
    };
    // The clone publishes 1.6.0; the association publishes 1.5.x until its
    // snapshot has the clone's number (each start and publish signs one).
    publish(&clone, "1.6.0");
    for patch in 0.. {
        publish(&assoc, &format!("1.5.{patch}"));
        if version(&assoc) >= version(&clone) {
            break;
        }
    }
    assert_eq!(version(&assoc), version(&clone));
    sync(&region).status(0);
    let mirrored = std::fs::read(region.registry().join("mirrors/openent/snapshot.json")).unwrap();

    // The association's server now serves the clone's history.
    std::fs::remove_dir_all(assoc.registry()).unwrap();
    copy_dir(&clone.registry(), &assoc.registry());
    assert_sync_refused(&region, "the registry's history forked");
    assert_eq!(
        std::fs::read(region.registry().join("mirrors/openent/snapshot.json")).unwrap(),
        mirrored
    );
    assert!(
        !region
            .registry()
            .join("archives/openent/portail-1.6.0.tar.gz")
            .exists()
    );
}

#[test]
fn an_expired_snapshot_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("assoc");
    std::fs::create_dir_all(&dir).unwrap();
    let (key, public) = keygen(&dir, "assoc-key");
    // Served as it is: this forge has no signing key, so it never re-signs.
    let assoc = RunningForge::start(&dir, "openent", "openent", "");
    let secret = oent::registry::signing::SecretKey::read(&key).unwrap();
    oent::registry::snapshot::write_signed(&assoc.registry(), &secret, Duration::from_secs(1))
        .unwrap();
    std::thread::sleep(Duration::from_millis(2100));

    let region = mirror_forge(
        root.path(),
        "region",
        "idf",
        &peer("assoc", &assoc.url, &public, "openent"),
    );
    assert_sync_refused(&region, "expired");
}

#[test]
fn a_peer_cannot_inject_modules_outside_its_namespaces() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("assoc");
    std::fs::create_dir_all(&dir).unwrap();
    let (key, public) = keygen(&dir, "assoc-key");
    let assoc = RunningForge::start(&dir, "openent", "openent", "");
    // A validly signed index file of namespace openent that lists an idf module.
    let line = r#"{"v":1,"name":"idf/lilie-core","version":"1.0.0","licence":"CECILL-2.1","sha256":"0000000000000000000000000000000000000000000000000000000000000000","size":10,"archive":"archives/idf/lilie-core-1.0.0.tar.gz","yanked":false,"origin":"openent","published_at":"2026-11-26T00:00:00Z"}"#;
    std::fs::create_dir_all(assoc.registry().join("index/openent")).unwrap();
    std::fs::write(
        assoc.registry().join("index/openent/lilie-core.jsonl"),
        format!("{line}\n"),
    )
    .unwrap();
    let secret = oent::registry::signing::SecretKey::read(&key).unwrap();
    oent::registry::snapshot::write_signed(&assoc.registry(), &secret, Duration::from_secs(3600))
        .unwrap();

    // The région trusts openent and idf from the association, which owns only openent.
    let region = mirror_forge(
        root.path(),
        "region",
        "region",
        &peer("assoc", &assoc.url, &public, "openent, idf"),
    );
    assert_sync_refused(&region, "outside namespace `openent`");
    assert!(!region.registry().join("index/idf").exists());
    assert!(
        !region
            .registry()
            .join("index/openent/lilie-core.jsonl")
            .exists()
    );
    assert!(region.log().is_empty() || !region.log().contains("peer synced"));

    // A peer may not be trusted with a namespace the forge owns itself.
    let own = mirror_forge(
        root.path(),
        "assoc2",
        "openent",
        &peer("assoc", &assoc.url, &public, "openent"),
    );
    assert_sync_refused(&own, "this forge owns it");
}

/// The forge's access log (`oent::access` at debug), one
/// `METHOD PATH conditional=… status=… bytes=…` per request.
const ACCESS_LOG: (&str, &str) = ("OENT_LOG", "info,oent::access=debug");

fn access_log(forge: &RunningForge) -> Vec<String> {
    forge
        .log()
        .lines()
        .filter_map(|l| {
            l.split_once("oent::access: request method=")
                .map(|(_, r)| r)
        })
        .map(|fields| fields.replacen(" path=\"", " ", 1).replacen("\" ", " ", 1))
        .collect()
}

/// The requests `forge` answered while `run` ran.
fn requests_during(forge: &RunningForge, run: impl FnOnce()) -> Vec<String> {
    let before = access_log(forge).len();
    run();
    access_log(forge)[before..].to_vec()
}

fn publish_portail(forge: &RunningForge, version: &str) {
    write_module(
        &forge.dir,
        "openent/portail",
        version,
        "requires: { openent/annuaire: \"^2\" }\n",
    );
    Test::at(&forge.dir)
        .args(["publish", "src"])
        .forge(forge)
        .run()
        .status(0);
}

#[test]
fn an_idle_round_is_one_conditional_request_answered_304_and_a_publish_is_still_seen() {
    let root = tempfile::tempdir().unwrap();
    let (mut assoc, assoc_key) = association(root.path());
    assoc.stop();
    let assoc = RunningForge::spawn_with_env(&assoc.dir, &[ACCESS_LOG]);
    let region = mirror_forge(
        root.path(),
        "region",
        "idf",
        &peer("assoc", &assoc.url, &assoc_key, "openent"),
    );
    let first = requests_during(&assoc, || {
        sync(&region)
            .status(0)
            .stdout_contains("assoc: 2 index files, 2 archives");
    });
    assert_eq!(
        first.iter().filter(|r| r.contains(" status=200 ")).count(),
        6,
        "snapshot, registry.yaml, 2 index files, 2 archives: {first:#?}"
    );

    // Nothing changed: the snapshot's ETag is revalidated, nothing else asked.
    for _ in 0..2 {
        let idle = requests_during(&assoc, || {
            sync(&region)
                .status(0)
                .stdout_is("assoc: unchanged since the last round (its snapshot.json answered 304 Not Modified)\n");
        });
        assert_eq!(
            idle,
            ["GET /snapshot.json conditional=true status=304 bytes=0"],
            "{}",
            assoc.log()
        );
    }

    // A publish after idle rounds is mirrored at the next one.
    publish_portail(&assoc, "1.5.0");
    let after = requests_during(&assoc, || {
        sync(&region)
            .status(0)
            .stdout_contains("assoc: 1 index files, 1 archives");
    });
    assert!(
        after[0].starts_with("GET /snapshot.json conditional=true status=200 "),
        "{after:#?}"
    );
    assert!(
        region
            .registry()
            .join("archives/openent/portail-1.5.0.tar.gz")
            .is_file()
    );
    assert_eq!(assert_consistent(&region.registry()), 3);
    let idle = requests_during(&assoc, || {
        sync(&region).status(0);
    });
    assert_eq!(idle.len(), 1, "{idle:#?}");
    assert!(idle[0].contains("status=304"), "{idle:#?}");
}

#[test]
fn trusting_one_more_namespace_fetches_the_unchanged_peer_again() {
    let root = tempfile::tempdir().unwrap();
    let (assoc, assoc_key) = association(root.path());
    // The association also owns `idf` here, published by the idf token.
    let mut region = mirror_forge(
        root.path(),
        "region",
        "region",
        &peer("assoc", &assoc.url, &assoc_key, "openent"),
    );
    sync(&region).status(0);
    sync(&region).status(0).stdout_contains(
        "assoc: unchanged since the last round (its snapshot.json answered 304 Not Modified)",
    );
    region.stop();
    // Same peer, one more namespace: its 304 must not hide what was never taken.
    let config = std::fs::read_to_string(region.dir.join("forge.yaml")).unwrap();
    std::fs::write(
        region.dir.join("forge.yaml"),
        config.replace(
            "namespaces: [openent] }\nsync",
            "namespaces: [openent, other] }\nsync",
        ),
    )
    .unwrap();
    let out = sync(&region).status(0);
    assert!(
        out.stdout.contains("assoc: 0 index files") && out.stdout.contains("snapshots openent v"),
        "fetched again in full (the snapshot verified): {}",
        out.stdout
    );
}

/// A hand-written HTTP/1.1 server over `root` that answers every GET 200
/// with the file and the same ETag whatever the file, ignoring
/// If-None-Match; records each request's path and its If-None-Match.
struct IgnoresValidators {
    port: u16,
    seen: Seen,
}

/// Each request's path and If-None-Match header.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, Option<String>)>>>;

impl IgnoresValidators {
    fn start(root: PathBuf) -> IgnoresValidators {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Seen::default();
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap_or_default();
                let mut if_none_match = None;
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':')
                        && name.eq_ignore_ascii_case("if-none-match")
                    {
                        if_none_match = Some(value.trim().to_owned());
                    }
                }
                let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
                let body = std::fs::read(root.join(path.trim_start_matches('/')));
                log.lock().unwrap().push((path, if_none_match));
                let (status, body) = match body {
                    Ok(body) => ("200 OK", body),
                    Err(_) => ("404 Not Found", Vec::new()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nETag: \"same\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        IgnoresValidators { port, seen }
    }
}

#[test]
fn a_peer_that_ignores_if_none_match_still_syncs() {
    let root = tempfile::tempdir().unwrap();
    let (assoc, assoc_key) = association(root.path());
    let server = IgnoresValidators::start(assoc.registry());
    let url = format!("http://127.0.0.1:{}", server.port);
    let region = mirror_forge(
        root.path(),
        "region",
        "idf",
        &peer("assoc", &url, &assoc_key, "openent"),
    );
    sync(&region)
        .status(0)
        .stdout_contains("assoc: 2 index files, 2 archives");
    // Asked conditionally, answered 200 with the same signed state: as before.
    server.seen.lock().unwrap().clear();
    sync(&region)
        .status(0)
        .stdout_contains("assoc: 0 index files, 0 archives");
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(
        seen.first(),
        Some(&("/snapshot.json".to_owned(), Some("\"same\"".to_owned()))),
        "{seen:#?}"
    );
    // Its ETag never changes, yet a publish is seen: the answer is 200.
    publish_portail(&assoc, "1.5.0");
    sync(&region)
        .status(0)
        .stdout_contains("assoc: 1 index files, 1 archives");
    assert_eq!(assert_consistent(&region.registry()), 3);
}

#[test]
fn a_namespace_this_forge_came_to_own_is_refused_even_when_the_peer_is_unchanged() {
    let root = tempfile::tempdir().unwrap();
    let (assoc, assoc_key) = association(root.path());
    let region = mirror_forge(
        root.path(),
        "region",
        "idf",
        &peer("assoc", &assoc.url, &assoc_key, "openent"),
    );
    sync(&region).status(0);
    // The région's administrator makes openent its own (no longer a
    // mirror) but leaves it trusted from the association: the association's
    // 304 must not hide the contradiction.
    std::fs::write(
        region.registry().join("registry.yaml"),
        "schema: oent/registry/v1\nname: idf\nnamespaces: [idf, openent]\n",
    )
    .unwrap();
    assert_sync_refused(&region, "this forge owns it");
}

/// `oent forge serve` mirrors its peers by itself every
/// `sync-interval-seconds`: the sync runs beside the threads that serve.
#[test]
fn a_serving_forge_mirrors_its_peers_on_its_own() {
    let root = tempfile::tempdir().unwrap();
    let (assoc, assoc_key) = association(root.path());
    let peers = peer("assoc", &assoc.url, &assoc_key, "openent")
        .replace("sync-interval-seconds: 0", "sync-interval-seconds: 1");
    let region = mirror_forge(root.path(), "region", "idf", &peers);
    let url = format!("{}/index/openent/portail.jsonl", region.url);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let answer = reqwest::blocking::get(&url).unwrap();
        if answer.status() == 200 {
            assert!(answer.text().unwrap().contains("\"1.4.0\""));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the region did not mirror the association in 30 s\n{}",
            region.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_consistent(&region.registry());
}

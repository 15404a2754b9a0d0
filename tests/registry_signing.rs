//! Signed registries, end to end: keys made by `oent key new` and
//! snapshots signed by `oent registry build --sign` are checked by the real
//! `ssh-keygen -Y verify`; clients pinning a key read registries over real
//! HTTP on loopback (nginx, or the small file server of `http_support`) and
//! refuse, each with its reason, a bad signature, a rollback (also after a
//! restart), an expired snapshot, a tampered index file, a tampered archive,
//! and a mirror serving a namespace it neither owns nor mirrors; a mirrored
//! namespace is verified with its own registry's key.

mod http_support;
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use http_support::{FaultServer, Fixture, assert_cache_clean, fetched};
use oent::registry::signing::{SNAPSHOT_NAMESPACE, SecretKey};
use serde_json::value::RawValue;
use support::Output;

const SSH_KEYGEN: &str = "/usr/bin/ssh-keygen";

/// Runs ssh-keygen; fails (never skips) when it is not installed.
fn ssh_keygen(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    assert!(
        Path::new(SSH_KEYGEN).is_file(),
        "{SSH_KEYGEN} is missing: run .ci/setup (it installs openssh-client), then the tests again"
    );
    let mut child = Command::new(SSH_KEYGEN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or_default()).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// The `signed` bytes exactly as in the file, and the first signature.
fn signed_parts(snapshot: &Path) -> (String, String) {
    let text = std::fs::read_to_string(snapshot).unwrap();
    let parts: BTreeMap<String, &RawValue> = serde_json::from_str(&text).unwrap();
    let signatures: Vec<BTreeMap<String, String>> =
        serde_json::from_str(parts["signatures"].get()).unwrap();
    (
        parts["signed"].get().to_owned(),
        signatures[0]["sig"].clone(),
    )
}

/// A fixture whose registry `reg/` is signed with `key` (made by `oent key new`).
fn signed_fixture(versions: &[&str]) -> Fixture {
    let fixture = Fixture::new(versions);
    fixture.oent(&["key", "new", "key"]).status(0);
    sign(&fixture);
    fixture
}

fn sign(fixture: &Fixture) -> Output {
    fixture
        .oent(&[
            "registry", "build", "modules", "--to", "reg", "--sign", "key",
        ])
        .status(0)
}

/// The copy of `relative` that clients pinning the key read: the one the
/// registry's snapshot names by its hash.
fn served_copy(registry: &Path, relative: &str) -> PathBuf {
    let (signed, _) = signed_parts(&registry.join("snapshot.json"));
    let signed: serde_json::Value = serde_json::from_str(&signed).unwrap();
    let sha = signed["files"][relative].as_str().unwrap();
    registry.join("by-hash").join(relative).join(sha)
}

fn fetch(fixture: &Fixture, url: &str, module: &str) -> Output {
    fixture.oent(&["fetch", module, "--registry", url, "--key", "key.pub"])
}

#[test]
fn ssh_keygen_verifies_what_oent_signs() {
    let fixture = Fixture::new(&["1.0.0"]);
    let dir = fixture.path();
    let run = fixture
        .oent(&["key", "new", "keys/signing", "--comment", "openent-2026"])
        .status(0);
    let public = std::fs::read_to_string(dir.join("keys/signing.pub")).unwrap();
    assert!(
        public.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"),
        "{public}"
    );
    assert!(public.ends_with(" openent-2026\n"), "{public}");
    assert!(run.stdout.contains(public.trim()), "{run:#?}");

    // ssh-keygen reads both files and prints the fingerprint oent printed.
    let listed = ssh_keygen(dir, &["-l", "-f", "keys/signing.pub"], None);
    assert!(listed.status.success(), "{listed:?}");
    let fingerprint = String::from_utf8(listed.stdout)
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .to_owned();
    assert!(
        run.stdout.contains(&format!("fingerprint {fingerprint}\n")),
        "{run:#?}"
    );
    let derived = ssh_keygen(dir, &["-y", "-f", "keys/signing"], None);
    assert!(derived.status.success(), "{derived:?}");
    assert_eq!(
        String::from_utf8(derived.stdout).unwrap().trim(),
        public.trim()
    );

    // The snapshot's signature over its `signed` bytes passes `ssh-keygen -Y verify`.
    let run = fixture
        .oent(&[
            "registry",
            "build",
            "modules",
            "--to",
            "reg",
            "--sign",
            "keys/signing",
        ])
        .status(0);
    assert!(run.stdout.contains("version 1"), "{run:#?}");
    assert!(run.stdout.contains(&fingerprint), "{run:#?}");
    let (signed, sig) = signed_parts(&dir.join("reg/snapshot.json"));
    std::fs::write(dir.join("snapshot.sig"), &sig).unwrap();
    std::fs::write(dir.join("allowed_signers"), format!("openent {public}")).unwrap();
    let verify_in = |namespace: &str, data: &[u8]| {
        ssh_keygen(
            dir,
            &[
                "-Y",
                "verify",
                "-f",
                "allowed_signers",
                "-I",
                "openent",
                "-n",
                namespace,
                "-s",
                "snapshot.sig",
            ],
            Some(data),
        )
    };
    let verify = |data: &[u8]| verify_in(SNAPSHOT_NAMESPACE, data);
    let good = verify(signed.as_bytes());
    assert!(good.status.success(), "{good:?}");
    assert!(
        String::from_utf8_lossy(&good.stdout).contains("Good \"oent-snapshot\" signature"),
        "{good:?}"
    );
    let tampered = signed.replacen("\"version\":1", "\"version\":2", 1);
    assert!(!verify(tampered.as_bytes()).status.success());
    // The namespace is part of what is signed.
    let other = verify_in("file", signed.as_bytes());
    assert!(!other.status.success(), "{other:?}");

    // And oent accepts a key made by ssh-keygen, whose signatures ssh-keygen checks too.
    let made = ssh_keygen(
        dir,
        &[
            "-t", "ed25519", "-N", "", "-C", "ops", "-f", "ssh-made", "-q",
        ],
        None,
    );
    assert!(made.status.success(), "{made:?}");
    fixture
        .oent(&[
            "registry", "build", "modules", "--to", "reg", "--sign", "ssh-made",
        ])
        .status(0)
        .stdout_contains("version 2");
    let (signed, sig) = signed_parts(&dir.join("reg/snapshot.json"));
    std::fs::write(dir.join("snapshot.sig"), &sig).unwrap();
    let made_public = std::fs::read_to_string(dir.join("ssh-made.pub")).unwrap();
    std::fs::write(
        dir.join("allowed_signers"),
        format!("openent {made_public}"),
    )
    .unwrap();
    let good = verify(signed.as_bytes());
    assert!(good.status.success(), "{good:?}");

    // Keys oent cannot use are refused with the reason, nothing is written.
    let snapshot_before = std::fs::read(dir.join("reg/snapshot.json")).unwrap();
    let locked = ssh_keygen(
        dir,
        &["-t", "ed25519", "-N", "secret", "-f", "locked", "-q"],
        None,
    );
    assert!(locked.status.success(), "{locked:?}");
    fixture
        .oent(&[
            "registry", "build", "modules", "--to", "reg", "--sign", "locked",
        ])
        .status(2)
        .stderr_contains("`locked` is protected by a passphrase");
    let rsa = ssh_keygen(
        dir,
        &["-t", "rsa", "-b", "2048", "-N", "", "-f", "rsa", "-q"],
        None,
    );
    assert!(rsa.status.success(), "{rsa:?}");
    fixture
        .oent(&[
            "registry", "build", "modules", "--to", "reg", "--sign", "rsa",
        ])
        .status(2)
        .stderr_contains("oent signs and verifies with ssh-ed25519 keys only");
    assert_eq!(
        std::fs::read(dir.join("reg/snapshot.json")).unwrap(),
        snapshot_before
    );
    // `oent key new` never overwrites.
    fixture
        .oent(&["key", "new", "keys/signing"])
        .status(2)
        .stderr_contains("keys/signing` already exists");
}

#[test]
fn a_pinned_registry_is_verified_over_http() {
    let fixture = signed_fixture(&["1.0.0", "1.1.0"]);
    let server = fixture.nginx();
    let url = server.url();
    let run = fetch(&fixture, &url, "t/x").status(0);
    assert_eq!(fetched(&run)[0].0, "1.1.0");
    assert_eq!(assert_cache_clean(&fixture.cache()).len(), 1);
    let requests: Vec<_> = server
        .access_log()
        .iter()
        .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    let copy = |relative: &str| {
        let path = served_copy(&fixture.registry(), relative);
        let path = path.strip_prefix(fixture.registry()).unwrap();
        format!("GET /{}", path.display())
    };
    assert_eq!(
        requests[..3],
        [
            "GET /snapshot.json".to_owned(),
            copy("registry.yaml"),
            copy("index/t/x.jsonl"),
        ],
        "the snapshot is read before anything it covers, and the files as it names them"
    );
    // The cache remembers the version accepted.
    let state = std::fs::read_dir(fixture.cache().join("index"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("snapshot.version");
    assert_eq!(std::fs::read_to_string(&state).unwrap(), "1\n");

    // The wrong key: refused, naming both keys.
    fixture.oent(&["key", "new", "other"]).status(0);
    fixture
        .oent(&["fetch", "t/x", "--registry", &url, "--key", "other.pub"])
        .status(2)
        .stderr_contains(format!("{url}/snapshot.json: it is signed by SHA256:"))
        .stderr_contains("not by the pinned key SHA256:");
    // Without a pinned key the registry reads as before.
    fixture
        .oent(&["fetch", "t/x", "--registry", &url])
        .status(0);
}

#[test]
fn a_bad_signature_is_refused() {
    let fixture = signed_fixture(&["1.0.0"]);
    let path = fixture.registry().join("snapshot.json");
    let text = std::fs::read_to_string(&path).unwrap();
    // A later expiry, as someone keeping a frozen view alive would write.
    let forged = text.replacen("\"expires\":\"20", "\"expires\":\"29", 1);
    assert_ne!(forged, text);
    std::fs::write(&path, forged).unwrap();
    let server = FaultServer::start(&fixture.registry(), &[]);
    let url = server.url();
    fetch(&fixture, &url, "t/x")
        .status(2)
        .stderr_contains(format!("{url}/snapshot.json: the signature by SHA256:"))
        .stderr_contains(
            "does not match the data: the data was altered after signing; refusing it",
        );
    assert_eq!(server.requests("/index/t/x.jsonl"), 0);
    assert!(assert_cache_clean(&fixture.cache()).is_empty());

    // A registry whose key is pinned but that serves no snapshot.
    std::fs::remove_file(&path).unwrap();
    fetch(&fixture, &url, "t/x")
        .status(2)
        .stderr_contains(format!(
            "{url}/snapshot.json does not exist, but the distribution pins the key SHA256:"
        ));
}

#[test]
fn a_rollback_is_refused_even_after_a_restart() {
    let fixture = signed_fixture(&["1.0.0"]);
    for _ in 2..=4 {
        sign(&fixture);
    }
    let path = fixture.registry().join("snapshot.json");
    let version_4 = std::fs::read(&path).unwrap();
    sign(&fixture).stdout_contains("version 5");
    let server = FaultServer::start(&fixture.registry(), &[]);
    let url = server.url();
    fetch(&fixture, &url, "t/x").status(0);

    // The server goes back to version 4, validly signed but older.
    std::fs::write(&path, &version_4).unwrap();
    for _ in 0..2 {
        // Each run is a new process: the version seen lives in the cache.
        fetch(&fixture, &url, "t/x")
            .status(2)
            .stderr_contains(format!(
                "{url}/snapshot.json: its version 4 is older than version 5, already accepted from this registry"
            ))
            .stderr_contains("(rollback attack or stale mirror); refusing it")
            .stderr_contains("/snapshot.version` to accept its current snapshot");
    }
    // Offline, the cached copy is checked the same way.
    fixture
        .oent(&[
            "fetch",
            "t/x",
            "--registry",
            &url,
            "--key",
            "key.pub",
            "--offline",
        ])
        .status(2)
        .stderr_contains("its version 4 is older than version 5");
    assert_eq!(assert_cache_clean(&fixture.cache()).len(), 1);

    // A newer signature is accepted again.
    sign(&fixture).stdout_contains("version 5");
    sign(&fixture).stdout_contains("version 6");
    fetch(&fixture, &url, "t/x").status(0);
}

#[test]
fn an_expired_snapshot_is_refused() {
    let fixture = signed_fixture(&["1.0.0"]);
    let path = fixture.registry().join("snapshot.json");
    let (signed, _) = signed_parts(&path);
    // Re-signed by the real key, but with an expiry in the past: what a
    // server replaying an old snapshot serves once its month is over.
    let expired = signed_with_expiry(&signed, "2024-01-01T00:00:00Z");
    let key = SecretKey::read(&fixture.path().join("key")).unwrap();
    write_snapshot(&path, &expired, &key);
    let server = FaultServer::start(&fixture.registry(), &[]);
    let url = server.url();
    fetch(&fixture, &url, "t/x")
        .status(2)
        .stderr_contains(format!(
            "{url}/snapshot.json: it expired at 2024-01-01T00:00:00Z (it is now "
        ))
        .stderr_contains("(freeze attack)")
        .stderr_contains("`oent registry build --sign`");
    assert_eq!(server.requests("/index/t/x.jsonl"), 0);
}

fn signed_with_expiry(signed: &str, expires: &str) -> String {
    let start = signed.find("\"expires\":\"").unwrap() + "\"expires\":\"".len();
    format!("{}{expires}{}", &signed[..start], &signed[start + 20..])
}

fn write_snapshot(path: &Path, signed: &str, key: &SecretKey) {
    let sig = key.sign(SNAPSHOT_NAMESPACE, signed.as_bytes());
    let text = format!(
        "{{\"signed\":{signed},\"signatures\":[{{\"key\":\"{}\",\"sig\":{}}}]}}\n",
        key.public().fingerprint(),
        serde_json::to_string(&sig).unwrap()
    );
    std::fs::write(path, text).unwrap();
}

#[test]
fn index_files_are_read_as_the_snapshot_names_them() {
    let fixture = signed_fixture(&["1.0.0"]);
    let server = FaultServer::start(&fixture.registry(), &[]);
    let url = server.url();
    fetch(&fixture, &url, "t/x").status(0);
    // A version published without signing again is not in the signed
    // view: the client reads the index as the snapshot names it.
    fixture.publish("1.1.0");
    assert_eq!(
        fetched(&fetch(&fixture, &url, "t/x").status(0))[0].0,
        "1.0.0"
    );
    assert_eq!(server.requests("/index/t/x.jsonl"), 0);
    // An index file the snapshot does not list: no such module in its view.
    std::fs::copy(
        fixture.registry().join("index/t/x.jsonl"),
        fixture.registry().join("index/t/y.jsonl"),
    )
    .unwrap();
    fetch(&fixture, &url, "t/y")
        .status(2)
        .stderr_contains("has no version of t/y");
    // Signing again shows the new version.
    std::fs::remove_file(fixture.registry().join("index/t/y.jsonl")).unwrap();
    sign(&fixture);
    assert_eq!(
        fetched(&fetch(&fixture, &url, "t/x").status(0))[0].0,
        "1.1.0"
    );
    // The copy the snapshot names, altered: refused (mix-and-match).
    let copy = served_copy(&fixture.registry(), "index/t/x.jsonl");
    let served = std::fs::read(&copy).unwrap();
    std::fs::write(&copy, &served[..served.len() / 2]).unwrap();
    let fresh = |fixture: &Fixture| {
        // A cache without the verified copy, as another machine's.
        std::fs::remove_dir_all(fixture.cache()).unwrap();
        fetch(fixture, &url, "t/x")
    };
    fresh(&fixture)
        .status(2)
        .stderr_contains(format!(
            "{url}/{}: `index/t/x.jsonl` has sha256 ",
            copy.strip_prefix(fixture.registry()).unwrap().display()
        ))
        .stderr_contains("but the signed snapshot (version 2) says")
        .stderr_contains("(mix-and-match); refusing it");
    // Withheld (to hide a security fix): refused.
    std::fs::remove_file(&copy).unwrap();
    fresh(&fixture)
        .status(2)
        .stderr_contains("`index/t/x.jsonl` is listed in the signed snapshot (version 2) but the registry does not serve it");
}

#[test]
fn a_snapshot_of_older_oent_is_read_from_the_plain_paths() {
    let fixture = signed_fixture(&["1.0.0"]);
    // What oent wrote before consistent snapshots: `oent/snapshot/v1`,
    // no hashed copies.
    let path = fixture.registry().join("snapshot.json");
    let (signed, _) = signed_parts(&path);
    let key = SecretKey::read(&fixture.path().join("key")).unwrap();
    let v1 = signed.replace("\"oent/snapshot/v2\"", "\"oent/snapshot/v1\"");
    assert_ne!(v1, signed);
    write_snapshot(&path, &v1, &key);
    std::fs::remove_dir_all(fixture.registry().join("by-hash")).unwrap();
    let server = FaultServer::start(&fixture.registry(), &[]);
    let url = server.url();
    assert_eq!(
        fetched(&fetch(&fixture, &url, "t/x").status(0))[0].0,
        "1.0.0"
    );
    assert_eq!(server.requests("/index/t/x.jsonl"), 1);
    // Its plain index changed after signing: refused, as it always was.
    fixture.publish("1.1.0");
    fetch(&fixture, &url, "t/x")
        .status(2)
        .stderr_contains(format!(
            "{url}/index/t/x.jsonl: `index/t/x.jsonl` has sha256 "
        ))
        .stderr_contains("but the signed snapshot (version 1) says");
}

#[test]
fn a_tampered_archive_is_refused() {
    let fixture = signed_fixture(&["1.0.0", "1.1.0"]);
    let registry = fixture.registry();
    let server = FaultServer::start(&registry, &[]);
    let url = server.url();
    // The attacker serves 1.0.0's archive as 1.1.0…
    std::fs::copy(
        registry.join("archives/t/x-1.0.0.tar.gz"),
        registry.join("archives/t/x-1.1.0.tar.gz"),
    )
    .unwrap();
    fetch(&fixture, &url, "t/x@=1.1.0")
        .status(2)
        .stderr_contains(format!("{url}/archives/t/x-1.1.0.tar.gz has sha256 "))
        .stderr_contains("the archive is corrupt or was tampered with: refusing it");
    // …and rewrites the index line to match: the index then leaves the snapshot.
    let old = fixture.line("1.0.0");
    let index = served_copy(&registry, "index/t/x.jsonl");
    let text: String = std::fs::read_to_string(&index)
        .unwrap()
        .lines()
        .map(|l| {
            let mut line: serde_json::Value = serde_json::from_str(l).unwrap();
            if line["version"] == "1.1.0" {
                line["sha256"] = old["sha256"].clone();
                line["size"] = old["size"].clone();
            }
            format!("{line}\n")
        })
        .collect();
    std::fs::write(&index, text).unwrap();
    // (A machine that has not read the genuine copy yet: this one has.)
    std::fs::remove_dir_all(fixture.cache()).unwrap();
    fetch(&fixture, &url, "t/x@=1.1.0")
        .status(2)
        .stderr_contains(format!(
            "{url}/{}: `index/t/x.jsonl` has sha256 ",
            index.strip_prefix(&registry).unwrap().display()
        ));
    assert_eq!(assert_cache_clean(&fixture.cache()).len(), 0);
    assert_eq!(server.requests("/archives/t/x-1.1.0.tar.gz"), 1);
}

/// `dep/`, registry of namespace `dep` that mirrors the fixture's registry
/// `t` (its index, archives and own snapshot), signed with `dep-key`.
fn mirror(fixture: &Fixture) -> PathBuf {
    let dir = fixture.path();
    fixture.oent(&["key", "new", "dep-key"]).status(0);
    fixture
        .oent(&[
            "registry",
            "init",
            "dep",
            "--name",
            "dep",
            "--namespace",
            "dep",
        ])
        .status(0);
    let peer_key = std::fs::read_to_string(dir.join("key.pub")).unwrap();
    let config = format!(
        "schema: oent/registry/v1\nname: dep\nnamespaces: [dep]\nmirrors:\n  - name: t\n    namespaces: [t]\n    keys: [\"{}\"]\n",
        peer_key.trim()
    );
    std::fs::write(dir.join("dep/registry.yaml"), config).unwrap();
    support::copy_dir(&dir.join("reg/index/t"), &dir.join("dep/index/t"));
    support::copy_dir(&dir.join("reg/archives/t"), &dir.join("dep/archives/t"));
    support::copy_dir(
        &dir.join("reg/by-hash/index/t"),
        &dir.join("dep/by-hash/index/t"),
    );
    std::fs::create_dir_all(dir.join("dep/mirrors/t")).unwrap();
    std::fs::copy(
        dir.join("reg/snapshot.json"),
        dir.join("dep/mirrors/t/snapshot.json"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("none")).unwrap();
    fixture
        .oent(&[
            "registry", "build", "none", "--to", "dep", "--sign", "dep-key",
        ])
        .status(0);
    dir.join("dep")
}

#[test]
fn a_mirrored_namespace_is_verified_with_its_own_registrys_key() {
    let fixture = signed_fixture(&["1.0.0"]);
    let dep = mirror(&fixture);
    let server = FaultServer::start(&dep, &[]);
    let url = server.url();
    let pinned = ["fetch", "t/x", "--registry", &url, "--key", "dep-key.pub"];
    // Only the département's key is pinned; t/x is checked by t's signature.
    assert_eq!(fetched(&fixture.oent(&pinned).status(0))[0].0, "1.0.0");
    assert_eq!(server.requests("/mirrors/t/snapshot.json"), 1);

    // The mirror alters the peer's index: the peer's snapshot refuses it.
    let index = served_copy(&dep.join("mirrors/t"), "index/t/x.jsonl")
        .strip_prefix(dep.join("mirrors/t"))
        .map(|p| dep.join(p))
        .unwrap();
    let original = std::fs::read_to_string(&index).unwrap();
    std::fs::write(
        &index,
        original.replace("\"yanked\":false", "\"yanked\":true"),
    )
    .unwrap();
    // (A machine that has not read the genuine copy yet: this one has.)
    std::fs::remove_dir_all(fixture.cache()).unwrap();
    fixture
        .oent(&pinned)
        .status(2)
        .stderr_contains(format!(
            "{url}/{}: `index/t/x.jsonl` has sha256 ",
            index.strip_prefix(&dep).unwrap().display()
        ))
        .stderr_contains("mix-and-match");
    std::fs::write(&index, &original).unwrap();

    // A peer snapshot not signed by the peer's key: refused.
    let peer = dep.join("mirrors/t/snapshot.json");
    let (signed, _) = signed_parts(&peer);
    let impostor = SecretKey::read(&fixture.path().join("dep-key")).unwrap();
    write_snapshot(&peer, &signed, &impostor);
    fixture
        .oent(&pinned)
        .status(2)
        .stderr_contains(format!("{url}/mirrors/t/snapshot.json: it is signed by"));
}

#[test]
fn a_mirror_serving_a_namespace_it_neither_owns_nor_mirrors_is_refused() {
    let fixture = signed_fixture(&["1.0.0"]);
    let dep = mirror(&fixture);
    // `evil/x`: an index file (even one the mirror's snapshot lists).
    let line = std::fs::read_to_string(dep.join("index/t/x.jsonl"))
        .unwrap()
        .replace("\"t/x\"", "\"evil/x\"");
    std::fs::create_dir_all(dep.join("index/evil")).unwrap();
    std::fs::write(dep.join("index/evil/x.jsonl"), line).unwrap();
    fixture
        .oent(&[
            "registry", "build", "none", "--to", "dep", "--sign", "dep-key",
        ])
        .status(0);
    let server = FaultServer::start(&dep, &[]);
    let url = server.url();
    fixture
        .oent(&["fetch", "evil/x", "--registry", &url, "--key", "dep-key.pub"])
        .status(2)
        .stderr_contains(format!(
            "registry {url} was asked for namespace `evil`, which it neither owns nor mirrors (`dep` owns dep; mirrors t): refusing anything it serves for it"
        ));
    assert_eq!(server.requests("/index/evil/x.jsonl"), 0);
}

#[test]
fn a_distribution_pins_keys_for_path_registries_too() {
    let test = support::registry::publish(
        support::Test::new(),
        "openent",
        "openent",
        &[("openent/portail", "1.0.0", "")],
    );
    let test = test
        .args(["key", "new", "k1"])
        .run()
        .status(0)
        .then()
        .args(["key", "new", "k2"])
        .run()
        .status(0)
        .then()
        .args([
            "registry", "build", "none", "--to", "openent", "--sign", "k1",
        ])
        .create_dir("none")
        .run()
        .status(0)
        .then();
    let key = |name: &str| std::fs::read_to_string(test.path().join(name)).unwrap();
    let (k1, k2) = (key("k1.pub"), key("k2.pub"));
    let cache = test.path().join("cache").display().to_string();
    let distribution = |keys: &str| {
        format!(
            "schema: oent/distribution/v1\nname: idf/lilie\nversion: 2026.1.0\ncollectivite: {{ nom: Région Île-de-France, type: region }}\n\
             registries:\n  - {{ name: openent, path: ../openent, key: {keys} }}\nmodules:\n  openent/portail: \"^1\"\n"
        )
    };
    // A list (a key rotation: old and new) with the signing key in it.
    let test = test
        .write(
            "dist/distribution.yaml",
            &distribution(&format!("[\"{}\", \"{}\"]", k2.trim(), k1.trim())),
        )
        .env("OENT_CACHE_DIR", &cache)
        .args(["resolve", "dist"])
        .run()
        .status(0)
        .then();
    // Another key only: refused, naming the registry.
    let test = test
        .write(
            "dist/distribution.yaml",
            &distribution(&format!("\"{}\"", k2.trim())),
        )
        .env("OENT_CACHE_DIR", &cache)
        .args(["resolve", "dist"])
        .run()
        .status(2)
        .stderr_contains(
            "error: registry `openent`: openent/snapshot.json: it is signed by SHA256:",
        )
        .then();
    // A tampered index file in the directory: refused like over HTTP.
    let served = served_copy(&test.path().join("openent"), "index/openent/portail.jsonl");
    std::fs::write(served, "").unwrap();
    let test = test
        .write("dist/distribution.yaml", &distribution(&format!("\"{}\"", k1.trim())))
        .env("OENT_CACHE_DIR", &cache)
        .args(["resolve", "dist"])
        .run()
        .status(2)
        .stderr_contains("`index/openent/portail.jsonl` has sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 but the signed snapshot (version 1) says")
        .then();
    // Something that is not a key is a manifest error.
    test.write("dist/distribution.yaml", &distribution("\"ssh-rsa AAAA\""))
        .env("OENT_CACHE_DIR", &cache)
        .args(["lint", "dist"])
        .run()
        .status(1)
        .stdout_contains("`registries[0].key` is not an OpenSSH Ed25519 public key");
}

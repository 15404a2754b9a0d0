//! `oent forge serve`, `oent publish` and `oent yank`, driven as users and
//! attackers drive them: a real server on loopback, real archives, real
//! HTTP (and raw TCP where an HTTP client would tidy the request up).

mod forge_support;
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use forge_support::{IDF_TOKEN, OPENENT_TOKEN, RunningForge, assert_consistent};
use reqwest::blocking::Client;
use support::Test;
use support::registry::write_module;

fn http() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Packs a module with `oent package` and returns the archive's bytes.
fn archive(dir: &Path, name: &str, version: &str, deps: &str) -> Vec<u8> {
    let module_dir = write_module(dir, name, version, deps);
    let out = dir.join("pkg");
    Test::at(dir)
        .arg("package")
        .arg(&module_dir)
        .arg("-o")
        .arg(&out)
        .run()
        .status(0);
    let (ns, short) = name.split_once('/').unwrap();
    std::fs::read(out.join(ns).join(format!("{short}-{version}.tar.gz"))).unwrap()
}

fn put(
    forge: &RunningForge,
    path: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let mut request = http().put(format!("{}{path}", forge.url)).body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&response.text().unwrap()).unwrap_or(serde_json::Value::Null),
    )
}

/// The registry's files, to compare before and after a refused request.
fn snapshot_of(registry: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![registry.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn publish_orders_modules_by_dependency_and_a_rerun_skips_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "");
    write_module(
        dir.path(),
        "openent/portail",
        "1.0.0",
        "requires: { openent/sso: \"^1\" }\n",
    );
    write_module(
        dir.path(),
        "openent/sso",
        "1.0.0",
        "requires: { openent/annuaire: \"^1\" }\n",
    );
    write_module(dir.path(), "openent/annuaire", "1.0.0", "");

    let first = Test::at(dir.path())
        .args(["publish", "src"])
        .forge(&forge)
        .run()
        .status(0);
    let printed = &first.stdout;
    let order: Vec<&str> = printed
        .lines()
        .take(3)
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect::<Vec<_>>();
    assert_eq!(
        order,
        ["openent/annuaire", "openent/sso", "openent/portail"],
        "{}",
        first.stdout
    );
    assert!(first.stdout.contains("3 published, 0 already there"));
    let index = std::fs::read(forge.registry().join("index/openent/sso.jsonl")).unwrap();

    // A new version beside the published ones: only it goes up.
    write_module(
        dir.path(),
        "openent/sso",
        "1.1.0",
        "requires: { openent/annuaire: \"^1\" }\n",
    );
    Test::at(dir.path())
        .args(["publish", "src"])
        .forge(&forge)
        .run()
        .status(0)
        .stdout_contains("1 published, 3 already there");
    assert!(
        std::fs::read(forge.registry().join("index/openent/sso.jsonl"))
            .unwrap()
            .starts_with(&index)
    );
    assert_eq!(assert_consistent(&forge.registry()), 4);
}

#[test]
fn a_published_version_is_immutable_and_the_same_bytes_again_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "");
    let bytes = archive(dir.path(), "openent/x", "1.0.0", "");
    let path = "/api/v1/modules/openent/x/1.0.0";
    assert_eq!(put(&forge, path, Some(OPENENT_TOKEN), bytes.clone()).0, 201);
    // A retried publish (the answer was lost) is safe.
    assert_eq!(put(&forge, path, Some(OPENENT_TOKEN), bytes).0, 200);

    let other = archive(
        dir.path(),
        "openent/x",
        "1.0.0",
        "description: \"changed\"\n",
    );
    let (status, body) = put(&forge, path, Some(OPENENT_TOKEN), other);
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "version-exists");
    assert!(
        body["error"]["help"]
            .as_str()
            .unwrap()
            .contains("bump the version")
    );

    // The client sees it before uploading, and says what to do.
    Test::at(dir.path())
        .args(["publish", "src/openent-x-1.0.0"])
        .forge(&forge)
        .run()
        .status(2)
        .stderr_contains("already published on")
        .stderr_contains("bump the version");
}

#[test]
fn registry_files_are_served_with_etags_and_byte_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "");
    let bytes = archive(dir.path(), "openent/x", "1.0.0", "");
    assert_eq!(
        put(
            &forge,
            "/api/v1/modules",
            Some(OPENENT_TOKEN),
            bytes.clone()
        )
        .0,
        201
    );
    let url = format!("{}/archives/openent/x-1.0.0.tar.gz", forge.url);

    let full = http().get(&url).send().unwrap();
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()["content-type"], "application/gzip");
    assert!(
        full.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = full.headers()["etag"].clone();
    assert_eq!(full.bytes().unwrap().as_ref(), bytes.as_slice());

    let revalidated = http()
        .get(&url)
        .header("If-None-Match", etag.clone())
        .send()
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    assert!(revalidated.bytes().unwrap().is_empty());

    let tail = http()
        .get(&url)
        .header("Range", "bytes=100-")
        .send()
        .unwrap();
    assert_eq!(tail.status(), 206);
    assert_eq!(
        tail.headers()["content-range"],
        format!("bytes 100-{}/{}", bytes.len() - 1, bytes.len()).as_str()
    );
    assert_eq!(tail.bytes().unwrap().as_ref(), &bytes[100..]);

    let stale = http()
        .get(&url)
        .header("Range", "bytes=0-9")
        .header("If-Range", "\"other\"")
        .send()
        .unwrap();
    assert_eq!(
        stale.status(),
        200,
        "a Range for other content gets the whole file"
    );

    let beyond = http()
        .get(&url)
        .header("Range", format!("bytes={}-", bytes.len()))
        .send()
        .unwrap();
    assert_eq!(beyond.status(), 416);
    assert_eq!(
        beyond.headers()["content-range"],
        format!("bytes */{}", bytes.len()).as_str()
    );

    // The index changes when a version is added: its ETag changes with it.
    let index_url = format!("{}/index/openent/x.jsonl", forge.url);
    let before = http().get(&index_url).send().unwrap().headers()["etag"].clone();
    assert_eq!(
        put(
            &forge,
            "/api/v1/modules",
            Some(OPENENT_TOKEN),
            archive(dir.path(), "openent/x", "1.1.0", "")
        )
        .0,
        201
    );
    let after = http()
        .get(&index_url)
        .header("If-None-Match", before.clone())
        .send()
        .unwrap();
    assert_eq!(after.status(), 200);
    assert_ne!(after.headers()["etag"], before);
    assert_eq!(after.text().unwrap().lines().count(), 2);
}

#[test]
fn publishing_needs_a_known_token_scoped_to_the_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "");
    let bytes = archive(dir.path(), "openent/x", "1.0.0", "");
    let before = snapshot_of(&forge.registry());

    let cases: [(&str, Option<&str>, u16, &str); 5] = [
        ("/api/v1/modules", None, 401, "unauthorized"),
        ("/api/v1/modules", Some("oent_guessed"), 401, "unauthorized"),
        ("/api/v1/modules", Some(""), 401, "unauthorized"),
        (
            "/api/v1/modules",
            Some(IDF_TOKEN),
            403,
            "namespace-not-allowed",
        ),
        (
            "/api/v1/modules/openent/x/1.0.0",
            Some(IDF_TOKEN),
            403,
            "namespace-not-allowed",
        ),
    ];
    for (path, token, status, code) in cases {
        let (got, body) = put(&forge, path, token, bytes.clone());
        assert_eq!(
            (got, body["error"]["code"].as_str().unwrap()),
            (status, code),
            "{path} with {token:?}"
        );
    }
    let mut request = http()
        .put(format!("{}/api/v1/modules", forge.url))
        .body(bytes.clone());
    request = request.header("Authorization", format!("Basic {OPENENT_TOKEN}"));
    assert_eq!(request.send().unwrap().status(), 401);
    assert_eq!(
        snapshot_of(&forge.registry()),
        before,
        "a refused publish changes nothing"
    );
    let log = forge.log();
    assert!(log.contains("refused: no bearer token"), "{log}");
    assert!(log.contains("refused: unknown token"), "{log}");
    assert!(
        log.contains("may publish into idf, not into namespace `openent`"),
        "{log}"
    );
}

#[test]
fn a_module_outside_the_forges_namespaces_is_refused_even_with_a_wildcard_token() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "");
    // The idf token may publish into idf, but this forge does not own idf.
    let bytes = archive(dir.path(), "idf/x", "1.0.0", "");
    let (status, body) = put(&forge, "/api/v1/modules", Some(IDF_TOKEN), bytes);
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "namespace-not-owned");
    assert!(!forge.registry().join("index/idf").exists());
}

#[test]
fn oversized_uploads_are_refused_before_and_while_they_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "max-upload-mib: 1\n");
    let before = snapshot_of(&forge.registry());
    // A declared length over the limit: answered before the body is sent
    // (a client that sent it all would be cut off mid-way).
    let mut stream = TcpStream::connect(forge.address()).unwrap();
    write!(stream, "PUT /api/v1/modules HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {OPENENT_TOKEN}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", 3 << 20).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("max-upload-mib"), "{answer}");

    // Chunked, without Content-Length: stopped once past the limit.
    let mut stream = TcpStream::connect(forge.address()).unwrap();
    write!(stream, "PUT /api/v1/modules HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {OPENENT_TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
    let chunk = vec![b'a'; 64 << 10];
    for _ in 0..40 {
        if write!(stream, "{:x}\r\n", chunk.len()).is_err()
            || stream.write_all(&chunk).is_err()
            || stream.write_all(b"\r\n").is_err()
        {
            break;
        }
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(snapshot_of(&forge.registry()), before);
    assert!(forge.log().contains("refused: upload too large"));
}

#[test]
fn a_truncated_upload_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "");
    let bytes = archive(dir.path(), "openent/x", "1.0.0", "");
    let before = snapshot_of(&forge.registry());
    let mut stream = TcpStream::connect(forge.address()).unwrap();
    write!(
        stream,
        "PUT /api/v1/modules/openent/x/1.0.0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {OPENENT_TOKEN}\r\nContent-Length: {}\r\n\r\n",
        bytes.len()
    )
    .unwrap();
    stream.write_all(&bytes[..bytes.len() / 2]).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    // The server may answer 400 or just close: either way nothing is published.
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 400"),
        "{answer}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(snapshot_of(&forge.registry()), before);
    assert!(
        forge.log().contains("upload interrupted"),
        "{}",
        forge.log()
    );
}

#[test]
fn hostile_archives_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/archives");
    let large = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .arg(fixtures.join("make.py"))
        .args([
            "--large",
            &large.path().display().to_string(),
            "bomb-one-file",
        ])
        .status()
        .expect("python3 writes the decompression bomb: install Python 3");
    assert!(status.success());
    let before = snapshot_of(&forge.registry());
    let cases = [
        (
            large.path().join("bomb-one-file.tar.gz"),
            "decompression bomb",
        ),
        (fixtures.join("dotdot-traversal.tar.gz"), ".."),
        (fixtures.join("symlink.tar.gz"), "link"),
        (fixtures.join("invalid-manifest.tar.gz"), "SPDX"),
    ];
    for (path, reason) in cases {
        let (status, body) = put(
            &forge,
            "/api/v1/modules",
            Some(OPENENT_TOKEN),
            std::fs::read(&path).unwrap(),
        );
        assert_eq!(status, 422, "{}: {body}", path.display());
        let message = format!("{} {}", body["error"]["message"], body["error"]["help"]);
        assert!(message.contains(reason), "{}: {message}", path.display());
    }
    assert_eq!(snapshot_of(&forge.registry()), before);
    assert_eq!(forge.log().matches("refused").count(), 4, "{}", forge.log());
}

#[test]
fn a_manifest_that_disagrees_with_the_url_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "");
    let bytes = archive(dir.path(), "openent/x", "1.0.0", "");
    for path in [
        "/api/v1/modules/openent/x/2.0.0",
        "/api/v1/modules/openent/y/1.0.0",
    ] {
        let (status, body) = put(&forge, path, Some(OPENENT_TOKEN), bytes.clone());
        assert_eq!(status, 400, "{path}");
        assert_eq!(body["error"]["code"], "url-mismatch");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("the archive holds openent/x 1.0.0")
        );
    }
    assert!(!forge.registry().join("index/openent/x.jsonl").exists());
}

/// Raw requests: an HTTP client would normalise `..` away before sending.
fn raw_get(forge: &RunningForge, target: &str) -> String {
    let mut stream = TcpStream::connect(forge.address()).unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn paths_that_leave_the_registry_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "");
    std::fs::write(forge.registry().join("index/secret.txt"), "x").unwrap();
    for target in [
        "/index/../../forge.yaml",
        "/index/%2e%2e/%2e%2e/forge.yaml",
        "/archives/..%2f..%2fforge.yaml",
        "/index/.hidden",
        "/forge.yaml",
        "/index/%00",
        "/archives/",
    ] {
        let answer = raw_get(&forge, target);
        let status: u16 = answer[9..12].parse().unwrap();
        assert!(status == 400 || status == 404, "{target}: {answer}");
        assert!(
            !answer.contains("schema: oent/forge/v1"),
            "{target} leaked forge.yaml"
        );
    }
    assert!(raw_get(&forge, "/registry.yaml").starts_with("HTTP/1.1 200"));
    assert!(forge.log().contains("refused: path leaves the registry"));
}

#[test]
fn fifty_concurrent_publishes_of_one_version_create_it_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "");
    let bytes = archive(dir.path(), "openent/x", "1.0.0", "");
    let url = format!("{}/api/v1/modules/openent/x/1.0.0", forge.url);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50)
            .map(|_| {
                let (url, bytes) = (url.clone(), bytes.clone());
                scope.spawn(move || {
                    http()
                        .put(url)
                        .bearer_auth(OPENENT_TOKEN)
                        .body(bytes)
                        .send()
                        .unwrap()
                        .status()
                        .as_u16()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        49,
        "{statuses:?}"
    );
    let index = std::fs::read_to_string(forge.registry().join("index/openent/x.jsonl")).unwrap();
    assert_eq!(index.lines().count(), 1);
}

#[test]
fn concurrent_publishes_of_different_versions_are_all_kept() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "");
    let archives: Vec<Vec<u8>> = (0..20)
        .map(|i| archive(dir.path(), "openent/x", &format!("1.{i}.0"), ""))
        .collect();
    std::thread::scope(|scope| {
        for bytes in &archives {
            let url = format!("{}/api/v1/modules", forge.url);
            scope.spawn(move || {
                assert_eq!(
                    http()
                        .put(url)
                        .bearer_auth(OPENENT_TOKEN)
                        .body(bytes.clone())
                        .send()
                        .unwrap()
                        .status(),
                    201
                )
            });
        }
    });
    assert_eq!(assert_consistent(&forge.registry()), 20);
}

#[test]
fn a_forge_killed_during_publishes_leaves_a_registry_readers_accept() {
    let dir = tempfile::tempdir().unwrap();
    Test::at(dir.path())
        .args(["key", "new", "forge-key"])
        .run()
        .status(0);
    let mut forge =
        RunningForge::start(dir.path(), "openent", "openent", "signing-key: forge-key\n");
    let archives: Vec<Vec<u8>> = (0..40)
        .map(|i| archive(dir.path(), &format!("openent/m{i}"), "1.0.0", ""))
        .collect();
    let url = format!("{}/api/v1/modules", forge.url);
    std::thread::scope(|scope| {
        for chunk in archives.chunks(10) {
            let url = url.clone();
            scope.spawn(move || {
                for bytes in chunk {
                    // Connections are cut by the kill: errors are expected.
                    let _ = http()
                        .put(&url)
                        .bearer_auth(OPENENT_TOKEN)
                        .body(bytes.clone())
                        .send();
                }
            });
        }
        std::thread::sleep(Duration::from_millis(150));
        forge.kill_hard();
    });
    let published = assert_consistent(&forge.registry());
    assert!(
        published < 40,
        "the kill came too late to test anything ({published} published)"
    );

    // Restarted, the forge takes the rest; the retried ones are accepted.
    let forge = RunningForge::spawn(dir.path());
    Test::at(dir.path())
        .args(["publish", "src"])
        .forge(&forge)
        .run()
        .status(0);
    assert_eq!(assert_consistent(&forge.registry()), 40);
    // A client pinning the forge's key accepts what it serves: the snapshot
    // signed at restart covers the index as the kill left it.
    for module in ["openent/m0", "openent/m17", "openent/m39"] {
        Test::at(dir.path())
            .env("OENT_CACHE_DIR", dir.path().join("cache"))
            .args([
                "fetch",
                module,
                "--registry",
                &forge.url,
                "--key",
                "forge-key.pub",
            ])
            .run()
            .status(0);
    }
}

#[test]
fn yank_and_unyank_flip_only_the_yanked_field() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "");
    assert_eq!(
        put(
            &forge,
            "/api/v1/modules",
            Some(OPENENT_TOKEN),
            archive(dir.path(), "openent/x", "1.0.0", "")
        )
        .0,
        201
    );
    let index = forge.registry().join("index/openent/x.jsonl");
    let before = std::fs::read_to_string(&index).unwrap();

    let out = Test::at(dir.path())
        .args(["yank", "openent/x@1.0.0"])
        .forge(&forge)
        .run()
        .status(0);
    assert_eq!(
        out.stdout.trim(),
        format!("yanked openent/x 1.0.0 on {}", forge.url)
    );
    assert_eq!(
        std::fs::read_to_string(&index).unwrap(),
        before.replace("\"yanked\":false", "\"yanked\":true")
    );

    Test::at(dir.path())
        .args(["yank", "openent/x@1.0.0", "--undo"])
        .forge(&forge)
        .token(IDF_TOKEN)
        .run()
        .status(2)
        .stderr_contains("403");

    Test::at(dir.path())
        .args(["yank", "openent/x@9.9.9"])
        .forge(&forge)
        .run()
        .stderr_contains("openent/x has no version 9.9.9");

    Test::at(dir.path())
        .args(["yank", "openent/x@1.0.0", "--undo"])
        .forge(&forge)
        .run()
        .status(0);
    assert_eq!(std::fs::read_to_string(&index).unwrap(), before);
}

#[test]
fn sigterm_finishes_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut forge = RunningForge::start(dir.path(), "openent", "openent", "");
    assert!(forge.stop().success());
    assert!(forge.log().contains("forge stopped"), "{}", forge.log());
}

/// The forge listens with `SO_REUSEPORT` (one socket per thread): a second
/// forge on the same address must still be refused, not join the first
/// one's sockets and take half of its connections.
#[test]
fn a_second_forge_on_the_same_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = RunningForge::start(&dir.path().join("first"), "openent", "openent", "");
    let second = dir.path().join("second");
    std::fs::create_dir_all(&second).unwrap();
    std::fs::write(
        second.join("forge.yaml"),
        format!(
            "schema: oent/forge/v1\nregistry: ../first/registry\nlisten: \"{}\"\n",
            first.address()
        ),
    )
    .unwrap();
    let mut child = Command::new(support::oent())
        .current_dir(&second)
        .args(["forge", "serve", "--config", "forge.yaml"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Bounded: a forge that wrongly starts would serve until stopped.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            support::stop_gracefully(&mut child);
            panic!("a second forge started on {}", first.address());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "");
    assert!(
        stderr.contains(&format!(
            "error: cannot listen on {}: Address already in use",
            first.address()
        )),
        "{stderr}"
    );
    let registry = http()
        .get(format!("{}/registry.yaml", first.url))
        .send()
        .unwrap();
    assert_eq!(registry.status(), 200);
}

#[test]
fn an_invalid_forge_yaml_names_the_line_and_key() {
    Test::new()
        .write(
            "forge.yaml",
            "
            schema: oent/forge/v1
            registry: registry
            listen: localhost
            tokens:
              - { name: ci, sha256: hunter2, namespaces: [openent] }
            ",
        )
        .args(["forge", "serve", "--config", "forge.yaml"])
        .run()
        .status(2)
        .stderr_is("
            error[E015/invalid-value]: `listen: localhost` is not an address and port: invalid socket address syntax
              ┌─ forge.yaml:3:9
              │
            3 │ listen: localhost
              │         ^^^^^^^^^ in `listen`
              │
              = help: write an IP address and a port, such as `127.0.0.1:8470`

            error[E015/invalid-value]: a token is stored as the lowercase hex sha256 of its value (64 characters)
              ┌─ forge.yaml:5:25
              │
            5 │   - { name: ci, sha256: hunter2, namespaces: [openent] }
              │                         ^^^^^^^ in `tokens[0].sha256`
              │
              = help: create tokens with `oent forge token --name NAME --namespace NS` and paste the line it prints

        ");
}

#[test]
fn forge_token_prints_a_token_whose_hash_forge_yaml_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let out = Test::at(dir.path())
        .args(["forge", "token", "--name", "ci", "--namespace", "openent"])
        .run()
        .status(0);
    let token = out.stdout.trim().to_owned();
    assert!(token.starts_with("oent_") && token.len() == 69, "{token}");
    assert!(out.stderr.contains(&forge_support::token_hash(&token)));
}

#[test]
fn a_fork_that_changes_its_base_licence_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "");
    let base = archive(dir.path(), "openent/x", "1.0.0", "");
    assert_eq!(
        put(&forge, "/api/v1/modules", Some(OPENENT_TOKEN), base).0,
        201
    );

    let fork_of = "fork-of: openent/x@1.0.0\n";
    let module_dir = write_module(dir.path(), "openent/x-essonne", "1.0.0", fork_of);
    let manifest = module_dir.join("module.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("licence: CECILL-2.1", "licence: MIT"),
    )
    .unwrap();
    let out = Test::at(dir.path())
        .args(["publish", "src/openent-x-essonne-1.0.0"])
        .forge(&forge)
        .run()
        .status(2);
    let err = out.stderr;
    assert!(err.contains("answered 422"), "{err}");
    assert!(err.contains("a fork keeps its base's licence"), "{err}");
    assert!(err.contains("write `licence: CECILL-2.1` back"), "{err}");
    assert!(
        !forge
            .registry()
            .join("index/openent/x-essonne.jsonl")
            .exists()
    );

    // The same fork under its base's licence is accepted.
    std::fs::write(&manifest, text).unwrap();
    Test::at(dir.path())
        .args(["publish", "src/openent-x-essonne-1.0.0"])
        .forge(&forge)
        .run()
        .status(0);
}

#[test]
fn a_token_can_be_checked_without_writing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "");
    let url = format!("{}/api/v1/token", forge.url);
    let known = http().get(&url).bearer_auth(OPENENT_TOKEN).send().unwrap();
    assert_eq!(known.status(), 200);
    let body: serde_json::Value = serde_json::from_str(&known.text().unwrap()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({ "name": "ci-openent", "namespaces": ["openent"] })
    );
    for token in [None, Some("oent_guessed")] {
        let mut request = http().get(&url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().unwrap();
        assert_eq!(response.status(), 401, "{token:?}");
        assert!(response.headers().contains_key("www-authenticate"));
    }
}

/// The registry's hidden files (temporaries of writes in progress).
fn hidden_files(registry: &Path) -> Vec<String> {
    snapshot_of(registry)
        .into_iter()
        .map(|(path, _)| path.strip_prefix(registry).unwrap().display().to_string())
        .filter(|p| p.split('/').any(|part| part.starts_with('.')))
        .collect()
}

/// Runs the forge under strace, which kills it (SIGKILL, no chance to
/// clean up) on entering the first `syscall`; publishes `bytes` into it.
fn publish_killed_at(dir: &Path, syscall: &str, bytes: Vec<u8>) {
    let strace = support::tools::required("strace", "strace");
    let inject = format!("inject={syscall}:signal=SIGKILL:when=1");
    let strace = strace.display().to_string();
    let mut forge = RunningForge::spawn_under(
        dir,
        &[&strace, "-f", "-qq", "-o", "/dev/null", "-e", &inject],
    );
    let sent = http()
        .put(format!("{}/api/v1/modules", forge.url))
        .bearer_auth(OPENENT_TOKEN)
        .body(bytes)
        .send();
    assert!(sent.is_err(), "the forge answered: {sent:?}");
    forge.wait_dead();
}

#[test]
fn a_forge_killed_between_archive_and_index_line_does_not_squat_the_version() {
    let dir = tempfile::tempdir().unwrap();
    let mut forge = RunningForge::start(dir.path(), "openent", "openent", "");
    forge.stop();
    let registry = dir.path().join("registry");
    let first = archive(dir.path(), "openent/x", "1.0.0", "");

    // Killed before the archive is linked to its name: a `.oent-add-*`
    // temporary is left.
    publish_killed_at(dir.path(), "linkat", first.clone());
    let left = hidden_files(&registry);
    assert!(
        left.iter()
            .any(|p| p.starts_with("archives/openent/.oent-add-")),
        "{left:?}"
    );

    // Restarted, then killed at the rename of the index file: the archive
    // is there under its name, its index line is not, and the index's
    // temporary is left.
    publish_killed_at(dir.path(), "renameat", first);
    let left = hidden_files(&registry);
    assert!(
        left.len() == 1 && left[0].starts_with("index/openent/.oent-"),
        "the restart cleaned the first kill's temporary, then: {left:?}"
    );
    assert!(registry.join("archives/openent/x-1.0.0.tar.gz").is_file());
    assert!(!registry.join("index/openent/x.jsonl").exists());

    // Restarted for good: the leftovers are gone and said so, and the
    // version is free for other bytes (201), not squatted (422).
    let forge = RunningForge::spawn(dir.path());
    assert_eq!(hidden_files(&registry), Vec::<String>::new());
    assert!(!registry.join("archives/openent/x-1.0.0.tar.gz").exists());
    let log = forge.log();
    assert!(
        log.contains("removed an archive no index line names")
            && log.contains("archives/openent/x-1.0.0.tar.gz"),
        "{log}"
    );
    let other = archive(
        dir.path(),
        "openent/x",
        "1.0.0",
        "description: \"other bytes\"\n",
    );
    let (status, body) = put(
        &forge,
        "/api/v1/modules/openent/x/1.0.0",
        Some(OPENENT_TOKEN),
        other,
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(assert_consistent(&registry), 1);
}

/// A module archive (root `x-1.0.0/`, a valid manifest) with one more file
/// at `extra` below the root.
fn archive_with_entry(extra: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    let manifest = support::registry::module("openent/x", "1.0.0", "");
    for (path, data) in [
        ("x-1.0.0/module.yaml".to_owned(), manifest.as_bytes()),
        (format!("x-1.0.0/{extra}"), b"x\n".as_slice()),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path, data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

#[test]
fn an_over_long_entry_name_is_named_and_no_server_path_leaks() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "");
    let long_part = "a".repeat(300);
    let deep = vec!["b".repeat(200); 30].join("/");
    let cases = [
        (
            format!("templates/{long_part}.tera"),
            "a path component is longer than 255 bytes",
        ),
        (format!("{deep}/f"), "the path is longer than 1024 bytes"),
    ];
    for (extra, limit) in cases {
        let (status, body) = put(
            &forge,
            "/api/v1/modules",
            Some(OPENENT_TOKEN),
            archive_with_entry(&extra),
        );
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["code"], "invalid-archive", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(limit), "{message}");
        // The entry is named, shortened: its start and its length.
        assert!(
            message.contains(&format!("`x-1.0.0/{}", &extra[..40])),
            "{message}"
        );
        assert!(
            message.contains(&format!("({} bytes)", extra.len() + 8)),
            "{message}"
        );
        assert!(message.len() < 600, "{message}");
        let all = body.to_string();
        let temp = std::env::temp_dir().display().to_string();
        assert!(
            !all.contains(&temp) && !all.contains(&dir.path().display().to_string()),
            "a server path leaks: {all}"
        );
    }
}

#[test]
fn no_archive_refusal_shows_a_server_path() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/archives");
    let server_paths = [
        std::env::temp_dir().display().to_string(),
        dir.path().display().to_string(),
    ];
    let mut refused = 0;
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".tar.gz") || name == "valid.tar.gz" {
            continue;
        }
        let (status, body) = put(
            &forge,
            "/api/v1/modules",
            Some(OPENENT_TOKEN),
            std::fs::read(&path).unwrap(),
        );
        assert_eq!(status, 422, "{name}: {body}");
        let all = body.to_string();
        assert!(
            server_paths.iter().all(|p| !all.contains(p.as_str())),
            "{name}: a server path leaks: {all}"
        );
        refused += 1;
    }
    assert!(refused > 20, "{refused}");
}

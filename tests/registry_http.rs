//! `oent fetch` from registries: a real nginx on loopback (any static web
//! server can host a registry: ETags, 304s, the cache, offline mode), a
//! registry directory read in place, and a misbehaving server for every
//! network fault: each fails with exit status 2, a message naming the URL,
//! and nothing half-written in the cache.

mod http_support;
mod support;

use http_support::{Fault, FaultServer, Fixture, Nginx, assert_cache_clean, fetched};
use std::path::Path;
use std::time::{Duration, Instant};

use support::free_port;

const ARCHIVE: &str = "/archives/t/x-1.0.0.tar.gz";

/// The access log lines for one path, as `STATUS "If-None-Match"`.
fn requests_of(server: &Nginx, path: &str) -> Vec<String> {
    server
        .access_log()
        .iter()
        .filter_map(|l| {
            let rest = l.strip_prefix(&format!("GET {path} "))?;
            Some(
                rest.rsplit_once(" \"oent/")
                    .map_or(rest, |(r, _)| r)
                    .to_owned(),
            )
        })
        .collect()
}

#[test]
fn fetches_from_nginx_then_revalidates_indexes_with_etags() {
    let fixture = Fixture::new(&["1.0.0", "1.1.0"]);
    let server = fixture.nginx();
    let run = fixture
        .oent(&["fetch", "t/x", "--registry", &server.url()])
        .status(0);
    let line = fixture.line("1.1.0");
    let sha = line["sha256"].as_str().unwrap();
    let expected = fixture
        .cache()
        .join(format!("archives/sha256/{}/{sha}.tar.gz", &sha[..2]));
    let printed = format!("[ROOT]/cache/archives/sha256/{}/{sha}.tar.gz", &sha[..2]);
    assert_eq!(fetched(&run), [("1.1.0".to_owned(), printed.into())]);
    assert_eq!(assert_cache_clean(&fixture.cache()), [expected]);
    assert!(
        server
            .access_log()
            .iter()
            .all(|l| l.ends_with(&format!("\"oent/{}\"", env!("CARGO_PKG_VERSION")))),
        "{:?}",
        server.access_log()
    );

    // Again: the index is revalidated with the ETag nginx gave (304), and
    // the archive comes from the cache without a request.
    fixture
        .oent(&["fetch", "t/x", "--registry", &server.url()])
        .status(0);
    let index = requests_of(&server, "/index/t/x.jsonl");
    assert_eq!(index.len(), 2, "{index:?}");
    assert!(index[0].starts_with("200 \"-\""), "{index:?}");
    assert!(index[1].starts_with("304 \"\\x22"), "{index:?}");
    assert_eq!(
        requests_of(&server, "/registry.yaml")[1].split(' ').next(),
        Some("304")
    );
    assert_eq!(requests_of(&server, "/archives/t/x-1.1.0.tar.gz").len(), 1);

    // A new version changes the index: its ETag no longer matches.
    fixture.publish("1.2.0");
    let run = fixture
        .oent(&["fetch", "t/x", "--registry", &format!("{}/", server.url())])
        .status(0);
    assert_eq!(fetched(&run)[0].0, "1.2.0");
    assert!(requests_of(&server, "/index/t/x.jsonl")[2].starts_with("200 \"\\x22"));
    assert_eq!(assert_cache_clean(&fixture.cache()).len(), 2);
}

#[test]
fn offline_uses_the_cache_only() {
    let fixture = Fixture::new(&["1.0.0", "1.1.0"]);
    let server = fixture.nginx();
    let url = server.url();
    fixture
        .oent(&["fetch", "t/x", "--registry", &url, "--offline"])
        .status(2)
        .stderr_contains(format!(
            "{url}/registry.yaml is not in the cache; run without --offline to download it"
        ));
    assert!(server.access_log().is_empty());

    let online = fixture
        .oent(&["fetch", "t/x@=1.0.0", "--registry", &url])
        .status(0);
    let requests = server.access_log().len();
    let offline = fixture
        .oent(&["fetch", "t/x@=1.0.0", "--registry", &url, "--offline"])
        .status(0);
    assert_eq!(fetched(&offline), fetched(&online));
    assert_eq!(
        server.access_log().len(),
        requests,
        "offline touched the network"
    );

    // The index is cached, but 1.1.0's archive was never downloaded.
    fixture
        .oent(&["fetch", "t/x", "--registry", &url, "--offline"])
        .status(2)
        .stderr_contains(format!(
            "t/x 1.1.0 ({url}/archives/t/x-1.1.0.tar.gz) is not in the cache; run without --offline"
        ));
    assert_eq!(assert_cache_clean(&fixture.cache()).len(), 1);
}

#[test]
fn fetch_all_downloads_every_version_concurrently() {
    let fixture = Fixture::new(&["1.0.0", "1.1.0", "1.2.0", "2.0.0"]);
    let server = fixture.nginx();
    let run = fixture
        .oent(&[
            "fetch",
            "t/x",
            "--all",
            "--jobs",
            "3",
            "--registry",
            &server.url(),
        ])
        .status(0);
    let versions: Vec<_> = fetched(&run).into_iter().map(|(v, _)| v).collect();
    assert_eq!(versions, ["1.0.0", "1.1.0", "1.2.0", "2.0.0"]);
    assert_eq!(assert_cache_clean(&fixture.cache()).len(), 4);
    // A requirement narrows --all.
    let run = fixture
        .oent(&["fetch", "t/x@^1.1", "--all", "--registry", &server.url()])
        .status(0);
    assert_eq!(fetched(&run).len(), 2);
}

#[test]
fn a_registry_directory_is_read_in_place() {
    let fixture = Fixture::new(&["1.0.0", "1.1.0"]);
    let run = fixture
        .oent(&["fetch", "t/x", "--registry", "reg"])
        .status(0);
    assert_eq!(
        fetched(&run),
        [("1.1.0".to_owned(), "reg/archives/t/x-1.1.0.tar.gz".into())]
    );
    assert!(
        !fixture.cache().exists(),
        "a directory source needs no cache"
    );

    // Yanked versions are skipped; a requirement nobody meets lists what exists.
    let index = fixture.registry().join("index/t/x.jsonl");
    let yanked: String = std::fs::read_to_string(&index)
        .unwrap()
        .lines()
        .map(|l| {
            let mut line: serde_json::Value = serde_json::from_str(l).unwrap();
            if line["version"] == "1.1.0" {
                line["yanked"] = true.into();
            }
            format!("{line}\n")
        })
        .collect();
    std::fs::write(&index, yanked).unwrap();
    let run = fixture
        .oent(&["fetch", "t/x", "--registry", "reg"])
        .status(0);
    assert_eq!(fetched(&run)[0].0, "1.0.0");
    fixture
        .oent(&["fetch", "t/x@^2", "--registry", "reg"])
        .status(2)
        .stderr_contains(
            "no version of t/x in reg satisfies `^2`; published: 1.0.0, 1.1.0 (yanked)",
        );
    fixture
        .oent(&["fetch", "t/nothing", "--registry", "reg"])
        .status(2)
        .stderr_contains("reg has no version of t/nothing");
    fixture
        .oent(&["fetch", "t/x", "--registry", "nowhere"])
        .status(2)
        .stderr_contains("`nowhere` is not a registry");

    // An index file may not speak for another module.
    std::fs::copy(&index, fixture.registry().join("index/t/y.jsonl")).unwrap();
    fixture
        .oent(&["fetch", "t/y", "--registry", "reg"])
        .status(2)
        .stderr_contains(
            "the index of reg has an unusable line for t/x 1.0.0: it is in the index file of t/y",
        );

    // An archive changed after publication is refused.
    let archive = fixture.registry().join("archives/t/x-1.0.0.tar.gz");
    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&archive, bytes).unwrap();
    let sha = fixture.line("1.0.0")["sha256"].as_str().unwrap().to_owned();
    fixture
        .oent(&["fetch", "t/x", "--registry", "reg"])
        .status(2)
        .stderr_contains("reg/archives/t/x-1.0.0.tar.gz has sha256 ")
        .stderr_contains(format!("but the index says {sha}; the archive is corrupt"));
}

// Faults. Each run must fail with status 2, name the URL, and leave no
// partial file in the cache.

fn fault_fixture(faults: &[(&str, Fault)]) -> (Fixture, FaultServer) {
    let fixture = Fixture::new(&["1.0.0"]);
    let server = FaultServer::start(&fixture.registry(), faults);
    (fixture, server)
}

#[track_caller]
fn fetch_fails(fixture: &Fixture, server: &FaultServer, message: &str) {
    let url = server.url();
    fixture
        .oent(&["fetch", "t/x", "--registry", &url])
        .status(2)
        .stderr_contains(message.replace("{url}", &url));
    assert!(
        assert_cache_clean(&fixture.cache()).is_empty(),
        "an archive reached the cache"
    );
}

#[test]
fn server_down() {
    let fixture = Fixture::new(&["1.0.0"]);
    let url = format!("http://127.0.0.1:{}", free_port());
    let started = std::time::Instant::now();
    fixture
        .oent(&["fetch", "t/x", "--registry", &url])
        .status(2)
        .stderr_contains(format!("cannot reach {url}/registry.yaml: "))
        .stderr_contains("refused");
    // Three attempts, 200 ms then 800 ms apart.
    assert!(started.elapsed() >= std::time::Duration::from_millis(1000));
    assert_cache_clean(&fixture.cache());
}

#[test]
fn not_found_is_not_retried() {
    let (fixture, server) = fault_fixture(&[(ARCHIVE, Fault::Status(404))]);
    fetch_fails(
        &fixture,
        &server,
        &format!("{{url}}{ARCHIVE} does not exist (HTTP 404)"),
    );
    assert_eq!(server.requests(ARCHIVE), 1);
}

#[test]
fn a_missing_index_means_no_versions() {
    let (fixture, server) = fault_fixture(&[("/index/t/x.jsonl", Fault::Status(404))]);
    fetch_fails(&fixture, &server, "{url} has no version of t/x");
}

#[test]
fn server_errors_are_retried_then_reported() {
    let (fixture, server) = fault_fixture(&[(ARCHIVE, Fault::Status(500))]);
    fetch_fails(
        &fixture,
        &server,
        &format!("{{url}}{ARCHIVE}: the server answered HTTP 500; try again later"),
    );
    assert_eq!(server.requests(ARCHIVE), 3);
}

#[test]
fn a_server_error_then_success_is_retried() {
    let (fixture, server) = fault_fixture(&[
        (ARCHIVE, Fault::StatusFirst(500, 1)),
        ("/index/t/x.jsonl", Fault::StatusFirst(503, 1)),
    ]);
    fixture
        .oent(&["fetch", "t/x", "--registry", &server.url()])
        .status(0);
    assert_eq!(server.requests(ARCHIVE), 2);
    assert_eq!(server.requests("/index/t/x.jsonl"), 2);
    assert_eq!(assert_cache_clean(&fixture.cache()).len(), 1);
}

#[test]
fn a_connection_reset_mid_body() {
    let (fixture, server) = fault_fixture(&[(ARCHIVE, Fault::ResetAfter(100))]);
    fetch_fails(
        &fixture,
        &server,
        &format!("{{url}}{ARCHIVE}: the transfer stopped after "),
    );
    assert_eq!(server.requests(ARCHIVE), 3);
}

#[test]
fn a_body_shorter_than_its_content_length() {
    let (fixture, server) = fault_fixture(&[(ARCHIVE, Fault::CutAfter(100))]);
    let size = fixture.line("1.0.0")["size"].as_u64().unwrap();
    fetch_fails(
        &fixture,
        &server,
        &format!(
            "{{url}}{ARCHIVE}: the transfer stopped after 100 bytes of {size}; the connection was cut"
        ),
    );
    assert_eq!(server.requests(ARCHIVE), 3);
}

#[test]
fn a_complete_answer_shorter_than_the_index_says() {
    let (fixture, server) = fault_fixture(&[(ARCHIVE, Fault::ShortBy(10))]);
    let size = fixture.line("1.0.0")["size"].as_u64().unwrap();
    fetch_fails(
        &fixture,
        &server,
        &format!(
            "{{url}}{ARCHIVE} is {} bytes but the index says {size}; the file is corrupt or was replaced",
            size - 10
        ),
    );
    assert_eq!(server.requests(ARCHIVE), 1, "a wrong size is not retried");
}

#[test]
fn a_body_longer_than_the_index_says() {
    for fault in [Fault::LongerUnannounced(5000), Fault::LongerAnnounced(10)] {
        let (fixture, server) = fault_fixture(&[(ARCHIVE, fault)]);
        let size = fixture.line("1.0.0")["size"].as_u64().unwrap();
        fetch_fails(
            &fixture,
            &server,
            &format!("{{url}}{ARCHIVE}: the server sent more than the {size} bytes expected"),
        );
        assert_eq!(server.requests(ARCHIVE), 1, "a wrong size is not retried");
    }
}

#[test]
fn a_wrong_checksum_is_refused() {
    let (fixture, server) = fault_fixture(&[(ARCHIVE, Fault::FlipByte)]);
    let sha = fixture.line("1.0.0")["sha256"].as_str().unwrap().to_owned();
    fetch_fails(
        &fixture,
        &server,
        &format!("but the index says {sha}; the archive is corrupt or was tampered with"),
    );
    fetch_fails(&fixture, &server, &format!("{{url}}{ARCHIVE} has sha256 "));
    assert_eq!(server.requests(ARCHIVE), 2, "once per run: never retried");
}

/// Fetches from a server that sends the archive one byte every 200 ms
/// (5 bytes/s), with these limits; the run must fail with `message` (after
/// `{url}`) and leave the cache clean. Returns how long it took and how
/// many requests the archive got.
#[track_caller]
fn fetch_dribbled(limits: &[(&str, &str)], message: &str) -> (Duration, usize) {
    let (fixture, server) = fault_fixture(&[(ARCHIVE, Fault::Dribble(Duration::from_millis(200)))]);
    let url = server.url();
    let started = Instant::now();
    fixture
        .oent_with(&["fetch", "t/x", "--registry", &url], limits)
        .status(2)
        .stderr_contains(message.replace("{url}", &url));
    let took = started.elapsed();
    assert!(assert_cache_clean(&fixture.cache()).is_empty());
    (took, server.requests(ARCHIVE))
}

#[test]
fn a_transfer_slower_than_the_minimum_rate_is_cut() {
    // 5 bytes/s, under the 100 bytes/s asked for over 2 s.
    let (took, requests) = fetch_dribbled(
        &[
            ("OENT_HTTP_LOW_SPEED_LIMIT", "100"),
            ("OENT_HTTP_LOW_SPEED_TIME", "2"),
        ],
        &format!(
            "{{url}}{ARCHIVE}: the transfer was slower than 100 bytes/s for 2 s; raise OENT_HTTP_LOW_SPEED_TIME or lower OENT_HTTP_LOW_SPEED_LIMIT"
        ),
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(requests, 1, "too slow is not retried");
}

#[test]
fn a_transfer_past_its_deadline_is_cut() {
    // 5 bytes/s passes the minimum rate (1 byte/s), but the archive would
    // take a minute: the deadline of 2 s ends it.
    let (took, _) = fetch_dribbled(
        &[
            ("OENT_HTTP_TIMEOUT", "2"),
            ("OENT_HTTP_LOW_SPEED_LIMIT", "1"),
        ],
        &format!("{{url}}{ARCHIVE}: the transfer took longer than 2 s; raise OENT_HTTP_TIMEOUT"),
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "{took:?}"
    );
}

#[test]
fn an_invalid_transfer_limit_is_named() {
    let fixture = Fixture::new(&["1.0.0"]);
    let server = fixture.nginx();
    fixture
        .oent_with(
            &["fetch", "t/x", "--registry", &server.url()],
            &[("OENT_HTTP_TIMEOUT", "soon")],
        )
        .status(2)
        .stderr_contains("OENT_HTTP_TIMEOUT is `soon`, not a number of seconds");
}

#[test]
fn an_html_page_served_as_registry_yaml_is_named_and_never_cached() {
    let fixture = Fixture::new(&["1.0.0"]);
    let file = fixture.registry().join("registry.yaml");
    let good = std::fs::read(&file).unwrap();
    let server = fixture.nginx();
    let url = server.url();
    let fetch = || fixture.oent(&["fetch", "t/x", "--registry", &url]);
    let cached_copies = || {
        assert_cache_clean(&fixture.cache());
        walk_names(&fixture.cache(), "registry.yaml")
    };

    // A web site's page where the registry should be (a wrong URL, a
    // captive portal): named as such, with the URL.
    std::fs::write(
        &file,
        "<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body>Site under maintenance</body></html>\n",
    )
    .unwrap();
    fetch().status(2).stderr_contains(format!(
        "{url}/registry.yaml is not usable: it is an HTML page"
    ));
    assert_eq!(cached_copies(), 0, "the page reached the cache");

    // YAML, but not a registry.yaml: the URL, the line and the key.
    std::fs::write(
        &file,
        "schema: oent/registry/v1\nname: t\nnamespaces: [t]\nkeys: 3\n",
    )
    .unwrap();
    fetch()
        .status(2)
        .stderr_contains(format!(
            "{url}/registry.yaml is not usable: it is not a valid registry.yaml:\n  {url}/registry.yaml:4:7: error[E007]: `keys`: expected a list"
        ));
    assert_eq!(cached_copies(), 0);

    // Fixed on the server: the next run works.
    std::fs::write(&file, good).unwrap();
    fetch().status(0);
    assert_eq!(cached_copies(), 1);
}

#[test]
fn leftovers_of_killed_runs_are_cleaned_but_not_those_in_use() {
    let fixture = Fixture::new(&["1.0.0"]);
    let server = fixture.nginx();
    let dir = fixture.cache().join("archives/sha256/ab");
    std::fs::create_dir_all(&dir).unwrap();
    let index_dir = fixture.cache().join("index/0123456789abcdef");
    std::fs::create_dir_all(&index_dir).unwrap();
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    let make = |path: &Path, old: bool| {
        let file = std::fs::File::create(path).unwrap();
        if old {
            file.set_modified(hour_ago).unwrap();
        }
        path.to_path_buf()
    };
    let killed = make(&dir.join(".oent-download-killed.tmp"), true);
    let killed_index = make(&index_dir.join(".oent-Ab12Cd.tmp"), true);
    // Another oent downloading now (slowly): it holds its file locked.
    let in_use = make(&dir.join(".oent-download-in-use.tmp"), true);
    let flock = support::tools::required("flock", "util-linux");
    let mut holder = std::process::Command::new(flock)
        .arg(&in_use)
        .args(["sleep", "60"])
        .spawn()
        .unwrap();
    // Just created by another oent, not yet locked.
    let fresh = make(&dir.join(".oent-download-fresh.tmp"), false);
    std::thread::sleep(Duration::from_millis(300));

    fixture
        .oent(&["fetch", "t/x", "--registry", &server.url()])
        .status(0);
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(!killed.exists() && !killed_index.exists());
    assert!(in_use.exists(), "a download in progress lost its file");
    assert!(fresh.exists(), "a file just created was removed");
}

/// How many files named `name` are under `dir`.
fn walk_names(dir: &Path, name: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|e| e.unwrap())
        .map(|e| {
            if e.file_type().unwrap().is_dir() {
                walk_names(&e.path(), name)
            } else {
                usize::from(e.file_name() == name)
            }
        })
        .sum()
}

//! Helpers for the HTTP registry tests: a registry built with the `oent`
//! binary ([`Fixture`]), a real nginx serving it on loopback ([`Nginx`]), a
//! small misbehaving HTTP/1.1 server ([`FaultServer`]), and the check that a
//! cache holds nothing half-written ([`assert_cache_clean`]).

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use oent::package::checksum::sha256_hex;
use tempfile::TempDir;

use crate::support::{Output, Test};

/// The paths printed by `fetched NS/NAME VERSION PATH` lines, by version.
pub fn fetched(run: &Output) -> Vec<(String, PathBuf)> {
    run.stdout
        .lines()
        .filter_map(|l| {
            let mut words = l.strip_prefix("fetched ")?.splitn(3, ' ');
            let _name = words.next()?;
            Some((words.next()?.to_owned(), PathBuf::from(words.next()?)))
        })
        .collect()
}

/// A temporary directory holding a registry `reg/` (name and namespace `t`)
/// where module `t/x` is published, and an empty cache `cache/`.
pub struct Fixture {
    dir: TempDir,
}

impl Fixture {
    /// Publishes `t/x` at each version, in order.
    pub fn new(versions: &[&str]) -> Fixture {
        let dir = tempfile::Builder::new()
            .prefix("oent-http-")
            .tempdir()
            .unwrap();
        // nginx workers run as another user: let them through.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let fixture = Fixture { dir };
        fixture
            .oent(&["registry", "init", "reg", "--name", "t", "--namespace", "t"])
            .status(0);
        fixture.oent(&["new", "module", "t/x"]).status(0);
        for version in versions {
            fixture.publish(version);
        }
        fixture
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn registry(&self) -> PathBuf {
        self.path().join("reg")
    }

    pub fn cache(&self) -> PathBuf {
        self.path().join("cache")
    }

    /// Sets the module's version and publishes it.
    pub fn publish(&self, version: &str) {
        let manifest = self.path().join("modules/t/x/module.yaml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        let text: String = text
            .lines()
            .map(|l| {
                if l.starts_with("version:") {
                    format!("version: {version}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        std::fs::write(&manifest, text).unwrap();
        self.oent(&["registry", "build", "modules", "--to", "reg"])
            .status(0);
        // `oent registry build` writes files readable by their owner only;
        // a deployer makes them readable by the web server's user.
        make_readable(&self.registry());
    }

    /// A real nginx serving the registry, its files in `nginx/`.
    pub fn nginx(&self) -> Nginx {
        Nginx::start(&self.registry(), &self.path().join("nginx"))
    }

    /// The index line of a version, as JSON.
    pub fn line(&self, version: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(self.registry().join("index/t/x.jsonl")).unwrap();
        text.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|l| l["version"] == version)
            .unwrap_or_else(|| panic!("no line for {version}"))
    }

    /// Runs `oent` in the directory with the cache at `cache/` (and, as
    /// every run, no proxy in the way: loopback only).
    pub fn oent(&self, args: &[&str]) -> Output {
        self.oent_with(args, &[])
    }

    /// [`Fixture::oent`] with these environment variables set.
    pub fn oent_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut test = Test::at(self.path())
            .arg_list(args)
            .env("OENT_CACHE_DIR", self.cache());
        for (key, value) in env {
            test = test.env(key, value);
        }
        test.run()
    }
}

fn make_readable(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let mode = if entry.file_type().unwrap().is_dir() {
            make_readable(&entry.path());
            0o755
        } else {
            0o644
        };
        std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// A real nginx serving a directory on 127.0.0.1, stopped on drop. Its
/// access log records `METHOD URI STATUS "If-None-Match" "User-Agent"`.
pub struct Nginx {
    child: Child,
    pub port: u16,
    work: PathBuf,
}

impl Nginx {
    /// Starts nginx over `root`, keeping its files in `work`. Fails (never
    /// skips) when nginx is not installed.
    pub fn start(root: &Path, work: &Path) -> Nginx {
        std::fs::create_dir_all(work.join("tmp")).unwrap();
        let (child, port) = crate::support::tools::start_nginx(work, |port| {
            std::fs::write(work.join("nginx.conf"), nginx_conf(root, work, port)).unwrap()
        });
        let nginx = Nginx {
            child,
            port,
            work: work.to_path_buf(),
        };
        nginx.check_serves_registry();
        nginx
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Fails clearly when nginx cannot read the registry (its workers run
    /// as another user when started by root), then empties the access log
    /// so that tests see their own requests only.
    fn check_serves_registry(&self) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .write_all(b"GET /registry.yaml HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        let _ = std::io::Read::read_to_string(&mut stream, &mut answer);
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "nginx does not serve the registry: {}\nits error log:\n{}",
            answer.lines().next().unwrap_or("no answer"),
            std::fs::read_to_string(self.work.join("error.log")).unwrap_or_default()
        );
        // nginx appends (O_APPEND): after truncation it writes from the start.
        std::fs::OpenOptions::new()
            .write(true)
            .open(self.work.join("access.log"))
            .unwrap()
            .set_len(0)
            .unwrap();
    }

    /// The access log's lines so far.
    pub fn access_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.work.join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        crate::support::stop_gracefully(&mut self.child);
    }
}

fn nginx_conf(root: &Path, work: &Path, port: u16) -> String {
    let w = work.display();
    format!(
        r#"worker_processes 1;
error_log {w}/error.log warn;
events {{ worker_connections 64; }}
http {{
    log_format oent '$request_method $uri $status "$http_if_none_match" "$http_user_agent"';
    access_log {w}/access.log oent;
    client_body_temp_path {w}/tmp/body;
    proxy_temp_path {w}/tmp/proxy;
    fastcgi_temp_path {w}/tmp/fastcgi;
    uwsgi_temp_path {w}/tmp/uwsgi;
    scgi_temp_path {w}/tmp/scgi;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"#,
        root = root.display()
    )
}

/// How the fault server answers one path.
#[derive(Debug, Clone)]
pub enum Fault {
    /// This status, empty body, every time.
    Status(u16),
    /// This status for the first `n` requests, then the file.
    StatusFirst(u16, usize),
    /// The full Content-Length, `n` bytes of the body, then a TCP reset.
    ResetAfter(usize),
    /// The full Content-Length, `n` bytes of the body, then a clean close.
    CutAfter(usize),
    /// A complete answer whose Content-Length and body are `n` bytes short.
    ShortBy(usize),
    /// No Content-Length: the file and `n` more bytes, then close.
    LongerUnannounced(usize),
    /// Content-Length and body both `n` bytes longer than the file.
    LongerAnnounced(usize),
    /// The file with one byte changed: same size, other sha256.
    FlipByte,
    /// The full Content-Length, then one byte of the body at a time, this
    /// long apart: a server (or a link) that never quite stops.
    Dribble(Duration),
}

/// A hand-written HTTP/1.1 server on 127.0.0.1 serving a directory, with
/// faults on chosen paths. One thread per connection, `Connection: close`.
pub struct FaultServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    counts: Arc<Mutex<HashMap<String, usize>>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultServer {
    pub fn start(root: &Path, faults: &[(&str, Fault)]) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let counts = Arc::new(Mutex::new(HashMap::new()));
        let faults: Arc<HashMap<String, Fault>> = Arc::new(
            faults
                .iter()
                .map(|(p, f)| ((*p).to_owned(), f.clone()))
                .collect(),
        );
        let root = root.to_path_buf();
        let thread = {
            let (stop, counts) = (stop.clone(), counts.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(stream) = stream else { continue };
                    let (root, faults, counts) = (root.clone(), faults.clone(), counts.clone());
                    std::thread::spawn(move || serve(stream, &root, &faults, &counts));
                }
            })
        };
        FaultServer {
            port,
            stop,
            counts,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many requests reached this path (e.g. `/registry.yaml`).
    pub fn requests(&self, path: &str) -> usize {
        self.counts.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(
    mut stream: TcpStream,
    root: &Path,
    faults: &HashMap<String, Fault>,
    counts: &Mutex<HashMap<String, usize>>,
) {
    let Some(path) = read_request(&stream) else {
        return;
    };
    let seen = {
        let mut counts = counts.lock().unwrap();
        let count = counts.entry(path.clone()).or_insert(0);
        *count += 1;
        *count - 1
    };
    let file = std::fs::read(root.join(path.trim_start_matches('/'))).ok();
    let Some(body) = file else {
        return respond(&mut stream, 404, Some(0), b"");
    };
    let len = body.len();
    match faults.get(&path).cloned() {
        None => respond(&mut stream, 200, Some(len), &body),
        Some(Fault::Status(code)) => respond(&mut stream, code, Some(0), b""),
        Some(Fault::StatusFirst(code, n)) if seen < n => respond(&mut stream, code, Some(0), b""),
        Some(Fault::StatusFirst(..)) => respond(&mut stream, 200, Some(len), &body),
        Some(Fault::ResetAfter(n)) => {
            respond(&mut stream, 200, Some(len), &body[..n]);
            // Let the client read headers and the first bytes: the reset
            // then comes in the middle of the body.
            std::thread::sleep(Duration::from_millis(250));
            socket2::SockRef::from(&stream)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
        }
        Some(Fault::CutAfter(n)) => respond(&mut stream, 200, Some(len), &body[..n]),
        Some(Fault::ShortBy(n)) => respond(&mut stream, 200, Some(len - n), &body[..len - n]),
        Some(Fault::LongerUnannounced(n)) => {
            respond(&mut stream, 200, None, &[body, vec![b'!'; n]].concat())
        }
        Some(Fault::LongerAnnounced(n)) => respond(
            &mut stream,
            200,
            Some(len + n),
            &[body, vec![b'!'; n]].concat(),
        ),
        Some(Fault::Dribble(pause)) => {
            respond(&mut stream, 200, Some(len), b"");
            for byte in body.chunks(1) {
                std::thread::sleep(pause);
                // The client gave up: stop.
                if stream.write_all(byte).is_err() {
                    return;
                }
            }
        }
        Some(Fault::FlipByte) => {
            let mut body = body;
            body[len / 2] ^= 0xff;
            respond(&mut stream, 200, Some(len), &body)
        }
    }
}

/// Reads the request line and headers (all of them, so that closing does
/// not reset the connection); returns the path.
fn read_request(stream: &TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 || header == "\r\n" {
            break;
        }
    }
    let path = request_line.split(' ').nth(1)?;
    Some(path.split('?').next()?.to_owned())
}

fn respond(stream: &mut TcpStream, status: u16, length: Option<usize>, body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nConnection: close\r\n",
        reason(status)
    );
    if let Some(length) = length {
        head.push_str(&format!("Content-Length: {length}\r\n"));
    }
    head.push_str("\r\n");
    // The client may give up early (a body too long): ignore write errors.
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Other",
    }
}

/// Asserts that the cache holds only complete files: index copies (no
/// temporary names) and archives named after their own sha256. Returns the
/// archives.
#[track_caller]
pub fn assert_cache_clean(cache: &Path) -> Vec<PathBuf> {
    let mut archives = Vec::new();
    for file in walk(cache) {
        let relative = file
            .strip_prefix(cache)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(
            !name.starts_with('.'),
            "a temporary file is left: {relative}"
        );
        if let Some(rest) = relative.strip_prefix("archives/sha256/") {
            let (prefix, file_name) = rest.split_once('/').expect("archives/sha256/xx/…");
            let hex = file_name.strip_suffix(".tar.gz").expect("a .tar.gz");
            assert_eq!(&hex[..2], prefix, "{relative}");
            let bytes = std::fs::read(&file).unwrap();
            assert_eq!(
                sha256_hex(&bytes),
                hex,
                "{relative} is not what its name says"
            );
            archives.push(file);
        } else {
            assert!(
                relative.starts_with("index/"),
                "unexpected file in the cache: {relative}"
            );
        }
    }
    archives
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            files.extend(walk(&entry.path()));
        } else {
            files.push(entry.path());
        }
    }
    files.sort();
    files
}

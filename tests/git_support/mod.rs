//! Real git repositories for release and contribute tests: a work
//! repository whose remote is a bare repository on disk, or one served on
//! loopback by `git daemon` or by `git http-backend` behind nginx and
//! fcgiwrap (smart HTTP), pushes enabled, so hooks run as on a real server.
//! The git command line sets them up; a missing `git`, `git daemon`, nginx,
//! fcgiwrap or `git http-backend` fails the test.

#![allow(dead_code)]

pub mod ssh;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::tools::{self, NGINX, start_nginx};
use crate::support::{free_port, stop_gracefully};

/// Where Debian's `fcgiwrap` package installs it.
pub const FCGIWRAP: &str = "/usr/sbin/fcgiwrap";

/// Runs git in `dir` with a fixed identity; panics with its output on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.org")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.org")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap_or_else(|e| panic!("git is needed by this test (install the `git` package): {e}"));
    assert!(
        output.status.success(),
        "git {args:?} in {}: {}{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A bare repository at `path`.
pub fn bare(path: &Path) -> PathBuf {
    std::fs::create_dir_all(path).unwrap();
    git(path, &["init", "--bare", "-q", "-b", "main"]);
    path.to_path_buf()
}

/// A work repository at `path` on branch `main`, with an identity, and
/// `origin` pointing at `remote` when given.
pub fn work(path: &Path, remote: Option<&str>) -> PathBuf {
    std::fs::create_dir_all(path).unwrap();
    git(path, &["init", "-q", "-b", "main"]);
    git(path, &["config", "user.name", "Mainteneur"]);
    git(path, &["config", "user.email", "release@openent.example"]);
    if let Some(remote) = remote {
        git(path, &["remote", "add", "origin", remote]);
    }
    path.to_path_buf()
}

/// Writes `files` (path, text) under `repo` and commits them all.
pub fn commit(repo: &Path, files: &[(&str, &str)], message: &str) {
    for (path, text) in files {
        let path = repo.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    for (path, _) in files {
        git(repo, &["add", path]);
    }
    git(repo, &["commit", "-q", "-m", message]);
}

/// The remote's references as `git ls-remote` prints them.
pub fn ls_remote(repo: &Path, remote: &str) -> String {
    git(repo, &["ls-remote", remote])
}

/// Installs an executable hook in a bare repository.
pub fn hook(bare: &Path, name: &str, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = bare.join("hooks").join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `git daemon` serving the bare repositories under `base` on loopback,
/// pushes allowed. Stopped when dropped.
pub struct GitDaemon {
    child: Child,
    pub port: u16,
}

impl crate::support::Test {
    /// A `git daemon` on loopback serving the test's `git/` folder.
    pub fn git_daemon(&self) -> GitDaemon {
        GitDaemon::start(&self.path().join("git"))
    }
}

impl GitDaemon {
    pub fn start(base: &Path) -> GitDaemon {
        Self::spawn(base, None)
    }

    /// With `--access-hook=HOOK`: git runs `HOOK SERVICE REPO-PATH …` on
    /// each connection, before the service (`upload-pack`, `receive-pack`)
    /// answers; a test uses it to change the repository at that moment.
    pub fn start_with_access_hook(base: &Path, hook: &Path) -> GitDaemon {
        Self::spawn(base, Some(hook))
    }

    fn spawn(base: &Path, access_hook: Option<&Path>) -> GitDaemon {
        std::fs::create_dir_all(base).unwrap();
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new("git")
                .args([
                    "daemon",
                    "--export-all",
                    "--enable=receive-pack",
                    "--reuseaddr",
                    "--listen=127.0.0.1",
                    &format!("--port={port}"),
                    &format!("--base-path={}", base.display()),
                ])
                .args(access_hook.map(|h| format!("--access-hook={}", h.display())))
                .arg(base)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("`git daemon` is needed by this test (the `git` package): {e}")
                });
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return GitDaemon { child, port };
                }
                if let Ok(Some(status)) = child.try_wait() {
                    // Lost the port race, or the daemon cannot run at all.
                    eprintln!("git daemon exited with {status}; retrying");
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            stop_gracefully(&mut child);
        }
        panic!("`git daemon` did not start: is git's daemon installed (`git daemon --help`)?");
    }

    /// `git://127.0.0.1:PORT/NAME`.
    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        stop_gracefully(&mut self.child);
    }
}

/// `git http-backend` serving the bare repositories under `base` over smart
/// HTTP on 127.0.0.1, as forges self-host it: a real nginx passes requests
/// over FastCGI to fcgiwrap, which runs the backend as a CGI script. nginx
/// sets `REMOTE_USER` (an authenticated user for the backend, which is what
/// enables receive-pack, i.e. pushes) and `GIT_HTTP_EXPORT_ALL`. Its files
/// (configuration, socket, logs) live in `work`; both processes are stopped
/// when dropped.
pub struct GitHttp {
    nginx: Child,
    fcgiwrap: Child,
    pub port: u16,
    work: PathBuf,
}

/// What makes [`GitHttp`] a forge's https: a certificate and its key (PEM),
/// and an htpasswd file nginx checks every request against (HTTP basic
/// authentication; the user becomes the backend's `REMOTE_USER`).
pub struct Tls {
    pub certificate: PathBuf,
    pub key: PathBuf,
    pub htpasswd: PathBuf,
}

impl GitHttp {
    /// Fails (never skips) when nginx, fcgiwrap or `git http-backend` is
    /// missing, or when a request does not reach the backend.
    pub fn start(base: &Path, work: &Path) -> GitHttp {
        Self::spawn(base, work, None)
    }

    /// Over https with basic authentication.
    pub fn start_tls(base: &Path, work: &Path, tls: &Tls) -> GitHttp {
        Self::spawn(base, work, Some(tls))
    }

    fn spawn(base: &Path, work: &Path, tls: Option<&Tls>) -> GitHttp {
        assert!(
            Path::new(NGINX).is_file(),
            "{NGINX} is missing: run .ci/setup (it installs nginx), then the tests again"
        );
        assert!(
            Path::new(FCGIWRAP).is_file(),
            "{FCGIWRAP} is missing: run .ci/setup (it installs fcgiwrap), then the tests again"
        );
        let exec_path = git(Path::new("/"), &["--exec-path"]);
        let backend = Path::new(exec_path.trim()).join("git-http-backend");
        assert!(
            backend.is_file(),
            "{} is missing: `git http-backend` comes with git (run .ci/setup), then the tests again",
            backend.display()
        );
        std::fs::create_dir_all(base).unwrap();
        std::fs::create_dir_all(work.join("tmp")).unwrap();
        let socket = work.join("fcgiwrap.sock");
        let _ = std::fs::remove_file(&socket);
        // fcgiwrap stays in the foreground; one process serves the requests
        // of a push (`info/refs`, then `git-receive-pack`) one after the other.
        let mut fcgiwrap = Command::new(FCGIWRAP)
            .arg("-f")
            .arg("-s")
            .arg(format!("unix:{}", socket.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(work.join("fcgiwrap.log")).unwrap(),
            ))
            .spawn()
            .unwrap_or_else(|e| panic!("{FCGIWRAP} does not start: {e}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            if let Ok(Some(status)) = fcgiwrap.try_wait() {
                panic!(
                    "fcgiwrap exited with {status}: {}",
                    std::fs::read_to_string(work.join("fcgiwrap.log")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "fcgiwrap did not create its socket {}",
                socket.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // If nginx cannot start, fcgiwrap must not outlive the test.
        struct StopOnPanic(Option<Child>);
        impl Drop for StopOnPanic {
            fn drop(&mut self) {
                if let Some(child) = &mut self.0 {
                    stop_gracefully(child);
                }
            }
        }
        let mut guard = StopOnPanic(Some(fcgiwrap));
        let (nginx, port) = start_nginx(work, |port| {
            let conf = http_backend_conf(base, work, &socket, &backend, port, tls);
            std::fs::write(work.join("nginx.conf"), conf).unwrap();
        });
        let server = GitHttp {
            nginx,
            fcgiwrap: guard.0.take().expect("fcgiwrap is running"),
            port,
            work: work.to_path_buf(),
        };
        if tls.is_none() {
            server.check_reaches_backend();
        }
        server
    }

    /// `http://127.0.0.1:PORT/NAME`.
    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }

    /// `https://127.0.0.1:PORT/NAME`.
    pub fn https_url(&self, name: &str) -> String {
        format!("https://127.0.0.1:{}/{name}", self.port)
    }

    /// The access log's lines so far: `METHOD URI STATUS`.
    pub fn access_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.work.join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// A request for a repository that does not exist must be answered by
    /// `git http-backend` itself (its 404 carries git's no-cache headers),
    /// not by nginx failing to reach fcgiwrap (502) or the backend.
    fn check_reaches_backend(&self) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        std::io::Write::write_all(
            &mut stream,
            b"GET /oent-probe.git/info/refs HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        let mut answer = String::new();
        let _ = std::io::Read::read_to_string(&mut stream, &mut answer);
        assert!(
            answer.starts_with("HTTP/1.1 404") && answer.contains("Expires: Fri, 01 Jan 1980"),
            "nginx does not reach `git http-backend` through fcgiwrap: {}\nnginx's error log:\n{}\nfcgiwrap's:\n{}",
            answer.lines().next().unwrap_or("no answer"),
            std::fs::read_to_string(self.work.join("error.log")).unwrap_or_default(),
            std::fs::read_to_string(self.work.join("fcgiwrap.log")).unwrap_or_default()
        );
    }
}

impl Drop for GitHttp {
    fn drop(&mut self) {
        stop_gracefully(&mut self.nginx);
        stop_gracefully(&mut self.fcgiwrap);
    }
}

/// nginx in front of `git http-backend`. Workers run as root when nginx is
/// started by root (they must open fcgiwrap's socket in `work`); otherwise
/// `user` is ignored and everything runs as the test's user.
fn http_backend_conf(
    base: &Path,
    work: &Path,
    socket: &Path,
    backend: &Path,
    port: u16,
    tls: Option<&Tls>,
) -> String {
    let w = work.display();
    let (listen, user) = match tls {
        None => (format!("listen 127.0.0.1:{port};"), "oent-test".to_owned()),
        Some(tls) => (
            format!(
                "listen 127.0.0.1:{port} ssl;\n        ssl_certificate {};\n        ssl_certificate_key {};\n        auth_basic git;\n        auth_basic_user_file {};",
                tls.certificate.display(),
                tls.key.display(),
                tls.htpasswd.display()
            ),
            "$remote_user".to_owned(),
        ),
    };
    format!(
        r#"user root;
worker_processes 1;
error_log {w}/error.log warn;
events {{ worker_connections 64; }}
http {{
    log_format oent '$request_method $request_uri $status';
    access_log {w}/access.log oent;
    client_body_temp_path {w}/tmp/body;
    proxy_temp_path {w}/tmp/proxy;
    fastcgi_temp_path {w}/tmp/fastcgi;
    uwsgi_temp_path {w}/tmp/uwsgi;
    scgi_temp_path {w}/tmp/scgi;
    server {{
        {listen}
        client_max_body_size 0;
        location / {{
            fastcgi_pass unix:{socket};
            fastcgi_param SCRIPT_FILENAME {backend};
            fastcgi_param GIT_PROJECT_ROOT {base};
            fastcgi_param GIT_HTTP_EXPORT_ALL "";
            fastcgi_param REMOTE_USER {user};
            fastcgi_param PATH_INFO $uri;
            fastcgi_param QUERY_STRING $query_string;
            fastcgi_param REQUEST_METHOD $request_method;
            fastcgi_param CONTENT_TYPE $content_type;
            fastcgi_param CONTENT_LENGTH $content_length;
            fastcgi_param SERVER_PROTOCOL $server_protocol;
            fastcgi_param REMOTE_ADDR $remote_addr;
        }}
    }}
}}
"#,
        socket = socket.display(),
        backend = backend.display(),
        base = base.display()
    )
}

/// A certificate authority made for the test with `openssl`, a server
/// certificate it signs for 127.0.0.1, and an htpasswd file for `user`
/// (`openssl passwd -apr1`, which nginx reads), all under `dir`. Returns the
/// server's material and the CA's certificate (what a client must trust).
pub fn test_tls(dir: &Path, user: &str, password: &str) -> (Tls, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let openssl = |args: &[&str]| {
        tools::run(
            Command::new(tools::required("openssl", "openssl"))
                .current_dir(dir)
                .args(args),
        )
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut args = vec!["req", "-x509", "-days", "2", "-subj", "/CN=oent test CA"];
    args.extend(ec);
    args.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
    openssl(&args);
    let mut args = vec!["req", "-subj", "/CN=127.0.0.1"];
    args.extend(ec);
    args.extend(["-keyout", "server.key", "-out", "server.csr"]);
    openssl(&args);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.pem",
    ]);
    let hash = openssl(&["passwd", "-apr1", password]);
    std::fs::write(dir.join("htpasswd"), format!("{user}:{}", hash.trim())).unwrap();
    (
        Tls {
            certificate: dir.join("server.pem"),
            key: dir.join("server.key"),
            htpasswd: dir.join("htpasswd"),
        },
        dir.join("ca.pem"),
    )
}

//! Real git repositories for release tests: a work repository whose remote
//! is a bare repository on disk, or one served by `git daemon` on loopback
//! (with receive-pack enabled, so hooks run as on a real server). The git
//! command line sets them up; a missing `git` or `git daemon` fails the test.

#![allow(dead_code)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{free_port, stop_gracefully};

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

impl GitDaemon {
    pub fn start(base: &Path) -> GitDaemon {
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
                    &base.display().to_string(),
                ])
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

//! git over ssh on loopback, as a forge serves it: Debian's `sshd` with a
//! configuration, host key and authorised key of the test's own, on a free
//! port, run by the test's user (root in CI: sshd needs it for its
//! privilege separation); and a test `ssh-agent` holding the client's key,
//! found through `SSH_AUTH_SOCK` as a workstation's is. The client's
//! settings (known hosts, strict checking) are an ssh configuration file
//! the test passes in `GIT_SSH_COMMAND`, as a user's `~/.ssh/config` is.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::tools::required;
use crate::support::{free_port, stop_gracefully};

/// Where Debian's `openssh-server` package installs it.
pub const SSHD: &str = "/usr/sbin/sshd";

fn keygen(path: &Path, comment: &str) {
    let _ = std::fs::remove_file(path);
    let status = Command::new(required("ssh-keygen", "openssh-client"))
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "ssh-keygen failed");
}

/// The `SHA256:…` fingerprint of a public key file.
pub fn fingerprint(public: &Path) -> String {
    let output = Command::new(required("ssh-keygen", "openssh-client"))
        .arg("-lf")
        .arg(public)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace().nth(1).unwrap().to_owned()
}

/// The user the test runs as, whom sshd lets in with the test key.
pub fn user() -> String {
    let output = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

pub struct Sshd {
    child: Child,
    pub port: u16,
    /// The host's public key (`host_ed25519.pub`).
    pub host_public: PathBuf,
}

impl Sshd {
    /// sshd in the foreground, its files under `dir`, letting in the
    /// holder of `authorized` (a public key file).
    pub fn start(dir: &Path, authorized: &Path) -> Sshd {
        assert!(
            Path::new(SSHD).is_file(),
            "{SSHD} is missing: run .ci/setup (it installs openssh-server), then the tests again"
        );
        std::fs::create_dir_all(dir).unwrap();
        // sshd's privilege separation directory (Debian's service creates it).
        let _ = std::fs::create_dir_all("/run/sshd");
        let host_key = dir.join("host_ed25519");
        keygen(&host_key, "oent-test-host");
        for _ in 0..5 {
            let port = free_port();
            let config = dir.join("sshd_config");
            std::fs::write(
                &config,
                format!(
                    "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\n\
                     AuthorizedKeysFile {}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n\
                     KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nLogLevel VERBOSE\n",
                    host_key.display(),
                    dir.join("sshd.pid").display(),
                    authorized.display()
                ),
            )
            .unwrap();
            let mut child = Command::new(SSHD)
                .args(["-D", "-e", "-f"])
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::from(
                    std::fs::File::create(dir.join("sshd.log")).unwrap(),
                ))
                .spawn()
                .unwrap_or_else(|e| panic!("{SSHD} does not start: {e}"));
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Sshd {
                        child,
                        port,
                        host_public: dir.join("host_ed25519.pub"),
                    };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            stop_gracefully(&mut child);
        }
        panic!(
            "sshd did not start; its log:\n{}",
            std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default()
        );
    }

    /// `ssh://USER@127.0.0.1:PORT/ABSOLUTE/PATH`.
    pub fn url(&self, repository: &Path) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            user(),
            self.port,
            repository.display()
        )
    }

    /// The line of a known_hosts file that trusts this server.
    pub fn known_hosts_line(&self) -> String {
        let key = std::fs::read_to_string(&self.host_public).unwrap();
        let mut fields = key.split_whitespace();
        let (kind, blob) = (fields.next().unwrap(), fields.next().unwrap());
        format!("[127.0.0.1]:{} {kind} {blob}\n", self.port)
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        stop_gracefully(&mut self.child);
    }
}

/// A test `ssh-agent` holding a fresh key (`dir/id_ed25519`).
pub struct SshAgent {
    child: Child,
    pub socket: PathBuf,
    pub public: PathBuf,
}

impl SshAgent {
    pub fn start(dir: &Path) -> SshAgent {
        std::fs::create_dir_all(dir).unwrap();
        let key = dir.join("id_ed25519");
        keygen(&key, "oent-test-client");
        let socket = dir.join("agent.sock");
        let _ = std::fs::remove_file(&socket);
        let mut child = Command::new(required("ssh-agent", "openssh-client"))
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            if Instant::now() > deadline {
                stop_gracefully(&mut child);
                panic!("ssh-agent did not create {}", socket.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let status = Command::new(required("ssh-add", "openssh-client"))
            .arg("-q")
            .arg(&key)
            .env("SSH_AUTH_SOCK", &socket)
            .stdin(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "ssh-add failed");
        SshAgent {
            child,
            socket,
            public: dir.join("id_ed25519.pub"),
        }
    }
}

impl Drop for SshAgent {
    fn drop(&mut self) {
        stop_gracefully(&mut self.child);
    }
}

/// An ssh client configuration trusting only `known_hosts`, strictly, and
/// the value of `GIT_SSH_COMMAND` that uses it.
pub fn client(dir: &Path, known_hosts: &Path) -> String {
    let config = dir.join("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host *\n  UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n  \
             StrictHostKeyChecking yes\n  PasswordAuthentication no\n",
            known_hosts.display()
        ),
    )
    .unwrap();
    format!("ssh -F {}", config.display())
}

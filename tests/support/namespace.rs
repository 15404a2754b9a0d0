//! A network and a mount namespace per run, as a container runtime would
//! give the services of a bundle: the start tests run the real daemons
//! (Debian's slapd, Dovecot, Postfix, MariaDB, PostgreSQL, nginx, PyPI's
//! Synapse) each on its real port on the namespace's own loopback, with the
//! bundle's files bind-mounted at the paths its deployment contract names,
//! and `/etc/hosts` mapping the bundle's service names to that loopback.
//! Nothing is reachable from outside the namespace and nothing it mounts is
//! seen outside it, so a port already taken on the machine or a daemon's
//! files under `/etc` or `/var` never clash with the host's.
//!
//! How: a holder process (`unshare --net --mount --propagation private`)
//! owns the two namespaces; every setup step, daemon and client is started
//! in them with `nsenter`, so daemons are children of the test (their output
//! goes to a log file each, shown when something fails) and are stopped when
//! the [`Namespace`] is dropped. CI runs as root, which `unshare` needs; the
//! test fails (it never skips) elsewhere.
//!
//! ```ignore
//! let mut ns = Namespace::new(&["openent-annuaire", "openent-messagerie"]);
//! ns.bind_ro(&bundle.join("conf/openent-annuaire/slapd.ldif"), "/etc/ldap/seed.ldif");
//! ns.writable("/var/lib/ldap");
//! ns.run(ns.command("slapadd").args(["-n1", "-F", …]));
//! ns.start("slapd", ns.command("slapd").args(["-d", "0", "-h", "ldap://:1389/", …]));
//! ns.wait_for_port("slapd", 1389);
//! let found = ns.run(ns.command("ldapsearch").args([…]));
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::tools;

/// How long a daemon may take to open its port: Synapse and MariaDB's first
/// start take a few seconds on a loaded 2-core CI machine.
const START_TIMEOUT: Duration = Duration::from_secs(90);

pub struct Namespace {
    holder: Child,
    /// Scratch space outside the namespace: the hosts file, daemons' logs,
    /// and the folders behind [`Namespace::writable`].
    scratch: tempfile::TempDir,
    daemons: Vec<Daemon>,
}

struct Daemon {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Namespace {
    /// New namespaces with loopback up and `/etc/hosts` naming `localhost`
    /// and every one of `hosts` as 127.0.0.1.
    pub fn new(hosts: &[&str]) -> Namespace {
        let unshare = tools::required("unshare", "util-linux");
        tools::required("nsenter", "util-linux");
        let scratch = tempfile::Builder::new()
            .prefix("oent-ns-")
            .tempdir()
            .expect("scratch folder");
        let holder = Command::new(unshare)
            .args([
                "--net",
                "--mount",
                "--propagation",
                "private",
                "sleep",
                "infinity",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("unshare starts");
        let mut ns = Namespace {
            holder,
            scratch,
            daemons: Vec::new(),
        };
        ns.wait_until_unshared();
        ns.run(ns.command("ip").args(["link", "set", "lo", "up"]));
        let mut names = vec!["localhost".to_owned()];
        names.extend(hosts.iter().map(|h| (*h).to_owned()));
        let hosts_file = ns.scratch.path().join("hosts");
        fs::write(
            &hosts_file,
            format!("127.0.0.1 {}\n::1 localhost\n", names.join(" ")),
        )
        .unwrap();
        ns.bind_ro(&hosts_file, "/etc/hosts");
        ns
    }

    /// `unshare` has made the namespaces once its network namespace differs
    /// from ours; before that, an `nsenter` would join the host's.
    fn wait_until_unshared(&mut self) {
        let ours = fs::read_link("/proc/self/ns/net").expect("our network namespace");
        let theirs = format!("/proc/{}/ns/net", self.holder.id());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if fs::read_link(&theirs).is_ok_and(|ns| ns != ours) {
                return;
            }
            if let Ok(Some(status)) = self.holder.try_wait() {
                let mut why = String::new();
                if let Some(mut err) = self.holder.stderr.take() {
                    std::io::Read::read_to_string(&mut err, &mut why).ok();
                }
                panic!(
                    "`unshare --net --mount` failed ({status}): {why}\n\
                     the start tests need root (CI runs as root): run them with sudo"
                );
            }
            assert!(
                Instant::now() < deadline,
                "unshare did not make its namespaces"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A command run inside the namespaces (`nsenter` execs it in place, so
    /// a spawned daemon's pid is the daemon's).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("nsenter");
        command
            .arg(format!("--target={}", self.holder.id()))
            .args(["--net", "--mount", "--"])
            .arg(program);
        command
    }

    /// Runs `command` to the end, failing with its output (and every
    /// daemon's log tail) unless it succeeds; returns its stdout.
    pub fn run(&self, command: &mut Command) -> String {
        let shown = format!("{command:?}");
        let output = command
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{shown} does not start: {e}"));
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            panic!(
                "{shown} failed ({}):\n{stdout}\n{}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr),
                self.logs()
            );
        }
        stdout
    }

    /// Mounts `source` (a file or a folder of the bundle) read-only at
    /// `target` inside the namespace, creating the mount point, as a
    /// container runtime mounts a volume `source:target:ro`.
    pub fn bind_ro(&self, source: &Path, target: &str) {
        self.mount_point(source.is_dir(), target);
        self.run(self.command("mount").arg("--bind").arg(source).arg(target));
        self.run(
            self.command("mount")
                .args(["-o", "remount,bind,ro", target]),
        );
    }

    /// An empty writable folder at `target` (a data volume, a daemon's run
    /// folder), hiding whatever the host has there; returns where it is
    /// seen from outside, to read what the daemon wrote.
    pub fn writable(&self, target: &str) -> PathBuf {
        let outside = self
            .scratch
            .path()
            .join("volumes")
            .join(target.trim_start_matches('/').replace('/', "_"));
        fs::create_dir_all(&outside).unwrap();
        self.mount_point(true, target);
        self.run(
            self.command("mount")
                .arg("--bind")
                .arg(&outside)
                .arg(target),
        );
        outside
    }

    fn mount_point(&self, folder: bool, target: &str) {
        if folder {
            self.run(self.command("mkdir").args(["-p", target]));
        } else {
            let parent = Path::new(target).parent().expect("an absolute path");
            self.run(self.command("mkdir").arg("-p").arg(parent));
            // A file already there (one mounted read-only before, to be
            // mounted over) is the mount point as it is.
            let exists = self
                .command("test")
                .args(["-e", target])
                .status()
                .is_ok_and(|s| s.success());
            if !exists {
                self.run(self.command("touch").arg(target));
            }
        }
    }

    /// Starts a daemon in the foreground (its own flag for that: `-d 0`,
    /// `-F`, `start-fg`, `daemon off;`), its output to a log kept for
    /// failures. Stopped when the namespace is dropped.
    pub fn start(&mut self, name: &str, command: &mut Command) {
        let log = self.scratch.path().join(format!("{name}.log"));
        let out = fs::File::create(&log).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("{name} does not start: {e}"));
        self.daemons.push(Daemon {
            name: name.to_owned(),
            child,
            log,
        });
    }

    /// Waits until something accepts TCP connections on `port` of the
    /// namespace's loopback; fails with the daemon's log if it exited or
    /// the time ran out.
    pub fn wait_for_port(&mut self, name: &str, port: u16) {
        let deadline = Instant::now() + START_TIMEOUT;
        let probe = format!("exec 3<>/dev/tcp/127.0.0.1/{port}");
        loop {
            let open = self
                .command("bash")
                .args(["-c", &probe])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if open {
                return;
            }
            if let Some(daemon) = self.daemons.iter_mut().find(|d| d.name == name)
                && let Ok(Some(status)) = daemon.child.try_wait()
            {
                panic!(
                    "{name} exited ({status}) before opening port {port}:\n{}",
                    self.logs()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not open port {port} within {START_TIMEOUT:?}:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The last lines of every daemon's log, for a failure message.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        for daemon in &self.daemons {
            let log = fs::read_to_string(&daemon.log).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(30)..];
            text.push_str(&format!(
                "--- {} (last lines) ---\n{}\n",
                daemon.name,
                tail.join("\n")
            ));
        }
        text
    }

    /// A second network namespace linked to this one by a veth pair, for a
    /// client on another machine of the network (a daemon trusts its own
    /// addresses, as Postfix's `mynetworks_style = host` does): this side is
    /// [`REMOTE_SERVER`], the client's [`REMOTE_CLIENT`]; it shares this
    /// namespace's files. Stopped with the namespace.
    pub fn remote(&mut self) -> Remote {
        let holder = self
            .command("unshare")
            .args(["--net", "sleep", "infinity"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("unshare starts");
        let pid = holder.id();
        self.daemons.push(Daemon {
            name: "remote network".to_owned(),
            child: holder,
            log: self.scratch.path().join("remote.log"),
        });
        // Made once the process is in neither this namespace's network nor
        // the host's (nsenter has not joined ours yet at first).
        let ours = fs::read_link(format!("/proc/{}/ns/net", self.holder.id())).unwrap();
        let host = fs::read_link("/proc/self/ns/net").unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !fs::read_link(format!("/proc/{pid}/ns/net")).is_ok_and(|ns| ns != ours && ns != host)
        {
            assert!(
                Instant::now() < deadline,
                "unshare did not make the remote network"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        self.run(
            self.command("ip")
                .args([
                    "link", "add", "oent-srv", "type", "veth", "peer", "name", "oent-cli", "netns",
                ])
                .arg(pid.to_string()),
        );
        self.run(self.command("ip").args([
            "addr",
            "add",
            &format!("{REMOTE_SERVER}/24"),
            "dev",
            "oent-srv",
        ]));
        self.run(self.command("ip").args(["link", "set", "oent-srv", "up"]));
        let remote = Remote { pid };
        for step in [
            vec![
                "addr",
                "add",
                &format!("{REMOTE_CLIENT}/24"),
                "dev",
                "oent-cli",
            ],
            vec!["link", "set", "oent-cli", "up"],
            vec!["link", "set", "lo", "up"],
        ] {
            self.run(remote.command("ip").args(step));
        }
        remote
    }

    /// `program` as compose runs a service's image (docs/render.md,
    /// "Security"): as its `user` `uid:gid`, and with `read_only` on a
    /// read-only root but its `tmpfs` folders ([`Namespace::command_contained`]),
    /// else on this namespace's root ([`Namespace::command_as`]).
    pub fn command_of_service(
        &self,
        (uid, gid): (u32, u32),
        read_only: bool,
        tmpfs: &[String],
        program: impl AsRef<std::ffi::OsStr>,
    ) -> Command {
        if read_only {
            self.command_contained(uid, gid, tmpfs, program)
        } else {
            self.command_as(uid, gid, program)
        }
    }

    /// A command run inside the namespaces as `uid:gid` with no other
    /// group (`setpriv`), as a container runs its image under the contract's
    /// `security.user` / `group` (docs/render.md, "Security").
    fn command_as(&self, uid: u32, gid: u32, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = self.command("setpriv");
        command
            .arg(format!("--reuid={uid}"))
            .arg(format!("--regid={gid}"))
            .args(["--clear-groups", "--"])
            .arg(program);
        command
    }

    /// `program` as a container of the contract runs it (docs/render.md,
    /// "Security"): as `uid:gid`, the root filesystem read-only, a fresh
    /// tmpfs at each of `writable` that the test has not already made a
    /// folder of its own (a socket folder its clients share stays) and that
    /// exists here (an image's own path, `/opt/bitnami/…`, is nothing to
    /// Debian's daemon, and is never created on the machine). In a
    /// mount namespace of its own inside this one, so that the test itself
    /// still writes; `unshare` and `sh` exec in place: the pid is the daemon's.
    fn command_contained(
        &self,
        uid: u32,
        gid: u32,
        writable: &[String],
        program: impl AsRef<std::ffi::OsStr>,
    ) -> Command {
        let mut script = String::from("set -e\n");
        for path in writable {
            assert!(
                !path.contains('\''),
                "{path}: a writable path the test cannot quote"
            );
            script.push_str(&format!(
                "if [ -d '{path}' ] && ! mountpoint -q '{path}'; then mount -t tmpfs -o mode=1777 tmpfs '{path}'; fi\n"
            ));
        }
        script.push_str(&format!(
            "mount -o remount,bind,ro /\nexec setpriv --reuid={uid} --regid={gid} --clear-groups -- \"$@\"\n"
        ));
        let mut command = self.command("unshare");
        command
            .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg(script)
            .arg("sh")
            .arg(program);
        command
    }

    /// Names `uid:gid` `name` inside the namespace, as the image's own
    /// /etc/passwd and /etc/group do (the postgres image's postgres is 999,
    /// Debian's another): copies of the namespace's files, the former lines
    /// of that name or number replaced, bound over them. A daemon that looks up its own UID
    /// (initdb does) finds it.
    pub fn add_user(&self, name: &str, uid: u32, gid: u32) {
        for (file, line) in [
            (
                "passwd",
                format!("{name}:x:{uid}:{gid}:{name}:/nonexistent:/usr/sbin/nologin"),
            ),
            ("group", format!("{name}:x:{gid}:")),
        ] {
            let target = format!("/etc/{file}");
            let current = self.run(self.command("cat").arg(&target));
            // One name per UID (MariaDB's and PostgreSQL's images both use 999).
            let id = line.split(':').nth(2).unwrap().to_owned();
            let mut text: String = current
                .lines()
                .filter(|l| l.split(':').next() != Some(name) && l.split(':').nth(2) != Some(&id))
                .map(|l| format!("{l}\n"))
                .collect();
            text.push_str(&line);
            text.push('\n');
            let copy = self.scratch.path().join(format!("{file}-{name}"));
            fs::write(&copy, text).unwrap();
            self.bind_ro(&copy, &target);
        }
    }

    /// Gives `targets` (folders the test made writable) to `uid:gid`, as a
    /// volume's `fsGroup` and the image's ownership of its folders would.
    pub fn chown(&self, uid: u32, gid: u32, targets: &[&str]) {
        self.run(
            self.command("chown")
                .arg("-R")
                .arg(format!("{uid}:{gid}"))
                .args(targets),
        );
    }

    /// Where the scratch space is (to write a test's own files, certificates).
    pub fn scratch(&self) -> &Path {
        self.scratch.path()
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        // TERM first so that daemons remove their pid and socket files, then
        // KILL whatever is still there.
        for daemon in &self.daemons {
            signal(daemon.child.id(), libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for daemon in &mut self.daemons {
            while Instant::now() < deadline {
                if matches!(daemon.child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            daemon.child.kill().ok();
            daemon.child.wait().ok();
        }
        // Daemons that fork (and so outlive the child we hold) die with the
        // network namespace's last process: kill everything still in it.
        if let Ok(pids) = pids_in_namespace(self.holder.id()) {
            for pid in pids {
                signal(pid, libc::SIGKILL);
            }
        }
        self.holder.kill().ok();
        self.holder.wait().ok();
    }
}

/// This namespace's address on the network [`Namespace::remote`] makes.
pub const REMOTE_SERVER: &str = "192.0.2.1";
/// The remote client's address.
pub const REMOTE_CLIENT: &str = "192.0.2.25";

/// A client's network namespace (see [`Namespace::remote`]).
pub struct Remote {
    pid: u32,
}

impl Remote {
    /// A command run on the remote client's network, with the namespace's files.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("nsenter");
        command
            .arg(format!("--target={}", self.pid))
            .args(["--net", "--mount", "--"])
            .arg(program);
        command
    }
}

fn signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) takes plain integers; a pid that has gone is ESRCH.
    unsafe { libc::kill(pid as libc::pid_t, signal) };
}

/// Every process whose network namespace is the holder's.
fn pids_in_namespace(holder: u32) -> std::io::Result<Vec<u32>> {
    let ns = fs::read_link(format!("/proc/{holder}/ns/net"))?;
    let mut pids = Vec::new();
    for entry in fs::read_dir("/proc")? {
        let Some(pid) = entry?
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != holder && fs::read_link(format!("/proc/{pid}/ns/net")).is_ok_and(|n| n == ns) {
            pids.push(pid);
        }
    }
    Ok(pids)
}

//! A small builder for tests that drive the `oent` binary like a user, in
//! the spirit of just's `tests/test.rs`:
//!
//! ```ignore
//! Test::new()
//!     .write("modules/openent/demo/module.yaml", "
//!         schema: oent/module/v1
//!         …
//!     ")
//!     .args(["lint", "modules"])
//!     .run()
//!     .status(1)
//!     .stdout_is("…");
//! ```
//!
//! Each test gets its own temporary directory, which is the current
//! directory of the command. Outputs have that directory's path replaced by
//! `[ROOT]`, so that expected outputs can be written out in full.
//!
//! This builder is the one way tests run `oent`. Every run is hermetic by
//! default: its download cache is private (`[ROOT]/.oent-cache`, through
//! `OENT_CACHE_DIR`), so no test reads or fills the developer's own cache
//! nor depends on `HOME`; its standard input is empty; nothing of the
//! developer's environment that changes oent's behaviour gets through (the
//! `OENT_*` variables such as a token, `SOURCE_DATE_EPOCH`, `CI_JOB_TOKEN`,
//! proxies, forced colours). A test that needs one sets it with `.env()`,
//! which wins over the defaults. [`Test::at`] runs in a directory the test
//! already has (a forge's), with the same defaults.
//!
//! Around it: `.under(wrapper)` runs oent under strace or `sh -c 'ulimit …'`,
//! `.spawn()` starts one to kill midway; `forge_support` adds `.forge(&forge)`
//! (`--to` a running `oent forge serve`, as a publisher), `git_support`
//! `.git_daemon()` (a `git daemon` over the test's `git/`), `http_support`
//! `Fixture::nginx()` (nginx over a fixture registry); `support::tools`
//! starts nginx for everything else. Expected outputs are written in full
//! (`stdout_is`, `stderr_is`, with `[ROOT]`) where the output is short and
//! stable, `_contains` where only a line of it is the point.

// Each test file uses a different part of this module.
#![allow(dead_code)]

pub mod compose;
pub mod namespace;
pub mod registry;
pub mod slapd;
pub mod tools;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The `oent` binary built by cargo for these tests.
pub fn oent() -> &'static Path {
    assert_cmd::cargo::cargo_bin!("oent")
}

/// Removes the common leading indentation of `text`, and the first line when
/// it is empty, so that inline files can be indented with the test code:
/// `unindent("\n    a:\n      b: 1\n")` is `"a:\n  b: 1\n"`. Lines holding
/// only white space become empty.
pub fn unindent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if line.trim().is_empty() {
            // Keep the line break (if any) of a blank line, drop its spaces.
            out.push_str(if line.ends_with('\n') { "\n" } else { "" });
        } else {
            out.push_str(&line[indent..]);
        }
    }
    out
}

/// Copies a directory tree (files and directories only).
/// `oent build` of `distribution`, a folder of the repository's `tree`
/// (`examples`, `tests/fixtures/start`), against a registry built from the
/// repository's modules/ where the distributions look for theirs (`tree` is
/// copied beside that `registry`, as examples/ is in the repository): the
/// tests that start or check the software see this tree's templates before
/// the catalogue is republished. The lock, which pins the published
/// archives, is dropped. Returns the temporary folder and the bundle in it.
pub fn build_from_modules(tree: &str, distribution: &str, args: &[&str]) -> (TempDir, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().unwrap();
    let copy = work.path().join(Path::new(tree).file_name().unwrap());
    copy_dir(&root.join(tree), &copy);
    let distribution = copy.join(distribution);
    Test::at(work.path())
        .args(["registry", "init", "registry", "--name", "openent"])
        .args(["--namespace", "openent"])
        .run()
        .status(0)
        .then()
        .args(["registry", "build"])
        .arg(root.join("modules"))
        .args(["--to", "registry"])
        .run()
        .status(0);
    std::fs::remove_file(distribution.join("oent.lock")).ok();
    let bundle = work.path().join("bundle");
    Test::at(work.path())
        .arg("build")
        .arg(&distribution)
        .arg("-o")
        .arg(&bundle)
        .arg_list(args)
        .run()
        .status(0);
    (work, bundle)
}

/// Runs `oent import aaf` in `work` over the fixture export of the Essonne
/// (tests/fixtures/aaf: its four complete files) for `distribution`, writing
/// the accounts to `out`, as an operator does before loading the directory.
pub fn import_aaf_fixture(work: &Path, distribution: &str, out: &str) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aaf");
    let mut import = Test::at(work).args(["import", "aaf"]);
    for kind in ["EtabEducNat", "Eleve", "PersRelEleve", "PersEducNat"] {
        import = import.arg(fixtures.join(format!("ENT_ESSONNE_Complet_20260901_{kind}_0000.xml")));
    }
    import
        .args(["--to", distribution, "--locked", "-o", out])
        .run()
        .status(0);
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The private download cache of every run, under its root directory.
pub const PRIVATE_CACHE: &str = ".oent-cache";

/// Variables of the developer's environment that change what oent does
/// (besides every `OENT_*` one): a run never inherits them.
const NOT_INHERITED: &[&str] = &[
    "SOURCE_DATE_EPOCH",
    "CI_JOB_TOKEN",
    "CLICOLOR_FORCE",
    "FORCE_COLOR",
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
];

/// The directory a command runs in: a temporary one the builder owns, or
/// one the test already has.
enum Root {
    Owned(TempDir),
    At(PathBuf),
}

impl Root {
    fn path(&self) -> &Path {
        match self {
            Root::Owned(dir) => dir.path(),
            Root::At(path) => path,
        }
    }
}

/// A change to the command's environment, applied in order.
enum EnvChange {
    Set(String, OsString),
    Remove(String),
}

/// A command to run in a fresh temporary directory.
pub struct Test {
    root: Root,
    args: Vec<OsString>,
    current_dir: PathBuf,
    env: Vec<EnvChange>,
    stdin: Vec<u8>,
    wrapper: Vec<OsString>,
}

impl Test {
    pub fn new() -> Self {
        Self::with_root(Root::Owned(
            tempfile::Builder::new()
                .prefix("oent-test-")
                .tempdir()
                .unwrap(),
        ))
    }

    /// A command run in `dir`, a directory the test already has (kept when
    /// the test ends); `[ROOT]` stands for it in outputs.
    pub fn at(dir: &Path) -> Self {
        Self::with_root(Root::At(dir.to_path_buf()))
    }

    fn with_root(root: Root) -> Self {
        Test {
            root,
            args: Vec::new(),
            current_dir: PathBuf::new(),
            env: Vec::new(),
            stdin: Vec::new(),
            wrapper: Vec::new(),
        }
    }

    /// The temporary directory.
    pub fn path(&self) -> &Path {
        self.root.path()
    }

    /// Writes a text file (unindented), creating its directories.
    pub fn write(self, path: &str, contents: &str) -> Self {
        self.write_bytes(path, unindent(contents).as_bytes())
    }

    /// Writes a file byte for byte, creating its directories.
    pub fn write_bytes(self, path: &str, contents: &[u8]) -> Self {
        let path = self.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    /// Creates an empty directory.
    pub fn create_dir(self, path: &str) -> Self {
        std::fs::create_dir_all(self.path().join(path)).unwrap();
        self
    }

    /// Copies a directory of the repository (e.g. a fixture) into `path`.
    pub fn copy(self, from: &Path, path: &str) -> Self {
        copy_dir(from, &self.path().join(path));
        self
    }

    /// One argument (a path, as it is).
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<const N: usize>(self, args: [&str; N]) -> Self {
        self.arg_list(&args)
    }

    /// Arguments of any length (a slice built by the test).
    pub fn arg_list(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(OsString::from));
        self
    }

    /// Runs the command in this subdirectory of the temporary directory
    /// (or in this directory, when the path is absolute).
    pub fn current_dir(mut self, path: impl AsRef<Path>) -> Self {
        self.current_dir = path.as_ref().to_path_buf();
        self
    }

    /// Sets a variable; it wins over the defaults (the private cache, …).
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push(EnvChange::Set(key.to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Removes a variable (`HOME`, to show that a run does not need it).
    pub fn env_remove(mut self, key: &str) -> Self {
        self.env.push(EnvChange::Remove(key.to_owned()));
        self
    }

    /// `$OENT_TOKEN`, as a publisher sets it.
    pub fn token(self, token: &str) -> Self {
        self.env("OENT_TOKEN", token)
    }

    /// What the command reads on its standard input (empty by default).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = bytes.into();
        self
    }

    /// Runs oent under another program: `wrapper`, then oent's path and
    /// the arguments (`strace -f -e inject=…` to kill it at a system call,
    /// `sh -c 'ulimit -v N; exec "$0" "$@"'` to bound its memory).
    pub fn under(mut self, wrapper: &[&str]) -> Self {
        self.wrapper = wrapper.iter().map(OsString::from).collect();
        self
    }

    /// The command as it will run: private cache, nothing inherited that
    /// changes oent's behaviour, then the test's own changes.
    fn command(&self) -> Command {
        let mut command = match self.wrapper.split_first() {
            Some((program, wrapper_args)) => {
                let mut command = Command::new(program);
                command.args(wrapper_args).arg(oent());
                command
            }
            None => Command::new(oent()),
        };
        command
            .args(&self.args)
            .current_dir(self.path().join(&self.current_dir))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, _) in std::env::vars_os() {
            if let Some(key) = key.to_str().filter(|k| k.starts_with("OENT_")) {
                command.env_remove(key);
            }
        }
        for key in NOT_INHERITED {
            command.env_remove(key);
        }
        command.env("OENT_CACHE_DIR", self.path().join(PRIVATE_CACHE));
        for change in &self.env {
            match change {
                EnvChange::Set(key, value) => command.env(key, value),
                EnvChange::Remove(key) => command.env_remove(key),
            };
        }
        command
    }

    /// Starts `oent` and returns at once, for a test that kills it midway
    /// (its outputs are not kept: the test looks at what it left on disk).
    pub fn spawn(self) -> std::process::Child {
        self.command()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", oent().display()))
    }

    /// Runs `oent` with the arguments; the temporary directory lives on in the output.
    pub fn run(mut self) -> Output {
        let started = Instant::now();
        let mut child = self
            .command()
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", oent().display()));
        let mut stdin = child.stdin.take().unwrap();
        let input = std::mem::take(&mut self.stdin);
        // A command may exit without reading its input: a broken pipe is fine.
        let writer = std::thread::spawn(move || {
            let _ = std::io::Write::write_all(&mut stdin, &input);
        });
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap();
        let elapsed = started.elapsed();
        let roots = roots(self.path());
        let clean = |bytes: &[u8]| {
            let mut text = String::from_utf8_lossy(bytes).into_owned();
            for root in &roots {
                text = text.replace(root.as_str(), "[ROOT]");
            }
            text
        };
        Output {
            stdout: clean(&output.stdout),
            stderr: clean(&output.stderr),
            code: output.status.code(),
            elapsed,
            root: self.root,
        }
    }
}

impl Default for Test {
    fn default() -> Self {
        Self::new()
    }
}

/// The spellings of the temporary directory that may appear in outputs,
/// longest first (the canonical path may go through a symbolic link).
fn roots(path: &Path) -> Vec<String> {
    let mut roots = vec![path.display().to_string()];
    if let Ok(canonical) = path.canonicalize() {
        roots.push(canonical.display().to_string());
    }
    roots.sort_by_key(|r| std::cmp::Reverse(r.len()));
    roots.dedup();
    roots
}

/// What a run printed and returned; assertions chain.
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    /// `None` when the process was killed by a signal.
    pub code: Option<i32>,
    pub elapsed: Duration,
    root: Root,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.context())
    }
}

impl Output {
    fn context(&self) -> String {
        format!(
            "exit: {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// Asserts the exit status (and that the process was not killed, nor panicked).
    #[track_caller]
    pub fn status(self, code: i32) -> Self {
        assert_eq!(self.code, Some(code), "\n{}", self.context());
        assert!(
            !self.stderr.contains("panicked"),
            "oent panicked\n{}",
            self.context()
        );
        self
    }

    /// Asserts the whole standard output (the expected text is unindented).
    #[track_caller]
    pub fn stdout_is(self, expected: &str) -> Self {
        let expected = unindent(expected);
        assert!(
            self.stdout == expected,
            "stdout differs\n--- expected ---\n{expected}--- actual ---\n{}--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_contains(self, part: impl AsRef<str>) -> Self {
        let part = part.as_ref();
        assert!(
            self.stdout.contains(part),
            "stdout does not contain {part:?}\n{}",
            self.context()
        );
        self
    }

    #[track_caller]
    pub fn stdout_lacks(self, part: &str) -> Self {
        assert!(
            !self.stdout.contains(part),
            "stdout contains {part:?}\n{}",
            self.context()
        );
        self
    }

    /// Asserts the whole standard error (the expected text is unindented).
    #[track_caller]
    pub fn stderr_is(self, expected: &str) -> Self {
        let expected = unindent(expected);
        assert!(
            self.stderr == expected,
            "stderr differs\n--- expected ---\n{expected}--- actual ---\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_contains(self, part: impl AsRef<str>) -> Self {
        let part = part.as_ref();
        assert!(
            self.stderr.contains(part),
            "stderr does not contain {part:?}\n{}",
            self.context()
        );
        self
    }

    #[track_caller]
    pub fn stderr_lacks(self, part: &str) -> Self {
        assert!(
            !self.stderr.contains(part),
            "stderr contains {part:?}\n{}",
            self.context()
        );
        self
    }

    /// The standard output parsed as JSON (`--format json`).
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", self.context()))
    }

    /// Another command in the same temporary directory (`oent new`, then `oent lint`).
    pub fn then(self) -> Test {
        Test::with_root(self.root)
    }

    /// The temporary directory the command ran in.
    pub fn path(&self) -> &Path {
        self.root.path()
    }

    /// Reads a file of the temporary directory.
    #[track_caller]
    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.path().join(path))
            .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
    }
}

/// A program from the test virtualenv that `.ci/setup` creates; a missing
/// tool fails the test, it never skips.
pub fn venv_tool(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".ci/venv/bin")
        .join(name);
    assert!(
        path.is_file(),
        "{} is missing: run .ci/setup (it installs the validators in .ci/venv), then the tests again",
        path.display()
    );
    path
}

/// The `script` of `job` of a GitLab CI file (`ci`, parsed), and the shell
/// that runs it as a GitLab runner does (stopping at the first line that
/// fails): in the checkout `project`, with `CI`, `CI_PROJECT_DIR`,
/// `OENT_DIST=dist`, the cache in `project/.oent-cache` as the template's
/// variables say, and `oent` on PATH as the image has it.
pub fn gitlab_job(
    ci: &serde_json::Value,
    job: &str,
    project: &Path,
    dist: impl AsRef<OsStr>,
) -> (String, Command) {
    let lines: Vec<&str> = ci[job]["script"]
        .as_array()
        .unwrap_or_else(|| panic!("the CI file has no {job}.script"))
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let script = format!("set -e\n{}\n", lines.join("\n"));
    let path = format!(
        "{}:{}",
        oent().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(&script)
        .current_dir(project)
        .env("PATH", path)
        .env("CI", "true")
        .env("CI_PROJECT_DIR", project)
        .env("OENT_DIST", dist)
        .env("OENT_CACHE_DIR", project.join(".oent-cache"));
    (script, command)
}

/// Runs [`gitlab_job`]; fails with the script and its output unless every
/// line succeeds.
pub fn run_gitlab_job(ci: &serde_json::Value, job: &str, project: &Path, dist: &str) {
    let (script, mut command) = gitlab_job(ci, job, project, dist);
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{job}:\n{script}\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every file under `dir` (recursively), sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Every file under `dir`, relative, with its bytes: what a bundle holds,
/// to compare before and after a build that must not touch it.
pub fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    walk(dir)
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            (path.strip_prefix(dir).unwrap().to_path_buf(), bytes)
        })
        .collect()
}

/// A port nothing listens on right now (a server started on it may still
/// lose a race: callers retry).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Stops a server process: SIGTERM lets an nginx master stop its workers
/// (SIGKILL would orphan them); SIGKILL only if it has not exited in 5 s.
pub fn stop_gracefully(child: &mut std::process::Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn unindent_removes_common_indentation() {
    assert_eq!(unindent("\n    a:\n      b: 1\n"), "a:\n  b: 1\n");
    assert_eq!(unindent("\n    a\n\n    b\n  "), "a\n\nb\n");
    assert_eq!(unindent("x: 1\n"), "x: 1\n");
    assert_eq!(unindent(""), "");
}

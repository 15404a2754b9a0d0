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

// Each test file uses a different part of this module.
#![allow(dead_code)]

pub mod registry;
pub mod tools;

use std::path::{Path, PathBuf};
use std::process::Command;
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

/// A command to run in a fresh temporary directory.
pub struct Test {
    tempdir: TempDir,
    args: Vec<String>,
    current_dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Test {
    pub fn new() -> Self {
        Test {
            tempdir: tempfile::Builder::new()
                .prefix("oent-test-")
                .tempdir()
                .unwrap(),
            args: Vec::new(),
            current_dir: PathBuf::new(),
            env: Vec::new(),
        }
    }

    /// The temporary directory.
    pub fn path(&self) -> &Path {
        self.tempdir.path()
    }

    /// Writes a text file (unindented), creating its directories.
    pub fn write(self, path: &str, contents: &str) -> Self {
        self.write_bytes(path, unindent(contents).as_bytes())
    }

    /// Writes a file byte for byte, creating its directories.
    pub fn write_bytes(self, path: &str, contents: &[u8]) -> Self {
        let path = self.tempdir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    /// Creates an empty directory.
    pub fn create_dir(self, path: &str) -> Self {
        std::fs::create_dir_all(self.tempdir.path().join(path)).unwrap();
        self
    }

    /// Copies a directory of the repository (e.g. a fixture) into `path`.
    pub fn copy(self, from: &Path, path: &str) -> Self {
        copy_dir(from, &self.tempdir.path().join(path));
        self
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    pub fn args<const N: usize>(mut self, args: [&str; N]) -> Self {
        self.args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    /// Runs the command in this subdirectory of the temporary directory.
    pub fn current_dir(mut self, path: &str) -> Self {
        self.current_dir = PathBuf::from(path);
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Runs `oent` with the arguments; the temporary directory lives on in the output.
    pub fn run(self) -> Output {
        let mut command = Command::new(oent());
        command
            .args(&self.args)
            .current_dir(self.tempdir.path().join(&self.current_dir))
            // The output is never a terminal here; make sure nothing forces colour.
            .env_remove("CLICOLOR_FORCE")
            .env_remove("FORCE_COLOR");
        for (key, value) in &self.env {
            command.env(key, value);
        }
        let started = Instant::now();
        let output = command.output().unwrap();
        let elapsed = started.elapsed();
        let roots = roots(self.tempdir.path());
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
            tempdir: self.tempdir,
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
    tempdir: TempDir,
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
    pub fn stdout_contains(self, part: &str) -> Self {
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
    pub fn stderr_contains(self, part: &str) -> Self {
        assert!(
            self.stderr.contains(part),
            "stderr does not contain {part:?}\n{}",
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
        Test {
            tempdir: self.tempdir,
            args: Vec::new(),
            current_dir: PathBuf::new(),
            env: Vec::new(),
        }
    }

    /// The temporary directory the command ran in.
    pub fn path(&self) -> &Path {
        self.tempdir.path()
    }

    /// Reads a file of the temporary directory.
    #[track_caller]
    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.tempdir.path().join(path))
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

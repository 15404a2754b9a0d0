//! A forge started the way an administrator starts one: `oent forge serve`
//! on loopback, over a registry made by `oent registry init`, with a
//! forge.yaml written by the test. Stopped with SIGTERM when dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use sha2::{Digest, Sha256};

use crate::support::{PRIVATE_CACHE, Test, oent, stop_gracefully};

/// Tokens the tests use, by the namespace they are scoped to.
pub const OPENENT_TOKEN: &str = "oent_test_openent";
pub const IDF_TOKEN: &str = "oent_test_idf";

pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Test {
    /// `--to <forge>` as the `openent` publisher (`oent publish`, `oent
    /// yank`); `.token()` after it acts as another one.
    pub fn forge(self, forge: &RunningForge) -> Self {
        self.arg("--to").arg(&forge.url).token(OPENENT_TOKEN)
    }
}

pub struct RunningForge {
    child: Option<Child>,
    pub url: String,
    pub dir: PathBuf,
}

impl RunningForge {
    /// A forge owning `namespace` in `dir/registry`, with the two test tokens.
    pub fn start(dir: &Path, name: &str, namespace: &str, extra: &str) -> RunningForge {
        std::fs::create_dir_all(dir).unwrap();
        if !dir.join("registry/registry.yaml").exists() {
            Test::at(dir)
                .args([
                    "registry",
                    "init",
                    "registry",
                    "--name",
                    name,
                    "--namespace",
                    namespace,
                ])
                .run()
                .status(0);
        }
        let config = format!(
            "schema: oent/forge/v1\nregistry: registry\nlisten: \"127.0.0.1:0\"\ntokens:\n  \
             - {{ name: ci-openent, sha256: \"{}\", namespaces: [openent] }}\n  \
             - {{ name: ci-idf, sha256: \"{}\", namespaces: [idf] }}\n{extra}",
            token_hash(OPENENT_TOKEN),
            token_hash(IDF_TOKEN)
        );
        std::fs::write(dir.join("forge.yaml"), config).unwrap();
        Self::spawn(dir)
    }

    /// Starts the server on the forge.yaml already in `dir`.
    pub fn spawn(dir: &Path) -> RunningForge {
        Self::spawn_under(dir, &[])
    }

    /// [`RunningForge::spawn`] with the server run by `wrapper` (e.g.
    /// `strace -f -e inject=…` to kill it at a chosen system call).
    pub fn spawn_under(dir: &Path, wrapper: &[&str]) -> RunningForge {
        Self::spawn_with(dir, wrapper, &[])
    }

    /// [`RunningForge::spawn`] with these environment variables (e.g.
    /// `OENT_LOG` to turn its access log on).
    pub fn spawn_with_env(dir: &Path, env: &[(&str, &str)]) -> RunningForge {
        Self::spawn_with(dir, &[], env)
    }

    fn spawn_with(dir: &Path, wrapper: &[&str], env: &[(&str, &str)]) -> RunningForge {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("forge.log"))
            .unwrap();
        let (program, wrapper_args) = match wrapper.split_first() {
            Some((program, args)) => (PathBuf::from(program), args.to_vec()),
            None => (oent().to_path_buf(), Vec::new()),
        };
        let mut command = Command::new(program);
        if !wrapper.is_empty() {
            command.args(wrapper_args).arg(oent());
        }
        let mut child = command
            .current_dir(dir)
            .args(["forge", "serve", "--config", "forge.yaml"])
            // Like every run of the tests, its own cache and no token inherited.
            .env("OENT_CACHE_DIR", dir.join(PRIVATE_CACHE))
            .env_remove("OENT_TOKEN")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("oent forge: serving ")
            .unwrap_or_else(|| {
                panic!(
                    "the forge did not start: {first:?}\n{}",
                    std::fs::read_to_string(dir.join("forge.log")).unwrap_or_default()
                )
            })
            .to_owned();
        RunningForge {
            child: Some(child),
            url,
            dir: dir.to_path_buf(),
        }
    }

    /// The server's process id (for tests that stop it from elsewhere).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("forge.log")).unwrap_or_default()
    }

    pub fn registry(&self) -> PathBuf {
        self.dir.join("registry")
    }

    pub fn address(&self) -> String {
        self.url.trim_start_matches("http://").to_owned()
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill_hard(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Waits (at most 30 s) for a server that is meant to die by itself,
    /// e.g. killed by the `strace` it runs under.
    pub fn wait_dead(&mut self) {
        let mut child = self.child.take().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        stop_gracefully(&mut child);
        panic!("the forge was expected to die, and did not\n{}", self.log());
    }

    /// SIGTERM, and the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        stop_gracefully(&mut child);
        child.wait().unwrap()
    }
}

impl Drop for RunningForge {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_gracefully(&mut child);
        }
    }
}

/// Every index line of the registry, and whether each archive is there
/// with the size and sha256 its line says: what a reader would check.
pub fn assert_consistent(registry: &Path) -> usize {
    let mut lines = 0;
    let index = registry.join("index");
    for ns in std::fs::read_dir(&index).into_iter().flatten() {
        for file in std::fs::read_dir(ns.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("jsonl") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                text.is_empty() || text.ends_with('\n'),
                "{} has a torn last line",
                path.display()
            );
            for line in text.lines() {
                let line: serde_json::Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{}: {e}: {line}", path.display()));
                let archive = registry.join(line["archive"].as_str().unwrap());
                let bytes = std::fs::read(&archive).unwrap_or_else(|e| {
                    panic!(
                        "{} is in the index but {}: {e}",
                        line["version"],
                        archive.display()
                    )
                });
                let sha: String = Sha256::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                assert_eq!(
                    sha,
                    line["sha256"].as_str().unwrap(),
                    "{}",
                    archive.display()
                );
                lines += 1;
            }
        }
    }
    lines
}

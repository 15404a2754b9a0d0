//! `contributions.yaml`, beside distribution.yaml: what each fork gave back
//! upstream. A fork is *reversed* when its current difference's hash equals
//! a recorded contribution's (docs/contribute.md).
//!
//! ```yaml
//! # oent contributions: see docs/contribute.md
//! contributions: 1
//! forks:
//!   idf/cahier-de-textes:
//!     - base: openent/cahier-de-textes@2.3.1
//!       diff: sha256:…
//!       upstream: https://forge.example.org/openent/cahier-de-textes.git
//!       method: push
//!       branch: oent/region-ile-de-france/cahier-de-textes-2.3.1
//!       commit: 4f2c…
//!       date: 2026-03-01T10:00:00Z
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ContributeError;

pub const CONTRIBUTIONS_FILE: &str = "contributions.yaml";
pub const CONTRIBUTIONS_VERSION: u32 = 1;

/// How a difference was given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Push,
    Bundle,
    Patches,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Push => "push",
            Method::Bundle => "bundle",
            Method::Patches => "patches",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contribution {
    /// `ns/name@version` of the base.
    pub base: String,
    /// The hash of the fork's difference that was contributed.
    pub diff: String,
    pub upstream: String,
    pub method: Method,
    pub branch: String,
    pub commit: String,
    /// RFC 3339, UTC.
    pub date: String,
    /// The bundle file or patch directory written (`bundle`, `patches`).
    #[serde(default)]
    pub file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contributions {
    pub contributions: u32,
    #[serde(default)]
    pub forks: BTreeMap<String, Vec<Contribution>>,
}

impl Contributions {
    pub fn path(distribution_dir: &Path) -> PathBuf {
        distribution_dir.join(CONTRIBUTIONS_FILE)
    }

    /// The file, or an empty record when there is none.
    pub fn read(distribution_dir: &Path) -> Result<Contributions, ContributeError> {
        let path = Contributions::path(distribution_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Contributions {
                    contributions: CONTRIBUTIONS_VERSION,
                    forks: BTreeMap::new(),
                });
            }
            Err(source) => return Err(ContributeError::Io { path, source }),
        };
        let parsed: Contributions =
            serde_saphyr::from_str(&text).map_err(|e| ContributeError::Record {
                path: path.clone(),
                message: e.to_string(),
            })?;
        if parsed.contributions != CONTRIBUTIONS_VERSION {
            return Err(ContributeError::Record {
                path,
                message: format!(
                    "`contributions: {}` is not a format this oent reads (1)",
                    parsed.contributions
                ),
            });
        }
        Ok(parsed)
    }

    /// The contribution whose difference is `hash`, if any.
    pub fn find(&self, fork: &str, hash: &str) -> Option<&Contribution> {
        self.forks.get(fork)?.iter().rev().find(|c| c.diff == hash)
    }

    pub fn add(&mut self, fork: &str, contribution: Contribution) {
        self.forks
            .entry(fork.to_owned())
            .or_default()
            .push(contribution);
    }

    /// The file's text, by hand: sorted forks, contributions in the order made.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "# oent contributions: see docs/contribute.md\ncontributions: {CONTRIBUTIONS_VERSION}\nforks:\n"
        );
        if self.forks.is_empty() {
            text.truncate(text.len() - 1);
            text.push_str(" {}\n");
        }
        for (fork, list) in &self.forks {
            text.push_str(&format!("  {fork}:\n"));
            for c in list {
                text.push_str(&format!("    - base: {}\n", c.base));
                text.push_str(&format!("      diff: \"{}\"\n", c.diff));
                text.push_str(&format!("      upstream: \"{}\"\n", c.upstream));
                text.push_str(&format!("      method: {}\n", c.method.as_str()));
                text.push_str(&format!("      branch: \"{}\"\n", c.branch));
                text.push_str(&format!("      commit: \"{}\"\n", c.commit));
                text.push_str(&format!("      date: \"{}\"\n", c.date));
                if let Some(file) = &c.file {
                    text.push_str(&format!("      file: \"{}\"\n", file.replace('"', "\\\"")));
                }
            }
        }
        text
    }

    pub fn write(&self, distribution_dir: &Path) -> Result<(), ContributeError> {
        let path = Contributions::path(distribution_dir);
        crate::fsutil::write_atomic(&path, self.to_text().as_bytes())
            .map_err(|source| ContributeError::Io { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut c = Contributions {
            contributions: 1,
            forks: BTreeMap::new(),
        };
        c.add(
            "idf/x",
            Contribution {
                base: "openent/x@1.0.0".into(),
                diff: "sha256:ab".into(),
                upstream: "git://127.0.0.1/x.git".into(),
                method: Method::Bundle,
                branch: "oent/idf/x-1.0.0".into(),
                commit: "0123".into(),
                date: "2026-01-01T00:00:00Z".into(),
                file: Some("x.bundle".into()),
            },
        );
        let dir = tempfile::tempdir().unwrap();
        c.write(dir.path()).unwrap();
        assert_eq!(Contributions::read(dir.path()).unwrap(), c);
        assert!(c.find("idf/x", "sha256:ab").is_some());
    }
}

//! Cutting releases (`oent release`) and checking them (`oent verify`).
//! A stage after `forge/`: it uses `manifest/` (the manifests compared and
//! bumped), `package/` (the deterministic archive), `registry/` (signing
//! keys, sources to verify against) and `forge/`'s client (publishing). A
//! release is packaging, signing and publishing, in an order that never
//! leaves half a release.
//!
//! - [`git`]: the work tree, tags, the release commit and pushes (git2);
//! - [`semver_check`]: what a new `module.yaml` breaks, and the release it needs;
//! - [`changelog`]: CHANGELOG.md from conventional commits;
//! - [`notes`]: a distribution's release notes from two `oent.lock`;
//! - [`artifact`]: the archive rebuilt from a commit, its signature, the tag's record;
//! - [`forges`]: asking each forge, before anything changes, whether it will take the release;
//! - [`verify`]: rebuilding a published archive from its tag;
//! - `error`: [`ReleaseError`], every refusal and every stop with the state it leaves;
//! - `plan`: what the first step establishes (name, versions, tag, key), read by the others;
//! - `cut`: [`release`], one function per step of [`STEPS`], the top one reading as their list;
//! - `compare`: step 3, the module's semver check or the distribution's notes since the previous tag;
//! - `publish`: step 11, the archive to each forge through `forge/`'s client;
//! - `resume`: `--resume`, finishing a release from its tag.
//!
//! The steps, the state each failure leaves and the command that recovers
//! are documented in docs/release.md.

pub mod artifact;
pub mod changelog;
mod compare;
mod cut;
mod error;
pub mod forges;
pub mod git;
pub mod notes;
mod plan;
mod publish;
mod resume;
pub mod semver_check;
pub mod verify;

pub use cut::release;
pub use error::ReleaseError;

use std::path::{Path, PathBuf};

use semver::Version;

use self::git::Git;
use crate::manifest::distribution::DISTRIBUTION_FILE;
use crate::manifest::module::MODULE_FILE;
use crate::manifest::{DistributionChain, Module};
use crate::package::PackageError;

pub const CHANGELOG_FILE: &str = "CHANGELOG.md";

/// What to release as: a level, or an exact version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bump {
    Patch,
    Minor,
    Major,
    Exact(Version),
}

impl std::str::FromStr for Bump {
    type Err = String;
    fn from_str(s: &str) -> Result<Bump, String> {
        Ok(match s {
            "patch" => Bump::Patch,
            "minor" => Bump::Minor,
            "major" => Bump::Major,
            other => Bump::Exact(Version::parse(other.trim_start_matches('v')).map_err(|e| {
                format!("`{other}` is neither patch, minor, major nor a version: {e}")
            })?),
        })
    }
}

impl Bump {
    pub fn apply(&self, current: &Version) -> Result<Version, ReleaseError> {
        let next = match self {
            Bump::Patch => Version::new(current.major, current.minor, current.patch + 1),
            Bump::Minor => Version::new(current.major, current.minor + 1, 0),
            Bump::Major => Version::new(current.major + 1, 0, 0),
            Bump::Exact(v) => v.clone(),
        };
        if next <= *current {
            return Err(ReleaseError::BadVersion(format!(
                "version {next} is not above the current {current}: a release moves forward"
            )));
        }
        Ok(next)
    }
}

#[derive(Debug, Clone)]
pub struct ReleaseOptions {
    /// A module directory (module.yaml) or a distribution's (distribution.yaml).
    pub path: PathBuf,
    pub bump: Option<Bump>,
    /// Forges' registry base URLs, or GitLab projects
    /// (`gitlab:https://HOST/api/v4/projects/ID`).
    pub forges: Vec<String>,
    pub token: Option<String>,
    /// GitLab only: a CI/CD job token, used when no `token` is set.
    pub job_token: Option<String>,
    /// The secret key signing the archive.
    pub key: Option<PathBuf>,
    pub remote: String,
    /// Where the archive, its .sha256 and .sig are written.
    pub out_dir: PathBuf,
    pub dry_run: bool,
    /// Finish a release whose tag exists: rebuild, push, publish.
    pub resume: bool,
}

/// The steps, in order; printed as `[n/11] name: detail`.
pub const STEPS: &[&str] = &[
    "check",
    "lint",
    "semver",
    "bump",
    "changelog",
    "commit",
    "package",
    "sign",
    "tag",
    "push",
    "publish",
];

/// How the steps are shown (the CLI prints them).
pub trait Reporter {
    fn step(&self, name: &str, detail: &str);
}

/// What a release did.
#[derive(Debug, Clone)]
pub struct Released {
    pub name: String,
    pub version: String,
    pub tag: String,
    pub archive: Option<PathBuf>,
    pub sha256: Option<String>,
}

impl Released {
    fn new(
        name: String,
        version: &semver::Version,
        tag: String,
        archive: Option<PathBuf>,
        built: Option<artifact::Built>,
    ) -> Released {
        Released {
            name,
            version: version.to_string(),
            tag,
            archive,
            sha256: built.map(|b| b.sha256),
        }
    }
}

enum Kind {
    Module(Box<Module>),
    Distribution(DistributionChain),
}

impl Kind {
    fn name(&self) -> String {
        match self {
            Kind::Module(m) => m.name.to_string(),
            Kind::Distribution(d) => d.top().name.to_string(),
        }
    }
    fn version(&self) -> &Version {
        match self {
            Kind::Module(m) => &m.version,
            Kind::Distribution(d) => &d.top().version,
        }
    }
    fn manifest_file(&self) -> &'static str {
        match self {
            Kind::Module(_) => MODULE_FILE,
            Kind::Distribution(_) => DISTRIBUTION_FILE,
        }
    }
}

/// Loads and lints what `path` holds.
fn load(path: &Path) -> Result<Kind, ReleaseError> {
    if path.join(MODULE_FILE).is_file() {
        return crate::package::load_module(path)
            .map(|m| Kind::Module(Box::new(m)))
            .map_err(|e| match e {
                PackageError::Invalid { path, diagnostics } => {
                    ReleaseError::Invalid { path, diagnostics }
                }
                other => ReleaseError::Package(other),
            });
    }
    let manifest = path.join(DISTRIBUTION_FILE);
    if manifest.is_file() {
        let loaded = DistributionChain::load(&manifest)
            .map_err(|e| ReleaseError::Package(PackageError::Read(e)))?;
        if loaded.has_errors() {
            return Err(ReleaseError::Invalid {
                path: path.to_path_buf(),
                diagnostics: loaded.diagnostics,
            });
        }
        return loaded
            .into_valid()
            .map(Kind::Distribution)
            .ok_or(ReleaseError::NothingToRelease(path.to_path_buf()));
    }
    Err(ReleaseError::NothingToRelease(path.to_path_buf()))
}

/// `v<version>`, or `<name>-v<version>` in a repository holding several
/// manifests (modules or distributions).
pub fn tag_prefix(git: &Git, short_name: &str) -> Result<String, ReleaseError> {
    Ok(if git.manifests()?.len() > 1 {
        format!("{short_name}-v")
    } else {
        "v".to_owned()
    })
}

fn short_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// The newest tag `prefix<version>` below `version`.
fn previous_tag(
    git: &Git,
    prefix: &str,
    version: &Version,
) -> Result<Option<(String, Version)>, ReleaseError> {
    Ok(git
        .tags_with_prefix(prefix)?
        .into_iter()
        .filter_map(|t| {
            let v = Version::parse(&t[prefix.len()..]).ok()?;
            (v < *version).then_some((t, v))
        })
        .max_by(|a, b| a.1.cmp(&b.1)))
}

/// The manifest's text with its top-level `version:` set to `version`.
pub fn set_version(text: &str, version: &Version) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut done = false;
    for line in text.split_inclusive('\n') {
        if !done && let Some(rest) = line.strip_prefix("version:") {
            let ending = if line.ends_with("\r\n") {
                "\r\n"
            } else if line.ends_with('\n') {
                "\n"
            } else {
                ""
            };
            let value = rest.trim_end_matches(['\r', '\n']);
            let (value, comment) = match value.find(" #") {
                Some(i) => {
                    let end = value[..i].trim_end().len();
                    (&value[..end], &value[end..])
                }
                None => (value, ""),
            };
            let trimmed = value.trim();
            let quote = match trimmed.chars().next() {
                Some(q @ ('"' | '\'')) => q.to_string(),
                _ => String::new(),
            };
            out.push_str(&format!(
                "version: {quote}{version}{quote}{comment}{ending}"
            ));
            done = true;
        } else {
            out.push_str(line);
        }
    }
    done.then_some(out)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReleaseError + '_ {
    move |source| ReleaseError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn stopped(step: &'static str, cause: ReleaseError, state: &str, help: &str) -> ReleaseError {
    ReleaseError::Stopped {
        step,
        cause: Box::new(cause),
        state: state.to_owned(),
        help: help.to_owned(),
    }
}

fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_owned()
    } else {
        format!("{dir}/{file}")
    }
}

fn short_id(oid: git2::Oid) -> String {
    oid.to_string()[..10].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_lines_are_bumped_in_place() {
        let v = Version::new(1, 3, 0);
        assert_eq!(
            set_version("schema: x\nversion: 1.2.0\nname: a\n", &v).unwrap(),
            "schema: x\nversion: 1.3.0\nname: a\n"
        );
        assert_eq!(
            set_version("version: \"1.2.0\"  # keep\n", &v).unwrap(),
            "version: \"1.3.0\"  # keep\n"
        );
        assert!(set_version("  version: 1.0.0\n", &v).is_none());
    }

    #[test]
    fn bumps() {
        let v = Version::new(1, 2, 3);
        assert_eq!(Bump::Patch.apply(&v).unwrap(), Version::new(1, 2, 4));
        assert_eq!(Bump::Minor.apply(&v).unwrap(), Version::new(1, 3, 0));
        assert_eq!(Bump::Major.apply(&v).unwrap(), Version::new(2, 0, 0));
        assert!("1.2.3".parse::<Bump>().unwrap().apply(&v).is_err());
        assert_eq!(
            "v2.0.0".parse::<Bump>().unwrap(),
            Bump::Exact(Version::new(2, 0, 0))
        );
    }
}

//! Step 3 of a release (`semver`): what changed since the previous tag. A
//! module's `module.yaml` is compared with the one the previous tag builds
//! (refusing a bump too small for its changes); a distribution's release
//! notes compare its `oent.lock` now with the one at the previous tag.

use semver::Version;

use super::artifact;
use super::git::Git;
use super::plan::Plan;
use super::semver_check::{self, Level};
use super::{Kind, ReleaseError, Reporter, join, notes, previous_tag};
use crate::manifest::lockfile::{LOCK_FILE, Lockfile};
use crate::manifest::{DistributionChain, Module};

/// What the previous release tells the changelog.
pub(super) struct History {
    /// The previous tag and its version, if any.
    pub previous: Option<(String, Version)>,
    /// A module's breaking changes, listed first in the changelog section.
    pub breaking: Vec<String>,
    /// A distribution's release notes (Markdown), appended to the section.
    pub notes: String,
}

/// Step 3, semver (modules) or release notes (distributions), against the previous tag.
pub(super) fn compare_with_previous(
    git: &Git,
    plan: &Plan,
    reporter: &dyn Reporter,
) -> Result<History, ReleaseError> {
    let mut history = History {
        previous: previous_tag(git, &plan.prefix, &plan.version)?,
        breaking: Vec::new(),
        notes: String::new(),
    };
    match &plan.kind {
        Kind::Module(module) => {
            history.breaking =
                check_semver(git, plan, module, history.previous.as_ref(), reporter)?;
        }
        Kind::Distribution(chain) => {
            history.notes = release_notes(git, plan, chain, history.previous.as_ref(), reporter)?;
        }
    }
    Ok(history)
}

/// Refuses a bump smaller than the module's changes need; returns the
/// breaking changes' messages.
fn check_semver(
    git: &Git,
    plan: &Plan,
    module: &Module,
    previous: Option<&(String, Version)>,
    reporter: &dyn Reporter,
) -> Result<Vec<String>, ReleaseError> {
    let Some((previous_tag, previous_version)) = previous else {
        reporter.step("semver", "first release: nothing to compare");
        return Ok(Vec::new());
    };
    let commit = git
        .tag_commit(previous_tag)
        .ok_or_else(|| ReleaseError::Git {
            what: format!("reading tag {previous_tag}"),
            message: "it does not point to a commit".into(),
        })?;
    let old = match artifact::build_from_commit(git, &commit, &plan.dir) {
        Ok(old) => old,
        Err(ReleaseError::NotInCommit { .. }) => {
            reporter.step(
                "semver",
                &format!("the module is not in {previous_tag}: nothing to compare"),
            );
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    let changes = semver_check::compare(&old.module, module);
    let needed = changes
        .iter()
        .map(|c| c.level)
        .max()
        .unwrap_or(Level::Patch);
    let level = semver_check::bump_level(previous_version, &plan.version);
    if needed > level {
        return Err(ReleaseError::Breaking {
            bump: level,
            needed,
            previous: previous_tag.clone(),
            changes,
        });
    }
    reporter.step(
        "semver",
        &format!(
            "{} release since {previous_tag}: {} change(s) need {}",
            level.name(),
            changes.len(),
            needed.name()
        ),
    );
    Ok(changes
        .iter()
        .filter(|c| c.level == Level::Major)
        .map(|c| c.message.clone())
        .collect())
}

/// A distribution's release notes since the previous tag, as Markdown.
fn release_notes(
    git: &Git,
    plan: &Plan,
    chain: &DistributionChain,
    previous: Option<&(String, Version)>,
    reporter: &dyn Reporter,
) -> Result<String, ReleaseError> {
    let previous = previous.map(|p| p.0.as_str());
    let notes = distribution_notes(git, chain, &plan.dir, previous)?;
    reporter.step(
        "semver",
        &format!(
            "release notes since {}: {} added, {} removed, {} upgraded, {} default(s) changed",
            previous.unwrap_or("the start"),
            notes.added.len(),
            notes.removed.len(),
            notes.upgraded.len(),
            notes.defaults_changed.len()
        ),
    );
    Ok(notes.to_markdown())
}

/// Notes of a distribution: its lock now against its lock at the previous tag.
fn distribution_notes(
    git: &Git,
    chain: &DistributionChain,
    dir: &str,
    previous: Option<&str>,
) -> Result<notes::Notes, ReleaseError> {
    let lock_path = chain.top().dir().join(LOCK_FILE);
    let current = Lockfile::read(&lock_path)
        .map_err(|e| ReleaseError::Lock(e.to_string()))?
        .ok_or_else(|| ReleaseError::NoLock(chain.top().dir().to_path_buf()))?;
    let old = match previous.and_then(|t| git.tag_commit(t)) {
        Some(commit) => match git.file_at(&commit, &join(dir, LOCK_FILE)) {
            Some(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                Some(serde_saphyr::from_str::<Lockfile>(&text).map_err(|e| {
                    ReleaseError::Lock(format!("at {}: {e}", previous.unwrap_or_default()))
                })?)
            }
            None => None,
        },
        None => None,
    };
    let sources = open_registries(chain);
    let manifest = |name: &str, version: &str| -> Option<Module> {
        let module_name = name.parse().ok()?;
        for source in &sources {
            let Ok(lines) = source.versions(&module_name) else {
                continue;
            };
            let Some(line) = lines.iter().find(|l| l.is_version(version)) else {
                continue;
            };
            let path = source.archive(line).ok()?;
            let bytes = std::fs::read(&path).ok()?;
            return crate::registry::local::inspect_archive(&path, &bytes).ok();
        }
        None
    };
    Ok(notes::compare(old.as_ref(), &current, &manifest))
}

fn open_registries(chain: &DistributionChain) -> Vec<Box<dyn crate::registry::source::Source>> {
    use crate::manifest::distribution::RegistryLocation;
    let Ok(cache) = crate::registry::cache::Cache::default_location() else {
        return Vec::new();
    };
    chain
        .registries()
        .iter()
        .filter_map(|spec| {
            let location = match &spec.location {
                RegistryLocation::Url(u) => u.clone(),
                RegistryLocation::Path(p) => p.display().to_string(),
            };
            crate::registry::open::open_pinned_source(&location, &spec.keys, &cache, false).ok()
        })
        .collect()
}

//! Reversal status: for each fork of a resolved distribution, its
//! difference from its base and whether that difference was contributed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::ContributeError;
use super::diff::{ForkDiff, diff};
use super::record::{Contribution, Contributions};
use crate::manifest::names::ModuleName;
use crate::manifest::{Code, Diagnostic, Module};
use crate::workspace::{BuildCheck, ResolvedDistribution, fetch_module_dir};

/// Where `oent fork` writes a fork: `DIST/modules/<ns>/<name>/`.
pub fn fork_dir(distribution_dir: &Path, name: &ModuleName) -> PathBuf {
    distribution_dir
        .join("modules")
        .join(name.namespace())
        .join(name.short_name())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reversal {
    /// The fork has no difference from its base (yet).
    Identical,
    /// The current difference was contributed.
    Reversed(Contribution),
    /// The current difference was never contributed: reversal debt.
    Debt,
}

impl Reversal {
    pub fn as_str(&self) -> &'static str {
        match self {
            Reversal::Identical => "identical",
            Reversal::Reversed(_) => "reversed",
            Reversal::Debt => "unreversed",
        }
    }
}

/// One fork of the distribution.
#[derive(Debug, Clone)]
pub struct ForkStatus {
    pub fork: ModuleName,
    pub version: semver::Version,
    pub base: ModuleName,
    pub base_version: semver::Version,
    /// The base's unpacked archive (in the cache).
    pub base_dir: PathBuf,
    /// The fork's sources: `DIST/modules/<ns>/<name>/` when present, else its archive.
    pub fork_dir: PathBuf,
    pub base_licence: String,
    pub licence: String,
    pub diff: ForkDiff,
    pub reversal: Reversal,
}

impl ForkStatus {
    pub fn base_label(&self) -> String {
        format!("{}@{}", self.base, self.base_version)
    }

    /// `idf/x (fork of openent/x@1.0.0): 2 file(s) changed, +3 −1 lines, unreversed`.
    pub fn describe(&self) -> String {
        let state = match &self.reversal {
            Reversal::Identical => "no difference".to_owned(),
            Reversal::Reversed(c) => format!(
                "{}, reversed ({} {} {})",
                self.diff.summary(),
                c.method.as_str(),
                c.branch,
                short(&c.commit)
            ),
            Reversal::Debt => format!("{}, not contributed", self.diff.summary()),
        };
        format!("{} (fork of {}): {state}", self.fork, self.base_label())
    }
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// The status of every fork among the resolved modules, sorted by name.
pub fn fork_statuses(resolved: &ResolvedDistribution) -> Result<Vec<ForkStatus>, ContributeError> {
    let dist_dir = resolved.chain.top().dir();
    let record = Contributions::read(dist_dir)?;
    let mut out = Vec::new();
    for (name, module) in resolved.modules {
        let Some((base, base_version)) = &module.fork_of else {
            continue;
        };
        out.push(fork_status(
            resolved,
            &record,
            name,
            module,
            base,
            base_version,
        )?);
    }
    Ok(out)
}

fn fork_status(
    resolved: &ResolvedDistribution,
    record: &Contributions,
    name: &ModuleName,
    module: &Module,
    base: &ModuleName,
    base_version: &semver::Version,
) -> Result<ForkStatus, ContributeError> {
    let dist_dir = resolved.chain.top().dir();
    let base_dir = fetch_module_dir(resolved.sources, resolved.cache, base, base_version, None)
        .map_err(|e| ContributeError::Base {
            base: format!("{base}@{base_version}"),
            message: e.to_string(),
        })?;
    let base_module = Module::load(&base_dir.join(crate::manifest::module::MODULE_FILE))
        .ok()
        .and_then(|l| l.into_valid());
    let local = fork_dir(dist_dir, name);
    let fork_dir = if local.join(crate::manifest::module::MODULE_FILE).is_file() {
        local
    } else {
        module.dir().to_path_buf()
    };
    let diff = diff(&base_dir, &fork_dir)?;
    let reversal = if diff.is_empty() {
        Reversal::Identical
    } else {
        match record.find(name.as_str(), &diff.hash) {
            Some(c) => Reversal::Reversed(c.clone()),
            None => Reversal::Debt,
        }
    };
    Ok(ForkStatus {
        fork: name.clone(),
        version: module.version.clone(),
        base: base.clone(),
        base_version: base_version.clone(),
        base_dir,
        fork_dir,
        base_licence: base_module.map(|m| m.licence).unwrap_or_default(),
        licence: module.licence.clone(),
        diff,
        reversal,
    })
}

/// The diagnostics of forks: a changed licence (E039, always an error),
/// reversal debt (W005, or E040 under `--deny-unreversed`).
pub fn fork_diagnostics(
    statuses: &[ForkStatus],
    distribution: &Path,
    deny_unreversed: bool,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for s in statuses {
        if !s.base_licence.is_empty() && s.base_licence != s.licence {
            out.push(
                Diagnostic::new(
                    Code::ForkLicenceChanged,
                    &s.fork_dir.join(crate::manifest::module::MODULE_FILE),
                    format!(
                        "{} is a fork of {} under `{}`, but declares `{}`: a fork keeps its base's licence",
                        s.fork,
                        s.base_label(),
                        s.base_licence,
                        s.licence
                    ),
                )
                .key("licence")
                .help(format!("write `licence: {}` back", s.base_licence)),
            );
        }
        if s.reversal == Reversal::Debt {
            let code = if deny_unreversed {
                Code::UnreversedFork
            } else {
                Code::ReversalDebt
            };
            out.push(
                Diagnostic::new(code, distribution, s.describe())
                    .key(format!("modules.{}", s.fork))
                    .help(format!(
                        "give the difference back: `oent contribute {}` (--push, --bundle FILE or --patches DIR)",
                        s.fork
                    )),
            );
        }
    }
    out
}

/// The [`BuildCheck`] `oent build` runs for forks.
#[derive(Debug, Clone, Copy, Default)]
pub struct ForkCheck {
    pub deny_unreversed: bool,
}

impl BuildCheck for ForkCheck {
    fn check(&self, resolved: &ResolvedDistribution) -> Vec<Diagnostic> {
        let distribution = &resolved.chain.top().manifest_path;
        match fork_statuses(resolved) {
            Ok(statuses) => fork_diagnostics(&statuses, distribution, self.deny_unreversed),
            // Without its base, a fork's debt is unknown: an error only when denied.
            Err(e) => vec![
                Diagnostic::new(
                    if self.deny_unreversed {
                        Code::UnreversedFork
                    } else {
                        Code::ReversalDebt
                    },
                    distribution,
                    format!("cannot compare forks with their bases: {e}"),
                )
                .help("the fork's base must be available from the distribution's registries"),
            ],
        }
    }
}

/// Statuses by fork name, for reports.
pub fn by_name(statuses: &[ForkStatus]) -> BTreeMap<&ModuleName, &ForkStatus> {
    statuses.iter().map(|s| (&s.fork, s)).collect()
}

//! `oent licences`: the workspace's compliance report (licences, sources,
//! forks and their reversal), and the problems the policy finds.

use crate::contribute::ContributeError;
use crate::contribute::status::{fork_diagnostics, fork_statuses};
use crate::licence::policy;
use crate::licence::report::{Report, report};
use crate::manifest::Diagnostic;
use crate::workspace::{Workspace, WorkspaceError, WorkspaceOptions};

#[derive(Debug, Clone)]
pub struct LicencesOptions {
    pub workspace: WorkspaceOptions,
    /// A fork whose difference was never contributed is an error.
    pub deny_unreversed: bool,
}

#[derive(Debug)]
pub struct Licences {
    pub report: Report,
    /// Licence policy and reversal problems, errors and warnings.
    pub problems: Vec<Diagnostic>,
}

impl Licences {
    /// How many problems are errors: any makes `oent licences` fail.
    pub fn errors(&self) -> usize {
        self.problems.iter().filter(|d| d.is_error()).count()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LicencesError {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Forks(#[from] ContributeError),
}

pub fn licences(options: &LicencesOptions) -> Result<Licences, LicencesError> {
    let workspace = Workspace::load(&options.workspace)?;
    let (chain, lock, modules) = (workspace.chain(), &workspace.lock, &workspace.modules);
    let forks = fork_statuses(&workspace.resolved())?;
    let mut problems = policy::check(chain, &lock.resolution, modules);
    problems.extend(fork_diagnostics(
        &forks,
        &chain.top().manifest_path,
        options.deny_unreversed,
    ));
    let report = report(
        chain,
        &lock.lock.to_text(),
        &lock.resolution,
        modules,
        &forks,
    );
    Ok(Licences { report, problems })
}

//! `oent fork` and `oent contribute`.

use std::path::PathBuf;

use clap::Args;

use super::exit;
use oent::contribute::fork::ForkOptions;
use oent::contribute::merge_request::Action;
use oent::contribute::upstream::{ContributeOptions, Delivery, MergeRequestOptions};
use oent::manifest::names::ModuleName;
use oent::ops::{contribute, fork};
use oent::workspace::WorkspaceOptions;

#[derive(Debug, Args)]
pub struct ForkArgs {
    /// The module to fork, as the distribution names it (`openent/x`).
    module: ModuleName,
    /// The distribution (a distribution.yaml or its directory).
    #[arg(default_value = ".")]
    distribution: PathBuf,
    /// The fork's name (default: the distribution's namespace and the module's name).
    #[arg(long = "as", value_name = "NS/NAME")]
    as_name: Option<ModuleName>,
    #[arg(long)]
    offline: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("delivery").required(true).args(["push", "bundle", "patches", "merge_request"])))]
pub struct ContributeArgs {
    /// The fork whose difference goes back upstream.
    fork: ModuleName,
    /// The distribution (a distribution.yaml or its directory).
    #[arg(default_value = ".")]
    distribution: PathBuf,
    /// Push a branch to the upstream repository (never forced).
    #[arg(long)]
    push: bool,
    /// Write a git bundle instead (for upstreams without write access).
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    /// Write a patch series instead, for `git am` (upstreams that take patches by mail).
    #[arg(long, value_name = "DIR")]
    patches: Option<PathBuf>,
    /// Author and signer: `Name <email>` (default: git's user.name and user.email).
    #[arg(long, value_name = "NAME <EMAIL>")]
    author: Option<String>,
    /// Contribute binary files too.
    #[arg(long)]
    allow_binary: bool,
    /// Push the branch, then open a merge request on the upstream's GitLab, or
    /// a pull request on GitHub (or update the open one of the branch), and
    /// print its URL. The project is the upstream URL's, unless given:
    /// --merge-request=gitlab:https://HOST/api/v4/projects/ID or
    /// --merge-request=github:https://api.github.com/repos/OWNER/REPO.
    #[arg(
        long,
        value_name = "PROJECT",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = ""
    )]
    merge_request: Option<String>,
    /// The merge request's target branch (default: the upstream's default branch).
    #[arg(long, value_name = "BRANCH", requires = "merge_request")]
    target_branch: Option<String>,
    /// A label of the merge request (repeat the option for several).
    #[arg(
        long = "label",
        value_name = "LABEL",
        requires = "merge_request",
        default_value = "reversement"
    )]
    labels: Vec<String>,
    /// The token opening the merge request: GitLab's (`api` scope) or GitHub's.
    #[arg(long, env = "OENT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// In GitLab CI: the job token, used when no --token is set.
    #[arg(long, env = "CI_JOB_TOKEN", hide_env_values = true)]
    job_token: Option<String>,
    /// The repository to contribute to instead of the base's `repository:`
    /// (a mirror, a fork on the collectivité's own forge).
    #[arg(long, value_name = "URL")]
    upstream: Option<String>,
    #[arg(long)]
    offline: bool,
}

pub fn run_fork(args: ForkArgs) -> anyhow::Result<u8> {
    let outcome = match fork(&ForkOptions {
        workspace: WorkspaceOptions::new(args.distribution, false, args.offline)?,
        module: args.module,
        as_name: args.as_name,
    }) {
        Ok(outcome) => outcome,
        Err(e) => return super::report::contribute_failure(e),
    };
    eprintln!(
        "forked {}@{} as {} in {} (published to {}); the distribution now uses the fork",
        outcome.base,
        outcome.version,
        outcome.fork,
        outcome.dir.display(),
        outcome.registry.display()
    );
    Ok(exit::OK)
}

pub fn run_contribute(args: ContributeArgs) -> anyhow::Result<u8> {
    let delivery = match (args.bundle, args.patches) {
        (Some(file), _) => Delivery::Bundle(file),
        (None, Some(dir)) => Delivery::Patches(dir),
        (None, None) => Delivery::Push,
    };
    let outcome = match contribute(&ContributeOptions {
        workspace: WorkspaceOptions::new(args.distribution, false, args.offline)?,
        fork: args.fork,
        delivery,
        author: args.author,
        allow_binary: args.allow_binary,
        upstream: args.upstream,
        merge_request: args.merge_request.map(|project| MergeRequestOptions {
            project: Some(project).filter(|p| !p.is_empty()),
            target_branch: args.target_branch,
            labels: args.labels,
            token: args.token,
            job_token: args.job_token,
        }),
    }) {
        Ok(outcome) => outcome,
        Err(e) => return super::report::contribute_failure(e),
    };
    let c = &outcome.contribution;
    let how = match &c.file {
        Some(file) => format!("written to {file}"),
        None => format!("pushed to {}", c.upstream),
    };
    eprintln!(
        "contributed {} ({}) on {}: branch {} commit {}, {how}; recorded in contributions.yaml",
        outcome.status.fork,
        outcome.status.diff.summary(),
        c.base,
        c.branch,
        &c.commit[..12]
    );
    if let Some(mr) = &outcome.merge_request {
        let action = match mr.action {
            Action::Created => "opened",
            Action::Updated => "updated",
        };
        eprintln!("{} {action}:", mr.what);
        println!("{}", mr.web_url);
    }
    Ok(exit::OK)
}

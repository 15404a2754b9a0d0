//! `oent licences [DIST] --format md|spdx|cyclonedx [-o FILE]`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::exit;
use oent::contribute::status::{fork_diagnostics, fork_statuses};
use oent::licence::policy;
use oent::licence::report::{Format, report};
use oent::manifest::Severity;
use oent::registry::cache::Cache;
use oent::workspace::{Workspace, WorkspaceOptions};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Md,
    Spdx,
    Cyclonedx,
}

#[derive(Debug, Args)]
pub struct LicencesArgs {
    /// The distribution (a distribution.yaml or its directory).
    #[arg(default_value = ".")]
    distribution: PathBuf,
    /// md: for people; spdx: SPDX 2.3 JSON; cyclonedx: CycloneDX 1.5 JSON.
    #[arg(long, value_enum, default_value = "md")]
    format: FormatArg,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
    /// Fail (exit 1) when a fork's difference was never contributed.
    #[arg(long)]
    deny_unreversed: bool,
    #[arg(long)]
    locked: bool,
    #[arg(long)]
    offline: bool,
}

pub fn run(args: LicencesArgs) -> anyhow::Result<u8> {
    let cache = Cache::default_location()?;
    let options = WorkspaceOptions {
        distribution: args.distribution,
        locked: args.locked,
        offline: args.offline,
        cache,
    };
    let workspace = match Workspace::load(&options) {
        Ok(found) => found,
        Err(e) => return super::build::report_error(e),
    };
    let (lock, modules) = (&workspace.lock, &workspace.modules);
    let forks = fork_statuses(&workspace.resolved())?;
    let mut problems = policy::check(&lock.chain, &lock.resolution, modules);
    problems.extend(fork_diagnostics(
        &forks,
        &lock.chain.top().manifest_path,
        args.deny_unreversed,
    ));
    let report = report(
        &lock.chain,
        &lock.lock.to_text(),
        &lock.resolution,
        modules,
        &forks,
    );
    let text = report.render(match args.format {
        FormatArg::Md => Format::Markdown,
        FormatArg::Spdx => Format::Spdx,
        FormatArg::Cyclonedx => Format::CycloneDx,
    });
    match &args.out {
        Some(path) => oent::fsutil::write_atomic(path, text.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", path.display()))?,
        None => print!("{text}"),
    }
    for d in &problems {
        eprintln!("{d}");
    }
    let errors = problems
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    Ok(if errors > 0 {
        eprintln!("error: {errors} licence or reversal problem(s)");
        exit::PROBLEMS
    } else {
        exit::OK
    })
}

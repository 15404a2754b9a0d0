//! `oent licences [DIST] --format md|spdx|cyclonedx [-o FILE]`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::exit;
use oent::licence::report::Format;
use oent::ops::licences::{LicencesError, LicencesOptions};
use oent::workspace::WorkspaceOptions;

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
    let options = LicencesOptions {
        workspace: WorkspaceOptions::new(args.distribution, args.locked, args.offline)?,
        deny_unreversed: args.deny_unreversed,
    };
    let found = match oent::ops::licences(&options) {
        Ok(found) => found,
        Err(LicencesError::Workspace(e)) => {
            return super::report::workspace_failure(e, Default::default());
        }
        Err(e) => return Err(e.into()),
    };
    let text = found.report.render(match args.format {
        FormatArg::Md => Format::Markdown,
        FormatArg::Spdx => Format::Spdx,
        FormatArg::Cyclonedx => Format::CycloneDx,
    });
    match &args.out {
        Some(path) => oent::fsutil::write_atomic(path, text.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", path.display()))?,
        None => print!("{text}"),
    }
    super::report::print_diagnostics(&found.problems, Default::default());
    let errors = found.errors();
    Ok(if errors > 0 {
        eprintln!("error: {errors} licence or reversal problem(s)");
        exit::PROBLEMS
    } else {
        exit::OK
    })
}

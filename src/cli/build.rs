//! `oent build`, `oent diff`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::json;

use super::exit;
use super::output::{Format, JSON_VERSION, print_json};
use oent::manifest::diagnostic::render::Sources;
use oent::manifest::distribution::Target;
use oent::ops::{BuildOptions, WriteOptions, build_with};
use oent::ops::{RenderLimits, parse_size};
use oent::registry::fetch::Progress;
use oent::workspace::WorkspaceOptions;
use oent::workspace::values::{CommandLineValue, parse_set};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TargetArg {
    Compose,
    Kubernetes,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The distribution (a distribution.yaml or its directory).
    #[arg(default_value = ".")]
    distribution: PathBuf,
    /// Where to write the bundle (default: DIST/bundle).
    #[arg(long, short = 'o', value_name = "OUT")]
    out: Option<PathBuf>,
    /// Deployment target (default: the distribution's `target`).
    #[arg(long, value_enum)]
    target: Option<TargetArg>,
    /// Fail if oent.lock would change (CI).
    #[arg(long)]
    locked: bool,
    /// Use only what is cached: no network.
    #[arg(long)]
    offline: bool,
    /// Set a value, typed by the option: `--set openent/portail.titre="Mon ENT"`.
    #[arg(long = "set", value_name = "NS/NAME.OPTION=VALUE")]
    sets: Vec<String>,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Write nothing: render into a temporary folder and show what would
    /// change (modules, option defaults, the bundle's files) against the
    /// bundle in the output folder.
    #[arg(long, conflicts_with = "force")]
    diff: bool,
    /// Fail when a fork differs from its base and that difference was never
    /// contributed upstream (`oent contribute`): for CI.
    #[arg(long)]
    deny_unreversed: bool,
    /// Replace the previous bundle even if it holds files its bundle.json
    /// does not list: they are deleted, each named in a warning.
    #[arg(long)]
    force: bool,
    /// `--deny warnings`: refuse the build on any warning (placeholders
    /// nothing fills, placeholder images…); the previous bundle stays.
    #[arg(long, value_enum, value_name = "WHAT")]
    deny: Vec<super::lint::Deny>,
    /// Largest file a template may render (bytes, or with KiB, MiB, GiB).
    #[arg(long, value_name = "SIZE", env = "OENT_MAX_FILE_SIZE", default_value = "16MiB", value_parser = parse_size)]
    max_file_size: u64,
    /// Largest bundle a build may write.
    #[arg(long, value_name = "SIZE", env = "OENT_MAX_BUNDLE_SIZE", default_value = "4GiB", value_parser = parse_size)]
    max_bundle_size: u64,
    /// Longest time rendering may take, in seconds.
    #[arg(
        long,
        value_name = "SECONDS",
        env = "OENT_RENDER_TIMEOUT",
        default_value_t = 600
    )]
    render_timeout: u64,
    /// Threads rendering modules at once (default: the cores available).
    /// The bundle is the same, byte for byte, whatever the number.
    #[arg(short = 'j', long, value_name = "N", env = "OENT_JOBS", value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: Option<u16>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The bundle deployed today.
    old: PathBuf,
    /// The bundle about to be deployed.
    new: PathBuf,
    /// Lines of context around each change.
    #[arg(long, default_value_t = 3)]
    context: usize,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

pub fn run_diff(args: DiffArgs) -> anyhow::Result<u8> {
    let diff = oent::ops::diff(&args.old, &args.new, args.context)?;
    match args.format {
        Format::Json => print_json(&json!({"version": JSON_VERSION, "files": diff.files}))?,
        Format::Human => {
            print!("{}", diff.report);
            eprintln!("{} file(s) differ", diff.files.len());
        }
    }
    // Like diff(1): 0 identical, 1 different.
    Ok(if diff.files.is_empty() {
        exit::OK
    } else {
        exit::PROBLEMS
    })
}

pub fn parse_sets(sets: &[String]) -> anyhow::Result<Vec<CommandLineValue>> {
    sets.iter()
        .map(|s| parse_set(s).map_err(anyhow::Error::msg))
        .collect()
}

/// What diagnostics of `--set` values quote: each flag, as its own line.
pub fn command_line(sets: &[CommandLineValue]) -> Sources {
    let mut sources = Sources::default();
    for set in sets {
        set.quote_in(&mut sources);
    }
    sources
}

/// The build's progress bar, none for JSON output.
pub fn rendering(format: Format) -> Box<dyn Progress> {
    super::progress::bar_for(format, "rendering", "files")
}

pub fn run_build(args: BuildArgs) -> anyhow::Result<u8> {
    let options = BuildOptions {
        workspace: WorkspaceOptions::new(args.distribution, args.locked, args.offline)?,
        out: args.out,
        target: args.target.map(|t| match t {
            TargetArg::Compose => Target::Compose,
            TargetArg::Kubernetes => Target::Kubernetes,
        }),
        sets: parse_sets(&args.sets)?,
        checks: oent::ops::build::checks(args.deny_unreversed),
    };
    let progress = rendering(args.format);
    let write = WriteOptions {
        force: args.force,
        deny_warnings: args.deny.contains(&super::lint::Deny::Warnings),
        limits: RenderLimits {
            file_bytes: args.max_file_size,
            build_bytes: args.max_bundle_size,
            time: std::time::Duration::from_secs(args.render_timeout),
        },
        jobs: args.jobs.map(usize::from),
    };
    if args.diff {
        let preview = oent::ops::preview::build_preview(&options, &write, progress.as_ref());
        return super::preview::show(preview, args.format, command_line(&options.sets));
    }
    let outcome = match build_with(&options, &write, progress.as_ref()) {
        Ok(outcome) => outcome,
        Err(e) => return super::report::build_failure(e, command_line(&options.sets)),
    };
    super::report::print_diagnostics(&outcome.warnings, Sources::default());
    match args.format {
        Format::Json => print_json(&json!({
            "version": JSON_VERSION,
            "bundle": outcome.out,
            "target": outcome.target,
            "files": outcome.files,
            "modules": outcome.modules,
            "etablissements": outcome.etablissements,
            "lock_changed": outcome.lock_changed,
        }))?,
        Format::Human => eprintln!(
            "built {} ({}): {} modules, {} établissements, {} files",
            outcome.out.display(),
            outcome.target,
            outcome.modules,
            outcome.etablissements,
            outcome.files
        ),
    }
    Ok(exit::OK)
}

//! `oent resolve`, `oent update`, `oent tree`, `oent why`.

use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};

use super::exit;
use super::output::{Format, JSON_VERSION, print_json};
use oent::manifest::lockfile::LockedModule;
use oent::manifest::names::ModuleName;
use oent::ops::BuildOptions;
use oent::ops::resolve::TreeError;
use oent::resolve::lock::{LockOpError, LockOptions, LockOutcome, Update};
use oent::workspace::WorkspaceOptions;

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// The distribution (a distribution.yaml or its directory).
    #[arg(default_value = ".")]
    distribution: PathBuf,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub struct Common {
    /// Fail if oent.lock would change (for CI).
    #[arg(long)]
    locked: bool,
    /// Use only what is cached: no network.
    #[arg(long)]
    offline: bool,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Modules allowed to move to newer versions (all when none).
    modules: Vec<String>,
    /// The distribution (a distribution.yaml or its directory).
    #[arg(long = "dist", default_value = ".")]
    distribution: PathBuf,
    /// Write nothing: show the modules that would move, the option defaults
    /// that move with them and the bundle's files that would change.
    #[arg(long, conflicts_with = "locked")]
    dry_run: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub struct TreeArgs {
    #[arg(default_value = ".")]
    distribution: PathBuf,
    /// Show what depends on this module instead.
    #[arg(long, value_name = "NS/NAME")]
    invert: Option<String>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub struct WhyArgs {
    /// The module to explain.
    module: String,
    #[arg(default_value = ".")]
    distribution: PathBuf,
    #[command(flatten)]
    common: Common,
}

fn lock_options(update: Update, common: &Common) -> anyhow::Result<LockOptions> {
    Ok(LockOptions::new(update, common.locked, common.offline)?)
}

fn lock(
    distribution: PathBuf,
    update: Update,
    common: &Common,
) -> anyhow::Result<Result<LockOutcome, LockOpError>> {
    Ok(oent::ops::resolve(&distribution, &lock_options(update, common)?).map(|l| l.lock))
}

/// A locked module as every JSON document shows it.
fn module_json(m: &LockedModule) -> Value {
    json!({
        "name": m.name,
        "version": m.version,
        "source": m.source,
        "sha256": m.sha256,
        "requires": m.requires,
        "features": m.features,
    })
}

fn summary(outcome: &LockOutcome, format: Format) -> anyhow::Result<()> {
    if format.is_json() {
        return print_json(&json!({
            "version": JSON_VERSION,
            "lock": outcome.path,
            "changed": outcome.changed,
            "changes": outcome.moved,
            "modules": outcome.lock.modules.iter().map(module_json).collect::<Vec<_>>(),
        }));
    }
    for change in outcome.changes() {
        eprintln!("  {change}");
    }
    let verb = if outcome.changed {
        "wrote"
    } else {
        "unchanged:"
    };
    eprintln!(
        "{verb} {} ({} modules)",
        outcome.path.display(),
        outcome.lock.modules.len()
    );
    Ok(())
}

pub fn run_resolve(args: ResolveArgs) -> anyhow::Result<u8> {
    match lock(args.distribution, Update::Nothing, &args.common)? {
        Ok(outcome) => {
            summary(&outcome, args.common.format)?;
            Ok(exit::OK)
        }
        Err(e) => super::report::lock_failure(e),
    }
}

pub fn run_update(args: UpdateArgs) -> anyhow::Result<u8> {
    let modules = args
        .modules
        .iter()
        .map(|m| m.parse::<ModuleName>().map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if args.dry_run {
        return dry_run(args, modules);
    }
    match lock(args.distribution, Update::Modules(modules), &args.common)? {
        Ok(outcome) => {
            if outcome.moved.is_empty() && !args.common.format.is_json() {
                eprintln!("everything is already at the newest allowed version");
            }
            summary(&outcome, args.common.format)?;
            Ok(exit::OK)
        }
        Err(e) => super::report::lock_failure(e),
    }
}

/// `oent update --dry-run`: both bundles rendered in a temporary folder.
fn dry_run(args: UpdateArgs, modules: Vec<ModuleName>) -> anyhow::Result<u8> {
    let options = BuildOptions {
        workspace: WorkspaceOptions::new(args.distribution, false, args.common.offline)?,
        out: None,
        target: None,
        sets: Vec::new(),
        checks: oent::ops::build::checks(false),
    };
    let progress = super::build::rendering(args.common.format);
    let preview = oent::ops::preview::update_preview(
        &options,
        modules,
        &oent::ops::WriteOptions::default(),
        progress.as_ref(),
    );
    super::preview::show(preview, args.common.format, Default::default())
}

pub fn run_tree(args: TreeArgs) -> anyhow::Result<u8> {
    let options = lock_options(Update::Nothing, &args.common)?;
    let invert = args.invert.as_deref();
    let printed = if args.common.format.is_json() {
        oent::ops::resolve::tree_data(&args.distribution, &options, invert).map(|data| {
            print_json(&json!({
                "version": JSON_VERSION,
                "distribution": data.distribution,
                "invert": invert,
                "roots": data.roots,
                "modules": data.modules.iter().map(module_json).collect::<Vec<_>>(),
            }))
        })
    } else {
        oent::ops::tree(&args.distribution, &options, invert).map(|text| {
            print!("{text}");
            Ok(())
        })
    };
    match printed {
        Ok(printed) => printed.map(|()| exit::OK),
        Err(TreeError::Lock(e)) => super::report::lock_failure(*e),
        Err(e) => Err(e.into()),
    }
}

pub fn run_why(args: WhyArgs) -> anyhow::Result<u8> {
    let target: ModuleName = args.module.parse().map_err(anyhow::Error::msg)?;
    let options = lock_options(Update::Nothing, &args.common)?;
    let why = match oent::ops::why(&args.distribution, &options, &target) {
        Ok(why) => why,
        Err(e) => return super::report::lock_failure(e),
    };
    if args.common.format.is_json() {
        print_json(&json!({
            "version": JSON_VERSION,
            "module": target.to_string(),
            "module_version": why.as_ref().map(|w| w.version.to_string()),
            "paths": why.as_ref().map(|w| w.paths.clone()).unwrap_or_default(),
        }))?;
        return Ok(if why.is_some() {
            exit::OK
        } else {
            exit::PROBLEMS
        });
    }
    let Some(why) = why else {
        println!("{target} is not part of this distribution");
        return Ok(exit::PROBLEMS);
    };
    println!(
        "{} {} is in {} because:",
        target, why.version, why.distribution
    );
    for path in &why.paths {
        let steps: Vec<String> = path.iter().map(ToString::to_string).collect();
        println!("  {} → {}", why.distribution, steps.join(" → "));
    }
    Ok(exit::OK)
}

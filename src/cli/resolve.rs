//! `oent resolve`, `oent update`, `oent tree`, `oent why`.

use std::path::PathBuf;

use clap::Args;

use super::exit;
use oent::manifest::names::ModuleName;
use oent::ops::resolve::TreeError;
use oent::resolve::lock::{LockOpError, LockOptions, LockOutcome, Update};

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
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Modules allowed to move to newer versions (all when none).
    modules: Vec<String>,
    /// The distribution (a distribution.yaml or its directory).
    #[arg(long = "dist", default_value = ".")]
    distribution: PathBuf,
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

fn summary(outcome: &LockOutcome) {
    for change in &outcome.changes {
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
}

pub fn run_resolve(args: ResolveArgs) -> anyhow::Result<u8> {
    match lock(args.distribution, Update::Nothing, &args.common)? {
        Ok(outcome) => {
            summary(&outcome);
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
    match lock(args.distribution, Update::Modules(modules), &args.common)? {
        Ok(outcome) => {
            if outcome.changes.is_empty() {
                eprintln!("everything is already at the newest allowed version");
            }
            summary(&outcome);
            Ok(exit::OK)
        }
        Err(e) => super::report::lock_failure(e),
    }
}

pub fn run_tree(args: TreeArgs) -> anyhow::Result<u8> {
    let options = lock_options(Update::Nothing, &args.common)?;
    match oent::ops::tree(&args.distribution, &options, args.invert.as_deref()) {
        Ok(text) => {
            print!("{text}");
            Ok(exit::OK)
        }
        Err(TreeError::Lock(e)) => super::report::lock_failure(*e),
        Err(e) => Err(e.into()),
    }
}

pub fn run_why(args: WhyArgs) -> anyhow::Result<u8> {
    let target: ModuleName = args.module.parse().map_err(anyhow::Error::msg)?;
    let options = lock_options(Update::Nothing, &args.common)?;
    let why = match oent::ops::why(&args.distribution, &options, &target) {
        Ok(Some(why)) => why,
        Ok(None) => {
            println!("{target} is not part of this distribution");
            return Ok(exit::PROBLEMS);
        }
        Err(e) => return super::report::lock_failure(e),
    };
    println!(
        "{} {} is in {} because:",
        target, why.version, why.distribution
    );
    for path in &why.paths {
        println!("  {} → {path}", why.distribution);
    }
    Ok(exit::OK)
}

//! `oent resolve`, `oent update`, `oent tree`, `oent why`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use clap::Args;

use super::exit;
use oent::manifest::names::ModuleName;
use oent::registry::cache::Cache;
use oent::resolve::Resolution;
use oent::resolve::lock::{LockOpError, LockOptions, LockOutcome, Update, lock_distribution};

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

fn lock(
    distribution: PathBuf,
    update: Update,
    common: &Common,
) -> anyhow::Result<Result<LockOutcome, LockOpError>> {
    let options = LockOptions {
        distribution,
        update,
        locked: common.locked,
        offline: common.offline,
        cache: Cache::default_location()?,
    };
    Ok(lock_distribution(&options))
}

/// Prints what a failed lock says, and the exit status for it.
pub(super) fn failure(err: LockOpError) -> anyhow::Result<u8> {
    match err {
        LockOpError::Distribution { path, diagnostics } => {
            for d in diagnostics.iter().filter(|d| d.is_error()) {
                eprintln!("{d}");
            }
            eprintln!(
                "error: `{}` has problems; `oent lint {}` shows them with context",
                path.display(),
                path.display()
            );
            Ok(exit::PROBLEMS)
        }
        LockOpError::Resolve(oent::resolve::ResolveError::NoSolution(text)) => {
            eprintln!("error: the distribution cannot be resolved\n\n{text}");
            Ok(exit::PROBLEMS)
        }
        LockOpError::Resolve(
            e @ (oent::resolve::ResolveError::AmbiguousCapability { .. }
            | oent::resolve::ResolveError::NoProvider { .. }),
        ) => {
            eprintln!("error: {e}");
            Ok(exit::PROBLEMS)
        }
        LockOpError::WouldChange { .. } => {
            eprintln!("error: {err}");
            Ok(exit::PROBLEMS)
        }
        other => Err(other.into()),
    }
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
        Err(e) => failure(e),
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
        Err(e) => failure(e),
    }
}

pub fn run_tree(args: TreeArgs) -> anyhow::Result<u8> {
    let outcome = match lock(args.distribution, Update::Nothing, &args.common)? {
        Ok(outcome) => outcome,
        Err(e) => return failure(e),
    };
    let graph = Graph::new(&outcome.resolution);
    match args.invert {
        Some(target) => {
            let target: ModuleName = target.parse().map_err(anyhow::Error::msg)?;
            if !outcome.resolution.modules.contains_key(&target) {
                anyhow::bail!("`{target}` is not part of this distribution's resolution");
            }
            graph.print(&target, &graph.dependents, &outcome.lock.distribution);
        }
        None => {
            println!("{}", outcome.lock.distribution);
            let roots = &outcome.resolution.roots;
            for (i, root) in roots.iter().enumerate() {
                graph.print_under(
                    root,
                    &graph.dependencies,
                    "",
                    i + 1 == roots.len(),
                    &mut BTreeSet::new(),
                );
            }
        }
    }
    Ok(exit::OK)
}

pub fn run_why(args: WhyArgs) -> anyhow::Result<u8> {
    let target: ModuleName = args.module.parse().map_err(anyhow::Error::msg)?;
    let outcome = match lock(args.distribution, Update::Nothing, &args.common)? {
        Ok(outcome) => outcome,
        Err(e) => return failure(e),
    };
    let Some(module) = outcome.resolution.modules.get(&target) else {
        println!("{target} is not part of this distribution");
        return Ok(exit::PROBLEMS);
    };
    let graph = Graph::new(&outcome.resolution);
    let roots: BTreeSet<ModuleName> = outcome.resolution.roots.iter().cloned().collect();
    println!(
        "{} {} is in {} because:",
        target, module.version, outcome.lock.distribution
    );
    for path in graph.paths_to(&target, &roots) {
        let chain: Vec<String> = path
            .iter()
            .map(|m| format!("{m} {}", outcome.resolution.modules[m].version))
            .collect();
        println!("  {} → {}", outcome.lock.distribution, chain.join(" → "));
    }
    Ok(exit::OK)
}

/// The resolution as a graph, both ways.
struct Graph<'r> {
    resolution: &'r Resolution,
    dependencies: BTreeMap<ModuleName, Vec<ModuleName>>,
    dependents: BTreeMap<ModuleName, Vec<ModuleName>>,
}

impl<'r> Graph<'r> {
    fn new(resolution: &'r Resolution) -> Self {
        let mut dependencies = BTreeMap::new();
        let mut dependents: BTreeMap<ModuleName, Vec<ModuleName>> = BTreeMap::new();
        for m in resolution.modules.values() {
            dependencies.insert(m.name.clone(), m.requires.clone());
            for dep in &m.requires {
                dependents
                    .entry(dep.clone())
                    .or_default()
                    .push(m.name.clone());
            }
        }
        Graph {
            resolution,
            dependencies,
            dependents,
        }
    }

    fn label(&self, name: &ModuleName) -> String {
        let m = &self.resolution.modules[name];
        let features = if m.features.is_empty() {
            String::new()
        } else {
            format!(" [{}]", m.features.join(", "))
        };
        format!("{name} {}{features}", m.version)
    }

    fn print(
        &self,
        start: &ModuleName,
        edges: &BTreeMap<ModuleName, Vec<ModuleName>>,
        distribution: &str,
    ) {
        println!("{}", self.label(start));
        let next = edges.get(start).cloned().unwrap_or_default();
        let asked = self.resolution.roots.contains(start);
        for (i, n) in next.iter().enumerate() {
            let last = i + 1 == next.len() && !asked;
            self.print_under(n, edges, "", last, &mut BTreeSet::from([start.clone()]));
        }
        if asked {
            println!("└── {distribution} (asks for it)");
        }
    }

    /// One line per module, `(*)` where a module already shown repeats.
    fn print_under(
        &self,
        name: &ModuleName,
        edges: &BTreeMap<ModuleName, Vec<ModuleName>>,
        indent: &str,
        last: bool,
        seen: &mut BTreeSet<ModuleName>,
    ) {
        let repeated = !seen.insert(name.clone());
        let branch = if last { "└── " } else { "├── " };
        println!(
            "{indent}{branch}{}{}",
            self.label(name),
            if repeated { " (*)" } else { "" }
        );
        if repeated {
            return;
        }
        let next = edges.get(name).cloned().unwrap_or_default();
        let indent = format!("{indent}{}", if last { "    " } else { "│   " });
        for (i, n) in next.iter().enumerate() {
            self.print_under(n, edges, &indent, i + 1 == next.len(), seen);
        }
    }

    /// Every dependency path from a root to `target`.
    fn paths_to(&self, target: &ModuleName, roots: &BTreeSet<ModuleName>) -> Vec<Vec<ModuleName>> {
        let mut paths = Vec::new();
        let mut stack = vec![vec![target.clone()]];
        while let Some(path) = stack.pop() {
            let head = path[0].clone();
            if roots.contains(&head) {
                paths.push(path.clone());
            }
            for parent in self.dependents.get(&head).into_iter().flatten() {
                if !path.contains(parent) {
                    let mut longer = vec![parent.clone()];
                    longer.extend(path.iter().cloned());
                    stack.push(longer);
                }
            }
        }
        paths.sort();
        paths
    }
}

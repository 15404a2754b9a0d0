//! `oent build`: load the workspace (resolve keeping the lock, fetch and
//! verify every module), run the checks, compute and check every value,
//! render every template for every établissement (modules on `--jobs`
//! threads, the bundle the same for any number), render the deployment
//! target, and write the bundle.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::Value;

use crate::manifest::distribution::Target;
use crate::manifest::lockfile::LOCK_FILE;
use crate::manifest::names::ModuleName;
use crate::manifest::{Code, Diagnostic, Module};
use crate::registry::fetch::Progress;
use crate::render::bundle::{BundleError, Shard, Staging};
use crate::render::context::{SharedContext, Sso, target_name};
use crate::render::deploy;
use crate::render::engine::{RenderError, render_module};
use crate::render::limits::{Budget, RenderLimits};
use crate::render::out_dir;
use crate::workspace::values::{CommandLineValue, ModuleValues, merged_settings, module_values};
use crate::workspace::{BuildCheck, Workspace, WorkspaceError, WorkspaceOptions};

#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The distribution, its lock and its registries.
    pub workspace: WorkspaceOptions,
    /// Default: `<distribution dir>/bundle`.
    pub out: Option<PathBuf>,
    /// Default: the distribution's `target`, else compose.
    pub target: Option<Target>,
    pub sets: Vec<CommandLineValue>,
    /// Checks run once the modules are resolved and read, before anything is
    /// rendered (licence policy, forks: later stages plug them in here).
    pub checks: Vec<Arc<dyn BuildCheck>>,
}

impl BuildOptions {
    /// The folder holding the distribution (see [`distribution_dir`]).
    pub(crate) fn distribution_dir(&self) -> PathBuf {
        distribution_dir(&self.workspace.distribution)
    }

    /// The bundle's folder: `out`, or `bundle/` beside the distribution.
    pub(crate) fn out_dir(&self) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| self.distribution_dir().join("bundle"))
    }
}

/// How the bundle is written (`oent build` only: other commands that
/// resolve as build does never write one).
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Replace a previous bundle even if it holds files its `bundle.json`
    /// does not list (they are deleted, each named in a warning).
    pub force: bool,
    pub limits: RenderLimits,
    /// `--deny warnings`: a warning refuses the build, and the previous
    /// bundle stays.
    pub deny_warnings: bool,
    /// Threads rendering modules at once; `None`: the cores available.
    pub jobs: Option<usize>,
}

#[derive(Debug)]
pub struct BuildOutcome {
    pub out: PathBuf,
    pub target: &'static str,
    pub files: usize,
    pub modules: usize,
    pub etablissements: usize,
    pub lock_changed: bool,
    pub warnings: Vec<Diagnostic>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Loading the distribution, resolving or fetching its modules failed.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// Problems with values or templates, all of them; nothing was written.
    #[error("{} problem(s); nothing was written", .0.len())]
    Problems(Vec<Diagnostic>),
    #[error(transparent)]
    Bundle(#[from] BundleError),
}

impl From<RenderError> for BuildError {
    fn from(e: RenderError) -> Self {
        match e {
            RenderError::Problems(problems) => BuildError::Problems(problems),
            RenderError::Bundle(e) => BuildError::Bundle(e),
        }
    }
}

/// The checks `oent build` runs once the modules are read (and `oent lint`
/// runs offline): the licence policy, and forks (their licence unchanged; with
/// `deny_unreversed`, their difference contributed upstream).
pub fn checks(deny_unreversed: bool) -> Vec<Arc<dyn BuildCheck>> {
    vec![
        Arc::new(crate::licence::LicenceCheck),
        Arc::new(crate::contribute::status::ForkCheck { deny_unreversed }),
    ]
}

pub fn build(options: &BuildOptions, progress: &dyn Progress) -> Result<BuildOutcome, BuildError> {
    build_with(options, &WriteOptions::default(), progress)
}

/// The folder holding the distribution named on the command line (a
/// distribution.yaml or its directory).
fn distribution_dir(distribution: &std::path::Path) -> PathBuf {
    if distribution.is_dir() {
        distribution.to_path_buf()
    } else {
        distribution
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf)
    }
}

pub fn build_with(
    options: &BuildOptions,
    write: &WriteOptions,
    progress: &dyn Progress,
) -> Result<BuildOutcome, BuildError> {
    // Before anything else: a refused output folder costs the user nothing.
    let out = out_dir::check(&options.out_dir(), &options.distribution_dir(), write.force)?;
    let workspace = Workspace::load(&options.workspace)?;
    render_workspace(&workspace, options, out, write, progress)
}

/// Checks, values and rendering of a loaded workspace into `out` (already
/// checked by [`out_dir::check`]).
pub(crate) fn render_workspace(
    workspace: &Workspace,
    options: &BuildOptions,
    out: out_dir::OutDir,
    write: &WriteOptions,
    progress: &dyn Progress,
) -> Result<BuildOutcome, BuildError> {
    let (lock, modules) = (&workspace.lock, &workspace.modules);
    let chain = workspace.chain();
    let top = chain.top();
    let mut warnings = workspace.warnings.clone();
    let resolved = workspace.resolved();
    let (errors, more): (Vec<Diagnostic>, Vec<Diagnostic>) = options
        .checks
        .iter()
        .flat_map(|c| c.check(&resolved))
        .partition(|d| d.severity == crate::manifest::Severity::Error);
    warnings.extend(more);
    let mut errors = errors;
    errors.extend(crate::resolve::databases::unmet_databases(
        &top.manifest_path,
        modules,
    ));
    let login =
        crate::manifest::login::plan(&top.manifest_path, modules).unwrap_or_else(|mut e| {
            errors.append(&mut e);
            None
        });
    if !errors.is_empty() {
        return Err(BuildError::Problems(errors));
    }
    let target = options
        .target
        .or_else(|| chain.layers.iter().rev().find_map(|l| l.target))
        .unwrap_or(Target::Compose);

    let mut problems = Vec::new();
    let settings = merged_settings(chain);
    if !settings.contains_key("domaine") {
        problems.push(
            Diagnostic::new(
                Code::MissingKey,
                &top.manifest_path,
                "no `settings.domaine` in the distribution nor in the ones it extends",
            )
            .key("settings.domaine")
            .help("add `settings: { domaine: ent.example.fr }`: services are published under it"),
        );
    }
    let values = match module_values(chain, modules, &options.sets) {
        Ok(values) => values,
        Err(mut more) => {
            problems.append(&mut more);
            BTreeMap::new()
        }
    };
    if !problems.is_empty() {
        return Err(BuildError::Problems(problems));
    }

    let mut shared = SharedContext::new(chain, target, &settings, modules);
    shared.sso = login.map(|plan| Sso::new(&plan, &settings, &values));
    let per_etab: u64 = modules
        .values()
        .map(|m| m.templates.iter().filter(|t| t.each.is_some()).count() as u64)
        .sum();
    let mut staging = Staging::begin(&out.shown, &out.resolved)?;
    let budget = Budget::start(write.limits);
    progress.start(per_etab * shared.etabs.len() as u64);
    let jobs = write.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let work: Vec<_> = modules.iter().map(|(n, m)| (m, &values[n])).collect();
    let rendered = render_modules(&shared, &work, &staging, &budget, progress, jobs);
    // In the modules' order, whichever thread finished first: the same
    // bundle and the same problems for any number of threads.
    for (shard, result) in rendered {
        staging.absorb(shard);
        match result {
            Ok(()) => {}
            Err(RenderError::Problems(mut more)) => problems.append(&mut more),
            Err(e) => return Err(e.into()),
        }
    }
    progress.finish();
    if !problems.is_empty() {
        return Err(BuildError::Problems(problems));
    }

    let deployment: Vec<(ModuleName, Value, deploy::Mounts)> = modules
        .iter()
        .map(|(n, m)| {
            let mut entry = deploy::deployment_module(m, &values[n], &staging, &shared);
            let mounts = deploy::take_mounts(&mut entry);
            (n.clone(), entry, mounts)
        })
        .collect();
    let target_label = target_name(target);
    warnings.extend(deploy::render(
        target_label,
        top.dir(),
        &shared,
        &top.name.slug(),
        deployment,
        &mut staging,
    )?);
    staging.write(LOCK_FILE, lock.lock.to_text().as_bytes())?;
    staging.write(
        "LICENCES.md",
        licences(&top.name.to_string(), modules).as_bytes(),
    )?;
    // bundle.json is written by `finish`, and counted here.
    let files = staging.len() + 1;
    // Named before the previous bundle goes: the user may still save them from it.
    warnings.extend(out.unlisted.iter().map(|file| {
        Diagnostic::new(
            Code::UnlistedBundleFile,
            &out.shown.join(file),
            "not listed by the previous bundle's bundle.json: deleted with it (--force)",
        )
        .help(format!(
            "keep your own files in `{}/` beside the bundle",
            out_dir::LOCAL_DIR
        ))
    }));
    if write.deny_warnings && !warnings.is_empty() {
        let denied = warnings
            .into_iter()
            .map(|mut w| {
                w.severity = crate::manifest::Severity::Error;
                w
            })
            .collect();
        return Err(BuildError::Problems(denied));
    }
    staging.finish(top.name.as_str(), &top.version.to_string(), target_label)?;
    Ok(BuildOutcome {
        out: out.shown,
        target: target_label,
        files,
        modules: modules.len(),
        etablissements: shared.etabs.len(),
        lock_changed: lock.changed,
        warnings,
    })
}

/// Renders each module of `work` into a shard of its own, on up to `jobs`
/// threads that take the next module as they finish one; the results come
/// back in the order of `work`. A module is rendered whole by one thread, so
/// its problems are found in the same order as by a single thread (and two
/// modules never write the same file: each has its own `conf/<slug>/`).
fn render_modules(
    shared: &SharedContext,
    work: &[(&Module, &ModuleValues)],
    staging: &Staging,
    budget: &Budget,
    progress: &dyn Progress,
    jobs: usize,
) -> Vec<(Shard, Result<(), RenderError>)> {
    let next = AtomicUsize::new(0);
    // The disk failed: the build stops, no thread starts another module.
    let stop = AtomicBool::new(false);
    let render = || {
        let mut done = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some((module, values)) = work.get(i) else {
                break;
            };
            let mut shard = staging.shard();
            let result = render_module(shared, module, values, &mut shard, budget, progress);
            if matches!(result, Err(RenderError::Bundle(_))) {
                stop.store(true, Ordering::Relaxed);
            }
            done.push((i, shard, result));
        }
        done
    };
    let mut done: Vec<_> = std::thread::scope(|scope| {
        let threads: Vec<_> = (1..jobs.clamp(1, work.len().max(1)))
            .map(|_| scope.spawn(render))
            .collect();
        let mut done = render();
        for thread in threads {
            done.extend(thread.join().expect("a rendering thread panicked"));
        }
        done
    });
    done.sort_by_key(|(i, ..)| *i);
    done.into_iter()
        .map(|(_, shard, result)| (shard, result))
        .collect()
}

/// LICENCES.md: what the bundle deploys, under which licence, and where its
/// sources are (the condition of reuse: modifications go back upstream).
fn licences(distribution: &str, modules: &BTreeMap<ModuleName, Module>) -> String {
    let mut text = format!(
        "# Licences — {distribution}\n\n| module | version | licence | sources |\n|---|---|---|---|\n"
    );
    for (name, m) in modules {
        text.push_str(&format!(
            "| {name} | {} | {} | {} |\n",
            m.version,
            m.licence,
            m.repository.as_deref().unwrap_or("—")
        ));
    }
    text
}

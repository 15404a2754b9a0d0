//! `oent build`: resolve (keeping the lock), fetch and verify every module,
//! compute and check every value, render every template for every
//! établissement, render the deployment target, and write the bundle.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use super::bundle::{BundleError, Staging};
use super::context::{SharedContext, target_name};
use super::deploy;
use super::engine::{RenderError, render_module};
use super::limits::{Budget, RenderLimits};
use super::out_dir;
use super::values::{CommandLineValue, merged_settings, module_values};
use crate::manifest::distribution::{DistributionChain, Target};
use crate::manifest::lockfile::LOCK_FILE;
use crate::manifest::names::ModuleName;
use crate::manifest::{Code, Diagnostic, Module, ReadError, module::MODULE_FILE};
use crate::package::unpack::{self, Limits, UnpackError};
use crate::registry::cache::Cache;
use crate::registry::fetch::Progress;
use crate::registry::source::FetchError;
use crate::resolve::Resolution;
use crate::resolve::lock::{LockOpError, LockOptions, LockOutcome, Update, lock_distribution};
use crate::resolve::sources::SourceSet;

#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub distribution: PathBuf,
    /// Default: `<distribution dir>/bundle`.
    pub out: Option<PathBuf>,
    /// Default: the distribution's `target`, else compose.
    pub target: Option<Target>,
    pub locked: bool,
    pub offline: bool,
    pub cache: Cache,
    pub sets: Vec<CommandLineValue>,
    /// Checks run once the modules are resolved and read, before anything is
    /// rendered (licence policy, forks: later stages plug them in here).
    pub checks: Vec<Arc<dyn BuildCheck>>,
}

/// What a [`BuildCheck`] sees: the distribution, its resolution, the
/// modules read from their archives, and the registries (to fetch other
/// versions, such as a fork's base).
pub struct Resolved<'a> {
    pub chain: &'a DistributionChain,
    pub resolution: &'a Resolution,
    pub modules: &'a BTreeMap<ModuleName, Module>,
    pub sources: &'a SourceSet,
    pub cache: &'a Cache,
}

/// A check of the resolved distribution: errors stop the build before
/// anything is written, warnings are reported with the bundle.
pub trait BuildCheck: std::fmt::Debug + Send + Sync {
    fn check(&self, resolved: &Resolved) -> Vec<Diagnostic>;
}

/// How the bundle is written (`oent build` only: other commands that
/// resolve as build does never write one).
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Replace a previous bundle even if it holds files its `bundle.json`
    /// does not list (they are deleted, each named in a warning).
    pub force: bool,
    pub limits: RenderLimits,
}

impl BuildOptions {
    /// Building keeps the lock: it resolves only what the lock does not pin.
    fn lock_options(&self) -> LockOptions {
        LockOptions {
            distribution: self.distribution.clone(),
            update: Update::Nothing,
            locked: self.locked,
            offline: self.offline,
            cache: self.cache.clone(),
        }
    }
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
    #[error(transparent)]
    Lock(Box<LockOpError>),
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Problems with values or templates, all of them; nothing was written.
    #[error("{} problem(s); nothing was written", .0.len())]
    Problems(Vec<Diagnostic>),
    #[error("{name} {version}: {source}")]
    Fetch {
        name: String,
        version: String,
        source: Box<FetchError>,
    },
    #[error("{name} {version} is in the lock but not in registry `{registry}`")]
    NotInRegistry {
        name: String,
        version: String,
        registry: String,
    },
    #[error("{name} {version}: the archive is refused: {source}")]
    Unpack {
        name: String,
        version: String,
        source: UnpackError,
    },
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error("cannot prepare `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl From<RenderError> for BuildError {
    fn from(e: RenderError) -> Self {
        match e {
            RenderError::Problems(problems) => BuildError::Problems(problems),
            RenderError::Bundle(e) => BuildError::Bundle(e),
        }
    }
}

impl From<LockOpError> for BuildError {
    fn from(e: LockOpError) -> Self {
        BuildError::Lock(Box::new(e))
    }
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
    let dist_dir = distribution_dir(&options.distribution);
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| dist_dir.join("bundle"));
    let out = out_dir::check(&out, &dist_dir, write.force)?;
    let (lock, modules) = resolve_and_fetch(options)?;
    let chain = &lock.chain;
    let top = chain.top();
    let mut warnings = lock.warnings.clone();
    let resolved = Resolved {
        chain,
        resolution: &lock.resolution,
        modules: &modules,
        sources: &lock.sources,
        cache: &options.cache,
    };
    let (errors, more): (Vec<Diagnostic>, Vec<Diagnostic>) = options
        .checks
        .iter()
        .flat_map(|c| c.check(&resolved))
        .partition(|d| d.severity == crate::manifest::Severity::Error);
    warnings.extend(more);
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
    let values = match module_values(chain, &modules, &options.sets) {
        Ok(values) => values,
        Err(mut more) => {
            problems.append(&mut more);
            BTreeMap::new()
        }
    };
    if !problems.is_empty() {
        return Err(BuildError::Problems(problems));
    }

    let shared = SharedContext::new(chain, target, &settings, &modules);
    let per_etab: u64 = modules
        .values()
        .map(|m| m.templates.iter().filter(|t| t.each.is_some()).count() as u64)
        .sum();
    let mut staging = Staging::begin(&out.shown, &out.resolved)?;
    let mut budget = Budget::start(write.limits);
    progress.start(per_etab * shared.etabs.len() as u64);
    for (name, module) in &modules {
        match render_module(
            &shared,
            module,
            &values[name],
            &mut staging,
            &mut budget,
            progress,
        ) {
            Ok(()) => {}
            Err(RenderError::Problems(mut more)) => problems.append(&mut more),
            Err(e) => return Err(e.into()),
        }
    }
    progress.finish();
    if !problems.is_empty() {
        return Err(BuildError::Problems(problems));
    }

    let deployment: Vec<(ModuleName, Value)> = modules
        .iter()
        .map(|(n, m)| {
            (
                n.clone(),
                deploy::deployment_module(m, &values[n], &staging),
            )
        })
        .collect();
    let target_label = target_name(target);
    deploy::render(
        target_label,
        top.dir(),
        &shared,
        &top.name.slug(),
        &deployment,
        &mut staging,
    )?;
    staging.write(LOCK_FILE, lock.lock.to_text().as_bytes())?;
    staging.write(
        "LICENCES.md",
        licences(&top.name.to_string(), &modules).as_bytes(),
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

/// The distribution and its resolved modules, fetched and read (for `oent values`).
pub fn resolved_modules(
    options: &BuildOptions,
) -> Result<(DistributionChain, BTreeMap<ModuleName, Module>), BuildError> {
    let (lock, modules) = resolve_and_fetch(options)?;
    Ok((lock.chain, modules))
}

/// Resolves (keeping the lock) and reads every resolved module: what
/// `oent licences` reports on, and what checks see.
pub fn resolve_and_fetch(
    options: &BuildOptions,
) -> Result<(LockOutcome, BTreeMap<ModuleName, Module>), BuildError> {
    let lock = lock_distribution(&options.lock_options())?;
    let modules = fetch_modules(&lock.sources, options, &lock.resolution)?;
    Ok((lock, modules))
}

/// The unpacked directory of one published version (its `module.yaml` not
/// yet validated), fetched, verified and unpacked into the cache if needed;
/// `sha256` when the caller knows which archive it expects.
pub fn fetch_module_dir(
    sources: &SourceSet,
    cache: &Cache,
    name: &ModuleName,
    version: &semver::Version,
    sha256: Option<&str>,
) -> Result<PathBuf, BuildError> {
    let version = version.to_string();
    let fetch_error = |source: FetchError| BuildError::Fetch {
        name: name.to_string(),
        version: version.clone(),
        source: Box::new(source),
    };
    let owner = sources
        .owner(name.namespace())
        .ok_or_else(|| BuildError::NotInRegistry {
            name: name.to_string(),
            version: version.clone(),
            registry: format!("(none owns namespace `{}`)", name.namespace()),
        })?;
    let line = owner
        .source
        .versions(name)
        .map_err(fetch_error)?
        .into_iter()
        .find(|l| l.version == version && sha256.is_none_or(|s| l.sha256 == s))
        .ok_or_else(|| BuildError::NotInRegistry {
            name: name.to_string(),
            version: version.clone(),
            registry: owner.name.clone(),
        })?;
    let dir = cache.root.join("modules").join(&line.sha256);
    if !dir.join(MODULE_FILE).is_file() {
        let archive = owner.source.archive(&line).map_err(fetch_error)?;
        let file = std::fs::File::open(&archive).map_err(|source| BuildError::Io {
            path: archive.clone(),
            source,
        })?;
        let root = format!("{}-{}", name.short_name(), version);
        let _ = std::fs::remove_dir_all(&dir);
        unpack::unpack(
            std::io::BufReader::new(file),
            &root,
            &dir,
            Limits::default(),
        )
        .map_err(|source| BuildError::Unpack {
            name: name.to_string(),
            version: version.clone(),
            source,
        })?;
    }
    Ok(dir)
}

/// Fetches, verifies and unpacks each module of the resolution into the
/// cache (`modules/<sha256>/`, content-addressed, unpacked safely and renamed
/// into place), then reads its manifest.
fn fetch_modules(
    sources: &SourceSet,
    options: &BuildOptions,
    resolution: &crate::resolve::Resolution,
) -> Result<BTreeMap<ModuleName, Module>, BuildError> {
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, resolved) in &resolution.modules {
        let dir = fetch_module_dir(
            sources,
            &options.cache,
            name,
            &resolved.version,
            Some(&resolved.sha256),
        )?;
        let loaded = Module::load(&dir.join(MODULE_FILE))?;
        if loaded.has_errors() {
            problems.extend(loaded.diagnostics);
            continue;
        }
        if let Some(module) = loaded.into_valid() {
            out.insert(name.clone(), module);
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(BuildError::Problems(problems))
    }
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

//! `oent update --dry-run` and `oent build --diff`: what an upgrade (or a
//! change to the distribution) would change, before anything is written.
//! The lock is resolved without being written, each bundle is rendered into
//! a temporary folder, and three lists come back: the modules that move, the
//! options whose default moved with them, and the bundle's files that
//! differ. The distribution's lock and bundle keep their bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::build::{BuildError, BuildOptions, WriteOptions, render_workspace};
use crate::manifest::lockfile::{LOCK_FILE, Lockfile};
use crate::manifest::names::ModuleName;
use crate::manifest::{Module, module::MODULE_FILE};
use crate::registry::fetch::Progress;
use crate::render::diff::{DiffError, FileChange, compare};
use crate::render::out_dir;
use crate::resolve::lock::Update;
pub use crate::resolve::lock::{ModuleChange, lock_changes};
use crate::workspace::values::{Provenance, module_values};
use crate::workspace::{Workspace, WorkspaceError, fetch_module_dir};

/// An option of a module that moves whose default is not the same in both
/// versions (`None`: no default, or no such option in that version).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DefaultChange {
    pub module: String,
    pub option: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
    /// The distribution (or one it extends) sets the option: the new
    /// default does not reach the bundle.
    pub set_by_distribution: bool,
}

/// What the preview found.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    /// The lock file that would be written (it is not).
    pub lock: PathBuf,
    pub modules: Vec<ModuleChange>,
    pub defaults: Vec<DefaultChange>,
    pub files: Vec<FileChange>,
    /// The files as `oent diff` shows them, unified diffs included.
    #[serde(skip)]
    pub report: String,
}

impl Preview {
    /// Nothing would change.
    pub fn is_empty(&self) -> bool {
        self.modules.is_empty() && self.defaults.is_empty() && self.files.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error(
        "`{}` does not exist: there is no locked version to compare with\nhelp: run `oent resolve` first (or `oent build`), then `oent update --dry-run`",
        .0.display()
    )]
    NoLock(PathBuf),
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    Diff(#[from] DiffError),
    #[error("cannot make a temporary folder to render into: {0}")]
    Temp(std::io::Error),
}

impl From<WorkspaceError> for PreviewError {
    fn from(e: WorkspaceError) -> Self {
        PreviewError::Build(BuildError::Workspace(e))
    }
}

/// `oent update --dry-run`: the lock as it is against the lock with `modules`
/// free to move (all when empty), both bundles rendered in a temporary folder.
pub fn update_preview(
    options: &BuildOptions,
    modules: Vec<ModuleName>,
    write: &WriteOptions,
    progress: &dyn Progress,
) -> Result<Preview, PreviewError> {
    let lock_path = lock_path(options);
    if !lock_path.is_file() {
        return Err(PreviewError::NoLock(lock_path));
    }
    let old = load(options, Update::Nothing)?;
    let new = load(options, Update::Modules(modules))?;
    if old.lock.lock == new.lock.lock {
        // Same lock, same distribution: rendering is deterministic, so the
        // two bundles would be the same bytes. Nothing to render.
        return Ok(Preview {
            lock: lock_path,
            modules: Vec::new(),
            defaults: Vec::new(),
            files: Vec::new(),
            report: String::new(),
        });
    }
    let temp = tempfile::tempdir().map_err(PreviewError::Temp)?;
    let old_bundle = render(&old, options, write, &temp.path().join("old"), progress)?;
    let new_bundle = render(&new, options, write, &temp.path().join("new"), progress)?;
    let bundle = compare(Some(&old_bundle), &new_bundle, 3)?;
    let (modules, defaults) = module_changes(&new, Some(&old.lock.lock), &old.modules)?;
    Ok(Preview {
        lock: lock_path,
        modules,
        defaults,
        files: bundle.files,
        report: bundle.report,
    })
}

/// `oent build --diff`: the bundle this build would write against the one
/// in its output folder, and the modules that move from the lock that
/// bundle was built with (its own `oent.lock`). Without a bundle yet, every
/// module and file is new.
pub fn build_preview(
    options: &BuildOptions,
    write: &WriteOptions,
    progress: &dyn Progress,
) -> Result<Preview, PreviewError> {
    let out = options.out_dir();
    let old_bundle = out
        .join(crate::render::bundle::BUNDLE_MANIFEST)
        .is_file()
        .then_some(out);
    let previous = match &old_bundle {
        Some(bundle) => Lockfile::read_with_text(&bundle.join(LOCK_FILE))
            .map_err(|e| WorkspaceError::Lock(Box::new(e.into())))?
            .map(|(lock, _)| lock),
        None => None,
    };
    let temp = tempfile::tempdir().map_err(PreviewError::Temp)?;
    let new = load(options, Update::Nothing)?;
    let new_bundle = render(&new, options, write, &temp.path().join("new"), progress)?;
    let bundle = compare(old_bundle.as_deref(), &new_bundle, 3)?;
    let (modules, defaults) = module_changes(&new, previous.as_ref(), &BTreeMap::new())?;
    Ok(Preview {
        lock: lock_path(options),
        modules,
        defaults,
        files: bundle.files,
        report: bundle.report,
    })
}

fn lock_path(options: &BuildOptions) -> PathBuf {
    options.distribution_dir().join(LOCK_FILE)
}

/// The workspace with `update`, its lock computed and never written.
fn load(options: &BuildOptions, update: Update) -> Result<Workspace, WorkspaceError> {
    let mut workspace = options.workspace.clone();
    workspace.update = update;
    workspace.dry_run = true;
    Workspace::load(&workspace)
}

/// Renders `workspace` into `out` (a new folder in the preview's temporary one).
fn render(
    workspace: &Workspace,
    options: &BuildOptions,
    write: &WriteOptions,
    out: &Path,
    progress: &dyn Progress,
) -> Result<PathBuf, PreviewError> {
    let dist_dir = options.distribution_dir();
    let checked = out_dir::check(out, &dist_dir, false).map_err(BuildError::from)?;
    render_workspace(workspace, options, checked, write, progress)?;
    Ok(out.to_path_buf())
}

/// The modules whose version differs between `previous` and `new`'s lock,
/// and the defaults that differ between their two versions. A module's
/// previous manifest is taken from `known` when there, else fetched (from
/// the cache, or the registries) as the previous lock pins it.
fn module_changes(
    new: &Workspace,
    previous: Option<&Lockfile>,
    known: &BTreeMap<ModuleName, Module>,
) -> Result<(Vec<ModuleChange>, Vec<DefaultChange>), WorkspaceError> {
    let pinned: BTreeMap<&str, &str> = previous
        .map(|l| {
            l.modules
                .iter()
                .map(|m| (m.name.as_str(), m.sha256.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let set = distribution_sets(new);
    let modules = lock_changes(previous, &new.lock.lock);
    let mut defaults = Vec::new();
    for change in &modules {
        let (Some(version), Some(_)) = (&change.old, &change.new) else {
            continue;
        };
        let (name, sha256) = (change.name.as_str(), pinned[change.name.as_str()]);
        let module_name: ModuleName = name.parse().expect("a locked name is valid");
        let previous_module = match known.get(&module_name) {
            Some(m) => m.clone(),
            None => previous_manifest(new, &module_name, version, sha256)?,
        };
        let current = &new.modules[&module_name];
        defaults.extend(default_changes(&previous_module, current, |option| {
            set.contains(&(module_name.clone(), option.to_owned()))
        }));
    }
    Ok((modules, defaults))
}

/// The manifest of a version the previous lock pins.
fn previous_manifest(
    workspace: &Workspace,
    name: &ModuleName,
    version: &str,
    sha256: &str,
) -> Result<Module, WorkspaceError> {
    let version: semver::Version = version.parse().map_err(|_| WorkspaceError::NotInRegistry {
        name: name.to_string(),
        version: version.to_owned(),
        registry: "(the previous lock's version is not semver)".into(),
    })?;
    let dir = fetch_module_dir(
        &workspace.lock.sources,
        &workspace.cache,
        name,
        &version,
        Some(sha256),
    )?;
    let loaded = Module::load(&dir.join(MODULE_FILE))?;
    if loaded.has_errors() {
        return Err(WorkspaceError::Problems(loaded.diagnostics));
    }
    Ok(loaded.into_valid().expect("no errors, so a module"))
}

/// The (module, option) pairs the distribution chain sets itself.
fn distribution_sets(workspace: &Workspace) -> BTreeSet<(ModuleName, String)> {
    // Values that do not type are the build's to report; here they only
    // mean "set".
    let Ok(values) = module_values(workspace.chain(), &workspace.modules, &[]) else {
        return BTreeSet::new();
    };
    values
        .into_iter()
        .flat_map(|(module, v)| {
            v.values
                .into_iter()
                .filter(|(_, value)| !matches!(value.from, Provenance::Default(_)))
                .map(move |(option, _)| (module.clone(), option))
        })
        .collect()
}

/// Each option whose default differs between `old` and `new` (declared in
/// one only counts), sorted by option name.
fn default_changes(
    old: &Module,
    new: &Module,
    is_set: impl Fn(&str) -> bool,
) -> Vec<DefaultChange> {
    let options: BTreeSet<&String> = old.config.keys().chain(new.config.keys()).collect();
    options
        .into_iter()
        .filter_map(|option| {
            let before = old.config.get(option).and_then(|o| o.default.clone());
            let after = new.config.get(option).and_then(|o| o.default.clone());
            (before != after).then(|| DefaultChange {
                module: new.name.to_string(),
                option: option.clone(),
                old: before,
                new: after,
                set_by_distribution: is_set(option),
            })
        })
        .collect()
}

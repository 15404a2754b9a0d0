//! `oent lint`: finds the manifests under the given paths, validates each
//! (modules with their templates, distributions with their `extends` chain,
//! établissements and values), and returns every diagnostic at once. The
//! report renderers (human, JSON, JUnit, GitLab Code Quality) live beside it.
//! A distribution is also resolved offline and checked as build would check
//! it (`distribution`): lint uses `manifest/`, `resolve/` and `workspace/`
//! (fetching, typed values, build checks).

pub mod codequality;
mod distribution;
pub mod human;
pub mod json;
pub mod junit;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::fsutil::normalize;
use crate::manifest::distribution::{DISTRIBUTION_FILE, DistributionChain};
use crate::manifest::module::MODULE_FILE;
use crate::manifest::names::ModuleName;
use crate::manifest::source::SourceFile;
use crate::manifest::{Diagnostic, Loaded, Module, ReadError, Severity};

#[derive(Debug, Clone)]
pub struct LintOptions {
    /// Files or directories; empty means `distribution.yaml`, `modules/` and
    /// `examples/` under `root`, those that exist.
    pub paths: Vec<PathBuf>,
    /// The repository root: where `modules/` (the catalogue) is looked for.
    pub root: PathBuf,
    /// Where the modules a distribution resolves to are found offline (the
    /// download cache); `None`: only the local catalogue is used.
    pub cache: Option<crate::registry::cache::Cache>,
    /// The checks `oent build` runs on a resolved distribution (licence
    /// policy, forks): lint runs them too, offline.
    pub checks: Vec<std::sync::Arc<dyn crate::workspace::BuildCheck>>,
}

#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error("`{}` does not exist", .0.display())]
    NoSuchPath(PathBuf),
    #[error("nothing to lint: neither `distribution.yaml`, `modules/` nor `examples/` exists in `{}`", .0.display())]
    NothingToLint(PathBuf),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("cannot list `{}`: {source}", path.display())]
    Walk {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Default)]
pub struct Report {
    /// Sorted by file, line, column; no duplicates.
    pub diagnostics: Vec<Diagnostic>,
    /// Every manifest checked, sorted.
    pub files: Vec<PathBuf>,
    /// Texts of the files diagnostics point into, for snippets.
    pub sources: BTreeMap<PathBuf, SourceFile>,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    /// Whether the run fails: any error, or any warning when warnings are denied.
    pub fn fails(&self, deny_warnings: bool) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.is_error() || deny_warnings)
    }
}

/// What kind of manifest a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Module,
    Distribution,
}

pub fn lint(options: &LintOptions) -> Result<Report, LintError> {
    let mut targets: BTreeSet<(PathBuf, Kind)> = BTreeSet::new();
    if options.paths.is_empty() {
        // A repository's catalogue and examples, or a distribution's own
        // folder (its distribution.yaml, and its forks under modules/).
        let distribution = relative_to(&options.root, DISTRIBUTION_FILE);
        let mut found = distribution.is_file();
        if found {
            targets.insert((distribution, Kind::Distribution));
        }
        for dir in ["modules", "examples"].map(|d| relative_to(&options.root, d)) {
            if dir.is_dir() {
                found = true;
                walk(&dir, &mut targets)?;
            }
        }
        if !found {
            return Err(LintError::NothingToLint(options.root.clone()));
        }
    } else {
        for path in &options.paths {
            if path.is_dir() {
                walk(path, &mut targets)?;
            } else if path.is_file() {
                targets.insert((normalize(path), kind_of(path)));
            } else {
                return Err(LintError::NoSuchPath(path.clone()));
            }
        }
    }

    let mut report = Report::default();
    let mut modules: BTreeMap<ModuleName, Module> = BTreeMap::new();
    let module_paths: Vec<&Path> = targets
        .iter()
        .filter(|(_, k)| *k == Kind::Module)
        .map(|(p, _)| p.as_path())
        .collect();
    for loaded in load_modules_in_parallel(&module_paths)? {
        report.diagnostics.extend(loaded.diagnostics);
        report
            .sources
            .extend(loaded.sources.into_iter().map(|s| (s.path.clone(), s)));
        if let Some(module) = loaded.value {
            modules.insert(module.name.clone(), module);
        }
    }
    // Distributions may name modules that were not linted this time: take
    // them from the repository's catalogue, silently (they are not the target).
    let catalogue = relative_to(&options.root, "modules");
    let needs_catalogue = targets.iter().any(|(_, k)| *k == Kind::Distribution);
    if needs_catalogue && catalogue.is_dir() {
        let mut extra = BTreeSet::new();
        walk(&catalogue, &mut extra)?;
        for (path, _) in extra
            .iter()
            .filter(|(p, k)| *k == Kind::Module && !targets.contains(&(p.clone(), Kind::Module)))
        {
            if let Ok(Some(module)) = Module::load(path).map(Loaded::into_valid) {
                modules.entry(module.name.clone()).or_insert(module);
            }
        }
    }
    for (path, _) in targets.iter().filter(|(_, k)| *k == Kind::Distribution) {
        let loaded = DistributionChain::load(path)?;
        report.diagnostics.extend(loaded.diagnostics);
        report
            .sources
            .extend(loaded.sources.into_iter().map(|s| (s.path.clone(), s)));
        // Kept even with errors: the values are checked all the same.
        if let Some(chain) = loaded.value {
            report.diagnostics.extend(distribution::check(
                &chain,
                &modules,
                options.cache.as_ref(),
                &options.checks,
            ));
        }
    }
    report.files = targets.into_iter().map(|(p, _)| p).collect();
    report.diagnostics.sort_by(|a, b| {
        (&a.path, a.line(), a.column(), a.code, &a.message).cmp(&(
            &b.path,
            b.line(),
            b.column(),
            b.code,
            &b.message,
        ))
    });
    report.diagnostics.dedup();
    // Keep texts only where a diagnostic needs a snippet.
    let cited: BTreeSet<&Path> = report
        .diagnostics
        .iter()
        .map(|d| d.path.as_path())
        .collect();
    report
        .sources
        .retain(|path, _| cited.contains(path.as_path()));
    Ok(report)
}

const WORKER_STACK: usize = 8 << 20;

/// Loads modules on every core: each file is independent, and a catalogue
/// of a thousand modules is checked in half the time on two cores.
fn load_modules_in_parallel(paths: &[&Path]) -> Result<Vec<Loaded<Module>>, LintError> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(paths.len().max(1));
    let chunk = paths.len().div_ceil(workers).max(1);
    let results: Vec<Result<Vec<Loaded<Module>>, ReadError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                // The main thread's stack size: YAML and Tera parsers recurse,
                // and a hostile file must meet the depth budget, not the stack's end.
                std::thread::Builder::new()
                    .stack_size(WORKER_STACK)
                    .spawn_scoped(scope, move || {
                        part.iter()
                            .map(|p| Module::load(p))
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .expect("a lint worker starts")
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a lint worker panicked"))
            .collect()
    });
    let mut out = Vec::with_capacity(paths.len());
    for part in results {
        out.extend(part?);
    }
    Ok(out)
}

/// `root/dir`, written without a leading `./` when root is the current directory.
fn relative_to(root: &Path, dir: &str) -> PathBuf {
    if root == Path::new(".") || root.as_os_str().is_empty() {
        PathBuf::from(dir)
    } else {
        root.join(dir)
    }
}

fn kind_of(path: &Path) -> Kind {
    if path.file_name().is_some_and(|n| n == DISTRIBUTION_FILE) {
        return Kind::Distribution;
    }
    if path.file_name().is_some_and(|n| n == MODULE_FILE) {
        return Kind::Module;
    }
    // Another name, given explicitly: look at its `schema:` line.
    let mut head = Vec::new();
    if let Ok(file) = std::fs::File::open(path) {
        use std::io::Read;
        let _ = file.take(4096).read_to_end(&mut head);
    }
    let head = String::from_utf8_lossy(&head);
    if head.contains("oent/distribution/") {
        Kind::Distribution
    } else {
        Kind::Module
    }
}

/// Collects module.yaml and distribution.yaml files, skipping hidden
/// directories and build output (`target/`, `node_modules/`).
fn walk(dir: &Path, out: &mut BTreeSet<(PathBuf, Kind)>) -> Result<(), LintError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LintError::Walk {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" {
                walk(&path, out)?;
            }
        } else if file_type.is_file() {
            if name == MODULE_FILE {
                out.insert((normalize(&path), Kind::Module));
            } else if name == DISTRIBUTION_FILE {
                out.insert((normalize(&path), Kind::Distribution));
            }
        }
    }
    Ok(())
}

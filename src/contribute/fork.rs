//! `oent fork NS/NAME [--as NS/NAME] [DIST]`: copies the module at its locked
//! version into `DIST/modules/<ns>/<name>/`, renames it, records
//! `fork-of: NS/NAME@VERSION` (its licence and repository unchanged),
//! publishes it into the distribution's own registry `DIST/registry/`
//! (created on first use, owning the fork's namespace), adds that registry
//! to `registries:` and renames the `modules:` entry, then resolves again.
//! Editing distribution.yaml is done on its text, so comments and layout stay.

use std::path::{Component, Path, PathBuf};

use super::ContributeError;
use super::status::fork_dir;
use crate::manifest::distribution::{DistributionChain, RegistryLocation};
use crate::manifest::module::MODULE_FILE;
use crate::manifest::names::ModuleName;
use crate::manifest::{Module, ReadError};
use crate::package::files::module_files;
use crate::registry::config::RegistryConfig;
use crate::registry::local::LocalRegistry;
use crate::resolve::lock::{LockOptions, Update};
use crate::workspace::{Workspace, WorkspaceOptions, fetch_module_dir};

/// The registry of a distribution's forks, beside its distribution.yaml.
pub const FORKS_REGISTRY: &str = "registry";

#[derive(Debug, Clone)]
pub struct ForkOptions {
    pub workspace: WorkspaceOptions,
    pub module: ModuleName,
    /// Default: `<distribution namespace>/<module short name>`.
    pub as_name: Option<ModuleName>,
}

#[derive(Debug, Clone)]
pub struct ForkOutcome {
    pub fork: ModuleName,
    pub base: ModuleName,
    pub version: semver::Version,
    pub dir: PathBuf,
    pub registry: PathBuf,
}

pub fn fork(options: &ForkOptions) -> Result<ForkOutcome, ContributeError> {
    let workspace = Workspace::load(&options.workspace)?;
    let lock = &workspace.lock;
    let chain = workspace.chain();
    let top = chain.top();
    let dist_dir = top.dir().to_path_buf();
    let base = &options.module;
    let resolved =
        lock.resolution
            .modules
            .get(base)
            .ok_or_else(|| ContributeError::NotResolved {
                module: base.to_string(),
                hint: "\nhelp: add it to `modules:` and run `oent resolve` first".into(),
            })?;
    let Some(request) = top.modules.get(base) else {
        return Err(ContributeError::NotNamed {
            module: base.to_string(),
            chain: crate_chain(chain, &lock.resolution, base),
            distribution: top.manifest_path.clone(),
        });
    };
    let base_dir = fetch_module_dir(
        &lock.sources,
        &options.workspace.cache,
        base,
        &resolved.version,
        Some(&resolved.sha256),
    )?;
    let base_module = load(&base_dir.join(MODULE_FILE))?;
    if base_module.repository.is_none() {
        return Err(ContributeError::NoRepository {
            module: format!("{base} {}", resolved.version),
        });
    }
    let name = match &options.as_name {
        Some(n) => n.clone(),
        None => format!("{}/{}", top.name.namespace(), base.short_name())
            .parse()
            .map_err(|e: String| ContributeError::Upstream(e))?,
    };
    if &name == base {
        return Err(ContributeError::SameName {
            name: name.to_string(),
        });
    }
    let dir = fork_dir(&dist_dir, &name);
    if dir.exists() {
        return Err(ContributeError::AlreadyExists(dir));
    }

    // 1. The fork's files: the base's, module.yaml renamed and marked.
    let files = module_files(&base_dir).map_err(|e| ContributeError::Files {
        dir: base_dir.clone(),
        message: e.to_string(),
    })?;
    for file in &files {
        let to = dir.join(&file.relative);
        let parent = to.parent().unwrap_or(&dir);
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        if file.relative == MODULE_FILE {
            let text = std::fs::read_to_string(&file.path).map_err(io(&file.path))?;
            let marked = mark_fork(&text, &name, &format!("{base}@{}", resolved.version));
            std::fs::write(&to, marked).map_err(io(&to))?;
        } else {
            std::fs::copy(&file.path, &to).map_err(io(&to))?;
        }
    }

    // 2. The distribution's registry of forks, and the fork published in it.
    let registry_dir = dist_dir.join(FORKS_REGISTRY);
    let registry = if registry_dir.join("registry.yaml").is_file() {
        LocalRegistry::open(&registry_dir)
    } else {
        LocalRegistry::init(
            &registry_dir,
            RegistryConfig {
                name: name.namespace().to_owned(),
                namespaces: vec![name.namespace().to_owned()],
                api: None,
                keys: Vec::new(),
                mirrors: Vec::new(),
            },
        )
    }
    .map_err(|source| ContributeError::Registry {
        path: registry_dir.clone(),
        source,
    })?;
    if !registry.config.owns(name.namespace()) {
        return Err(ContributeError::Upstream(format!(
            "`{}` does not own namespace `{}`: name the fork in its namespace ({}) with `--as`",
            registry_dir.display(),
            name.namespace(),
            registry.config.namespaces.join(", ")
        )));
    }
    crate::registry::publish::Publisher::new(registry, None)
        .build(&dist_dir.join("modules"))
        .map_err(|source| ContributeError::Registry {
            path: registry_dir.clone(),
            source,
        })?;

    // 3. distribution.yaml: the registry listed, the entry renamed.
    let path = &top.manifest_path;
    let mut text = std::fs::read_to_string(path).map_err(io(path))?;
    let key = &request.origin.span;
    if text.get(key.start..key.end) != Some(base.as_str()) {
        return Err(ContributeError::Upstream(format!(
            "cannot find the key `{base}` in {}: rename it to `{name}` by hand",
            path.display()
        )));
    }
    text.replace_range(key.start..key.end, name.as_str());
    let listed = chain.registries().iter().any(|r| match &r.location {
        RegistryLocation::Path(p) => same_dir(p, &registry_dir),
        RegistryLocation::Url(_) => false,
    });
    if !listed {
        text = add_registry(&text, chain, &dist_dir, name.namespace());
    }
    crate::fsutil::write_atomic(path, text.as_bytes()).map_err(io(path))?;

    // 4. Resolve again: the lock now names the fork.
    crate::workspace::lock(
        path,
        &LockOptions {
            update: Update::Nothing,
            locked: false,
            offline: options.workspace.offline,
            cache: options.workspace.cache.clone(),
        },
    )
    .map_err(|e| ContributeError::Workspace(Box::new(e.into())))?;
    Ok(ForkOutcome {
        fork: name,
        base: base.clone(),
        version: resolved.version.clone(),
        dir,
        registry: registry_dir,
    })
}

fn crate_chain(
    chain: &DistributionChain,
    resolution: &crate::resolve::Resolution,
    module: &ModuleName,
) -> String {
    let top = chain.top();
    let mut path = vec![module.to_string()];
    let mut current = module;
    // Walk up to a root through any module requiring the current one.
    while !resolution.roots.contains(current) {
        let Some(parent) = resolution
            .modules
            .values()
            .find(|m| m.requires.contains(current))
        else {
            break;
        };
        path.push(parent.name.to_string());
        current = &parent.name;
    }
    path.push(top.name.to_string());
    path.reverse();
    path.join(" → ")
}

fn load(path: &Path) -> Result<Module, ContributeError> {
    let loaded =
        Module::load(path).map_err(|e: ReadError| ContributeError::Upstream(e.to_string()))?;
    loaded
        .into_valid()
        .ok_or_else(|| ContributeError::Upstream(format!("`{}` has errors", path.display())))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ContributeError + '_ {
    move |source| ContributeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// module.yaml with `name:` replaced and `fork-of:` after `version:`.
pub fn mark_fork(text: &str, name: &ModuleName, base: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut marked = false;
    for line in text.split_inclusive('\n') {
        if line.starts_with("fork-of:") {
            continue;
        }
        if line.starts_with("name:") {
            out.push_str(&format!("name: {name}\n"));
            continue;
        }
        out.push_str(line);
        if line.starts_with("version:") && !marked {
            if !line.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&format!(
                "fork-of: {base}                 # oent fork: changes go back upstream\n"
            ));
            marked = true;
        }
    }
    out
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => crate::fsutil::normalize(a) == crate::fsutil::normalize(b),
    }
}

/// `registries:` with one more entry for the forks' registry. When the
/// distribution inherits its registries, they are written out in full
/// (a layer's `registries` replaces its base's).
fn add_registry(text: &str, chain: &DistributionChain, dist_dir: &Path, namespace: &str) -> String {
    let taken: Vec<String> = chain.registries().iter().map(|r| r.name.clone()).collect();
    let name = if taken.iter().any(|n| n == namespace) {
        format!("{namespace}-forks")
    } else {
        namespace.to_owned()
    };
    let entry = format!("{{ name: {name}, path: {FORKS_REGISTRY} }}");
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    if let Some(i) = lines.iter().position(|l| l.starts_with("registries:")) {
        let line = lines[i];
        let mut out: String = lines[..i].concat();
        if let Some(close) = line.rfind(']') {
            // Flow sequence on one line.
            let inner = line[..close].trim_end();
            let sep = if inner.ends_with('[') { "" } else { ", " };
            out.push_str(&format!("{inner}{sep}{entry}{}", &line[close..]));
        } else {
            let indent = lines
                .get(i + 1)
                .map(|l| l.len() - l.trim_start().len())
                .filter(|n| *n > 0)
                .unwrap_or(2);
            out.push_str(line);
            out.push_str(&format!("{}- {entry}\n", " ".repeat(indent)));
        }
        out.push_str(&lines[i + 1..].concat());
        return out;
    }
    let mut out = text.to_owned();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("registries:                             # written by oent fork\n");
    out.push_str(&format!("  - {entry}\n"));
    for r in chain.registries() {
        let location = match &r.location {
            RegistryLocation::Url(u) => format!("url: \"{u}\""),
            RegistryLocation::Path(p) => format!("path: {}", relative(dist_dir, p).display()),
        };
        out.push_str(&format!("  - name: {}\n    {location}\n", r.name));
        if !r.keys.is_empty() {
            out.push_str("    key:\n");
            for k in &r.keys {
                out.push_str(&format!("      - \"{k}\"\n"));
            }
        }
    }
    out
}

/// `to` relative to `from` (both made absolute first).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let abs = |p: &Path| {
        p.canonicalize().unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|c| crate::fsutil::normalize(&c.join(p)))
                .unwrap_or_else(|_| p.to_path_buf())
        })
    };
    let (from, to) = (abs(from), abs(to));
    let f: Vec<Component> = from.components().collect();
    let t: Vec<Component> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_a_fork() {
        let text = "schema: oent/module/v1\nname: openent/x\nversion: 1.0.0\nlicence: MIT\n";
        let marked = mark_fork(text, &"idf/x".parse().unwrap(), "openent/x@1.0.0");
        assert!(marked.starts_with(
            "schema: oent/module/v1\nname: idf/x\nversion: 1.0.0\nfork-of: openent/x@1.0.0"
        ));
        assert!(marked.ends_with("licence: MIT\n"));
    }
}

//! `oent info NS/NAME[@VERSION]`: one module as its registry publishes it
//! (versions, licence, what it deploys, dependencies, every option with its
//! type, bounds, default and doc as the module writes them), and the
//! [`Catalogue`] that `oent info` and `oent search` browse: the registries
//! of the distribution they run in, else the catalogue built into oent.

use std::path::{Path, PathBuf};

use crate::manifest::ReadError;
use crate::manifest::diagnostic::suggest;
use crate::manifest::distribution::{DISTRIBUTION_FILE, DistributionChain};
use crate::manifest::module::Module;
use crate::manifest::names::ModuleName;
use crate::manifest::option::{ConfigOption, OptionType, Scope};
use crate::registry::RegistryError;
use crate::registry::cache::Cache;
use crate::registry::index::IndexEntry;
use crate::registry::local::inspect_archive;
use crate::registry::source::FetchError;
use crate::resolve::lock::{LockOpError, embedded_sources, open_sources};
use crate::resolve::sources::{NamedSource, SourceSet};

#[derive(Debug, Clone)]
pub struct BrowseOptions {
    /// A distribution (its file or directory) whose registries to browse;
    /// `None`: the current directory's, if it holds one, else the
    /// catalogue built into oent.
    pub distribution: Option<PathBuf>,
    pub cache: Cache,
    pub offline: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BrowseError {
    #[error(transparent)]
    Read(Box<ReadError>),
    #[error("`{}` has errors; run `oent lint {}` for details", .0.display(), .0.display())]
    Distribution(PathBuf),
    #[error(transparent)]
    Sources(Box<LockOpError>),
    #[error("{}", unknown_module(.name, .suggestion.as_deref(), .searched))]
    UnknownModule {
        name: String,
        suggestion: Option<String>,
        /// Where it was looked for, in words.
        searched: String,
    },
    #[error("{name} has no version {version} in {registry}; published: {published}")]
    UnknownVersion {
        name: ModuleName,
        version: String,
        registry: String,
        published: String,
    },
    #[error("{name} in {registry}: {source}")]
    Fetch {
        name: String,
        registry: String,
        source: Box<FetchError>,
    },
    #[error(transparent)]
    Manifest(Box<RegistryError>),
}

impl From<ReadError> for BrowseError {
    fn from(e: ReadError) -> Self {
        BrowseError::Read(Box::new(e))
    }
}

impl From<LockOpError> for BrowseError {
    fn from(e: LockOpError) -> Self {
        BrowseError::Sources(Box::new(e))
    }
}

impl From<RegistryError> for BrowseError {
    fn from(e: RegistryError) -> Self {
        BrowseError::Manifest(Box::new(e))
    }
}

fn unknown_module(name: &str, suggestion: Option<&str>, searched: &str) -> String {
    let help = match suggestion {
        Some(meant) => format!("did you mean `{meant}`?"),
        None => "`oent search WORDS` lists the modules that match".to_owned(),
    };
    format!("no module `{name}` in {searched}\nhelp: {help}")
}

/// The registries browsed, opened once.
pub struct Catalogue {
    sources: SourceSet,
    /// Where modules are looked for, in words (for messages).
    pub searched: String,
}

impl Catalogue {
    pub fn open(options: &BrowseOptions) -> Result<Catalogue, BrowseError> {
        let file = match &options.distribution {
            Some(path) if path.is_dir() => Some(path.join(DISTRIBUTION_FILE)),
            Some(path) => Some(path.clone()),
            None => Some(PathBuf::from(DISTRIBUTION_FILE)).filter(|f| f.is_file()),
        };
        let Some(file) = file else {
            return Ok(Catalogue {
                sources: embedded_sources(&options.cache)?,
                searched: "the catalogue built into oent".to_owned(),
            });
        };
        let loaded = DistributionChain::load(&file)?;
        let Some(chain) = loaded
            .value
            .filter(|_| !loaded.diagnostics.iter().any(|d| d.is_error()))
        else {
            return Err(BrowseError::Distribution(file));
        };
        let names: Vec<String> = chain.registries().into_iter().map(|r| r.name).collect();
        let searched = match names.is_empty() {
            true => "the catalogue built into oent".to_owned(),
            false => format!(
                "the registries of {} ({})",
                file.display(),
                names.join(", ")
            ),
        };
        Ok(Catalogue {
            sources: open_sources(&chain, &options.cache, options.offline)?,
            searched,
        })
    }

    /// Every module the registries can list, each with the registry that
    /// serves its namespace, sorted; and the registries that cannot list
    /// theirs (static web servers), by name.
    pub fn modules(&self) -> (Vec<(ModuleName, &NamedSource)>, Vec<String>) {
        let mut modules = Vec::new();
        let mut unlistable = Vec::new();
        for named in self.sources.sources() {
            match named.source.modules() {
                Ok(names) => modules.extend(
                    names
                        .into_iter()
                        .filter(|n| {
                            self.sources
                                .owner(n.namespace())
                                .is_some_and(|o| std::ptr::eq(o, named))
                        })
                        .map(|n| (n, named)),
                ),
                Err(_) => unlistable.push(named.name.clone()),
            }
        }
        modules.sort_by(|a, b| a.0.cmp(&b.0));
        modules.dedup_by(|a, b| a.0 == b.0);
        (modules, unlistable)
    }

    /// The published versions of `name` (publication order) and the
    /// registry that serves them; an unknown name says the one meant.
    pub fn versions(&self, name: &str) -> Result<(&NamedSource, Vec<IndexEntry>), BrowseError> {
        let unknown = || {
            let (modules, _) = self.modules();
            let names: Vec<&str> = modules.iter().map(|(n, _)| n.as_str()).collect();
            BrowseError::UnknownModule {
                name: name.to_owned(),
                suggestion: suggest(name, names).map(str::to_owned),
                searched: self.searched.clone(),
            }
        };
        let Ok(parsed) = name.parse::<ModuleName>() else {
            return Err(unknown());
        };
        let owner = self.sources.owner(parsed.namespace()).ok_or_else(unknown)?;
        let lines = owner
            .source
            .versions(&parsed)
            .map_err(|source| BrowseError::Fetch {
                name: name.to_owned(),
                registry: owner.name.clone(),
                source: Box::new(source),
            })?;
        match lines.is_empty() {
            true => Err(unknown()),
            false => Ok((owner, lines)),
        }
    }

    /// The manifest of one published version, from its verified archive.
    pub fn manifest(&self, owner: &NamedSource, line: &IndexEntry) -> Result<Module, BrowseError> {
        let fetch = |source| BrowseError::Fetch {
            name: format!("{}@{}", line.name, line.version),
            registry: owner.name.clone(),
            source: Box::new(source),
        };
        let path = owner.source.archive(line).map_err(fetch)?;
        let bytes = std::fs::read(&path).map_err(|e| fetch(FetchError::Io { path, source: e }))?;
        let label = Path::new(&owner.name).join(&line.archive);
        Ok(inspect_archive(&label, &bytes)?)
    }
}

/// The newest version that is not yanked (else the newest), as `oent info`
/// shows by default.
pub fn newest(lines: &[IndexEntry]) -> Option<&IndexEntry> {
    lines
        .iter()
        .filter(|l| !l.yanked)
        .max_by(|a, b| a.version.cmp(&b.version))
        .or_else(|| lines.iter().max_by(|a, b| a.version.cmp(&b.version)))
}

/// One module as `oent info` shows it.
#[derive(Debug)]
pub struct ModuleInfo {
    /// The registry that serves it (its name in the distribution).
    pub registry: String,
    /// Every published version, newest first.
    pub versions: Vec<IndexEntry>,
    /// The manifest of the version shown.
    pub module: Module,
}

/// `oent info NS/NAME[@VERSION]`.
pub fn info(catalogue: &Catalogue, asked: &str) -> Result<ModuleInfo, BrowseError> {
    let (name, version) = match asked.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (asked, None),
    };
    let (owner, mut lines) = catalogue.versions(name)?;
    lines.sort_by(|a, b| b.version.cmp(&a.version));
    let line = match version {
        None => newest(&lines),
        Some(v) => lines.iter().find(|l| l.version.to_string() == v),
    };
    let Some(line) = line else {
        return Err(BrowseError::UnknownVersion {
            name: lines[0].name.clone(),
            version: version.unwrap_or_default().to_owned(),
            registry: owner.name.clone(),
            published: lines
                .iter()
                .map(|l| format!("{}{}", l.version, if l.yanked { " (yanked)" } else { "" }))
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let module = catalogue.manifest(owner, line)?;
    Ok(ModuleInfo {
        registry: owner.name.clone(),
        versions: lines,
        module,
    })
}

/// An option's type and bounds in a few words, as `oent info` and `oent
/// values` show them: `integer, min 1, max 90`, `string, at most 60
/// characters`, `list of url`, `enum: cas | saml`, `secret`.
pub fn option_kind(option: &ConfigOption) -> String {
    let mut kind = match option.ty {
        OptionType::List | OptionType::Map => {
            format!("{} of {}", option.ty.name(), option.items.name())
        }
        OptionType::Enum => format!("enum: {}", option.values.join(" | ")),
        ty => ty.name().to_owned(),
    };
    let unit = match option.ty {
        OptionType::String | OptionType::Url | OptionType::Email | OptionType::Hostname => {
            Some("characters")
        }
        OptionType::List => Some("items"),
        OptionType::Map => Some("entries"),
        _ => None,
    };
    for (bound, words) in [
        (&option.min, ("min", "at least")),
        (&option.max, ("max", "at most")),
    ] {
        if let Some((_, written)) = bound {
            kind.push_str(&match unit {
                Some(unit) => format!(", {} {written} {unit}", words.1),
                None => format!(", {} {written}", words.0),
            });
        }
    }
    if option.required {
        kind.push_str(", required");
    }
    if option.scope == Scope::Etablissement {
        kind.push_str(", per établissement");
    }
    kind
}

/// [`ModuleInfo`] as JSON, the shape docs/browse.md documents.
pub fn info_json(info: &ModuleInfo) -> serde_json::Value {
    let m = &info.module;
    let deps =
        |deps: &std::collections::BTreeMap<ModuleName, crate::manifest::module::Dependency>| {
            deps.iter()
                .map(|(n, d)| (n.to_string(), serde_json::Value::from(d.req.to_string())))
                .collect::<serde_json::Map<_, _>>()
        };
    serde_json::json!({
        "name": m.name.as_str(),
        "version": m.version.to_string(),
        "registry": info.registry,
        "versions": info.versions.iter().map(|l| serde_json::json!({
            "version": l.version.to_string(),
            "yanked": l.yanked,
        })).collect::<Vec<_>>(),
        "licence": m.licence,
        "summary": m.summary,
        "description": m.description,
        "category": m.category,
        "repository": m.repository,
        "deploys": m.service.as_ref().map(|s| serde_json::json!({
            "image": s.image,
            "ports": s.ports.iter().map(|p| serde_json::json!({
                "name": p.name,
                "port": p.port,
                "http": p.http,
                "publish": p.publish,
            })).collect::<Vec<_>>(),
            "databases": s.databases.iter().map(|d| d.engine).collect::<Vec<_>>(),
            "containers": s.containers.iter().map(|c| serde_json::json!({
                "name": c.name,
                "image": c.service.image,
            })).collect::<Vec<_>>(),
        })),
        "provides": m.provides,
        "requires": deps(&m.requires),
        "optional": deps(&m.optional),
        "conflicts": deps(&m.conflicts),
        "options": m.config.values().map(option_json).collect::<Vec<_>>(),
    })
}

/// What a module deploys, in a few words: `image, port 8080 (http /)`,
/// then its other containers and the databases it needs.
pub fn deploys(service: &crate::manifest::service::Service) -> String {
    let ports = |s: &crate::manifest::service::Service| {
        s.ports
            .iter()
            .map(|p| {
                let how = match (&p.http, p.publish) {
                    (Some(path), _) => format!(" (http {path})"),
                    (None, true) => " (published)".to_owned(),
                    (None, false) => String::new(),
                };
                format!("port {}{how}", p.port)
            })
            .collect::<Vec<_>>()
    };
    let mut parts = vec![service.image.clone()];
    parts.extend(ports(service));
    for container in &service.containers {
        let mut more = vec![format!("{}: {}", container.name, container.service.image)];
        more.extend(ports(&container.service));
        parts.push(more.join(", "));
    }
    if !service.databases.is_empty() {
        let engines: Vec<&str> = service.databases.iter().map(|d| d.engine).collect();
        parts.push(format!("needs {}", engines.join(", ")));
    }
    parts.join(", ")
}

/// One option declaration as JSON, for `oent info --format json`.
pub fn option_json(option: &ConfigOption) -> serde_json::Value {
    serde_json::json!({
        "name": option.name,
        "type": option.ty.name(),
        "items": matches!(option.ty, OptionType::List | OptionType::Map).then(|| option.items.name()),
        "values": (option.ty == OptionType::Enum).then_some(&option.values),
        "min": option.min.as_ref().map(|(_, w)| w),
        "max": option.max.as_ref().map(|(_, w)| w),
        "default": option.default,
        "required": option.required,
        "scope": match option.scope {
            Scope::Distribution => "distribution",
            Scope::Etablissement => "etablissement",
        },
        "doc": option.doc,
    })
}

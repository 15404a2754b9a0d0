//! What the resolver asks of registries, behind a trait (as uv's
//! `ResolverProvider`): the published versions of a module, and the modules
//! that provide a capability. `registry/` sources implement it through
//! [`super::sources::SourceSet`]; tests pass a [`MemoryIndex`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use semver::{Version, VersionReq};

use crate::manifest::names::ModuleName;
use crate::registry::index::{IndexEntry, parse_line};
use crate::registry::source::IndexText;

/// One published version, as the resolver sees it. The version and yanked
/// flag are read up front; the [`Contents`] may be read from the index line
/// only when first asked for, since the resolver needs them for a few
/// versions of each module only.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub version: Version,
    pub yanked: bool,
    /// The index line the contents come from, when not parsed yet.
    line: Option<RawLine>,
    /// Boxed: most candidates never fill it.
    contents: OnceLock<Box<Result<Contents, IndexError>>>,
}

/// What a version requires, and where it comes from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Contents {
    pub requires: Vec<(ModuleName, VersionReq)>,
    pub optional: Vec<(ModuleName, VersionReq)>,
    pub conflicts: Vec<(ModuleName, VersionReq)>,
    pub provides: Vec<String>,
    pub features: BTreeMap<String, Vec<ModuleName>>,
    pub sha256: String,
    /// Name of the registry it comes from.
    pub source: String,
    /// Its image, when pinned by digest.
    pub image: Option<String>,
}

/// Why a module's versions cannot be listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error(
        "no registry of the distribution serves namespace `{namespace}` (registries: {registries})"
    )]
    NoRegistry {
        namespace: String,
        registries: String,
    },
    #[error("{0}")]
    Source(String),
}

pub trait ModuleIndex {
    /// Every published version of `name` (yanked included), any order; empty
    /// when the registry that owns the namespace does not know the module.
    fn candidates(&self, name: &ModuleName) -> Result<Arc<Vec<Candidate>>, IndexError>;

    /// Modules that provide `capability` in some version.
    fn providers(&self, capability: &str) -> Result<Vec<ModuleName>, IndexError>;

    /// Every module the index can list, sorted: the names a misspelt one is
    /// compared with. Empty when the registries cannot list (static web servers).
    fn modules(&self) -> Vec<ModuleName> {
        Vec::new()
    }
}

impl Candidate {
    /// A candidate whose contents are known.
    pub fn new(version: Version, yanked: bool, contents: Contents) -> Candidate {
        Candidate {
            version,
            yanked,
            line: None,
            contents: OnceLock::from(Box::new(Ok(contents))),
        }
    }

    /// A candidate whose contents are read from `line` when first asked for.
    pub(crate) fn lazy(version: Version, yanked: bool, line: RawLine) -> Candidate {
        Candidate {
            version,
            yanked,
            line: Some(line),
            contents: OnceLock::new(),
        }
    }

    /// From an index line; an unreadable requirement is an error naming the line.
    pub fn from_line(line: &IndexEntry, source: &str) -> Result<Candidate, String> {
        Ok(Candidate::new(
            line.version.clone(),
            line.yanked,
            Contents::from_line(line, source)?,
        ))
    }

    /// Requirements, checksum and source: an error when the index line
    /// holding them turns out to be unreadable.
    pub fn contents(&self) -> Result<&Contents, IndexError> {
        let parsed = self.contents.get_or_init(|| {
            Box::new(match &self.line {
                Some(line) => line.contents(),
                None => Ok(Contents::default()),
            })
        });
        parsed.as_ref().as_ref().map_err(Clone::clone)
    }

    fn contents_mut(&mut self) -> &mut Contents {
        let _ = self.contents();
        let parsed = self.contents.get_mut().expect("just filled");
        parsed.as_mut().as_mut().expect("built in memory")
    }
}

impl Contents {
    /// The contents of an index line; an unreadable requirement is an error
    /// naming the line.
    pub fn from_line(line: &IndexEntry, source: &str) -> Result<Contents, String> {
        let deps =
            |map: &BTreeMap<String, String>| -> Result<Vec<(ModuleName, VersionReq)>, String> {
                map.iter()
                    .map(|(n, r)| {
                        let name = n
                            .parse()
                            .map_err(|e| format!("{} {}: {e}", line.name, line.version))?;
                        let req = VersionReq::parse(r).map_err(|e| {
                            format!(
                                "{} {}: requirement `{r}` of `{n}`: {e}",
                                line.name, line.version
                            )
                        })?;
                        Ok((name, req))
                    })
                    .collect()
            };
        let features = line
            .features
            .iter()
            .map(|(f, ms)| {
                Ok((
                    f.clone(),
                    ms.iter()
                        .map(|m| m.parse())
                        .collect::<Result<Vec<_>, String>>()?,
                ))
            })
            .collect::<Result<_, String>>()?;
        Ok(Contents {
            requires: deps(&line.requires)?,
            optional: deps(&line.optional)?,
            conflicts: deps(&line.conflicts)?,
            provides: line.provides.clone(),
            features,
            sha256: line.sha256.to_string(),
            source: source.to_owned(),
            image: line.image.clone(),
        })
    }
}

/// An index held in memory, for tests and benchmarks.
#[derive(Debug, Default, Clone)]
pub struct MemoryIndex {
    modules: BTreeMap<ModuleName, Arc<Vec<Candidate>>>,
}

impl MemoryIndex {
    pub fn add(&mut self, name: &str, candidate: Candidate) {
        let name: ModuleName = name.parse().expect("valid module name");
        Arc::make_mut(self.modules.entry(name).or_default()).push(candidate);
    }
}

impl ModuleIndex for MemoryIndex {
    fn candidates(&self, name: &ModuleName) -> Result<Arc<Vec<Candidate>>, IndexError> {
        Ok(self.modules.get(name).cloned().unwrap_or_default())
    }

    fn providers(&self, capability: &str) -> Result<Vec<ModuleName>, IndexError> {
        Ok(self
            .modules
            .iter()
            .filter(|(_, cs)| {
                cs.iter().any(|c| {
                    c.contents()
                        .is_ok_and(|c| c.provides.iter().any(|p| p == capability))
                })
            })
            .map(|(n, _)| n.clone())
            .collect())
    }

    fn modules(&self) -> Vec<ModuleName> {
        self.modules.keys().cloned().collect()
    }
}

/// A compact way to write candidates in tests: `candidate("1.2.0").requires("openent/x", "^1")`.
pub fn candidate(version: &str) -> Candidate {
    Candidate::new(
        Version::parse(version).expect("valid version"),
        false,
        Contents {
            sha256: format!("{:0>64}", version.replace(['.', '-'], "")),
            source: "test".into(),
            ..Contents::default()
        },
    )
}

impl Candidate {
    pub fn requires(mut self, name: &str, req: &str) -> Self {
        self.contents_mut().requires.push(dependency(name, req));
        self
    }
    pub fn optional(mut self, name: &str, req: &str) -> Self {
        self.contents_mut().optional.push(dependency(name, req));
        self
    }
    pub fn conflicts(mut self, name: &str, req: &str) -> Self {
        self.contents_mut().conflicts.push(dependency(name, req));
        self
    }
    pub fn provides(mut self, capability: &str) -> Self {
        self.contents_mut().provides.push(capability.into());
        self
    }
    pub fn feature(mut self, feature: &str, enables: &[&str]) -> Self {
        self.contents_mut().features.insert(
            feature.into(),
            enables.iter().map(|n| n.parse().expect("name")).collect(),
        );
        self
    }
    pub fn yanked(mut self) -> Self {
        self.yanked = true;
        self
    }
}

fn dependency(name: &str, req: &str) -> (ModuleName, VersionReq) {
    (
        name.parse().expect("name"),
        VersionReq::parse(req).expect("req"),
    )
}
/// An index file's text, shared by the candidates read from it.
#[derive(Debug)]
pub(crate) struct IndexFile {
    /// The registry's name in the distribution.
    registry: String,
    path: PathBuf,
    pub(crate) text: String,
}

/// Where a candidate's index line is, to parse it when first needed.
#[derive(Debug, Clone)]
pub(crate) struct RawLine {
    file: Arc<IndexFile>,
    start: usize,
    end: usize,
    /// From 1, for messages.
    number: usize,
}

impl IndexFile {
    pub(crate) fn new(registry: &str, index: IndexText) -> IndexFile {
        IndexFile {
            registry: registry.to_owned(),
            path: index.path,
            text: index.text,
        }
    }
}

impl RawLine {
    pub(crate) fn new(
        file: &Arc<IndexFile>,
        span: std::ops::Range<usize>,
        number: usize,
    ) -> RawLine {
        RawLine {
            file: file.clone(),
            start: span.start,
            end: span.end,
            number,
        }
    }

    /// The line's contents, or why it is unreadable, as the strict reader says it.
    pub(crate) fn contents(&self) -> Result<Contents, IndexError> {
        let file = &self.file;
        let source = |message: String| {
            IndexError::Source(format!("registry `{}`: {message}", file.registry))
        };
        let raw = &file.text[self.start..self.end];
        match parse_line(&file.path, self.number, raw) {
            Ok(Some(line)) => Contents::from_line(&line, &file.registry).map_err(source),
            Ok(None) => unreachable!("the line's format number was read up front"),
            Err(e) => Err(source(e.to_string())),
        }
    }
}

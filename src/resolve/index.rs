//! What the resolver asks of registries, behind a trait (as uv's
//! `ResolverProvider`): the published versions of a module, and the modules
//! that provide a capability. `registry/` sources implement it through
//! [`super::sources::SourceSet`]; tests pass a [`MemoryIndex`].

use std::collections::BTreeMap;
use std::sync::Arc;

use semver::{Version, VersionReq};

use crate::manifest::names::ModuleName;
use crate::registry::index::IndexLine;

/// One published version, as the resolver sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub version: Version,
    pub requires: Vec<(ModuleName, VersionReq)>,
    pub optional: Vec<(ModuleName, VersionReq)>,
    pub conflicts: Vec<(ModuleName, VersionReq)>,
    pub provides: Vec<String>,
    pub features: BTreeMap<String, Vec<ModuleName>>,
    pub yanked: bool,
    pub sha256: String,
    /// Name of the registry it comes from.
    pub source: String,
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
}

impl Candidate {
    /// From an index line; an unreadable requirement is an error naming the line.
    pub fn from_line(line: &IndexLine, source: &str) -> Result<Candidate, String> {
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
        Ok(Candidate {
            version: Version::parse(&line.version)
                .map_err(|e| format!("{} `{}`: {e}", line.name, line.version))?,
            requires: deps(&line.requires)?,
            optional: deps(&line.optional)?,
            conflicts: deps(&line.conflicts)?,
            provides: line.provides.clone(),
            features,
            yanked: line.yanked,
            sha256: line.sha256.clone(),
            source: source.to_owned(),
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
                cs.iter()
                    .any(|c| c.provides.iter().any(|p| p == capability))
            })
            .map(|(n, _)| n.clone())
            .collect())
    }
}

/// A compact way to write candidates in tests: `candidate("1.2.0").requires("openent/x", "^1")`.
pub fn candidate(version: &str) -> Candidate {
    Candidate {
        version: Version::parse(version).expect("valid version"),
        requires: Vec::new(),
        optional: Vec::new(),
        conflicts: Vec::new(),
        provides: Vec::new(),
        features: BTreeMap::new(),
        yanked: false,
        sha256: format!("{:0>64}", version.replace(['.', '-'], "")),
        source: "test".into(),
    }
}

impl Candidate {
    pub fn requires(mut self, name: &str, req: &str) -> Self {
        self.requires.push((
            name.parse().expect("name"),
            VersionReq::parse(req).expect("req"),
        ));
        self
    }
    pub fn optional(mut self, name: &str, req: &str) -> Self {
        self.optional.push((
            name.parse().expect("name"),
            VersionReq::parse(req).expect("req"),
        ));
        self
    }
    pub fn conflicts(mut self, name: &str, req: &str) -> Self {
        self.conflicts.push((
            name.parse().expect("name"),
            VersionReq::parse(req).expect("req"),
        ));
        self
    }
    pub fn provides(mut self, capability: &str) -> Self {
        self.provides.push(capability.into());
        self
    }
    pub fn feature(mut self, feature: &str, enables: &[&str]) -> Self {
        self.features.insert(
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

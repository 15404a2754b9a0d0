//! Resolution: which module versions a distribution gets, and why. Uses
//! `manifest/` and `registry/`.
//!
//! - [`ranges`]: cargo's requirement semantics as pubgrub ranges (with "absent");
//! - [`index`]: the [`ModuleIndex`] trait the resolver asks, and an in-memory index;
//! - `index_text`, `line_head` (private): index files read lazily, the
//!   version of each line up front, its contents on demand;
//! - [`sources`]: the index over a distribution's registries (namespace ownership);
//! - `package`, `provider`, `report` (private): pubgrub's view, the
//!   provider, and conflict explanations as sentences with their hints apart;
//! - [`graph`]: a resolution both ways, for `oent tree` and `oent why`;
//! - [`lock`]: resolving a distribution on disk into `oent.lock`;
//! - [`unknown`]: names asked for that no registry publishes, and the name meant;
//! - [`databases`]: database engines a resolution needs and does not deploy.
//!
//! Rules: the newest allowed version; pre-releases only when a requirement
//! names one; yanked versions never picked anew but kept when locked; locked
//! versions kept while they satisfy; optional modules installed only when a
//! feature or the distribution asks; conflicts honoured; a capability asked
//! for by name is satisfied by its only provider, or the distribution must choose.

pub mod databases;
pub mod graph;
pub mod index;
mod index_text;
mod line_head;
pub mod lock;
mod package;
mod provider;
pub mod ranges;
mod report;
pub mod sources;
pub mod unknown;

use std::collections::{BTreeMap, BTreeSet};

use pubgrub::PubGrubError;
use semver::{Version, VersionReq};

use crate::manifest::etablissement::Origin;
use crate::manifest::names::ModuleName;
pub use index::{Candidate, Contents, IndexError, MemoryIndex, ModuleIndex};
use package::Pkg;
use provider::Provider;
use ranges::Key;

/// A module the distribution asks for, and the line that asks.
#[derive(Debug, Clone, PartialEq)]
pub struct RootRequirement {
    pub name: ModuleName,
    pub req: VersionReq,
    pub features: Vec<String>,
    pub origin: Origin,
}

/// A capability the distribution asks for by name.
#[derive(Debug, Clone, PartialEq)]
pub struct CapabilityRequirement {
    pub capability: String,
    pub req: VersionReq,
    pub origin: Origin,
}

#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The distribution's name, for messages.
    pub distribution: String,
    pub roots: Vec<RootRequirement>,
    pub capabilities: Vec<CapabilityRequirement>,
    /// Versions from the lock file, kept when they still satisfy.
    pub locked: BTreeMap<ModuleName, Version>,
}

/// One module of the solution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub name: ModuleName,
    pub version: Version,
    pub source: String,
    pub sha256: String,
    /// Modules it depends on in this solution (requires, and optional ones
    /// that are present), sorted.
    pub requires: Vec<ModuleName>,
    /// Features enabled, sorted.
    pub features: Vec<String>,
    /// Its image, when the module pins it by digest.
    pub image: Option<String>,
}

/// The solution, sorted by module name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resolution {
    pub modules: BTreeMap<ModuleName, Resolved>,
    /// What the distribution asked for (capabilities resolved to their provider), sorted.
    pub roots: Vec<ModuleName>,
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Why no set of versions fits, and apart from it what to change: the
    /// caller prints the report as it is and each hint as a `help:` line.
    #[error("{report}{}", hints.iter().map(|h| format!("help: {h}\n")).collect::<String>())]
    NoSolution {
        /// One sentence per line, each ending in a newline.
        report: String,
        /// What to change, one per entry, without the `help: ` prefix.
        hints: Vec<String>,
    },
    /// Hints apart, as for `NoSolution`: the capability meant, when one is close.
    #[error(
        "the distribution asks for capability `{capability}` ({origin}), which no module provides{}",
        help_lines(hints)
    )]
    NoProvider {
        capability: String,
        /// Boxed: the error stays small on the path where nothing fails.
        origin: Box<Origin>,
        /// What to change, without the `help: ` prefix.
        hints: Vec<String>,
    },
    /// Hints apart, as for `NoSolution`: how to choose one provider.
    #[error(
        "the distribution asks for capability `{capability}` ({origin}), which several modules provide: {}{}",
        providers.join(", "),
        help_lines(hints)
    )]
    AmbiguousCapability {
        capability: String,
        /// Boxed: the error stays small on the path where nothing fails.
        origin: Box<Origin>,
        providers: Vec<String>,
        /// What to change, without the `help: ` prefix.
        hints: Vec<String>,
    },
    #[error(transparent)]
    Index(#[from] IndexError),
}

impl ResolveError {
    /// What to change, apart from what went wrong: printed as `help:` lines.
    pub fn hints(&self) -> &[String] {
        match self {
            ResolveError::NoSolution { hints, .. }
            | ResolveError::NoProvider { hints, .. }
            | ResolveError::AmbiguousCapability { hints, .. } => hints,
            ResolveError::Index(_) => &[],
        }
    }
}

/// Each hint as a `help:` line of an error's text.
fn help_lines(hints: &[String]) -> String {
    hints.iter().map(|h| format!("\nhelp: {h}")).collect()
}

/// Resolves `request` against `index`.
pub fn resolve(request: &Request, index: &dyn ModuleIndex) -> Result<Resolution, ResolveError> {
    let roots = with_capabilities(request, index)?;
    let provider = Provider::new(index, &roots, &request.locked);
    let root = Pkg::Root(request.distribution.clone());
    let solution = match pubgrub::resolve(&provider, root, Key::Release(0, 0, 0)) {
        Ok(solution) => solution,
        Err(PubGrubError::NoSolution(tree)) => {
            let reporter = report::Reporter {
                provider: &provider,
                roots: &roots,
                distribution: &request.distribution,
            };
            let (report, mut hints) = reporter.explain(&tree);
            hints.extend(
                unknown::unknown_requests(request, index)
                    .iter()
                    .filter_map(unknown::UnknownRequest::hint),
            );
            return Err(ResolveError::NoSolution { report, hints });
        }
        Err(
            PubGrubError::ErrorRetrievingDependencies { source, .. }
            | PubGrubError::ErrorChoosingVersion { source, .. },
        ) => return Err(source.into()),
        Err(PubGrubError::ErrorInShouldCancel(source)) => return Err(source.into()),
    };
    let mut features: BTreeMap<ModuleName, BTreeSet<String>> = BTreeMap::new();
    let mut chosen: BTreeMap<ModuleName, Version> = BTreeMap::new();
    for (pkg, key) in solution {
        match (pkg, key.version()) {
            (Pkg::Module(name), Some(v)) => {
                chosen.insert(name, v);
            }
            (Pkg::Feature(name, f), _) => {
                features.entry(name).or_default().insert(f);
            }
            _ => {}
        }
    }
    let mut resolution = Resolution {
        roots: roots
            .iter()
            .map(|r| r.name.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        ..Resolution::default()
    };
    for (name, version) in &chosen {
        let found = provider
            .candidate(name, version)?
            .expect("a chosen version comes from the index");
        let candidate = found.contents()?;
        let requires: BTreeSet<ModuleName> = candidate
            .requires
            .iter()
            .chain(&candidate.optional)
            .map(|(n, _)| n.clone())
            .filter(|n| chosen.contains_key(n))
            .collect();
        resolution.modules.insert(
            name.clone(),
            Resolved {
                name: name.clone(),
                version: version.clone(),
                source: candidate.source.clone(),
                sha256: candidate.sha256.clone(),
                requires: requires.into_iter().collect(),
                features: features
                    .remove(name)
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
                image: candidate.image.clone(),
            },
        );
    }
    Ok(resolution)
}

/// Capabilities asked for by name become requirements on their provider.
fn with_capabilities(
    request: &Request,
    index: &dyn ModuleIndex,
) -> Result<Vec<RootRequirement>, ResolveError> {
    let mut roots = request.roots.clone();
    for cap in &request.capabilities {
        let providers = index.providers(&cap.capability)?;
        // A provider the distribution already names settles the choice.
        if providers.iter().any(|p| roots.iter().any(|r| &r.name == p)) {
            continue;
        }
        match providers.as_slice() {
            [] => {
                let unknown = unknown::unknown_requests(
                    &Request {
                        capabilities: vec![cap.clone()],
                        ..Request::default()
                    },
                    index,
                );
                return Err(ResolveError::NoProvider {
                    capability: cap.capability.clone(),
                    origin: Box::new(cap.origin.clone()),
                    hints: unknown
                        .into_iter()
                        .filter_map(|u| u.suggestion)
                        .map(|meant| format!("did you mean `{meant}`?"))
                        .take(1)
                        .collect(),
                });
            }
            [only] => roots.push(RootRequirement {
                name: only.clone(),
                req: cap.req.clone(),
                features: Vec::new(),
                origin: cap.origin.clone(),
            }),
            many => {
                return Err(ResolveError::AmbiguousCapability {
                    capability: cap.capability.clone(),
                    origin: Box::new(cap.origin.clone()),
                    providers: many.iter().map(ToString::to_string).collect(),
                    hints: vec![format!(
                        "choose one by naming it under `modules:` instead of `{}`",
                        cap.capability
                    )],
                });
            }
        }
    }
    Ok(roots)
}

#[cfg(test)]
mod tests;

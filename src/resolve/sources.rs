//! The distribution's registries as one [`ModuleIndex`]. Each namespace is
//! served by the one registry that owns it (its `registry.yaml` says so): a
//! module is never taken from a registry that does not own its namespace,
//! whatever that registry's index holds, so a foreign registry cannot
//! substitute a module (no dependency confusion).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;

use super::index::{Candidate, IndexError, ModuleIndex};
use super::index_text::read_lazily;
use crate::manifest::names::ModuleName;
use crate::registry::source::{FetchError, Source};

pub struct NamedSource {
    /// The name the distribution gives the registry (`registries[].name`).
    pub name: String,
    pub source: Box<dyn Source>,
}

pub struct SourceSet {
    sources: Vec<NamedSource>,
    /// Namespace → index in `sources`.
    owners: BTreeMap<String, usize>,
    cache: Mutex<FxHashMap<ModuleName, Arc<Vec<Candidate>>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceSetError {
    #[error(
        "namespace `{namespace}` is owned by two registries of the distribution, `{first}` and `{second}`; keep one"
    )]
    DuplicateOwner {
        namespace: String,
        first: String,
        second: String,
    },
    #[error("registry `{name}`: {source}")]
    Fetch { name: String, source: FetchError },
}

impl std::fmt::Debug for SourceSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceSet")
            .field("registries", &self.registry_names())
            .field("owners", &self.owners)
            .finish()
    }
}

impl SourceSet {
    /// Reads each registry's `registry.yaml` to learn which namespaces it
    /// owns and which it mirrors. A namespace is served by its owner when
    /// the distribution lists it, else by the first registry that mirrors
    /// it (a département's forge mirroring the association's modules).
    pub fn new(sources: Vec<NamedSource>) -> Result<SourceSet, SourceSetError> {
        let mut owners: BTreeMap<String, usize> = BTreeMap::new();
        let mut mirrored: BTreeMap<String, usize> = BTreeMap::new();
        for (i, named) in sources.iter().enumerate() {
            let config = named
                .source
                .config()
                .map_err(|source| SourceSetError::Fetch {
                    name: named.name.clone(),
                    source,
                })?;
            for mirror in &config.mirrors {
                for namespace in &mirror.namespaces {
                    mirrored.entry(namespace.clone()).or_insert(i);
                }
            }
            for namespace in config.namespaces {
                if let Some(&first) = owners.get(&namespace) {
                    return Err(SourceSetError::DuplicateOwner {
                        namespace,
                        first: sources[first].name.clone(),
                        second: named.name.clone(),
                    });
                }
                owners.insert(namespace, i);
            }
        }
        for (namespace, i) in mirrored {
            owners.entry(namespace).or_insert(i);
        }
        Ok(SourceSet {
            sources,
            owners,
            cache: Mutex::new(FxHashMap::default()),
        })
    }

    /// The registries, in the distribution's order (for browsing them).
    pub fn sources(&self) -> &[NamedSource] {
        &self.sources
    }

    pub fn owner(&self, namespace: &str) -> Option<&NamedSource> {
        self.owners.get(namespace).map(|&i| &self.sources[i])
    }

    /// Reads, ahead of the solver, the index file of every module of the
    /// registries that can list their modules (directories), until `stop`.
    /// Errors are left for the solver to meet, if it ever asks for the module.
    pub fn prefetch(&self, stop: &std::sync::atomic::AtomicBool) {
        use std::sync::atomic::Ordering;
        for named in &self.sources {
            let Ok(modules) = named.source.modules() else {
                continue;
            };
            for module in modules {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let owned = self
                    .owner(module.namespace())
                    .is_some_and(|o| o.name == named.name);
                let cached = self
                    .cache
                    .lock()
                    .expect("not poisoned")
                    .contains_key(&module);
                if owned && !cached {
                    let _ = self.candidates(&module);
                }
            }
        }
    }

    fn registry_names(&self) -> String {
        self.sources
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl ModuleIndex for SourceSet {
    fn candidates(&self, name: &ModuleName) -> Result<Arc<Vec<Candidate>>, IndexError> {
        if let Some(found) = self.cache.lock().expect("not poisoned").get(name) {
            return Ok(found.clone());
        }
        let Some(owner) = self.owner(name.namespace()) else {
            return Err(IndexError::NoRegistry {
                namespace: name.namespace().to_owned(),
                registries: self.registry_names(),
            });
        };
        let source_error = |e| IndexError::Source(format!("registry `{}`: {e}", owner.name));
        let lazily = match owner.source.index_text(name).map_err(source_error)? {
            Some(text) => read_lazily(text, name, &owner.name),
            None => None,
        };
        let candidates = match lazily {
            Some(candidates) => candidates,
            None => read_strictly(owner, name)?,
        };
        let candidates = Arc::new(candidates);
        self.cache
            .lock()
            .expect("not poisoned")
            .insert(name.clone(), candidates.clone());
        Ok(candidates)
    }

    fn providers(&self, capability: &str) -> Result<Vec<ModuleName>, IndexError> {
        let mut out = Vec::new();
        for named in &self.sources {
            let modules = named
                .source
                .modules()
                .map_err(|e| IndexError::Source(e.to_string()))?;
            for module in modules {
                // Only modules of namespaces this registry owns count.
                if self
                    .owner(module.namespace())
                    .is_some_and(|o| o.name == named.name)
                    && provides(&self.candidates(&module)?, capability)?
                {
                    out.push(module);
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn modules(&self) -> Vec<ModuleName> {
        let mut out: Vec<ModuleName> = self
            .sources
            .iter()
            .flat_map(|named| {
                let listed = named.source.modules().unwrap_or_default();
                listed.into_iter().filter(|m| {
                    self.owner(m.namespace())
                        .is_some_and(|o| o.name == named.name)
                })
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Every line of the index file parsed in full, and every problem reported.
fn read_strictly(owner: &NamedSource, name: &ModuleName) -> Result<Vec<Candidate>, IndexError> {
    let source_error = |e: String| IndexError::Source(format!("registry `{}`: {e}", owner.name));
    let lines = owner
        .source
        .versions(name)
        .map_err(|e| source_error(e.to_string()))?;
    lines
        .iter()
        .map(|l| Candidate::from_line(l, &owner.name).map_err(source_error))
        .collect()
}

/// Whether a version that may be picked provides `capability`; an
/// unreadable line among them is an error, as when lines were read up front.
fn provides(candidates: &[Candidate], capability: &str) -> Result<bool, IndexError> {
    let mut found = false;
    for candidate in candidates.iter().filter(|c| !c.yanked) {
        found |= candidate
            .contents()?
            .provides
            .iter()
            .any(|p| p == capability);
    }
    Ok(found)
}

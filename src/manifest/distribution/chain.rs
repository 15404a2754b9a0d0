//! The `extends` chain: a distribution and the bases it extends, loaded
//! base first, and what is in force across its layers (the nearest layer
//! setting a key wins).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{
    CapabilityRequest, Distribution, LicenceSection, ModuleRequest, RegistryLocation, RegistrySpec,
    at_origin,
};
use crate::manifest::diagnostic::{Code, Diagnostic};
use crate::manifest::etablissement::{Etablissement, Origin};
use crate::manifest::load::{Loaded, ReadError};
use crate::manifest::names::ModuleName;

/// A distribution and the bases it extends, base first.
#[derive(Debug, Clone)]
pub struct DistributionChain {
    pub layers: Vec<Distribution>,
}

impl DistributionChain {
    /// The distribution the user named (the last layer).
    pub fn top(&self) -> &Distribution {
        self.layers.last().expect("a chain has at least one layer")
    }

    /// Loads a distribution and follows `extends` until a file without it.
    /// A missing base or a cycle is a diagnostic on the `extends` line.
    pub fn load(path: &Path) -> Result<Loaded<DistributionChain>, ReadError> {
        let mut layers: Vec<Distribution> = Vec::new();
        let mut diagnostics = Vec::new();
        let mut sources = Vec::new();
        let mut seen: Vec<PathBuf> = Vec::new();
        let mut next = Some((path.to_path_buf(), None::<Origin>));
        while let Some((path, asked_by)) = next.take() {
            let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
            if let Some(origin) = &asked_by {
                if !path.is_file() {
                    diagnostics.push(at_origin(Code::ExtendsMissing, origin, format!("`extends` names `{}`, which does not exist", path.display())).key("extends").help("correct the path (relative to this distribution's directory) or remove `extends`"));
                    break;
                }
                if let Some(pos) = seen.iter().position(|p| *p == canonical) {
                    let cycle: Vec<String> = seen[pos..]
                        .iter()
                        .chain(std::iter::once(&canonical))
                        .map(|p| p.display().to_string())
                        .collect();
                    diagnostics.push(
                        at_origin(
                            Code::ExtendsCycle,
                            origin,
                            format!("`extends` makes a cycle: {}", cycle.join(" → ")),
                        )
                        .key("extends")
                        .help("a base distribution must not extend the distributions built on it"),
                    );
                    break;
                }
            }
            seen.push(canonical);
            let loaded = match Distribution::load(&path) {
                Ok(loaded) => loaded,
                Err(e) if asked_by.is_some() => {
                    let origin = asked_by.as_ref().expect("checked");
                    diagnostics.push(
                        at_origin(Code::ExtendsMissing, origin, e.to_string()).key("extends"),
                    );
                    break;
                }
                Err(e) => return Err(e),
            };
            diagnostics.extend(loaded.diagnostics);
            sources.extend(loaded.sources);
            let Some(distribution) = loaded.value else {
                break;
            };
            next = distribution.extends.clone().map(|(p, o)| (p, Some(o)));
            layers.push(distribution);
        }
        layers.reverse();
        // Kept even with errors (see `Loaded`), so that lint checks values too.
        let value = (!layers.is_empty()).then_some(DistributionChain { layers });
        let collectivite_reported = diagnostics.iter().any(|d| {
            d.key
                .as_deref()
                .is_some_and(|k| k.starts_with("collectivite"))
        });
        if let Some(chain) = &value
            && chain.layers.iter().all(|l| l.collectivite.is_none())
            && !collectivite_reported
        {
            let top = chain.top();
            diagnostics.push(
                Diagnostic::new(
                    Code::MissingKey,
                    &top.manifest_path,
                    "no `collectivite` in this distribution nor in the ones it extends",
                )
                .key("collectivite")
                .help("add `collectivite: { nom: …, type: region }`"),
            );
        }
        Ok(Loaded {
            value,
            diagnostics,
            sources,
        })
    }

    /// The établissements in force: the nearest layer that sets them.
    pub fn etablissements(&self) -> &[Etablissement] {
        self.layers
            .iter()
            .rev()
            .find_map(|l| l.etablissements.as_deref())
            .unwrap_or(&[])
    }

    /// Capabilities asked for by some layer, the nearest layer winning.
    pub fn capability_requests(&self) -> BTreeMap<&str, &CapabilityRequest> {
        self.layers
            .iter()
            .flat_map(|l| l.capabilities.iter().map(|(k, v)| (k.as_str(), v)))
            .collect()
    }

    /// The registries in force: the nearest layer that lists some, with
    /// `path:` locations resolved against that layer's directory.
    pub fn registries(&self) -> Vec<RegistrySpec> {
        let Some(layer) = self.layers.iter().rev().find(|l| !l.registries.is_empty()) else {
            return Vec::new();
        };
        layer
            .registries
            .iter()
            .map(|r| RegistrySpec {
                location: match &r.location {
                    RegistryLocation::Path(p) => {
                        RegistryLocation::Path(crate::fsutil::normalize(&layer.dir().join(p)))
                    }
                    url => url.clone(),
                },
                ..r.clone()
            })
            .collect()
    }

    /// The licence section in force: the nearest layer that has one.
    pub fn licence(&self) -> Option<&LicenceSection> {
        self.layers.iter().rev().find_map(|l| l.licence.as_ref())
    }

    /// Every module asked for by some layer, the nearest layer's request winning.
    pub fn module_requests(&self) -> BTreeMap<&ModuleName, &ModuleRequest> {
        let mut out = BTreeMap::new();
        for layer in &self.layers {
            for (name, request) in &layer.modules {
                out.insert(name, request);
            }
        }
        out
    }
}

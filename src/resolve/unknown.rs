//! Modules and capabilities a distribution asks for that its registries do
//! not publish, with the name meant when one is close (`openent/cahier-de-texte`
//! → `openent/cahier-de-textes`). The resolver adds them to its failures as
//! `help:` lines; lint reports them as errors before resolving the rest.

use std::collections::BTreeSet;

use super::IndexError;
use super::{ModuleIndex, Request};
use crate::manifest::diagnostic::suggest;
use crate::manifest::etablissement::Origin;
use crate::manifest::names::ModuleName;

/// One name asked for that no registry of the distribution publishes.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownRequest {
    /// `openent/cahier-de-texte`, or a capability (`messageri`).
    pub name: String,
    pub capability: bool,
    /// The line that asks for it.
    pub origin: Origin,
    /// The closest published module (or capability), within two edits.
    pub suggestion: Option<String>,
}

impl UnknownRequest {
    /// `did you mean `x`? (… asks for `y`, which no registry publishes)`, or `None`.
    pub fn hint(&self) -> Option<String> {
        let meant = self.suggestion.as_ref()?;
        let what = if self.capability {
            "no module provides"
        } else {
            "no registry publishes"
        };
        Some(format!(
            "did you mean `{meant}`? ({} asks for `{}`, which {what})",
            self.origin, self.name
        ))
    }
}

/// The requests the index can tell are unknown: a module whose namespace
/// no registry serves or whose registry has no version of it, a capability
/// no listed module provides. A registry that cannot be read or listed
/// makes nothing unknown (only unreachable).
pub fn unknown_requests(request: &Request, index: &dyn ModuleIndex) -> Vec<UnknownRequest> {
    let mut out = Vec::new();
    // Listing the registries costs a directory walk: only on a miss.
    let mut known: Option<Vec<ModuleName>> = None;
    for root in &request.roots {
        let unknown = match index.candidates(&root.name) {
            Ok(candidates) => candidates.is_empty(),
            Err(IndexError::NoRegistry { .. }) => true,
            Err(IndexError::Source(_)) => false,
        };
        if unknown {
            let known = known.get_or_insert_with(|| index.modules());
            out.push(UnknownRequest {
                name: root.name.to_string(),
                capability: false,
                origin: root.origin.clone(),
                suggestion: suggest(root.name.as_str(), known.iter().map(ModuleName::as_str))
                    .map(str::to_owned),
            });
        }
    }
    let mut capabilities: Option<BTreeSet<String>> = None;
    for cap in &request.capabilities {
        if !index.providers(&cap.capability).is_ok_and(|p| p.is_empty()) {
            continue;
        }
        let known = known.get_or_insert_with(|| index.modules());
        let all = capabilities.get_or_insert_with(|| provided(index, known));
        out.push(UnknownRequest {
            name: cap.capability.clone(),
            capability: true,
            origin: cap.origin.clone(),
            suggestion: suggest(&cap.capability, all.iter().map(String::as_str)).map(str::to_owned),
        });
    }
    out
}

/// Every capability some version of a listed module provides.
fn provided(index: &dyn ModuleIndex, modules: &[ModuleName]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for name in modules {
        for candidate in index.candidates(name).iter().flat_map(|cs| cs.iter()) {
            if let Ok(contents) = candidate.contents() {
                out.extend(contents.provides.iter().cloned());
            }
        }
    }
    out
}

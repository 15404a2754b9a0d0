//! What lint checks of a distribution beyond its own files, so that it sees
//! what `oent build` sees: the distribution is resolved offline (the
//! versions its `oent.lock` pins, from its `path:` registries and the
//! download cache), every resolved module is read, and the values of each
//! (dependencies and capabilities included) go through the very function
//! build uses; then build's checks (licence policy, forks) run over the
//! resolution. The chain is taken as loaded, errors and all: a bad UAI or an
//! unknown key elsewhere in the file does not stop the values being checked.
//!
//! Modules of the local catalogue (`modules/`, the paths linted) are
//! preferred to their published archives: they are what is being edited.
//! What cannot be resolved or read offline is reported unchecked (`W004`),
//! with the reason; a module or capability no registry publishes is an
//! error (`E041`) with the name meant when one is close.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::manifest::diagnostic::suggest;
use crate::manifest::distribution::{DistributionChain, at_origin, check_values};
use crate::manifest::lockfile::{LOCK_FILE, Lockfile};
use crate::manifest::module::MODULE_FILE;
use crate::manifest::names::ModuleName;
use crate::manifest::{Code, Diagnostic, Module};
use crate::registry::cache::Cache;
use crate::resolve::lock::{Update, open_sources, request};
use crate::resolve::sources::SourceSet;
use crate::resolve::unknown::{UnknownRequest, unknown_requests};
use crate::resolve::{Resolution, resolve};
use crate::workspace::values::values_of;
use crate::workspace::{BuildCheck, ResolvedDistribution, fetch_module_dir};

/// Every diagnostic about the values and modules of `chain`; `local` holds
/// the modules of the catalogue, `cache` where archives are read offline.
pub(super) fn check(
    chain: &DistributionChain,
    local: &BTreeMap<ModuleName, Module>,
    cache: Option<&Cache>,
    checks: &[Arc<dyn BuildCheck>],
) -> Vec<Diagnostic> {
    let offline = match cache {
        Some(cache) => resolve_offline(chain, local, cache),
        None => Err("no download cache directory (set OENT_CACHE_DIR or HOME)".to_owned()),
    };
    let mut out = Vec::new();
    let (unknown, mut modules) = match &offline {
        Ok(o) => (o.unknown.as_slice(), o.modules.clone()),
        Err(_) => (&[][..], BTreeMap::new()),
    };
    // The modules asked for by name that the registries could not give
    // (unpublished yet, or unreachable offline) come from the catalogue.
    for name in chain.module_requests().keys() {
        if let Some(module) = local.get(*name) {
            modules
                .entry((*name).clone())
                .or_insert_with(|| module.clone());
        }
    }
    for u in unknown {
        out.push(unknown_diagnostic(u));
    }
    let unknown_lines: BTreeSet<_> = unknown
        .iter()
        .map(|u| (u.origin.path.clone(), u.origin.line))
        .collect();
    for d in check_values(chain, |name| modules.get(name)) {
        if d.code == Code::ModuleNotFound {
            let line = d.position.as_ref().map(|p| p.line);
            if line.is_some_and(|l| unknown_lines.contains(&(d.path.clone(), l))) {
                continue; // E041 says it, with the name meant.
            }
            let why = match &offline {
                Err(why) | Ok(Offline { unread: why, .. }) => why.as_str(),
            };
            out.push(not_found_help(d, local, why));
        } else {
            out.push(d);
        }
    }
    for (name, module) in &modules {
        out.extend(values_of(chain, name, module, &[]).1);
    }
    if let Ok(o) = &offline {
        let resolved = ResolvedDistribution {
            chain,
            resolution: &o.resolution,
            modules: &modules,
            sources: &o.sources,
            cache: o.cache,
        };
        out.extend(checks.iter().flat_map(|c| c.check(&resolved)));
    }
    out
}

/// The distribution resolved from what is at hand, without writing anything.
struct Offline<'c> {
    sources: SourceSet,
    resolution: Resolution,
    /// Each resolved module: the catalogue's copy, else its archive's.
    modules: BTreeMap<ModuleName, Module>,
    /// Names asked for that no registry publishes (left out of the resolution).
    unknown: Vec<UnknownRequest>,
    /// Why some resolved modules could not be read (empty when all were).
    unread: String,
    cache: &'c Cache,
}

fn resolve_offline<'c>(
    chain: &DistributionChain,
    local: &BTreeMap<ModuleName, Module>,
    cache: &'c Cache,
) -> Result<Offline<'c>, String> {
    let sources = open_sources(chain, cache, true).map_err(|e| e.to_string())?;
    let lock = Lockfile::read(&chain.top().dir().join(LOCK_FILE))
        .ok()
        .flatten();
    let mut request = request(chain, lock.as_ref(), &Update::Nothing);
    let unknown = unknown_requests(&request, &sources);
    // What no registry publishes cannot be resolved: resolve the rest.
    request.roots.retain(|r| {
        !unknown
            .iter()
            .any(|u| !u.capability && u.name == r.name.as_str())
    });
    request.capabilities.retain(|c| {
        !unknown
            .iter()
            .any(|u| u.capability && u.name == c.capability)
    });
    // A module of the catalogue is not unknown: it is not published yet.
    let unknown = unknown
        .into_iter()
        .filter(|u| u.capability || !local.keys().any(|n| n.as_str() == u.name))
        .collect();
    let resolution = resolve(&request, &sources).map_err(|e| e.to_string())?;
    let mut modules = BTreeMap::new();
    let mut unread = Vec::new();
    for (name, resolved) in &resolution.modules {
        if let Some(module) = local.get(name) {
            modules.insert(name.clone(), module.clone());
            continue;
        }
        let read = fetch_module_dir(
            &sources,
            cache,
            name,
            &resolved.version,
            Some(&resolved.sha256),
        )
        .map_err(|e| e.to_string())
        .and_then(|dir| {
            Module::load(&dir.join(MODULE_FILE))
                .map_err(|e| e.to_string())?
                .into_valid()
                .ok_or_else(|| format!("{name} {}: its module.yaml has errors", resolved.version))
        });
        match read {
            Ok(module) => {
                modules.insert(name.clone(), module);
            }
            Err(why) => unread.push(why),
        }
    }
    Ok(Offline {
        sources,
        resolution,
        modules,
        unknown,
        unread: unread.join("; "),
        cache,
    })
}

/// A `W004` says why the module could not be read, and names the module
/// of the catalogue meant when one is close.
fn not_found_help(d: Diagnostic, local: &BTreeMap<ModuleName, Module>, why: &str) -> Diagnostic {
    let asked = d.key.as_deref().and_then(|k| k.strip_prefix("modules."));
    let meant = asked.and_then(|a| suggest(a, local.keys().map(ModuleName::as_str)));
    let help = match (meant, why.is_empty()) {
        (Some(meant), true) => format!("did you mean `{meant}`?"),
        (Some(meant), false) => {
            format!("did you mean `{meant}`? (lint could not read the registries offline: {why})")
        }
        (None, false) => format!("lint could not read it offline: {why}"),
        (None, true) => return d,
    };
    d.help(help)
}

fn unknown_diagnostic(u: &UnknownRequest) -> Diagnostic {
    let (message, otherwise) = if u.capability {
        (
            format!(
                "no module of the distribution's registries provides capability `{}`",
                u.name
            ),
            "check the capability, or name the module that provides it",
        )
    } else {
        (
            format!(
                "module `{}` is published by no registry of the distribution",
                u.name
            ),
            "check the name, or add the registry that publishes it to `registries:`",
        )
    };
    let help = match &u.suggestion {
        Some(meant) => format!("did you mean `{meant}`?"),
        None => otherwise.to_owned(),
    };
    at_origin(Code::UnknownModule, &u.origin, message)
        .key(format!("modules.{}", u.name))
        .help(help)
}

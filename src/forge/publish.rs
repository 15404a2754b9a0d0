//! Publishing and yanking on the forge's side: the forge's admission rules
//! (the URL, the token's scope, a fork's licence) given to the registry's
//! [`Publisher`], which checks them under the module's lock, writes, and
//! signs the snapshot again after each change.

use std::path::Path;

use super::config::Token;
use crate::registry::RegistryError;
use crate::registry::index::IndexEntry;
use crate::registry::local::{Added, LocalRegistry};
use crate::registry::publish::Publisher;
use crate::registry::snapshot::SnapshotError;

/// What the publisher did, for the HTTP status (201 or 200).
#[derive(Debug)]
pub enum Outcome {
    Created(IndexEntry),
    /// The same bytes were already published: a retried publish is safe.
    AlreadyPresent(IndexEntry),
}

/// Why a publish or yank was refused; each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("token `{token}` may publish into {allowed}, not into namespace `{namespace}`")]
    TokenScope {
        token: String,
        namespace: String,
        allowed: String,
    },
    #[error("the URL names {url} but the archive holds {archive}")]
    UrlMismatch { url: String, archive: String },
    #[error(
        "{fork} is a fork of {base} under `{base_licence}`, but declares `{licence}`: a fork keeps its base's licence"
    )]
    ForkLicenceChanged {
        fork: String,
        base: String,
        base_licence: String,
        licence: String,
    },
    #[error("{name} has no version {version} on this forge")]
    UnknownVersion { name: String, version: String },
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("the index changed but its snapshot could not be signed: {0}")]
    Snapshot(#[from] SnapshotError),
}

/// `namespace/name` and version named by a publish URL.
pub struct Expected<'a> {
    pub name: &'a str,
    pub version: &'a str,
}

/// Verifies and publishes an uploaded archive: the URL, the token's scope
/// and the fork's licence are its admission, checked under the module's lock.
pub fn publish(
    publisher: &Publisher,
    bytes: &[u8],
    token: &Token,
    expected: Option<Expected<'_>>,
) -> Result<Outcome, Refusal> {
    let change = publisher.publish(Path::new("upload"), bytes, |module, registry| {
        let name = module.name.as_str();
        let version = module.version.to_string();
        if let Some(expected) = expected
            && (expected.name != name || expected.version != version)
        {
            return Err(Refusal::UrlMismatch {
                url: format!("{} {}", expected.name, expected.version),
                archive: format!("{name} {version}"),
            });
        }
        check_scope(registry, token, module.name.namespace())?;
        check_fork_licence(registry, module)
    })?;
    change.signed?;
    Ok(match change.outcome {
        Added::Published(line) => Outcome::Created(line),
        Added::AlreadyPresent(line) => Outcome::AlreadyPresent(line),
    })
}

/// Yanks (or unyanks) one version, if the token's scope covers it.
pub fn set_yanked(
    publisher: &Publisher,
    token: &Token,
    name: &str,
    version: &str,
    yanked: bool,
) -> Result<IndexEntry, Refusal> {
    let namespace = name.split('/').next().unwrap_or_default();
    let change = publisher.set_yanked(name, version, yanked, |registry| {
        check_scope(registry, token, namespace)
    })?;
    change.signed?;
    change.outcome.ok_or_else(|| Refusal::UnknownVersion {
        name: name.to_owned(),
        version: version.to_owned(),
    })
}

/// A fork whose base this forge holds (published or mirrored) must keep
/// the base's licence: the condition of reversal under the same terms.
/// A base the forge does not hold cannot be compared here; `oent build`
/// and `oent licences` check it where the base is resolved.
fn check_fork_licence(
    registry: &LocalRegistry,
    module: &crate::manifest::Module,
) -> Result<(), Refusal> {
    let Some((base, version)) = &module.fork_of else {
        return Ok(());
    };
    let version = version.to_string();
    let base_line = registry
        .versions(base.as_str())?
        .into_iter()
        .find(|l| l.is_version(&version));
    match base_line {
        Some(line) if line.licence != module.licence => Err(Refusal::ForkLicenceChanged {
            fork: module.name.to_string(),
            base: format!("{base}@{version}"),
            base_licence: line.licence.clone(),
            licence: module.licence.clone(),
        }),
        _ => Ok(()),
    }
}

fn check_scope(registry: &LocalRegistry, token: &Token, namespace: &str) -> Result<(), Refusal> {
    let owned = registry.config.owns(namespace);
    let allowed = token
        .namespaces
        .iter()
        .any(|n| n == namespace || (n == "*" && owned));
    if !allowed {
        return Err(Refusal::TokenScope {
            token: token.name.clone(),
            namespace: namespace.to_owned(),
            allowed: token.namespaces.join(", "),
        });
    }
    Ok(())
}

/// Removes what a kill in the middle of a publish or sync left (see
/// [`LocalRegistry::recover`]), saying what in the log. Run at start,
/// before any request: a failure is logged and the forge serves anyway
/// (the leftovers are invisible to readers, and a publish replaces an
/// orphan archive of its version).
pub fn recover(registry: &LocalRegistry) {
    match registry.recover() {
        Ok(recovered) => {
            for path in &recovered.leftovers {
                tracing::info!(path = %path.display(), "removed a temporary left by an interrupted write");
            }
            for path in &recovered.orphans {
                tracing::warn!(path = %path.display(), "removed an archive no index line names (a publish or sync was interrupted)");
            }
        }
        Err(e) => {
            tracing::warn!(reason = %e, "could not look for leftovers of interrupted publishes")
        }
    }
}

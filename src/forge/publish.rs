//! Publishing and yanking on the forge's side. Each operation runs on a
//! blocking thread with its module's lock held, so concurrent publishes of
//! one module are serialised (none is lost, exactly one creates a version)
//! while different modules proceed side by side; the snapshot that covers
//! every index file is rewritten under one lock after each change.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::config::Token;
use crate::registry::RegistryError;
use crate::registry::index::IndexEntry;
use crate::registry::local::{Added, LocalRegistry, inspect_archive};
use crate::registry::snapshot::{Signer, SnapshotError};

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

pub struct Publisher {
    pub registry: LocalRegistry,
    module_locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    /// Signs the snapshot after every change; `None`: an unsigned forge.
    signer: Option<Signer>,
}

/// `namespace/name` and version named by a publish URL.
pub struct Expected<'a> {
    pub name: &'a str,
    pub version: &'a str,
}

impl Publisher {
    pub fn new(registry: LocalRegistry, signer: Option<Signer>) -> Publisher {
        Publisher {
            registry,
            module_locks: Mutex::new(HashMap::new()),
            signer,
        }
    }

    fn lock_for(&self, name: &str) -> Arc<Mutex<()>> {
        self.module_locks
            .lock()
            .expect("module locks")
            .entry(name.to_owned())
            .or_default()
            .clone()
    }

    /// Verifies and publishes an uploaded archive.
    pub fn publish(
        &self,
        bytes: &[u8],
        token: &Token,
        expected: Option<Expected<'_>>,
    ) -> Result<Outcome, Refusal> {
        let module = inspect_archive(Path::new("upload"), bytes)?;
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
        self.check_scope(token, module.name.namespace())?;
        self.check_fork_licence(&module)?;
        let lock = self.lock_for(name);
        let _held = lock.lock().expect("module lock");
        match self.registry.add_inspected(&module, bytes)? {
            Added::Published(line) => {
                self.sign_snapshot()?;
                Ok(Outcome::Created(line))
            }
            Added::AlreadyPresent(line) => Ok(Outcome::AlreadyPresent(line)),
        }
    }

    /// Yanks (or unyanks) one version.
    pub fn set_yanked(
        &self,
        token: &Token,
        name: &str,
        version: &str,
        yanked: bool,
    ) -> Result<IndexEntry, Refusal> {
        let namespace = name.split('/').next().unwrap_or_default();
        self.check_scope(token, namespace)?;
        let lock = self.lock_for(name);
        let _held = lock.lock().expect("module lock");
        let (line, changed) = self
            .registry
            .set_yanked(name, version, yanked)?
            .ok_or_else(|| Refusal::UnknownVersion {
                name: name.to_owned(),
                version: version.to_owned(),
            })?;
        if changed {
            self.sign_snapshot()?;
        }
        Ok(line)
    }

    /// A fork whose base this forge holds (published or mirrored) must keep
    /// the base's licence: the condition of reversal under the same terms.
    /// A base the forge does not hold cannot be compared here; `oent build`
    /// and `oent licences` check it where the base is resolved.
    fn check_fork_licence(&self, module: &crate::manifest::Module) -> Result<(), Refusal> {
        let Some((base, version)) = &module.fork_of else {
            return Ok(());
        };
        let version = version.to_string();
        let base_line = self
            .registry
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

    fn check_scope(&self, token: &Token, namespace: &str) -> Result<(), Refusal> {
        let owned = self.registry.config.owns(namespace);
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
    pub fn recover(&self) {
        match self.registry.recover() {
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

    /// Re-signs the snapshot (one signing at a time, each covering every
    /// index file as it is then). Called after each change, and when the
    /// forge starts: a forge killed between an index write and its
    /// snapshot comes back with a snapshot that covers the index again.
    pub fn sign_snapshot(&self) -> Result<(), SnapshotError> {
        if let Some(signer) = &self.signer {
            signer.sign(&self.registry.root)?;
        }
        Ok(())
    }
}

//! The one way a registry directory changes: [`Publisher`]. Publishing an
//! archive (`oent registry add|build`, the forge's PUT), yanking, and a
//! forge's mirroring pass all go through it, and it signs the snapshot again
//! once after each change; nothing else calls [`Signer::sign`].
//!
//! A publication inspects the archive (unpacked safely, its manifest
//! linted), runs the caller's admission check under the module's lock (the
//! forge passes its token scope and fork licence rules; `registry add`
//! passes none), then writes the archive before the index line: every state
//! in between is a consistent registry for a static reader (an archive no
//! line names is invisible), and the snapshot comes last.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::RegistryError;
use super::index::IndexEntry;
use super::local::{
    Added, LocalRegistry, inspect_archive, module_dirs, pack_to_memory, read_bounded,
};
use super::snapshot::{SNAPSHOT_FILE, Signer, Snapshot, SnapshotError};
use crate::manifest::Module;

/// A registry directory and what signs its snapshot after a change.
/// Shared between threads: publications of one module are serialised by
/// its lock, different modules proceed side by side.
pub struct Publisher {
    registry: LocalRegistry,
    /// `None`: an unsigned registry (a snapshot signed earlier goes stale).
    signer: Option<Signer>,
    module_locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

/// What a change did, and how the snapshot stands after it: the signing
/// may fail after the change succeeded.
#[derive(Debug)]
pub struct Change<T> {
    pub outcome: T,
    pub signed: Result<Signed, SnapshotError>,
}

/// How the snapshot stands after a change.
#[derive(Debug)]
pub enum Signed {
    /// Signed again with the publisher's key.
    Signed {
        file: PathBuf,
        snapshot: Snapshot,
        fingerprint: String,
    },
    /// No key, and the snapshot signed earlier no longer lists the current
    /// index files: clients that pin its key refuse the registry.
    Stale(PathBuf),
    /// Nothing changed, or the registry was never signed and has no key.
    Unsigned,
}

/// The admission check of a publisher that admits every archive.
pub fn admit_all(_: &Module, _: &LocalRegistry) -> Result<(), RegistryError> {
    Ok(())
}

impl Publisher {
    pub fn new(registry: LocalRegistry, signer: Option<Signer>) -> Publisher {
        Publisher {
            registry,
            signer,
            module_locks: Mutex::new(HashMap::new()),
        }
    }

    pub fn registry(&self) -> &LocalRegistry {
        &self.registry
    }

    /// Publishes one archive's `bytes` (`label` names it in errors) if
    /// `admit` lets it in; the same bytes again is a no-op, signed no more.
    pub fn publish<E: From<RegistryError>>(
        &self,
        label: &Path,
        bytes: &[u8],
        admit: impl FnOnce(&Module, &LocalRegistry) -> Result<(), E>,
    ) -> Result<Change<Added>, E> {
        let added = self.publish_unsigned(label, bytes, admit)?;
        let changed = matches!(added, Added::Published(_));
        Ok(self.signed_after(added, changed))
    }

    /// Publishes the archive file at `path` (`oent registry add`).
    pub fn add_archive(&self, path: &Path) -> Result<Change<Added>, RegistryError> {
        let bytes = read_bounded(path)?;
        self.publish(path, &bytes, admit_all)
    }

    /// Packs every module under `modules_dir` and publishes those not yet
    /// present (`oent registry build`), in order; signs once at the end.
    /// A module that fails stops the build: what was published before it
    /// stays, signed at the next change.
    pub fn build(&self, modules_dir: &Path) -> Result<Change<Vec<Added>>, RegistryError> {
        self.batch(|publisher| {
            let mut added = Vec::new();
            for dir in module_dirs(modules_dir)? {
                let (_, bytes, _) = pack_to_memory(&dir)?;
                // Published like any archive: unpacked and checked again.
                added.push(publisher.publish_unsigned(&dir, &bytes, admit_all)?);
            }
            let changed = added.iter().any(|a| matches!(a, Added::Published(_)));
            Ok((added, changed))
        })
    }

    /// Yanks (or unyanks) `name` `version` if `admit` allows it; the line
    /// as it now is, `None` when the registry has no such version.
    pub fn set_yanked<E: From<RegistryError>>(
        &self,
        name: &str,
        version: &str,
        yanked: bool,
        admit: impl FnOnce(&LocalRegistry) -> Result<(), E>,
    ) -> Result<Change<Option<IndexEntry>>, E> {
        let lock = self.lock_for(name);
        let _held = lock.lock().expect("module lock");
        admit(&self.registry)?;
        Ok(match self.registry.set_yanked(name, version, yanked)? {
            Some((line, changed)) => self.signed_after(Some(line), changed),
            None => self.signed_after(None, false),
        })
    }

    /// The batch form: `change` writes what it writes (through
    /// [`Publisher::publish_unsigned`], or whole files of a mirror) and says
    /// whether anything changed; the snapshot is then signed once.
    pub fn batch<T, E>(
        &self,
        change: impl FnOnce(&Publisher) -> Result<(T, bool), E>,
    ) -> Result<Change<T>, E> {
        let (outcome, changed) = change(self)?;
        Ok(self.signed_after(outcome, changed))
    }

    /// One publication of a batch, not yet signed.
    pub fn publish_unsigned<E: From<RegistryError>>(
        &self,
        label: &Path,
        bytes: &[u8],
        admit: impl FnOnce(&Module, &LocalRegistry) -> Result<(), E>,
    ) -> Result<Added, E> {
        let module = inspect_archive(label, bytes)?;
        let lock = self.lock_for(module.name.as_str());
        let _held = lock.lock().expect("module lock");
        admit(&module, &self.registry)?;
        Ok(self.registry.add_inspected(&module, bytes)?)
    }

    /// Signs the snapshot now, changed or not: when a forge starts (a
    /// registry changed by hand, or a forge killed between an index write
    /// and its snapshot, is covered again), or when asked with a key.
    pub fn sign(&self) -> Result<Signed, SnapshotError> {
        let file = self.registry.root.join(SNAPSHOT_FILE);
        let Some(signer) = &self.signer else {
            return Ok(match file.is_file() {
                true => Signed::Stale(file),
                false => Signed::Unsigned,
            });
        };
        // One signing at a time (the signer's lock), each covering every
        // index file as it is then.
        let snapshot = signer.sign(&self.registry.root)?;
        Ok(Signed::Signed {
            file,
            snapshot,
            fingerprint: signer.key().public().fingerprint(),
        })
    }

    fn signed_after<T>(&self, outcome: T, changed: bool) -> Change<T> {
        let signed = match changed {
            true => self.sign(),
            false => Ok(Signed::Unsigned),
        };
        Change { outcome, signed }
    }

    fn lock_for(&self, name: &str) -> Arc<Mutex<()>> {
        self.module_locks
            .lock()
            .expect("module locks")
            .entry(name.to_owned())
            .or_default()
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::registry::config::RegistryConfig;
    use crate::registry::signing::SecretKey;

    /// A signed registry owning `openent`, and a tree of `versions` of
    /// `openent/demo`, one module directory each.
    fn fixture(versions: &[&str]) -> (tempfile::TempDir, PathBuf, Publisher) {
        let temp = tempfile::tempdir().unwrap();
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/good/module");
        let modules = temp.path().join("modules");
        for version in versions {
            let module = modules.join(format!("demo-{version}"));
            std::fs::create_dir_all(module.join("templates")).unwrap();
            for file in ["templates/app.conf.tera", "templates/etab.json.tera"] {
                std::fs::copy(source.join(file), module.join(file)).unwrap();
            }
            let manifest = std::fs::read_to_string(source.join("module.yaml")).unwrap();
            let manifest = manifest.replace("version: 1.0.0", &format!("version: {version}"));
            std::fs::write(module.join("module.yaml"), manifest).unwrap();
        }
        let registry = LocalRegistry::init(
            &temp.path().join("reg"),
            RegistryConfig::owning("test", &["openent"]),
        )
        .unwrap();
        let signer = Signer::new(SecretKey::generate("test"), Duration::from_secs(86_400));
        (temp, modules, Publisher::new(registry, Some(signer)))
    }

    fn version_of(signed: Result<Signed, SnapshotError>) -> u64 {
        match signed {
            Ok(Signed::Signed { snapshot, .. }) => snapshot.version,
            other => panic!("not signed: {other:?}"),
        }
    }

    fn archive(modules: &Path, version: &str) -> Vec<u8> {
        pack_to_memory(&modules.join(format!("demo-{version}")))
            .unwrap()
            .1
    }

    /// Every file under the registry, with its bytes.
    fn files(publisher: &Publisher) -> Vec<(PathBuf, Vec<u8>)> {
        let mut stack = vec![publisher.registry().root.clone()];
        let mut files = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                match path.is_dir() {
                    true => stack.push(path),
                    false => files.push((path.clone(), std::fs::read(&path).unwrap())),
                }
            }
        }
        files.sort();
        files
    }

    #[test]
    fn an_archive_refused_by_admission_writes_nothing() {
        let (_temp, modules, publisher) = fixture(&["1.0.0"]);
        version_of(publisher.sign());
        let before = files(&publisher);
        let refused = publisher.publish(
            Path::new("upload"),
            &archive(&modules, "1.0.0"),
            |module, _| {
                Err(RegistryError::InvalidArchive {
                    path: PathBuf::from("upload"),
                    reason: format!("{} is not admitted", module.name),
                })
            },
        );
        let err = refused.unwrap_err().to_string();
        assert_eq!(
            err,
            "archive `upload` is invalid: openent/demo is not admitted"
        );
        assert_eq!(
            files(&publisher),
            before,
            "no archive, index line or snapshot written"
        );
    }

    #[test]
    fn the_same_archive_again_is_not_signed_again() {
        let (_temp, modules, publisher) = fixture(&["1.0.0"]);
        let bytes = archive(&modules, "1.0.0");
        let first = publisher
            .publish(Path::new("a"), &bytes, admit_all)
            .unwrap();
        assert!(matches!(first.outcome, Added::Published(_)));
        assert_eq!(version_of(first.signed), 1);
        let snapshot = publisher.registry().root.join(SNAPSHOT_FILE);
        let signed = std::fs::read(&snapshot).unwrap();
        let again = publisher
            .publish(Path::new("a"), &bytes, admit_all)
            .unwrap();
        assert!(matches!(again.outcome, Added::AlreadyPresent(_)));
        assert!(
            matches!(again.signed, Ok(Signed::Unsigned)),
            "{:?}",
            again.signed
        );
        assert_eq!(std::fs::read(&snapshot).unwrap(), signed);
    }

    #[test]
    fn a_batch_is_signed_once() {
        let (_temp, modules, publisher) = fixture(&["1.0.0", "1.1.0", "1.2.0"]);
        assert_eq!(version_of(publisher.sign()), 1);
        let built = publisher.build(&modules).unwrap();
        assert_eq!(built.outcome.len(), 3);
        assert!(
            built
                .outcome
                .iter()
                .all(|a| matches!(a, Added::Published(_)))
        );
        // Each signing grows the version by one: three publications, one signing.
        assert_eq!(version_of(built.signed), 2);
        let again = publisher.build(&modules).unwrap();
        assert!(matches!(again.signed, Ok(Signed::Unsigned)));
    }

    #[test]
    fn a_yank_is_admitted_then_signed_once_and_only_when_it_changes() {
        let (_temp, modules, publisher) = fixture(&["1.0.0"]);
        let bytes = archive(&modules, "1.0.0");
        version_of(
            publisher
                .publish(Path::new("a"), &bytes, admit_all)
                .unwrap()
                .signed,
        );
        let before = files(&publisher);
        let refused = publisher.set_yanked("openent/demo", "1.0.0", true, |_| {
            Err(RegistryError::NotARegistry(PathBuf::from("refused")))
        });
        assert!(refused.is_err());
        assert_eq!(files(&publisher), before, "a refused yank writes nothing");
        let yank = |version: &str| {
            publisher
                .set_yanked(
                    "openent/demo",
                    version,
                    true,
                    |_| Ok::<_, RegistryError>(()),
                )
                .unwrap()
        };
        let yanked = yank("1.0.0");
        assert!(yanked.outcome.unwrap().yanked);
        assert_eq!(version_of(yanked.signed), 2);
        let again = yank("1.0.0");
        assert!(matches!(again.signed, Ok(Signed::Unsigned)));
        let unknown = yank("9.0.0");
        assert!(unknown.outcome.is_none());
    }

    /// An index line whose sha256 is cut short is refused with its file and
    /// line; [`LocalRegistry::check`] used to slice it to 12 digits and panic.
    #[test]
    fn check_refuses_a_short_sha256_in_the_index_instead_of_panicking() {
        let (_temp, modules, publisher) = fixture(&["1.0.0"]);
        let line = match publisher.build(&modules).unwrap().outcome.as_slice() {
            [Added::Published(line)] => line.clone(),
            other => panic!("{other:?}"),
        };
        let registry = publisher.registry();
        let index_file = registry
            .root
            .join(crate::registry::index::index_path(line.name.as_str()));
        let text = std::fs::read_to_string(&index_file).unwrap();
        std::fs::write(&index_file, text.replace(line.sha256.as_str(), "abc")).unwrap();
        let err = registry.check(&modules).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}:1: invalid index line: sha256 `abc` is not 64 lowercase hexadecimal digits",
                index_file.display()
            )
        );
    }
}

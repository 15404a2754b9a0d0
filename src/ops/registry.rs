//! `oent registry add|build`: archives published into a registry directory
//! through [`Publisher`], which signs the snapshot again after a change as
//! the forge does (or, with no key, names a signed snapshot that no longer
//! matches), so that clients that pin the registry's key keep trusting it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::registry::RegistryError;
use crate::registry::local::{Added, LocalRegistry};
pub use crate::registry::publish::Signed;
use crate::registry::publish::{Change, Publisher};
use crate::registry::signing::{SecretKey, SigningError};
use crate::registry::snapshot::{Signer, SnapshotError};

/// The key that signs the snapshot after a change, if any.
#[derive(Debug, Clone)]
pub struct SignOptions {
    pub key: Option<PathBuf>,
    pub validity: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryOpError {
    /// The registry directory cannot be opened.
    #[error(transparent)]
    Open(RegistryError),
    /// Publishing failed (its manifest diagnostics, if any, are carried).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Key(#[from] SigningError),
    #[error(transparent)]
    Sign(#[from] SnapshotError),
}

/// What was published (in order), then the signing, which may fail after
/// the publishing succeeded.
#[derive(Debug)]
pub struct Published {
    pub added: Vec<Added>,
    pub signed: Result<Signed, RegistryOpError>,
}

/// `oent registry add`: one archive into the registry at `to`.
pub fn add(to: &Path, archive: &Path, sign: &SignOptions) -> Result<Published, RegistryOpError> {
    publish(to, sign, |publisher| {
        let change = publisher.add_archive(archive)?;
        Ok(Change {
            outcome: vec![change.outcome],
            signed: change.signed,
        })
    })
}

/// `oent registry build`: every module of the tree at `modules`, packed.
pub fn build(to: &Path, modules: &Path, sign: &SignOptions) -> Result<Published, RegistryOpError> {
    publish(to, sign, |publisher| publisher.build(modules))
}

fn publish(
    to: &Path,
    sign: &SignOptions,
    change: impl FnOnce(&Publisher) -> Result<Change<Vec<Added>>, RegistryError>,
) -> Result<Published, RegistryOpError> {
    let registry = LocalRegistry::open(to).map_err(RegistryOpError::Open)?;
    // Read the key first: a bad key must not leave an unsigned change.
    let signer = sign
        .key
        .as_deref()
        .map(SecretKey::read)
        .transpose()?
        .map(|key| Signer::new(key, sign.validity));
    let asked_to_sign = signer.is_some();
    let publisher = Publisher::new(registry, signer);
    let Change { outcome, signed } = change(&publisher)?;
    // A key given signs even when nothing changed: that is what was asked.
    let signed = match signed {
        Ok(Signed::Unsigned) if asked_to_sign => publisher.sign(),
        other => other,
    };
    Ok(Published {
        added: outcome,
        signed: signed.map_err(RegistryOpError::from),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::config::RegistryConfig;
    use crate::registry::snapshot;

    /// A registry owning `openent`, and a tree holding `openent/demo` 1.0.0.
    fn fixture() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let temp = tempfile::tempdir().unwrap();
        let module = temp.path().join("modules/demo");
        std::fs::create_dir_all(module.join("templates")).unwrap();
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/good/module");
        for file in [
            "module.yaml",
            "templates/app.conf.tera",
            "templates/etab.json.tera",
        ] {
            std::fs::copy(source.join(file), module.join(file)).unwrap();
        }
        let registry = temp.path().join("reg");
        LocalRegistry::init(&registry, RegistryConfig::owning("test", &["openent"])).unwrap();
        (temp, module.parent().unwrap().to_path_buf(), registry)
    }

    fn sign_with(key: Option<PathBuf>) -> SignOptions {
        SignOptions {
            key,
            validity: Duration::from_secs(86_400),
        }
    }

    #[test]
    fn a_key_that_cannot_be_read_publishes_nothing() {
        let (temp, modules, registry) = fixture();
        let missing = temp.path().join("no-such-key");
        let err = build(&registry, &modules, &sign_with(Some(missing))).unwrap_err();
        assert!(matches!(err, RegistryOpError::Key(_)), "{err:?}");
        let opened = LocalRegistry::open(&registry).unwrap();
        assert!(
            opened.modules().unwrap().is_empty(),
            "nothing was published"
        );
    }

    #[test]
    fn a_change_is_signed_again_or_the_stale_snapshot_is_named() {
        let (temp, modules, registry) = fixture();
        let key = temp.path().join("key");
        SecretKey::generate("test").write_pair(&key).unwrap();
        let first = build(&registry, &modules, &sign_with(Some(key))).unwrap();
        assert!(matches!(first.added[..], [Added::Published(_)]));
        let Ok(Signed::Signed { file, snapshot, .. }) = first.signed else {
            panic!("signed after publishing: {:?}", first.signed);
        };
        assert_eq!(file, registry.join(snapshot::SNAPSHOT_FILE));
        assert!(snapshot.files.keys().any(|f| f.ends_with("demo.jsonl")));

        // Unchanged, no key: nothing to say.
        let again = build(&registry, &modules, &sign_with(None)).unwrap();
        assert!(matches!(again.added[..], [Added::AlreadyPresent(_)]));
        assert!(matches!(again.signed, Ok(Signed::Unsigned)));

        // A new version, no key: the snapshot signed earlier is stale.
        let manifest = modules.join("demo/module.yaml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(&manifest, text.replace("version: 1.0.0", "version: 1.0.1")).unwrap();
        let changed = build(&registry, &modules, &sign_with(None)).unwrap();
        assert!(matches!(changed.added[..], [Added::Published(_)]));
        assert!(
            matches!(&changed.signed, Ok(Signed::Stale(f)) if *f == file),
            "{:?}",
            changed.signed
        );
    }
}

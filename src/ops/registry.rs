//! `oent registry add|build`: archives published into a registry directory,
//! then its snapshot signed again after a change through [`Signer`], as the
//! forge does (or, with no key, a signed snapshot that no longer matches
//! named), so that clients that pin the registry's key keep trusting it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::registry::RegistryError;
use crate::registry::local::{Added, LocalRegistry};
use crate::registry::signing::{SecretKey, SigningError};
use crate::registry::snapshot::{self, Signer, Snapshot, SnapshotError};

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

/// How the snapshot stands after publishing.
#[derive(Debug)]
pub enum Signed {
    /// Signed again with the key given.
    Signed {
        file: PathBuf,
        snapshot: Snapshot,
        fingerprint: String,
    },
    /// No key given, and the snapshot signed earlier no longer lists the
    /// current index files: clients that pin its key refuse the registry.
    Stale(PathBuf),
    /// Nothing changed and no key was given, or the registry was never signed.
    Unsigned,
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
    publish(to, sign, |registry| {
        Ok(vec![registry.add_archive(archive)?])
    })
}

/// `oent registry build`: every module of the tree at `modules`, packed.
pub fn build(to: &Path, modules: &Path, sign: &SignOptions) -> Result<Published, RegistryOpError> {
    publish(to, sign, |registry| registry.build(modules))
}

fn publish(
    to: &Path,
    sign: &SignOptions,
    change: impl FnOnce(&LocalRegistry) -> Result<Vec<Added>, RegistryError>,
) -> Result<Published, RegistryOpError> {
    let registry = LocalRegistry::open(to).map_err(RegistryOpError::Open)?;
    // Read the key first: a bad key must not leave an unsigned change.
    let signer = sign
        .key
        .as_deref()
        .map(SecretKey::read)
        .transpose()?
        .map(|key| Signer::new(key, sign.validity));
    let added = change(&registry)?;
    let changed = added.iter().any(|a| matches!(a, Added::Published(_)));
    let signed = if changed || signer.is_some() {
        sign_again(to, signer.as_ref())
    } else {
        Ok(Signed::Unsigned)
    };
    Ok(Published { added, signed })
}

fn sign_again(dir: &Path, signer: Option<&Signer>) -> Result<Signed, RegistryOpError> {
    let file = dir.join(snapshot::SNAPSHOT_FILE);
    let Some(signer) = signer else {
        return Ok(if file.is_file() {
            Signed::Stale(file)
        } else {
            Signed::Unsigned
        });
    };
    let snapshot = signer.sign(dir)?;
    Ok(Signed::Signed {
        file,
        snapshot,
        fingerprint: signer.key().public().fingerprint(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::config::RegistryConfig;

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
        LocalRegistry::init(
            &registry,
            RegistryConfig {
                name: "test".into(),
                namespaces: vec!["openent".into()],
                api: None,
                keys: Vec::new(),
                mirrors: Vec::new(),
            },
        )
        .unwrap();
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

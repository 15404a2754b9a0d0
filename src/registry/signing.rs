//! Ed25519 keys in OpenSSH's own formats, and signatures in OpenSSH's SSHSIG
//! format, so that `ssh-keygen` can create, inspect and check everything
//! oent signs:
//!
//! - a secret key is an unencrypted `-----BEGIN OPENSSH PRIVATE KEY-----`
//!   file (mode 0600), its public half a one-line `ssh-ed25519 AAAA… comment`
//!   file beside it (`.pub`), exactly what `ssh-keygen -t ed25519` writes;
//! - a signature is the armored `-----BEGIN SSH SIGNATURE-----` block that
//!   `ssh-keygen -Y sign -n NAMESPACE` writes (SHA-512 message hash); the
//!   namespace keeps a signature made for one purpose from being replayed
//!   for another;
//! - a key is named by its fingerprint, `SHA256:…` as `ssh-keygen -l` prints.
//!
//! Only Ed25519 is accepted: one algorithm, no downgrade to choose.

use std::path::{Path, PathBuf};

use ssh_key::{Algorithm, HashAlg, LineEnding, SshSig};

/// The SSHSIG namespace of registry snapshots (`ssh-keygen -Y verify -n oent-snapshot`).
pub const SNAPSHOT_NAMESPACE: &str = "oent-snapshot";

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "`{}` is not an OpenSSH private key ({reason}); create one with `oent key new {}`",
        .path.display(), .path.display()
    )]
    NotAKey { path: PathBuf, reason: String },
    #[error(
        "`{}` is protected by a passphrase; oent signs unattended and needs an unencrypted key: keep it readable by the signer only (mode 0600), or decrypt a copy with `ssh-keygen -p -N '' -f COPY`",
        .path.display()
    )]
    Encrypted { path: PathBuf },
    #[error(
        "{what} is a {algorithm} key; oent signs and verifies with ssh-ed25519 keys only (create one with `oent key new`)"
    )]
    UnsupportedAlgorithm { what: String, algorithm: String },
    #[error(
        "`{}` already exists; oent never overwrites a key: choose another path, or remove the old key first if you really mean to replace it",
        .path.display()
    )]
    KeyExists { path: PathBuf },
    #[error(
        "`{line}` is not an OpenSSH public key ({reason}); expected one line like `ssh-ed25519 AAAAC3Nza… comment`, as in the key's .pub file"
    )]
    InvalidPublicKey { line: String, reason: String },
    #[error(
        "the signature is not an SSH signature ({reason}); expected an armored `-----BEGIN SSH SIGNATURE-----` block"
    )]
    MalformedSignature { reason: String },
    #[error("the signature was made by key {signer}, not by {expected}")]
    WrongKey { signer: String, expected: String },
    #[error(
        "the signature by {key} was made for namespace `{found}`, not `{expected}`: it signs something else"
    )]
    WrongNamespace {
        key: String,
        expected: String,
        found: String,
    },
    #[error("the signature by {key} does not match the data: the data was altered after signing")]
    BadSignature { key: String },
}

/// An Ed25519 secret key (with its comment).
pub struct SecretKey {
    key: ssh_key::PrivateKey,
}

impl std::fmt::Debug for SecretKey {
    /// Never prints the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("public", &self.public())
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// A new random key from the operating system's generator.
    pub fn generate(comment: &str) -> SecretKey {
        let mut key =
            ssh_key::PrivateKey::random(&mut ssh_key::rand_core::OsRng, Algorithm::Ed25519)
                .expect("Ed25519 keys can always be generated");
        key.set_comment(comment);
        SecretKey { key }
    }

    /// Reads an unencrypted OpenSSH Ed25519 private key.
    pub fn read(path: &Path) -> Result<SecretKey, SigningError> {
        let text = std::fs::read_to_string(path).map_err(|source| SigningError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let key =
            ssh_key::PrivateKey::from_openssh(text.trim()).map_err(|e| SigningError::NotAKey {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        if key.is_encrypted() {
            return Err(SigningError::Encrypted {
                path: path.to_path_buf(),
            });
        }
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(SigningError::UnsupportedAlgorithm {
                what: format!("`{}`", path.display()),
                algorithm: key.algorithm().to_string(),
            });
        }
        Ok(SecretKey { key })
    }

    /// Writes the key at `path` (mode 0600) and its public half at
    /// `path.pub` (mode 0644), as `ssh-keygen` does. Refuses when either
    /// file exists; each file appears whole or not at all.
    pub fn write_pair(&self, path: &Path) -> Result<(), SigningError> {
        let public_path = public_path(path);
        for p in [path, public_path.as_path()] {
            if p.symlink_metadata().is_ok() {
                return Err(SigningError::KeyExists {
                    path: p.to_path_buf(),
                });
            }
        }
        let secret = self
            .key
            .to_openssh(LineEnding::LF)
            .expect("an Ed25519 key always encodes");
        create_new(path, secret.as_bytes(), 0o600)?;
        let public = format!("{}\n", self.public().to_openssh());
        create_new(&public_path, public.as_bytes(), 0o644)
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            key: self.key.public_key().clone(),
        }
    }

    /// An armored SSH signature of `data` in `namespace`, as
    /// `ssh-keygen -Y sign -n NAMESPACE` makes (SHA-512).
    pub fn sign(&self, namespace: &str, data: &[u8]) -> String {
        self.key
            .sign(namespace, HashAlg::Sha512, data)
            .and_then(|sig| sig.to_pem(LineEnding::LF))
            .expect("Ed25519 signing cannot fail")
    }
}

/// `KEY.pub`, where `ssh-keygen` puts the public half of `KEY`.
pub fn public_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Writes a file that must not exist yet: temporary file (mode set at
/// creation), fsync, hard link to the final name (fails if taken), fsync of
/// the directory.
fn create_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), SigningError> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let io = |source| SigningError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".oent-key-")
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(io)?;
    temp.write_all(bytes).map_err(io)?;
    temp.as_file().sync_all().map_err(io)?;
    match std::fs::hard_link(temp.path(), path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(SigningError::KeyExists {
                path: path.to_path_buf(),
            });
        }
        other => other.map_err(io)?,
    }
    crate::fsutil::sync_dir(dir).map_err(io)
}

/// An Ed25519 public key. Two keys are equal when their key material is,
/// whatever their comments say.
#[derive(Clone)]
pub struct PublicKey {
    key: ssh_key::PublicKey,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &PublicKey) -> bool {
        self.key.key_data() == other.key.key_data()
    }
}

impl Eq for PublicKey {}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint())
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.fingerprint())
    }
}

impl PublicKey {
    /// Parses one OpenSSH public key line: `ssh-ed25519 AAAA… comment`.
    pub fn parse(openssh_line: &str) -> Result<PublicKey, SigningError> {
        let line = openssh_line.trim();
        let invalid = |reason: String| SigningError::InvalidPublicKey {
            line: abbreviate(line),
            reason,
        };
        if line.contains('\n') {
            return Err(invalid("it spans several lines".into()));
        }
        let key = ssh_key::PublicKey::from_openssh(line).map_err(|e| invalid(e.to_string()))?;
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(SigningError::UnsupportedAlgorithm {
                what: format!("public key `{}`", abbreviate(line)),
                algorithm: key.algorithm().to_string(),
            });
        }
        Ok(PublicKey { key })
    }

    /// The one-line OpenSSH form, with the comment.
    pub fn to_openssh(&self) -> String {
        self.key
            .to_openssh()
            .expect("an Ed25519 public key always encodes")
    }

    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint(HashAlg::Sha256).to_string()
    }

    /// Checks an armored SSH signature of `data` made by this key in `namespace`.
    pub fn verify(&self, namespace: &str, data: &[u8], armored: &str) -> Result<(), SigningError> {
        let sig =
            SshSig::from_pem(armored.trim()).map_err(|e| SigningError::MalformedSignature {
                reason: e.to_string(),
            })?;
        if sig.public_key() != self.key.key_data() {
            return Err(SigningError::WrongKey {
                signer: signer_fingerprint(&sig),
                expected: self.fingerprint(),
            });
        }
        if sig.namespace() != namespace {
            return Err(SigningError::WrongNamespace {
                key: self.fingerprint(),
                expected: namespace.to_owned(),
                found: sig.namespace().to_owned(),
            });
        }
        self.key
            .verify(namespace, data, &sig)
            .map_err(|_| SigningError::BadSignature {
                key: self.fingerprint(),
            })
    }
}

/// The fingerprint of the key an armored signature claims to be made by
/// (unverified: for messages only).
pub fn signer_of(armored: &str) -> Option<String> {
    SshSig::from_pem(armored.trim())
        .ok()
        .map(|sig| signer_fingerprint(&sig))
}

fn signer_fingerprint(sig: &SshSig) -> String {
    sig.public_key().fingerprint(HashAlg::Sha256).to_string()
}

/// A key line shortened for messages: algorithm and the start of the key.
fn abbreviate(line: &str) -> String {
    if line.chars().count() <= 40 {
        return line.to_owned();
    }
    let start: String = line.chars().take(32).collect();
    format!("{start}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_round_trip() {
        let key = SecretKey::generate("test");
        let public = key.public();
        let sig = key.sign(SNAPSHOT_NAMESPACE, b"hello");
        assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----\n"), "{sig}");
        assert!(sig.trim_end().ends_with("-----END SSH SIGNATURE-----"));
        public.verify(SNAPSHOT_NAMESPACE, b"hello", &sig).unwrap();
        assert_eq!(signer_of(&sig), Some(public.fingerprint()));
    }

    #[test]
    fn tampered_data_wrong_key_and_wrong_namespace_are_refused() {
        let key = SecretKey::generate("a");
        let sig = key.sign(SNAPSHOT_NAMESPACE, b"hello");
        let err = key
            .public()
            .verify(SNAPSHOT_NAMESPACE, b"hellO", &sig)
            .unwrap_err();
        assert!(matches!(err, SigningError::BadSignature { .. }), "{err}");
        assert!(err.to_string().contains("altered"), "{err}");

        let other = SecretKey::generate("b").public();
        let err = other
            .verify(SNAPSHOT_NAMESPACE, b"hello", &sig)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the signature was made by key {}, not by {}",
                key.public().fingerprint(),
                other.fingerprint()
            )
        );

        let err = key.public().verify("file", b"hello", &sig).unwrap_err();
        assert!(
            matches!(&err, SigningError::WrongNamespace { found, .. } if found == SNAPSHOT_NAMESPACE),
            "{err}"
        );

        let err = key
            .public()
            .verify(SNAPSHOT_NAMESPACE, b"hello", "nope")
            .unwrap_err();
        assert!(
            matches!(err, SigningError::MalformedSignature { .. }),
            "{err}"
        );
    }

    #[test]
    fn public_keys_parse_print_and_compare_without_comments() {
        let key = SecretKey::generate("oent-test");
        let line = key.public().to_openssh();
        assert!(
            line.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA"),
            "{line}"
        );
        assert!(line.ends_with(" oent-test"), "{line}");
        let parsed = PublicKey::parse(&format!("  {line}\n")).unwrap();
        assert_eq!(parsed, key.public());
        let bare = line.rsplit_once(' ').unwrap().0;
        assert_eq!(PublicKey::parse(bare).unwrap(), key.public());
        let fp = parsed.fingerprint();
        assert!(fp.starts_with("SHA256:") && fp.len() == 7 + 43, "{fp}");

        let err = PublicKey::parse("ssh-ed25519 notbase64").unwrap_err();
        assert!(
            err.to_string().contains("not an OpenSSH public key"),
            "{err}"
        );
        // A valid RSA key: refused by algorithm, not as garbage.
        let rsa = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDiWkImT7ZpCtXY0bK2m7nKhb2sS9r2YnNM2kbf3x0Kcm/SLzL1NuXjdNcbMlFkJr8wr4sGtLhrK3HWv0uQmEVxQ2o0h0lhjyvnqi8LgvhDMB2XBvDN0A4RJkXbVsA3ZL6UJtjoWdyGiHoRyqMhUZgf6OhZnaAT9TtVG7JQ2J0vQw== r";
        let err = PublicKey::parse(rsa).unwrap_err();
        assert!(
            matches!(err, SigningError::UnsupportedAlgorithm { .. }),
            "{err}"
        );
    }

    #[test]
    fn key_pair_files_round_trip_and_are_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/signing");
        let key = SecretKey::generate("me@example");
        key.write_pair(&path).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"),
            "{text}"
        );
        let public = std::fs::read_to_string(public_path(&path)).unwrap();
        assert_eq!(public, format!("{}\n", key.public().to_openssh()));

        let read = SecretKey::read(&path).unwrap();
        assert_eq!(read.public(), key.public());
        let sig = read.sign("n", b"x");
        key.public().verify("n", b"x", &sig).unwrap();

        let err = SecretKey::generate("other").write_pair(&path).unwrap_err();
        assert!(matches!(err, SigningError::KeyExists { .. }), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        // Only the public half there: still refused, nothing written.
        let lone = dir.path().join("lone");
        std::fs::write(public_path(&lone), "x").unwrap();
        let err = SecretKey::generate("x").write_pair(&lone).unwrap_err();
        assert!(
            err.to_string().contains("lone.pub` already exists"),
            "{err}"
        );
        assert!(!lone.exists());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("keys"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 2, "{leftovers:?}");
    }

    #[test]
    fn unreadable_keys_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "hello").unwrap();
        let err = SecretKey::read(&path).unwrap_err();
        assert!(
            err.to_string().contains("is not an OpenSSH private key"),
            "{err}"
        );
        let err = SecretKey::read(&dir.path().join("missing")).unwrap_err();
        assert!(matches!(err, SigningError::Io { .. }), "{err}");
    }
}

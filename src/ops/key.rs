//! `oent key new`: an Ed25519 key pair written in OpenSSH's formats, with
//! the comment it carries when none is given; and a public key given on the
//! command line (`oent fetch --key`, `oent verify --key`), as a line or a file.

use std::path::{Path, PathBuf};

use crate::registry::signing::{PublicKey, SecretKey, SigningError, public_path};

/// A key pair just written.
#[derive(Debug)]
pub struct NewKey {
    pub secret: PathBuf,
    pub public: PathBuf,
    pub key: PublicKey,
}

/// Generates a key pair and writes it to `path` (secret, mode 0600) and
/// `path.pub`; the comment is, by default, the file's name.
pub fn new_key(path: &Path, comment: Option<&str>) -> Result<NewKey, SigningError> {
    let comment = comment.map_or_else(|| default_comment(path), str::to_owned);
    let key = SecretKey::generate(&comment);
    key.write_pair(path)?;
    Ok(NewKey {
        secret: path.to_path_buf(),
        public: public_path(path),
        key: key.public(),
    })
}

fn default_comment(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| "oent".into(), |n| n.to_string_lossy().into_owned())
}

/// A public key the command line could not use.
#[derive(Debug, thiserror::Error)]
pub enum KeyArgError {
    #[error("`{arg}` is neither an OpenSSH public key line nor a readable .pub file: {source}")]
    Unreadable { arg: String, source: std::io::Error },
    #[error(transparent)]
    Invalid(#[from] SigningError),
}

/// A public key given as an OpenSSH line (`ssh-ed25519 AAAA…`), or as the
/// path of a .pub file whose first line is one.
pub fn public_key(arg: &str) -> Result<PublicKey, KeyArgError> {
    if arg.trim_start().starts_with("ssh-") {
        return Ok(PublicKey::parse(arg)?);
    }
    let text = std::fs::read_to_string(arg).map_err(|source| KeyArgError::Unreadable {
        arg: arg.to_owned(),
        source,
    })?;
    Ok(PublicKey::parse(text.lines().next().unwrap_or_default())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_named_after_its_file_unless_a_comment_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let named = new_key(&dir.path().join("forge"), None).unwrap();
        assert!(named.key.to_openssh().ends_with(" forge"));
        assert_eq!(named.public, dir.path().join("forge.pub"));
        let commented = new_key(&dir.path().join("k"), Some("ci signer")).unwrap();
        assert!(commented.key.to_openssh().ends_with(" ci signer"));
        assert_eq!(default_comment(Path::new("/")), "oent");
    }

    #[test]
    fn a_public_key_is_a_line_or_the_first_line_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let new = new_key(&dir.path().join("k"), None).unwrap();
        let line = new.key.to_openssh();
        assert_eq!(public_key(&line).unwrap().to_openssh(), line);
        std::fs::write(dir.path().join("two.pub"), format!("{line}\nsecond line\n")).unwrap();
        let file = dir.path().join("two.pub");
        assert_eq!(
            public_key(file.to_str().unwrap()).unwrap().to_openssh(),
            line
        );
        assert!(matches!(
            public_key("missing.pub"),
            Err(KeyArgError::Unreadable { .. })
        ));
        assert!(matches!(
            public_key("ssh-ed25519 nope"),
            Err(KeyArgError::Invalid(_))
        ));
    }
}

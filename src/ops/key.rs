//! `oent key new`: an Ed25519 key pair written in OpenSSH's formats, with
//! the comment it carries when none is given.

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
}

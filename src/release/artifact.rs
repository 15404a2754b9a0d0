//! The release artifact: a module's archive built from a commit's tree (not
//! from the work tree), with SOURCE_DATE_EPOCH the commit's time, so that
//! anyone holding the tag rebuilds the same bytes; its SSHSIG signature;
//! and the annotated tag's message that records both.

use std::path::{Path, PathBuf};

use super::ReleaseError;
use super::git::Git;
use crate::manifest::Module;
use crate::package::archive::{Packing, archive_file_name};
use crate::package::checksum::sha256sum_line;
use crate::registry::signing::{PublicKey, SecretKey};

/// SSHSIG namespace of release archives
/// (`ssh-keygen -Y verify -n oent-archive`).
pub const ARCHIVE_NAMESPACE: &str = "oent-archive";

/// An archive built from a commit.
#[derive(Debug)]
pub struct Built {
    pub module: Module,
    pub bytes: Vec<u8>,
    pub sha256: String,
    /// The entries' mtime: the commit's time.
    pub source_date_epoch: u64,
    pub file_name: String,
}

/// Exports `dir` as it is in `commit` and packs it exactly as `oent package`
/// does (same file rules, same writer), with the commit's time as mtime.
pub fn build_from_commit(
    git: &Git,
    commit: &git2::Commit<'_>,
    dir: &str,
) -> Result<Built, ReleaseError> {
    let temp = tempfile::Builder::new()
        .prefix(".oent-release-")
        .tempdir()
        .map_err(|source| ReleaseError::Io {
            path: std::env::temp_dir(),
            source,
        })?;
    let export = temp.path().join("module");
    std::fs::create_dir_all(&export).map_err(|source| ReleaseError::Io {
        path: export.clone(),
        source,
    })?;
    git.export(commit, dir, &export)?;
    let packing = Packing::read(&export).map_err(ReleaseError::Package)?;
    let epoch = u64::try_from(commit.time().seconds()).unwrap_or(0);
    let packed = packing.into_memory(epoch).map_err(ReleaseError::Package)?;
    Ok(Built {
        file_name: archive_file_name(&packed.module),
        module: packed.module,
        bytes: packed.bytes,
        sha256: packed.sha256,
        source_date_epoch: epoch,
    })
}

/// Writes the archive, its `.sha256` and (when given) its `.sig` under
/// `out/<namespace>/`, each atomically; returns the archive's path.
pub fn write(out: &Path, built: &Built, signature: Option<&str>) -> Result<PathBuf, ReleaseError> {
    let dir = out.join(built.module.name.namespace());
    let archive = dir.join(&built.file_name);
    let write = |path: &Path, bytes: &[u8]| {
        crate::fsutil::write_atomic(path, bytes).map_err(|source| ReleaseError::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    write(&archive, &built.bytes)?;
    write(
        &dir.join(format!("{}.sha256", built.file_name)),
        sha256sum_line(&built.sha256, &built.file_name).as_bytes(),
    )?;
    if let Some(signature) = signature {
        write(&signature_path(&archive), signature.as_bytes())?;
    }
    Ok(archive)
}

/// `<archive>.sig`.
pub fn signature_path(archive: &Path) -> PathBuf {
    let mut name = archive.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

pub fn sign(key: &SecretKey, bytes: &[u8]) -> String {
    key.sign(ARCHIVE_NAMESPACE, bytes)
}

pub fn verify_signature(key: &PublicKey, bytes: &[u8], armored: &str) -> Result<(), ReleaseError> {
    key.verify(ARCHIVE_NAMESPACE, bytes, armored)
        .map_err(ReleaseError::Signature)
}

/// What an annotated release tag records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRecord {
    pub name: String,
    pub version: String,
    /// The released directory, relative to the repository's root.
    pub path: String,
    pub sha256: Option<String>,
    pub signature: Option<String>,
}

impl TagRecord {
    /// The tag's message. The signature is indented: a line starting with
    /// `-----BEGIN` would make git take it for a signature of the tag itself.
    pub fn to_message(&self, notes: &str) -> String {
        let mut out = format!("{} {}\n\npath: {}\n", self.name, self.version, self.path);
        if let Some(sha) = &self.sha256 {
            out.push_str(&format!("sha256: {sha}\n"));
        }
        if let Some(sig) = &self.signature {
            out.push_str("archive-signature:\n");
            for line in sig.lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
        if !notes.trim().is_empty() {
            out.push('\n');
            out.push_str(notes.trim_start_matches('\n'));
        }
        out
    }

    /// The release notes a tag's message carries after its record (the
    /// record's lines hold no blank line: the signature is indented).
    pub fn notes(message: &str) -> &str {
        message.splitn(3, "\n\n").nth(2).unwrap_or_default()
    }

    pub fn parse(message: &str) -> Option<TagRecord> {
        let mut lines = message.lines();
        let (name, version) = lines.next()?.split_once(' ')?;
        let mut record = TagRecord {
            name: name.to_owned(),
            version: version.to_owned(),
            path: String::new(),
            sha256: None,
            signature: None,
        };
        let mut in_signature = false;
        let mut signature = String::new();
        for line in lines {
            if in_signature {
                if let Some(l) = line.strip_prefix("    ") {
                    signature.push_str(l);
                    signature.push('\n');
                    continue;
                }
                in_signature = false;
            }
            if let Some(p) = line.strip_prefix("path: ") {
                record.path = p.trim().to_owned();
            } else if let Some(s) = line.strip_prefix("sha256: ") {
                record.sha256 = Some(s.trim().to_owned());
            } else if line == "archive-signature:" {
                in_signature = true;
            }
        }
        if !signature.is_empty() {
            record.signature = Some(signature);
        }
        Some(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_messages_round_trip() {
        let key = SecretKey::generate("t");
        let record = TagRecord {
            name: "openent/x".into(),
            version: "1.2.0".into(),
            path: "modules/openent/x".into(),
            sha256: Some("ab".repeat(32)),
            signature: Some(sign(&key, b"bytes")),
        };
        let message = record.to_message("## [1.2.0]\n\n- y\n");
        assert!(!message.lines().any(|l| l.starts_with("-----BEGIN")));
        let parsed = TagRecord::parse(&message).unwrap();
        assert_eq!(parsed, record);
        assert_eq!(TagRecord::notes(&message), "## [1.2.0]\n\n- y\n");
        verify_signature(
            &key.public(),
            b"bytes",
            parsed.signature.as_deref().unwrap(),
        )
        .unwrap();
    }
}

//! A fork's difference from its base: the files of the fork's directory
//! against the files of the base's archive, both listed with the packing
//! rules (`.gitignore`, `.oentignore`, no VCS metadata), so that what is
//! compared is what would be published. The identity lines of module.yaml
//! (`name`, `version`, `fork-of`) are expected to differ and are left out.

use std::collections::BTreeMap;
use std::path::Path;

use similar::{ChangeTag, TextDiff};

use super::ContributeError;
use crate::manifest::module::MODULE_FILE;
use crate::package::checksum::sha256_hex;
use crate::package::files::module_files;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    Added,
    Removed,
    Modified,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Modified => "modified",
        }
    }
}

/// One file that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// `/`-separated, relative to the module directory.
    pub path: String,
    pub kind: ChangeKind,
    /// Not UTF-8 text (or holding NUL bytes): counted, never line-diffed.
    pub binary: bool,
    pub added: usize,
    pub removed: usize,
    /// The fork's content (after removing identity lines for module.yaml);
    /// `None` for a removed file.
    pub content: Option<Vec<u8>>,
}

/// Every file that differs, sorted by path, and the diff's content hash.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ForkDiff {
    pub files: Vec<FileChange>,
    /// `sha256:` of the changes (paths, kinds and new contents): equal
    /// hashes mean the same difference, whatever the dates.
    pub hash: String,
}

impl ForkDiff {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
    pub fn lines_added(&self) -> usize {
        self.files.iter().map(|f| f.added).sum()
    }
    pub fn lines_removed(&self) -> usize {
        self.files.iter().map(|f| f.removed).sum()
    }
    pub fn binary_files(&self) -> Vec<&str> {
        self.files
            .iter()
            .filter(|f| f.binary)
            .map(|f| f.path.as_str())
            .collect()
    }
    /// `2 files changed, +10 −3 lines` (and binary files named).
    pub fn summary(&self) -> String {
        let mut text = format!(
            "{} file(s) changed, +{} −{} lines",
            self.files.len(),
            self.lines_added(),
            self.lines_removed()
        );
        let binary = self.binary_files();
        if !binary.is_empty() {
            text.push_str(&format!(", binary: {}", binary.join(", ")));
        }
        text
    }
}

/// Top-level keys of module.yaml that a fork changes by construction.
const IDENTITY_KEYS: &[&str] = &["name:", "version:", "fork-of:"];

/// module.yaml without its identity lines (top-level `name`, `version`, `fork-of`).
pub fn without_identity(text: &str) -> String {
    text.split_inclusive('\n')
        .filter(|line| !IDENTITY_KEYS.iter().any(|k| line.starts_with(k)))
        .collect()
}

fn read_files(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, ContributeError> {
    let mut out = BTreeMap::new();
    for file in module_files(dir).map_err(|e| ContributeError::Files {
        dir: dir.to_path_buf(),
        message: e.to_string(),
    })? {
        let mut bytes = std::fs::read(&file.path).map_err(|source| ContributeError::Io {
            path: file.path.clone(),
            source,
        })?;
        if file.relative == MODULE_FILE {
            bytes = without_identity(&String::from_utf8_lossy(&bytes)).into_bytes();
        }
        out.insert(file.relative, bytes);
    }
    Ok(out)
}

fn text(bytes: &[u8]) -> Option<&str> {
    if bytes.contains(&0) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// Lines added and removed between two texts.
fn count_lines(old: &str, new: &str) -> (usize, usize) {
    let diff = TextDiff::from_lines(old, new);
    let mut added = 0;
    let mut removed = 0;
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Insert => added += 1,
            ChangeTag::Delete => removed += 1,
            ChangeTag::Equal => {}
        }
    }
    (added, removed)
}

/// The difference from `base` (the base's unpacked archive) to `fork`.
pub fn diff(base: &Path, fork: &Path) -> Result<ForkDiff, ContributeError> {
    let old = read_files(base)?;
    let new = read_files(fork)?;
    let mut files = Vec::new();
    let paths: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for path in paths {
        let (o, n) = (old.get(path), new.get(path));
        let kind = match (o, n) {
            (None, Some(_)) => ChangeKind::Added,
            (Some(_), None) => ChangeKind::Removed,
            (Some(a), Some(b)) if a != b => ChangeKind::Modified,
            _ => continue,
        };
        let empty: &[u8] = &[];
        let (ot, nt) = (
            text(o.map_or(empty, Vec::as_slice)),
            text(n.map_or(empty, Vec::as_slice)),
        );
        let (binary, added, removed) = match (ot, nt) {
            (Some(a), Some(b)) => {
                let (added, removed) = count_lines(a, b);
                (false, added, removed)
            }
            _ => (true, 0, 0),
        };
        files.push(FileChange {
            path: path.clone(),
            kind,
            binary,
            added,
            removed,
            content: n.cloned(),
        });
    }
    let mut hashed = String::new();
    for f in &files {
        let content = f.content.as_deref().map_or("-".into(), sha256_hex);
        hashed.push_str(&format!("{}\t{}\t{content}\n", f.kind.as_str(), f.path));
    }
    let hash = if files.is_empty() {
        String::new()
    } else {
        format!("sha256:{}", sha256_hex(hashed.as_bytes()))
    };
    Ok(ForkDiff { files, hash })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_lines_are_not_a_difference() {
        let base = "schema: oent/module/v1\nname: openent/x\nversion: 1.0.0\nlicence: MIT\n";
        let fork = "schema: oent/module/v1\nname: idf/x\nversion: 1.0.0\nfork-of: openent/x@1.0.0\nlicence: MIT\n";
        assert_eq!(without_identity(base), without_identity(fork));
    }

    #[test]
    fn counts_files_lines_and_binaries() {
        let base = tempfile::tempdir().unwrap();
        let fork = tempfile::tempdir().unwrap();
        std::fs::write(base.path().join("a.txt"), "1\n2\n3\n").unwrap();
        std::fs::write(fork.path().join("a.txt"), "1\ntwo\n3\n4\n").unwrap();
        std::fs::write(fork.path().join("logo.png"), [0x89, b'P', 0, 1]).unwrap();
        std::fs::write(base.path().join("old.txt"), "x\n").unwrap();
        let d = diff(base.path(), fork.path()).unwrap();
        assert_eq!(d.files.len(), 3);
        assert_eq!((d.lines_added(), d.lines_removed()), (2, 2));
        assert_eq!(d.binary_files(), vec!["logo.png"]);
        assert!(d.hash.starts_with("sha256:"));
        assert_eq!(diff(base.path(), fork.path()).unwrap().hash, d.hash);
    }
}

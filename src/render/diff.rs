//! What an upgrade changes, before anyone deploys it: two bundles compared
//! through their `bundle.json`, with a unified diff of each changed text file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::bundle::BUNDLE_MANIFEST;

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("`{}` is not a bundle (no {BUNDLE_MANIFEST}): build one with `oent build`", .0.display())]
    NotABundle(PathBuf),
    #[error("`{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` is damaged: {message}", path.display())]
    Damaged { path: PathBuf, message: String },
}

/// Path → sha256, from a bundle's manifest.
fn listing(bundle: &Path) -> Result<BTreeMap<String, String>, DiffError> {
    let path = bundle.join(BUNDLE_MANIFEST);
    let text =
        std::fs::read_to_string(&path).map_err(|_| DiffError::NotABundle(bundle.to_path_buf()))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| DiffError::Damaged {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let files = value["files"]
        .as_array()
        .ok_or_else(|| DiffError::Damaged {
            path: path.clone(),
            message: "no `files` list".into(),
        })?;
    Ok(files
        .iter()
        .filter_map(|f| {
            Some((
                f["path"].as_str()?.to_owned(),
                f["sha256"].as_str()?.to_owned(),
            ))
        })
        .collect())
}

/// What became of one file of the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Modified,
}

/// One file that differs, by its path in the bundle.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileChange {
    pub path: String,
    pub change: Change,
}

/// Two bundles compared: the files that differ, sorted by path, and the
/// report a person reads (`+ added`, `- removed`, `~ modified` lines, each
/// modified text file followed by its unified diff).
#[derive(Debug, Clone, Default)]
pub struct BundleDiff {
    pub files: Vec<FileChange>,
    pub report: String,
}

/// `old` against `new`, `context` lines around each change.
pub fn diff(old: &Path, new: &Path, context: usize) -> Result<BundleDiff, DiffError> {
    compare(Some(old), new, context)
}

/// As [`diff`]; without `old` (no bundle built yet) every file is added.
pub fn compare(old: Option<&Path>, new: &Path, context: usize) -> Result<BundleDiff, DiffError> {
    let before = match old {
        Some(old) => listing(old)?,
        None => BTreeMap::new(),
    };
    let after = listing(new)?;
    let mut out = BundleDiff::default();
    for path in before
        .keys()
        .chain(after.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let change = match (before.get(path), after.get(path)) {
            (Some(_), None) => Change::Removed,
            (None, Some(_)) => Change::Added,
            (Some(a), Some(b)) if a != b => Change::Modified,
            _ => continue,
        };
        let sign = match change {
            Change::Added => '+',
            Change::Removed => '-',
            Change::Modified => '~',
        };
        out.report.push_str(&format!("{sign} {path}\n"));
        if let (Change::Modified, Some(old)) = (change, old) {
            out.report.push_str(&unified(old, new, path, context)?);
        }
        out.files.push(FileChange {
            path: path.clone(),
            change,
        });
    }
    Ok(out)
}

/// The unified diff of one file present in both bundles.
fn unified(old: &Path, new: &Path, path: &str, context: usize) -> Result<String, DiffError> {
    let read = |root: &Path| {
        std::fs::read(root.join(path)).map_err(|source| DiffError::Io {
            path: root.join(path),
            source,
        })
    };
    let (a, b) = (read(old)?, read(new)?);
    Ok(match (std::str::from_utf8(&a), std::str::from_utf8(&b)) {
        (Ok(a), Ok(b)) => similar::TextDiff::from_lines(a, b)
            .unified_diff()
            .context_radius(context)
            .header(&format!("old/{path}"), &format!("new/{path}"))
            .to_string(),
        _ => "  (binary content differs)\n".to_owned(),
    })
}

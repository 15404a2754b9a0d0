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

/// The report: `+ added`, `- removed`, `~ changed` lines, each changed text
/// file followed by its unified diff (`context` lines around each change).
pub fn diff(old: &Path, new: &Path, context: usize) -> Result<(String, usize), DiffError> {
    let (before, after) = (listing(old)?, listing(new)?);
    let mut report = String::new();
    let mut changes = 0;
    for path in before
        .keys()
        .chain(after.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        match (before.get(path), after.get(path)) {
            (Some(_), None) => {
                report.push_str(&format!("- {path}\n"));
                changes += 1;
            }
            (None, Some(_)) => {
                report.push_str(&format!("+ {path}\n"));
                changes += 1;
            }
            (Some(a), Some(b)) if a != b => {
                report.push_str(&format!("~ {path}\n"));
                changes += 1;
                let read = |root: &Path| {
                    std::fs::read(root.join(path)).map_err(|source| DiffError::Io {
                        path: root.join(path),
                        source,
                    })
                };
                let (a, b) = (read(old)?, read(new)?);
                match (std::str::from_utf8(&a), std::str::from_utf8(&b)) {
                    (Ok(a), Ok(b)) => {
                        let text = similar::TextDiff::from_lines(a, b)
                            .unified_diff()
                            .context_radius(context)
                            .header(&format!("old/{path}"), &format!("new/{path}"))
                            .to_string();
                        report.push_str(&text);
                    }
                    _ => report.push_str("  (binary content differs)\n"),
                }
            }
            _ => {}
        }
    }
    Ok((report, changes))
}

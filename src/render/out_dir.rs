//! Which folder `oent build` may replace with a bundle. The bundle replaces
//! its output folder as a whole, so the folder must be new, empty, or a
//! bundle oent wrote (its `bundle.json`, format and file list); never the
//! distribution's folder, the current directory, or a folder holding them.
//! Files an operator added to a previous bundle, which its `bundle.json`
//! does not list, are refused unless `--force` (then named, and deleted):
//! their place is `local/` beside the bundle (docs/render.md).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::bundle::{BUNDLE_FORMAT, BUNDLE_MANIFEST, BundleError};

/// The folder for operator files, beside the bundle.
pub const LOCAL_DIR: &str = "local";

/// An output folder that may be replaced.
#[derive(Debug)]
pub struct OutDir {
    /// As the user named it, for messages.
    pub shown: PathBuf,
    /// Absolute, with `.`, `..` and symbolic links of existing folders resolved.
    pub resolved: PathBuf,
    /// Files (or folders, with a trailing `/`) of the previous bundle that
    /// its `bundle.json` does not list: deleted by the build (`--force`).
    pub unlisted: Vec<String>,
}

/// Checks that `out` may receive the bundle of the distribution in
/// `distribution_dir`, before anything is rendered.
pub fn check(out: &Path, distribution_dir: &Path, force: bool) -> Result<OutDir, BundleError> {
    let refuse = |reason: String, help: &str| BundleError::Refused {
        path: out.to_path_buf(),
        reason,
        details: Vec::new(),
        help: help.to_owned(),
    };
    let resolved = resolve(out).map_err(|error| BundleError::Io {
        path: out.to_path_buf(),
        error,
    })?;
    let pick =
        "pick a new or empty folder, or leave out `-o` for the default `<distribution>/bundle`";
    if let Ok(dist) = distribution_dir.canonicalize()
        && dist.starts_with(&resolved)
    {
        let reason = if dist == resolved {
            "it is the distribution's folder".to_owned()
        } else {
            format!(
                "it holds the distribution's folder `{}`",
                distribution_dir.display()
            )
        };
        return Err(refuse(
            format!(
                "{reason}, and the bundle replaces its folder as a whole (distribution.yaml, the CSV and oent.lock would be deleted)"
            ),
            pick,
        ));
    }
    if let Ok(cwd) = std::env::current_dir().and_then(|d| d.canonicalize())
        && cwd.starts_with(&resolved)
    {
        return Err(refuse(
            "it is (or holds) the current directory, and the bundle replaces its folder as a whole"
                .to_owned(),
            "pick a new folder, e.g. `-o bundle`",
        ));
    }
    let unlisted = match std::fs::metadata(&resolved) {
        Err(_) => Vec::new(),
        Ok(meta) if !meta.is_dir() => {
            return Err(refuse(
                "it is a file, not a folder".to_owned(),
                "pick another path, or move the file away yourself",
            ));
        }
        Ok(_) => previous_bundle(&resolved).map_err(|reason| refuse(reason, pick))?,
    };
    if !unlisted.is_empty() && !force {
        return Err(BundleError::Refused {
            path: out.to_path_buf(),
            reason: format!(
                "the previous bundle holds {} file(s) its bundle.json does not list, which replacing it would delete",
                unlisted.len()
            ),
            details: unlisted,
            help: format!(
                "keep your own files out of the bundle, in `{LOCAL_DIR}/` beside it (docs/render.md, \"Operator files\"); or pass --force to delete them"
            ),
        });
    }
    Ok(OutDir {
        shown: out.to_path_buf(),
        resolved,
        unlisted,
    })
}

/// `out` made absolute, its longest existing ancestor canonicalised (so
/// `.`, `..` and symbolic links are resolved where they exist).
fn resolve(out: &Path) -> std::io::Result<PathBuf> {
    let absolute = std::env::current_dir()?.join(out);
    for ancestor in absolute.ancestors() {
        if let Ok(real) = ancestor.canonicalize() {
            let rest = absolute.strip_prefix(ancestor).expect("an ancestor");
            return Ok(crate::fsutil::normalize(&real.join(rest)));
        }
    }
    Ok(crate::fsutil::normalize(&absolute))
}

/// For a folder that exists: nothing if it is empty; if it is a bundle oent
/// wrote, what in it its `bundle.json` does not list; else why not.
fn previous_bundle(dir: &Path) -> Result<Vec<String>, String> {
    let mut entries = std::fs::read_dir(dir).map_err(|e| format!("cannot list it: {e}"))?;
    if entries.next().is_none() {
        return Ok(Vec::new());
    }
    let manifest = dir.join(BUNDLE_MANIFEST);
    let text = std::fs::read_to_string(&manifest).map_err(|_| {
        format!("it is not empty and is not a bundle oent wrote (no {BUNDLE_MANIFEST})")
    })?;
    let listed = listed_files(&text).ok_or_else(|| {
        format!(
            "it is not empty and its {BUNDLE_MANIFEST} is not one oent wrote (expected format {BUNDLE_FORMAT} with a `files` list)"
        )
    })?;
    let mut unlisted = Vec::new();
    unlisted_under(dir, "", &listed, &mut unlisted);
    Ok(unlisted)
}

/// What the check needs of a `bundle.json`: its format and its paths, read
/// into these shapes rather than a whole `serde_json::Value` (a large
/// bundle lists a million files; their sizes and hashes are skipped).
#[derive(serde::Deserialize)]
struct Listed {
    format: u64,
    files: Vec<ListedFile>,
}

#[derive(serde::Deserialize)]
struct ListedFile {
    path: String,
}

/// The paths a `bundle.json` lists, if it is oent's format.
fn listed_files(text: &str) -> Option<BTreeSet<String>> {
    let listed: Listed = serde_json::from_str(text).ok()?;
    (listed.format == u64::from(BUNDLE_FORMAT))
        .then(|| listed.files.into_iter().map(|f| f.path).collect())
}

/// Appends to `out` each file under `dir` (`prefix` relative to the bundle)
/// that `listed` does not name, and each folder no listed file is in.
fn unlisted_under(dir: &Path, prefix: &str, listed: &BTreeSet<String>, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<_> = entries.flatten().collect();
    names.sort_by_key(|e| e.file_name());
    for entry in names {
        let relative = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            let inside = format!("{relative}/");
            if listed
                .range(inside.clone()..)
                .next()
                .is_some_and(|p| p.starts_with(&inside))
            {
                unlisted_under(&entry.path(), &inside, listed, out);
            } else {
                out.push(inside);
            }
        } else if relative != BUNDLE_MANIFEST && !listed.contains(&relative) {
            out.push(relative);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlisted_files_and_folders_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "conf/m/a",
            "compose/compose.yaml",
            "compose/.env",
            "notes/x",
            "bundle.json",
        ] {
            std::fs::create_dir_all(root.join(f).parent().unwrap()).unwrap();
            std::fs::write(root.join(f), "").unwrap();
        }
        let listed: BTreeSet<String> = ["conf/m/a", "compose/compose.yaml"]
            .map(String::from)
            .into();
        let mut out = Vec::new();
        unlisted_under(root, "", &listed, &mut out);
        assert_eq!(out, ["compose/.env", "notes/"]);
    }

    #[test]
    fn only_oents_format_is_a_bundle() {
        assert_eq!(
            listed_files(r#"{"format": 1, "files": [{"path": "a"}]}"#),
            Some(["a".to_owned()].into())
        );
        assert_eq!(listed_files(r#"{"format": 2, "files": []}"#), None);
        assert_eq!(listed_files(r#"{"files": []}"#), None);
        assert_eq!(listed_files("not json"), None);
    }
}

//! Writing the bundle: every file into a temporary directory beside the
//! output, `bundle.json` listing each file with its sha256, then a rename
//! into place. A failed or killed build leaves the previous bundle as it was.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::engine::Files;
use crate::package::checksum::sha256_hex;

pub const BUNDLE_MANIFEST: &str = "bundle.json";
pub const BUNDLE_FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// `error` is not a `source`: the message already says it, once.
    #[error("cannot write the bundle `{}`: {error}; the previous bundle, if any, is untouched", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + '_ {
    move |error| BundleError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// `bundle.json`: every file of the bundle, sorted, with size and sha256.
pub fn manifest(distribution: &str, version: &str, target: &str, files: &Files) -> String {
    let entries: Vec<_> = files.iter().map(|(path, bytes)| json!({ "path": path, "size": bytes.len(), "sha256": sha256_hex(bytes) })).collect();
    let value = json!({ "format": BUNDLE_FORMAT, "distribution": distribution, "version": version, "target": target, "files": entries });
    let mut text = serde_json::to_string_pretty(&value).expect("JSON values serialise");
    text.push('\n');
    text
}

/// A full disk, on demand: `OENT_FAULT_DISK_BYTES=N` makes the writer fail
/// with "no space left on device" once N bytes are written, so that tests
/// can check what a full disk leaves behind without mounting a filesystem.
struct DiskSpace(Option<usize>);

impl DiskSpace {
    fn from_env() -> Self {
        DiskSpace(
            std::env::var("OENT_FAULT_DISK_BYTES")
                .ok()
                .and_then(|v| v.parse().ok()),
        )
    }

    fn take(&mut self, n: usize) -> std::io::Result<()> {
        match &mut self.0 {
            Some(left) if *left < n => Err(std::io::Error::from(std::io::ErrorKind::StorageFull)),
            Some(left) => {
                *left -= n;
                Ok(())
            }
            None => Ok(()),
        }
    }
}

/// Writes `files` as the bundle at `out`, replacing any previous bundle only
/// once the new one is complete on disk.
pub fn write(out: &Path, files: &Files) -> Result<(), BundleError> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let name = out
        .file_name()
        .map_or_else(|| "bundle".into(), |n| n.to_string_lossy().into_owned());
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.oent-build-"))
        .tempdir_in(parent)
        .map_err(io(parent))?;
    let mut space = DiskSpace::from_env();
    // Each directory is created once, not once per file (15,000 mkdir calls otherwise).
    let mut made: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    for (relative, bytes) in files {
        let path = staging.path().join(relative);
        if let Some(dir) = path.parent()
            && !made.contains(dir)
        {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
            made.insert(dir.to_path_buf());
        }
        // Named by the bundle, not by its temporary directory.
        space.take(bytes.len()).map_err(io(out))?;
        std::fs::write(&path, bytes).map_err(io(out))?;
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(staging.path(), std::fs::Permissions::from_mode(0o755))
        .map_err(io(staging.path()))?;
    // Flush the tree before it becomes the bundle.
    crate::fsutil::sync_dir(staging.path()).map_err(io(staging.path()))?;
    let staged = staging.keep();
    if out.exists() {
        let old = tempfile::Builder::new()
            .prefix(&format!(".{name}.oent-old-"))
            .tempdir_in(parent)
            .map_err(io(parent))?
            .keep();
        std::fs::remove_dir(&old).map_err(io(&old))?;
        std::fs::rename(out, &old).map_err(io(out))?;
        if let Err(e) = std::fs::rename(&staged, out) {
            // Put the previous bundle back before reporting.
            let _ = std::fs::rename(&old, out);
            let _ = std::fs::remove_dir_all(&staged);
            return Err(BundleError::Io {
                path: out.to_path_buf(),
                error: e,
            });
        }
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(&staged, out).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staged);
            BundleError::Io {
                path: out.to_path_buf(),
                error: e,
            }
        })?;
    }
    Ok(())
}

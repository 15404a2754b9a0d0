//! Safe unpacking. `tar::Archive::unpack` silently skips `..` entries where
//! oent must refuse the whole archive, so entries are iterated here, each
//! checked, and read through a byte budget. The tree is built in a temporary
//! directory beside the destination and renamed into place only when every
//! entry passed: an interrupted or refused unpack leaves no half tree.

use std::collections::HashSet;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use flate2::read::GzDecoder;

/// Limits on what one archive may unpack to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_entries: usize,
    pub max_total_bytes: u64,
    pub max_file_bytes: u64,
}

impl Default for Limits {
    /// A module is configuration and templates: 10,000 files and 512 MiB is generous.
    fn default() -> Self {
        Limits {
            max_entries: 10_000,
            max_total_bytes: 512 << 20,
            max_file_bytes: 256 << 20,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("entry `{entry}`: {reason}")]
    Refused { entry: String, reason: &'static str },
    #[error("archive has more than {0} entries")]
    TooManyEntries(usize),
    #[error("archive unpacks to more than {0} bytes (a decompression bomb?)")]
    TooLarge(u64),
    #[error("archive is not a valid tar.gz: {0}")]
    Corrupt(io::Error),
    #[error("archive has no `{0}` root directory")]
    WrongRoot(String),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// Unpacks a `.tar.gz` whose entries must all lie under `root/` into `dest`
/// (which must not exist), enforcing `limits`. Returns the files written,
/// relative to `dest`.
pub fn unpack(
    archive: impl Read,
    root: &str,
    dest: &Path,
    limits: Limits,
) -> Result<Vec<String>, UnpackError> {
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|source| UnpackError::Io {
        path: parent.to_path_buf(),
        source,
    })?;
    let staging = tempfile::Builder::new()
        .prefix(".oent-unpack-")
        .tempdir_in(parent)
        .map_err(|source| UnpackError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    let written = unpack_into(archive, root, staging.path(), limits)?;
    let staged = staging.keep();
    std::fs::rename(&staged, dest).map_err(|source| {
        let _ = std::fs::remove_dir_all(&staged);
        UnpackError::Io {
            path: dest.to_path_buf(),
            source,
        }
    })?;
    Ok(written)
}

fn unpack_into(
    archive: impl Read,
    root: &str,
    dir: &Path,
    limits: Limits,
) -> Result<Vec<String>, UnpackError> {
    let mut archive = tar::Archive::new(GzDecoder::new(archive));
    let mut seen: HashSet<String> = HashSet::new();
    let mut written = Vec::new();
    let mut total: u64 = 0;
    let entries = archive.entries().map_err(UnpackError::Corrupt)?;
    for (count, entry) in entries.enumerate() {
        if count >= limits.max_entries {
            return Err(UnpackError::TooManyEntries(limits.max_entries));
        }
        let mut entry = entry.map_err(UnpackError::Corrupt)?;
        let raw_path = entry.path_bytes().into_owned();
        let name = String::from_utf8(raw_path).map_err(|e| UnpackError::Refused {
            entry: String::from_utf8_lossy(e.as_bytes()).into_owned(),
            reason: "the path is not UTF-8",
        })?;
        let refuse = |reason| UnpackError::Refused {
            entry: name.clone(),
            reason,
        };
        let relative = checked_path(&name, root).map_err(refuse)?;
        let header = entry.header();
        let kind = header.entry_type();
        let mode = header.mode().map_err(UnpackError::Corrupt)?;
        if mode & 0o6000 != 0 {
            return Err(refuse("setuid or setgid bit set"));
        }
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            tar::EntryType::Directory => {
                if let Some(relative) = relative {
                    let path = dir.join(&relative);
                    std::fs::create_dir_all(&path)
                        .map_err(|source| UnpackError::Io { path, source })?;
                }
                continue;
            }
            tar::EntryType::Symlink => return Err(refuse("symbolic links are not allowed")),
            tar::EntryType::Link => return Err(refuse("hard links are not allowed")),
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                return Err(refuse("device files and FIFOs are not allowed"));
            }
            _ => return Err(refuse("only regular files and directories are allowed")),
        }
        let Some(relative) = relative else {
            return Err(refuse("a file cannot be the root directory"));
        };
        if !seen.insert(relative.clone()) {
            return Err(refuse("duplicate entry"));
        }
        let path = dir.join(&relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| UnpackError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| UnpackError::Io {
                path: path.clone(),
                source,
            })?;
        // Read through a budget: the header's size is not trusted.
        let allowed = limits.max_file_bytes.min(limits.max_total_bytes - total) + 1;
        let copied =
            io::copy(&mut (&mut entry).take(allowed), &mut file).map_err(UnpackError::Corrupt)?;
        if copied >= allowed {
            return Err(UnpackError::TooLarge(
                limits.max_total_bytes.min(limits.max_file_bytes),
            ));
        }
        total += copied;
        let mode = if mode & 0o111 != 0 { 0o755 } else { 0o644 };
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|source| UnpackError::Io {
                path: path.clone(),
                source,
            })?;
        written.push(relative);
    }
    if written.is_empty() && seen.is_empty() {
        return Err(UnpackError::WrongRoot(root.to_owned()));
    }
    Ok(written)
}

/// The entry's path below `root/`, or why it is refused. `None`: the root itself.
fn checked_path(name: &str, root: &str) -> Result<Option<String>, &'static str> {
    if name.starts_with('/') || name.starts_with('\\') {
        return Err("absolute path");
    }
    if name.contains('\\') || name.contains('\0') {
        return Err("backslash or NUL in the path");
    }
    let path = Path::new(name);
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str().ok_or("the path is not UTF-8")?),
            Component::CurDir => {}
            Component::ParentDir => return Err("`..` in the path"),
            Component::RootDir | Component::Prefix(_) => return Err("absolute path"),
        }
    }
    match parts.split_first() {
        Some((first, rest)) if *first == root => Ok((!rest.is_empty()).then(|| rest.join("/"))),
        _ => Err("outside the archive's root directory"),
    }
}

#[cfg(test)]
mod tests {
    use super::checked_path;

    #[test]
    fn paths() {
        assert_eq!(
            checked_path("m-1.0.0/a/b.txt", "m-1.0.0"),
            Ok(Some("a/b.txt".into()))
        );
        assert_eq!(checked_path("m-1.0.0/", "m-1.0.0"), Ok(None));
        assert_eq!(checked_path("./m-1.0.0/x", "m-1.0.0"), Ok(Some("x".into())));
        assert!(checked_path("/etc/passwd", "m-1.0.0").is_err());
        assert!(checked_path("m-1.0.0/../x", "m-1.0.0").is_err());
        assert!(checked_path("other/x", "m-1.0.0").is_err());
    }
}

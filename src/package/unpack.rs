//! Safe unpacking. `tar::Archive::unpack` silently skips `..` entries where
//! oent must refuse the whole archive, so entries are iterated here, each
//! checked, and read through a byte budget. The tree is built in a temporary
//! directory beside the destination and renamed into place only when every
//! entry passed: an interrupted or refused unpack leaves no half tree.

use std::collections::HashSet;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use std::io::{BufRead, BufReader};

// The `bufread` decoder reads only what the gzip member needs from its
// buffer, so what follows the member can be inspected afterwards.
use flate2::bufread::GzDecoder;

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

/// The longest path component and entry path accepted. Linux refuses a
/// component over 255 bytes and a path over 4096 with a bare "File name
/// too long" about the unpacking directory; module files are templates and
/// configuration, so 1024 bytes leaves room for that directory. (The
/// messages of [`checked_path`] spell these numbers.)
pub const MAX_COMPONENT_BYTES: usize = 255;
pub const MAX_PATH_BYTES: usize = 1024;

/// Entry names longer than this are shortened in messages (a hostile name
/// may be megabytes long) to their first [`SHOWN_NAME_BYTES`], then their length.
const SHORTENED_ABOVE: usize = 200;
const SHOWN_NAME_BYTES: usize = 120;

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// `entry` is already shortened for messages ([`shown`]).
    #[error("entry `{entry}`: {reason}")]
    Refused { entry: String, reason: &'static str },
    #[error("archive has more than {0} entries")]
    TooManyEntries(usize),
    #[error("entry `{entry}`: {what} is larger than {limit} bytes (a decompression bomb?)")]
    TooLarge {
        entry: String,
        what: &'static str,
        limit: u64,
    },
    #[error("archive is not a valid tar.gz: {0}")]
    Trailing(&'static str),
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
    let mut archive = tar::Archive::new(GzDecoder::new(BufReader::new(archive)));
    let mut seen: HashSet<String> = HashSet::new();
    let mut written = Vec::new();
    let mut total: u64 = 0;
    let entries = archive.entries().map_err(UnpackError::Corrupt)?;
    for (count, entry) in entries.enumerate() {
        let entry = entry.map_err(UnpackError::Corrupt)?;
        if let Some(relative) =
            unpack_entry(entry, count, root, dir, &limits, &mut seen, &mut total)?
        {
            written.push(relative);
        }
    }
    if written.is_empty() && seen.is_empty() {
        return Err(UnpackError::WrongRoot(root.to_owned()));
    }
    check_end(archive.into_inner())?;
    Ok(written)
}

/// What follows the last entry: only the zero blocks of the end-of-archive
/// marker and padding, then the gzip trailer (its CRC and size are checked
/// by reading to the end), then nothing. GNU tar reads past an early
/// end-of-archive marker (`-i`) and gzip reads further members: an archive
/// that hides entries there is refused, not published.
fn check_end<R: BufRead>(mut decoder: GzDecoder<R>) -> Result<(), UnpackError> {
    let mut buffer = [0u8; 8192];
    let mut padding: u64 = 0;
    loop {
        let n = decoder.read(&mut buffer).map_err(UnpackError::Corrupt)?;
        if n == 0 {
            break;
        }
        if buffer[..n].iter().any(|b| *b != 0) {
            return Err(UnpackError::Trailing(
                "data after the end-of-archive marker (hidden entries?)",
            ));
        }
        padding += n as u64;
        if padding > 1 << 20 {
            return Err(UnpackError::Trailing(
                "more than 1 MiB of padding after the last entry",
            ));
        }
    }
    let mut inner = decoder.into_inner();
    if !inner.fill_buf().map_err(UnpackError::Corrupt)?.is_empty() {
        return Err(UnpackError::Trailing(
            "data after the gzip stream (a second gzip member?)",
        ));
    }
    Ok(())
}

/// Checks and writes one entry; returns the file's relative path, or `None` for a directory.
fn unpack_entry<R: Read>(
    mut entry: tar::Entry<'_, R>,
    count: usize,
    root: &str,
    dir: &Path,
    limits: &Limits,
    seen: &mut HashSet<String>,
    total: &mut u64,
) -> Result<Option<String>, UnpackError> {
    {
        if count >= limits.max_entries {
            return Err(UnpackError::TooManyEntries(limits.max_entries));
        }
        let raw_path = entry.path_bytes().into_owned();
        let name = String::from_utf8(raw_path).map_err(|e| UnpackError::Refused {
            entry: shown(&String::from_utf8_lossy(e.as_bytes())),
            reason: "the path is not UTF-8",
        })?;
        let refuse = |reason| UnpackError::Refused {
            entry: shown(&name),
            reason,
        };
        let relative = checked_path(&name, root).map_err(refuse)?;
        let header = entry.header();
        let kind = header.entry_type();
        let mode = header.mode().map_err(UnpackError::Corrupt)?;
        if mode & 0o6000 != 0 {
            return Err(refuse("setuid or setgid bit set"));
        }
        // A path that is a file for one entry and a directory for another.
        let clash = |e: io::Error| match e.kind() {
            io::ErrorKind::AlreadyExists | io::ErrorKind::NotADirectory => {
                refuse("a file and a directory have the same path")
            }
            _ => UnpackError::Io {
                path: dir.to_path_buf(),
                source: e,
            },
        };
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            tar::EntryType::Directory => {
                if let Some(relative) = relative {
                    let path = dir.join(&relative);
                    if path.is_file() {
                        return Err(refuse("a file and a directory have the same path"));
                    }
                    std::fs::create_dir_all(&path).map_err(clash)?;
                }
                return Ok(None);
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
        // The declared size is checked before anything is written (a bomb is
        // refused at once); the read below is bounded all the same.
        let declared = entry.header().size().map_err(UnpackError::Corrupt)?;
        let remaining = limits.max_total_bytes - *total;
        let (limit, what) = if limits.max_file_bytes <= remaining {
            (limits.max_file_bytes, "the file")
        } else {
            (remaining, "the archive's content")
        };
        let too_large = || UnpackError::TooLarge {
            entry: shown(&name),
            what,
            limit: if what == "the file" {
                limits.max_file_bytes
            } else {
                limits.max_total_bytes
            },
        };
        if declared > limit {
            return Err(too_large());
        }
        let path = dir.join(&relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(clash)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(clash)?;
        let copied =
            io::copy(&mut (&mut entry).take(limit + 1), &mut file).map_err(UnpackError::Corrupt)?;
        if copied > limit {
            return Err(too_large());
        }
        *total += copied;
        let mode = if mode & 0o111 != 0 { 0o755 } else { 0o644 };
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|source| UnpackError::Io {
                path: path.clone(),
                source,
            })?;
        Ok(Some(relative))
    }
}

/// An entry name as messages show it: whole up to [`SHORTENED_ABOVE`]
/// bytes, else its first [`SHOWN_NAME_BYTES`] bytes, `…` and its length.
fn shown(name: &str) -> String {
    if name.len() <= SHORTENED_ABOVE {
        return name.to_owned();
    }
    let mut end = SHOWN_NAME_BYTES;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &name[..end], name.len())
}

/// The entry's path below `root/`, or why it is refused. `None`: the root itself.
fn checked_path(name: &str, root: &str) -> Result<Option<String>, &'static str> {
    if name.starts_with('/') || name.starts_with('\\') {
        return Err("absolute path");
    }
    if name.len() > MAX_PATH_BYTES {
        return Err("the path is longer than 1024 bytes");
    }
    if name.contains('\\') || name.contains('\0') {
        return Err("backslash or NUL in the path");
    }
    let path = Path::new(name);
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) if part.len() > MAX_COMPONENT_BYTES => {
                return Err("a path component is longer than 255 bytes");
            }
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
    use super::*;

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
        let long = "a".repeat(MAX_COMPONENT_BYTES + 1);
        assert_eq!(
            checked_path(&format!("m-1.0.0/{long}"), "m-1.0.0"),
            Err("a path component is longer than 255 bytes")
        );
        let deep = vec!["b"; MAX_PATH_BYTES / 2].join("/");
        assert_eq!(
            checked_path(&format!("m-1.0.0/{deep}"), "m-1.0.0"),
            Err("the path is longer than 1024 bytes")
        );
    }

    #[test]
    fn long_names_are_shortened_in_messages() {
        assert_eq!(shown("m-1.0.0/a.txt"), "m-1.0.0/a.txt");
        let whole = "é".repeat(100);
        assert_eq!(shown(&whole), whole);
        let long = "é".repeat(150);
        assert_eq!(shown(&long), format!("{}… (300 bytes)", "é".repeat(60)));
    }
}

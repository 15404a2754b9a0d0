//! What every source checks of what it reads, before anyone uses it: an
//! index line's archive path and size, that an index file lists only its own
//! module, that an archive has the size and sha256 its line says, that an
//! index file is text.

use std::io::Read;
use std::path::{Component, Path};

use super::RegistryError;
use super::index::IndexEntry;
use super::local::MAX_ARCHIVE_BYTES;
use super::source::{FetchError, io_error};
use crate::manifest::names::ModuleName;
use crate::package::checksum::HashingWriter;

/// The text of an index file, or an error naming it.
pub(crate) fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String, FetchError> {
    String::from_utf8(bytes).map_err(|_| {
        RegistryError::InvalidIndex {
            path: path.to_path_buf(),
            line: 1,
            message: "the file is not UTF-8".into(),
        }
        .into()
    })
}

/// Refuses index lines that could make oent read or write outside the
/// registry or the cache: the archive path must be relative and plain, the
/// size bounded. (The sha256, which names the cache file, is a
/// [`Sha256`](super::index::Sha256): checked when the line was read.)
pub fn check_line(line: &IndexEntry, registry: &str) -> Result<(), FetchError> {
    let invalid = |message: &str| FetchError::InvalidLine {
        registry: registry.to_owned(),
        name: line.name.to_string(),
        version: line.version.to_string(),
        message: message.to_owned(),
    };
    let plain = !line.archive.is_empty()
        && !line.archive.contains('\\')
        && Path::new(&line.archive)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Err(invalid(
            "its archive path must be relative, without `..` (like `archives/ns/name-1.0.0.tar.gz`)",
        ));
    }
    if line.size > MAX_ARCHIVE_BYTES {
        return Err(invalid(&format!(
            "its size {} is larger than the {MAX_ARCHIVE_BYTES} bytes oent accepts",
            line.size
        )));
    }
    Ok(())
}

/// Refuses an index file holding lines of another module: a resolver
/// trusting them would take one module for another.
pub fn check_names(
    lines: &[IndexEntry],
    name: &ModuleName,
    registry: &str,
) -> Result<(), FetchError> {
    match lines.iter().find(|l| l.name != *name) {
        Some(line) => Err(FetchError::InvalidLine {
            registry: registry.to_owned(),
            name: line.name.to_string(),
            version: line.version.to_string(),
            message: format!("it is in the index file of {name}"),
        }),
        None => Ok(()),
    }
}

/// Checks that the file at `path` has the size and sha256 of `line`.
pub fn verify_file(path: &Path, line: &IndexEntry) -> Result<(), FetchError> {
    let label = path.display().to_string();
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(FetchError::NotFound { url: label });
        }
        Err(e) => return Err(io_error(path)(e)),
    };
    let size = file.metadata().map_err(io_error(path))?.len();
    if size != line.size {
        return Err(FetchError::SizeMismatch {
            url: label,
            expected: line.size,
            got: size,
        });
    }
    let mut hasher = HashingWriter::new(std::io::sink());
    // `take`: the file may grow while we read it; hash what the size allows.
    std::io::copy(&mut file.take(line.size), &mut hasher).map_err(io_error(path))?;
    let (_, sha256, _) = hasher.finish();
    if sha256 != line.sha256 {
        return Err(FetchError::ChecksumMismatch {
            url: label,
            expected: line.sha256.to_string(),
            got: sha256,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::checksum::sha256_hex;

    fn line(archive: &str, sha256: &str, size: u64) -> IndexEntry {
        crate::registry::index::example(serde_json::json!({
            "archive": archive,
            "sha256": sha256,
            "size": size,
        }))
    }

    #[test]
    fn lines_that_escape_are_refused() {
        let good = "ab".repeat(32);
        assert!(check_line(&line("archives/t/x-1.0.0.tar.gz", &good, 1), "r").is_ok());
        for archive in ["../x.tar.gz", "/etc/passwd", "a/../../b", "a\\b", ""] {
            let err = check_line(&line(archive, &good, 1), "r").unwrap_err();
            assert!(err.to_string().contains("archive path"), "{archive}: {err}");
        }
        for sha in ["../../../../x", &"AB".repeat(32), "ab"] {
            let err = sha.parse::<crate::registry::index::Sha256>().unwrap_err();
            assert!(err.contains("sha256"), "{sha}: {err}");
        }
    }

    #[test]
    fn verify_file_checks_size_then_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.tar.gz");
        std::fs::write(&path, b"abc").unwrap();
        let sha = sha256_hex(b"abc");
        assert!(verify_file(&path, &line("a", &sha, 3)).is_ok());
        let err = verify_file(&path, &line("a", &sha, 4)).unwrap_err();
        assert!(
            matches!(err, FetchError::SizeMismatch { got: 3, .. }),
            "{err}"
        );
        let err = verify_file(&path, &line("a", &"0".repeat(64), 3)).unwrap_err();
        assert!(matches!(err, FetchError::ChecksumMismatch { .. }), "{err}");
        let err = verify_file(&dir.path().join("none"), &line("a", &sha, 3)).unwrap_err();
        assert!(matches!(err, FetchError::NotFound { .. }), "{err}");
    }
}

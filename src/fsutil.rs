//! File writes that never leave a half-written file: write to a temporary
//! file in the same directory, flush it to disk, then rename over the target.
//! Used by every stage that writes.

use std::io::Write;
use std::path::Path;

/// Writes `contents` to `path` atomically and durably (the file, then its
/// directory, flushed). Nothing is written when the file
/// already holds exactly these bytes (so mtimes stay put, as cargo does for
/// Cargo.lock).
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_replacing(path, contents, true)
}

/// [`write_atomic`] without the flush: readers never see a half-written
/// file, but after a crash the file may be empty or missing until the
/// caller's [`sync_file_system`] has run. For writers of many files that
/// flush them all at once.
pub fn write_atomic_unflushed(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_replacing(path, contents, false)
}

/// Flushes a directory, so that the entries created or renamed in it
/// survive a crash.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Swaps `a` and `b` in one step (`renameat2(RENAME_EXCHANGE)`): at every
/// instant each name holds one complete tree, so a kill never leaves `b`
/// missing, as two renames (b → old, a → b) would between them.
pub fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both paths are NUL-terminated strings that outlive the call.
    let done = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if done == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Flushes every pending write of the file system holding `path`
/// (`syncfs(2)`): one call instead of an fsync per file.
pub fn sync_file_system(path: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let dir = std::fs::File::open(path)?;
    // SAFETY: syncfs only reads the descriptor, which `dir` keeps open.
    if unsafe { libc::syncfs(dir.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Temporary files of oent's writes are named `.oent-*.tmp`: those of
/// [`write_atomic`] and the cache's downloads (`.oent-download-*.tmp`).
pub const TEMP_PREFIX: &str = ".oent-";
pub const TEMP_SUFFIX: &str = ".tmp";

/// Whether `file_name` is one of oent's temporary files (see [`TEMP_PREFIX`]):
/// what a killed run leaves, and what recovery may remove.
pub fn is_temporary(file_name: &str) -> bool {
    file_name.starts_with(TEMP_PREFIX) && file_name.ends_with(TEMP_SUFFIX)
}

/// A new temporary file in `dir` (created if missing), named as oent's
/// temporaries are ([`is_temporary`]) and with an ordinary file's mode
/// ([`public_temp`]): renamed over its target once complete, removed if
/// dropped before.
pub fn temp_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    std::fs::create_dir_all(dir)?;
    public_temp()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
}

fn write_replacing(path: &Path, contents: &[u8], flush: bool) -> std::io::Result<()> {
    if std::fs::read(path).is_ok_and(|existing| existing == contents) {
        return Ok(());
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut temp = temp_in(dir)?;
    temp.write_all(contents)?;
    if flush {
        temp.as_file().sync_all()?;
    }
    temp.persist(path).map_err(|e| e.error)?;
    if flush {
        // The rename itself is durable only once the directory is flushed.
        sync_dir(dir)?;
    }
    Ok(())
}

/// `a/b/../c/./d` → `a/c/d`, without touching the file system, so that a
/// file reached through `extends: ../base` has the same name as when it is
/// named directly (one diagnostic, not two).
pub fn normalize(path: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        std::path::PathBuf::from(".")
    } else {
        out
    }
}

/// A temporary-file builder whose files get the mode of an ordinary new
/// file (0666 minus the umask, applied by the kernel at creation), not the
/// 0600 of a private temporary: published registries are read by web
/// servers running as another user.
pub fn public_temp<'a, 'b>() -> tempfile::Builder<'a, 'b> {
    use std::os::unix::fs::PermissionsExt;
    let mut builder = tempfile::Builder::new();
    builder.permissions(std::fs::Permissions::from_mode(0o666));
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_lexically() {
        assert_eq!(normalize(Path::new("./a/b/../c/./d")), Path::new("a/c/d"));
        assert_eq!(normalize(Path::new("../x/../y")), Path::new("../y"));
        assert_eq!(normalize(Path::new("/a/../b")), Path::new("/b"));
    }

    #[test]
    fn exchange_swaps_two_trees() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        std::fs::write(a.join("new"), "").unwrap();
        std::fs::write(b.join("old"), "").unwrap();
        exchange(&a, &b).unwrap();
        assert!(b.join("new").is_file() && a.join("old").is_file());
        assert!(exchange(&a, &dir.path().join("missing")).is_err());
    }

    #[test]
    fn files_are_not_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_atomic(&path, b"x").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        // Whatever the umask, "group/other may read" is not stripped by us.
        assert_ne!(mode & 0o777, 0o600, "{mode:o}");
    }

    #[test]
    fn replaces_whole_file_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_atomic(&path, b"first version, longer").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}

//! The download cache, shared by every registry read over HTTP:
//!
//! ```text
//! $OENT_CACHE_DIR, else $XDG_CACHE_HOME/oent, else $HOME/.cache/oent
//! ├── index/<key>/                  <key>: 16 hex digits of the sha256 of the registry URL
//! │   ├── url                       the registry URL, for people looking around
//! │   ├── registry.yaml (+ .etag)
//! │   └── <ns>/<name>.jsonl (+ .etag)
//! └── archives/sha256/<2 hex>/<64 hex>.tar.gz
//! ```
//!
//! Archives are content-addressed: a file lands under its final name only
//! after its sha256 was checked, by a rename from a temporary file in the
//! same directory, so a reader sees a complete, verified archive or nothing.
//! Index files are replaced atomically, body before ETag (see [`CachedFile::store`]).
//!
//! A killed oent leaves its temporaries (`.oent-download-*.tmp`,
//! `.oent-*.tmp`); the first HTTP registry a process opens removes those
//! that are at least [`LEFTOVER_AGE`] old and not locked. A download holds
//! a lock on its temporary for as long as it runs (released by the kernel
//! when the process dies), so an oent running beside this one keeps its
//! files, however slow its download.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use super::source::{FetchError, io_error};
use crate::package::checksum::sha256_hex;

/// Overrides the cache location (tests, CI caches).
pub const CACHE_DIR_ENV: &str = "OENT_CACHE_DIR";

/// A temporary younger than this may be one another oent has just
/// created and not yet locked: it is left alone.
pub const LEFTOVER_AGE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    pub root: PathBuf,
}

impl Cache {
    pub fn new(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    /// `$OENT_CACHE_DIR`, else `$XDG_CACHE_HOME/oent`, else `$HOME/.cache/oent`.
    pub fn default_location() -> Result<Cache, FetchError> {
        location(
            std::env::var_os(CACHE_DIR_ENV),
            std::env::var_os("XDG_CACHE_HOME"),
            std::env::var_os("HOME"),
        )
        .map(Cache::new)
        .ok_or(FetchError::NoCacheDir)
    }

    /// Where the archive with this sha256 is (or will be) kept.
    pub fn archive_path(&self, sha256: &str) -> PathBuf {
        let prefix = sha256.get(..2).unwrap_or("00");
        self.root
            .join("archives/sha256")
            .join(prefix)
            .join(format!("{sha256}.tar.gz"))
    }

    /// The cache directory of one registry's index files.
    pub fn registry_dir(&self, registry_url: &str) -> PathBuf {
        let key = sha256_hex(normalise(registry_url).as_bytes());
        self.root.join("index").join(&key[..16])
    }

    /// The cached copy of `relative` (e.g. `index/ns/name.jsonl`) of a registry.
    pub fn file(&self, registry_url: &str, relative: &str) -> CachedFile {
        let dir = self.registry_dir(registry_url);
        // Index paths already start with `index/`: do not repeat it.
        let body = dir.join(relative.strip_prefix("index/").unwrap_or(relative));
        let mut etag = body.clone().into_os_string();
        etag.push(".etag");
        CachedFile {
            url_file: dir.join("url"),
            url: normalise(registry_url).to_owned(),
            body,
            etag: PathBuf::from(etag),
        }
    }

    /// A temporary file beside the final place of an archive (same file
    /// system, so the final rename is atomic). Dropping it removes it.
    pub fn archive_temp(&self, sha256: &str) -> Result<tempfile::NamedTempFile, FetchError> {
        let final_path = self.archive_path(sha256);
        let dir = final_path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let temp = crate::fsutil::public_temp()
            .prefix(&format!("{}download-", crate::fsutil::TEMP_PREFIX))
            .suffix(crate::fsutil::TEMP_SUFFIX)
            .tempfile_in(dir)
            .map_err(io_error(dir))?;
        // Marks it in use for [`Cache::clean_leftovers`]; a new file, so
        // nobody else holds the lock (and if the file system has no locks,
        // the age alone protects it).
        let _ = temp.as_file().try_lock();
        Ok(temp)
    }

    /// Removes the temporaries that interrupted runs left in the cache:
    /// those at least [`LEFTOVER_AGE`] old that no process holds locked.
    /// Once per process and cache; best effort (a file that cannot be
    /// removed now is tried again next run). Returns what it removed.
    pub fn clean_leftovers(&self) -> Vec<PathBuf> {
        static CLEANED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
        {
            let mut cleaned = CLEANED.lock().unwrap_or_else(|e| e.into_inner());
            if cleaned.contains(&self.root) {
                return Vec::new();
            }
            cleaned.push(self.root.clone());
        }
        let mut removed = Vec::new();
        let mut stack = vec![self.root.join("archives"), self.root.join("index")];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                let path = entry.path();
                if kind.is_dir() {
                    stack.push(path);
                } else if kind.is_file()
                    && crate::fsutil::is_temporary(&entry.file_name().to_string_lossy())
                    && abandoned(&path)
                    && std::fs::remove_file(&path).is_ok()
                {
                    removed.push(path);
                }
            }
        }
        removed
    }
}

/// Old enough, and not locked by a running download.
fn abandoned(path: &Path) -> bool {
    let old = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|modified| modified.elapsed().is_ok_and(|age| age >= LEFTOVER_AGE));
    // The lock taken here is released when the file is closed, at once.
    old && std::fs::File::open(path).is_ok_and(|file| file.try_lock().is_ok())
}

/// The cache location from the three environment variables, in order of
/// precedence. XDG says relative values are invalid and must be ignored.
fn location(
    oent: Option<OsString>,
    xdg: Option<OsString>,
    home: Option<OsString>,
) -> Option<PathBuf> {
    let set = |v: Option<OsString>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    set(oent)
        .or_else(|| set(xdg).filter(|p| p.is_absolute()).map(|p| p.join("oent")))
        .or_else(|| set(home).map(|p| p.join(".cache/oent")))
}

/// `https://x/reg/` and `https://x/reg` are the same registry.
pub(crate) fn normalise(url: &str) -> &str {
    url.trim_end_matches('/')
}

/// A cached index file and its ETag.
#[derive(Debug, Clone)]
pub struct CachedFile {
    pub body: PathBuf,
    pub etag: PathBuf,
    url_file: PathBuf,
    url: String,
}

impl CachedFile {
    /// The cached bytes, if any.
    pub fn read(&self) -> Result<Option<Vec<u8>>, FetchError> {
        match std::fs::read(&self.body) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&self.body)(e)),
        }
    }

    /// The ETag to send, only when the body it validates is there too.
    pub fn etag(&self) -> Option<String> {
        if !self.body.is_file() {
            return None;
        }
        let tag = std::fs::read_to_string(&self.etag).ok()?;
        let tag = tag.trim();
        (!tag.is_empty()).then(|| tag.to_owned())
    }

    /// Replaces the cached copy. The body is written before the ETag: after
    /// a crash between the two, the old ETag no longer matches the server's
    /// and the next request downloads again; the other order could pair a
    /// new ETag with an old body and make a 304 serve stale content.
    pub fn store(&self, body: &[u8], etag: Option<&str>) -> Result<(), FetchError> {
        write(&self.url_file, self.url.as_bytes())?;
        write(&self.body, body)?;
        match etag {
            Some(tag) => write(&self.etag, tag.as_bytes()),
            None => remove(&self.etag),
        }
    }

    /// Forgets the file (the registry no longer has it).
    pub fn remove(&self) -> Result<(), FetchError> {
        remove(&self.etag)?;
        remove(&self.body)
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), FetchError> {
    crate::fsutil::write_atomic(path, bytes).map_err(io_error(path))
}

fn remove(path: &Path) -> Result<(), FetchError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(path)(e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> Option<OsString> {
        Some(s.into())
    }

    #[test]
    fn location_precedence() {
        assert_eq!(
            location(os("/c"), os("/x"), os("/h")),
            Some(PathBuf::from("/c"))
        );
        assert_eq!(
            location(None, os("/x"), os("/h")),
            Some(PathBuf::from("/x/oent"))
        );
        // Empty or relative XDG_CACHE_HOME is ignored, as the spec says.
        assert_eq!(
            location(os(""), os("rel"), os("/h")),
            Some(PathBuf::from("/h/.cache/oent"))
        );
        assert_eq!(location(None, None, None), None);
    }

    #[test]
    fn layout() {
        let cache = Cache::new("/c");
        let sha = "ab".repeat(32);
        assert_eq!(
            cache.archive_path(&sha),
            PathBuf::from(format!("/c/archives/sha256/ab/{sha}.tar.gz"))
        );
        let a = cache.file("https://x/reg/", "index/ns/n.jsonl");
        let b = cache.file("https://x/reg", "index/ns/n.jsonl");
        assert_eq!(a.body, b.body);
        assert!(a.body.starts_with("/c/index"));
        assert!(a.body.ends_with("ns/n.jsonl"));
        assert!(a.etag.ends_with("ns/n.jsonl.etag"));
        assert_ne!(a.body, cache.file("https://y/reg", "index/ns/n.jsonl").body);
    }

    #[test]
    fn store_read_and_remove() {
        let dir = tempfile::tempdir().unwrap();
        let file = Cache::new(dir.path()).file("http://r", "registry.yaml");
        assert_eq!(file.read().unwrap(), None);
        file.store(b"one", Some("\"e1\"")).unwrap();
        assert_eq!(file.read().unwrap().as_deref(), Some(&b"one"[..]));
        assert_eq!(file.etag().as_deref(), Some("\"e1\""));
        file.store(b"two", None).unwrap();
        assert_eq!(file.etag(), None);
        file.remove().unwrap();
        assert_eq!(file.read().unwrap(), None);
    }
}

//! Writing the bundle: each file is streamed into a staging directory beside
//! the output as it is rendered (hashed on the way for `bundle.json`), then
//! the whole tree is flushed (files, then every directory) and the
//! staging directory takes the output's place in one atomic exchange
//! (`renameat2(RENAME_EXCHANGE)`). A failed or killed build leaves the
//! previous bundle as it was; what a killed build leaves beside the output
//! (`.NAME.oent-build-*`, `.NAME.oent-old-*`) is removed by the next build.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::package::checksum::{HashingWriter, hex};

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
    /// The output folder is not one oent may replace (docs/render.md, "The output folder").
    #[error("refusing to write the bundle to `{}`: {reason}; nothing was written{}\n  help: {help}", path.display(), details.iter().map(|d| format!("\n    {d}")).collect::<String>())]
    Refused {
        path: PathBuf,
        reason: String,
        /// One line each (the files that would be lost).
        details: Vec<String>,
        help: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + '_ {
    move |error| BundleError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// One file of the bundle as `bundle.json` lists it: the digest kept as
/// bytes (hex only when `bundle.json` is written), since a country's bundle
/// lists hundreds of thousands of files.
#[derive(Debug, Clone)]
struct Entry {
    size: u64,
    sha256: [u8; 32],
    /// Whether the file holds `${`: only those are read back, by the check
    /// of placeholders nothing fills (`contract::unfilled_placeholders`).
    placeholder: bool,
}

/// Looks for `${` in what is written, across the writes.
#[derive(Debug, Default, Clone, Copy)]
struct PlaceholderScan {
    found: bool,
    after_dollar: bool,
}

impl PlaceholderScan {
    fn scan(&mut self, bytes: &[u8]) {
        if self.found || bytes.is_empty() {
            return;
        }
        self.found =
            (self.after_dollar && bytes[0] == b'{') || bytes.windows(2).any(|pair| pair == b"${");
        self.after_dollar = bytes.last() == Some(&b'$');
    }
}

/// A full disk, on demand: `OENT_FAULT_DISK_BYTES=N` makes the writer fail
/// with "no space left on device" once N bytes are written, so that tests
/// can check what a full disk leaves behind without mounting a filesystem.
/// One count for the whole build, whichever thread writes.
#[derive(Debug, Clone)]
struct DiskSpace(Option<Arc<AtomicU64>>);

impl DiskSpace {
    fn from_env() -> Self {
        DiskSpace(
            std::env::var("OENT_FAULT_DISK_BYTES")
                .ok()
                .and_then(|v| v.parse().ok())
                .map(|n| Arc::new(AtomicU64::new(n))),
        )
    }

    fn take(&self, n: usize) -> std::io::Result<()> {
        let Some(left) = &self.0 else {
            return Ok(());
        };
        left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
            left.checked_sub(n as u64)
        })
        .map(drop)
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::StorageFull))
    }
}

/// The bundle being written: a staging directory beside the output that
/// becomes the output in [`Staging::finish`], or disappears when dropped
/// (a failed build). Its own files are a [`Shard`] (it derefs to it);
/// rendering threads write theirs into shards of their own
/// ([`Staging::shard`]), absorbed in a fixed order ([`Staging::absorb`]).
#[derive(Debug)]
pub struct Staging {
    /// The output, resolved (`-o .` has no file name of its own).
    out: PathBuf,
    dir: tempfile::TempDir,
    files: Shard,
}

/// Files written into the staging directory by one writer (a thread, or
/// the staging itself): what `bundle.json` will list of them, and the
/// directories made.
#[derive(Debug)]
pub struct Shard {
    /// The staging directory.
    root: PathBuf,
    /// The output as the user named it, for messages.
    shown: PathBuf,
    entries: BTreeMap<String, Entry>,
    made: BTreeSet<PathBuf>,
    space: DiskSpace,
}

/// One file being streamed into the staging directory.
pub struct StagedFile {
    relative: String,
    path: PathBuf,
    writer: HashingWriter<std::io::BufWriter<std::fs::File>>,
    space: DiskSpace,
    /// The file system's own error, kept: Tera keeps only its kind.
    failed: Option<std::io::Error>,
    placeholder: PlaceholderScan,
}

impl Write for StagedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self
            .space
            .take(buf.len())
            .and_then(|()| self.writer.write(buf));
        if let Ok(n) = written {
            self.placeholder.scan(&buf[..n]);
        }
        written.inspect_err(|e| {
            self.failed = Some(std::io::Error::new(e.kind(), e.to_string()));
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}

impl StagedFile {
    /// The error of the disk if writing failed because of it (not because a
    /// budget wrapped around this writer ran out).
    pub fn disk_error(&mut self) -> Option<std::io::Error> {
        self.failed.take()
    }
}

impl std::ops::Deref for Staging {
    type Target = Shard;

    fn deref(&self) -> &Shard {
        &self.files
    }
}

impl std::ops::DerefMut for Staging {
    fn deref_mut(&mut self) -> &mut Shard {
        &mut self.files
    }
}

impl Staging {
    /// Starts a bundle for `out` (`resolved`: the same, with `..` and `.`
    /// resolved, see [`super::out_dir`]), removing what killed builds of
    /// the same output left beside it.
    pub fn begin(shown: &Path, resolved: &Path) -> Result<Self, BundleError> {
        let parent = resolved.parent().unwrap_or(Path::new("/"));
        // A parent that cannot be made is named as the user wrote it.
        let shown_parent = shown.parent().filter(|p| !p.as_os_str().is_empty());
        std::fs::create_dir_all(parent).map_err(io(shown_parent.unwrap_or(shown)))?;
        let name = staging_name(resolved);
        remove_leftovers(parent, &name);
        let dir = tempfile::Builder::new()
            .prefix(&format!(".{name}.oent-build-"))
            .tempdir_in(parent)
            .map_err(io(shown))?;
        Ok(Staging {
            out: resolved.to_path_buf(),
            files: Shard {
                root: dir.path().to_path_buf(),
                shown: shown.to_path_buf(),
                entries: BTreeMap::new(),
                made: BTreeSet::new(),
                space: DiskSpace::from_env(),
            },
            dir,
        })
    }

    /// An empty shard writing into the same staging directory, for one
    /// rendering thread.
    pub fn shard(&self) -> Shard {
        Shard {
            root: self.files.root.clone(),
            shown: self.files.shown.clone(),
            entries: BTreeMap::new(),
            made: BTreeSet::new(),
            space: self.files.space.clone(),
        }
    }

    /// Takes over the files of `shard` (they are already on disk). A path
    /// written by two shards is the caller's to refuse before: each module
    /// writes only under its own `conf/<slug>/`.
    pub fn absorb(&mut self, mut shard: Shard) {
        self.files.entries.append(&mut shard.entries);
        self.files.made.append(&mut shard.made);
    }
}

impl Shard {
    pub fn contains(&self, relative: &str) -> bool {
        self.entries.contains_key(relative)
    }

    /// Every file written so far, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &String> {
        self.entries.keys()
    }

    /// Every file written so far under `prefix`, sorted.
    pub fn paths_under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a String> {
        self.entries
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .map(|(path, _)| path)
            .take_while(move |path| path.starts_with(prefix))
    }

    /// The bytes of a file written so far (for checks over the rendered files).
    pub fn read(&self, relative: &str) -> Option<Vec<u8>> {
        self.contains(relative)
            .then(|| std::fs::read(self.root.join(relative)).ok())
            .flatten()
    }

    /// The bytes of a file written so far if it holds `${` (a placeholder):
    /// a country's bundle is not read back whole to find the few that do.
    pub fn read_with_placeholder(&self, relative: &str) -> Option<Vec<u8>> {
        self.entries
            .get(relative)
            .filter(|e| e.placeholder)
            .and_then(|_| std::fs::read(self.root.join(relative)).ok())
    }

    /// The output as the user named it.
    pub fn shown(&self) -> &Path {
        &self.shown
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Opens `relative` for streaming; [`Shard::commit`] records it.
    pub fn create(&mut self, relative: &str) -> Result<StagedFile, BundleError> {
        let path = self.root.join(relative);
        if let Some(dir) = path.parent()
            && !self.made.contains(dir)
        {
            // Each directory is created once, not once per file (once per
            // shard: `create_dir_all` accepts one another thread made).
            std::fs::create_dir_all(dir).map_err(io(&self.shown))?;
            let mut ancestor = Some(dir);
            while let Some(d) = ancestor.filter(|d| d.starts_with(&self.root)) {
                self.made.insert(d.to_path_buf());
                ancestor = d.parent();
            }
        }
        let file = std::fs::File::create(&path).map_err(io(&self.shown))?;
        Ok(StagedFile {
            relative: relative.to_owned(),
            path,
            writer: HashingWriter::new(std::io::BufWriter::new(file)),
            space: self.space.clone(),
            failed: None,
            placeholder: PlaceholderScan::default(),
        })
    }

    /// Completes `file` and lists it in `bundle.json`. It reaches the disk
    /// in [`Staging::finish`], with all the others.
    pub fn commit(&mut self, mut file: StagedFile) -> Result<(), BundleError> {
        file.flush().map_err(io(&self.shown))?;
        let (buffered, sha256, size) = file.writer.finish_bytes();
        buffered
            .into_inner()
            .map_err(|e| io(&self.shown)(e.into_error()))?;
        let placeholder = file.placeholder.found;
        self.entries.insert(
            file.relative,
            Entry {
                size,
                sha256,
                placeholder,
            },
        );
        Ok(())
    }

    /// Removes a file whose rendering failed.
    pub fn discard(&mut self, file: StagedFile) {
        let _ = std::fs::remove_file(&file.path);
    }

    /// Writes a whole file at once.
    pub fn write(&mut self, relative: &str, bytes: &[u8]) -> Result<(), BundleError> {
        let mut file = self.create(relative)?;
        let written = file.write_all(bytes);
        self.settle(file, written)
    }

    /// Streams a file that `write` fills (a template rendering into it):
    /// committed if `write` succeeds, else removed. The disk's error is the
    /// outer one; `write`'s own (a template's problem) the inner one.
    pub fn stream<E>(
        &mut self,
        relative: &str,
        write: impl FnOnce(&mut StagedFile) -> Result<(), E>,
    ) -> Result<Result<(), E>, BundleError> {
        let mut file = self.create(relative)?;
        match write(&mut file) {
            Ok(()) => self.commit(file).map(Ok),
            Err(e) => {
                let disk = file.disk_error();
                self.discard(file);
                match disk {
                    Some(error) => Err(BundleError::Io {
                        path: self.shown.clone(),
                        error,
                    }),
                    None => Ok(Err(e)),
                }
            }
        }
    }

    /// Commits `file` if it was `written` whole, else removes it and says why.
    fn settle(
        &mut self,
        mut file: StagedFile,
        written: std::io::Result<()>,
    ) -> Result<(), BundleError> {
        if let Err(e) = written {
            let error = file.disk_error().unwrap_or(e);
            self.discard(file);
            return Err(BundleError::Io {
                path: self.shown.clone(),
                error,
            });
        }
        self.commit(file)
    }
}

impl Staging {
    /// Writes `bundle.json`, makes the whole tree durable, then puts it in
    /// the output's place; the previous bundle is removed last.
    pub fn finish(
        mut self,
        distribution: &str,
        version: &str,
        target: &str,
    ) -> Result<(), BundleError> {
        self.write_manifest(distribution, version, target)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(self.dir.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(io(&self.shown))?;
        // Every file of the tree, flushed: one syncfs(2) instead of an fsync
        // per file (20,000 fsyncs took 5 s more on ext4; syncfs returns once
        // all of the file system's dirty data and metadata are on disk).
        crate::fsutil::sync_file_system(self.dir.path()).map_err(io(&self.shown))?;
        // Deepest first, so that each directory is flushed after its children.
        for dir in self.made.iter().rev() {
            crate::fsutil::sync_dir(dir).map_err(io(&self.shown))?;
        }
        crate::fsutil::sync_dir(self.dir.path()).map_err(io(&self.shown))?;
        let staged = self.dir.keep();
        let exists = std::fs::symlink_metadata(&self.out).is_ok();
        let swapped = if exists {
            crate::fsutil::exchange(&staged, &self.out)
        } else {
            std::fs::rename(&staged, &self.out)
        };
        if let Err(error) = swapped {
            let _ = std::fs::remove_dir_all(&staged);
            return Err(BundleError::Io {
                path: self.files.shown,
                error,
            });
        }
        let parent = self.out.parent().unwrap_or(Path::new("/"));
        crate::fsutil::sync_dir(parent).map_err(io(&self.files.shown))?;
        if exists {
            // `staged` now holds the previous bundle; if this is killed, the
            // next build removes what remains (`remove_leftovers`).
            let _ = std::fs::remove_dir_all(&staged);
        }
        Ok(())
    }

    /// `bundle.json`: every file of the bundle, sorted, with size and
    /// sha256; streamed, since a large bundle lists a million files.
    fn write_manifest(
        &mut self,
        distribution: &str,
        version: &str,
        target: &str,
    ) -> Result<(), BundleError> {
        let mut file = self.create(BUNDLE_MANIFEST)?;
        let manifest = Manifest {
            distribution,
            files: Listing(&self.entries),
            format: BUNDLE_FORMAT,
            target,
            version,
        };
        let written = serde_json::to_writer_pretty(&mut file, &manifest)
            .map_err(std::io::Error::from)
            .and_then(|()| file.write_all(b"\n"));
        self.settle(file, written)
    }
}

/// `bundle.json`, its keys in the order of format 1 (sorted).
#[derive(serde::Serialize)]
struct Manifest<'a> {
    distribution: &'a str,
    files: Listing<'a>,
    format: u32,
    target: &'a str,
    version: &'a str,
}

/// The `files` of `bundle.json`, serialised one at a time.
struct Listing<'a>(&'a BTreeMap<String, Entry>);

impl serde::Serialize for Listing<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct File<'a> {
            path: &'a str,
            sha256: String,
            size: u64,
        }
        serializer.collect_seq(self.0.iter().map(|(path, e)| File {
            path,
            sha256: hex(&e.sha256),
            size: e.size,
        }))
    }
}

/// The name the staging directories of `out` are derived from.
fn staging_name(out: &Path) -> String {
    out.file_name()
        .map_or_else(|| "bundle".into(), |n| n.to_string_lossy().into_owned())
}

/// Removes `.NAME.oent-build-*` and `.NAME.oent-old-*` beside the output:
/// what builds killed before they finished (or before they removed the
/// previous bundle) left. Nothing else is touched.
fn remove_leftovers(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let prefixes = [format!(".{name}.oent-build-"), format!(".{name}.oent-old-")];
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && prefixes.iter().any(|p| file_name.starts_with(p.as_str())) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PlaceholderScan;

    #[test]
    fn a_placeholder_is_found_across_writes() {
        let found = |writes: &[&str]| {
            let mut scan = PlaceholderScan::default();
            writes.iter().for_each(|w| scan.scan(w.as_bytes()));
            scan.found
        };
        assert!(found(&["a=${X}"]));
        assert!(found(&["a=$", "{X}"]));
        assert!(found(&["a=$", "", "{X}"]));
        assert!(!found(&["a=$HOME", "{X}", "$ {"]));
        assert!(!found(&["{", "$"]));
    }
}

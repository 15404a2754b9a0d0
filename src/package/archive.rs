//! The deterministic archive: its bytes depend only on the module's content.
//!
//! Entries sorted bytewise by path under one `<name>-<version>/` root; mtime
//! fixed (SOURCE_DATE_EPOCH, else 0); uid/gid 0 with empty user and group
//! names; modes 0644, or 0755 for executables; plain GNU headers (GNU long
//! names only where a path needs them), no extended attributes, no pax
//! times; gzip header without file name or time. The same module packed from
//! two copies with different mtimes, umask, owner or directory order gives
//! identical bytes.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::{Compression, GzBuilder};

use super::checksum::{HashingWriter, sha256sum_line};
use super::files::{ModuleFile, module_files};
use super::{PackageError, io_error, load_module};
use crate::manifest::Module;
use crate::manifest::names::ModuleName;

/// gzip level: the `gzip` default, which the benchmark compares against.
pub const COMPRESSION_LEVEL: u32 = 6;

#[derive(Debug, Clone)]
pub struct PackOptions {
    pub module_dir: PathBuf,
    /// The archive goes to `<out_dir>/<namespace>/<name>-<version>.tar.gz`.
    pub out_dir: PathBuf,
    /// Entry mtime; `None` reads SOURCE_DATE_EPOCH, else 0.
    pub mtime: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Packed {
    pub module: Module,
    pub archive: PathBuf,
    pub checksum_file: PathBuf,
    pub sha256: String,
    pub size: u64,
    pub files: usize,
}

/// `SOURCE_DATE_EPOCH` if set and valid, else 0 (reproducible-builds.org).
pub fn source_date_epoch() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// `<name>-<version>`, e.g. `cahier-de-textes-2.3.1`: the one directory every
/// entry of the archive sits under, and the stem of its file name. Packing
/// writes it, unpacking and inspecting require it; all spell it here.
pub fn archive_root(name: &ModuleName, version: impl std::fmt::Display) -> String {
    format!("{}-{version}", name.short_name())
}

/// `<name>-<version>.tar.gz`, e.g. `cahier-de-textes-2.3.1.tar.gz`.
pub fn archive_file_name(module: &Module) -> String {
    format!("{}.tar.gz", archive_root(&module.name, &module.version))
}

/// A module read for packing: its linted manifest and the files its archive
/// holds. The one packer: `oent package` streams it to a file, the forge
/// client and `oent release` pack it in memory, all through [`Packing::write`].
pub struct Packing {
    pub module: Module,
    files: Vec<ModuleFile>,
}

/// An archive packed in memory, with its sha256.
#[derive(Debug)]
pub struct InMemory {
    pub module: Module,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

impl Packing {
    /// Lints the module in `dir` and lists the files its archive holds.
    pub fn read(dir: &Path) -> Result<Packing, PackageError> {
        let module = load_module(dir)?;
        let files = module_files(dir)?;
        Ok(Packing { module, files })
    }

    /// Writes the tar.gz under `<name>-<version>/` with entries' mtime
    /// `mtime`; returns the writer, the archive's sha256 and its size.
    pub fn write<W: Write>(&self, out: W, mtime: u64) -> Result<(W, String, u64), PackageError> {
        let root = archive_root(&self.module.name, &self.module.version);
        write_archive(HashingWriter::new(out), &root, &self.files, mtime)
    }

    /// The whole archive in memory (the forge client's upload, a release).
    pub fn into_memory(self, mtime: u64) -> Result<InMemory, PackageError> {
        let (bytes, sha256, _) = self.write(Vec::new(), mtime)?;
        Ok(InMemory {
            module: self.module,
            bytes,
            sha256,
        })
    }
}

/// Lints the module, then packs it with its `.sha256` beside it. Both are
/// written to temporary files and renamed: a failure leaves nothing behind.
pub fn pack(options: &PackOptions) -> Result<Packed, PackageError> {
    let packing = Packing::read(&options.module_dir)?;
    let dir = options.out_dir.join(packing.module.name.namespace());
    std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    let file_name = archive_file_name(&packing.module);
    let archive_path = dir.join(&file_name);
    let mtime = options.mtime.unwrap_or_else(source_date_epoch);

    let temp = crate::fsutil::public_temp()
        .prefix(".oent-pack-")
        .tempfile_in(&dir)
        .map_err(io_error(&dir))?;
    let writer =
        BufWriter::with_capacity(1 << 20, temp.as_file().try_clone().map_err(io_error(&dir))?);
    let (writer, sha256, size) = packing.write(writer, mtime)?;
    writer
        .into_inner()
        .map_err(|e| PackageError::Io {
            path: archive_path.clone(),
            source: e.into_error(),
        })?
        .sync_all()
        .map_err(io_error(&archive_path))?;
    temp.persist(&archive_path).map_err(|e| PackageError::Io {
        path: archive_path.clone(),
        source: e.error,
    })?;

    let checksum_file = dir.join(format!("{file_name}.sha256"));
    crate::fsutil::write_atomic(
        &checksum_file,
        sha256sum_line(&sha256, &file_name).as_bytes(),
    )
    .map_err(io_error(&checksum_file))?;
    Ok(Packed {
        files: packing.files.len(),
        module: packing.module,
        archive: archive_path,
        checksum_file,
        sha256,
        size,
    })
}

/// Writes the tar.gz of `files` under `root/` and returns the writer, the
/// archive's sha256 and its size.
fn write_archive<W: Write>(
    out: HashingWriter<W>,
    root: &str,
    files: &[ModuleFile],
    mtime: u64,
) -> Result<(W, String, u64), PackageError> {
    // No file name, mtime 0, OS "unknown": the gzip header carries nothing variable.
    let gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(out, Compression::new(COMPRESSION_LEVEL));
    let mut tar = tar::Builder::new(gz);
    for file in files {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(file.size);
        header.set_mode(if file.executable { 0o755 } else { 0o644 });
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        header.set_username("").map_err(io_error(&file.path))?;
        header.set_groupname("").map_err(io_error(&file.path))?;
        let mut data = File::open(&file.path).map_err(io_error(&file.path))?;
        let length = data.metadata().map_err(io_error(&file.path))?.len();
        if length != file.size {
            return Err(PackageError::Io {
                path: file.path.clone(),
                source: std::io::Error::other("the file changed while being packed"),
            });
        }
        let path = format!("{root}/{}", file.relative);
        // append_data sets the path (with a GNU long-name entry if needed) and the checksum.
        tar.append_data(&mut header, Path::new(&path), &mut data)
            .map_err(io_error(&file.path))?;
    }
    let gz = tar.into_inner().map_err(io_error(Path::new(root)))?;
    let hashing = gz.finish().map_err(io_error(Path::new(root)))?;
    Ok(hashing.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_the_short_name_then_the_version() {
        let name: ModuleName = "openent/cahier-de-textes".parse().unwrap();
        let version = semver::Version::new(2, 3, 1);
        assert_eq!(archive_root(&name, &version), "cahier-de-textes-2.3.1");
    }
}

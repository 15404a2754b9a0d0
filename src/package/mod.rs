//! Module archives: deterministic `.tar.gz` packing with its sha256, and safe
//! unpacking of archives that may be hostile. Uses `manifest/` (a module is
//! linted before it is packed, and an unpacked manifest is checked against
//! what the index announced).
//!
//! - [`files`]: which files of a module directory go into its archive;
//! - [`archive`]: the one packer ([`archive::Packing`]: `oent package` to a
//!   file, the forge client and `oent release` in memory), the deterministic
//!   tar + gzip writer, and the archive's root name ([`archive::archive_root`]);
//! - [`unpack`]: iterating entries ourselves with budgets, never `Archive::unpack`;
//! - [`checksum`]: sha256 helpers and the `sha256sum` line format.

pub mod archive;
pub mod checksum;
pub mod files;
pub mod unpack;

use std::path::{Path, PathBuf};

use crate::manifest::{Diagnostic, Module, ReadError};

pub use archive::{PackOptions, Packed, pack};

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("`{}` has problems; run `oent lint {}` for details", .path.display(), .path.display())]
    Invalid {
        path: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("`{}` is a symbolic link: archives hold regular files only; copy the target into the module instead", .0.display())]
    Symlink(PathBuf),
    #[error("`{}` is not a regular file (device, socket or FIFO) and cannot be packed", .0.display())]
    SpecialFile(PathBuf),
    #[error("`{}` is outside the module directory `{}`", .path.display(), .module.display())]
    Outside { path: PathBuf, module: PathBuf },
    #[error("`{}`: file names must be UTF-8 to be packed portably", .0.display())]
    NonUtf8Name(PathBuf),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("listing `{}`: {message}", .path.display())]
    Walk { path: PathBuf, message: String },
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> PackageError + '_ {
    move |source| PackageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Loads and lints the module in `dir`; errors refuse packing.
pub fn load_module(dir: &Path) -> Result<Module, PackageError> {
    let manifest = dir.join(crate::manifest::module::MODULE_FILE);
    let loaded = Module::load(&manifest)?;
    if loaded.has_errors() {
        return Err(PackageError::Invalid {
            path: dir.to_path_buf(),
            diagnostics: loaded.diagnostics,
        });
    }
    loaded.into_valid().ok_or(PackageError::Invalid {
        path: dir.to_path_buf(),
        diagnostics: Vec::new(),
    })
}

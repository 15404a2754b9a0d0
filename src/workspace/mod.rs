//! A distribution loaded once, as every command that needs its modules sees
//! it: its `extends` chain, its registries (the source set), its lock, and
//! each resolved module fetched, verified, unpacked and read. Building,
//! `oent values`, licences, lint's checks and forks all start from here.
//!
//! - [`lock`]: the distribution file and its bases read once, refused with
//!   errors, and resolved into `oent.lock` ([`Locked`]);
//! - [`fetch`]: one published version's directory, fetched and unpacked
//!   into the cache (content-addressed), and the resolution's modules read;
//! - [`values`]: every option's final value, typed, with where it came from;
//! - [`check`]: what a check of the resolved distribution sees
//!   ([`ResolvedDistribution`]) and the [`BuildCheck`] trait later stages implement.
//!
//! A stage of its own (not under `ops/`) because `contribute`, `licence`
//! and `lint` use it, and `ops` sits after them. Uses `manifest`,
//! `package` (safe unpacking), `registry` and `resolve`.

pub mod check;
pub mod fetch;
pub mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use check::{BuildCheck, ResolvedDistribution};
pub use fetch::fetch_module_dir;

use crate::manifest::distribution::{DISTRIBUTION_FILE, DistributionChain};
use crate::manifest::names::ModuleName;
use crate::manifest::{Diagnostic, Module, ReadError};
use crate::package::unpack::UnpackError;
use crate::registry::cache::Cache;
use crate::registry::source::FetchError;
use crate::resolve::lock::{LockOpError, LockOptions, LockOutcome, Update, lock_chain_with};

/// Where the distribution is and how its registries may be read.
#[derive(Debug, Clone)]
pub struct WorkspaceOptions {
    /// A distribution.yaml, or the directory holding it.
    pub distribution: PathBuf,
    /// Fail instead of changing the lock (CI).
    pub locked: bool,
    pub offline: bool,
    pub cache: Cache,
    /// Which locked modules may move (`oent update --dry-run`); loading
    /// otherwise keeps the lock and resolves only what it does not pin.
    pub update: Update,
    /// Compute the lock without writing it (previews of an upgrade).
    pub dry_run: bool,
}

impl WorkspaceOptions {
    /// The distribution at `distribution`, read with the download cache in
    /// its usual place (`OENT_CACHE_DIR`, else the user's cache directory).
    pub fn new(distribution: PathBuf, locked: bool, offline: bool) -> Result<Self, FetchError> {
        Ok(WorkspaceOptions {
            distribution,
            locked,
            offline,
            cache: Cache::default_location()?,
            update: Update::Nothing,
            dry_run: false,
        })
    }

    fn lock_options(&self) -> LockOptions {
        LockOptions {
            update: self.update.clone(),
            locked: self.locked,
            offline: self.offline,
            cache: self.cache.clone(),
        }
    }
}

/// The distribution file for a path that may be its directory.
pub fn distribution_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(DISTRIBUTION_FILE)
    } else {
        path.to_path_buf()
    }
}

/// A distribution loaded and resolved into its lock, its modules not fetched
/// (`oent resolve`, `update`, `tree`, `why`).
#[derive(Debug)]
pub struct Locked {
    /// The distribution and the ones it extends, read once.
    pub chain: DistributionChain,
    /// Warnings of the distribution (they do not stop resolution).
    pub warnings: Vec<Diagnostic>,
    /// The lock (written if it changed) and the registries it was resolved from.
    pub lock: LockOutcome,
}

/// Loads the distribution at `distribution` (a file or its directory),
/// refused when it has errors, and resolves it into its lock.
pub fn lock(distribution: &Path, options: &LockOptions) -> Result<Locked, LockOpError> {
    lock_with(distribution, options, true)
}

/// As [`lock`]; with `write` false the lock file is left as it is.
pub fn lock_with(
    distribution: &Path,
    options: &LockOptions,
    write: bool,
) -> Result<Locked, LockOpError> {
    let file = distribution_file(distribution);
    let loaded = DistributionChain::load(&file)?;
    if loaded.has_errors() {
        return Err(LockOpError::Distribution {
            path: file,
            diagnostics: loaded.diagnostics,
        });
    }
    let warnings = loaded.diagnostics.clone();
    let chain = loaded.into_valid().expect("no errors, so a chain");
    let lock = lock_chain_with(&chain, options, write)?;
    Ok(Locked {
        chain,
        warnings,
        lock,
    })
}

/// The distribution, its lock (written if it changed) and its modules.
#[derive(Debug)]
pub struct Workspace {
    /// The distribution and the ones it extends, read once.
    pub chain: DistributionChain,
    /// Warnings of the distribution (they do not stop building).
    pub warnings: Vec<Diagnostic>,
    /// The lock, with the registries it was resolved from.
    pub lock: LockOutcome,
    /// Every module of the resolution, read from its archive.
    pub modules: BTreeMap<ModuleName, Module>,
    pub cache: Cache,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error(transparent)]
    Lock(Box<LockOpError>),
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Problems of the modules' manifests, all of them; nothing was written.
    #[error("{} problem(s); nothing was written", .0.len())]
    Problems(Vec<Diagnostic>),
    #[error("{name} {version}: {source}")]
    Fetch {
        name: String,
        version: String,
        source: Box<FetchError>,
    },
    #[error("{name} {version} is in the lock but not in registry `{registry}`")]
    NotInRegistry {
        name: String,
        version: String,
        registry: String,
    },
    #[error("{name} {version}: the archive is refused: {source}")]
    Unpack {
        name: String,
        version: String,
        source: UnpackError,
    },
    #[error("cannot prepare `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl From<LockOpError> for WorkspaceError {
    fn from(e: LockOpError) -> Self {
        WorkspaceError::Lock(Box::new(e))
    }
}

impl Workspace {
    /// Resolves (keeping the lock) and reads every resolved module.
    pub fn load(options: &WorkspaceOptions) -> Result<Self, WorkspaceError> {
        let Locked {
            chain,
            warnings,
            lock,
        } = lock_with(
            &options.distribution,
            &options.lock_options(),
            !options.dry_run,
        )?;
        let modules = fetch::fetch_modules(&lock.sources, &options.cache, &lock.resolution)?;
        Ok(Workspace {
            chain,
            warnings,
            lock,
            modules,
            cache: options.cache.clone(),
        })
    }

    /// The distribution and the ones it extends.
    pub fn chain(&self) -> &DistributionChain {
        &self.chain
    }

    /// What a [`BuildCheck`] sees of this workspace.
    pub fn resolved(&self) -> ResolvedDistribution<'_> {
        ResolvedDistribution {
            chain: &self.chain,
            resolution: &self.lock.resolution,
            modules: &self.modules,
            sources: &self.lock.sources,
            cache: &self.cache,
        }
    }
}

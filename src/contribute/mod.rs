//! Forks and contributions: the condition of reuse of the Open ENT —
//! modifications are given back under the same terms — made mechanical.
//!
//! - [`fork`]: `oent fork` copies a locked module into the distribution's
//!   `modules/`, records `fork-of`, and points the distribution at it;
//! - [`diff`]: a fork's difference from its base, in files and lines;
//! - [`record`]: `contributions.yaml`, what was given back and how;
//! - [`status`]: reversal status of each fork, and the build check
//!   (`--deny-unreversed`, a fork's licence never changes);
//! - [`upstream`]: `oent contribute`, a commit on the upstream repository
//!   (git2), pushed as a branch, or written as a bundle or a patch series;
//! - [`merge_request`]: the merge request of a pushed branch on the
//!   upstream's GitLab (created, or updated when one is open);
//! - [`pull_request`]: the same on GitHub, a pull request.
//!
//! Uses `manifest`, `package`, `registry`, `resolve` and `workspace` (the
//! distribution loaded, a module's archive fetched), `forge`'s GitLab
//! target and token, and `transport` (the git program over the network);
//! `licence`, `lint` and
//! `ops` use it.

pub mod diff;
pub mod fork;
pub mod merge_request;
pub mod pull_request;
pub mod record;
pub mod status;
pub mod upstream;

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ContributeError {
    #[error(transparent)]
    Workspace(#[from] Box<crate::workspace::WorkspaceError>),
    #[error("{module} is not in the distribution's resolution{hint}")]
    NotResolved { module: String, hint: String },
    #[error(
        "{module} is pulled in by {chain}, not named in this distribution's `modules:`\nhelp: add `{module}` to `modules:` in {}, then fork it",
        .distribution.display()
    )]
    NotNamed {
        module: String,
        chain: String,
        distribution: PathBuf,
    },
    #[error(
        "{module} has no `repository`: a fork of it could never be given back upstream\nhelp: ask its maintainers to add `repository:` to its module.yaml, or fork another module"
    )]
    NoRepository { module: String },
    #[error(
        "the fork would be named {name}, like its base\nhelp: name it with `--as NS/NAME` in the distribution's namespace"
    )]
    SameName { name: String },
    #[error("`{}` already exists\nhelp: remove it, or choose another name with `--as`", .0.display())]
    AlreadyExists(PathBuf),
    #[error("{module} is not a fork (no `fork-of` in its module.yaml)")]
    NotAFork { module: String },
    #[error("the base {base} cannot be fetched: {message}")]
    Base { base: String, message: String },
    #[error("cannot list the files of `{}`: {message}", .dir.display())]
    Files { dir: PathBuf, message: String },
    #[error("`{}`: {message}", .path.display())]
    Record { path: PathBuf, message: String },
    #[error("registry `{}`: {source}", .path.display())]
    Registry {
        path: PathBuf,
        source: crate::registry::RegistryError,
    },
    #[error("{0}")]
    Upstream(String),
    #[error("`{}`: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl From<crate::workspace::WorkspaceError> for ContributeError {
    fn from(e: crate::workspace::WorkspaceError) -> Self {
        ContributeError::Workspace(Box::new(e))
    }
}

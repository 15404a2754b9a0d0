//! Everything `oent release` and `oent verify` refuse or stop on; a
//! failure after something changed is [`ReleaseError::Stopped`], carrying
//! the state left and the command that recovers.

use std::path::PathBuf;

use super::semver_check::{Change, Level};
use super::verify;
use crate::forge::client::ClientError;
use crate::manifest::Diagnostic;
use crate::package::PackageError;
use crate::registry::signing::SigningError;

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("`{}` is not inside a git work tree; `oent release` tags and pushes with git: run `git init` or release from a clone", .path.display())]
    NotARepository { path: PathBuf },
    #[error("`{}` holds neither module.yaml nor distribution.yaml", .0.display())]
    NothingToRelease(PathBuf),
    #[error("git: {what}: {message}")]
    Git { what: String, message: String },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot release from here: {0}\nhelp: check out the branch to release from (`git switch main`)"
    )]
    NoBranch(String),
    #[error("the work tree has changes that are not committed:\n{}\nhelp: commit or stash them (a release is cut from committed files only: the archive is rebuilt from the tag)", .paths.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Dirty { paths: Vec<String> },
    #[error(
        "the repository has no remote `{remote}` to push the release to\nhelp: add it (`git remote add {remote} URL`) or name another with `--remote`"
    )]
    MissingRemote { remote: String },
    #[error("remote `{remote}`: {message}")]
    Transport { remote: String, message: String },
    #[error(
        "cannot reach remote `{remote}` ({url}): {message}\nhelp: check the URL (`git remote -v`) and that the server is up; nothing was changed"
    )]
    RemoteUnreachable {
        remote: String,
        url: String,
        message: String,
    },
    #[error(
        "remote `{remote}` has commits on `{branch}` that this clone does not have: the push would be rejected\nhelp: `git pull --rebase {remote} {branch}`, then run the release again; nothing was changed"
    )]
    RemoteAhead { remote: String, branch: String },
    #[error(
        "tag `{tag}` already exists {place}: version {version} was already released\nhelp: choose another version (`--bump`), or finish that release with `oent release --resume`"
    )]
    TagExists {
        tag: String,
        place: &'static str,
        version: String,
    },
    #[error("`{}` has problems; run `oent lint {}` for details", .path.display(), .path.display())]
    Invalid {
        path: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
    #[error(transparent)]
    Package(PackageError),
    #[error("{0}")]
    BadVersion(String),
    #[error("{}", breaking_message(.bump, .needed, .previous, .changes))]
    Breaking {
        bump: Level,
        needed: Level,
        previous: String,
        changes: Vec<Change>,
    },
    #[error(
        "git has no identity to sign the release commit and tag with\nhelp: `git config user.name \"…\"` and `git config user.email …`"
    )]
    NoIdentity,
    #[error("`{path}` is not in commit {commit}")]
    NotInCommit { path: String, commit: String },
    #[error("`{path}` is {reason} in git: archives hold regular files only")]
    Unpackable { path: String, reason: &'static str },
    #[error(
        "no signing key: a release archive is signed\nhelp: pass `--key KEY` or set `OENT_SIGNING_KEY` (create one with `oent key new`)"
    )]
    NoKey,
    #[error("signing key: {0}")]
    Key(SigningError),
    #[error("the archive's signature does not verify: {0}")]
    Signature(SigningError),
    #[error("cannot reach forge {forge}: {reason}\nhelp: check the URL and that the forge is up")]
    ForgeUnreachable { forge: String, reason: String },
    #[error("forge {forge} will not take the release: {reason}")]
    ForgeRefused { forge: String, reason: String },
    #[error("no publish token for {forge}\nhelp: set `OENT_TOKEN` or pass `--token`")]
    NoToken { forge: String },
    #[error(
        "{name} {version} is already published on {forge} (sha256 {sha256}): versions are immutable\nhelp: choose another version; `oent release --resume` finishes a release whose tag exists"
    )]
    AlreadyPublished {
        forge: String,
        name: String,
        version: String,
        sha256: String,
    },
    #[error("push to remote `{remote}` ({url}) was rejected: {reason}")]
    PushRejected {
        remote: String,
        url: String,
        reason: String,
    },
    #[error("publishing to {forge}: {source}")]
    PublishGitLab {
        forge: String,
        source: Box<crate::forge::gitlab::GitLabError>,
    },
    #[error("publishing to {forge}: {source}")]
    Publish {
        forge: String,
        source: Box<ClientError>,
    },
    #[error(
        "nothing to resume: tag `{tag}` does not exist\nhelp: cut the release with `oent release --bump …`"
    )]
    NothingToResume { tag: String },
    #[error(
        "the archive rebuilt from tag `{tag}` has sha256 {rebuilt}, but the tag records {recorded}: the tag does not describe this tree\nhelp: do not publish it; find out who moved the tag (`git show {tag}`)"
    )]
    TagMismatch {
        tag: String,
        rebuilt: String,
        recorded: String,
    },
    #[error("`{}` has no `oent.lock`: a distribution's release notes compare two locks\nhelp: run `oent resolve` and commit `oent.lock`", .0.display())]
    NoLock(PathBuf),
    #[error("cannot read `oent.lock`: {0}")]
    Lock(String),
    #[error(transparent)]
    Verify(#[from] verify::VerifyError),
    /// A failure after something changed: what is left, and what to run.
    #[error("{step} failed: {cause}\nstate: {state}\nhelp: {help}")]
    Stopped {
        step: &'static str,
        cause: Box<ReleaseError>,
        state: String,
        help: String,
    },
}

fn breaking_message(bump: &Level, needed: &Level, previous: &str, changes: &[Change]) -> String {
    let mut out = format!(
        "a {} release cannot carry these changes since {previous}; they need a {} release:",
        bump.name(),
        needed.name()
    );
    for c in changes.iter().filter(|c| c.level > *bump) {
        out.push_str(&format!("\n  - [{}] {}", c.level.name(), c.message));
    }
    out.push_str(&format!(
        "\nhelp: release with `--bump {}`, or undo these changes",
        needed.name()
    ));
    out
}

//! Cutting releases (`oent release`) and checking them (`oent verify`).
//! A stage after `forge/`: it uses `manifest/` (the manifests compared and
//! bumped), `package/` (the deterministic archive), `registry/` (signing
//! keys, sources to verify against) and `forge/`'s client (publishing). A
//! release is packaging, signing and publishing, in an order that never
//! leaves half a release.
//!
//! - [`git`]: the work tree, tags, the release commit and pushes (git2);
//! - [`semver_check`]: what a new `module.yaml` breaks, and the release it needs;
//! - [`changelog`]: CHANGELOG.md from conventional commits;
//! - [`notes`]: a distribution's release notes from two `oent.lock`;
//! - [`artifact`]: the archive rebuilt from a commit, its signature, the tag's record;
//! - [`forges`]: asking each forge, before anything changes, whether it will take the release;
//! - [`verify`]: rebuilding a published archive from its tag.
//!
//! The steps, the state each failure leaves and the command that recovers
//! are documented in docs/release.md.

pub mod artifact;
pub mod changelog;
pub mod forges;
pub mod git;
pub mod notes;
pub mod semver_check;
pub mod verify;

use std::path::{Path, PathBuf};

use semver::Version;

use self::artifact::{Built, TagRecord};
use self::git::Git;
use self::semver_check::{Change, Level};
use crate::forge::client::{ClientError, ForgeClient, Published, Upload};
use crate::manifest::lockfile::{LOCK_FILE, Lockfile};
use crate::manifest::module::MODULE_FILE;
use crate::manifest::{Diagnostic, DistributionChain, Module};
use crate::package::PackageError;
use crate::registry::signing::{SecretKey, SigningError};

pub const DISTRIBUTION_FILE: &str = "distribution.yaml";
pub const CHANGELOG_FILE: &str = "CHANGELOG.md";

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
    #[error(
        "remote `{remote}` is `{url}`, a transport this oent does not speak (it pushes to local paths, file:// and git:// only, without TLS or SSH)\nhelp: push through a git:// daemon or a local mirror, or add such a remote and pass `--remote NAME`"
    )]
    UnsupportedTransport { remote: String, url: String },
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

/// What to release as: a level, or an exact version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bump {
    Patch,
    Minor,
    Major,
    Exact(Version),
}

impl std::str::FromStr for Bump {
    type Err = String;
    fn from_str(s: &str) -> Result<Bump, String> {
        Ok(match s {
            "patch" => Bump::Patch,
            "minor" => Bump::Minor,
            "major" => Bump::Major,
            other => Bump::Exact(Version::parse(other.trim_start_matches('v')).map_err(|e| {
                format!("`{other}` is neither patch, minor, major nor a version: {e}")
            })?),
        })
    }
}

impl Bump {
    pub fn apply(&self, current: &Version) -> Result<Version, ReleaseError> {
        let next = match self {
            Bump::Patch => Version::new(current.major, current.minor, current.patch + 1),
            Bump::Minor => Version::new(current.major, current.minor + 1, 0),
            Bump::Major => Version::new(current.major + 1, 0, 0),
            Bump::Exact(v) => v.clone(),
        };
        if next <= *current {
            return Err(ReleaseError::BadVersion(format!(
                "version {next} is not above the current {current}: a release moves forward"
            )));
        }
        Ok(next)
    }
}

#[derive(Debug, Clone)]
pub struct ReleaseOptions {
    /// A module directory (module.yaml) or a distribution's (distribution.yaml).
    pub path: PathBuf,
    pub bump: Option<Bump>,
    /// Forges' registry base URLs.
    pub forges: Vec<String>,
    pub token: Option<String>,
    /// The secret key signing the archive.
    pub key: Option<PathBuf>,
    pub remote: String,
    /// Where the archive, its .sha256 and .sig are written.
    pub out_dir: PathBuf,
    pub dry_run: bool,
    /// Finish a release whose tag exists: rebuild, push, publish.
    pub resume: bool,
}

/// The steps, in order; printed as `[n/11] name: detail`.
pub const STEPS: &[&str] = &[
    "check",
    "lint",
    "semver",
    "bump",
    "changelog",
    "commit",
    "package",
    "sign",
    "tag",
    "push",
    "publish",
];

/// How the steps are shown (the CLI prints them).
pub trait Reporter {
    fn step(&self, name: &str, detail: &str);
}

/// What a release did.
#[derive(Debug, Clone)]
pub struct Released {
    pub name: String,
    pub version: String,
    pub tag: String,
    pub archive: Option<PathBuf>,
    pub sha256: Option<String>,
}

impl Released {
    fn new(
        name: String,
        version: &semver::Version,
        tag: String,
        archive: Option<PathBuf>,
        built: Option<artifact::Built>,
    ) -> Released {
        Released {
            name,
            version: version.to_string(),
            tag,
            archive,
            sha256: built.map(|b| b.sha256),
        }
    }
}

enum Kind {
    Module(Box<Module>),
    Distribution(DistributionChain),
}

impl Kind {
    fn name(&self) -> String {
        match self {
            Kind::Module(m) => m.name.to_string(),
            Kind::Distribution(d) => d.top().name.to_string(),
        }
    }
    fn version(&self) -> &Version {
        match self {
            Kind::Module(m) => &m.version,
            Kind::Distribution(d) => &d.top().version,
        }
    }
    fn manifest_file(&self) -> &'static str {
        match self {
            Kind::Module(_) => MODULE_FILE,
            Kind::Distribution(_) => DISTRIBUTION_FILE,
        }
    }
}

/// Loads and lints what `path` holds.
fn load(path: &Path) -> Result<Kind, ReleaseError> {
    if path.join(MODULE_FILE).is_file() {
        return crate::package::load_module(path)
            .map(|m| Kind::Module(Box::new(m)))
            .map_err(|e| match e {
                PackageError::Invalid { path, diagnostics } => {
                    ReleaseError::Invalid { path, diagnostics }
                }
                other => ReleaseError::Package(other),
            });
    }
    let manifest = path.join(DISTRIBUTION_FILE);
    if manifest.is_file() {
        let loaded = DistributionChain::load(&manifest)
            .map_err(|e| ReleaseError::Package(PackageError::Read(e)))?;
        if loaded.has_errors() {
            return Err(ReleaseError::Invalid {
                path: path.to_path_buf(),
                diagnostics: loaded.diagnostics,
            });
        }
        return loaded
            .into_valid()
            .map(Kind::Distribution)
            .ok_or(ReleaseError::NothingToRelease(path.to_path_buf()));
    }
    Err(ReleaseError::NothingToRelease(path.to_path_buf()))
}

/// `v<version>`, or `<name>-v<version>` in a repository holding several
/// manifests (modules or distributions).
pub fn tag_prefix(git: &Git, short_name: &str) -> Result<String, ReleaseError> {
    Ok(if git.manifests()?.len() > 1 {
        format!("{short_name}-v")
    } else {
        "v".to_owned()
    })
}

fn short_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// The newest tag `prefix<version>` below `version`.
fn previous_tag(
    git: &Git,
    prefix: &str,
    version: &Version,
) -> Result<Option<(String, Version)>, ReleaseError> {
    Ok(git
        .tags_with_prefix(prefix)?
        .into_iter()
        .filter_map(|t| {
            let v = Version::parse(&t[prefix.len()..]).ok()?;
            (v < *version).then_some((t, v))
        })
        .max_by(|a, b| a.1.cmp(&b.1)))
}

/// The manifest's text with its top-level `version:` set to `version`.
pub fn set_version(text: &str, version: &Version) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut done = false;
    for line in text.split_inclusive('\n') {
        if !done && let Some(rest) = line.strip_prefix("version:") {
            let ending = if line.ends_with("\r\n") {
                "\r\n"
            } else if line.ends_with('\n') {
                "\n"
            } else {
                ""
            };
            let value = rest.trim_end_matches(['\r', '\n']);
            let (value, comment) = match value.find(" #") {
                Some(i) => {
                    let end = value[..i].trim_end().len();
                    (&value[..end], &value[end..])
                }
                None => (value, ""),
            };
            let trimmed = value.trim();
            let quote = match trimmed.chars().next() {
                Some(q @ ('"' | '\'')) => q.to_string(),
                _ => String::new(),
            };
            out.push_str(&format!(
                "version: {quote}{version}{quote}{comment}{ending}"
            ));
            done = true;
        } else {
            out.push_str(line);
        }
    }
    done.then_some(out)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReleaseError + '_ {
    move |source| ReleaseError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn today() -> String {
    crate::registry::time::now_rfc3339()[..10].to_owned()
}

/// The release output directory relative to the work tree, when inside it
/// (its files do not make the tree dirty).
fn out_inside(git: &Git, out: &Path) -> Option<String> {
    let absolute = std::path::absolute(out).ok()?;
    let absolute = absolute
        .canonicalize()
        .unwrap_or_else(|_| crate::fsutil::normalize(&absolute));
    let relative = absolute.strip_prefix(&git.root).ok()?;
    let text = relative.to_string_lossy().replace('\\', "/");
    (!text.is_empty()).then(|| format!("{text}/"))
}

/// Cuts a release; see docs/release.md for the order and the recovery.
pub fn release(
    options: &ReleaseOptions,
    reporter: &dyn Reporter,
) -> Result<Released, ReleaseError> {
    let git = Git::discover(&options.path)?;
    if options.resume {
        return resume(&git, options, reporter);
    }
    let dry = options.dry_run;
    let bump = options.bump.clone().ok_or_else(|| {
        ReleaseError::BadVersion("say which release: `--bump patch|minor|major|VERSION`".into())
    })?;

    // 1. check: nothing below changes anything until these pass.
    let dir = git.relative(&options.path)?;
    let branch = git.branch()?;
    let dirty = git.dirty_paths(out_inside(&git, &options.out_dir).as_deref())?;
    if !dirty.is_empty() {
        return Err(ReleaseError::Dirty { paths: dirty });
    }
    let kind = load(&options.path)?;
    let name = kind.name();
    let current = kind.version().clone();
    let version = bump.apply(&current)?;
    let prefix = tag_prefix(&git, short_name(&name))?;
    let tag = format!("{prefix}{version}");
    if git.tag_commit(&tag).is_some() {
        return Err(ReleaseError::TagExists {
            tag,
            place: "in this repository",
            version: version.to_string(),
        });
    }
    let remote_refs = git.ls_remote(&options.remote)?;
    if remote_refs.get(&format!("refs/tags/{tag}")).is_some() {
        return Err(ReleaseError::TagExists {
            tag,
            place: "on the remote",
            version: version.to_string(),
        });
    }
    let head = git.head_commit()?.id();
    if let Some(theirs) = remote_refs.get(&branch)
        && !git.is_ancestor(theirs, head)
    {
        return Err(ReleaseError::RemoteAhead {
            remote: options.remote.clone(),
            branch: branch.trim_start_matches("refs/heads/").to_owned(),
        });
    }
    let is_module = matches!(kind, Kind::Module(_));
    let key = if is_module && !dry {
        let path = options.key.as_ref().ok_or(ReleaseError::NoKey)?;
        Some(SecretKey::read(path).map_err(ReleaseError::Key)?)
    } else {
        None
    };
    if is_module {
        for forge in &options.forges {
            forges::preflight(forge, options.token.as_deref(), &name, &version.to_string())?;
        }
    }
    reporter.step(
        "check",
        &format!(
            "clean work tree on {}; remote `{}` reachable; tag {tag} free{}",
            branch.trim_start_matches("refs/heads/"),
            options.remote,
            if is_module && !options.forges.is_empty() {
                format!(
                    "; {} forge(s) ready for {name} {version}",
                    options.forges.len()
                )
            } else {
                String::new()
            }
        ),
    );
    // 2. lint: done by loading.
    reporter.step("lint", &format!("{name} {current}: no errors"));

    // 3. semver (modules) or release notes (distributions), against the previous tag.
    let previous = previous_tag(&git, &prefix, &version)?;
    let mut breaking_lines = Vec::new();
    let mut notes_text = String::new();
    match &kind {
        Kind::Module(module) => match &previous {
            Some((previous_tag, previous_version)) => {
                let commit = git
                    .tag_commit(previous_tag)
                    .ok_or_else(|| ReleaseError::Git {
                        what: format!("reading tag {previous_tag}"),
                        message: "it does not point to a commit".into(),
                    })?;
                match artifact::build_from_commit(&git, &commit, &dir) {
                    Ok(old) => {
                        let changes = semver_check::compare(&old.module, module);
                        let needed = changes
                            .iter()
                            .map(|c| c.level)
                            .max()
                            .unwrap_or(Level::Patch);
                        let level = semver_check::bump_level(previous_version, &version);
                        if needed > level {
                            return Err(ReleaseError::Breaking {
                                bump: level,
                                needed,
                                previous: previous_tag.clone(),
                                changes,
                            });
                        }
                        breaking_lines = changes
                            .iter()
                            .filter(|c| c.level == Level::Major)
                            .map(|c| c.message.clone())
                            .collect();
                        reporter.step(
                            "semver",
                            &format!(
                                "{} release since {previous_tag}: {} change(s) need {}",
                                level.name(),
                                changes.len(),
                                needed.name()
                            ),
                        );
                    }
                    Err(ReleaseError::NotInCommit { .. }) => {
                        reporter.step(
                            "semver",
                            &format!("the module is not in {previous_tag}: nothing to compare"),
                        );
                    }
                    Err(e) => return Err(e),
                }
            }
            None => reporter.step("semver", "first release: nothing to compare"),
        },
        Kind::Distribution(chain) => {
            let notes =
                distribution_notes(&git, chain, &dir, previous.as_ref().map(|p| p.0.as_str()))?;
            notes_text = notes.to_markdown();
            reporter.step(
                "semver",
                &format!(
                    "release notes since {}: {} added, {} removed, {} upgraded, {} default(s) changed",
                    previous.as_ref().map_or("the start", |p| p.0.as_str()),
                    notes.added.len(),
                    notes.removed.len(),
                    notes.upgraded.len(),
                    notes.defaults_changed.len()
                ),
            );
        }
    }

    // 4–5. bump and changelog (in memory until the commit).
    let manifest_rel = join(&dir, kind.manifest_file());
    let manifest_path = options.path.join(kind.manifest_file());
    let manifest_text = std::fs::read_to_string(&manifest_path).map_err(io(&manifest_path))?;
    let bumped = set_version(&manifest_text, &version).ok_or_else(|| {
        ReleaseError::BadVersion(format!(
            "`{}` has no top-level `version:` line to bump",
            manifest_path.display()
        ))
    })?;
    let since = previous
        .as_ref()
        .and_then(|(t, _)| git.tag_commit(t))
        .map(|c| c.id());
    let messages = git.commits_since(since, &dir)?;
    let mut section =
        changelog::section(&version.to_string(), &today(), &messages, &breaking_lines);
    section.push_str(&notes_text);
    let changelog_rel = join(&dir, CHANGELOG_FILE);
    let changelog_path = options.path.join(CHANGELOG_FILE);
    let changelog_text = match std::fs::read_to_string(&changelog_path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(&changelog_path)(e)),
    };
    let new_changelog = changelog::insert(changelog_text.as_deref(), &section);
    if dry {
        reporter.step(
            "bump",
            &format!("would set {manifest_rel} to version {version} (from {current})"),
        );
        reporter.step(
            "changelog",
            &format!("would add to {changelog_rel}:\n{}", indent(&section)),
        );
        reporter.step(
            "commit",
            &format!("would commit `chore(release): {name} {version}`"),
        );
        if is_module {
            reporter.step(
                "package",
                &format!(
                    "would pack {name} {version} from the release commit into {}",
                    options.out_dir.display()
                ),
            );
            reporter.step(
                "sign",
                "would sign the archive (SSHSIG, namespace oent-archive)",
            );
        } else {
            reporter.step(
                "package",
                "skipped: a distribution is released as a tag, without an archive",
            );
            reporter.step("sign", "skipped");
        }
        reporter.step("tag", &format!("would create the annotated tag {tag}"));
        reporter.step(
            "push",
            &format!(
                "would push {} and {tag} to `{}`",
                branch.trim_start_matches("refs/heads/"),
                options.remote
            ),
        );
        reporter.step(
            "publish",
            &publish_plan(is_module, &options.forges, "would publish to"),
        );
        return Ok(Released {
            name,
            version: version.to_string(),
            tag,
            archive: None,
            sha256: None,
        });
    }

    crate::fsutil::write_atomic(&manifest_path, bumped.as_bytes()).map_err(io(&manifest_path))?;
    reporter.step("bump", &format!("{manifest_rel}: {current} → {version}"));
    let undo_files = || {
        let _ = crate::fsutil::write_atomic(&manifest_path, manifest_text.as_bytes());
        match &changelog_text {
            Some(t) => {
                let _ = crate::fsutil::write_atomic(&changelog_path, t.as_bytes());
            }
            None => {
                let _ = std::fs::remove_file(&changelog_path);
            }
        }
    };
    if let Err(e) = crate::fsutil::write_atomic(&changelog_path, new_changelog.as_bytes()) {
        undo_files();
        return Err(io(&changelog_path)(e));
    }
    reporter.step(
        "changelog",
        &format!("{changelog_rel}: section {version} added"),
    );
    let commit = match git.commit_files(
        &[manifest_rel.clone(), changelog_rel.clone()],
        &format!("chore(release): {name} {version}\n"),
    ) {
        Ok(c) => c,
        Err(e) => {
            undo_files();
            return Err(stopped(
                "commit",
                e,
                "nothing changed (the manifest and changelog were restored)",
                "fix the cause, then run the same command again",
            ));
        }
    };
    reporter.step(
        "commit",
        &format!("{} chore(release): {name} {version}", short_id(commit)),
    );
    // From here until the push, a failure undoes the commit (and the tag).
    let undo_commit = |git: &Git| -> Result<(), ReleaseError> {
        let _ = git.delete_tag(&tag);
        let parent = git
            .repo
            .find_commit(commit)
            .and_then(|c| c.parent(0))
            .map_err(git::git_error("undoing the release commit"))?;
        git.repo
            .reset(parent.as_object(), git2::ResetType::Hard, None)
            .map_err(git::git_error("undoing the release commit"))
    };
    let local_failure = |git: &Git, step: &'static str, e: ReleaseError| {
        let state = match undo_commit(git) {
            Ok(()) => format!(
                "nothing changed: the release commit {} was undone (it stays in the reflog) and no tag was created",
                short_id(commit)
            ),
            Err(undo) => format!(
                "the release commit {} is still on the branch ({undo}); remove it with `git reset --hard HEAD~1`",
                short_id(commit)
            ),
        };
        stopped(
            step,
            e,
            &state,
            "fix the cause, then run the same command again",
        )
    };

    let mut record = TagRecord {
        name: name.clone(),
        version: version.to_string(),
        path: dir.clone(),
        sha256: None,
        signature: None,
    };
    let mut archive_path = None;
    let mut built: Option<Built> = None;
    if let Some(key) = &key {
        let release_commit = git
            .repo
            .find_commit(commit)
            .map_err(git::git_error("reading the release commit"))?;
        let b = match artifact::build_from_commit(&git, &release_commit, &dir) {
            Ok(b) => b,
            Err(e) => return Err(local_failure(&git, "package", e)),
        };
        reporter.step(
            "package",
            &format!(
                "{} ({} bytes, SOURCE_DATE_EPOCH={}) sha256 {}",
                b.file_name,
                b.bytes.len(),
                b.source_date_epoch,
                b.sha256
            ),
        );
        let signature = artifact::sign(key, &b.bytes);
        let path = match artifact::write(&options.out_dir, &b, Some(&signature)) {
            Ok(p) => p,
            Err(e) => return Err(local_failure(&git, "sign", e)),
        };
        reporter.step(
            "sign",
            &format!(
                "{} ({})",
                artifact::signature_path(&path).display(),
                key.public().fingerprint()
            ),
        );
        record.sha256 = Some(b.sha256.clone());
        record.signature = Some(signature);
        archive_path = Some(path);
        built = Some(b);
    } else {
        reporter.step(
            "package",
            "skipped: a distribution is released as a tag, without an archive",
        );
        reporter.step("sign", "skipped");
    }
    let message = record.to_message(&section);
    if let Err(e) = git.create_tag(&tag, commit, &message) {
        return Err(local_failure(&git, "tag", e));
    }
    reporter.step("tag", &format!("{tag} → {}", short_id(commit)));

    // 10. push: the commit and the tag together.
    let refspecs = vec![
        format!("{branch}:{branch}"),
        format!("refs/tags/{tag}:refs/tags/{tag}"),
    ];
    if let Err(e) = git.push(&options.remote, &refspecs) {
        // Did the tag get through (a server accepting refs one by one)?
        let pushed = git
            .ls_remote(&options.remote)
            .ok()
            .and_then(|r| r.get(&format!("refs/tags/{tag}")))
            .is_some();
        if pushed {
            return Err(stopped(
                "push",
                e,
                &format!(
                    "tag {tag} reached `{}` but not everything else did; nothing was published",
                    options.remote
                ),
                &format!(
                    "fix the remote, then `oent release {} --resume{}`",
                    options.path.display(),
                    forge_args(&options.forges)
                ),
            ));
        }
        return Err(local_failure(&git, "push", e));
    }
    reporter.step(
        "push",
        &format!(
            "{} and {tag} → `{}`",
            branch.trim_start_matches("refs/heads/"),
            options.remote
        ),
    );

    // 11. publish: the tag is public, the archive reproducible from it.
    if let Some(b) = &built {
        publish(options, b, &tag, archive_path.as_deref(), reporter)?;
    } else {
        reporter.step("publish", &publish_plan(false, &options.forges, ""));
    }
    Ok(Released::new(name, &version, tag, archive_path, built))
}

fn publish(
    options: &ReleaseOptions,
    built: &Built,
    tag: &str,
    archive: Option<&Path>,
    reporter: &dyn Reporter,
) -> Result<(), ReleaseError> {
    if options.forges.is_empty() {
        reporter.step(
            "publish",
            "no forge given (`--to URL`): the archive stays in the output directory",
        );
        return Ok(());
    }
    let upload = Upload {
        module: built.module.clone(),
        bytes: built.bytes.clone(),
        sha256: built.sha256.clone(),
        label: archive.map(Path::to_path_buf).unwrap_or_default(),
    };
    for forge in &options.forges {
        let result = ForgeClient::new(forge, options.token.clone()).and_then(|client| {
            client.publish_all(
                std::slice::from_ref(&upload),
                &crate::registry::fetch::NoProgress,
                |_, _| {},
            )
        });
        match result {
            Ok(outcomes) => {
                let what = match outcomes.first() {
                    Some(Published::AlreadyThere) => "already there (same sha256)",
                    _ => "published",
                };
                reporter.step(
                    "publish",
                    &format!(
                        "{forge}: {} {} {what}",
                        built.module.name, built.module.version
                    ),
                );
            }
            Err(source) => {
                return Err(stopped(
                    "publish",
                    ReleaseError::Publish {
                        forge: forge.clone(),
                        source: Box::new(source),
                    },
                    &format!(
                        "tag {tag} is pushed; the signed archive is in {} and is rebuilt byte for byte from the tag (`oent verify`); forges before {forge} have it",
                        options.out_dir.display()
                    ),
                    &format!(
                        "when the forge is back: `oent release {} --resume{}` (it rebuilds the archive from the tag, checks its sha256, and publishes what is missing)",
                        options.path.display(),
                        forge_args(&options.forges)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Finishes a release whose tag exists: rebuilds the archive from the tag
/// (checked against the sha256 the tag records), pushes the tag if the
/// remote lacks it, publishes where it is missing.
fn resume(
    git: &Git,
    options: &ReleaseOptions,
    reporter: &dyn Reporter,
) -> Result<Released, ReleaseError> {
    let dir = git.relative(&options.path)?;
    let kind = load(&options.path)?;
    let name = kind.name();
    let version = kind.version().clone();
    let prefix = tag_prefix(git, short_name(&name))?;
    let tag = format!("{prefix}{version}");
    let commit = git
        .tag_commit(&tag)
        .ok_or_else(|| ReleaseError::NothingToResume { tag: tag.clone() })?;
    reporter.step("check", &format!("tag {tag} → {}", short_id(commit.id())));
    let record = git.tag_message(&tag).and_then(|m| TagRecord::parse(&m));
    let mut built = None;
    let mut archive_path = None;
    if matches!(kind, Kind::Module(_)) {
        let b = artifact::build_from_commit(git, &commit, &dir)?;
        if let Some(recorded) = record.as_ref().and_then(|r| r.sha256.clone())
            && recorded != b.sha256
        {
            return Err(ReleaseError::TagMismatch {
                tag,
                rebuilt: b.sha256,
                recorded,
            });
        }
        reporter.step(
            "package",
            &format!("{} rebuilt from {tag}: sha256 {}", b.file_name, b.sha256),
        );
        let signature = record.as_ref().and_then(|r| r.signature.clone());
        archive_path = Some(artifact::write(&options.out_dir, &b, signature.as_deref())?);
        built = Some(b);
    }
    let remote = git.ls_remote(&options.remote)?;
    if remote.get(&format!("refs/tags/{tag}")).is_none() {
        let mut refspecs = vec![format!("refs/tags/{tag}:refs/tags/{tag}")];
        let branch = git.branch()?;
        let head = git.head_commit()?.id();
        if git.is_ancestor(commit.id(), head)
            && remote
                .get(&branch)
                .is_none_or(|theirs| git.is_ancestor(theirs, head))
        {
            refspecs.insert(0, format!("{branch}:{branch}"));
        }
        git.push(&options.remote, &refspecs)?;
        reporter.step("push", &format!("{tag} → `{}`", options.remote));
    } else {
        reporter.step("push", &format!("{tag} is already on `{}`", options.remote));
    }
    if let Some(b) = &built {
        publish(options, b, &tag, archive_path.as_deref(), reporter)?;
    }
    Ok(Released::new(name, &version, tag, archive_path, built))
}

/// Notes of a distribution: its lock now against its lock at the previous tag.
fn distribution_notes(
    git: &Git,
    chain: &DistributionChain,
    dir: &str,
    previous: Option<&str>,
) -> Result<notes::Notes, ReleaseError> {
    let lock_path = chain.top().dir().join(LOCK_FILE);
    let current = Lockfile::read(&lock_path)
        .map_err(|e| ReleaseError::Lock(e.to_string()))?
        .ok_or_else(|| ReleaseError::NoLock(chain.top().dir().to_path_buf()))?;
    let old = match previous.and_then(|t| git.tag_commit(t)) {
        Some(commit) => match git.file_at(&commit, &join(dir, LOCK_FILE)) {
            Some(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                Some(serde_saphyr::from_str::<Lockfile>(&text).map_err(|e| {
                    ReleaseError::Lock(format!("at {}: {e}", previous.unwrap_or_default()))
                })?)
            }
            None => None,
        },
        None => None,
    };
    let sources = open_registries(chain);
    let manifest = |name: &str, version: &str| -> Option<Module> {
        let module_name = name.parse().ok()?;
        for source in &sources {
            let Ok(lines) = source.versions(&module_name) else {
                continue;
            };
            let Some(line) = lines.iter().find(|l| l.version == version) else {
                continue;
            };
            let path = source.archive(line).ok()?;
            let bytes = std::fs::read(&path).ok()?;
            return crate::registry::local::inspect_archive(&path, &bytes).ok();
        }
        None
    };
    Ok(notes::compare(old.as_ref(), &current, &manifest))
}

fn open_registries(chain: &DistributionChain) -> Vec<Box<dyn crate::registry::source::Source>> {
    use crate::manifest::distribution::RegistryLocation;
    let Ok(cache) = crate::registry::cache::Cache::default_location() else {
        return Vec::new();
    };
    chain
        .registries()
        .iter()
        .filter_map(|spec| {
            let location = match &spec.location {
                RegistryLocation::Url(u) => u.clone(),
                RegistryLocation::Path(p) => p.display().to_string(),
            };
            crate::registry::source::open_pinned_source(&location, &spec.keys, &cache, false).ok()
        })
        .collect()
}

fn stopped(step: &'static str, cause: ReleaseError, state: &str, help: &str) -> ReleaseError {
    ReleaseError::Stopped {
        step,
        cause: Box::new(cause),
        state: state.to_owned(),
        help: help.to_owned(),
    }
}

fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_owned()
    } else {
        format!("{dir}/{file}")
    }
}

fn short_id(oid: git2::Oid) -> String {
    oid.to_string()[..10].to_owned()
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("    {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn forge_args(forges: &[String]) -> String {
    forges.iter().map(|f| format!(" --to {f}")).collect()
}

fn publish_plan(is_module: bool, forges: &[String], verb: &str) -> String {
    if !is_module {
        "skipped: a distribution is released as a tag; its modules are published on their own"
            .into()
    } else if forges.is_empty() {
        "no forge given (`--to URL`)".into()
    } else {
        format!("{verb} {}", forges.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_lines_are_bumped_in_place() {
        let v = Version::new(1, 3, 0);
        assert_eq!(
            set_version("schema: x\nversion: 1.2.0\nname: a\n", &v).unwrap(),
            "schema: x\nversion: 1.3.0\nname: a\n"
        );
        assert_eq!(
            set_version("version: \"1.2.0\"  # keep\n", &v).unwrap(),
            "version: \"1.3.0\"  # keep\n"
        );
        assert!(set_version("  version: 1.0.0\n", &v).is_none());
    }

    #[test]
    fn bumps() {
        let v = Version::new(1, 2, 3);
        assert_eq!(Bump::Patch.apply(&v).unwrap(), Version::new(1, 2, 4));
        assert_eq!(Bump::Minor.apply(&v).unwrap(), Version::new(1, 3, 0));
        assert_eq!(Bump::Major.apply(&v).unwrap(), Version::new(2, 0, 0));
        assert!("1.2.3".parse::<Bump>().unwrap().apply(&v).is_err());
        assert_eq!(
            "v2.0.0".parse::<Bump>().unwrap(),
            Bump::Exact(Version::new(2, 0, 0))
        );
    }
}

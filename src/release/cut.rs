//! `oent release`: a new release, one function per step of [`STEPS`](super::STEPS).
//! [`release`] reads as that list. Nothing changes before [`check`]
//! passes; from the bump until the push a failure undoes what the release
//! changed; after the push it stops with the command that finishes it (see
//! docs/release.md).

use std::path::{Path, PathBuf};

use semver::Version;

use super::artifact::{self, Built, TagRecord};
use super::compare::{History, compare_with_previous};
use super::git::{self, Git};
use super::plan::Plan;
use super::publish::{forge_args, publish, publish_plan};
use super::resume::resume;
use super::{
    CHANGELOG_FILE, Kind, ReleaseError, ReleaseOptions, Released, Reporter, changelog, forges, io,
    join, load, set_version, short_id, short_name, stopped, tag_prefix,
};
use crate::forge::gitlab;
use crate::registry::signing::SecretKey;

/// Cuts a release; see docs/release.md for the order and the recovery.
pub fn release(
    options: &ReleaseOptions,
    reporter: &dyn Reporter,
) -> Result<Released, ReleaseError> {
    let git = Git::discover(&options.path)?;
    if options.resume {
        return resume(&git, options, reporter);
    }
    let plan = check(&git, options, reporter)?;
    // The manifest was linted when `check` loaded it.
    reporter.step(
        "lint",
        &format!("{} {}: no errors", plan.name, plan.current),
    );
    let history = compare_with_previous(&git, &plan, reporter)?;
    let edits = prepare_edits(&git, options, &plan, &history)?;
    if options.dry_run {
        return Ok(dry_run(options, &plan, &edits, reporter));
    }
    bump_and_changelog(&edits, &plan, reporter)?;
    let commit = commit(&git, &plan, &edits, reporter)?;
    let signed = package_and_sign(&git, options, &plan, &commit, reporter)?;
    tag(
        &git,
        &plan,
        &commit,
        signed.as_ref(),
        &edits.section,
        reporter,
    )?;
    push(&git, options, &plan, &commit, reporter)?;
    publish_release(options, &plan, signed.as_ref(), &edits.section, reporter)?;
    Ok(plan.released(signed))
}

/// Its own step's outcome joins the plan here, where `Signed` lives.
impl Plan {
    fn released(self, signed: Option<Signed>) -> Released {
        let (archive, built) = match signed {
            Some(s) => (Some(s.archive), Some(s.built)),
            None => (None, None),
        };
        Released::new(self.name, &self.version, self.tag, archive, built)
    }
}

/// Step 1, check: nothing below changes anything until these pass.
fn check(
    git: &Git,
    options: &ReleaseOptions,
    reporter: &dyn Reporter,
) -> Result<Plan, ReleaseError> {
    let bump = options.bump.clone().ok_or_else(|| {
        ReleaseError::BadVersion("say which release: `--bump patch|minor|major|VERSION`".into())
    })?;
    let dir = git.relative(&options.path)?;
    let branch = git.branch()?;
    let dirty = git.dirty_paths(out_inside(git, &options.out_dir).as_deref())?;
    if !dirty.is_empty() {
        return Err(ReleaseError::Dirty { paths: dirty });
    }
    let kind = load(&options.path)?;
    let name = kind.name();
    let current = kind.version().clone();
    let version = bump.apply(&current)?;
    let prefix = tag_prefix(git, short_name(&name))?;
    let tag = format!("{prefix}{version}");
    check_tag_and_remote(git, options, &branch, &tag, &version)?;
    let is_module = matches!(kind, Kind::Module(_));
    let key = if is_module && !options.dry_run {
        let path = options.key.as_ref().ok_or(ReleaseError::NoKey)?;
        Some(SecretKey::read(path).map_err(ReleaseError::Key)?)
    } else {
        None
    };
    if is_module {
        for forge in &options.forges {
            if forge.starts_with(gitlab::SCHEME) {
                let package = name.replace('/', "-");
                forges::preflight_gitlab(
                    forge,
                    options.token.as_deref(),
                    options.job_token.as_deref(),
                    &package,
                    &version.to_string(),
                    &tag,
                )?;
            } else {
                forges::preflight(forge, options.token.as_deref(), &name, &version.to_string())?;
            }
        }
    }
    let plan = Plan {
        dir,
        branch,
        kind,
        name,
        current,
        version,
        prefix,
        tag,
        key,
    };
    reporter.step(
        "check",
        &format!(
            "clean work tree on {}; remote `{}` reachable; tag {} free{}",
            plan.branch_name(),
            options.remote,
            plan.tag,
            if is_module && !options.forges.is_empty() {
                format!(
                    "; {} forge(s) ready for {} {}",
                    options.forges.len(),
                    plan.name,
                    plan.version
                )
            } else {
                String::new()
            }
        ),
    );
    Ok(plan)
}

/// The tag is free here and on the remote, and the remote's branch has no
/// commit this clone lacks (the push would be rejected).
fn check_tag_and_remote(
    git: &Git,
    options: &ReleaseOptions,
    branch: &str,
    tag: &str,
    version: &Version,
) -> Result<(), ReleaseError> {
    if git.tag_commit(tag).is_some() {
        return Err(ReleaseError::TagExists {
            tag: tag.to_owned(),
            place: "in this repository",
            version: version.to_string(),
        });
    }
    let remote_refs = git.ls_remote(&options.remote)?;
    if remote_refs.get(&format!("refs/tags/{tag}")).is_some() {
        return Err(ReleaseError::TagExists {
            tag: tag.to_owned(),
            place: "on the remote",
            version: version.to_string(),
        });
    }
    let head = git.head_commit()?.id();
    if let Some(theirs) = remote_refs.get(branch)
        && !git.is_ancestor(theirs, head)
    {
        return Err(ReleaseError::RemoteAhead {
            remote: options.remote.clone(),
            branch: branch.trim_start_matches("refs/heads/").to_owned(),
        });
    }
    Ok(())
}

/// The manifest bumped and the changelog's new section, in memory until
/// the commit, with the texts they replace (to undo a failed release).
struct Edits {
    manifest_rel: String,
    manifest_path: PathBuf,
    manifest_text: String,
    bumped: String,
    changelog_rel: String,
    changelog_path: PathBuf,
    /// None: there was no CHANGELOG.md.
    changelog_text: Option<String>,
    new_changelog: String,
    section: String,
}

impl Edits {
    /// Puts the manifest and the changelog back as they were.
    fn undo(&self) {
        let _ = crate::fsutil::write_atomic(&self.manifest_path, self.manifest_text.as_bytes());
        match &self.changelog_text {
            Some(t) => {
                let _ = crate::fsutil::write_atomic(&self.changelog_path, t.as_bytes());
            }
            None => {
                let _ = std::fs::remove_file(&self.changelog_path);
            }
        }
    }
}

/// Steps 4–5, bump and changelog, computed: the new manifest text and the
/// changelog section from the commits since the previous tag.
fn prepare_edits(
    git: &Git,
    options: &ReleaseOptions,
    plan: &Plan,
    history: &History,
) -> Result<Edits, ReleaseError> {
    let manifest_rel = join(&plan.dir, plan.kind.manifest_file());
    let manifest_path = options.path.join(plan.kind.manifest_file());
    let manifest_text = std::fs::read_to_string(&manifest_path).map_err(io(&manifest_path))?;
    let bumped = set_version(&manifest_text, &plan.version).ok_or_else(|| {
        ReleaseError::BadVersion(format!(
            "`{}` has no top-level `version:` line to bump",
            manifest_path.display()
        ))
    })?;
    let since = history
        .previous
        .as_ref()
        .and_then(|(t, _)| git.tag_commit(t))
        .map(|c| c.id());
    let messages = git.commits_since(since, &plan.dir)?;
    let mut section = changelog::section(
        &plan.version.to_string(),
        &today(),
        &messages,
        &history.breaking,
    );
    section.push_str(&history.notes);
    let changelog_rel = join(&plan.dir, CHANGELOG_FILE);
    let changelog_path = options.path.join(CHANGELOG_FILE);
    let changelog_text = match std::fs::read_to_string(&changelog_path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(&changelog_path)(e)),
    };
    let new_changelog = changelog::insert(changelog_text.as_deref(), &section);
    Ok(Edits {
        manifest_rel,
        manifest_path,
        manifest_text,
        bumped,
        changelog_rel,
        changelog_path,
        changelog_text,
        new_changelog,
        section,
    })
}

/// `--dry-run`: every remaining step says what it would do.
fn dry_run(
    options: &ReleaseOptions,
    plan: &Plan,
    edits: &Edits,
    reporter: &dyn Reporter,
) -> Released {
    let Plan {
        name, version, tag, ..
    } = plan;
    reporter.step(
        "bump",
        &format!(
            "would set {} to version {version} (from {})",
            edits.manifest_rel, plan.current
        ),
    );
    reporter.step(
        "changelog",
        &format!(
            "would add to {}:\n{}",
            edits.changelog_rel,
            indent(&edits.section)
        ),
    );
    reporter.step(
        "commit",
        &format!("would commit `chore(release): {name} {version}`"),
    );
    if plan.is_module() {
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
        skip_package_and_sign(reporter);
    }
    reporter.step("tag", &format!("would create the annotated tag {tag}"));
    reporter.step(
        "push",
        &format!(
            "would push {} and {tag} to `{}`",
            plan.branch_name(),
            options.remote
        ),
    );
    reporter.step(
        "publish",
        &publish_plan(plan.is_module(), &options.forges, "would publish to"),
    );
    Released {
        name: name.clone(),
        version: version.to_string(),
        tag: tag.clone(),
        archive: None,
        sha256: None,
    }
}

fn skip_package_and_sign(reporter: &dyn Reporter) {
    reporter.step(
        "package",
        "skipped: a distribution is released as a tag, without an archive",
    );
    reporter.step("sign", "skipped");
}

/// Steps 4–5, bump and changelog, written; a failure restores both files.
fn bump_and_changelog(
    edits: &Edits,
    plan: &Plan,
    reporter: &dyn Reporter,
) -> Result<(), ReleaseError> {
    crate::fsutil::write_atomic(&edits.manifest_path, edits.bumped.as_bytes())
        .map_err(io(&edits.manifest_path))?;
    reporter.step(
        "bump",
        &format!(
            "{}: {} → {}",
            edits.manifest_rel, plan.current, plan.version
        ),
    );
    if let Err(e) =
        crate::fsutil::write_atomic(&edits.changelog_path, edits.new_changelog.as_bytes())
    {
        edits.undo();
        return Err(io(&edits.changelog_path)(e));
    }
    reporter.step(
        "changelog",
        &format!("{}: section {} added", edits.changelog_rel, plan.version),
    );
    Ok(())
}

/// The release commit; until the push, a failure undoes it (and the tag).
struct Commit {
    id: git2::Oid,
    tag: String,
}

impl Commit {
    fn undo(&self, git: &Git) -> Result<(), ReleaseError> {
        let _ = git.delete_tag(&self.tag);
        let parent = git
            .repo
            .find_commit(self.id)
            .and_then(|c| c.parent(0))
            .map_err(git::git_error("undoing the release commit"))?;
        git.repo
            .reset(parent.as_object(), git2::ResetType::Hard, None)
            .map_err(git::git_error("undoing the release commit"))
    }

    /// `step` failed before the push: the commit is undone, and the error
    /// says whether that worked.
    fn failed(&self, git: &Git, step: &'static str, e: ReleaseError) -> ReleaseError {
        let state = match self.undo(git) {
            Ok(()) => format!(
                "nothing changed: the release commit {} was undone (it stays in the reflog) and no tag was created",
                short_id(self.id)
            ),
            Err(undo) => format!(
                "the release commit {} is still on the branch ({undo}); remove it with `git reset --hard HEAD~1`",
                short_id(self.id)
            ),
        };
        stopped(
            step,
            e,
            &state,
            "fix the cause, then run the same command again",
        )
    }
}

/// Step 6, commit: the manifest and the changelog; a failure restores both.
fn commit(
    git: &Git,
    plan: &Plan,
    edits: &Edits,
    reporter: &dyn Reporter,
) -> Result<Commit, ReleaseError> {
    let Plan { name, version, .. } = plan;
    let id = match git.commit_files(
        &[edits.manifest_rel.clone(), edits.changelog_rel.clone()],
        &format!("chore(release): {name} {version}\n"),
    ) {
        Ok(c) => c,
        Err(e) => {
            edits.undo();
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
        &format!("{} chore(release): {name} {version}", short_id(id)),
    );
    Ok(Commit {
        id,
        tag: plan.tag.clone(),
    })
}

/// A module's archive, built from the release commit, written and signed.
struct Signed {
    built: Built,
    archive: PathBuf,
    signature: String,
}

/// Steps 7–8, package and sign: the archive from the release commit's tree, its
/// signature beside it. A distribution has neither.
fn package_and_sign(
    git: &Git,
    options: &ReleaseOptions,
    plan: &Plan,
    commit: &Commit,
    reporter: &dyn Reporter,
) -> Result<Option<Signed>, ReleaseError> {
    let Some(key) = &plan.key else {
        skip_package_and_sign(reporter);
        return Ok(None);
    };
    let release_commit = git
        .repo
        .find_commit(commit.id)
        .map_err(git::git_error("reading the release commit"))?;
    let built = artifact::build_from_commit(git, &release_commit, &plan.dir)
        .map_err(|e| commit.failed(git, "package", e))?;
    reporter.step(
        "package",
        &format!(
            "{} ({} bytes, SOURCE_DATE_EPOCH={}) sha256 {}",
            built.file_name,
            built.bytes.len(),
            built.source_date_epoch,
            built.sha256
        ),
    );
    let signature = artifact::sign(key, &built.bytes);
    let archive = artifact::write(&options.out_dir, &built, Some(&signature))
        .map_err(|e| commit.failed(git, "sign", e))?;
    reporter.step(
        "sign",
        &format!(
            "{} ({})",
            artifact::signature_path(&archive).display(),
            key.public().fingerprint()
        ),
    );
    Ok(Some(Signed {
        built,
        archive,
        signature,
    }))
}

/// Step 9, tag: annotated, recording the directory, the archive's sha256 and
/// signature, then the changelog section.
fn tag(
    git: &Git,
    plan: &Plan,
    commit: &Commit,
    signed: Option<&Signed>,
    section: &str,
    reporter: &dyn Reporter,
) -> Result<(), ReleaseError> {
    let record = TagRecord {
        name: plan.name.clone(),
        version: plan.version.to_string(),
        path: plan.dir.clone(),
        sha256: signed.map(|s| s.built.sha256.clone()),
        signature: signed.map(|s| s.signature.clone()),
    };
    let message = record.to_message(section);
    if let Err(e) = git.create_tag(&plan.tag, commit.id, &message) {
        return Err(commit.failed(git, "tag", e));
    }
    reporter.step("tag", &format!("{} → {}", plan.tag, short_id(commit.id)));
    Ok(())
}

/// Step 10, push: the commit and the tag together. A tag that got through
/// alone is kept (it is public): the error says how to resume.
fn push(
    git: &Git,
    options: &ReleaseOptions,
    plan: &Plan,
    commit: &Commit,
    reporter: &dyn Reporter,
) -> Result<(), ReleaseError> {
    let (branch, tag) = (&plan.branch, &plan.tag);
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
        return Err(commit.failed(git, "push", e));
    }
    reporter.step(
        "push",
        &format!("{} and {tag} → `{}`", plan.branch_name(), options.remote),
    );
    Ok(())
}

/// Step 11, publish: the tag is public, the archive reproducible from it.
fn publish_release(
    options: &ReleaseOptions,
    plan: &Plan,
    signed: Option<&Signed>,
    notes: &str,
    reporter: &dyn Reporter,
) -> Result<(), ReleaseError> {
    match signed {
        Some(s) => publish(
            options,
            &s.built,
            &plan.tag,
            Some(&s.archive),
            notes,
            reporter,
        ),
        None => {
            reporter.step("publish", &publish_plan(false, &options.forges, ""));
            Ok(())
        }
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

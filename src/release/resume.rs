//! `oent release --resume`: finishing a release whose tag exists, from the
//! tag alone (the archive is rebuilt and checked against the sha256 the tag
//! records, never taken from the work tree).

use super::artifact::{self, TagRecord};
use super::git::Git;
use super::publish::publish;
use super::{
    Kind, ReleaseError, ReleaseOptions, Released, Reporter, load, short_id, short_name, tag_prefix,
};

/// Finishes a release whose tag exists: rebuilds the archive from the tag
/// (checked against the sha256 the tag records), pushes the tag if the
/// remote lacks it, publishes where it is missing.
pub(super) fn resume(
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
        let notes = git
            .tag_message(&tag)
            .map(|m| TagRecord::notes(&m).to_owned())
            .unwrap_or_default();
        publish(options, b, &tag, archive_path.as_deref(), &notes, reporter)?;
    }
    Ok(Released::new(name, &version, tag, archive_path, built))
}

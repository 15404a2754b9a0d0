//! The last step of a release, and of a resumed one: the archive to each
//! forge in turn, through the forge client. The tag is public by then, so a
//! failure stops with the command that finishes the release.

use std::path::Path;

use super::artifact::Built;
use super::{ReleaseError, ReleaseOptions, Reporter, stopped};
use crate::forge::client::{ForgeClient, Published, Upload};
use crate::forge::gitlab::{self, GitLabClient, GitLabError};

/// Publishes the archive to each `--to` forge in turn; a GitLab project's
/// release is described by `notes` (the changelog section of the release).
pub(super) fn publish(
    options: &ReleaseOptions,
    built: &Built,
    tag: &str,
    archive: Option<&Path>,
    notes: &str,
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
        let result = if forge.starts_with(gitlab::SCHEME) {
            to_gitlab(options, forge, &upload, tag, notes)
        } else {
            ForgeClient::new(forge, options.token.clone())
                .and_then(|client| {
                    client.publish_all(
                        std::slice::from_ref(&upload),
                        &crate::registry::fetch::NoProgress,
                        |_, _| {},
                    )
                })
                .map(|outcomes| matches!(outcomes.first(), Some(Published::AlreadyThere)))
                .map_err(|source| ReleaseError::Publish {
                    forge: forge.clone(),
                    source: Box::new(source),
                })
        };
        match result {
            Ok(already_there) => {
                let what = if already_there {
                    "already there (same sha256)"
                } else {
                    "published"
                };
                reporter.step(
                    "publish",
                    &format!(
                        "{forge}: {} {} {what}",
                        built.module.name, built.module.version
                    ),
                );
            }
            Err(error) => {
                return Err(stopped(
                    "publish",
                    error,
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

/// A GitLab project's generic package and release, the release described
/// by the notes; whether it was all there already.
fn to_gitlab(
    options: &ReleaseOptions,
    forge: &str,
    upload: &Upload,
    tag: &str,
    notes: &str,
) -> Result<bool, ReleaseError> {
    let failed = |source: GitLabError| ReleaseError::PublishGitLab {
        forge: forge.to_owned(),
        source: Box::new(source),
    };
    let target = gitlab::Target::parse(forge).map_err(failed)?;
    let auth =
        gitlab::Auth::choose(options.token.clone(), options.job_token.clone()).map_err(failed)?;
    // The tag is the one this release pushed, whatever its prefix.
    let release = gitlab::ReleaseOptions {
        tag_format: tag.to_owned(),
        git_ref: None,
    };
    let client = GitLabClient::new(target, auth, release)
        .map_err(failed)?
        .with_notes(notes);
    let outcomes = client
        .publish_all(
            std::slice::from_ref(upload),
            &crate::registry::fetch::NoProgress,
            |_, _| {},
        )
        .map_err(failed)?;
    Ok(outcomes.iter().all(|o| {
        o.archive == gitlab::Step::AlreadyThere && o.release == gitlab::Step::AlreadyThere
    }))
}

pub(super) fn forge_args(forges: &[String]) -> String {
    forges.iter().map(|f| format!(" --to {f}")).collect()
}

pub(super) fn publish_plan(is_module: bool, forges: &[String], verb: &str) -> String {
    if !is_module {
        "skipped: a distribution is released as a tag; its modules are published on their own"
            .into()
    } else if forges.is_empty() {
        "no forge given (`--to URL`)".into()
    } else {
        format!("{verb} {}", forges.join(", "))
    }
}

//! The last step of a release, and of a resumed one: the archive to each
//! forge in turn, through the forge client. The tag is public by then, so a
//! failure stops with the command that finishes the release.

use std::path::Path;

use super::artifact::Built;
use super::{ReleaseError, ReleaseOptions, Reporter, stopped};
use crate::forge::client::{ForgeClient, Published, Upload};

/// Publishes the archive to each `--to` forge in turn.
pub(super) fn publish(
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

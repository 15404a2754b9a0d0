//! `oent publish` and `oent yank`: the forge client's side. The inputs
//! (module directories, trees of modules, archives) are packed or read,
//! ordered so that a module comes after what it requires, and sent to an
//! oent forge's API or to a GitLab project (`--to gitlab:…`). `cli/` parses
//! the arguments and prints each [`Report`]; what is sent where is decided here.

use std::path::PathBuf;

use crate::forge::client::{self, ClientError, ForgeClient, Upload};
use crate::forge::gitlab::{self, GitLabClient, GitLabError};
use crate::registry::fetch::Progress;
use crate::registry::index::IndexEntry;

/// What `oent publish` was asked.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// Module directories, directories of modules, or `.tar.gz` archives.
    pub inputs: Vec<PathBuf>,
    /// A forge's base URL, or `gitlab:https://HOST/api/v4/projects/ID`.
    pub to: String,
    /// The publish token (GitLab: an access token, sent as PRIVATE-TOKEN).
    pub token: Option<String>,
    /// GitLab only: a CI/CD job token, used when no `token` is set.
    pub job_token: Option<String>,
    /// GitLab only: each module's release tag.
    pub tag_format: String,
    /// GitLab only: what a missing tag is created from.
    pub git_ref: Option<String>,
}

/// One module sent, as the target answered, in the order sent.
#[derive(Debug)]
pub enum Report<'a> {
    Forge(&'a Upload, &'a client::Published),
    GitLab(&'a Upload, &'a gitlab::Outcome),
}

/// How a publication went, once every module was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub created: usize,
    pub already_there: usize,
    /// The forge's URL or the GitLab project's, for the closing line.
    pub place: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishOpError {
    #[error("nothing to publish")]
    Nothing,
    #[error(
        "yanking is for oent forges: GitLab's generic packages have no yank; delete the package in GitLab instead"
    )]
    YankOnGitLab,
    #[error("`{0}`: write the module as namespace/name@version, such as openent/portail@1.4.0")]
    ModuleSpec(String),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    GitLab(#[from] GitLabError),
}

/// `oent publish`: every module of `options.inputs`, in dependency order,
/// to the forge or GitLab project `options.to`; `report` hears of each.
pub fn publish(
    options: PublishOptions,
    progress: &dyn Progress,
    mut report: impl FnMut(Report<'_>),
) -> Result<Summary, PublishOpError> {
    let uploads = client::dependency_order(client::collect(&options.inputs)?)?;
    if uploads.is_empty() {
        return Err(PublishOpError::Nothing);
    }
    if options.to.starts_with(gitlab::SCHEME) {
        return publish_to_gitlab(options, &uploads, progress, report);
    }
    let forge = ForgeClient::new(&options.to, options.token)?;
    let outcomes = forge.publish_all(&uploads, progress, |upload, outcome| {
        report(Report::Forge(upload, outcome))
    })?;
    let created = outcomes
        .iter()
        .filter(|o| **o == client::Published::Created)
        .count();
    Ok(Summary {
        created,
        already_there: outcomes.len() - created,
        place: options.to,
    })
}

/// `--to gitlab:…`: generic packages and a release per module.
fn publish_to_gitlab(
    options: PublishOptions,
    uploads: &[Upload],
    progress: &dyn Progress,
    mut report: impl FnMut(Report<'_>),
) -> Result<Summary, PublishOpError> {
    let target = gitlab::Target::parse(&options.to)?;
    let auth = gitlab::Auth::choose(options.token, options.job_token)?;
    let release = gitlab::ReleaseOptions {
        tag_format: options.tag_format,
        git_ref: options.git_ref,
    };
    let place = target.project_url();
    let gitlab = GitLabClient::new(target, auth, release)?;
    let outcomes = gitlab.publish_all(uploads, progress, |upload, outcome| {
        report(Report::GitLab(upload, outcome))
    })?;
    let created = outcomes
        .iter()
        .filter(|o| o.archive == gitlab::Step::Created)
        .count();
    Ok(Summary {
        created,
        already_there: outcomes.len() - created,
        place,
    })
}

/// `oent yank`: `module` (`namespace/name@version`) yanked on the forge
/// `to`, or unyanked with `undo`; the index line as the forge now has it.
pub fn yank(
    to: &str,
    token: Option<String>,
    module: &str,
    undo: bool,
) -> Result<IndexEntry, PublishOpError> {
    if to.starts_with(gitlab::SCHEME) {
        return Err(PublishOpError::YankOnGitLab);
    }
    let Some((name, version)) = module.split_once('@') else {
        return Err(PublishOpError::ModuleSpec(module.to_owned()));
    };
    let forge = ForgeClient::new(to, token)?;
    Ok(forge.set_yanked(name, version, !undo)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_yank_is_refused_before_any_request_when_it_cannot_be_done() {
        let err = yank(
            "gitlab:https://gitlab.example/api/v4/projects/1",
            None,
            "a/b@1.0.0",
            false,
        )
        .unwrap_err();
        assert!(matches!(err, PublishOpError::YankOnGitLab), "{err}");
        // Port 9 (discard) is never asked: the module is refused first.
        let err = yank("http://127.0.0.1:9", None, "openent/portail", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`openent/portail`: write the module as namespace/name@version, such as openent/portail@1.4.0"
        );
    }

    #[test]
    fn nothing_to_publish_is_said_before_any_request() {
        let options = PublishOptions {
            inputs: Vec::new(),
            to: "http://127.0.0.1:9".into(),
            token: None,
            job_token: None,
            tag_format: gitlab::DEFAULT_TAG_FORMAT.into(),
            git_ref: None,
        };
        let progress = crate::registry::fetch::NoProgress;
        let err = publish(options, &progress, |_| panic!("nothing is sent")).unwrap_err();
        assert!(matches!(err, PublishOpError::Nothing), "{err}");
    }
}

//! `oent contribute … --merge-request`: once the branch is pushed, a merge
//! request on the upstream's GitLab (API v4), so that the contributor never
//! has to go to the forge's web page.
//!
//! The project is the upstream repository's (`https://HOST/GROUP/PROJECT.git`,
//! `git@HOST:GROUP/PROJECT.git` → `https://HOST/api/v4/projects/GROUP%2FPROJECT`),
//! or the one `--merge-request=gitlab:https://HOST/api/v4/projects/ID` names.
//! Requests:
//!
//! 1. `GET /projects/:id/merge_requests?source_branch=B&state=opened`: an
//!    open merge request for the branch is updated (2b), never duplicated;
//! 2. `POST /projects/:id/merge_requests` (source and target branch, title,
//!    description, labels), or `PUT /projects/:id/merge_requests/:iid`
//!    (title, description, labels, target branch).
//!
//! GitLab's refusals are explained: 401/403 (the token), 404 (the project),
//! 409 (an open merge request appeared meanwhile: run again to update it),
//! 422 (a branch GitLab does not have, or source equal to target).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::forge::gitlab::{
    Auth, GitLabError, SCHEME, Target, error_message, segment, unreachable,
};
use crate::registry::http::{CONNECT_TIMEOUT, USER_AGENT, reason};

const TIMEOUT: Duration = Duration::from_secs(60);

/// What the merge request says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeRequest {
    pub source_branch: String,
    pub target_branch: String,
    pub title: String,
    pub description: String,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// `merge request !3`, `pull request #3`.
    pub what: String,
    pub web_url: String,
    pub action: Action,
}

/// The GitLab project of `--merge-request VALUE` when given, else of the
/// upstream repository's URL.
pub fn target(explicit: Option<&str>, repository: &str) -> Result<Target, GitLabError> {
    if let Some(explicit) = explicit {
        return Target::parse(explicit);
    }
    let fail = |reason: &str| GitLabError::Target {
        target: repository.to_owned(),
        reason: Some(format!(
            "{reason}; name the project with --merge-request={SCHEME}https://HOST/api/v4/projects/ID"
        )),
    };
    let (host, path) = if let Some(rest) = repository.strip_prefix("https://") {
        rest.split_once('/')
            .ok_or_else(|| fail("the URL has no project path"))?
    } else if let Some(rest) = repository.strip_prefix("ssh://") {
        let (authority, path) = rest
            .split_once('/')
            .ok_or_else(|| fail("the URL has no project path"))?;
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        // ssh's port is not the API's.
        let host = match host.rsplit_once(':') {
            Some((h, _)) if !h.ends_with(']') || host.starts_with('[') => h,
            _ => host,
        };
        (host, path)
    } else if !repository.contains("://")
        && let Some((before, path)) = repository.split_once(':')
        && !before.contains('/')
    {
        (before.rsplit_once('@').map_or(before, |(_, h)| h), path)
    } else {
        return Err(fail("a GitLab project is reached over https or ssh"));
    };
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    if host.is_empty() || !path.contains('/') {
        return Err(fail("the URL has no GROUP/PROJECT path"));
    }
    Target::parse(&format!("https://{host}/api/v4/projects/{path}"))
}

/// The HTTP client of a forge's API at `url`.
pub(super) fn api_client(url: &str) -> Result<Client, GitLabError> {
    Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| GitLabError::Unreachable {
            url: url.to_owned(),
            reason: reason(&e),
        })
}

/// Creates the merge request, or updates the open one of the same branch.
pub fn open(target: &Target, auth: &Auth, request: &MergeRequest) -> Result<Opened, GitLabError> {
    let http = api_client(&target.project_url())?;
    let base = format!("{}/merge_requests", target.project_url());
    let send = |method: &'static str, url: &str, body: Option<&Value>| {
        let builder = match method {
            "GET" => http.get(url),
            "POST" => http.post(url),
            _ => http.put(url),
        };
        let mut builder = auth.apply(builder);
        if let Some(body) = body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = builder.send().map_err(unreachable(url))?;
        let status = response.status();
        let text = response.text().map_err(unreachable(url))?;
        if !status.is_success() {
            return Err(refused(method, url, status, &text, request));
        }
        Ok((
            status,
            serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
        ))
    };

    let list = format!(
        "{base}?source_branch={}&state=opened",
        segment(&request.source_branch)
    );
    let (_, existing) = send("GET", &list, None)?;
    let existing = existing
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|mr| mr["source_branch"] == request.source_branch.as_str())
        })
        .and_then(|mr| mr["iid"].as_u64());
    let labels = request.labels.join(",");
    let (action, answer) = match existing {
        Some(iid) => {
            let body = json!({
                "title": request.title,
                "description": request.description,
                "labels": labels,
                "target_branch": request.target_branch,
            });
            let (_, answer) = send("PUT", &format!("{base}/{iid}"), Some(&body))?;
            (Action::Updated, answer)
        }
        None => {
            let body = json!({
                "source_branch": request.source_branch,
                "target_branch": request.target_branch,
                "title": request.title,
                "description": request.description,
                "labels": labels,
            });
            let (_, answer) = send("POST", &base, Some(&body))?;
            (Action::Created, answer)
        }
    };
    let (Some(iid), Some(web_url)) = (answer["iid"].as_u64(), answer["web_url"].as_str()) else {
        return Err(GitLabError::Refused {
            method: if action == Action::Created {
                "POST"
            } else {
                "PUT"
            },
            url: base,
            status: 200,
            message: "the answer has no `iid` and `web_url`: is this GitLab's API v4?".into(),
            help: None,
        });
    };
    Ok(Opened {
        what: format!("merge request !{iid}"),
        web_url: web_url.to_owned(),
        action,
    })
}

/// A refusal, with what to do for the statuses a contributor meets.
fn refused(
    method: &'static str,
    url: &str,
    status: StatusCode,
    text: &str,
    request: &MergeRequest,
) -> GitLabError {
    let message = error_message(text);
    let help = match status.as_u16() {
        401 => Some(
            "the token is missing, wrong, revoked or expired: set OENT_TOKEN to a personal or project access token with the `api` scope".to_owned(),
        ),
        403 => Some(
            "the token may not open merge requests on this project: it needs the `api` scope and at least the Developer role (a CI job token cannot open merge requests: use a project access token)".to_owned(),
        ),
        404 => Some(
            "no such project, or the token cannot see it: check the project (--merge-request=gitlab:https://HOST/api/v4/projects/ID)".to_owned(),
        ),
        409 => Some(format!(
            "an open merge request for `{}` was created meanwhile: run the same command again, it updates that one",
            request.source_branch
        )),
        422 => Some(format!(
            "GitLab cannot merge `{}` into `{}`: check that both branches exist on the project (--target-branch names the target)",
            request.source_branch, request.target_branch
        )),
        500..=599 => Some("GitLab failed: run the same command again later".to_owned()),
        _ => None,
    };
    GitLabError::Refused {
        method,
        url: url.to_owned(),
        status: status.as_u16(),
        message,
        help,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_comes_from_the_repository_url() {
        for (url, project) in [
            (
                "https://gitlab.adullact.net/openent/cahier-de-textes.git",
                "openent%2Fcahier-de-textes",
            ),
            (
                "git@gitlab.adullact.net:openent/sub/cahier-de-textes.git",
                "openent%2Fsub%2Fcahier-de-textes",
            ),
            (
                "ssh://git@gitlab.adullact.net:2222/openent/cahier-de-textes",
                "openent%2Fcahier-de-textes",
            ),
        ] {
            let target = target(None, url).unwrap();
            assert_eq!(target.api, "https://gitlab.adullact.net/api/v4", "{url}");
            assert_eq!(target.project, project, "{url}");
        }
        for bad in ["git://h/x.git", "https://h/x.git", "/srv/git/x.git"] {
            assert!(target(None, bad).is_err(), "{bad}");
        }
        let explicit = target(
            Some("gitlab:http://127.0.0.1:8080/api/v4/projects/42"),
            "git://h/x.git",
        )
        .unwrap();
        assert_eq!(explicit.project, "42");
    }
}

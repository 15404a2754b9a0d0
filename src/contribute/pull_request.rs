//! `oent contribute … --merge-request` when upstream is on GitHub: the
//! pushed branch's pull request (REST API, `2022-11-28`).
//!
//! The repository is the upstream URL's (`https://github.com/OWNER/REPO`,
//! `git@github.com:OWNER/REPO.git` → `https://api.github.com/repos/OWNER/REPO`),
//! or the one `--merge-request=github:https://HOST/api/v3/repos/OWNER/REPO`
//! names (GitHub Enterprise). Requests:
//!
//! 1. `GET /repos/OWNER/REPO/pulls?head=OWNER:BRANCH&state=open`: an open
//!    pull request of the branch is updated (`PATCH …/pulls/N`: title, body,
//!    base), never duplicated; otherwise `POST …/pulls` (title, head, base, body);
//! 2. `POST /repos/OWNER/REPO/issues/N/labels` with the labels.
//!
//! The token (`--token`/`OENT_TOKEN`) is sent as `Authorization: Bearer`.

use reqwest::blocking::RequestBuilder;
use serde_json::{Value, json};

use super::merge_request::{Action, MergeRequest, Opened, api_client};
use crate::forge::gitlab::{GitLabError, segment};
use crate::registry::http::reason;

/// What `--merge-request=` starts with to name a GitHub repository.
pub const SCHEME: &str = "github:";

#[derive(Debug, thiserror::Error)]
pub enum PullRequestError {
    #[error(
        "`{target}` is not a GitHub repository ({reason}): write github:https://api.github.com/repos/OWNER/REPO"
    )]
    Target { target: String, reason: String },
    #[error(
        "no token for GitHub: set OENT_TOKEN (or --token) to a token that may write pull requests (fine-grained: `Pull requests: write`; classic: `repo`)"
    )]
    NoToken,
    /// Unreachable, or refused: said as for GitLab (`METHOD URL answered STATUS`).
    #[error(transparent)]
    Http(#[from] GitLabError),
}

/// A GitHub repository's API: `https://api.github.com/repos/OWNER/REPO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    pub api: String,
    pub owner: String,
}

/// The GitHub repository `--merge-request=github:…` names, or the upstream
/// URL's when it is on github.com; None when neither is GitHub.
pub fn repo(explicit: Option<&str>, repository: &str) -> Option<Result<Repo, PullRequestError>> {
    if let Some(explicit) = explicit {
        return explicit
            .strip_prefix(SCHEME)
            .map(|url| parse_api(explicit, url));
    }
    let path = [
        "https://github.com/",
        "ssh://git@github.com/",
        "git@github.com:",
    ]
    .iter()
    .find_map(|prefix| repository.strip_prefix(prefix))?;
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    Some(parse_api(
        repository,
        &format!("https://api.github.com/repos/{path}"),
    ))
}

/// `https://HOST/…/repos/OWNER/REPO` (http only to the local machine).
fn parse_api(target: &str, url: &str) -> Result<Repo, PullRequestError> {
    let fail = |reason: &str| PullRequestError::Target {
        target: target.to_owned(),
        reason: reason.to_owned(),
    };
    let local = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"];
    if !url.starts_with("https://") && !local.iter().any(|l| url.starts_with(l)) {
        return Err(fail("use https: the token would travel in clear"));
    }
    let (_, path) = url
        .split_once("/repos/")
        .ok_or_else(|| fail("the URL has no /repos/"))?;
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let valid = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    match parts.as_slice() {
        [owner, name] if valid(owner) && valid(name) => Ok(Repo {
            api: url.trim_end_matches('/').to_owned(),
            owner: (*owner).to_owned(),
        }),
        _ => Err(fail("OWNER/REPO is not two names")),
    }
}

/// Creates the pull request, or updates the open one of the same branch,
/// then labels it.
pub fn open(repo: &Repo, token: &str, request: &MergeRequest) -> Result<Opened, PullRequestError> {
    let http = api_client(&repo.api)?;
    let send = |method: &'static str, url: &str, body: Option<&Value>| {
        let builder: RequestBuilder = match method {
            "GET" => http.get(url),
            "POST" => http.post(url),
            _ => http.patch(url),
        };
        let mut builder = builder
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        if let Some(body) = body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let unreachable = |e: reqwest::Error| GitLabError::Unreachable {
            url: url.to_owned(),
            reason: reason(&e),
        };
        let response = builder.send().map_err(unreachable)?;
        let status = response.status().as_u16();
        let text = response.text().map_err(unreachable)?;
        if !(200..300).contains(&status) {
            return Err(refused(method, url, status, &text, request));
        }
        Ok(serde_json::from_str::<Value>(&text).unwrap_or(Value::Null))
    };
    let pulls = format!("{}/pulls", repo.api);
    let list = format!(
        "{pulls}?head={}%3A{}&state=open",
        segment(&repo.owner),
        segment(&request.source_branch)
    );
    let existing = send("GET", &list, None)?
        .as_array()
        .and_then(|all| all.first().and_then(|pr| pr["number"].as_u64()));
    let (action, answer) = match existing {
        Some(number) => {
            let body = json!({
                "title": request.title,
                "body": request.description,
                "base": request.target_branch,
            });
            let url = format!("{pulls}/{number}");
            (Action::Updated, send("PATCH", &url, Some(&body))?)
        }
        None => {
            let body = json!({
                "title": request.title,
                "head": request.source_branch,
                "base": request.target_branch,
                "body": request.description,
            });
            (Action::Created, send("POST", &pulls, Some(&body))?)
        }
    };
    let (Some(number), Some(web_url)) = (answer["number"].as_u64(), answer["html_url"].as_str())
    else {
        return Err(GitLabError::Refused {
            method: "POST",
            url: pulls,
            status: 200,
            message: "the answer has no `number` and `html_url`: is this GitHub's REST API?".into(),
            help: None,
        }
        .into());
    };
    if !request.labels.is_empty() {
        let url = format!("{}/issues/{number}/labels", repo.api);
        send("POST", &url, Some(&json!({ "labels": request.labels })))?;
    }
    Ok(Opened {
        what: format!("pull request #{number}"),
        web_url: web_url.to_owned(),
        action,
    })
}

/// GitHub's `{"message": …, "errors": [{"message": …} | {"field": …, "code": …}]}`,
/// with what to do for the statuses a contributor meets.
fn refused(
    method: &'static str,
    url: &str,
    status: u16,
    text: &str,
    request: &MergeRequest,
) -> PullRequestError {
    let parsed: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let mut message = parsed["message"]
        .as_str()
        .map_or_else(|| text.chars().take(200).collect(), str::to_owned);
    let details: Vec<String> = parsed["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| match e["message"].as_str() {
                    Some(m) => m.to_owned(),
                    None => format!(
                        "{} {}",
                        e["field"].as_str().unwrap_or("?"),
                        e["code"].as_str().unwrap_or("invalid")
                    ),
                })
                .collect()
        })
        .unwrap_or_default();
    if !details.is_empty() {
        message = format!("{message}: {}", details.join("; "));
    }
    let help = match status {
        401 => Some("the token is wrong, revoked or expired: set OENT_TOKEN to a valid token".to_owned()),
        403 => Some("the token may not write pull requests on this repository: a fine-grained token needs `Pull requests: write` (and `Issues: write` for labels), a classic one the `repo` scope".to_owned()),
        404 => Some("no such repository, or the token cannot see it: check OWNER/REPO (--merge-request=github:https://api.github.com/repos/OWNER/REPO)".to_owned()),
        422 => Some(format!(
            "GitHub cannot open a pull request of `{}` into `{}`: check that both branches exist; if one is open already, run the same command again to update it",
            request.source_branch, request.target_branch
        )),
        _ => None,
    };
    GitLabError::Refused {
        method,
        url: url.to_owned(),
        status,
        message,
        help,
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_repositories_come_from_the_upstream_url() {
        for url in [
            "https://github.com/openent/cahier-de-textes.git",
            "git@github.com:openent/cahier-de-textes.git",
            "ssh://git@github.com/openent/cahier-de-textes",
        ] {
            let repo = repo(None, url).unwrap().unwrap();
            assert_eq!(
                repo.api,
                "https://api.github.com/repos/openent/cahier-de-textes"
            );
            assert_eq!(repo.owner, "openent");
        }
        assert!(repo(None, "https://gitlab.adullact.net/openent/x.git").is_none());
        assert!(repo(Some("gitlab:https://h/api/v4/projects/1"), "x").is_none());
        let explicit = repo(Some("github:http://127.0.0.1:8080/repos/o/r"), "x");
        assert_eq!(
            explicit.unwrap().unwrap().api,
            "http://127.0.0.1:8080/repos/o/r"
        );
        for bad in [
            "github:http://github.example/repos/o/r",
            "github:https://h/repos/o",
            "github:https://h/o/r",
        ] {
            assert!(repo(Some(bad), "x").unwrap().is_err(), "{bad}");
        }
    }
}

//! A loopback GitHub: one repository's pull requests and their labels, as
//! GitHub's REST API (version 2022-11-28) answers them:
//!
//! - `GET   /repos/OWNER/REPO/pulls?head=OWNER:BRANCH&state=open` → 200 and
//!   the matching pull requests;
//! - `POST  /repos/OWNER/REPO/pulls` (title, head, base, body…) → 201; 422
//!   `Validation Failed` with `{"field":"base","code":"invalid"}` (a branch
//!   the repository lacks: branches are read from its real bare repository)
//!   or `A pull request already exists for OWNER:BRANCH.`;
//! - `PATCH /repos/OWNER/REPO/pulls/N` (title, body, base, state…) → 200;
//! - `POST  /repos/OWNER/REPO/issues/N/labels` `{"labels": […]}` → 200.
//!
//! Every request needs `Authorization: Bearer TOKEN` (401 `Bad credentials`),
//! `Accept: application/vnd.github+json` and `X-GitHub-Api-Version`; a read
//! token's writes are 403. Anything else is recorded as unexpected, which
//! fails the test when the server is dropped. Needs `gitlab_support` (its
//! [`Loopback`] server) declared beside it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::gitlab_support::{Loopback, Request};

pub const OWNER: &str = "openent";
pub const REPO: &str = "x";
pub const TOKEN: &str = "github_pat_oent_test";
/// May read, may not write.
pub const READ_TOKEN: &str = "github_pat_read";

#[derive(Default)]
pub struct Inner {
    pub pulls: Vec<Value>,
    pub repository: PathBuf,
    pub requests: Vec<Request>,
    pub unexpected: Vec<String>,
}

type Shared = Arc<Mutex<Inner>>;

pub struct GitHub {
    pub address: String,
    state: Shared,
    server: Loopback,
}

impl GitHub {
    /// Serving the repository whose bare clone is `repository`.
    pub fn start(repository: &Path) -> GitHub {
        let state: Shared = Arc::new(Mutex::new(Inner {
            repository: repository.to_path_buf(),
            ..Inner::default()
        }));
        let server = Loopback::serve(Router::new().fallback(handle).with_state(state.clone()));
        GitHub {
            address: server.address.clone(),
            state,
            server,
        }
    }

    /// `--merge-request=` for this repository.
    pub fn project(&self) -> String {
        format!("github:http://{}/repos/{OWNER}/{REPO}", self.address)
    }

    pub fn state(&self) -> MutexGuard<'_, Inner> {
        self.state.lock().unwrap()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state().requests.clone()
    }

    pub fn lines(&self) -> Vec<String> {
        self.requests().iter().map(Request::line).collect()
    }

    pub fn clear_requests(&self) {
        self.state().requests.clear();
    }

    pub fn pulls(&self) -> Vec<Value> {
        self.state().pulls.clone()
    }
}

impl Drop for GitHub {
    fn drop(&mut self) {
        self.server.stop();
        Loopback::check_expected("GitHub", &self.state().unexpected);
    }
}

fn answer(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn message(status: u16, text: &str) -> Response {
    answer(
        status,
        json!({ "message": text, "documentation_url": "https://docs.github.com/rest", "status": status.to_string() }),
    )
}

fn invalid(errors: Value) -> Response {
    answer(
        422,
        json!({ "message": "Validation Failed", "errors": errors, "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request", "status": "422" }),
    )
}

fn unexpected(inner: &mut Inner, why: String) -> Response {
    inner.unexpected.push(why);
    message(404, "Not Found")
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 3 <= bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn branch_exists(inner: &Inner, branch: &str) -> bool {
    std::process::Command::new("git")
        .arg("--git-dir")
        .arg(&inner.repository)
        .args(["show-ref", "--quiet", "--verify"])
        .arg(format!("refs/heads/{branch}"))
        .status()
        .is_ok_and(|s| s.success())
}

async fn handle(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = state.lock().unwrap();
    let request = Request {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        auth: None,
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: body.to_vec(),
    };
    let line = request.line();
    inner.requests.push(request.clone());
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if text("accept") != Some("application/vnd.github+json")
        || text("x-github-api-version") != Some("2022-11-28")
    {
        return unexpected(
            &mut inner,
            format!("{line}: Accept or X-GitHub-Api-Version"),
        );
    }
    let token = text("authorization").and_then(|a| a.strip_prefix("Bearer "));
    if !matches!(token, Some(TOKEN | READ_TOKEN)) {
        return message(401, "Bad credentials");
    }
    let prefix = format!("/repos/{OWNER}/{REPO}/");
    let Some(rest) = request.path.strip_prefix(&prefix) else {
        return message(404, "Not Found");
    };
    if method != Method::GET && token == Some(READ_TOKEN) {
        return message(403, "Resource not accessible by personal access token");
    }
    let writes_json = method != Method::GET;
    if writes_json && text("content-type") != Some("application/json") {
        return unexpected(&mut inner, format!("{line}: Content-Type"));
    }
    let body = request.json();
    let segments: Vec<&str> = rest.split('/').collect();
    let allowed: &[&str] = match (&method, segments.as_slice()) {
        (&Method::POST, ["pulls"]) => &[
            "title",
            "head",
            "head_repo",
            "base",
            "body",
            "maintainer_can_modify",
            "draft",
            "issue",
        ],
        (&Method::PATCH, ["pulls", _]) => {
            &["title", "body", "state", "base", "maintainer_can_modify"]
        }
        (&Method::POST, ["issues", _, "labels"]) => &["labels"],
        _ => &[],
    };
    if let Some(object) = body.as_object()
        && let Some(field) = object.keys().find(|k| !allowed.contains(&k.as_str()))
    {
        return unexpected(&mut inner, format!("{line}: unknown field `{field}`"));
    }
    match (method, segments.as_slice()) {
        (Method::GET, ["pulls"]) => {
            let mut head = None;
            let mut state = None;
            for pair in request.query.as_deref().unwrap_or("").split('&') {
                match pair.split_once('=') {
                    Some(("head", v)) => head = Some(decode(v)),
                    Some(("state", v)) => state = Some(decode(v)),
                    _ => return unexpected(&mut inner, format!("{line}: parameter `{pair}`")),
                }
            }
            let found: Vec<Value> = inner
                .pulls
                .iter()
                .filter(|p| {
                    head.as_ref()
                        .is_none_or(|h| p["head"]["label"] == h.as_str())
                })
                .filter(|p| {
                    state
                        .as_ref()
                        .is_none_or(|s| s == "all" || p["state"] == s.as_str())
                })
                .cloned()
                .collect();
            answer(200, Value::Array(found))
        }
        (Method::POST, ["pulls"]) => {
            let field = |k: &str| body[k].as_str().unwrap_or_default().to_owned();
            let (head, base) = (field("head"), field("base"));
            let mut errors = Vec::new();
            for (name, branch) in [("base", &base), ("head", &head)] {
                if !branch_exists(&inner, branch) {
                    errors.push(
                        json!({ "resource": "PullRequest", "field": name, "code": "invalid" }),
                    );
                }
            }
            if !errors.is_empty() {
                return invalid(Value::Array(errors));
            }
            let label = format!("{OWNER}:{head}");
            if inner
                .pulls
                .iter()
                .any(|p| p["state"] == "open" && p["head"]["label"] == label.as_str())
            {
                return invalid(
                    json!([{ "resource": "PullRequest", "code": "custom", "message": format!("A pull request already exists for {label}.") }]),
                );
            }
            let number = inner.pulls.len() as u64 + 1;
            let pull = json!({
                "number": number,
                "html_url": format!("https://github.example/{OWNER}/{REPO}/pull/{number}"),
                "state": "open",
                "title": field("title"),
                "body": body.get("body").cloned().unwrap_or(Value::Null),
                "head": { "ref": head, "label": label },
                "base": { "ref": base, "label": format!("{OWNER}:{base}") },
                "labels": [],
            });
            inner.pulls.push(pull.clone());
            answer(201, pull)
        }
        (Method::PATCH, ["pulls", number]) => {
            let Some(pull) = pull_mut(&mut inner, number) else {
                return message(404, "Not Found");
            };
            for key in ["title", "body"] {
                if let Some(v) = body.get(key) {
                    pull[key] = v.clone();
                }
            }
            if let Some(base) = body["base"].as_str() {
                pull["base"] = json!({ "ref": base, "label": format!("{OWNER}:{base}") });
            }
            answer(200, pull.clone())
        }
        (Method::POST, ["issues", number, "labels"]) => {
            let Some(pull) = pull_mut(&mut inner, number) else {
                return message(404, "Not Found");
            };
            let Some(labels) = body["labels"].as_array() else {
                return invalid(
                    json!([{ "resource": "Label", "field": "labels", "code": "invalid" }]),
                );
            };
            let mut all: Vec<String> = pull["labels"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|l| l["name"].as_str().map(str::to_owned))
                .collect();
            all.extend(labels.iter().filter_map(|l| l.as_str().map(str::to_owned)));
            all.sort();
            all.dedup();
            pull["labels"] = Value::Array(all.iter().map(|n| json!({ "name": n })).collect());
            answer(200, pull["labels"].clone())
        }
        _ => unexpected(&mut inner, format!("{line}: no such GitHub route")),
    }
}

fn pull_mut<'a>(inner: &'a mut Inner, number: &str) -> Option<&'a mut Value> {
    inner
        .pulls
        .iter_mut()
        .find(|p| number.parse().ok() == p["number"].as_u64())
}

//! A loopback GitLab: one project, with just the endpoints `oent publish
//! --to gitlab:…` uses, validated and answered as GitLab's API does
//! (lib/api/generic_packages.rb, lib/api/releases.rb,
//! app/services/releases/create_service.rb, Gitlab::Regex::Packages):
//!
//! - `PUT  /api/v4/projects/:id/packages/generic/:package/:version/:file`
//!   → 201 `{"message":"201 Created"}`, or 200 and the package file's
//!   record with `?select=package_file`; 400 `{"error":"package_name is
//!   invalid"}` (and `package_version`, `file_name`); duplicates are kept
//!   (GitLab's default) unless `duplicates_allowed` is off;
//! - `GET  …/:file` → 200 and the newest file of that name, or 404
//!   `{"message":"404 Not found"}`;
//! - `POST /api/v4/projects/:id/releases` → 201 and the release; 409
//!   `{"message":"Release already exists"}`; 422 `{"message":"Ref is not
//!   specified"}` when the tag is missing and no `ref` is given; 400
//!   `{"error":"tag_name is missing"}`;
//! - `GET  /api/v4/projects/:id/releases/:tag_name` → 200 or 404;
//! - `GET  /api/v4/projects/:id/merge_requests?source_branch=…&state=opened`
//!   → 200 and the matching merge requests (lib/api/merge_requests.rb);
//! - `POST /api/v4/projects/:id/merge_requests` → 201 and the merge request;
//!   400 `{"error":"title is missing"}` (and the branches); 409
//!   `{"message":["Another open merge request already exists for this
//!   source branch: !IID"]}`; 422 `{"message":["Target branch \"x\" does
//!   not exist"]}` (branches are read from the project's real repository,
//!   [`GitLab::with_repository`]), or source equal to target;
//! - `PUT  /api/v4/projects/:id/merge_requests/:iid` → 200 and the merge
//!   request, or 404 `{"message":"404 Not found"}`.
//!
//! Every request needs PRIVATE-TOKEN or JOB-TOKEN (401 `{"message":"401
//! Unauthorized"}` when wrong); a project other than this one is 404
//! `{"message":"404 Project Not Found"}`. Every request is recorded.
//! Anything the client should never send (another path, both token
//! headers, no token, an unknown field) is answered 404 and recorded as
//! unexpected: dropping the server fails the test if there was one.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const PROJECT_ID: u64 = 42;
pub const PROJECT_PATH: &str = "adullact/openent-modules";
pub const PRIVATE_TOKEN: &str = "glpat-oent-test";
pub const JOB_TOKEN: &str = "glcbt-oent-test";
/// A token of a Reporter: may read, may not publish.
pub const REPORTER_TOKEN: &str = "glpat-reporter";

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The raw path, percent-encoding as sent.
    pub path: String,
    pub query: Option<String>,
    /// `("PRIVATE-TOKEN", value)` or `("JOB-TOKEN", value)`.
    pub auth: Option<(&'static str, String)>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    /// `PUT /api/v4/…?select=package_file`.
    pub fn line(&self) -> String {
        match &self.query {
            Some(q) => format!("{} {}?{q}", self.method, self.path),
            None => format!("{} {}", self.method, self.path),
        }
    }
}

struct Failure {
    method: Method,
    path_contains: String,
    status: StatusCode,
    times: usize,
}

#[derive(Default)]
pub struct Inner {
    /// (package, version, file) → every upload of that file, oldest first.
    pub files: BTreeMap<(String, String, String), Vec<Vec<u8>>>,
    pub releases: BTreeMap<String, Value>,
    /// Tags of the repository besides those of [`GitLab::with_repository`].
    pub tags: BTreeSet<String>,
    pub duplicates_allowed: bool,
    /// Answer a wrong `file_sha256` (as if the upload were altered).
    pub corrupt_sha256: bool,
    /// Every merge request, by creation.
    pub merge_requests: Vec<Value>,
    /// The project's bare repository, whose branches a merge request needs.
    pub repository: Option<std::path::PathBuf>,
    /// The next creation finds an open merge request for its branch made
    /// meanwhile by someone else (after the client listed none).
    pub concurrent_merge_request: bool,
    pub requests: Vec<Request>,
    pub unexpected: Vec<String>,
    failures: Vec<Failure>,
    next_id: u64,
}

type Shared = Arc<Mutex<Inner>>;

/// An axum app served on a loopback port by a thread of its own, until
/// stopped (GitLab's here, GitHub's in `github_support`).
pub struct Loopback {
    pub address: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Loopback {
    pub fn serve(app: Router) -> Loopback {
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                address_tx.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let address = address_rx.recv().unwrap().to_string();
        Loopback {
            address,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops the server and waits for its thread.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// After [`Loopback::stop`]: fails the test (unless it fails already)
    /// when the client sent what the API does not document.
    pub fn check_expected(api: &str, unexpected: &[String]) {
        if !std::thread::panicking() {
            assert!(
                unexpected.is_empty(),
                "the client sent requests {api}'s API does not document:\n{}",
                unexpected.join("\n")
            );
        }
    }
}

pub struct GitLab {
    pub address: String,
    state: Shared,
    server: Loopback,
}

impl GitLab {
    pub fn start() -> GitLab {
        let state: Shared = Arc::new(Mutex::new(Inner {
            duplicates_allowed: true,
            next_id: 1,
            ..Inner::default()
        }));
        let server = Loopback::serve(Router::new().fallback(handle).with_state(state.clone()));
        GitLab {
            address: server.address.clone(),
            state,
            server,
        }
    }

    /// `http://127.0.0.1:PORT/api/v4/projects/42`.
    pub fn project_url(&self) -> String {
        format!("http://{}/api/v4/projects/{PROJECT_ID}", self.address)
    }

    /// The same project by its URL-encoded path.
    pub fn project_url_by_path(&self) -> String {
        format!(
            "http://{}/api/v4/projects/{}",
            self.address,
            PROJECT_PATH.replace('/', "%2F")
        )
    }

    /// `--to` for this project.
    pub fn to(&self) -> String {
        format!("gitlab:{}", self.project_url())
    }

    pub fn state(&self) -> MutexGuard<'_, Inner> {
        self.state.lock().unwrap()
    }

    pub fn push_tags(&self, tags: &[&str]) {
        self.state().tags.extend(tags.iter().map(|t| t.to_string()));
    }

    /// The next `times` requests of `method` whose path contains
    /// `path_contains` fail with `status`.
    pub fn fail(&self, method: Method, path_contains: &str, status: u16, times: usize) {
        self.state().failures.push(Failure {
            method,
            path_contains: path_contains.to_owned(),
            status: StatusCode::from_u16(status).unwrap(),
            times,
        });
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state().requests.clone()
    }

    /// `METHOD path?query` of every request, in order.
    pub fn lines(&self) -> Vec<String> {
        self.requests().iter().map(Request::line).collect()
    }

    pub fn clear_requests(&self) {
        self.state().requests.clear();
    }

    /// The newest bytes of a package file.
    pub fn file(&self, package: &str, version: &str, file: &str) -> Option<Vec<u8>> {
        self.state()
            .files
            .get(&(package.into(), version.into(), file.into()))
            .and_then(|v| v.last().cloned())
    }

    pub fn release(&self, tag: &str) -> Option<Value> {
        self.state().releases.get(tag).cloned()
    }

    /// The project's git repository is the bare one at `path`.
    pub fn with_repository(self, path: &std::path::Path) -> GitLab {
        self.state().repository = Some(path.to_path_buf());
        self
    }

    pub fn merge_requests(&self) -> Vec<Value> {
        self.state().merge_requests.clone()
    }
}

impl Drop for GitLab {
    fn drop(&mut self) {
        self.server.stop();
        Loopback::check_expected("GitLab", &self.state().unexpected);
    }
}

fn answer(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn message(status: u16, text: &str) -> Response {
    answer(
        StatusCode::from_u16(status).unwrap(),
        json!({ "message": text }),
    )
}

/// A parameter Grape refused: `{"error": "…"}`, 400.
fn param_error(text: &str) -> Response {
    answer(StatusCode::BAD_REQUEST, json!({ "error": text }))
}

fn unexpected(inner: &mut Inner, why: String) -> Response {
    inner.unexpected.push(why);
    answer(StatusCode::NOT_FOUND, json!({ "error": "404 Not Found" }))
}

/// Percent-decoding, as Rails does for path parameters.
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = segment
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
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

/// `Gitlab::Regex.generic_package_name_regex` (and file names):
/// `\A[A-Za-z0-9\.\_\-\+]+\z`.
fn valid_generic_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+'))
}

/// `Gitlab::Regex.generic_package_version_regex`: `\A(?!.*\.\.)[\w+.-]+\z`.
fn valid_generic_version(version: &str) -> bool {
    !version.is_empty()
        && !version.contains("..")
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'.' | b'-'))
}

/// `Releases::Link::FILEPATH_REGEX`: `\A/(?:[\-\.\w]+/?)*[\da-zA-Z]+\z`, ≤ 128.
fn valid_filepath(path: &str) -> bool {
    path.len() <= 128
        && path.starts_with('/')
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_'))
        && path.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !path.contains("//")
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn handle(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = state.lock().unwrap();
    let text = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap_or("<not ascii>").to_owned())
    };
    let private = text("private-token");
    let job = text("job-token");
    let request = Request {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        auth: match (&private, &job) {
            (Some(t), None) => Some(("PRIVATE-TOKEN", t.clone())),
            (None, Some(t)) => Some(("JOB-TOKEN", t.clone())),
            _ => None,
        },
        content_type: text("content-type"),
        body: body.to_vec(),
    };
    let line = request.line();
    inner.requests.push(request.clone());

    // Authentication comes first in GitLab (lib/api/api_guard.rb).
    if text("authorization").is_some() {
        return unexpected(&mut inner, format!("{line}: an Authorization header"));
    }
    let (token_kind, token) = match request.auth.clone() {
        Some(auth) => auth,
        None => {
            return unexpected(
                &mut inner,
                format!("{line}: needs exactly one of PRIVATE-TOKEN and JOB-TOKEN"),
            );
        }
    };
    let known = match token_kind {
        "PRIVATE-TOKEN" => token == PRIVATE_TOKEN || token == REPORTER_TOKEN,
        _ => token == JOB_TOKEN,
    };
    if !known {
        return message(401, "401 Unauthorized");
    }

    if let Some(failure) = inner
        .failures
        .iter_mut()
        .find(|f| f.times > 0 && f.method == method && request.path.contains(&f.path_contains))
    {
        failure.times -= 1;
        let status = failure.status;
        return message(
            status.as_u16(),
            &format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            ),
        );
    }

    let Some(rest) = request.path.strip_prefix("/api/v4/projects/") else {
        return unexpected(&mut inner, format!("{line}: not under /api/v4/projects/"));
    };
    let Some((project, rest)) = rest.split_once('/') else {
        return unexpected(&mut inner, format!("{line}: no project route"));
    };
    if project != PROJECT_ID.to_string() && decode(project) != PROJECT_PATH {
        return message(404, "404 Project Not Found");
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let writes = method != Method::GET;
    if writes && token == REPORTER_TOKEN {
        return message(403, "403 Forbidden");
    }
    match (method.clone(), segments.as_slice()) {
        (Method::PUT, ["packages", "generic", package, version, file]) => {
            put_file(&mut inner, &line, &request, package, version, file)
        }
        (Method::GET, ["packages", "generic", package, version, file]) => {
            if request.query.is_some() {
                return unexpected(&mut inner, format!("{line}: a query on a download"));
            }
            get_file(&inner, package, version, file)
        }
        (Method::POST, ["releases"]) => create_release(&mut inner, &line, &request),
        (Method::GET, ["releases", tag]) => match inner.releases.get(&decode(tag)) {
            Some(release) => answer(StatusCode::OK, release.clone()),
            None => message(404, "404 Not Found"),
        },
        (Method::GET, ["merge_requests"]) => list_merge_requests(&mut inner, &line, &request),
        (Method::POST, ["merge_requests"]) => create_merge_request(&mut inner, &line, &request),
        (Method::PUT, ["merge_requests", iid]) => {
            update_merge_request(&mut inner, &line, &request, iid)
        }
        _ => unexpected(&mut inner, format!("{line}: no such GitLab route")),
    }
}

/// Grape's refusal of the path's parameters, if any: `{"error": "… is invalid"}`.
fn check_generic(package: &str, version: &str, file: &str) -> Option<Response> {
    let invalid = if !valid_generic_name(package) {
        "package_name"
    } else if !valid_generic_version(version) {
        "package_version"
    } else if !valid_generic_name(file) {
        "file_name"
    } else {
        return None;
    };
    Some(param_error(&format!("{invalid} is invalid")))
}

fn put_file(
    inner: &mut Inner,
    line: &str,
    request: &Request,
    package: &str,
    version: &str,
    file: &str,
) -> Response {
    let (package, version, file) = (decode(package), decode(version), decode(file));
    let mut select = None;
    for pair in request.query.as_deref().unwrap_or("").split('&') {
        match pair.split_once('=') {
            Some(("select", value)) => select = Some(value.to_owned()),
            Some(("status", "default" | "hidden")) => {}
            None if pair.is_empty() => {}
            _ => return unexpected(inner, format!("{line}: unknown parameter `{pair}`")),
        }
    }
    if let Some(response) = check_generic(&package, &version, &file) {
        return response;
    }
    if select.as_deref().is_some_and(|s| s != "package_file") {
        return param_error("select does not have a valid value");
    }
    if request.body.is_empty() {
        return param_error("file is missing");
    }
    let key = (package.clone(), version.clone(), file.clone());
    if !inner.duplicates_allowed && inner.files.contains_key(&key) {
        return message(400, "400 Bad request - Duplicate package is not allowed");
    }
    let package_id = inner
        .files
        .keys()
        .position(|(p, v, _)| *p == package && *v == version)
        .unwrap_or(inner.files.len()) as u64
        + 1;
    inner
        .files
        .entry(key)
        .or_default()
        .push(request.body.clone());
    let id = inner.next_id;
    inner.next_id += 1;
    if select.is_none() {
        return message(201, "201 Created");
    }
    let sha = if inner.corrupt_sha256 {
        sha256(b"something else")
    } else {
        sha256(&request.body)
    };
    // Grape answers 200 to a PUT that presents an entity.
    answer(
        StatusCode::OK,
        json!({
            "id": id,
            "package_id": package_id,
            "created_at": "2026-09-01T10:00:00.000Z",
            "updated_at": "2026-09-01T10:00:00.000Z",
            "size": request.body.len(),
            "file_store": 1,
            "file_md5": null,
            "file_sha1": null,
            "file_name": file,
            "file": { "url": format!("/{}/packages/{package_id}/files/{id}/{file}", &sha[..4]) },
            "file_sha256": sha,
            "verification_retry_at": null,
            "verified_at": null,
            "verification_failure": null,
            "verification_retry_count": null,
            "verification_checksum": null,
            "verification_state": 0,
            "verification_started_at": null,
            "status": "default",
            "new_file_path": null
        }),
    )
}

fn get_file(inner: &Inner, package: &str, version: &str, file: &str) -> Response {
    let (package, version, file) = (decode(package), decode(version), decode(file));
    if let Some(response) = check_generic(&package, &version, &file) {
        return response;
    }
    match inner
        .files
        .get(&(package, version, file.clone()))
        .and_then(|v| v.last())
    {
        Some(bytes) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{file}\""),
                ),
                (
                    header::HeaderName::from_static("x-checksum-sha256"),
                    sha256(bytes),
                ),
            ],
            bytes.clone(),
        )
            .into_response(),
        // PackageFinder#execute! / PackageFileFinder#execute! raise
        // RecordNotFound, which lib/api/api.rb answers so.
        None => message(404, "404 Not found"),
    }
}

const RELEASE_FIELDS: &[&str] = &[
    "tag_name",
    "tag_message",
    "name",
    "description",
    "ref",
    "assets",
    "milestones",
    "milestone_ids",
    "released_at",
];
const LINK_FIELDS: &[&str] = &["name", "url", "direct_asset_path", "filepath", "link_type"];

fn create_release(inner: &mut Inner, line: &str, request: &Request) -> Response {
    if request.content_type.as_deref() != Some("application/json") {
        return unexpected(
            inner,
            format!("{line}: Content-Type {:?}", request.content_type),
        );
    }
    let Value::Object(body) = request.json() else {
        return param_error("the body is not a JSON object");
    };
    if let Some(field) = body.keys().find(|k| !RELEASE_FIELDS.contains(&k.as_str())) {
        return unexpected(inner, format!("{line}: unknown field `{field}`"));
    }
    let Some(tag) = body.get("tag_name").and_then(Value::as_str) else {
        return param_error("tag_name is missing");
    };
    let links = body
        .get("assets")
        .and_then(|a| a.get("links"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, link) in links.iter().enumerate() {
        let Value::Object(link) = link else {
            return param_error(&format!("assets[links][{i}] is invalid"));
        };
        if let Some(field) = link.keys().find(|k| !LINK_FIELDS.contains(&k.as_str())) {
            return unexpected(inner, format!("{line}: unknown link field `{field}`"));
        }
        for required in ["name", "url"] {
            if !link.get(required).is_some_and(Value::is_string) {
                return param_error(&format!("assets[links][{i}][{required}] is missing"));
            }
        }
    }
    // Releases::CreateService: the checks, in its order.
    if inner.releases.contains_key(tag) {
        return message(409, "Release already exists");
    }
    if !inner.tags.contains(tag) && !ref_exists(inner, &format!("refs/tags/{tag}")) {
        if body.get("ref").and_then(Value::as_str).is_none() {
            return message(422, "Ref is not specified");
        }
        inner.tags.insert(tag.to_owned());
    }
    // Releases::Link validations, answered as the service's rescue does.
    let mut seen = BTreeSet::new();
    for link in &links {
        let url = link["url"].as_str().unwrap_or_default();
        if !["http://", "https://", "ftp://"]
            .iter()
            .any(|s| url.starts_with(s))
        {
            return message(
                400,
                "Validation failed: Links url is blocked: Only allowed schemes are http, https, ftp",
            );
        }
        if let Some(path) = link.get("direct_asset_path").and_then(Value::as_str)
            && !valid_filepath(path)
        {
            return message(
                400,
                "Validation failed: Links filepath is in an invalid format",
            );
        }
        if !matches!(
            link.get("link_type")
                .and_then(Value::as_str)
                .unwrap_or("other"),
            "other" | "runbook" | "package" | "image"
        ) {
            return message(
                400,
                "Validation failed: Links link type is not included in the list",
            );
        }
        if !seen.insert(url.to_owned()) || !seen.insert(format!("name:{}", link["name"])) {
            return message(400, "Validation failed: Links url has already been taken");
        }
    }
    let links: Vec<Value> = links
        .iter()
        .enumerate()
        .map(|(i, link)| {
            json!({
                "id": i + 1,
                "name": link["name"],
                "url": link["url"],
                "direct_asset_url": link.get("direct_asset_path").and_then(Value::as_str)
                    .map(|p| format!("http://gitlab.example/{PROJECT_PATH}/-/releases/{tag}/downloads{p}"))
                    .unwrap_or_else(|| link["url"].as_str().unwrap_or_default().to_owned()),
                "link_type": link.get("link_type").cloned().unwrap_or(json!("other")),
            })
        })
        .collect();
    let release = json!({
        "tag_name": tag,
        "name": body.get("name").cloned().unwrap_or(json!(tag)),
        "description": body.get("description").cloned().unwrap_or(Value::Null),
        "created_at": "2026-09-01T10:00:00.000Z",
        "released_at": "2026-09-01T10:00:00.000Z",
        "upcoming_release": false,
        "assets": { "count": links.len(), "sources": [], "links": links },
    });
    inner.releases.insert(tag.to_owned(), release.clone());
    answer(StatusCode::CREATED, release)
}

/// What creating and updating a merge request both take, besides their own.
const MR_COMMON_FIELDS: &[&str] = &[
    "title",
    "description",
    "labels",
    "target_branch",
    "assignee_id",
    "assignee_ids",
    "reviewer_ids",
    "milestone_id",
    "remove_source_branch",
    "squash",
    "allow_collaboration",
];
const MR_CREATE_FIELDS: &[&str] = &["source_branch", "target_project_id"];
const MR_UPDATE_FIELDS: &[&str] = &[
    "add_labels",
    "remove_labels",
    "state_event",
    "discussion_locked",
];

/// The JSON object of a merge request write, its fields among `allowed` and the common ones.
#[allow(clippy::result_large_err)] // a test server's answer, built once
fn json_body(
    inner: &mut Inner,
    line: &str,
    request: &Request,
    allowed: &[&str],
) -> Result<serde_json::Map<String, Value>, Response> {
    if request.content_type.as_deref() != Some("application/json") {
        return Err(unexpected(
            inner,
            format!("{line}: Content-Type {:?}", request.content_type),
        ));
    }
    let Value::Object(body) = request.json() else {
        return Err(param_error("the body is not a JSON object"));
    };
    if let Some(field) = body
        .keys()
        .find(|k| !allowed.contains(&k.as_str()) && !MR_COMMON_FIELDS.contains(&k.as_str()))
    {
        return Err(unexpected(
            inner,
            format!("{line}: unknown field `{field}`"),
        ));
    }
    if let Some(labels) = body.get("labels")
        && !labels.is_string()
        && !labels.is_array()
    {
        return Err(param_error("labels is invalid"));
    }
    Ok(body)
}

fn branch_exists(inner: &Inner, branch: &str) -> bool {
    ref_exists(inner, &format!("refs/heads/{branch}"))
}

/// Whether the project's repository has `reference` (`refs/heads/…`, `refs/tags/…`).
fn ref_exists(inner: &Inner, reference: &str) -> bool {
    let Some(repository) = &inner.repository else {
        return false;
    };
    std::process::Command::new("git")
        .arg("--git-dir")
        .arg(repository)
        .args(["show-ref", "--quiet", "--verify", reference])
        .status()
        .is_ok_and(|s| s.success())
}

/// Comma-separated (or an array), as GitLab stores them: trimmed, sorted.
fn labels_of(value: Option<&Value>) -> Vec<Value> {
    let mut labels: Vec<String> = match value {
        Some(Value::String(s)) => s.split(',').map(|l| l.trim().to_owned()).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    labels.retain(|l| !l.is_empty());
    labels.sort();
    labels.dedup();
    labels.into_iter().map(Value::String).collect()
}

fn list_merge_requests(inner: &mut Inner, line: &str, request: &Request) -> Response {
    let mut source = None;
    let mut state = None;
    for pair in request.query.as_deref().unwrap_or("").split('&') {
        match pair.split_once('=') {
            Some(("source_branch", v)) => source = Some(decode(v)),
            Some(("state", v)) => state = Some(decode(v)),
            None if pair.is_empty() => {}
            _ => return unexpected(inner, format!("{line}: unknown parameter `{pair}`")),
        }
    }
    let found: Vec<Value> = inner
        .merge_requests
        .iter()
        .filter(|mr| {
            source
                .as_ref()
                .is_none_or(|s| mr["source_branch"] == s.as_str())
        })
        .filter(|mr| {
            state
                .as_ref()
                .is_none_or(|s| s == "all" || mr["state"] == s.as_str())
        })
        .rev()
        .cloned()
        .collect();
    answer(StatusCode::OK, Value::Array(found))
}

fn create_merge_request(inner: &mut Inner, line: &str, request: &Request) -> Response {
    let body = match json_body(inner, line, request, MR_CREATE_FIELDS) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    let (Some(source), Some(target), Some(title)) =
        (text("source_branch"), text("target_branch"), text("title"))
    else {
        let missing = ["source_branch", "target_branch", "title"]
            .into_iter()
            .find(|k| text(k).is_none())
            .unwrap_or_default();
        return param_error(&format!("{missing} is missing"));
    };
    if inner.concurrent_merge_request {
        inner.concurrent_merge_request = false;
        let other = merge_request_json(inner, &source, &target, "Autre contribution", "", vec![]);
        inner.merge_requests.push(other);
    }
    // MergeRequest#validate_branches, answered by handle_merge_request_errors!.
    let invalid = |text: String| {
        answer(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "message": [text] }),
        )
    };
    if source == target {
        return invalid("You can't use same project/branch for source and target".into());
    }
    if !branch_exists(inner, &target) {
        return invalid(format!("Target branch \"{target}\" does not exist"));
    }
    if !branch_exists(inner, &source) {
        return invalid(format!("Source branch \"{source}\" does not exist"));
    }
    if let Some(open) = inner.merge_requests.iter().find(|mr| {
        mr["state"] == "opened"
            && mr["source_branch"] == source.as_str()
            && mr["target_branch"] == target.as_str()
    }) {
        return answer(
            StatusCode::CONFLICT,
            json!({ "message": [format!("Another open merge request already exists for this source branch: !{}", open["iid"])] }),
        );
    }
    let description = text("description").unwrap_or_default();
    let labels = labels_of(body.get("labels"));
    let mr = merge_request_json(inner, &source, &target, &title, &description, labels);
    inner.merge_requests.push(mr.clone());
    answer(StatusCode::CREATED, mr)
}

fn merge_request_json(
    inner: &mut Inner,
    source: &str,
    target: &str,
    title: &str,
    description: &str,
    labels: Vec<Value>,
) -> Value {
    let iid = inner.merge_requests.len() as u64 + 1;
    let id = inner.next_id;
    inner.next_id += 1;
    json!({
        "id": id,
        "iid": iid,
        "project_id": PROJECT_ID,
        "source_project_id": PROJECT_ID,
        "target_project_id": PROJECT_ID,
        "title": title,
        "description": description,
        "state": "opened",
        "source_branch": source,
        "target_branch": target,
        "labels": labels,
        "draft": false,
        "web_url": format!("http://gitlab.example/{PROJECT_PATH}/-/merge_requests/{iid}"),
    })
}

fn update_merge_request(inner: &mut Inner, line: &str, request: &Request, iid: &str) -> Response {
    let body = match json_body(inner, line, request, MR_UPDATE_FIELDS) {
        Ok(body) => body,
        Err(response) => return response,
    };
    if body.is_empty() {
        return param_error(
            "assignee_id, assignee_ids, reviewer_ids, description, state_event, target_branch, title, labels, add_labels, remove_labels, milestone_id, remove_source_branch, allow_collaboration, squash, discussion_locked are missing, at least one parameter must be provided",
        );
    }
    let target = body
        .get("target_branch")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(target) = &target
        && !branch_exists(inner, target)
    {
        return answer(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "message": [format!("Target branch \"{target}\" does not exist")] }),
        );
    }
    let Some(mr) = inner
        .merge_requests
        .iter_mut()
        .find(|mr| mr["iid"].as_u64().is_some_and(|n| n.to_string() == iid))
    else {
        return message(404, "404 Not found");
    };
    for key in ["title", "description", "target_branch"] {
        if let Some(value) = body.get(key).and_then(Value::as_str) {
            mr[key] = json!(value);
        }
    }
    if body.contains_key("labels") {
        mr["labels"] = Value::Array(labels_of(body.get("labels")));
    }
    answer(StatusCode::OK, mr.clone())
}

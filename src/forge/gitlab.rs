//! `oent publish --to gitlab:https://HOST/api/v4/projects/ID`: publishing to
//! a GitLab project (the Adullact forge is one) instead of an oent forge.
//!
//! Each module becomes a generic package of the project (GitLab's
//! "generic packages repository"): package `<namespace>-<name>`, version
//! the module's, two files: the archive `<name>-<version>.tar.gz` and its
//! `.sha256`. Then the release of the module's tag is created, with links
//! to both files. Requests, per module:
//!
//! 1. `GET  /projects/:id/packages/generic/:package/:version/:file`: is the
//!    archive already there? The same sha256 → skipped; other bytes → refused
//!    (versions are immutable; GitLab itself would keep both files);
//! 2. `PUT  …/:file?select=package_file`: upload, and check the sha256 GitLab
//!    computed;
//! 3. the same two for `:file.sha256`;
//! 4. `POST /projects/:id/releases`; on 409 (the release exists),
//!    `GET /projects/:id/releases/:tag_name` and accept it when it links
//!    the archive.
//!
//! Names and versions are checked against GitLab's rules before any
//! request, so a batch is refused whole rather than half published.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

use super::client::Upload;
use crate::package::archive::archive_file_name;
use crate::package::checksum::{sha256_hex, sha256sum_line};
use crate::registry::fetch::Progress;
use crate::registry::http::{CONNECT_TIMEOUT, USER_AGENT, reason};

/// What `--to` starts with to mean a GitLab project.
pub const SCHEME: &str = "gitlab:";

/// The tag of a module's release, unless `--tag-format` says otherwise:
/// the convention of `oent release` in a repository of several modules.
pub const DEFAULT_TAG_FORMAT: &str = "{name}-v{version}";

/// Long enough for a large archive on a slow link.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum GitLabError {
    #[error(
        "`{target}` is not a GitLab project: write gitlab:https://HOST/api/v4/projects/ID, where ID is the project's number or its path URL-encoded (group%2Fproject){}",
        .reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
    )]
    Target {
        target: String,
        reason: Option<String>,
    },
    #[error(
        "no token for GitLab: set OENT_TOKEN (or --token) to an access token with the `api` scope, sent as PRIVATE-TOKEN; in GitLab CI, CI_JOB_TOKEN (or --job-token) is used, sent as JOB-TOKEN"
    )]
    NoToken,
    #[error("{module} {version}: GitLab would refuse the {what} `{value}`: {rule}")]
    Invalid {
        module: String,
        version: String,
        what: &'static str,
        value: String,
        rule: String,
    },
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{method} {url} answered {status}: {message}{}", .help.as_ref().map(|h| format!("\nhelp: {h}")).unwrap_or_default())]
    Refused {
        method: &'static str,
        url: String,
        status: u16,
        message: String,
        help: Option<String>,
    },
    #[error(
        "{url} already holds other bytes (sha256 {theirs}, yours {ours}); versions are immutable: bump the version of {module}"
    )]
    AlreadyDifferent {
        url: String,
        module: String,
        theirs: String,
        ours: String,
    },
    #[error(
        "GitLab stored {url} with sha256 {theirs}, but the file sent has {ours}: the upload was altered on the way; delete the package file in GitLab and publish again"
    )]
    ChecksumMismatch {
        url: String,
        theirs: String,
        ours: String,
    },
    #[error(
        "the release {tag} already exists on the project but does not link {url} (it links: {links}); add the link in GitLab, or choose another tag with --tag-format"
    )]
    ReleaseDiffers {
        tag: String,
        url: String,
        links: String,
    },
}

/// A GitLab project's API: `https://HOST/api/v4/projects/ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `https://HOST/api/v4`.
    pub api: String,
    /// The project's ID as it goes in a path: a number, or the project's
    /// path with its slashes encoded (`group%2Fproject`).
    pub project: String,
}

impl Target {
    /// Parses `--to`, with or without its `gitlab:` prefix. A project path
    /// given with plain slashes (`…/projects/group/project`) is encoded.
    /// A token is only sent in clear (`http:`) to the local machine.
    pub fn parse(to: &str) -> Result<Target, GitLabError> {
        let fail = |reason: &str| GitLabError::Target {
            target: to.to_owned(),
            reason: Some(reason.to_owned()),
        };
        let url = to.strip_prefix(SCHEME).unwrap_or(to);
        let rest = if let Some(rest) = url.strip_prefix("https://") {
            rest
        } else if let Some(rest) = url.strip_prefix("http://") {
            let host = if rest.starts_with("[::1]") {
                "[::1]"
            } else {
                rest.split(['/', ':']).next().unwrap_or_default()
            };
            if !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
                return Err(fail("use https: the token would travel in clear over http"));
            }
            rest
        } else {
            return Err(fail("the URL must start with https://"));
        };
        let Some((host, project)) = rest.split_once("/api/v4/projects/") else {
            return Err(fail("the URL has no /api/v4/projects/"));
        };
        let project = project.trim_end_matches('/');
        if host.is_empty() || project.is_empty() {
            return Err(fail("the host or the project ID is missing"));
        }
        if let Some(bad) = project
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-._~%/".contains(*c)))
        {
            return Err(fail(&format!("the project ID contains `{bad}`")));
        }
        let scheme_len = url.len() - rest.len();
        Ok(Target {
            api: format!("{}{host}/api/v4", &url[..scheme_len]),
            project: project.replace('/', "%2F"),
        })
    }

    /// `https://HOST/api/v4/projects/ID`.
    pub fn project_url(&self) -> String {
        format!("{}/projects/{}", self.api, self.project)
    }
}

/// How requests are authenticated: GitLab takes a personal, project or
/// group access token as `PRIVATE-TOKEN`, and a CI/CD job's token as
/// `JOB-TOKEN`.
#[derive(Clone)]
pub enum Auth {
    Private(String),
    Job(String),
}

impl Auth {
    /// `--token`/OENT_TOKEN first (it is the one a user sets on purpose;
    /// CI_JOB_TOKEN is in every GitLab CI job), then the job token.
    pub fn choose(token: Option<String>, job_token: Option<String>) -> Result<Auth, GitLabError> {
        let present = |t: &Option<String>| t.as_ref().is_some_and(|t| !t.is_empty());
        if present(&token) {
            Ok(Auth::Private(token.unwrap_or_default()))
        } else if present(&job_token) {
            Ok(Auth::Job(job_token.unwrap_or_default()))
        } else {
            Err(GitLabError::NoToken)
        }
    }

    pub fn header_name(&self) -> &'static str {
        match self {
            Auth::Private(_) => "PRIVATE-TOKEN",
            Auth::Job(_) => "JOB-TOKEN",
        }
    }

    pub(crate) fn apply(&self, request: RequestBuilder) -> RequestBuilder {
        match self {
            Auth::Private(t) | Auth::Job(t) => request.header(self.header_name(), t),
        }
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: …", self.header_name())
    }
}

/// Where one module goes in the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// `openent-portail`.
    pub package: String,
    /// `1.4.0`.
    pub version: String,
    /// `portail-1.4.0.tar.gz`.
    pub file: String,
    /// `portail-1.4.0.tar.gz.sha256`.
    pub checksum_file: String,
    /// `portail-v1.4.0`.
    pub tag: String,
}

impl Names {
    /// The names of `upload`, each checked against GitLab's rules.
    pub fn of(upload: &Upload, tag_format: &str) -> Result<Names, GitLabError> {
        let module = &upload.module;
        let version = module.version.to_string();
        let names = Names {
            package: module.name.slug(),
            file: archive_file_name(module),
            checksum_file: format!("{}.sha256", archive_file_name(module)),
            tag: tag_format
                .replace("{namespace}", module.name.namespace())
                .replace("{name}", module.name.short_name())
                .replace("{version}", &version),
            version,
        };
        let invalid = |what: &'static str, value: &str, rule: String| GitLabError::Invalid {
            module: module.name.to_string(),
            version: names.version.clone(),
            what,
            value: value.to_owned(),
            rule,
        };
        check_package_name(&names.package)
            .map_err(|r| invalid("package name", &names.package, r))?;
        check_version(&names.version).map_err(|r| invalid("package version", &names.version, r))?;
        for file in [&names.file, &names.checksum_file] {
            check_package_name(file).map_err(|r| invalid("file name", file, r))?;
        }
        check_tag(&names.tag).map_err(|r| invalid("tag", &names.tag, r))?;
        Ok(names)
    }
}

/// GitLab's `generic_package_name_regex`, which file names also follow:
/// `\A[A-Za-z0-9\.\_\-\+]+\z`.
pub fn check_package_name(name: &str) -> Result<(), String> {
    let rule = "only letters, digits, '.', '_', '-' and '+'";
    if name.is_empty() {
        return Err(format!("it is empty ({rule})"));
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._-+".contains(*c)))
    {
        Some(bad) => Err(format!("it contains `{bad}` ({rule})")),
        None => Ok(()),
    }
}

/// GitLab's `generic_package_version_regex`: `\A(?!.*\.\.)[\w+.-]+\z`
/// (ASCII word characters, '+', '.', '-'; never "..").
pub fn check_version(version: &str) -> Result<(), String> {
    let rule = "only letters, digits, '_', '+', '.' and '-', and never \"..\"";
    if version.is_empty() {
        return Err(format!("it is empty ({rule})"));
    }
    if let Some(bad) = version
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_+.-".contains(*c)))
    {
        return Err(format!("it contains `{bad}` ({rule})"));
    }
    if version.contains("..") {
        return Err(format!("it contains \"..\" ({rule})"));
    }
    Ok(())
}

/// The rules of `git check-ref-format` a tag name must follow, and no '/'
/// (GitLab's release routes take the tag as one path segment).
pub fn check_tag(tag: &str) -> Result<(), String> {
    if tag.is_empty() {
        return Err("it is empty".into());
    }
    if let Some(bad) = tag
        .chars()
        .find(|c| c.is_ascii_control() || " ~^:?*[\\/".contains(*c) || !c.is_ascii())
    {
        return Err(format!(
            "it contains `{}`, which a git tag cannot hold",
            bad.escape_default()
        ));
    }
    for (bad, why) in [("..", "\"..\""), ("@{", "\"@{\"")] {
        if tag.contains(bad) {
            return Err(format!("a git tag cannot contain {why}"));
        }
    }
    if tag.starts_with(['-', '.']) || tag.ends_with('.') || tag.ends_with(".lock") || tag == "@" {
        return Err("a git tag cannot start with '-' or '.', nor end with '.' or \".lock\"".into());
    }
    Ok(())
}

/// The permanent link GitLab gives a release asset
/// (`/-/releases/TAG/downloads/FILE`), when the file name fits GitLab's
/// rule for it (`\A/(?:[\-\.\w]+/?)*[\da-zA-Z]+\z`, at most 128
/// characters): a build's '+' does not, and such a link is made without it.
pub fn direct_asset_path(file: &str) -> Option<String> {
    let fits = file.len() < 128
        && file
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
        && file.ends_with(|c: char| c.is_ascii_alphanumeric());
    fits.then(|| format!("/{file}"))
}

/// A path segment: everything but unreserved characters percent-encoded
/// (so a build's '+' is `%2B`, never read as a space).
pub(crate) fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What happened to one file or release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Created,
    AlreadyThere,
}

/// What happened to one module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub names: Names,
    pub archive: Step,
    pub checksum: Step,
    pub release: Step,
    /// The archive's URL in the package registry.
    pub url: String,
}

/// Options of the release created for each module.
#[derive(Debug, Clone)]
pub struct ReleaseOptions {
    /// `{namespace}`, `{name}` and `{version}` are replaced.
    pub tag_format: String,
    /// The branch or commit GitLab creates a missing tag from; without it
    /// the tag must exist (`oent release` pushes it before publishing).
    pub git_ref: Option<String>,
}

impl Default for ReleaseOptions {
    fn default() -> Self {
        ReleaseOptions {
            tag_format: DEFAULT_TAG_FORMAT.to_owned(),
            git_ref: None,
        }
    }
}

pub struct GitLabClient {
    target: Target,
    auth: Auth,
    release: ReleaseOptions,
    http: Client,
    /// The release notes, when `oent release` publishes: the release's description.
    notes: Option<String>,
}

impl GitLabClient {
    pub fn new(
        target: Target,
        auth: Auth,
        release: ReleaseOptions,
    ) -> Result<GitLabClient, GitLabError> {
        let http = Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(UPLOAD_TIMEOUT)
            .build()
            .map_err(|e| GitLabError::Unreachable {
                url: target.project_url(),
                reason: reason(&e),
            })?;
        Ok(GitLabClient {
            target,
            auth,
            release,
            http,
            notes: None,
        })
    }

    /// The releases created describe themselves with `notes` (a release's
    /// changelog section), then the archive.
    pub fn with_notes(mut self, notes: &str) -> GitLabClient {
        self.notes = Some(notes.trim().to_owned()).filter(|n| !n.is_empty());
        self
    }

    /// The names of every upload, checked before anything is sent.
    pub fn plan(&self, uploads: &[Upload]) -> Result<Vec<Names>, GitLabError> {
        uploads
            .iter()
            .map(|u| Names::of(u, &self.release.tag_format))
            .collect()
    }

    /// Publishes every upload in order (give them in dependency order);
    /// stops at the first failure. What was published stays, and a rerun
    /// skips it.
    pub fn publish_all(
        &self,
        uploads: &[Upload],
        progress: &dyn Progress,
        mut report: impl FnMut(&Upload, &Outcome),
    ) -> Result<Vec<Outcome>, GitLabError> {
        let plan = self.plan(uploads)?;
        progress.start(uploads.len() as u64);
        let mut outcomes = Vec::with_capacity(uploads.len());
        for (upload, names) in uploads.iter().zip(plan) {
            let outcome = self.publish_one(upload, names)?;
            report(upload, &outcome);
            progress.advance(1);
            outcomes.push(outcome);
        }
        progress.finish();
        Ok(outcomes)
    }

    fn publish_one(&self, upload: &Upload, names: Names) -> Result<Outcome, GitLabError> {
        let module = format!("{} {}", upload.module.name, upload.module.version);
        let archive = self.put_file(&names, &names.file, &upload.bytes, &module)?;
        let line = sha256sum_line(&upload.sha256, &names.file);
        let checksum = self.put_file(&names, &names.checksum_file, line.as_bytes(), &module)?;
        let url = self.file_url(&names, &names.file);
        let release = self.create_release(upload, &names, &url)?;
        Ok(Outcome {
            names,
            archive,
            checksum,
            release,
            url,
        })
    }

    fn file_url(&self, names: &Names, file: &str) -> String {
        format!(
            "{}/packages/generic/{}/{}/{}",
            self.target.project_url(),
            segment(&names.package),
            segment(&names.version),
            segment(file)
        )
    }

    /// Uploads `bytes` as `file` unless the package already holds it.
    fn put_file(
        &self,
        names: &Names,
        file: &str,
        bytes: &[u8],
        module: &str,
    ) -> Result<Step, GitLabError> {
        let url = self.file_url(names, file);
        let ours = sha256_hex(bytes);
        if let Some(theirs) = self.download(&url)? {
            let theirs = sha256_hex(&theirs);
            if theirs == ours {
                return Ok(Step::AlreadyThere);
            }
            return Err(GitLabError::AlreadyDifferent {
                url,
                module: module.to_owned(),
                theirs,
                ours,
            });
        }
        let put = format!("{url}?select=package_file");
        let response = self
            .auth
            .apply(self.http.put(&put))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .map_err(unreachable(&put))?;
        let status = response.status();
        if !(status == StatusCode::OK || status == StatusCode::CREATED) {
            return Err(refused("PUT", &put, response));
        }
        // With select=package_file GitLab answers the package file's record;
        // its sha256 is the one it computed from what it received.
        let record: Value =
            serde_json::from_str(&response.text().unwrap_or_default()).unwrap_or(Value::Null);
        if let Some(theirs) = record["file_sha256"].as_str()
            && !theirs.eq_ignore_ascii_case(&ours)
        {
            return Err(GitLabError::ChecksumMismatch {
                url,
                theirs: theirs.to_owned(),
                ours,
            });
        }
        Ok(Step::Created)
    }

    /// The file's bytes, or None when GitLab has no such package file.
    fn download(&self, url: &str) -> Result<Option<Vec<u8>>, GitLabError> {
        let response = self
            .auth
            .apply(self.http.get(url))
            .send()
            .map_err(unreachable(url))?;
        match response.status() {
            StatusCode::OK => {
                let bytes = response.bytes().map_err(unreachable(url))?;
                Ok(Some(bytes.to_vec()))
            }
            StatusCode::NOT_FOUND => {
                // A missing package or file is `404 Not found` (GitLab's
                // answer to a record it cannot find); `404 Project Not
                // Found` (a wrong ID, or a project the token cannot see)
                // is an error.
                let error = refused_text("GET", url, 404, &response.text().unwrap_or_default());
                match error {
                    GitLabError::Refused { ref message, .. } if !message.contains("Project") => {
                        Ok(None)
                    }
                    _ => Err(error),
                }
            }
            _ => Err(refused("GET", url, response)),
        }
    }

    fn create_release(
        &self,
        upload: &Upload,
        names: &Names,
        url: &str,
    ) -> Result<Step, GitLabError> {
        let module = &upload.module;
        let checksum_url = self.file_url(names, &names.checksum_file);
        let link = |name: &str, url: &str, link_type: &str| {
            let mut link = json!({ "name": name, "url": url, "link_type": link_type });
            if let Some(path) = direct_asset_path(name) {
                link["direct_asset_path"] = Value::String(path);
            }
            link
        };
        let description = match &self.notes {
            None => format!(
                "Module `{}` version {} : {}\n\nLicence : `{}`. Archive `{}` (sha256 `{}`) \
                 dans le registre de paquets du projet, publiée par `oent publish`.\n",
                module.name,
                module.version,
                module.summary,
                module.licence,
                names.file,
                upload.sha256
            ),
            Some(notes) => format!(
                "{notes}\n\nLicence : `{}`. Archive `{}` (sha256 `{}`, signée) dans le registre de \
                 paquets du projet, publiée par `oent release`.\n",
                module.licence, names.file, upload.sha256
            ),
        };
        let mut body = json!({
            "tag_name": names.tag,
            "name": format!("{} {}", module.name, module.version),
            "description": description,
            "assets": { "links": [
                link(&names.file, url, "package"),
                link(&names.checksum_file, &checksum_url, "other"),
            ]},
        });
        if let Some(git_ref) = &self.release.git_ref {
            body["ref"] = Value::String(git_ref.clone());
        }
        let post = format!("{}/releases", self.target.project_url());
        let response = self
            .auth
            .apply(self.http.post(&post))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .map_err(unreachable(&post))?;
        match response.status() {
            StatusCode::CREATED => Ok(Step::Created),
            StatusCode::CONFLICT => self.existing_release(&names.tag, url),
            _ => Err(refused("POST", &post, response)),
        }
    }

    /// After a 409: the release is the one a previous run made when it
    /// links this archive.
    fn existing_release(&self, tag: &str, url: &str) -> Result<Step, GitLabError> {
        let get = format!("{}/releases/{}", self.target.project_url(), segment(tag));
        let response = self
            .auth
            .apply(self.http.get(&get))
            .send()
            .map_err(unreachable(&get))?;
        if response.status() != StatusCode::OK {
            return Err(refused("GET", &get, response));
        }
        let text = response.text().map_err(unreachable(&get))?;
        let release: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let links: Vec<&str> = release["assets"]["links"]
            .as_array()
            .map(|links| links.iter().filter_map(|l| l["url"].as_str()).collect())
            .unwrap_or_default();
        if links.contains(&url) {
            return Ok(Step::AlreadyThere);
        }
        Err(GitLabError::ReleaseDiffers {
            tag: tag.to_owned(),
            url: url.to_owned(),
            links: if links.is_empty() {
                "nothing".to_owned()
            } else {
                links.join(", ")
            },
        })
    }
}

/// GitLab's JSON error (`{"message": …}` or `{"error": …}`), with what to
/// do for the statuses a publisher meets.
fn refused(method: &'static str, url: &str, response: Response) -> GitLabError {
    let status = response.status().as_u16();
    refused_text(method, url, status, &response.text().unwrap_or_default())
}

/// The words of GitLab's JSON error: `{"message": "…"}`, `{"error": "…"}`,
/// or a validation's list of messages (`{"message": ["…", "…"]}`).
pub(crate) fn error_message(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => match map.get("message").or_else(|| map.get("error")) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join("; "),
            Some(other) => other.to_string(),
            None => text.chars().take(200).collect(),
        },
        _ => text.chars().take(200).collect(),
    }
}

fn refused_text(method: &'static str, url: &str, status: u16, text: &str) -> GitLabError {
    let message = error_message(text);
    let help = match status {
        401 => Some(
            "the token is missing, wrong, revoked or expired: set OENT_TOKEN to a personal or project \
             access token with the `api` scope (sent as PRIVATE-TOKEN), or, in GitLab CI, leave it \
             unset so that CI_JOB_TOKEN is sent as JOB-TOKEN"
                .to_owned(),
        ),
        403 => Some(
            "the token may not do this: an access token needs the `api` scope and at least the \
             Developer role on the project (Maintainer for a protected tag); a job token needs a \
             job of this project, or of one allowed in its CI/CD job token settings"
                .to_owned(),
        ),
        404 => Some(
            "no such project, or the token cannot see it: check ID in gitlab:…/api/v4/projects/ID \
             (the number shown on the project's page, or its path URL-encoded: group%2Fproject)"
                .to_owned(),
        ),
        413 => Some(
            "the archive is larger than the project's generic package limit: ask the GitLab \
             administrator to raise it"
                .to_owned(),
        ),
        422 if message.contains("Ref is not specified") => Some(
            "the tag does not exist on the project: push it first (`git push origin TAG`), or pass \
             --ref BRANCH_OR_COMMIT so that GitLab creates it"
                .to_owned(),
        ),
        400 if message.contains("Duplicate package") => Some(
            "the project refuses duplicate package files and this one exists: someone published it \
             meanwhile; publish again to compare it with yours"
                .to_owned(),
        ),
        500..=599 => Some(
            "GitLab failed: publish again later; what is already published is skipped".to_owned(),
        ),
        _ => None,
    };
    GitLabError::Refused {
        method,
        url: url.to_owned(),
        status,
        message,
        help,
    }
}

pub(crate) fn unreachable(url: &str) -> impl FnOnce(reqwest::Error) -> GitLabError + '_ {
    move |e| GitLabError::Unreachable {
        url: url.to_owned(),
        reason: reason(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_numeric_ids_and_paths() {
        let t = Target::parse("gitlab:https://gitlab.adullact.net/api/v4/projects/1234").unwrap();
        assert_eq!(t.api, "https://gitlab.adullact.net/api/v4");
        assert_eq!(t.project, "1234");
        let t =
            Target::parse("gitlab:https://h.example/api/v4/projects/openent%2Fmodules/").unwrap();
        assert_eq!(
            t.project_url(),
            "https://h.example/api/v4/projects/openent%2Fmodules"
        );
        // Plain slashes are encoded as GitLab wants them.
        let t = Target::parse("gitlab:https://h.example/api/v4/projects/a/b/c").unwrap();
        assert_eq!(t.project, "a%2Fb%2Fc");
        assert!(Target::parse("gitlab:http://127.0.0.1:8080/api/v4/projects/1").is_ok());
    }

    #[test]
    fn targets_that_are_not_gitlab_projects_are_refused() {
        for bad in [
            "gitlab:https://h.example/projects/1",
            "gitlab:https://h.example/api/v4/projects/",
            "gitlab:ftp://h.example/api/v4/projects/1",
            "gitlab:https://h.example/api/v4/projects/1?x=2",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
        for remote in [
            "gitlab:http://gitlab.example/api/v4/projects/1",
            "gitlab:http://[2001:db8::1]/api/v4/projects/1",
        ] {
            let err = Target::parse(remote).unwrap_err();
            assert!(err.to_string().contains("in clear"), "{err}");
        }
        assert!(Target::parse("gitlab:http://[::1]:8080/api/v4/projects/1").is_ok());
    }

    #[test]
    fn versions_follow_gitlabs_generic_package_rule() {
        for good in [
            "1.0.0",
            "1.0.0-rc.1",
            "2.3.1+build.7",
            "1.0.0-alpha_1",
            "v1",
        ] {
            assert_eq!(check_version(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "1..0",
            "1.0.0/../x",
            "1.0 .0",
            "1.0.0%2e",
            "1.0.0~rc1",
            "1.0.0-é",
        ] {
            assert!(check_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn package_and_file_names_follow_gitlabs_rule() {
        for good in ["openent-portail", "portail-1.0.0+b.1.tar.gz.sha256", "a_b"] {
            assert_eq!(check_package_name(good), Ok(()), "{good}");
        }
        for bad in ["", "openent/portail", "a b", "a~b", "@a"] {
            assert!(check_package_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags_follow_git_ref_rules() {
        for good in [
            "portail-v1.0.0",
            "v1.0.0+build.1",
            "openent-portail-1.0.0-rc.1",
        ] {
            assert_eq!(check_tag(good), Ok(()), "{good}");
        }
        for bad in [
            "", "a b", "a..b", "-v1", "v1.", "v1.lock", "a/b", "a:b", "a@{b",
        ] {
            assert!(check_tag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn direct_asset_paths_follow_gitlabs_rule() {
        assert_eq!(
            direct_asset_path("portail-1.0.0.tar.gz").as_deref(),
            Some("/portail-1.0.0.tar.gz")
        );
        assert_eq!(direct_asset_path("portail-1.0.0+b.1.tar.gz"), None);
        assert_eq!(direct_asset_path(&"a".repeat(128)), None);
    }

    #[test]
    fn segments_encode_what_is_not_unreserved() {
        assert_eq!(segment("1.0.0+build.1"), "1.0.0%2Bbuild.1");
        assert_eq!(segment("portail-1.0.0.tar.gz"), "portail-1.0.0.tar.gz");
    }

    #[test]
    fn the_token_the_user_set_wins_over_the_job_token() {
        let auth = Auth::choose(Some("glpat".into()), Some("job".into())).unwrap();
        assert_eq!(auth.header_name(), "PRIVATE-TOKEN");
        let auth = Auth::choose(Some(String::new()), Some("job".into())).unwrap();
        assert_eq!(auth.header_name(), "JOB-TOKEN");
        assert!(matches!(
            Auth::choose(None, None),
            Err(GitLabError::NoToken)
        ));
        assert_eq!(format!("{auth:?}"), "JOB-TOKEN: …");
    }
}

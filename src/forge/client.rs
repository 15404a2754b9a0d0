//! `oent publish` and `oent yank`: the client side of a forge's API.
//!
//! Several modules are published in dependency order (a module after the
//! modules of the same batch it requires), and each is first looked up in
//! the forge's index: a version already there with the same sha256 is
//! skipped, so a rerun after a failure picks up where it stopped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::Client;

use crate::manifest::Module;
use crate::package::checksum::sha256_hex;
use crate::registry::config::RegistryConfig;
use crate::registry::fetch::Progress;
use crate::registry::http::{CONNECT_TIMEOUT, USER_AGENT, reason};
use crate::registry::index::{self, IndexEntry};
use crate::registry::local::{MAX_ARCHIVE_BYTES, inspect_archive, module_dirs, pack_to_memory};
use crate::registry::{REGISTRY_FILE, RegistryError};

/// Long enough for a large archive on a slow link; a publish is one request.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` is neither a module directory, a directory of modules, nor a .tar.gz archive", .0.display())]
    NotAModule(PathBuf),
    #[error("{0} is given twice (from {1} and {2})")]
    Duplicate(String, String, String),
    #[error("the modules to publish require each other in a cycle: {0}")]
    Cycle(String),
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered {status}: {message}{}", .help.as_ref().map(|h| format!("\nhelp: {h}")).unwrap_or_default())]
    Refused {
        url: String,
        status: u16,
        message: String,
        help: Option<String>,
    },
    #[error(
        "{name} {version} is already published on {forge} with other content (sha256 {theirs}, yours {ours}); versions are immutable: bump the version"
    )]
    AlreadyDifferent {
        forge: String,
        name: String,
        version: String,
        theirs: String,
        ours: String,
    },
}

/// One archive ready to publish.
#[derive(Debug)]
pub struct Upload {
    pub module: Module,
    pub bytes: Vec<u8>,
    pub sha256: String,
    /// Where it came from, for messages.
    pub label: PathBuf,
}

impl Upload {
    fn id(&self) -> String {
        format!("{} {}", self.module.name, self.module.version)
    }
}

/// Reads the inputs: module directories (packed in memory), directories of
/// modules, or archives (checked as the forge will check them).
pub fn collect(inputs: &[PathBuf]) -> Result<Vec<Upload>, ClientError> {
    let mut uploads: Vec<Upload> = Vec::new();
    for input in inputs {
        let found = if input.is_dir() {
            let dirs = module_dirs(input)?;
            if dirs.is_empty() {
                return Err(ClientError::NotAModule(input.clone()));
            }
            dirs.iter()
                .map(|dir| {
                    let (module, bytes, sha256) = pack_to_memory(dir)?;
                    Ok(Upload {
                        module,
                        bytes,
                        sha256,
                        label: dir.clone(),
                    })
                })
                .collect::<Result<Vec<_>, ClientError>>()?
        } else if input.to_string_lossy().ends_with(".tar.gz") {
            let bytes = read_archive(input)?;
            let module = inspect_archive(input, &bytes)?;
            vec![Upload {
                sha256: sha256_hex(&bytes),
                module,
                bytes,
                label: input.clone(),
            }]
        } else {
            return Err(ClientError::NotAModule(input.clone()));
        };
        for upload in found {
            if let Some(other) = uploads.iter().find(|u| u.id() == upload.id()) {
                return Err(ClientError::Duplicate(
                    upload.id(),
                    other.label.display().to_string(),
                    upload.label.display().to_string(),
                ));
            }
            uploads.push(upload);
        }
    }
    Ok(uploads)
}

fn read_archive(path: &Path) -> Result<Vec<u8>, ClientError> {
    let io = |source| ClientError::Io {
        path: path.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_ARCHIVE_BYTES {
        return Err(RegistryError::InvalidArchive {
            path: path.to_path_buf(),
            reason: format!("larger than {MAX_ARCHIVE_BYTES} bytes"),
        }
        .into());
    }
    std::fs::read(path).map_err(io)
}

/// The uploads ordered so that each comes after those of the batch it
/// requires; ties broken by name for stable output. Optional dependencies
/// do not order: they may point back (notes-absences ⇄ sms-parents).
pub fn dependency_order(uploads: Vec<Upload>) -> Result<Vec<Upload>, ClientError> {
    let names: BTreeSet<String> = uploads.iter().map(|u| u.module.name.to_string()).collect();
    let mut waiting: BTreeMap<String, Vec<Upload>> = BTreeMap::new();
    for upload in uploads {
        waiting
            .entry(upload.module.name.to_string())
            .or_default()
            .push(upload);
    }
    let deps = |u: &Upload| -> BTreeSet<String> {
        u.module
            .requires
            .keys()
            .map(|n| n.to_string())
            .filter(|n| names.contains(n) && *n != u.module.name.to_string())
            .collect()
    };
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut ordered = Vec::new();
    while !waiting.is_empty() {
        let ready: Vec<String> = waiting
            .iter()
            .filter(|(_, ups)| ups.iter().all(|u| deps(u).is_subset(&done)))
            .map(|(name, _)| name.clone())
            .collect();
        if ready.is_empty() {
            return Err(ClientError::Cycle(
                waiting.keys().cloned().collect::<Vec<_>>().join(" → "),
            ));
        }
        for name in ready {
            let mut versions = waiting.remove(&name).unwrap_or_default();
            versions.sort_by(|a, b| a.module.version.cmp(&b.module.version));
            ordered.extend(versions);
            done.insert(name);
        }
    }
    Ok(ordered)
}

/// Whether a 404 answer means "absent" or is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Missing {
    IsNone,
    IsAnError,
}

/// What happened to one upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    Created,
    /// The forge already had these exact bytes.
    AlreadyThere,
}

/// A forge's API, with a token.
pub struct ForgeClient {
    /// The registry's base URL (where registry.yaml is); the API is under /api/v1.
    base: String,
    token: Option<String>,
    http: Client,
}

impl ForgeClient {
    pub fn new(base: &str, token: Option<String>) -> Result<ForgeClient, ClientError> {
        let base = base.trim_end_matches('/').to_owned();
        let http = Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(PUBLISH_TIMEOUT)
            .build()
            .map_err(unreachable(&base))?;
        Ok(ForgeClient { base, token, http })
    }

    /// Publishes every upload in order; stops at the first failure (what
    /// was published stays published, and a rerun skips it).
    pub fn publish_all(
        &self,
        uploads: &[Upload],
        progress: &dyn Progress,
        mut report: impl FnMut(&Upload, &Published),
    ) -> Result<Vec<Published>, ClientError> {
        progress.start(uploads.len() as u64);
        let mut outcomes = Vec::with_capacity(uploads.len());
        for upload in uploads {
            let outcome = self.publish_one(upload)?;
            report(upload, &outcome);
            progress.advance(1);
            outcomes.push(outcome);
        }
        progress.finish();
        Ok(outcomes)
    }

    fn publish_one(&self, upload: &Upload) -> Result<Published, ClientError> {
        let name = upload.module.name.to_string();
        let version = upload.module.version.to_string();
        if let Some(line) = self.published(&name, &version)? {
            if line.sha256 == upload.sha256 {
                return Ok(Published::AlreadyThere);
            }
            return Err(ClientError::AlreadyDifferent {
                forge: self.base.clone(),
                name,
                version,
                theirs: line.sha256.to_string(),
                ours: upload.sha256.clone(),
            });
        }
        let url = format!("{}/api/v1/modules/{name}/{version}", self.base);
        let response = self
            .authorised(self.http.put(&url))
            .header(reqwest::header::CONTENT_TYPE, "application/gzip")
            .body(upload.bytes.clone())
            .send()
            .map_err(unreachable(&url))?;
        match response.status() {
            StatusCode::CREATED => Ok(Published::Created),
            StatusCode::OK => Ok(Published::AlreadyThere),
            _ => Err(refused(&url, response)),
        }
    }

    /// The forge's index line for this version, if it has one.
    pub fn published(&self, name: &str, version: &str) -> Result<Option<IndexEntry>, ClientError> {
        let url = format!("{}/{}", self.base, index::index_path(name));
        let Some(bytes) = self.answer(self.http.get(&url), &url, Missing::IsNone)? else {
            return Ok(None);
        };
        let lines = index::parse(Path::new(&url), &String::from_utf8_lossy(&bytes))?;
        Ok(lines.into_iter().find(|l| l.is_version(version)))
    }

    /// The forge's `registry.yaml`: who it is and which namespaces it owns.
    pub fn config(&self) -> Result<RegistryConfig, ClientError> {
        let url = format!("{}/{REGISTRY_FILE}", self.base);
        let bytes = self.body(self.http.get(&url), &url)?;
        Ok(RegistryConfig::from_bytes(Path::new(&url), &bytes)?)
    }

    /// The namespaces the client's token may publish into
    /// (`GET /api/v1/token`); nothing is written.
    pub fn token_namespaces(&self) -> Result<Vec<String>, ClientError> {
        #[derive(serde::Deserialize)]
        struct TokenInfo {
            #[serde(default)]
            namespaces: Vec<String>,
        }
        let url = format!("{}/api/v1/token", self.base);
        let request = self.authorised(self.http.get(&url));
        let info: TokenInfo = self.json(request, &url, "a token description")?;
        Ok(info.namespaces)
    }

    /// Yanks (`yanked`) or unyanks a version.
    pub fn set_yanked(
        &self,
        name: &str,
        version: &str,
        yanked: bool,
    ) -> Result<IndexEntry, ClientError> {
        let verb = if yanked { "yank" } else { "unyank" };
        let url = format!("{}/api/v1/modules/{name}/{version}/{verb}", self.base);
        let bytes = self.body(self.authorised(self.http.post(&url)), &url)?;
        // Read as any index line is: checked, the URL named in an error.
        index::parse_line(Path::new(&url), 1, &String::from_utf8_lossy(&bytes))?.ok_or_else(|| {
            ClientError::Refused {
                url: url.clone(),
                status: 200,
                message: "the answer is an index line of a format newer than this oent reads"
                    .into(),
                help: Some("upgrade oent".into()),
            }
        })
    }

    /// The body of a successful answer; `None` for a 404 when `missing` says so.
    fn answer(
        &self,
        request: reqwest::blocking::RequestBuilder,
        url: &str,
        missing: Missing,
    ) -> Result<Option<Vec<u8>>, ClientError> {
        let response = request.send().map_err(unreachable(url))?;
        if missing == Missing::IsNone && response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(refused(url, response));
        }
        Ok(Some(response.bytes().map_err(unreachable(url))?.to_vec()))
    }

    fn body(
        &self,
        request: reqwest::blocking::RequestBuilder,
        url: &str,
    ) -> Result<Vec<u8>, ClientError> {
        Ok(self
            .answer(request, url, Missing::IsAnError)?
            .unwrap_or_default())
    }

    /// A successful answer's JSON body; `what` names it when it is not that.
    fn json<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::blocking::RequestBuilder,
        url: &str,
        what: &str,
    ) -> Result<T, ClientError> {
        let bytes = self.body(request, url)?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Refused {
            url: url.to_owned(),
            status: 200,
            message: format!("the answer is not {what}: {e}"),
            help: None,
        })
    }

    fn authorised(
        &self,
        request: reqwest::blocking::RequestBuilder,
    ) -> reqwest::blocking::RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }
}

/// The forge's JSON error, or the status line when the answer is not one.
fn refused(url: &str, response: reqwest::blocking::Response) -> ClientError {
    let status = response.status().as_u16();
    let text = response.text().unwrap_or_default();
    let error = serde_json::from_str::<serde_json::Value>(&text).ok();
    let field = |name: &str| {
        error
            .as_ref()
            .and_then(|e| e["error"][name].as_str())
            .map(str::to_owned)
    };
    ClientError::Refused {
        url: url.to_owned(),
        status,
        message: field("message").unwrap_or_else(|| text.chars().take(200).collect()),
        help: field("help"),
    }
}

fn unreachable(url: &str) -> impl FnOnce(reqwest::Error) -> ClientError + '_ {
    move |e| ClientError::Unreachable {
        url: url.to_owned(),
        reason: reason(&e),
    }
}

//! Before anything changes, each forge a release goes to is asked whether
//! it will take the release: reachable, owning the module's namespace,
//! accepting the token for it, and not already holding the version.

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::Client;

use super::ReleaseError;
use crate::registry::config::RegistryConfig;
use crate::registry::http::{CONNECT_TIMEOUT, USER_AGENT};
use crate::registry::index;

fn client() -> Result<Client, ReleaseError> {
    Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| ReleaseError::ForgeUnreachable {
            forge: String::new(),
            reason: e.to_string(),
        })
}

fn unreachable(forge: &str) -> impl FnOnce(reqwest::Error) -> ReleaseError + '_ {
    move |e| {
        let mut cause: &dyn std::error::Error = &e;
        while let Some(next) = cause.source() {
            cause = next;
        }
        ReleaseError::ForgeUnreachable {
            forge: forge.to_owned(),
            reason: cause.to_string(),
        }
    }
}

/// The published sha256 of `name` `version` on `forge`, if any.
pub fn published(forge: &str, name: &str, version: &str) -> Result<Option<String>, ReleaseError> {
    let base = forge.trim_end_matches('/');
    let url = format!("{base}/{}", index::index_path(name));
    let response = client()?.get(&url).send().map_err(unreachable(forge))?;
    if response.status() == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !response.status().is_success() {
        return Err(ReleaseError::ForgeRefused {
            forge: forge.to_owned(),
            reason: format!("{url} answered {}", response.status()),
        });
    }
    let text = response.text().map_err(unreachable(forge))?;
    let lines = index::parse(Path::new(&url), &text).map_err(|e| ReleaseError::ForgeRefused {
        forge: forge.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(lines
        .into_iter()
        .find(|l| l.version == version)
        .map(|l| l.sha256))
}

/// Checks that `forge` will take `name` `version` with `token`; nothing is
/// written on the forge (the token's scope comes from `GET /api/v1/token`).
pub fn preflight(
    forge: &str,
    token: Option<&str>,
    name: &str,
    version: &str,
) -> Result<(), ReleaseError> {
    let base = forge.trim_end_matches('/');
    let http = client()?;
    let url = format!("{base}/registry.yaml");
    let response = http.get(&url).send().map_err(unreachable(forge))?;
    if !response.status().is_success() {
        return Err(ReleaseError::ForgeRefused {
            forge: forge.to_owned(),
            reason: format!(
                "{url} answered {}: is this a forge's registry URL?",
                response.status()
            ),
        });
    }
    let bytes = response.bytes().map_err(unreachable(forge))?;
    let config = RegistryConfig::from_bytes(Path::new(&url), &bytes).map_err(|e| {
        ReleaseError::ForgeRefused {
            forge: forge.to_owned(),
            reason: e.to_string(),
        }
    })?;
    let namespace = name.split('/').next().unwrap_or_default();
    if !config.owns(namespace) {
        return Err(ReleaseError::ForgeRefused {
            forge: forge.to_owned(),
            reason: format!(
                "registry `{}` does not own namespace `{namespace}` (it owns: {}); publish to the forge that owns it",
                config.name,
                config.namespaces.join(", ")
            ),
        });
    }
    if let Some(sha) = published(forge, name, version)? {
        return Err(ReleaseError::AlreadyPublished {
            forge: forge.to_owned(),
            name: name.to_owned(),
            version: version.to_owned(),
            sha256: sha,
        });
    }
    let Some(token) = token else {
        return Err(ReleaseError::NoToken {
            forge: forge.to_owned(),
        });
    };
    let probe = format!("{base}/api/v1/token");
    let response = http
        .get(&probe)
        .bearer_auth(token)
        .send()
        .map_err(unreachable(forge))?;
    let status = response.status();
    let body = response.text().unwrap_or_default();
    if !status.is_success() {
        return Err(ReleaseError::ForgeRefused {
            forge: forge.to_owned(),
            reason: format!(
                "the token is refused ({status}): {}",
                body.chars().take(300).collect::<String>()
            ),
        });
    }
    let scopes: Vec<String> = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| serde_json::from_value(v["namespaces"].clone()).ok())
        .unwrap_or_default();
    if !scopes.iter().any(|s| s == namespace || s == "*") {
        return Err(ReleaseError::ForgeRefused {
            forge: forge.to_owned(),
            reason: format!(
                "the token may publish into {}, not into `{namespace}`: ask the forge's administrators for a token scoped to it",
                if scopes.is_empty() {
                    "nothing".to_owned()
                } else {
                    scopes.join(", ")
                }
            ),
        });
    }
    Ok(())
}

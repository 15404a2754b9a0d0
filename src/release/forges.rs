//! Before anything changes, each forge a release goes to is asked whether
//! it will take the release: reachable, owning the module's namespace,
//! accepting the token for it, and not already holding the version.

use super::ReleaseError;
use crate::forge::client::{ClientError, ForgeClient};
use crate::forge::gitlab::{self, Auth, Target};

/// A client error, said the release's way: unreachable, or refusing.
fn release_error(forge: &str) -> impl Fn(ClientError) -> ReleaseError + '_ {
    move |e| match e {
        ClientError::Unreachable { reason, .. } => ReleaseError::ForgeUnreachable {
            forge: forge.to_owned(),
            reason,
        },
        other => ReleaseError::ForgeRefused {
            forge: forge.to_owned(),
            reason: other.to_string(),
        },
    }
}

/// The published sha256 of `name` `version` on `forge`, if any.
pub fn published(forge: &str, name: &str, version: &str) -> Result<Option<String>, ReleaseError> {
    let client = ForgeClient::new(forge, None).map_err(release_error(forge))?;
    Ok(client
        .published(name, version)
        .map_err(release_error(forge))?
        .map(|line| line.sha256.to_string()))
}

/// Checks that `forge` will take `name` `version` with `token`; nothing is
/// written on the forge (the token's scope comes from `GET /api/v1/token`).
pub fn preflight(
    forge: &str,
    token: Option<&str>,
    name: &str,
    version: &str,
) -> Result<(), ReleaseError> {
    let client = ForgeClient::new(forge, token.map(str::to_owned)).map_err(release_error(forge))?;
    let config = client.config().map_err(release_error(forge))?;
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
    if let Some(line) = client
        .published(name, version)
        .map_err(release_error(forge))?
    {
        return Err(ReleaseError::AlreadyPublished {
            forge: forge.to_owned(),
            name: name.to_owned(),
            version: version.to_owned(),
            sha256: line.sha256.to_string(),
        });
    }
    if token.is_none() {
        return Err(ReleaseError::NoToken {
            forge: forge.to_owned(),
        });
    }
    let scopes = client.token_namespaces().map_err(|e| match e {
        ClientError::Refused {
            status, message, ..
        } => ReleaseError::ForgeRefused {
            forge: forge.to_owned(),
            reason: format!("the token is refused ({status}): {message}"),
        },
        other => release_error(forge)(other),
    })?;
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

/// A GitLab project as `--to`: its URL, a token, and names GitLab takes
/// (package, version, tag), checked before anything changes. Whether the
/// version is there already is asked when publishing (the same bytes are
/// skipped, other bytes refused).
pub fn preflight_gitlab(
    forge: &str,
    token: Option<&str>,
    job_token: Option<&str>,
    package: &str,
    version: &str,
    tag: &str,
) -> Result<(), ReleaseError> {
    let refused = |reason: String| ReleaseError::ForgeRefused {
        forge: forge.to_owned(),
        reason,
    };
    Target::parse(forge).map_err(|e| refused(e.to_string()))?;
    Auth::choose(token.map(str::to_owned), job_token.map(str::to_owned))
        .map_err(|e| refused(e.to_string()))?;
    for (what, value, check) in [
        (
            "package name",
            package,
            gitlab::check_package_name as fn(&str) -> Result<(), String>,
        ),
        ("package version", version, gitlab::check_version),
        ("tag", tag, gitlab::check_tag),
    ] {
        check(value)
            .map_err(|rule| refused(format!("GitLab would refuse the {what} `{value}`: {rule}")))?;
    }
    Ok(())
}

//! The forge's one HTTP error type: every refusal a request can meet
//! (authentication, upload, path, publish, timeout) is an [`ApiError`], and
//! its [`IntoResponse`] is the only place that picks a status, a code and a
//! help line, and writes the JSON body
//! `{"error": {"status", "code", "message", "help"}}` (docs/forge.md).
//!
//! Client errors keep their text; server errors say little and log the rest,
//! so that no answer names a path on the server.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::publish::Refusal;
use crate::package::unpack::UnpackError;
use crate::registry::RegistryError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No `Authorization: Bearer …`, or a token the forge does not know.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// A publish or yank refused by the publisher (or the token's scope).
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("the upload is larger than this forge's limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The body ended (or failed) before it was whole.
    #[error("{0}")]
    Interrupted(String),
    /// A static path that could leave the registry.
    #[error("`{0}` is not a registry path")]
    BadPath(String),
    /// A path segment that cannot be read (not UTF-8 once percent-decoded).
    #[error("the URL's path cannot be read: {0}")]
    BadUrl(String),
    /// A static path the registry does not hold.
    #[error("`{0}` is not in this registry")]
    NotFound(String),
    /// A route that exists, asked with a method it does not take.
    #[error("{method} is not a method of `{path}`")]
    MethodNotAllowed { method: String, path: String },
    /// The request took longer than the forge's `request-timeout-seconds`.
    #[error("the request took longer than this forge's limit of {} s", .0.as_secs())]
    Timeout(Duration),
    /// A blocking task that panicked: a bug, reported as such.
    #[error("the {0} failed inside the forge")]
    TaskFailed(&'static str),
}

impl ApiError {
    /// The status, the stable code and the help line of this error.
    fn parts(&self) -> (StatusCode, &'static str, String) {
        let (status, code, help): (_, _, &str) = match self {
            ApiError::Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "create a token with `oent forge token` and pass it with --token or $OENT_TOKEN",
            ),
            ApiError::Refused(refusal) => return refusal_parts(refusal),
            ApiError::TooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "module archives hold configuration and templates, not binaries; raise `max-upload-mib` in forge.yaml if this one is right",
            ),
            ApiError::Interrupted(_) => (
                StatusCode::BAD_REQUEST,
                "upload-interrupted",
                "nothing was published; send the archive again",
            ),
            ApiError::BadPath(_) => (
                StatusCode::BAD_REQUEST,
                "bad-path",
                "registry paths are index/…, archives/…, mirrors/…, by-hash/…, registry.yaml and snapshot.json",
            ),
            ApiError::BadUrl(_) => (
                StatusCode::BAD_REQUEST,
                "bad-path",
                "percent-encode each path segment from UTF-8",
            ),
            ApiError::NotFound(_) => (
                StatusCode::NOT_FOUND,
                "not-found",
                "see registry.yaml and index/ for what is published",
            ),
            ApiError::MethodNotAllowed { .. } => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "see docs/forge.md for the forge's routes and their methods",
            ),
            ApiError::Timeout(_) => (
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                "send the request again (publishing the same bytes twice is safe); raise `request-timeout-seconds` in forge.yaml if uploads are this slow",
            ),
            ApiError::TaskFailed(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "see the forge's log",
            ),
        };
        (status, code, help.to_owned())
    }

    /// What the client reads: server errors keep their details in the log.
    fn public_message(&self) -> String {
        match self {
            ApiError::Refused(Refusal::Snapshot(_)) => {
                "the index changed but its snapshot could not be signed".to_owned()
            }
            ApiError::Refused(_) if self.parts().0.is_server_error() => {
                "the forge could not complete this request".to_owned()
            }
            _ => self.to_string(),
        }
    }
}

fn refusal_parts(refusal: &Refusal) -> (StatusCode, &'static str, String) {
    let (status, code, help) = match refusal {
        Refusal::TokenScope { .. } => (
            StatusCode::FORBIDDEN,
            "namespace-not-allowed",
            "ask the forge's administrators for a token scoped to this namespace",
        ),
        Refusal::UrlMismatch { .. } => (
            StatusCode::BAD_REQUEST,
            "url-mismatch",
            "publish to /api/v1/modules/<namespace>/<name>/<version> of the archive's own manifest",
        ),
        Refusal::UnknownVersion { .. } => (
            StatusCode::NOT_FOUND,
            "not-found",
            "see the module's index file for its versions",
        ),
        Refusal::ForkLicenceChanged { base_licence, .. } => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                "fork-licence-changed",
                format!(
                    "write `licence: {base_licence}` back in module.yaml: modifications are given back under the same licence"
                ),
            );
        }
        Refusal::Snapshot(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "snapshot",
            "the change is written; the forge signs its snapshot again at the next change or restart",
        ),
        Refusal::Registry(e) => return registry_parts(e),
    };
    (status, code, help.to_owned())
}

fn registry_parts(error: &RegistryError) -> (StatusCode, &'static str, String) {
    let (status, code, help) = match error {
        RegistryError::VersionExists { .. } => (
            StatusCode::CONFLICT,
            "version-exists",
            "versions are immutable: bump the version and publish again",
        ),
        RegistryError::NamespaceNotOwned { owned, .. } => {
            return (
                StatusCode::FORBIDDEN,
                "namespace-not-owned",
                format!("this forge owns {owned}; publish to the forge that owns the namespace"),
            );
        }
        RegistryError::InvalidManifest { diagnostics, .. } => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-manifest",
                diagnostics
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
        // The forge's own disk failed while unpacking: not the archive's fault.
        RegistryError::Unpack(UnpackError::Io { .. }) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "see the forge's log",
        ),
        RegistryError::InvalidArchive { .. }
        | RegistryError::Unpack(_)
        | RegistryError::Package(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-archive",
            "build the archive with `oent package`",
        ),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "see the forge's log",
        ),
    };
    (status, code, help.to_owned())
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, help) = self.parts();
        if let ApiError::Refused(refusal) = &self {
            let reason = refusal.to_string();
            if status.is_server_error() {
                tracing::error!(code, reason, "publish failed");
            } else {
                tracing::warn!(code, reason, "refused");
            }
        }
        let body = serde_json::json!({
            "error": {
                "status": status.as_u16(),
                "code": code,
                "message": self.public_message(),
                "help": help,
            }
        });
        let mut response = json(status, &body);
        if let ApiError::Unauthorized(_) = self {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"oent\""),
            );
        }
        response
    }
}

/// Every JSON answer of the API, success or error: one line, then a newline.
pub fn json(status: StatusCode, value: &impl serde::Serialize) -> Response {
    let mut text = serde_json::to_string(value).expect("JSON values serialise");
    text.push('\n');
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

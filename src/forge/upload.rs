//! Reading a publish's body under `max-upload-mib`. The limit itself is a
//! layer on the write routes ([`body_limit`]); reading here turns its
//! rejection into the forge's JSON error, and refuses a declared
//! `Content-Length` over the limit before the body is sent (a client that
//! sent it all would be cut off mid-way).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::{StatusCode, header};

use super::error::ApiError;

/// The layer that bounds every body read on the routes it wraps.
pub fn body_limit(limit: u64) -> DefaultBodyLimit {
    DefaultBodyLimit::max(usize::try_from(limit).unwrap_or(usize::MAX))
}

/// The whole body, or why it was refused (413 over `limit`, 400 cut short);
/// `token` names the uploader in the log.
pub async fn read(request: Request, limit: u64, token: &str) -> Result<Bytes, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        tracing::warn!(token, declared, limit, "refused: upload too large");
        return Err(ApiError::TooLarge { limit });
    }
    let bytes = match Bytes::from_request(request, &()).await {
        Ok(bytes) => bytes,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            tracing::warn!(token, limit, "refused: upload too large");
            return Err(ApiError::TooLarge { limit });
        }
        Err(rejection) => {
            let cause = innermost(&rejection);
            tracing::warn!(token, error = cause, "refused: upload interrupted");
            return Err(ApiError::Interrupted(format!(
                "the upload was cut short: {cause}"
            )));
        }
    };
    if declared.is_some_and(|n| n != bytes.len() as u64) {
        return Err(ApiError::Interrupted(
            "the body is shorter than its Content-Length".to_owned(),
        ));
    }
    Ok(bytes)
}

/// The first cause of a rejection (the connection's error), not axum's wrapping.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut error = error;
    while let Some(source) = error.source() {
        error = source;
    }
    error.to_string()
}

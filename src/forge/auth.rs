//! Authentication of the write routes: [`Authenticated`] is an extractor, so
//! a handler that takes one cannot run for a request without a known token,
//! and the 401 is answered from the headers alone, before any upload is read.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::config::Token;
use super::error::ApiError;
use super::state::Shared;

/// The token named by `Authorization: Bearer …`.
pub struct Authenticated(pub Token);

impl FromRequestParts<Shared> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, forge: &Shared) -> Result<Self, ApiError> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(presented) = presented else {
            tracing::warn!("refused: no bearer token");
            return Err(ApiError::Unauthorized(
                "this request needs `Authorization: Bearer <token>`",
            ));
        };
        match forge.config.token(presented) {
            Some(token) => Ok(Authenticated(token.clone())),
            None => {
                tracing::warn!("refused: unknown token");
                Err(ApiError::Unauthorized(
                    "the token is not known to this forge",
                ))
            }
        }
    }
}

//! [`UrlPath`]: axum's `Path`, whose rejections (a segment that is not
//! UTF-8 once percent-decoded) answer in the forge's JSON shape like every
//! other error, instead of axum's plain text.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

pub struct UrlPath<T>(pub T);

impl<S, T> FromRequestParts<S> for UrlPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(UrlPath(value)),
            Err(rejection) => {
                let reason = rejection.body_text();
                tracing::warn!(reason, "refused: the URL's path cannot be read");
                Err(ApiError::BadUrl(reason))
            }
        }
    }
}

//! The forge's HTTP server: static registry files for everyone, the publish
//! and yank API for holders of a token, and the catalogue.
//!
//! ```text
//! GET  /registry.yaml, /snapshot.json, /index/…, /archives/…, /mirrors/…
//! PUT  /api/v1/modules                              archive body (manifest decides)
//! PUT  /api/v1/modules/{ns}/{name}/{version}        archive body, must agree with the URL
//! POST /api/v1/modules/{ns}/{name}/{version}/yank   and …/unyank
//! GET  /api/v1/token                                the token's name and namespaces
//! GET  /healthz
//! GET  /, /modules/{ns}/{name}[/{version}], /catalogue.css   the catalogue
//! ```

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use futures_util::StreamExt;

use super::ForgeError;
use super::config::{ForgeConfig, Token};
use super::files::{self, StaticFiles};
use super::publish::{Expected, Outcome, Publisher, Refusal};
use crate::registry::RegistryError;

/// Everything a request may need.
pub struct Forge {
    pub config: ForgeConfig,
    pub publisher: Publisher,
    pub files: StaticFiles,
}

pub type Shared = Arc<Forge>;

pub fn router(forge: Shared) -> Router {
    let catalogue = super::catalogue::router(&forge.publisher.registry.root);
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/api/v1/token", get(token_info))
        .route("/api/v1/modules", put(publish_any))
        .route("/api/v1/modules/{ns}/{name}/{version}", put(publish_named))
        .route("/api/v1/modules/{ns}/{name}/{version}/yank", post(yank))
        .route("/api/v1/modules/{ns}/{name}/{version}/unyank", post(unyank))
        .route("/{*path}", get(static_file))
        .with_state(forge)
        .merge(catalogue)
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
/// First removes what an earlier run killed mid-publish left
/// ([`Publisher::recover`]), then prints the bound address (port 0 picks a
/// free one).
pub async fn serve(
    forge: Shared,
    shutdown: impl Future<Output = ()> + Send + 'static,
    bound: impl FnOnce(std::net::SocketAddr),
) -> Result<(), ForgeError> {
    forge.publisher.recover();
    let address = forge.config.listen;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| ForgeError::Listen { address, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ForgeError::Listen { address, source })?;
    bound(local);
    tracing::info!(%local, registry = %forge.config.registry.display(), "forge listening");
    // Without TCP_NODELAY, an answer written in two parts waits for the
    // client's delayed ACK: 40 ms added to every publish.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, router(forge))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| ForgeError::Listen { address, source })?;
    tracing::info!("forge stopped");
    Ok(())
}

/// Mirrors the peers every `sync-interval-seconds` (never when 0 or
/// without peers), on a blocking thread; a failing peer is logged and
/// tried again at the next tick.
pub fn spawn_periodic_sync(forge: Shared) {
    let every = forge.config.sync_interval_seconds;
    if every == 0 || forge.config.peers.is_empty() {
        return;
    }
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(std::time::Duration::from_secs(every));
        loop {
            ticks.tick().await;
            let worker = forge.clone();
            let done = tokio::task::spawn_blocking(move || {
                let http = super::sync::client();
                let (_, changed) = super::sync::sync_all(
                    &worker.publisher.registry.root,
                    &worker.config.peers,
                    &http,
                );
                if changed && let Err(e) = worker.publisher.changed() {
                    tracing::error!(reason = %e, "could not sign the snapshot after a sync");
                }
            })
            .await;
            if let Err(e) = done {
                tracing::error!(error = %e, "sync task failed");
            }
        }
    });
}

/// Ctrl-C (SIGINT) or SIGTERM (what `docker stop` and Kubernetes send).
/// The handlers are installed now, not when the future is first polled, so
/// that a signal sent as soon as the address is printed is not fatal.
/// Must be called inside the runtime.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        tracing::info!("shutting down: finishing requests in flight");
    })
}

async fn static_file(
    State(forge): State<Shared>,
    UrlPath(path): UrlPath<String>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    match forge
        .files
        .serve(&path, &headers, method == Method::HEAD)
        .await
    {
        Ok(response) => response,
        Err(files::Refusal::Traversal) => {
            tracing::warn!(path, "refused: path leaves the registry");
            problem(
                StatusCode::BAD_REQUEST,
                "bad-path",
                format!("`{path}` is not a registry path"),
                "registry paths are index/…, archives/…, mirrors/…, by-hash/…, registry.yaml and snapshot.json",
            )
        }
        Err(files::Refusal::NotFound) => problem(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("`{path}` is not in this registry"),
            "see registry.yaml and index/ for what is published",
        ),
    }
}

/// What a token may do, so that a client checks it before a long job
/// (`oent release` does, before tagging) without writing anything.
async fn token_info(State(forge): State<Shared>, headers: HeaderMap) -> Response {
    match authenticate(&forge, &headers) {
        Ok(token) => json(
            StatusCode::OK,
            &serde_json::json!({ "name": token.name, "namespaces": token.namespaces }),
        ),
        Err(message) => unauthorized(message),
    }
}

async fn publish_any(State(forge): State<Shared>, request: Request) -> Response {
    publish(forge, None, request).await
}

async fn publish_named(
    State(forge): State<Shared>,
    UrlPath((ns, name, version)): UrlPath<(String, String, String)>,
    request: Request,
) -> Response {
    publish(forge, Some((format!("{ns}/{name}"), version)), request).await
}

async fn publish(forge: Shared, named: Option<(String, String)>, request: Request) -> Response {
    let token = match authenticate(&forge, request.headers()) {
        Ok(token) => token,
        Err(message) => return unauthorized(message),
    };
    // A token for another namespace is refused before the upload is read.
    if let Some((name, _)) = &named {
        let namespace = name.split('/').next().unwrap_or_default();
        if !token.allows(namespace) {
            return refused(
                &forge,
                Refusal::TokenScope {
                    token: token.name.clone(),
                    namespace: namespace.to_owned(),
                    allowed: token.namespaces.join(", "),
                },
            );
        }
    }
    let limit = forge.config.max_upload_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        tracing::warn!(
            token = token.name,
            declared,
            limit,
            "refused: upload too large"
        );
        return too_large(limit);
    }
    let bytes = match read_limited(request.into_body(), limit).await {
        Ok(bytes) => bytes,
        Err(ReadFailure::TooLarge) => {
            tracing::warn!(token = token.name, limit, "refused: upload too large");
            return too_large(limit);
        }
        Err(ReadFailure::Interrupted(e)) => {
            tracing::warn!(token = token.name, error = %e, "refused: upload interrupted");
            return problem(
                StatusCode::BAD_REQUEST,
                "upload-interrupted",
                format!("the upload was cut short: {e}"),
                "nothing was published; send the archive again",
            );
        }
    };
    if declared.is_some_and(|n| n != bytes.len() as u64) {
        return problem(
            StatusCode::BAD_REQUEST,
            "upload-interrupted",
            "the body is shorter than its Content-Length",
            "nothing was published; send the archive again",
        );
    }
    let size = bytes.len();
    let worker = forge.clone();
    let result = tokio::task::spawn_blocking(move || {
        let expected = named
            .as_ref()
            .map(|(name, version)| Expected { name, version });
        worker.publisher.publish(&bytes, &token, expected)
    })
    .await;
    match result {
        Ok(Ok(Outcome::Created(line))) => {
            tracing::info!(
                module = line.name,
                version = line.version,
                sha256 = line.sha256,
                size,
                "published"
            );
            json(StatusCode::CREATED, &line)
        }
        Ok(Ok(Outcome::AlreadyPresent(line))) => {
            tracing::info!(
                module = line.name,
                version = line.version,
                "already published with the same bytes"
            );
            json(StatusCode::OK, &line)
        }
        Ok(Err(refusal)) => refused(&forge, refusal),
        Err(e) => task_failed("publish", e),
    }
}

async fn yank(
    State(forge): State<Shared>,
    UrlPath(target): UrlPath<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    set_yanked(forge, target, headers, true).await
}

async fn unyank(
    State(forge): State<Shared>,
    UrlPath(target): UrlPath<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    set_yanked(forge, target, headers, false).await
}

async fn set_yanked(
    forge: Shared,
    (ns, name, version): (String, String, String),
    headers: HeaderMap,
    yanked: bool,
) -> Response {
    let token = match authenticate(&forge, &headers) {
        Ok(token) => token,
        Err(message) => return unauthorized(message),
    };
    let module = format!("{ns}/{name}");
    let worker = forge.clone();
    let result = tokio::task::spawn_blocking(move || {
        worker
            .publisher
            .set_yanked(&token, &module, &version, yanked)
    })
    .await;
    match result {
        Ok(Ok(line)) => {
            tracing::info!(
                module = line.name,
                version = line.version,
                yanked,
                "yank state set"
            );
            json(StatusCode::OK, &line)
        }
        Ok(Err(refusal)) => refused(&forge, refusal),
        Err(e) => task_failed("yank", e),
    }
}

/// The token named by `Authorization: Bearer …`, or why there is none (a 401).
fn authenticate(forge: &Forge, headers: &HeaderMap) -> Result<Token, &'static str> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(presented) = presented else {
        tracing::warn!("refused: no bearer token");
        return Err("this request needs `Authorization: Bearer <token>`");
    };
    match forge.config.token(presented) {
        Some(token) => Ok(token.clone()),
        None => {
            tracing::warn!("refused: unknown token");
            Err("the token is not known to this forge")
        }
    }
}

enum ReadFailure {
    TooLarge,
    Interrupted(axum::Error),
}

/// Reads the upload chunk by chunk, stopping as soon as it exceeds `limit`.
async fn read_limited(body: Body, limit: u64) -> Result<Vec<u8>, ReadFailure> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(ReadFailure::Interrupted)?;
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(ReadFailure::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn refused(forge: &Forge, refusal: Refusal) -> Response {
    let (status, code, help) = match &refusal {
        Refusal::TokenScope { .. } => (
            StatusCode::FORBIDDEN,
            "namespace-not-allowed",
            "ask the forge's administrators for a token scoped to this namespace".to_owned(),
        ),
        Refusal::UrlMismatch { .. } => (
            StatusCode::BAD_REQUEST,
            "url-mismatch",
            "publish to /api/v1/modules/<namespace>/<name>/<version> of the archive's own manifest"
                .to_owned(),
        ),
        Refusal::UnknownVersion { .. } => (
            StatusCode::NOT_FOUND,
            "not-found",
            "see the module's index file for its versions".to_owned(),
        ),
        Refusal::ForkLicenceChanged { base_licence, .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "fork-licence-changed",
            format!("write `licence: {base_licence}` back in module.yaml: modifications are given back under the same licence"),
        ),
        Refusal::Snapshot(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "snapshot",
            "the change is written; the forge signs its snapshot again at the next change or restart"
                .to_owned(),
        ),
        Refusal::Registry(e) => match e {
            RegistryError::VersionExists { .. } => (
                StatusCode::CONFLICT,
                "version-exists",
                "versions are immutable: bump the version and publish again".to_owned(),
            ),
            RegistryError::NamespaceNotOwned { .. } => (
                StatusCode::FORBIDDEN,
                "namespace-not-owned",
                format!(
                    "this forge owns {}; publish to the forge that owns the namespace",
                    forge.publisher.registry.config.namespaces.join(", ")
                ),
            ),
            RegistryError::InvalidManifest { diagnostics, .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-manifest",
                diagnostics
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            // The forge's own disk failed while unpacking: not the archive's fault.
            RegistryError::Unpack(crate::package::unpack::UnpackError::Io { .. }) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "see the forge's log".to_owned(),
            ),
            RegistryError::InvalidArchive { .. }
            | RegistryError::Unpack(_)
            | RegistryError::Package(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-archive",
                "build the archive with `oent package`".to_owned(),
            ),
            _ => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "see the forge's log".to_owned(),
            ),
        },
    };
    let mut message = refusal.to_string();
    if status.is_server_error() {
        tracing::error!(code, reason = message, "publish failed");
        // The details (paths on the server, system errors) stay in the log.
        message = match &refusal {
            Refusal::Snapshot(_) => "the index changed but its snapshot could not be signed",
            _ => "the forge could not complete this request",
        }
        .to_owned();
    } else {
        tracing::warn!(code, reason = message, "refused");
    }
    problem(status, code, message, help)
}

/// A blocking task that panicked: a bug, reported as such.
fn task_failed(what: &str, e: tokio::task::JoinError) -> Response {
    tracing::error!(error = %e, "{what} task failed");
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        format!("the {what} failed inside the forge"),
        "see the forge's log",
    )
}

fn too_large(limit: u64) -> Response {
    problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        format!("the upload is larger than this forge's limit of {limit} bytes"),
        "module archives hold configuration and templates, not binaries; raise `max-upload-mib` in forge.yaml if this one is right",
    )
}

fn unauthorized(message: &str) -> Response {
    let mut response = problem(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        message,
        "create a token with `oent forge token` and pass it with --token or $OENT_TOKEN",
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"oent\""),
    );
    response
}

/// Errors are JSON: `{"error": {"status", "code", "message", "help"}}`.
fn problem(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
    help: impl Into<String>,
) -> Response {
    let body = serde_json::json!({
        "error": { "status": status.as_u16(), "code": code, "message": message.into(), "help": help.into() }
    });
    json(status, &body)
}

fn json(status: StatusCode, value: &impl serde::Serialize) -> Response {
    let mut text = serde_json::to_string(value).expect("JSON values serialise");
    text.push('\n');
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

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
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};

use super::ForgeError;
use super::auth::Authenticated;
use super::config::Token;
use super::error::{ApiError, json};
use super::extract::UrlPath;
use super::files;
use super::publish::{self as publishing, Expected, Outcome, Refusal};
use super::state::Shared;
use super::upload;

/// Everything a request may need.
pub fn router(forge: Shared) -> Router {
    let catalogue = super::catalogue::router(&forge.publisher.registry().root);
    let timeout = forge.config.request_timeout;
    // Only uploads read a body: the limit wraps them alone.
    let uploads = Router::new()
        .route("/api/v1/modules", put(publish_any))
        .route("/api/v1/modules/{ns}/{name}/{version}", put(publish_named))
        .layer(upload::body_limit(forge.config.max_upload_bytes));
    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/api/v1/token", get(token_info))
        .route("/api/v1/modules/{ns}/{name}/{version}/yank", post(yank))
        .route("/api/v1/modules/{ns}/{name}/{version}/unyank", post(unyank))
        .route("/{*path}", get(static_file))
        .merge(uploads)
        .with_state(forge)
        .merge(catalogue)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(timeout, time_limit));
    // Decided once, when the router is built (the log filter is set before,
    // from OENT_LOG, and never reloaded): off, no request pays for a layer.
    if tracing::enabled!(target: ACCESS_TARGET, tracing::Level::DEBUG) {
        app.layer(middleware::from_fn(access_log))
    } else {
        app
    }
}

/// The target of the access log: `OENT_LOG=info,oent::access=debug` logs
/// one line per request (method, path, whether it was conditional, status,
/// body bytes), which the federation benchmark counts. Off, the router has
/// no access-log layer at all.
pub const ACCESS_TARGET: &str = "oent::access";

async fn access_log(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let conditional = request
        .headers()
        .contains_key(axum::http::header::IF_NONE_MATCH);
    let response = next.run(request).await;
    let bytes = axum::body::HttpBody::size_hint(response.body()).exact();
    tracing::debug!(
        target: ACCESS_TARGET,
        %method,
        path,
        conditional,
        status = response.status().as_u16(),
        bytes,
        "request"
    );
    response
}

/// A known path asked with another method (axum adds the `Allow` header).
async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

/// Bounds every request from its headers to its answer, upload included: a
/// client that stops sending its body, or sends it a byte at a time, holds a
/// connection and a task for `request-timeout-seconds` at most. A publish
/// already on its blocking thread still completes (a retry then gets 200).
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(seconds = limit.as_secs(), "refused: request timed out");
            ApiError::Timeout(limit).into_response()
        }
    }
}

/// The listening sockets of one forge: one per runtime thread, all bound to
/// the same address with `SO_REUSEPORT`, so that the kernel spreads the
/// connections over the threads and a request is read, answered and written
/// on the thread that accepted it (nginx's model: no hand-over between
/// threads, no work stealing).
///
/// A plain bind first: `SO_REUSEPORT` would otherwise let this forge join the
/// sockets of another one (same user) already listening on the address and
/// share its traffic; the plain bind fails as before ("address in use") and,
/// with port 0, picks the port the others then share.
pub fn bind_per_thread(
    address: std::net::SocketAddr,
    threads: usize,
) -> Result<(std::net::SocketAddr, Vec<tokio::net::TcpSocket>), ForgeError> {
    let listen_error = |source| ForgeError::Listen { address, source };
    let local = std::net::TcpListener::bind(address)
        .and_then(|probe| probe.local_addr())
        .map_err(listen_error)?;
    let sockets = (0..threads.max(1))
        .map(|_| {
            let socket = if local.is_ipv4() {
                tokio::net::TcpSocket::new_v4()?
            } else {
                tokio::net::TcpSocket::new_v6()?
            };
            socket.set_reuseaddr(true)?;
            socket.set_reuseport(true)?;
            socket.bind(local)?;
            Ok(socket)
        })
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(listen_error)?;
    Ok((local, sockets))
}

/// Listens on `socket` (one of [`bind_per_thread`]'s), registered with the
/// runtime entered when it is called (the one its thread then drives),
/// before the address is printed.
pub fn listen(
    socket: tokio::net::TcpSocket,
    address: std::net::SocketAddr,
) -> Result<tokio::net::TcpListener, ForgeError> {
    socket
        .listen(1024)
        .map_err(|source| ForgeError::Listen { address, source })
}

/// Serves `app` (the [`router`], built once: every thread shares its
/// catalogue) on `listener`, bound to `address`, until `shutdown`
/// completes, then finishes the requests in flight.
pub async fn serve(
    app: Router,
    (listener, address): (tokio::net::TcpListener, std::net::SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ForgeError> {
    // Without TCP_NODELAY, an answer written in two parts waits for the
    // client's delayed ACK: 40 ms added to every publish.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| ForgeError::Listen { address, source })
}

/// Removes what an earlier run killed mid-publish left, before the first request.
pub fn recover(forge: &Shared) {
    publishing::recover(forge.publisher.registry());
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
                let synced = super::sync::sync_all(
                    &worker.publisher,
                    &worker.config.peers,
                    &crate::registry::fetch::NoProgress,
                );
                if let Err(e) = synced.signed {
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

/// Takes the request itself, not its `HeaderMap` and `Method` (each
/// extractor a clone): the headers are only read.
async fn static_file(
    State(forge): State<Shared>,
    UrlPath(path): UrlPath<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let head = request.method() == Method::HEAD;
    match forge.files.serve(&path, request.headers(), head).await {
        Ok(response) => Ok(response),
        Err(files::Refusal::Traversal) => {
            tracing::warn!(path, "refused: path leaves the registry");
            Err(ApiError::BadPath(path))
        }
        Err(files::Refusal::NotFound) => Err(ApiError::NotFound(path)),
    }
}

/// What a token may do, so that a client checks it before a long job
/// (`oent release` does, before tagging) without writing anything.
async fn token_info(Authenticated(token): Authenticated) -> Response {
    json(
        StatusCode::OK,
        &serde_json::json!({ "name": token.name, "namespaces": token.namespaces }),
    )
}

async fn publish_any(
    State(forge): State<Shared>,
    Authenticated(token): Authenticated,
    request: Request,
) -> Result<Response, ApiError> {
    publish(forge, token, None, request).await
}

async fn publish_named(
    State(forge): State<Shared>,
    Authenticated(token): Authenticated,
    UrlPath((ns, name, version)): UrlPath<(String, String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    // A token for another namespace is refused before the upload is read.
    if !token.allows(&ns) {
        return Err(Refusal::TokenScope {
            token: token.name.clone(),
            namespace: ns,
            allowed: token.namespaces.join(", "),
        }
        .into());
    }
    publish(
        forge,
        token,
        Some((format!("{ns}/{name}"), version)),
        request,
    )
    .await
}

async fn publish(
    forge: Shared,
    token: Token,
    named: Option<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    let bytes = upload::read(request, forge.config.max_upload_bytes, &token.name).await?;
    let size = bytes.len();
    let worker = forge.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let expected = named
            .as_ref()
            .map(|(name, version)| Expected { name, version });
        publishing::publish(&worker.publisher, &bytes, &token, expected)
    })
    .await
    .map_err(|e| task_failed("publish", e))??;
    Ok(match outcome {
        Outcome::Created(line) => {
            tracing::info!(
                module = %line.name,
                version = %line.version,
                sha256 = line.sha256.as_str(),
                size,
                "published"
            );
            json(StatusCode::CREATED, &line)
        }
        Outcome::AlreadyPresent(line) => {
            tracing::info!(
                module = %line.name,
                version = %line.version,
                "already published with the same bytes"
            );
            json(StatusCode::OK, &line)
        }
    })
}

async fn yank(
    State(forge): State<Shared>,
    Authenticated(token): Authenticated,
    UrlPath(target): UrlPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    set_yanked(forge, token, target, true).await
}

async fn unyank(
    State(forge): State<Shared>,
    Authenticated(token): Authenticated,
    UrlPath(target): UrlPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    set_yanked(forge, token, target, false).await
}

async fn set_yanked(
    forge: Shared,
    token: Token,
    (ns, name, version): (String, String, String),
    yanked: bool,
) -> Result<Response, ApiError> {
    let module = format!("{ns}/{name}");
    let worker = forge.clone();
    let line = tokio::task::spawn_blocking(move || {
        publishing::set_yanked(&worker.publisher, &token, &module, &version, yanked)
    })
    .await
    .map_err(|e| task_failed("yank", e))??;
    tracing::info!(
        module = %line.name,
        version = %line.version,
        yanked,
        "yank state set"
    );
    Ok(json(StatusCode::OK, &line))
}

/// A blocking task that panicked: a bug, logged with its panic.
fn task_failed(what: &'static str, e: tokio::task::JoinError) -> ApiError {
    tracing::error!(error = %e, "{what} task failed");
    ApiError::TaskFailed(what)
}

/// The router driven directly, without a socket: statuses, headers and JSON
/// bodies of the API's answers.
#[cfg(test)]
mod tests {
    use std::path::Path;

    use axum::body::Body;
    use axum::http::{HeaderMap, Request, header};
    use serde_json::{Value, json as value};
    use tower::ServiceExt;

    use std::sync::Arc;

    use super::*;
    use crate::forge::config::{ForgeConfig, hash_token};
    use crate::forge::files::StaticFiles;
    use crate::forge::state::Forge;
    use crate::registry::config::RegistryConfig;
    use crate::registry::local::{LocalRegistry, pack_to_memory};
    use crate::registry::publish::Publisher;

    const OPENENT_TOKEN: &str = "oent_test_openent";
    const IDF_TOKEN: &str = "oent_test_idf";

    /// A forge owning `openent`, with a token for it and one for `idf`.
    fn app(dir: &Path, settings: &str) -> Router {
        let root = dir.join("registry");
        let registry =
            LocalRegistry::init(&root, RegistryConfig::owning("openent", &["openent"])).unwrap();
        let yaml = format!(
            "schema: oent/forge/v1\nregistry: registry\n{settings}tokens:\n  \
             - {{ name: ci-openent, sha256: \"{}\", namespaces: [openent] }}\n  \
             - {{ name: ci-idf, sha256: \"{}\", namespaces: [idf] }}\n",
            hash_token(OPENENT_TOKEN),
            hash_token(IDF_TOKEN),
        );
        std::fs::write(dir.join("forge.yaml"), yaml).unwrap();
        let config = ForgeConfig::load(&dir.join("forge.yaml")).unwrap();
        router(Arc::new(Forge {
            config,
            files: StaticFiles::new(&root),
            publisher: Publisher::new(registry, None),
        }))
    }

    /// An archive of `name` `version`, its summary varied by `summary`.
    fn archive(dir: &Path, name: &str, version: &str, summary: &str) -> Vec<u8> {
        let module = dir.join(format!("{}-{version}-{summary}", name.replace('/', "-")));
        std::fs::create_dir_all(&module).unwrap();
        std::fs::write(
            module.join("module.yaml"),
            format!(
                "schema: oent/module/v1\nname: {name}\nversion: {version}\nlicence: CECILL-2.1\n\
                 summary: \"{summary}\"\ncategory: pedagogie\naudiences: [eleve]\n\
                 repository: https://forge.example.org/{name}.git\n"
            ),
        )
        .unwrap();
        pack_to_memory(&module).unwrap().1
    }

    fn put(path: &str, token: Option<&str>, body: impl Into<Body>) -> Request<Body> {
        let mut request = Request::put(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        request.body(body.into()).unwrap()
    }

    /// Status and JSON body of one request.
    async fn send(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
        let (status, _, body) = answer(app, request).await;
        (status, body)
    }

    /// Status, headers and JSON body of one request.
    async fn answer(app: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
        let (parts, body) = app.clone().oneshot(request).await.unwrap().into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        (
            parts.status,
            parts.headers,
            serde_json::from_slice(&bytes).unwrap(),
        )
    }

    #[tokio::test]
    async fn an_unauthenticated_publish_is_401_with_the_way_to_get_a_token() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path(), "");
        let (status, headers, _) = answer(&app, put("/api/v1/modules", None, "archive")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer realm=\"oent\"");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        let (status, body) = send(&app, put("/api/v1/modules", Some("oent_guessed"), "")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            body,
            value!({ "error": {
                "status": 401,
                "code": "unauthorized",
                "message": "the token is not known to this forge",
                "help": "create a token with `oent forge token` and pass it with --token or $OENT_TOKEN",
            }})
        );
        let (status, body) = send(&app, put("/api/v1/modules", None, "")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            body["error"]["message"],
            "this request needs `Authorization: Bearer <token>`"
        );
        let (status, _) = send(
            &app,
            Request::get("/api/v1/token").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let yank = Request::post("/api/v1/modules/openent/x/1.0.0/yank")
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&app, yank).await.0, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn a_token_for_another_namespace_is_403() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path(), "");
        let bytes = archive(dir.path(), "openent/x", "1.0.0", "x");
        let (status, body) = send(
            &app,
            put("/api/v1/modules/openent/x/1.0.0", Some(IDF_TOKEN), bytes),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            body,
            value!({ "error": {
                "status": 403,
                "code": "namespace-not-allowed",
                "message": "token `ci-idf` may publish into idf, not into namespace `openent`",
                "help": "ask the forge's administrators for a token scoped to this namespace",
            }})
        );
        // idf is the token's, but not the forge's.
        let bytes = archive(dir.path(), "idf/x", "1.0.0", "x");
        let (status, body) = send(&app, put("/api/v1/modules", Some(IDF_TOKEN), bytes)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error"]["code"], "namespace-not-owned");
        assert_eq!(
            body["error"]["help"],
            "this forge owns openent; publish to the forge that owns the namespace"
        );
    }

    #[tokio::test]
    async fn a_bad_archive_is_422() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path(), "");
        let (status, body) = send(
            &app,
            put("/api/v1/modules", Some(OPENENT_TOKEN), "not a tar.gz"),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"]["status"], 422);
        assert_eq!(body["error"]["code"], "invalid-archive");
        assert_eq!(
            body["error"]["help"],
            "build the archive with `oent package`"
        );
        assert_eq!(
            body["error"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["code", "help", "message", "status"]
        );
    }

    #[tokio::test]
    async fn a_version_published_with_other_bytes_is_409_and_the_same_bytes_200() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path(), "");
        let first = archive(dir.path(), "openent/x", "1.0.0", "first");
        let path = "/api/v1/modules/openent/x/1.0.0";
        let (status, line) = send(&app, put(path, Some(OPENENT_TOKEN), first.clone())).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(
            (&line["name"], &line["version"]),
            (&value!("openent/x"), &value!("1.0.0"))
        );
        let (status, again) = send(&app, put(path, Some(OPENENT_TOKEN), first)).await;
        assert_eq!((status, again), (StatusCode::OK, line));
        let other = archive(dir.path(), "openent/x", "1.0.0", "other");
        let (status, body) = send(&app, put(path, Some(OPENENT_TOKEN), other)).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["status"], 409);
        assert_eq!(body["error"]["code"], "version-exists");
        assert_eq!(
            body["error"]["help"],
            "versions are immutable: bump the version and publish again"
        );
    }

    #[tokio::test]
    async fn an_over_large_body_is_413_declared_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path(), "max-upload-mib: 1\n");
        let expected = value!({ "error": {
            "status": 413,
            "code": "too-large",
            "message": "the upload is larger than this forge's limit of 1048576 bytes",
            "help": "module archives hold configuration and templates, not binaries; raise `max-upload-mib` in forge.yaml if this one is right",
        }});
        // Declared: refused from the headers, before the body is read.
        let mut declared = put("/api/v1/modules", Some(OPENENT_TOKEN), Body::empty());
        declared
            .headers_mut()
            .insert(header::CONTENT_LENGTH, (2u64 << 20).into());
        assert_eq!(
            send(&app, declared).await,
            (StatusCode::PAYLOAD_TOO_LARGE, expected.clone())
        );
        // Streamed without a length: stopped by the body limit.
        let chunks = futures_util::stream::iter(
            (0..20).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 64 << 10])),
        );
        let streamed = put(
            "/api/v1/modules",
            Some(OPENENT_TOKEN),
            Body::from_stream(chunks),
        );
        assert_eq!(
            send(&app, streamed).await,
            (StatusCode::PAYLOAD_TOO_LARGE, expected)
        );
    }

    #[tokio::test]
    async fn an_upload_that_never_ends_is_408_after_the_request_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path(), "request-timeout-seconds: 1\n");
        let stalled = futures_util::stream::pending::<Result<Vec<u8>, std::io::Error>>();
        let request = put(
            "/api/v1/modules",
            Some(OPENENT_TOKEN),
            Body::from_stream(stalled),
        );
        let (status, body) = tokio::time::timeout(Duration::from_secs(10), send(&app, request))
            .await
            .expect("the forge answers a stalled upload by its timeout");
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(body["error"]["code"], "timeout");
        assert_eq!(
            body["error"]["message"],
            "the request took longer than this forge's limit of 1 s"
        );
    }

    #[tokio::test]
    async fn a_path_that_is_not_utf_8_is_400_in_json() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path(), "");
        for (method, path) in [
            ("GET", "/index/%FF"),
            ("POST", "/api/v1/modules/openent/%FF/1.0.0/yank"),
        ] {
            let request = Request::builder()
                .method(method)
                .uri(path)
                .header(header::AUTHORIZATION, format!("Bearer {OPENENT_TOKEN}"))
                .body(Body::empty())
                .unwrap();
            let (status, body) = send(&app, request).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
            assert_eq!(body["error"]["status"], 400, "{path}");
            assert_eq!(body["error"]["code"], "bad-path", "{path}");
        }
    }

    #[tokio::test]
    async fn a_method_a_route_does_not_take_is_405_in_json() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path(), "");
        for (method, path) in [("DELETE", "/registry.yaml"), ("GET", "/api/v1/modules")] {
            let request = Request::builder()
                .method(method)
                .uri(path)
                .body(Body::empty())
                .unwrap();
            let (status, headers, body) = answer(&app, request).await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
            assert!(headers.contains_key(header::ALLOW), "{path}");
            assert_eq!(
                body,
                value!({ "error": {
                    "status": 405,
                    "code": "method-not-allowed",
                    "message": format!("{method} is not a method of `{path}`"),
                    "help": "see docs/forge.md for the forge's routes and their methods",
                }}),
            );
        }
    }

    #[tokio::test]
    async fn unknown_routes_and_paths_are_404_in_json() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path(), "");
        let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        assert_eq!(
            send(&app, get("/api/v1/nothing")).await,
            (
                StatusCode::NOT_FOUND,
                value!({ "error": {
                    "status": 404,
                    "code": "not-found",
                    "message": "`api/v1/nothing` is not in this registry",
                    "help": "see registry.yaml and index/ for what is published",
                }})
            )
        );
        let (status, body) = send(&app, get("/index/../forge.yaml")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], "bad-path");
        let unknown = Request::post("/api/v1/modules/openent/x/1.0.0/yank")
            .header(header::AUTHORIZATION, format!("Bearer {OPENENT_TOKEN}"))
            .body(Body::empty())
            .unwrap();
        let (status, body) = send(&app, unknown).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            body["error"]["message"],
            "openent/x has no version 1.0.0 on this forge"
        );
    }
}

//! The forge's web catalogue: server-rendered HTML and one stylesheet, no
//! script. Uses `registry/` (index files, registry.yaml), `package/` (safe
//! unpacking) and `manifest/` (module.yaml); see docs/catalogue.md.
//!
//! ```text
//! GET /                                   list; ?q=…&category=…&audience=…&licence=…
//! GET /modules/{ns}/{name}                newest version not yanked
//! GET /modules/{ns}/{name}/{version}      one version
//! GET /catalogue.css
//! ```
//!
//! - [`data`] — the model read from the registry directory, cached;
//! - [`pages`] — the Tera templates (escaped) and what each page shows;
//! - [`markdown`] — READMEs as HTML, with every HTML in them escaped.

pub mod data;
pub mod markdown;
pub mod pages;

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, Query as UrlQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use data::{Query, Store};

const STYLE: &str = include_str!("style.css");

/// Pages may load only the stylesheet: even an escaping bug could not run
/// a script or send a form elsewhere.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub struct Catalogue {
    store: Store,
    tera: tera::Tera,
}

impl Catalogue {
    pub fn new(registry: &Path) -> Catalogue {
        Catalogue {
            store: Store::new(registry),
            tera: pages::templates(),
        }
    }

    /// The list page for `query`.
    pub fn list_page(&self, query: &Query) -> String {
        pages::list(&self.tera, &self.store.model(), query)
    }

    /// A module's page (its newest version not yanked, or `version`);
    /// `Err`: the 404 page.
    pub fn module_page(
        &self,
        name: &str,
        version: Option<&str>,
        site_url: &str,
    ) -> Result<String, String> {
        let model = self.store.model();
        let Some(entry) = model.get(name) else {
            return Err(pages::not_found(
                &self.tera,
                &model,
                &format!("Aucun module {name} dans ce registre."),
            ));
        };
        let line = match version {
            None => entry.line(),
            Some(v) => match entry.versions.iter().find(|l| l.is_version(v)) {
                Some(line) => line,
                None => {
                    return Err(pages::not_found(
                        &self.tera,
                        &model,
                        &format!("{name} n'a pas de version {v} dans ce registre."),
                    ));
                }
            },
        };
        let details = if version.is_none() {
            entry.details.clone()
        } else {
            self.store.details(line)
        };
        let site_url = model
            .api
            .as_deref()
            .and_then(|api| api.trim_end_matches('/').strip_suffix("/api/v1"))
            .unwrap_or(site_url);
        Ok(pages::module(
            &self.tera,
            &model,
            &pages::Site { url: site_url },
            entry,
            line,
            details.as_deref().map_err(String::as_str),
        ))
    }
}

type Shared = Arc<Catalogue>;

/// The catalogue's routes, over the registry directory at `registry`.
/// Merged into the forge's router: these paths are matched before its
/// `/{*path}` of static registry files, whose roots they do not overlap.
pub fn router(registry: &Path) -> Router {
    let catalogue = Arc::new(Catalogue::new(registry));
    // Read the archives now rather than on the first visit (a cold
    // registry of 1,000 modules takes seconds); a request arriving
    // meanwhile waits for the same build.
    let warm = catalogue.clone();
    std::thread::spawn(move || {
        warm.store.model();
    });
    Router::new()
        .route("/", get(list))
        .route("/catalogue.css", get(style))
        .route("/modules/{ns}/{name}", get(module))
        .route("/modules/{ns}/{name}/{version}", get(module_version))
        .with_state(catalogue)
}

async fn list(State(catalogue): State<Shared>, UrlQuery(query): UrlQuery<Query>) -> Response {
    let page = tokio::task::spawn_blocking(move || catalogue.list_page(&query)).await;
    match page {
        Ok(html) => page_response(StatusCode::OK, html),
        Err(e) => failed(e),
    }
}

async fn module(
    State(catalogue): State<Shared>,
    UrlPath((ns, name)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    show(catalogue, format!("{ns}/{name}"), None, &headers).await
}

async fn module_version(
    State(catalogue): State<Shared>,
    UrlPath((ns, name, version)): UrlPath<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    show(catalogue, format!("{ns}/{name}"), Some(version), &headers).await
}

async fn show(
    catalogue: Shared,
    name: String,
    version: Option<String>,
    headers: &HeaderMap,
) -> Response {
    let site = site_url(headers);
    let page = tokio::task::spawn_blocking(move || {
        catalogue.module_page(&name, version.as_deref(), &site)
    })
    .await;
    match page {
        Ok(Ok(html)) => page_response(StatusCode::OK, html),
        Ok(Err(html)) => page_response(StatusCode::NOT_FOUND, html),
        Err(e) => failed(e),
    }
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        STYLE,
    )
        .into_response()
}

/// `http(s)://host[:port]` as the client reached the forge, when
/// registry.yaml has no `api:` that says it. A Host of unexpected
/// characters is not echoed.
fn site_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let https = headers
        .get("x-forwarded-proto")
        .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"https"));
    format!("{}://{host}", if https { "https" } else { "http" })
}

fn page_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

fn failed(e: tokio::task::JoinError) -> Response {
    tracing::error!(error = %e, "catalogue task failed");
    page_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "<!DOCTYPE html><html lang=\"fr\"><title>Erreur</title><p>Erreur interne du catalogue.</p></html>".to_owned(),
    )
}

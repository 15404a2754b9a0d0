//! A registry served over HTTP(S) by any static web server: [`HttpSource`].
//!
//! - `registry.yaml` and index files are small: each request carries the
//!   cached ETag (`If-None-Match`), a 304 answer reuses the cached copy;
//! - archives are streamed into a temporary file of the cache while being
//!   hashed, refused as soon as the body exceeds the index's size, compared
//!   with the index's sha256, and only then renamed to their
//!   content-addressed name; any failure drops (deletes) the temporary file;
//! - failures of the network or the server (unreachable, reset, cut short,
//!   5xx) are retried with exponential backoff ([`Retry`]); answers that
//!   would be the same next time (404, wrong size or checksum) are not;
//! - every transfer has a deadline and a minimum rate ([`TransferLimits`]):
//!   a server that sends a byte now and then cannot hold a run forever;
//!   such a transfer is not retried;
//! - `registry.yaml` is checked (not a web page, a valid registry.yaml)
//!   before it is stored in the cache;
//! - offline, only the cache is read;
//! - with pinned keys ([`HttpSource::pinned`]), `snapshot.json` is
//!   verified first and every index file checked against it ([`Trust`]).
//!
//! reqwest's blocking client over rustls: no OpenSSL, no async in the API.

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{ETAG, IF_NONE_MATCH};

use super::cache::{Cache, normalise};
use super::checks::{check_line, check_names, utf8, verify_file};
use super::config::RegistryConfig;
use super::index::{self, IndexEntry};
use super::signing::PublicKey;
use super::snapshot::{MAX_SNAPSHOT_BYTES, hashed_path, parse_hashed_path};
use super::source::{FetchError, IndexText, Source, check_served, io_error};
use super::transfer::{Pace, TransferLimits};
use super::trust::Trust;
use super::{REGISTRY_FILE, RegistryError};
use crate::manifest::names::ModuleName;
use crate::package::checksum::{HashingWriter, sha256_hex};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const USER_AGENT: &str = concat!("oent/", env!("CARGO_PKG_VERSION"));
/// Bounds on the small files, so that a misbehaving server cannot fill memory.
pub const MAX_INDEX_BYTES: u64 = 32 << 20;
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// How often and after what pauses a transient failure is tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// The pause before each new attempt: `n` delays mean `n + 1` attempts.
    pub delays: Vec<Duration>,
}

impl Default for Retry {
    /// 3 attempts, 200 ms then 800 ms apart: enough for a server restart or
    /// a dropped connection, short enough not to hide an outage.
    fn default() -> Self {
        Retry {
            delays: vec![Duration::from_millis(200), Duration::from_millis(800)],
        }
    }
}

impl Retry {
    /// Runs `attempt` until it succeeds, fails for good (not
    /// [`FetchError::is_transient`]), or the attempts are spent.
    pub fn run<T>(
        &self,
        mut attempt: impl FnMut() -> Result<T, FetchError>,
    ) -> Result<T, FetchError> {
        let mut delays = self.delays.iter();
        loop {
            match attempt() {
                Err(err) if err.is_transient() => match delays.next() {
                    Some(delay) => std::thread::sleep(*delay),
                    None => return Err(err),
                },
                result => return result,
            }
        }
    }
}

/// A registry at an `http://` or `https://` base URL.
#[derive(Debug)]
pub struct HttpSource {
    base: String,
    cache: Cache,
    /// `None` offline: nothing may touch the network.
    client: Option<Client>,
    retry: Retry,
    limits: TransferLimits,
    trust: Option<Trust>,
    /// `registry.yaml` of an unpinned registry, once read (see
    /// [`HttpSource::unpinned_config`]).
    served: std::sync::Mutex<Option<RegistryConfig>>,
}

impl HttpSource {
    pub fn new(base: &str, cache: Cache, offline: bool) -> Result<HttpSource, FetchError> {
        let base = normalise(base).to_owned();
        cache.clean_leftovers();
        let limits = TransferLimits::from_env()?;
        let client = if offline {
            None
        } else {
            Some(build_client(&base, &limits)?)
        };
        Ok(HttpSource {
            base,
            cache,
            client,
            retry: Retry::default(),
            limits,
            trust: None,
            served: std::sync::Mutex::new(None),
        })
    }

    /// Requires a snapshot signed by one of `keys` (refusing rollback,
    /// freeze and mix-and-match) before believing any file of the registry.
    pub fn pinned(mut self, keys: Vec<PublicKey>) -> HttpSource {
        let state = self.cache.registry_dir(&self.base);
        self.trust = Some(Trust::new(&self.base, keys, state));
        self
    }

    /// A metadata file with the size bound of its kind; a hashed copy
    /// (`by-hash/<path>/<sha256>`) with the bound of its plain path;
    /// `registry.yaml` is checked before it is cached (a hashed copy is
    /// checked by its hash).
    fn metadata_file(&self, relative: &str) -> Result<Option<Vec<u8>>, FetchError> {
        if relative == REGISTRY_FILE {
            return self.small_file_checked(relative, MAX_CONFIG_BYTES, &|url, bytes| {
                check_registry_yaml(url, bytes).map(drop)
            });
        }
        let (plain, hashed) = match parse_hashed_path(relative) {
            Some((plain, sha256)) => (plain, Some(sha256)),
            None => (relative, None),
        };
        let limit = if plain == REGISTRY_FILE {
            MAX_CONFIG_BYTES
        } else if plain.ends_with(".jsonl") {
            MAX_INDEX_BYTES
        } else {
            MAX_SNAPSHOT_BYTES
        };
        match hashed {
            Some(sha256) => self.hashed_file(plain, sha256, limit),
            None => self.small_file(relative, limit),
        }
    }

    /// The copy of `plain` whose sha256 is `sha256`: the cached copy of
    /// `plain` when it has that hash (no request at all), else the
    /// registry's hashed copy, cached as `plain` only when its hash is
    /// right (the caller refuses it otherwise). Hashed copies never change:
    /// no ETag is needed.
    fn hashed_file(
        &self,
        plain: &str,
        sha256: &str,
        limit: u64,
    ) -> Result<Option<Vec<u8>>, FetchError> {
        let cached = self.cache.file(&self.base, plain);
        if let Some(bytes) = cached.read()?
            && sha256_hex(&bytes) == sha256
        {
            return Ok(Some(bytes));
        }
        let url = self.url(&hashed_path(plain, sha256));
        let Some(client) = &self.client else {
            return Err(FetchError::Offline { what: url });
        };
        match self
            .retry
            .run(|| conditional_get(client, &url, None, limit, &self.limits))?
        {
            Fetched::Body { bytes, .. } => {
                if sha256_hex(&bytes) == sha256 {
                    cached.store(&bytes, None)?;
                }
                Ok(Some(bytes))
            }
            Fetched::Missing => Ok(None),
            Fetched::NotModified => Err(FetchError::HttpStatus { url, status: 304 }),
        }
    }

    pub fn with_retry(mut self, retry: Retry) -> HttpSource {
        self.retry = retry;
        self
    }

    fn url(&self, relative: &str) -> String {
        format!("{}/{relative}", self.base)
    }

    /// A module's index file and its URL, checked against the signed
    /// snapshot when the registry's key is pinned.
    fn index_bytes(&self, name: &ModuleName) -> Result<(String, Option<Vec<u8>>), FetchError> {
        let relative = index::index_path(name.as_str());
        let bytes = match &self.trust {
            Some(trust) => {
                trust.index_file(&|r| self.metadata_file(r), &self.base, name, &relative)?
            }
            None => {
                self.check_served(name)?;
                self.small_file(&relative, MAX_INDEX_BYTES)?
            }
        };
        Ok((self.url(&relative), bytes))
    }

    /// Refuses a module of a namespace this (unpinned) registry neither
    /// owns nor mirrors, before its index file is asked for.
    fn check_served(&self, name: &ModuleName) -> Result<(), FetchError> {
        check_served(&self.unpinned_config()?, &self.base, name)
    }

    /// `registry.yaml` of an unpinned registry, downloaded and checked once
    /// per source: building the source set and each index read ask for it,
    /// and each ask would otherwise be one more request to the server.
    fn unpinned_config(&self) -> Result<RegistryConfig, FetchError> {
        let mut served = self.served.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(config) = served.as_ref() {
            return Ok(config.clone());
        }
        let Some(bytes) = self.metadata_file(REGISTRY_FILE)? else {
            return Err(RegistryError::NotARegistry(PathBuf::from(&self.base)).into());
        };
        let config = check_registry_yaml(&self.url(REGISTRY_FILE), &bytes)?;
        *served = Some(config.clone());
        Ok(config)
    }

    /// A small registry file (`registry.yaml`, an index file): from the
    /// server when it changed, else from the cache. `None`: the registry
    /// has no such file.
    fn small_file(&self, relative: &str, limit: u64) -> Result<Option<Vec<u8>>, FetchError> {
        self.small_file_checked(relative, limit, &|_, _| Ok(()))
    }

    /// [`HttpSource::small_file`], refusing a downloaded body that `check`
    /// (given the URL) refuses, before it reaches the cache.
    fn small_file_checked(
        &self,
        relative: &str,
        limit: u64,
        check: &BodyCheck,
    ) -> Result<Option<Vec<u8>>, FetchError> {
        let cached = self.cache.file(&self.base, relative);
        let url = self.url(relative);
        let Some(client) = &self.client else {
            return match cached.read()? {
                Some(bytes) => Ok(Some(bytes)),
                None => Err(FetchError::Offline { what: url }),
            };
        };
        let etag = cached.etag();
        let get = |etag: Option<&str>| {
            self.retry
                .run(|| conditional_get(client, &url, etag, limit, &self.limits))
        };
        let fetched = match get(etag.as_deref())? {
            // The cached copy vanished since we read its ETag: ask for the body.
            Fetched::NotModified => match cached.read()? {
                Some(bytes) => return Ok(Some(bytes)),
                None => get(None)?,
            },
            fetched => fetched,
        };
        match fetched {
            Fetched::Body { bytes, etag } => {
                check(&url, &bytes)?;
                cached.store(&bytes, etag.as_deref())?;
                Ok(Some(bytes))
            }
            Fetched::Missing => {
                cached.remove()?;
                Ok(None)
            }
            Fetched::NotModified => Err(FetchError::HttpStatus { url, status: 304 }),
        }
    }

    /// One attempt at downloading an archive into the cache.
    fn download(&self, client: &Client, url: &str, line: &IndexEntry) -> Result<(), FetchError> {
        let mut pace = Pace::start(&self.limits, url);
        let mut response = send(client.get(url), url)?;
        check_status(&response, url)?;
        let temp = self.cache.archive_temp(line.sha256.as_str())?;
        let mut writer = HashingWriter::new(BufWriter::new(temp.as_file()));
        copy_bounded(
            &mut response,
            &mut pace,
            Some(line.size),
            line.size,
            &mut writer,
            temp.path(),
        )?;
        let (buffered, sha256, _) = writer.finish();
        buffered
            .into_inner()
            .map_err(|e| io_error(temp.path())(e.into_error()))?;
        if sha256 != line.sha256 {
            return Err(FetchError::ChecksumMismatch {
                url: url.to_owned(),
                expected: line.sha256.to_string(),
                got: sha256,
            });
        }
        // No fsync: the cache is content-addressed and every use re-checks
        // size and sha256, so an archive torn by a crash is simply fetched
        // again. (It was 60% of the time of fetching 2,000 archives.)
        let path = self.cache.archive_path(line.sha256.as_str());
        temp.persist(&path).map_err(|e| io_error(&path)(e.error))?;
        Ok(())
    }
}

impl Source for HttpSource {
    fn label(&self) -> String {
        self.base.clone()
    }

    fn config(&self) -> Result<RegistryConfig, FetchError> {
        if let Some(trust) = &self.trust {
            return Ok(trust.verified(&|r| self.metadata_file(r))?.config.clone());
        }
        self.unpinned_config()
    }

    fn versions(&self, name: &ModuleName) -> Result<Vec<IndexEntry>, FetchError> {
        let (url, bytes) = self.index_bytes(name)?;
        let Some(bytes) = bytes else {
            return Ok(Vec::new());
        };
        let text = utf8(Path::new(&url), bytes)?;
        let lines = index::parse(Path::new(&url), &text)?;
        check_names(&lines, name, &self.base)?;
        Ok(lines)
    }

    /// The same bytes as [`Source::versions`], verified the same way, for
    /// the resolver's lazy reader (which parses only the lines it needs).
    fn index_text(&self, name: &ModuleName) -> Result<Option<IndexText>, FetchError> {
        let (url, bytes) = self.index_bytes(name)?;
        let text = match bytes {
            Some(bytes) => utf8(Path::new(&url), bytes)?,
            None => String::new(),
        };
        Ok(Some(IndexText {
            path: PathBuf::from(url),
            text,
        }))
    }

    fn archive(&self, line: &IndexEntry) -> Result<PathBuf, FetchError> {
        check_line(line, &self.base)?;
        let path = self.cache.archive_path(line.sha256.as_str());
        let url = self.url(&line.archive);
        if path.is_file() {
            match verify_file(&path, line) {
                Ok(()) => return Ok(path),
                // Damaged in the cache (disk, hand edits): say so offline,
                // else replace it.
                Err(err) if self.client.is_none() => return Err(err),
                Err(_) => std::fs::remove_file(&path).map_err(io_error(&path))?,
            }
        }
        let Some(client) = &self.client else {
            return Err(FetchError::Offline {
                what: format!("{} {} ({url})", line.name, line.version),
            });
        };
        self.retry.run(|| self.download(client, &url, line))?;
        Ok(path)
    }
}

/// The bytes of a `registry.yaml`, parsed, or why they are not one: a web
/// page (a wrong URL, a captive portal, a maintenance page) or YAML that is
/// not a valid registry.yaml (each problem with its line and key).
fn check_registry_yaml(url: &str, bytes: &[u8]) -> Result<RegistryConfig, FetchError> {
    let not_one = |reason: String| FetchError::NotARegistryFile {
        url: url.to_owned(),
        reason,
    };
    if looks_like_html(bytes) {
        return Err(not_one(
            "it is an HTML page (a web site's, a login or a maintenance page), not a registry.yaml"
                .into(),
        ));
    }
    RegistryConfig::from_bytes(Path::new(url), bytes).map_err(|e| match e {
        RegistryError::InvalidConfig { diagnostics, .. } => not_one(format!(
            "it is not a valid registry.yaml:{}",
            diagnostics
                .iter()
                .map(|d| format!("\n  {d}"))
                .collect::<String>()
        )),
        other => other.into(),
    })
}

/// An HTML document starts (after blanks and a byte-order mark) with a tag
/// or a comment; a YAML file cannot start with `<`.
fn looks_like_html(bytes: &[u8]) -> bool {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    text.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'<')
}

fn build_client(base: &str, limits: &TransferLimits) -> Result<Client, FetchError> {
    Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT.min(limits.deadline))
        // In the blocking client this bounds the wait for the headers and
        // each read of the body, not the whole transfer: [`Pace`] bounds
        // the whole transfer and its rate.
        .timeout(limits.read_timeout())
        .build()
        .map_err(|e| FetchError::ServerUnreachable {
            url: base.to_owned(),
            reason: reason(&e),
        })
}

/// Refuses a downloaded body (given its URL) before it reaches the cache.
type BodyCheck = dyn Fn(&str, &[u8]) -> Result<(), FetchError>;

/// What a conditional GET of a small file brought.
enum Fetched {
    NotModified,
    Body {
        bytes: Vec<u8>,
        etag: Option<String>,
    },
    Missing,
}

fn conditional_get(
    client: &Client,
    url: &str,
    etag: Option<&str>,
    limit: u64,
    limits: &TransferLimits,
) -> Result<Fetched, FetchError> {
    let mut pace = Pace::start(limits, url);
    let mut request = client.get(url);
    if let Some(tag) = etag {
        request = request.header(IF_NONE_MATCH, tag);
    }
    let mut response = send(request, url)?;
    match response.status() {
        StatusCode::NOT_MODIFIED if etag.is_some() => return Ok(Fetched::NotModified),
        StatusCode::NOT_FOUND | StatusCode::GONE => return Ok(Fetched::Missing),
        _ => check_status(&response, url)?,
    }
    let etag = response
        .headers()
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let expected = response.content_length();
    let mut bytes = Vec::new();
    copy_bounded(
        &mut response,
        &mut pace,
        expected,
        limit,
        &mut bytes,
        Path::new(url),
    )?;
    Ok(Fetched::Body { bytes, etag })
}

fn send(request: RequestBuilder, url: &str) -> Result<Response, FetchError> {
    request.send().map_err(|e| FetchError::ServerUnreachable {
        url: url.to_owned(),
        reason: reason(&e),
    })
}

fn check_status(response: &Response, url: &str) -> Result<(), FetchError> {
    let status = response.status();
    if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
        return Err(FetchError::NotFound {
            url: url.to_owned(),
        });
    }
    if !status.is_success() {
        return Err(FetchError::HttpStatus {
            url: url.to_owned(),
            status: status.as_u16(),
        });
    }
    Ok(())
}

/// Copies a body into `out`; refuses more than `limit` bytes (reading stops
/// at the first byte too many) and fewer than `expected`. A read error
/// (reset, timeout, a body shorter than its Content-Length) is a truncation,
/// worth retrying; a complete body of the wrong size is not; a transfer
/// past its deadline or under its minimum rate ([`Pace`]) is cut.
fn copy_bounded(
    response: &mut Response,
    pace: &mut Pace<'_>,
    expected: Option<u64>,
    limit: u64,
    out: &mut dyn Write,
    dest: &Path,
) -> Result<u64, FetchError> {
    let url = pace.url;
    let too_long = || FetchError::TooLong {
        url: url.to_owned(),
        limit,
    };
    // Read it now: reqwest's value is what remains of the body.
    let announced = response.content_length();
    if announced.is_some_and(|len| len > limit) {
        return Err(too_long());
    }
    let expected = expected.or(announced);
    let truncated = |got| FetchError::Truncated {
        url: url.to_owned(),
        expected,
        got,
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0u64;
    pace.advance(0)?;
    loop {
        let n = match response.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => {
                // A read that timed out is the rate's or the deadline's
                // failure when they are spent, else a cut connection.
                pace.advance(0)?;
                return Err(truncated(got));
            }
        };
        pace.advance(n as u64)?;
        got += n as u64;
        if got > limit {
            return Err(too_long());
        }
        out.write_all(&buf[..n]).map_err(io_error(dest))?;
    }
    match expected {
        // The server announced and sent a whole body, just not the one
        // the index describes: asking again would bring the same.
        Some(expected) if got < expected && announced == Some(got) => {
            Err(FetchError::SizeMismatch {
                url: url.to_owned(),
                expected,
                got,
            })
        }
        Some(expected) if got < expected => Err(truncated(got)),
        _ => Ok(got),
    }
}

/// The most precise cause of a reqwest error ("Connection refused (os
/// error 111)", "operation timed out"), rather than its generic summary.
pub(crate) fn reason(err: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn no_wait(attempts: usize) -> Retry {
        Retry {
            delays: vec![Duration::ZERO; attempts - 1],
        }
    }

    fn status(status: u16) -> FetchError {
        FetchError::HttpStatus {
            url: "u".into(),
            status,
        }
    }

    #[test]
    fn retries_transient_failures_until_success() {
        let calls = Cell::new(0);
        let result = no_wait(3).run(|| {
            calls.set(calls.get() + 1);
            if calls.get() < 3 {
                Err(status(503))
            } else {
                Ok(7)
            }
        });
        assert_eq!((result.unwrap(), calls.get()), (7, 3));
    }

    #[test]
    fn gives_up_after_the_last_attempt() {
        let calls = Cell::new(0);
        let result: Result<(), _> = no_wait(3).run(|| {
            calls.set(calls.get() + 1);
            Err(status(500))
        });
        assert!(matches!(
            result,
            Err(FetchError::HttpStatus { status: 500, .. })
        ));
        assert_eq!(calls.get(), 3);
    }

    #[test]
    fn never_retries_what_would_fail_again() {
        let calls = Cell::new(0);
        let result: Result<(), _> = no_wait(3).run(|| {
            calls.set(calls.get() + 1);
            Err(FetchError::NotFound { url: "u".into() })
        });
        assert!(result.is_err());
        assert_eq!(calls.get(), 1);
    }

    #[test]
    fn html_is_told_from_yaml() {
        assert!(looks_like_html(b"\xEF\xBB\xBF\n  <!DOCTYPE html><html>"));
        assert!(looks_like_html(b"<html lang=fr>"));
        assert!(!looks_like_html(b"# <b>\nschema: oent/registry/v1\n"));
        assert!(!looks_like_html(b""));
    }

    #[test]
    fn offline_reads_nothing_but_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let source =
            HttpSource::new("http://127.0.0.1:9/reg/", Cache::new(dir.path()), true).unwrap();
        let err = source.config().unwrap_err();
        assert_eq!(
            err.to_string(),
            "http://127.0.0.1:9/reg/registry.yaml is not in the cache; run without --offline to download it"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}

//! Static GETs of a registry's files: the same bytes nginx would serve from
//! the directory, with strong ETags (If-None-Match → 304) and single byte
//! ranges (Range → 206), so that clients can revalidate and resume.
//!
//! Small files are kept in memory, checked against the file's size and
//! modification time on every request: a publish (or an `oent registry
//! add` run beside the server) is seen at once, without a restart.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Files larger than this are read from disk on each request.
const MAX_CACHED_FILE: u64 = 4 << 20;
/// The cache stops growing at this total size.
const MAX_CACHED_TOTAL: u64 = 512 << 20;

/// Top-level entries of a registry that may be served.
const SERVED_ROOTS: &[&str] = &[
    "registry.yaml",
    "snapshot.json",
    "index",
    "archives",
    "mirrors",
    "by-hash",
];

#[derive(Debug)]
struct Cached {
    modified: Option<SystemTime>,
    bytes: Bytes,
    /// The headers of a 200 for the whole file (its ETag among them),
    /// built once per version of the file: most GETs are answered with a
    /// clone of them and of `bytes`.
    whole: HeaderMap,
}

impl Cached {
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn etag(&self) -> &HeaderValue {
        &self.whole[header::ETAG]
    }
}

/// The registry directory and its in-memory copies.
#[derive(Debug)]
pub struct StaticFiles {
    root: PathBuf,
    cache: RwLock<HashMap<String, Arc<Cached>>>,
    cached_total: std::sync::atomic::AtomicU64,
}

/// Why a path is not served (logged by the caller).
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `..`, absolute, hidden or encoded separators: never a registry file.
    Traversal,
    NotFound,
}

impl StaticFiles {
    pub fn new(root: &Path) -> StaticFiles {
        StaticFiles {
            root: root.to_path_buf(),
            cache: RwLock::new(HashMap::new()),
            cached_total: 0.into(),
        }
    }

    /// Answers a GET or HEAD of `relative` (already percent-decoded).
    pub async fn serve(
        &self,
        relative: &str,
        request: &HeaderMap,
        head: bool,
    ) -> Result<Response, Refusal> {
        let path = self.resolve(relative)?;
        let file = self.load(relative, &path).await?;
        Ok(respond(&file, request, head))
    }

    /// The file's path under the root, refusing anything that could leave it.
    fn resolve(&self, relative: &str) -> Result<PathBuf, Refusal> {
        if relative.is_empty() || relative.contains(['\\', '\0']) || relative.ends_with('/') {
            return Err(Refusal::Traversal);
        }
        let mut path = self.root.clone();
        for (i, component) in Path::new(relative).components().enumerate() {
            match component {
                Component::Normal(part) => {
                    let part = part.to_str().ok_or(Refusal::Traversal)?;
                    if part.starts_with('.') || (i == 0 && !SERVED_ROOTS.contains(&part)) {
                        return Err(if part.starts_with('.') {
                            Refusal::Traversal
                        } else {
                            Refusal::NotFound
                        });
                    }
                    path.push(part);
                }
                _ => return Err(Refusal::Traversal),
            }
        }
        Ok(path)
    }

    /// Refuses `path` when a directory between the root and the file is a
    /// symbolic link.
    fn check_no_linked_directory(&self, path: &Path) -> Result<(), Refusal> {
        let mut dir = path.parent();
        while let Some(d) = dir
            && d != self.root
        {
            let meta = std::fs::symlink_metadata(d).map_err(|_| Refusal::NotFound)?;
            if !meta.is_dir() {
                return Err(Refusal::NotFound);
            }
            dir = d.parent();
        }
        Ok(())
    }

    async fn load(&self, key: &str, path: &Path) -> Result<Arc<Cached>, Refusal> {
        // symlink_metadata: a link planted in the registry is not followed.
        // A plain stat on the worker thread, not tokio::fs: a stat of a
        // file in the page cache takes a microsecond, while tokio::fs hands
        // it to the blocking pool and back (two thread wake-ups), which
        // halved the requests per second of a cached file.
        let meta = std::fs::symlink_metadata(path).map_err(|_| Refusal::NotFound)?;
        if !meta.is_file() {
            return Err(Refusal::NotFound);
        }
        let modified = meta.modified().ok();
        if let Some(hit) = self.cache.read().expect("cache lock").get(key)
            && hit.len() == meta.len()
            && hit.modified == modified
        {
            return Ok(hit.clone());
        }
        // A miss reads the disk: first make sure no directory on the way is
        // a link either (`symlink_metadata` looked at the last component
        // only), so that a `mirrors -> /` planted in the registry serves
        // nothing. Hits skip it: the file was checked when it was read.
        self.check_no_linked_directory(path)?;
        let bytes = Bytes::from(tokio::fs::read(path).await.map_err(|_| Refusal::NotFound)?);
        let digest = crate::package::checksum::sha256_hex(&bytes);
        let etag = HeaderValue::from_str(&format!("\"{}\"", &digest[..32]))
            .expect("hex is a valid header");
        let file = Arc::new(Cached {
            modified,
            whole: whole_file_headers(key, etag, bytes.len()),
            bytes,
        });
        if file.len() <= MAX_CACHED_FILE {
            use std::sync::atomic::Ordering;
            // The total is read and written under the map's write lock: two
            // misses on two threads would otherwise each add to the total
            // they read, and the cap would drift.
            let mut cache = self.cache.write().expect("cache lock");
            let total = self.cached_total.load(Ordering::Relaxed);
            if total + file.len() <= MAX_CACHED_TOTAL {
                let previous = cache.insert(key.to_owned(), file.clone());
                let freed = previous.map_or(0, |p| p.len());
                self.cached_total.store(
                    (total + file.len()).saturating_sub(freed),
                    Ordering::Relaxed,
                );
            }
        }
        Ok(file)
    }
}

fn content_type(relative: &str) -> &'static str {
    if relative.ends_with(".tar.gz") {
        "application/gzip"
    } else if relative.ends_with(".jsonl") {
        "application/jsonl"
    } else if relative.ends_with(".json") {
        "application/json"
    } else if relative.ends_with(".yaml") {
        "application/yaml"
    } else {
        "application/octet-stream"
    }
}

/// ETag, Content-Type, Cache-Control and Content-Length of the whole file.
fn whole_file_headers(relative: &str, etag: HeaderValue, len: usize) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(5);
    headers.insert(header::ETAG, etag);
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(relative)),
    );
    // Archives and hashed copies never change once written; everything
    // else must be revalidated.
    let cache_control = if relative.starts_with("archives/") || relative.starts_with("by-hash/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    headers
}

fn respond(file: &Cached, request: &HeaderMap, head: bool) -> Response {
    // The common GET, neither conditional nor ranged: the prepared headers.
    if !request.contains_key(header::IF_NONE_MATCH) && !request.contains_key(header::RANGE) {
        let body = if head {
            Bytes::new()
        } else {
            file.bytes.clone()
        };
        let mut response = Response::new(body.into());
        *response.headers_mut() = file.whole.clone();
        return response;
    }
    let mut headers = file.whole.clone();
    headers.remove(header::CONTENT_LENGTH);
    if let Some(tags) = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        && etag_matches(tags, file.etag())
    {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let range = request
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| if_range_holds(request, file.etag()));
    let (status, body) = match range.map(|r| parse_range(r, file.len())) {
        None | Some(RangeAnswer::Ignore) => (StatusCode::OK, file.bytes.clone()),
        Some(RangeAnswer::Unsatisfiable) => {
            headers.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{}", file.len())).expect("digits"),
            );
            return (StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response();
        }
        Some(RangeAnswer::Bytes(start, end)) => {
            headers.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {start}-{end}/{}", file.len()))
                    .expect("digits"),
            );
            (
                StatusCode::PARTIAL_CONTENT,
                file.bytes.slice(start as usize..=end as usize),
            )
        }
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    if head {
        return (status, headers).into_response();
    }
    (status, headers, body).into_response()
}

/// `If-None-Match: "a", W/"b"` or `*`; weak comparison, as RFC 9110 asks for GET.
fn etag_matches(list: &str, etag: &HeaderValue) -> bool {
    let ours = etag.to_str().unwrap_or_default();
    list.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == ours)
}

/// A Range is honoured only if `If-Range` (when sent) still names this content.
fn if_range_holds(request: &HeaderMap, etag: &HeaderValue) -> bool {
    match request.get(header::IF_RANGE) {
        None => true,
        Some(v) => v == etag,
    }
}

#[derive(Debug, PartialEq, Eq)]
enum RangeAnswer {
    /// Not a single byte range we serve: answer with the whole file (allowed).
    Ignore,
    Unsatisfiable,
    /// Inclusive bounds.
    Bytes(u64, u64),
}

fn parse_range(value: &str, len: u64) -> RangeAnswer {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeAnswer::Ignore;
    };
    if spec.contains(',') {
        return RangeAnswer::Ignore;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAnswer::Ignore;
    };
    let number = |s: &str| s.trim().parse::<u64>().ok();
    match (first.trim().is_empty(), last.trim().is_empty()) {
        // bytes=-N: the last N bytes.
        (true, false) => match number(last) {
            Some(0) => RangeAnswer::Unsatisfiable,
            Some(n) if len > 0 => RangeAnswer::Bytes(len.saturating_sub(n), len - 1),
            Some(_) => RangeAnswer::Unsatisfiable,
            None => RangeAnswer::Ignore,
        },
        (false, _) => {
            let Some(start) = number(first) else {
                return RangeAnswer::Ignore;
            };
            let end = if last.trim().is_empty() {
                Some(len.saturating_sub(1))
            } else {
                number(last)
            };
            match end {
                None => RangeAnswer::Ignore,
                Some(_) if start >= len => RangeAnswer::Unsatisfiable,
                Some(end) if end < start => RangeAnswer::Ignore,
                Some(end) => RangeAnswer::Bytes(start, end.min(len - 1)),
            }
        }
        (true, true) => RangeAnswer::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range("bytes=0-9", 100), RangeAnswer::Bytes(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), RangeAnswer::Bytes(90, 99));
        assert_eq!(parse_range("bytes=-10", 100), RangeAnswer::Bytes(90, 99));
        assert_eq!(parse_range("bytes=-1000", 100), RangeAnswer::Bytes(0, 99));
        assert_eq!(
            parse_range("bytes=50-1000", 100),
            RangeAnswer::Bytes(50, 99)
        );
        assert_eq!(parse_range("bytes=100-", 100), RangeAnswer::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), RangeAnswer::Ignore);
        assert_eq!(parse_range("items=0-1", 100), RangeAnswer::Ignore);
        assert_eq!(parse_range("bytes=9-1", 100), RangeAnswer::Ignore);
    }

    #[test]
    fn only_registry_files_are_reachable() {
        let files = StaticFiles::new(Path::new("/srv/registry"));
        assert!(files.resolve("index/openent/portail.jsonl").is_ok());
        assert_eq!(files.resolve("../etc/passwd"), Err(Refusal::Traversal));
        assert_eq!(
            files.resolve("index/../../etc/passwd"),
            Err(Refusal::Traversal)
        );
        assert_eq!(files.resolve("/etc/passwd"), Err(Refusal::Traversal));
        assert_eq!(files.resolve("index/.git/config"), Err(Refusal::Traversal));
        assert_eq!(files.resolve("index\\..\\x"), Err(Refusal::Traversal));
        assert_eq!(files.resolve("forge.yaml"), Err(Refusal::NotFound));
        assert_eq!(files.resolve("keys/forge"), Err(Refusal::NotFound));
    }

    #[tokio::test]
    async fn a_linked_directory_in_the_registry_is_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.jsonl"), "not a registry file").unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("index/openent")).unwrap();
        std::fs::write(root.path().join("index/openent/portail.jsonl"), "{}\n").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("index/linked")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("mirrors")).unwrap();
        let files = StaticFiles::new(root.path());
        let headers = HeaderMap::new();
        assert!(
            files
                .serve("index/openent/portail.jsonl", &headers, false)
                .await
                .is_ok()
        );
        for linked in ["index/linked/secret.jsonl", "mirrors/secret.jsonl"] {
            assert_eq!(
                files.serve(linked, &headers, false).await.err(),
                Some(Refusal::NotFound),
                "{linked}"
            );
        }
    }

    /// Status, headers and body of one request for `relative`.
    async fn get(
        files: &StaticFiles,
        relative: &str,
        request: &[(&str, &str)],
        head: bool,
    ) -> (StatusCode, HeaderMap, Bytes) {
        let request: HeaderMap = request
            .iter()
            .map(|(name, value)| (name.parse().unwrap(), HeaderValue::from_str(value).unwrap()))
            .collect();
        let answer = files.serve(relative, &request, head).await.unwrap();
        let (parts, body) = answer.into_parts();
        (
            parts.status,
            parts.headers,
            axum::body::to_bytes(body, 1 << 20).await.unwrap(),
        )
    }

    /// A plain GET takes the headers prepared when the file was read; they
    /// must be those of the conditional and ranged answers, built each time.
    #[tokio::test]
    async fn prepared_and_built_answers_agree() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("archives/openent")).unwrap();
        let archive = "archives/openent/x-1.0.0.tar.gz";
        std::fs::write(dir.path().join(archive), b"0123456789").unwrap();
        let files = StaticFiles::new(dir.path());

        let (status, plain, body) = get(&files, archive, &[], false).await;
        assert_eq!(
            (status, body.as_ref()),
            (StatusCode::OK, &b"0123456789"[..])
        );
        let etag = plain[header::ETAG].to_str().unwrap().to_owned();
        let names = |h: &HeaderMap| {
            h.iter()
                .map(|(n, v)| format!("{n}: {}", v.to_str().unwrap()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&plain),
            [
                format!("etag: {etag}"),
                "accept-ranges: bytes".into(),
                "content-type: application/gzip".into(),
                "cache-control: public, max-age=31536000, immutable".into(),
                "content-length: 10".into(),
            ]
        );
        // Twice: the second from the cache.
        assert_eq!(
            get(&files, archive, &[], false).await,
            (
                StatusCode::OK,
                plain.clone(),
                Bytes::from_static(b"0123456789")
            )
        );
        let (status, head, body) = get(&files, archive, &[], true).await;
        assert_eq!((status, &head, body.len()), (StatusCode::OK, &plain, 0));
        // A condition that does not hold and a range that is ignored build
        // the same answer as the prepared one.
        let stale = get(&files, archive, &[("if-none-match", "\"other\"")], false).await;
        assert_eq!(stale, get(&files, archive, &[], false).await);
        let ignored = get(&files, archive, &[("range", "bytes=0-1,4-5")], false).await;
        assert_eq!(ignored, stale);
        let (status, ranged, body) = get(&files, archive, &[("range", "bytes=2-4")], false).await;
        assert_eq!(
            (status, body.as_ref()),
            (StatusCode::PARTIAL_CONTENT, &b"234"[..])
        );
        assert_eq!(
            (
                &ranged[header::CONTENT_LENGTH],
                &ranged[header::CONTENT_RANGE]
            ),
            (
                &HeaderValue::from(3),
                &HeaderValue::from_static("bytes 2-4/10")
            )
        );
        let (status, matched, body) =
            get(&files, archive, &[("if-none-match", &etag)], false).await;
        assert_eq!(
            (status, matched.get(header::ETAG), body.len()),
            (StatusCode::NOT_MODIFIED, Some(&plain[header::ETAG]), 0)
        );
        // A new version of the file gets new prepared headers.
        std::fs::write(dir.path().join(archive), b"0123456789abc").unwrap();
        let (_, changed, body) = get(&files, archive, &[], false).await;
        assert_eq!(
            (&changed[header::CONTENT_LENGTH], body.len()),
            (&HeaderValue::from(13), 13)
        );
        assert_ne!(changed[header::ETAG], plain[header::ETAG]);
    }

    #[test]
    fn weak_and_listed_etags_match() {
        let etag = HeaderValue::from_static("\"abc\"");
        assert!(etag_matches("\"x\", W/\"abc\"", &etag));
        assert!(etag_matches("*", &etag));
        assert!(!etag_matches("\"abd\"", &etag));
    }
}

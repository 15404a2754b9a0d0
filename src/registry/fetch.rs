//! Getting many archives at once: [`fetch_all`] runs a bounded number of
//! downloads concurrently over one [`Source`] and reports to a [`Progress`]
//! (the library stays silent; the command line draws the bar). Also
//! [`newest_matching`], the "which version" rule of `oent fetch`.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::index::IndexEntry;
use super::source::{FetchError, Source};

/// Downloads in flight at once by default: enough to hide latency, few
/// enough to be polite to a small self-hosted server.
pub const DEFAULT_JOBS: usize = 4;

/// Told how the work advances, in archives. Shared by the workers.
pub trait Progress: Sync {
    fn start(&self, total: u64);
    fn advance(&self, n: u64);
    fn finish(&self);
}

/// Reports nothing (tests, CI, library callers).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}

/// The verified local file of every line, in the order of `lines`, with at
/// most `jobs` downloads in flight. On failure, no new download starts, and
/// the error of the first failed line (in the order of `lines`) is returned.
pub fn fetch_all(
    source: &dyn Source,
    lines: &[IndexEntry],
    jobs: usize,
    progress: &dyn Progress,
) -> Result<Vec<PathBuf>, FetchError> {
    let slots: Vec<OnceLock<Result<PathBuf, FetchError>>> =
        lines.iter().map(|_| OnceLock::new()).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    progress.start(lines.len() as u64);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, lines.len().max(1)) {
            scope.spawn(|| {
                worker(source, lines, &slots, &next, &failed, progress);
            });
        }
    });
    progress.finish();
    // Lines are taken in order and every taken line completes, so the empty
    // slots (skipped after a failure) all come after a failed one.
    slots.into_iter().filter_map(OnceLock::into_inner).collect()
}

/// Takes the next line from the shared queue until it is empty or a
/// download failed.
fn worker(
    source: &dyn Source,
    lines: &[IndexEntry],
    slots: &[OnceLock<Result<PathBuf, FetchError>>],
    next: &AtomicUsize,
    failed: &AtomicBool,
    progress: &dyn Progress,
) {
    while !failed.load(Ordering::Relaxed) {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(line) = lines.get(i) else { return };
        let result = source.archive(line);
        if result.is_err() {
            failed.store(true, Ordering::Relaxed);
        } else {
            progress.advance(1);
        }
        let _ = slots[i].set(result);
    }
}

/// The newest version that is not yanked and satisfies `req`; lines whose
/// version is not semver are ignored.
pub fn newest_matching<'a>(
    lines: &'a [IndexEntry],
    req: &semver::VersionReq,
) -> Option<&'a IndexEntry> {
    lines
        .iter()
        .filter(|l| !l.yanked)
        .filter(|l| req.matches(&l.version))
        .max_by(|a, b| a.version.cmp(&b.version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::names::ModuleName;
    use crate::registry::config::RegistryConfig;
    use std::sync::Mutex;

    fn line(version: &str, yanked: bool) -> IndexEntry {
        crate::registry::index::example(serde_json::json!({
            "version": version,
            "archive": format!("archives/t/x-{version}.tar.gz"),
            "yanked": yanked,
        }))
    }

    #[test]
    fn newest_non_yanked_match() {
        let lines = [
            line("1.0.0", false),
            line("1.10.0", false),
            line("1.2.0", false),
            line("1.11.0", true),
            line("2.0.0", false),
        ];
        let req = |r| semver::VersionReq::parse(r).unwrap();
        assert_eq!(
            newest_matching(&lines, &req("^1"))
                .unwrap()
                .version
                .to_string(),
            "1.10.0"
        );
        assert_eq!(
            newest_matching(&lines, &req("*"))
                .unwrap()
                .version
                .to_string(),
            "2.0.0"
        );
        assert!(newest_matching(&lines, &req("^3")).is_none());
    }

    /// Records how many archives are being fetched at once.
    struct Counting {
        current: Mutex<(usize, usize)>,
        fail: Option<String>,
    }

    impl Source for Counting {
        fn label(&self) -> String {
            "mem".into()
        }
        fn config(&self) -> Result<RegistryConfig, FetchError> {
            unreachable!()
        }
        fn versions(&self, _: &ModuleName) -> Result<Vec<IndexEntry>, FetchError> {
            unreachable!()
        }
        fn archive(&self, line: &IndexEntry) -> Result<PathBuf, FetchError> {
            {
                let mut c = self.current.lock().unwrap();
                c.0 += 1;
                c.1 = c.1.max(c.0);
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
            self.current.lock().unwrap().0 -= 1;
            if self.fail == Some(line.version.to_string()) {
                return Err(FetchError::NotFound {
                    url: line.version.to_string(),
                });
            }
            Ok(PathBuf::from(line.version.to_string()))
        }
    }

    #[test]
    fn bounded_concurrency_keeps_order() {
        let lines: Vec<_> = (0..12).map(|i| line(&format!("1.0.{i}"), false)).collect();
        let source = Counting {
            current: Mutex::new((0, 0)),
            fail: None,
        };
        let paths = fetch_all(&source, &lines, 3, &NoProgress).unwrap();
        let expected: Vec<_> = lines
            .iter()
            .map(|l| PathBuf::from(l.version.to_string()))
            .collect();
        assert_eq!(paths, expected);
        let peak = source.current.lock().unwrap().1;
        assert!((1..=3).contains(&peak), "peak {peak}");
    }

    #[test]
    fn a_failure_is_reported() {
        let lines: Vec<_> = (0..6).map(|i| line(&format!("1.0.{i}"), false)).collect();
        let source = Counting {
            current: Mutex::new((0, 0)),
            fail: Some("1.0.2".into()),
        };
        let err = fetch_all(&source, &lines, 2, &NoProgress).unwrap_err();
        assert_eq!(err.to_string().split(' ').next(), Some("1.0.2"));
    }
}

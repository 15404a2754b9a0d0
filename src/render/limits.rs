//! Bounds on rendering. A module from any registry runs its templates on
//! the builder's machine: two nested `range(end=100000)` loops would write
//! gigabytes and never stop. Each rendered file is streamed through
//! [`Bounded`], which stops Tera as soon as the file, the whole build, or
//! the time allowed is exceeded (docs/render.md, "Limits").

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::manifest::{Code, Diagnostic};

pub const MIB: u64 = 1024 * 1024;

/// What rendering may produce, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderLimits {
    pub file_bytes: u64,
    pub build_bytes: u64,
    pub time: Duration,
}

impl Default for RenderLimits {
    /// Generous for real distributions: the largest rendered file of the
    /// examples is a few KiB, their bundles a few MiB, built in seconds.
    fn default() -> Self {
        RenderLimits {
            file_bytes: 16 * MIB,
            build_bytes: 4 * 1024 * MIB,
            time: Duration::from_secs(600),
        }
    }
}

/// `1000`, `64KiB`, `16MiB`, `4GiB` → bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let factor = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1024,
        "MiB" => MIB,
        "GiB" => 1024 * MIB,
        other => {
            return Err(format!(
                "unknown unit `{other}`: write bytes, or a number followed by KiB, MiB or GiB (e.g. 16MiB)"
            ));
        }
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .ok_or_else(|| format!("`{text}` is not a size: write e.g. 16MiB"))
}

/// A limit reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    File(u64),
    Build(u64),
    Time(Duration),
}

impl Exceeded {
    /// Only a file's own limit lets the other files be rendered (and their
    /// problems reported); the others stop the build.
    pub fn stops_the_build(self) -> bool {
        !matches!(self, Exceeded::File(_))
    }

    /// The error, naming the template and `during` (the établissement).
    pub fn diagnostic(self, template: &Path, during: &str) -> Diagnostic {
        let (message, help) = match self {
            Exceeded::File(n) => (
                format!(
                    "the rendered file exceeds the limit of {} per file{during}; rendering was stopped",
                    size(n)
                ),
                "a template writing this much is usually a loop gone wrong (nested `range`); if the file really is this large, raise the limit with --max-file-size or OENT_MAX_FILE_SIZE",
            ),
            Exceeded::Build(n) => (
                format!(
                    "the bundle exceeds the limit of {} per build while rendering this template{during}; rendering was stopped",
                    size(n)
                ),
                "look for a template that writes far more than the others; if the bundle really is this large, raise the limit with --max-bundle-size or OENT_MAX_BUNDLE_SIZE",
            ),
            Exceeded::Time(t) => (
                format!(
                    "rendering exceeds the time limit of {} s, in this template{during}; rendering was stopped",
                    t.as_secs()
                ),
                "look for a loop gone wrong (nested `range`); if the build really takes this long, raise the limit with --render-timeout or OENT_RENDER_TIMEOUT (seconds)",
            ),
        };
        Diagnostic::new(Code::TemplateRender, template, message).help(help)
    }
}

fn size(bytes: u64) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// The budget of one build: what is left of it as files are rendered.
/// Shared by the rendering threads: each file starts with what the others
/// had finished writing, so the bundle may exceed the build limit by less
/// than one file per thread before the build stops.
#[derive(Debug)]
pub struct Budget {
    limits: RenderLimits,
    deadline: Instant,
    written: AtomicU64,
}

impl Budget {
    pub fn start(limits: RenderLimits) -> Self {
        Budget {
            limits,
            deadline: Instant::now() + limits.time,
            written: AtomicU64::new(0),
        }
    }

    pub fn out_of_time(&self) -> Option<Exceeded> {
        (Instant::now() > self.deadline).then_some(Exceeded::Time(self.limits.time))
    }
}

/// Tera's longest `range` (its own `MAX_RANGE_LEN`).
const MAX_RANGE_LEN: i128 = 100_000;

/// Replaces Tera's `range` with the same function that also fails once
/// the deadline of `budget` is past: a loop that writes nothing never
/// reaches [`Bounded`], but each inner loop calls `range` again.
pub fn register_range(tera: &mut tera::Tera, budget: &Budget) {
    let deadline = budget.deadline;
    tera.register_function(
        "range",
        move |kwargs: tera::Kwargs, _: &tera::State| -> tera::TeraResult<Vec<i128>> {
            if Instant::now() > deadline {
                return Err(tera::Error::message(
                    "the time limit of rendering is reached",
                ));
            }
            let start = kwargs.get::<i128>("start")?.unwrap_or_default();
            let end = kwargs.must_get::<i128>("end")?;
            let step = kwargs.get::<i128>("step_by")?.unwrap_or(1);
            range(start, end, step).map_err(tera::Error::message)
        },
    );
}

/// `start`, `start + step`, … up to `end` excluded, as Tera's `range`.
fn range(start: i128, end: i128, step: i128) -> Result<Vec<i128>, String> {
    if step == 0 {
        return Err("Function `range` was called with a `step_by` argument of 0".into());
    }
    if start > end && step > 0 {
        return Err(
            "Function `range` was called with a `start` argument greater than the `end` one".into(),
        );
    }
    let overflow = || "Function `range` was called with arguments that overflow i128".to_owned();
    let (span, size) = if step > 0 {
        (end.checked_sub(start).ok_or_else(overflow)?, step)
    } else {
        (
            start.saturating_sub(end).max(0),
            step.checked_neg().ok_or_else(overflow)?,
        )
    };
    let len = span.checked_add(size - 1).ok_or_else(overflow)? / size;
    if len > MAX_RANGE_LEN {
        return Err(format!(
            "Function `range` would produce {len} elements, which exceeds the limit of {MAX_RANGE_LEN}"
        ));
    }
    Ok((0..len).map(|i| start + i * step).collect())
}

/// A writer that fails, and says why, once a limit is reached.
pub struct Bounded<W> {
    inner: W,
    file_left: u64,
    build_left: u64,
    written: u64,
    writes: u64,
    deadline: Instant,
    limits: RenderLimits,
    exceeded: Option<Exceeded>,
}

/// How many writes between two readings of the clock.
const CLOCK_EVERY: u64 = 64;

impl<W: Write> Bounded<W> {
    pub fn new(inner: W, budget: &Budget) -> Self {
        Bounded {
            inner,
            file_left: budget.limits.file_bytes,
            build_left: budget
                .limits
                .build_bytes
                .saturating_sub(budget.written.load(Ordering::Relaxed)),
            written: 0,
            writes: 0,
            deadline: budget.deadline,
            limits: budget.limits,
            exceeded: None,
        }
    }

    /// The inner writer and the limit reached, if any; what was written
    /// counts against the build.
    pub fn finish(self, budget: &Budget) -> (W, Option<Exceeded>) {
        budget.written.fetch_add(self.written, Ordering::Relaxed);
        (self.inner, self.exceeded)
    }

    fn refuse(&mut self, exceeded: Exceeded) -> std::io::Error {
        self.exceeded = Some(exceeded);
        std::io::Error::other("a render limit was reached")
    }
}

impl<W: Write> Write for Bounded<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len() as u64;
        if n > self.file_left {
            return Err(self.refuse(Exceeded::File(self.limits.file_bytes)));
        }
        if n > self.build_left {
            return Err(self.refuse(Exceeded::Build(self.limits.build_bytes)));
        }
        // Tera writes in small pieces: reading the clock at each would cost
        // more than the rest of this writer (a million files, ~100 writes each).
        self.writes += 1;
        if self.writes.is_multiple_of(CLOCK_EVERY) && Instant::now() > self.deadline {
            return Err(self.refuse(Exceeded::Time(self.limits.time)));
        }
        let written = self.inner.write(buf)?;
        self.file_left -= written as u64;
        self.build_left -= written as u64;
        self.written += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("16MiB"), Ok(16 * MIB));
        assert_eq!(parse_size("4 GiB"), Ok(4096 * MIB));
        assert!(parse_size("16MB").is_err());
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("99999999999999GiB").is_err());
    }

    #[test]
    fn range_is_teras() {
        assert_eq!(range(0, 3, 1), Ok(vec![0, 1, 2]));
        assert_eq!(range(1, 8, 3), Ok(vec![1, 4, 7]));
        assert_eq!(range(5, 0, -2), Ok(vec![5, 3, 1]));
        assert_eq!(range(0, 5, -1), Ok(vec![]));
        assert!(range(0, 1, 0).is_err() && range(3, 1, 1).is_err());
        assert!(range(0, 100_001, 1).is_err());
    }

    #[test]
    fn a_loop_that_writes_nothing_stops_at_the_deadline() {
        let mut tera = tera::Tera::default();
        let budget = Budget::start(RenderLimits {
            time: Duration::from_millis(200),
            ..RenderLimits::default()
        });
        register_range(&mut tera, &budget);
        let started = Instant::now();
        let silent = "{% for a in range(end=100000) %}{% for b in range(end=100000) %}{% endfor %}{% endfor %}";
        let rendered = tera.render_str(silent, &tera::Context::new(), false);
        assert!(rendered.is_err());
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        assert!(budget.out_of_time().is_some());
    }

    #[test]
    fn a_file_stops_at_its_limit_and_counts_against_the_build() {
        let limits = RenderLimits {
            file_bytes: 10,
            build_bytes: 15,
            ..RenderLimits::default()
        };
        let budget = Budget::start(limits);
        let mut first = Bounded::new(Vec::new(), &budget);
        first.write_all(b"0123456789").unwrap();
        assert!(first.write_all(b"x").is_err());
        let (bytes, exceeded) = first.finish(&budget);
        assert_eq!((bytes.len(), exceeded), (10, Some(Exceeded::File(10))));
        let mut second = Bounded::new(Vec::new(), &budget);
        second.write_all(b"01234").unwrap();
        assert!(second.write_all(b"5").is_err());
        assert_eq!(second.finish(&budget).1, Some(Exceeded::Build(15)));
    }
}

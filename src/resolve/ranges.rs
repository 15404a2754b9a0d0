//! Cargo's requirement semantics as pubgrub ranges.
//!
//! `semver::VersionReq::matches` lets a pre-release satisfy a requirement
//! only when some comparator names the same `major.minor.patch` with a
//! pre-release tag. In plain version order that set is not a union of
//! intervals (it has holes at every other pre-release), so versions are
//! mapped to a [`Key`] that orders all pre-releases before all releases: each
//! class is then an interval set, and the requirement is the union of its
//! release part and its (windowed) pre-release part. A third class,
//! [`Key::Absent`], sorts first and stands for "not installed": optional
//! dependencies and conflicts are ranges that include or exclude it.
//! The property test at the bottom checks `contains == matches` on random input.

use std::fmt;
use std::ops::Bound::{self, Excluded, Included, Unbounded};

use semver::{BuildMetadata, Comparator, Op, Prerelease, Version, VersionReq};
use version_ranges::Ranges;

/// A version as pubgrub compares it. Releases, nearly every version, are
/// three integers: the solver compares and copies keys all the time, and a
/// `semver::Version` (with its pre-release and build identifiers) cost a
/// comparison through every field and a check of both identifiers on each
/// copy and drop. The derived order is the order described above.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    /// The module is not part of the solution.
    Absent,
    /// A pre-release (build metadata stripped: it does not order versions).
    /// Also a release version used as a bound inside the pre-release class.
    /// Boxed, being rare, so that keys stay four words.
    Pre(Box<Version>),
    /// A release: major, minor, patch.
    Release(u64, u64, u64),
}

impl Key {
    pub fn of(version: &Version) -> Key {
        if version.pre.is_empty() {
            release(version.clone())
        } else {
            pre(version.clone())
        }
    }

    pub fn version(&self) -> Option<Version> {
        match self {
            Key::Absent => None,
            Key::Pre(v) => Some((**v).clone()),
            &Key::Release(major, minor, patch) => Some(Version::new(major, minor, patch)),
        }
    }
}

/// The release key of a version without pre-release.
fn release(version: Version) -> Key {
    debug_assert!(version.pre.is_empty(), "{version}");
    Key::Release(version.major, version.minor, version.patch)
}

/// The pre-release-class key of a version, build metadata dropped.
fn pre(mut version: Version) -> Key {
    version.build = BuildMetadata::EMPTY;
    Key::Pre(Box::new(version))
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Absent => f.write_str("(absent)"),
            Key::Pre(v) => write!(f, "{v}"),
            Key::Release(major, minor, patch) => write!(f, "{major}.{minor}.{patch}"),
        }
    }
}

pub type KeyRanges = Ranges<Key>;

fn v(major: u64, minor: u64, patch: u64) -> Version {
    Version::new(major, minor, patch)
}

/// `M.m.p-0`: the lowest version with that triple (pre-release "0" sorts first).
fn lowest(major: u64, minor: u64, patch: u64) -> Version {
    Version {
        pre: Prerelease::new("0").expect("valid"),
        ..v(major, minor, patch)
    }
}

fn with_pre(major: u64, minor: u64, patch: u64, pre: &Prerelease) -> Version {
    Version {
        pre: pre.clone(),
        ..v(major, minor, patch)
    }
}

/// An interval of versions, as bounds in plain version order.
type Interval = (Bound<Version>, Bound<Version>);

fn interval(lo: Bound<Version>, hi: Bound<Version>) -> Vec<Interval> {
    vec![(lo, hi)]
}

/// The comparison operators, from the sets "equal", "greater" and "less";
/// `None` for tilde and caret, which each part computes itself.
fn by_ordering(
    op: Op,
    exact: impl Fn() -> Vec<Interval>,
    greater: impl Fn() -> Vec<Interval>,
    less: impl Fn() -> Vec<Interval>,
) -> Option<Vec<Interval>> {
    Some(match op {
        Op::Exact | Op::Wildcard => exact(),
        Op::Greater => greater(),
        Op::GreaterEq => [exact(), greater()].concat(),
        Op::Less => less(),
        Op::LessEq => [exact(), less()].concat(),
        _ => return None,
    })
}

/// The set of *releases* a comparator matches.
fn release_part(c: &Comparator) -> Vec<Interval> {
    let (m, minor, patch) = (c.major, c.minor, c.patch);
    let exact = || match (minor, patch) {
        (Some(n), Some(p)) if c.pre.is_empty() => {
            interval(Included(v(m, n, p)), Included(v(m, n, p)))
        }
        (Some(_), Some(_)) => vec![],
        (Some(n), None) => interval(Included(v(m, n, 0)), Excluded(v(m, n + 1, 0))),
        (None, _) => interval(Included(v(m, 0, 0)), Excluded(v(m + 1, 0, 0))),
    };
    let greater = || match (minor, patch) {
        (Some(n), Some(p)) if c.pre.is_empty() => interval(Excluded(v(m, n, p)), Unbounded),
        (Some(n), Some(p)) => interval(Included(v(m, n, p)), Unbounded),
        (Some(n), None) => interval(Included(v(m, n + 1, 0)), Unbounded),
        (None, _) => interval(Included(v(m + 1, 0, 0)), Unbounded),
    };
    let less = || match (minor, patch) {
        (Some(n), Some(p)) => interval(Unbounded, Excluded(v(m, n, p))),
        (Some(n), None) => interval(Unbounded, Excluded(v(m, n, 0))),
        (None, _) => interval(Unbounded, Excluded(v(m, 0, 0))),
    };
    if let Some(intervals) = by_ordering(c.op, exact, greater, less) {
        return intervals;
    }
    match c.op {
        Op::Tilde => match (minor, patch) {
            (Some(n), Some(p)) => interval(Included(v(m, n, p)), Excluded(v(m, n + 1, 0))),
            (Some(n), None) => interval(Included(v(m, n, 0)), Excluded(v(m, n + 1, 0))),
            (None, _) => interval(Included(v(m, 0, 0)), Excluded(v(m + 1, 0, 0))),
        },
        Op::Caret => match (minor, patch) {
            (Some(n), Some(p)) if m > 0 => interval(Included(v(m, n, p)), Excluded(v(m + 1, 0, 0))),
            (Some(n), Some(p)) if n > 0 => interval(Included(v(0, n, p)), Excluded(v(0, n + 1, 0))),
            (Some(n), Some(p)) => interval(Included(v(0, n, p)), Excluded(v(0, n, p + 1))),
            (Some(n), None) if m > 0 => interval(Included(v(m, n, 0)), Excluded(v(m + 1, 0, 0))),
            (Some(n), None) => interval(Included(v(0, n, 0)), Excluded(v(0, n + 1, 0))),
            (None, _) => interval(Included(v(m, 0, 0)), Excluded(v(m + 1, 0, 0))),
        },
        _ => interval(Unbounded, Unbounded),
    }
}

/// The set of *pre-releases* a comparator matches by ordering alone (the
/// "same triple" window is applied by the caller).
fn pre_part(c: &Comparator) -> Vec<Interval> {
    let (m, minor, patch, pre) = (c.major, c.minor, c.patch, &c.pre);
    let exact = || match (minor, patch) {
        (Some(n), Some(p)) if !pre.is_empty() => interval(
            Included(with_pre(m, n, p, pre)),
            Included(with_pre(m, n, p, pre)),
        ),
        _ => vec![],
    };
    let greater = || match (minor, patch) {
        (Some(n), Some(p)) => interval(Excluded(with_pre(m, n, p, pre)), Unbounded),
        (Some(n), None) => interval(Included(lowest(m, n + 1, 0)), Unbounded),
        (None, _) => interval(Included(lowest(m + 1, 0, 0)), Unbounded),
    };
    let less = || match (minor, patch) {
        (Some(n), Some(p)) => interval(Unbounded, Excluded(with_pre(m, n, p, pre))),
        (Some(n), None) => interval(Unbounded, Excluded(lowest(m, n, 0))),
        (None, _) => interval(Unbounded, Excluded(lowest(m, 0, 0))),
    };
    // Tilde and caret with a full version: the same triple needs pre ≥ cmp.pre
    // (never, for an empty cmp.pre, since a release sorts above its pre-releases).
    let from_triple = |n: u64, p: u64| {
        if pre.is_empty() {
            Included(lowest(m, n, p + 1))
        } else {
            Included(with_pre(m, n, p, pre))
        }
    };
    if let Some(intervals) = by_ordering(c.op, exact, greater, less) {
        return intervals;
    }
    match c.op {
        // A partial tilde ends on `pre >= ""`, which no pre-release satisfies.
        Op::Tilde => match (minor, patch) {
            (Some(n), Some(p)) => interval(from_triple(n, p), Excluded(lowest(m, n + 1, 0))),
            _ => vec![],
        },
        Op::Caret => match (minor, patch) {
            (Some(n), Some(p)) if m > 0 => {
                interval(from_triple(n, p), Excluded(lowest(m + 1, 0, 0)))
            }
            (Some(n), Some(p)) if n > 0 => {
                interval(from_triple(n, p), Excluded(lowest(0, n + 1, 0)))
            }
            (Some(n), Some(p)) if pre.is_empty() => {
                let _ = (n, p);
                vec![]
            }
            (Some(n), Some(p)) => interval(Included(with_pre(0, n, p, pre)), Excluded(v(0, n, p))),
            (Some(n), None) if m > 0 => {
                interval(Included(lowest(m, n, 0)), Excluded(lowest(m + 1, 0, 0)))
            }
            (Some(n), None) => interval(Included(lowest(0, n, 0)), Excluded(lowest(0, n + 1, 0))),
            (None, _) => interval(Included(lowest(m, 0, 0)), Excluded(lowest(m + 1, 0, 0))),
        },
        _ => interval(Unbounded, Unbounded),
    }
}

/// Embeds plain-order intervals into one class of keys.
fn embed(
    intervals: &[Interval],
    class: fn(Version) -> Key,
    class_start: Bound<Key>,
    class_end: Bound<Key>,
) -> KeyRanges {
    let map = |b: &Bound<Version>, open: &Bound<Key>| match b {
        Included(x) => Included(class(x.clone())),
        Excluded(x) => Excluded(class(x.clone())),
        Unbounded => open.clone(),
    };
    intervals.iter().fold(Ranges::empty(), |acc, (lo, hi)| {
        acc.union(&Ranges::from_range_bounds((
            map(lo, &class_start),
            map(hi, &class_end),
        )))
    })
}

fn releases(intervals: &[Interval]) -> KeyRanges {
    embed(
        intervals,
        release,
        Included(Key::Release(0, 0, 0)),
        Unbounded,
    )
}

fn pre_releases(intervals: &[Interval]) -> KeyRanges {
    embed(
        intervals,
        pre,
        Excluded(Key::Absent),
        Excluded(Key::Release(0, 0, 0)),
    )
}

/// The keys matching `req`, exactly as `req.matches` (build metadata aside).
pub fn to_ranges(req: &VersionReq) -> KeyRanges {
    let every_release = releases(&interval(Unbounded, Unbounded));
    let every_pre = pre_releases(&interval(Unbounded, Unbounded));
    let mut release = every_release;
    let mut pre = every_pre;
    let mut window = Ranges::empty();
    for c in &req.comparators {
        release = release.intersection(&releases(&release_part(c)));
        pre = pre.intersection(&pre_releases(&pre_part(c)));
        if let (Some(n), Some(p), false) = (c.minor, c.patch, c.pre.is_empty()) {
            window = window.union(&pre_releases(&interval(
                Included(lowest(c.major, n, p)),
                Excluded(v(c.major, n, p)),
            )));
        }
    }
    release.union(&pre.intersection(&window))
}

/// "Anything, or not installed": the range of an optional dependency that
/// the requirement constrains only when the module is present.
pub fn or_absent(ranges: &KeyRanges) -> KeyRanges {
    ranges.union(&Ranges::singleton(Key::Absent))
}

/// Every installed version.
pub fn present() -> KeyRanges {
    Ranges::singleton(Key::Absent).complement()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn version() -> impl Strategy<Value = Version> {
        (
            0u64..3,
            0u64..3,
            0u64..3,
            prop::sample::select(vec!["", "alpha", "alpha.1", "beta", "0", "rc.2"]),
        )
            .prop_map(|(a, b, c, pre)| {
                let mut v = Version::new(a, b, c);
                if !pre.is_empty() {
                    v.pre = Prerelease::new(pre).unwrap();
                }
                v
            })
    }

    fn comparator() -> impl Strategy<Value = String> {
        let op = prop::sample::select(vec!["", "=", ">", ">=", "<", "<=", "~", "^"]);
        let parts = (
            0u64..3,
            prop::option::of(0u64..3),
            prop::option::of(0u64..3),
            prop::sample::select(vec!["", "-alpha", "-beta", "-0", "-rc.2"]),
        );
        (op, parts).prop_map(|(op, (a, b, c, pre))| match (b, c) {
            (Some(b), Some(c)) => format!("{op}{a}.{b}.{c}{pre}"),
            (Some(b), None) => format!("{op}{a}.{b}"),
            _ => format!("{op}{a}"),
        })
    }

    fn requirement() -> impl Strategy<Value = VersionReq> {
        prop_oneof![
            comparator(),
            (comparator(), comparator()).prop_map(|(a, b)| format!("{a}, {b}")),
            Just("*".to_owned()),
            (0u64..3, 0u64..3).prop_map(|(a, b)| format!("{a}.{b}.*")),
        ]
        .prop_filter_map("parses", |s| VersionReq::parse(&s).ok())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        #[test]
        fn ranges_agree_with_semver(req in requirement(), version in version()) {
            let ranges = to_ranges(&req);
            prop_assert_eq!(ranges.contains(&Key::of(&version)), req.matches(&version), "req {} version {} ranges {}", req, version, ranges);
            prop_assert!(!ranges.contains(&Key::Absent));
        }
    }

    #[test]
    fn releases_sort_after_pre_releases() {
        let r = to_ranges(&VersionReq::parse(">=1.0.0-alpha").unwrap());
        assert!(r.contains(&Key::of(&"1.0.0-beta".parse().unwrap())));
        assert!(!r.contains(&Key::of(&"1.1.0-beta".parse().unwrap())));
        assert!(r.contains(&Key::of(&"3.0.0".parse().unwrap())));
    }
}

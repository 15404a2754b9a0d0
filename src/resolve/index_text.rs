//! Index files read the way the resolver needs them: of each line, only
//! the format number, name, version and yanked flag up front
//! ([`super::line_head`]); the rest
//! (requirements, checksum…) when the resolver first asks for that version.
//! Of a module's 30 versions the resolver usually looks inside one or two, so
//! parsing every line in full was most of the time of a large resolution.
//!
//! The strict reader ([`crate::registry::index::parse`]) stays the authority:
//! when a line is not as expected up front, the caller reads the whole file
//! with it instead, and a line found unreadable later is reported by
//! [`parse_line`] in the strict reader's words. What changes is when: an
//! unreadable requirement in a version the resolver never looks at no longer
//! stops the resolution (cargo does the same); `oent lint` and
//! `registry build` still check every line when publishing.

use std::sync::Arc;

use semver::Version;

use super::index::{Candidate, IndexFile, RawLine};
use super::line_head::Head;
use crate::manifest::names::ModuleName;
use crate::registry::index::INDEX_V_MAX;
use crate::registry::source::IndexText;

/// The candidates of `name`'s index file, contents left unparsed; `None` when
/// a line is not as expected (not JSON, no version, a bad version, another
/// module's line): the caller then reads the file with the strict reader,
/// which says what is wrong.
pub(crate) fn read_lazily(
    index: IndexText,
    name: &ModuleName,
    registry: &str,
) -> Option<Vec<Candidate>> {
    let file = Arc::new(IndexFile::new(registry, index));
    let mut candidates = Vec::new();
    for (number, line_start, raw) in lines(&file.text) {
        if raw.trim().is_empty() {
            continue;
        }
        let head = Head::of(raw)?;
        if head.v > u64::from(INDEX_V_MAX) {
            continue;
        }
        if head.name.as_deref() != Some(name.as_str()) {
            return None;
        }
        let version = Version::parse(head.version.as_deref()?).ok()?;
        let line = RawLine::new(&file, line_start..line_start + raw.len(), number);
        candidates.push(Candidate::lazy(version, head.yanked, line));
    }
    Some(candidates)
}

/// The lines of `text` as `str::lines` cuts them (a final newline ends the
/// last line; `\r\n` too), each with its number from 1 and its offset.
fn lines(text: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let mut start = 0;
    let mut number = 0;
    std::iter::from_fn(move || {
        if start >= text.len() {
            return None;
        }
        let (end, line) = match memchr::memchr(b'\n', &text.as_bytes()[start..]) {
            Some(i) => {
                let line = &text[start..start + i];
                (start + i, line.strip_suffix('\r').unwrap_or(line))
            }
            None => (text.len(), &text[start..]),
        };
        let item = (number + 1, start, line);
        (start, number) = (end + 1, number + 1);
        Some(item)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line as `registry build` writes it.
    fn line(version: &str, requires: &[(&str, &str)]) -> String {
        let requires: Vec<String> = requires
            .iter()
            .map(|(n, r)| format!("\"{n}\":\"{r}\""))
            .collect();
        let yanked = version == "1.1.0";
        format!(
            "{{\"v\":1,\"name\":\"t/x\",\"version\":\"{version}\",\"requires\":{{{}}},\
             \"licence\":\"MIT\",\"sha256\":\"{}\",\"size\":10,\"archive\":\"a.tar.gz\",\
             \"yanked\":{yanked},\"origin\":\"t\",\"published_at\":\"2026-11-26T10:00:00Z\"}}\n",
            requires.join(","),
            "ab".repeat(32)
        )
    }

    fn read(text: &str) -> Option<Vec<Candidate>> {
        let index = IndexText {
            path: "i.jsonl".into(),
            text: text.into(),
        };
        read_lazily(index, &"t/x".parse().unwrap(), "reg")
    }

    #[test]
    fn lines_are_cut_as_str_lines_cuts_them() {
        for text in [
            "",
            "\n",
            "a",
            "a\n",
            "a\r\nb",
            "a\n\nb\r\n",
            "\r\n\r\n",
            "baz\r",
        ] {
            let ours: Vec<_> = lines(text).map(|(_, _, l)| l).collect();
            assert_eq!(ours, text.lines().collect::<Vec<_>>(), "{text:?}");
            for (number, start, line) in lines(text) {
                assert_eq!(text.lines().nth(number - 1), Some(line));
                assert!(text[start..].starts_with(line));
            }
        }
    }

    #[test]
    fn versions_up_front_contents_when_asked() {
        let text = format!(
            "{}\r\n{{\"v\":9,\"name\":\"t/x\"}}\n{}",
            line("1.0.0", &[("t/y", "^1")]).trim_end(),
            line("1.1.0", &[])
        );
        let cs = read(&text).unwrap();
        let versions: Vec<_> = cs
            .iter()
            .map(|c| (c.version.to_string(), c.yanked))
            .collect();
        assert_eq!(versions, [("1.0.0".into(), false), ("1.1.0".into(), true)]);
        let contents = cs[0].contents().unwrap();
        assert_eq!(contents.requires[0].1.to_string(), "^1");
        assert_eq!(contents.sha256, "ab".repeat(32));
        assert_eq!(contents.source, "reg");
    }

    #[test]
    fn odd_lines_send_the_caller_to_the_strict_reader() {
        assert!(read("{oops\n").is_none());
        assert!(read(&line("1.0.0", &[]).replace("t/x", "t/y")).is_none());
        assert!(read(&line("1.0.0", &[]).replace("1.0.0", "one")).is_none());
    }

    #[test]
    fn an_unreadable_line_found_later_is_reported_as_the_strict_reader_does() {
        let text = format!(
            "{}{}",
            line("1.0.0", &[]),
            line("1.2.0", &[("t/y", "^^1")]).replace("\"size\":10", "\"size\":\"big\"")
        );
        let cs = read(&text).unwrap();
        let err = cs[1].contents().unwrap_err().to_string();
        assert!(
            err.starts_with("registry `reg`: i.jsonl:2: invalid index line:"),
            "{err}"
        );
        let text = format!("{}{}", line("1.0.0", &[]), line("1.2.0", &[("t/y", "^^1")]));
        let err = read(&text).unwrap()[1].contents().unwrap_err().to_string();
        assert!(err.contains("requirement `^^1` of `t/y`"), "{err}");
    }
}

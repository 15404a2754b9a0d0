//! Java `.properties` and INI files: each line is blank, a comment (`#`,
//! `!` or `;`), a `[section]`, or `key = value` / `key: value`, a value
//! continued on the next line by an odd number of trailing backslashes.
//! Unlike Java, a key without a separator is refused: in a rendered file it
//! is almost always the second half of a value with a line break.

use super::Malformed;

/// The `(key, value)` pairs, unescaped as Java reads them.
pub fn check(text: &str) -> Result<Vec<(String, String)>, Malformed> {
    let mut pairs = Vec::new();
    let mut offset = 0;
    let mut lines = text.split_inclusive('\n');
    while let Some(raw) = lines.next() {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let content = line.trim_start_matches([' ', '\t', '\u{c}']);
        let at = start + (line.len() - content.len());
        if content.is_empty() || content.starts_with(['#', '!', ';']) {
            continue;
        }
        if content.starts_with('[') {
            if !content.trim_end().ends_with(']') {
                return Err(Malformed::at(at, "a `[section]` line must end with `]`"));
            }
            continue;
        }
        // The logical line: continuation lines joined, their indent dropped.
        let mut logical = content.to_owned();
        while ends_continued(&logical) {
            logical.pop();
            let Some(next) = lines.next() else { break };
            offset += next.len();
            logical.push_str(
                next.trim_end_matches(['\n', '\r'])
                    .trim_start_matches([' ', '\t', '\u{c}']),
            );
        }
        let Some(separator) = separator(&logical) else {
            return Err(Malformed::at(
                at,
                "expected `key = value` (a value with a line break must be escaped, `\\n`)",
            ));
        };
        let key = unescape(logical[..separator].trim_end()).map_err(|m| Malformed::at(at, m))?;
        let value = logical[separator + 1..].trim_start_matches([' ', '\t', '\u{c}']);
        let value = unescape(value).map_err(|m| Malformed::at(at, m))?;
        pairs.push((key, value));
    }
    Ok(pairs)
}

fn ends_continued(line: &str) -> bool {
    line.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// The byte of the first unescaped `=` or `:`.
fn separator(line: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, b) in line.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'=' | b':' => return Some(i),
            _ => {}
        }
    }
    None
}

fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    let mut units = Vec::new();
    while let Some(c) = chars.next() {
        if c != '\\' {
            flush(&mut units, &mut out)?;
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let unit = u16::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4)
                    .ok_or_else(|| format!("malformed `\\u{hex}` escape (four hex digits)"))?;
                units.push(unit);
                continue;
            }
            other => {
                flush(&mut units, &mut out)?;
                out.push(match other {
                    Some('n') => '\n',
                    Some('r') => '\r',
                    Some('t') => '\t',
                    Some('f') => '\u{c}',
                    Some(c) => c,
                    None => break,
                });
            }
        }
    }
    flush(&mut units, &mut out)?;
    Ok(out)
}

/// `\uXXXX` escapes pending, as UTF-16 (a surrogate pair is two of them).
fn flush(units: &mut Vec<u16>, out: &mut String) -> Result<(), String> {
    for c in char::decode_utf16(units.drain(..)) {
        out.push(c.map_err(|_| "a `\\u` escape is half of a surrogate pair".to_owned())?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good() {
        let text = "# comment\n! other\n; ini\n[section]\n  a = b\nc:d\nlong = one \\\n    two\ne\\=f = \\u00e9\\ud83d\\ude00\\n\nempty =\n";
        assert_eq!(
            check(text),
            Ok(vec![
                ("a".into(), "b".into()),
                ("c".into(), "d".into()),
                ("long".into(), "one two".into()),
                ("e=f".into(), "é😀\n".into()),
                ("empty".into(), String::new()),
            ])
        );
    }

    #[test]
    fn bad_with_positions() {
        let e = |text: &str| check(text).unwrap_err();
        assert_eq!(e("nom = Collège\nLe Phare\n").offset, 15);
        assert_eq!(e("a = 1\n  [section\n").offset, 8);
        assert_eq!(
            e("a = \\u00zz\n").message,
            "malformed `\\u00zz` escape (four hex digits)"
        );
    }

    #[test]
    fn properties_value_round_trips() {
        for s in [
            " lead",
            "a=b:c",
            "C:\\x\\",
            "deux\nlignes\r",
            "école 😀",
            "#!",
        ] {
            let text = format!(
                "k = {}\n",
                crate::manifest::template_filters::properties_value(s)
            );
            assert_eq!(check(&text), Ok(vec![("k".into(), s.to_owned())]), "{text}");
        }
    }
}

//! LDIF (RFC 2849): an optional `version: 1`, then records separated by
//! blank lines, each starting with `dn:`; every other line is a comment
//! (`#`), a folded continuation (one leading space), a change separator
//! (`-`) or `attr: SAFE-STRING` / `attr:: BASE64` / `attr:< URL`. A value
//! holding a CR or NUL, starting with `:` or `<`, or base64 that does not
//! decode is refused. UTF-8 in a plain value is accepted, as OpenLDAP's
//! tools do (the RFC asks for base64; `ldif_value` writes it).

use base64::Engine as _;

use super::Malformed;

/// One unfolded line: its text and, for each piece, where the piece starts
/// in the logical line and in the file.
struct Logical {
    text: String,
    pieces: Vec<(usize, usize)>,
}

impl Logical {
    /// The offset in the file of byte `at` of the logical line.
    fn offset(&self, at: usize) -> usize {
        let &(start, file) = self
            .pieces
            .iter()
            .rev()
            .find(|(start, _)| *start <= at)
            .unwrap_or(&self.pieces[0]);
        file + (at - start)
    }
}

pub fn check(text: &str) -> Result<(), Malformed> {
    // Records, each a list of logical lines; comments are dropped.
    let mut records: Vec<Vec<Logical>> = vec![Vec::new()];
    let mut offset = 0;
    let mut in_comment = false;
    for raw in text.split_inclusive('\n') {
        let start = offset;
        offset += raw.len();
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(at) = line.find(['\r', '\0']) {
            return Err(Malformed::at(
                start + at,
                "a CR or NUL inside a line (write the value base64-encoded, `attr:: …`)",
            ));
        }
        if let Some(rest) = line.strip_prefix(' ') {
            if in_comment {
                continue;
            }
            let Some(last) = records.last_mut().and_then(|r| r.last_mut()) else {
                return Err(Malformed::at(
                    start,
                    "a continuation line (leading space) with no line to continue",
                ));
            };
            last.pieces.push((last.text.len(), start + 1));
            last.text.push_str(rest);
            continue;
        }
        in_comment = line.starts_with('#');
        if in_comment {
            continue;
        }
        if line.is_empty() {
            if !records.last().is_some_and(Vec::is_empty) {
                records.push(Vec::new());
            }
            continue;
        }
        records
            .last_mut()
            .expect("one record at least")
            .push(Logical {
                text: line.to_owned(),
                pieces: vec![(0, start)],
            });
    }
    for (i, record) in records.iter().enumerate() {
        let mut lines = record.iter();
        let Some(first) = lines.next() else { continue };
        let (name, _) = attribute(first)?;
        if i == 0 && name == "version" {
            if first.text.trim_end() != "version: 1" {
                return Err(Malformed::at(first.offset(0), "only `version: 1` exists"));
            }
            if let Some(dn) = lines.next() {
                return Err(Malformed::at(
                    dn.offset(0),
                    "a blank line must separate `version: 1` from the first record",
                ));
            }
            continue;
        }
        if !name.eq_ignore_ascii_case("dn") {
            return Err(Malformed::at(
                first.offset(0),
                "a record must start with `dn:`",
            ));
        }
        for line in lines {
            if line.text != "-" {
                attribute(line)?;
            }
        }
    }
    Ok(())
}

/// `attr: value`, `attr:: base64` or `attr:< url`: the name, checked with
/// its value.
fn attribute(line: &Logical) -> Result<(&str, &str), Malformed> {
    let text = line.text.as_str();
    let Some(colon) = text.find(':') else {
        return Err(Malformed::at(
            line.offset(0),
            "expected `attribute: value` (a value with a line break must be base64-encoded, `attr:: …`)",
        ));
    };
    let name = &text[..colon];
    let valid_name = name.split(';').all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    });
    if !valid_name {
        return Err(Malformed::at(
            line.offset(0),
            format!("`{name}` is not an attribute description"),
        ));
    }
    let rest = &text[colon + 1..];
    let (kind, value) = match rest.as_bytes().first() {
        Some(b':') => (':', &rest[1..]),
        Some(b'<') => ('<', &rest[1..]),
        _ => (' ', rest),
    };
    let value_at = colon + 1 + usize::from(kind != ' ');
    let trimmed = value.trim_start_matches(' ');
    let value_at = value_at + (value.len() - trimmed.len());
    let problem = match kind {
        ':' if base64::engine::general_purpose::STANDARD
            .decode(trimmed)
            .is_err() =>
        {
            Some("`::` is followed by text that is not base64")
        }
        '<' if !trimmed.contains(':') => Some("`:<` is followed by something that is not a URL"),
        ' ' if trimmed.starts_with([':', '<']) => {
            Some("a plain value cannot start with `:` or `<` (write it base64-encoded, `attr:: …`)")
        }
        _ => None,
    };
    if let Some(problem) = problem {
        return Err(Malformed::at(line.offset(value_at), problem));
    }
    Ok((name, trimmed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good() {
        let ldif = "version: 1\n\n# un commentaire\n#  plié\ndn: ou=people,dc=ent\nobjectClass: organizationalUnit\ndescription:: THljw6ll\nou: pe\n ople\n\n\ndn: cn=x,dc=ent\nchangetype: modify\nreplace: mail\nmail: a@b\n-\njpegPhoto:< file:///tmp/x\n";
        assert_eq!(check(ldif), Ok(()));
        assert_eq!(check(""), Ok(()));
    }

    #[test]
    fn bad_with_positions() {
        let e = |text: &str| check(text).unwrap_err().offset;
        // A line break inside a value: the second half is no `attr: value`.
        assert_eq!(e("dn: o=x\ndescription: Collège\nLe Phare\n"), 30);
        assert_eq!(e("dn: o=x\ndescription:: pas du base64!\n"), 22);
        assert_eq!(e("dn: o=x\ndescription: a\rb\n"), 22);
        assert_eq!(e("cn: x\n"), 0);
        assert_eq!(e(" suite\n"), 0);
        assert_eq!(e("dn: o=x\nbad name: y\n"), 8);
        assert_eq!(e("dn: o=x\nseeAlso:< nothing\n"), 18);
        assert_eq!(e("version: 2\n\ndn: o=x\n"), 0);
        // A value starting with `:` reads as base64.
        assert_eq!(e("dn: o=x\ndescription: :deux points\n"), 21);
    }
}

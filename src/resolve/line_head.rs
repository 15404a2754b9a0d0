//! The head of an index line: its format number `v`, `name`, `version` and
//! `yanked`, the only fields the resolver needs of every line.
//!
//! A quick scan of the line's top-level object finds them: other values are
//! stepped over (strings with a SIMD search for the closing quote, objects
//! and arrays by counting brackets) without being decoded. serde_json, even
//! skipping fields it does not keep, decodes every key and string; on 39,000
//! lines of ~470 bytes that was a third of a large resolution. Whatever the
//! scan does not expect (escapes in the fields it reads or in keys, a
//! duplicate field, a number that is not a plain integer) goes to serde,
//! which has the last word. The scan checks the top-level structure only:
//! the rest of the line is checked when it is parsed in full, when the
//! resolver asks for that version's contents.

use std::borrow::Cow;

use serde::Deserialize;

/// The fields read up front. Optional, for lines of a newer format (which
/// are skipped) that may lack them.
#[derive(Debug, Default, PartialEq, Deserialize)]
pub(crate) struct Head<'a> {
    pub v: u64,
    #[serde(borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub version: Option<Cow<'a, str>>,
    #[serde(default)]
    pub yanked: bool,
}

impl<'a> Head<'a> {
    /// The head of `line`; `None` when the line is not a JSON object with a
    /// plain integer `v` (and, if present, a string `name` and `version`
    /// and a boolean `yanked`).
    pub fn of(line: &'a str) -> Option<Head<'a>> {
        Scanner::new(line)
            .head()
            .or_else(|| serde_json::from_str(line).ok())
    }
}

/// A cursor over the line's bytes; every method returns `None` on anything
/// unexpected, which sends the line to serde.
struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner { text, at: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn head(mut self) -> Option<Head<'a>> {
        let mut head = Head::default();
        let mut seen = [false; 4];
        self.expect(b'{')?;
        if self.peek()? == b'}' {
            return None; // no `v`
        }
        loop {
            let key = self.plain_string()?;
            self.expect(b':')?;
            let field = match key {
                "v" => Some(0),
                "name" => Some(1),
                "version" => Some(2),
                "yanked" => Some(3),
                _ => None,
            };
            if let Some(field) = field
                && std::mem::replace(&mut seen[field], true)
            {
                return None; // serde refuses duplicates
            }
            match field {
                Some(0) => head.v = self.integer()?,
                Some(1) => head.name = Some(Cow::Borrowed(self.plain_string()?)),
                Some(2) => head.version = Some(Cow::Borrowed(self.plain_string()?)),
                Some(3) => head.yanked = self.boolean()?,
                _ => self.skip_value()?,
            }
            match self.next_byte()? {
                b',' => continue,
                b'}' => break,
                _ => return None,
            }
        }
        // Nothing but spaces after the object, and `v` was there.
        (self.peek().is_none() && seen[0]).then_some(head)
    }

    /// The next byte that is not JSON whitespace, without consuming it.
    fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes().get(self.at) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(b);
            }
            self.at += 1;
        }
        None
    }

    fn next_byte(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn expect(&mut self, wanted: u8) -> Option<()> {
        (self.next_byte()? == wanted).then_some(())
    }

    /// A string without escapes, borrowed.
    fn plain_string(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let start = self.at;
        let len = memchr::memchr2(b'"', b'\\', &self.bytes()[start..])?;
        if self.bytes()[start + len] != b'"' {
            return None;
        }
        self.at = start + len + 1;
        // Both ends are ASCII quotes inside a `str`: char boundaries.
        Some(&self.text[start..start + len])
    }

    /// Steps over a string, escapes included (after its opening quote).
    fn skip_string_body(&mut self) -> Option<()> {
        loop {
            let len = memchr::memchr2(b'"', b'\\', &self.bytes()[self.at..])?;
            self.at += len + 1;
            if self.bytes()[self.at - 1] == b'"' {
                return Some(());
            }
            self.at += 1; // the escaped character
        }
    }

    fn integer(&mut self) -> Option<u64> {
        self.peek()?;
        let digits = self.bytes()[self.at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let text = &self.text[self.at..self.at + digits];
        // JSON has no leading zeros; a fraction or exponent goes to serde.
        if digits == 0 || (digits > 1 && text.starts_with('0')) {
            return None;
        }
        self.at += digits;
        if matches!(self.bytes().get(self.at), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        text.parse().ok()
    }

    fn boolean(&mut self) -> Option<bool> {
        self.peek()?;
        let rest = &self.text[self.at..];
        let (value, len) = if rest.starts_with("true") {
            (true, 4)
        } else if rest.starts_with("false") {
            (false, 5)
        } else {
            return None;
        };
        self.at += len;
        Some(value)
    }

    /// Steps over any value: strings and nested objects and arrays are not
    /// decoded, only delimited.
    fn skip_value(&mut self) -> Option<()> {
        match self.next_byte()? {
            b'"' => self.skip_string_body(),
            open @ (b'{' | b'[') => {
                let mut depth = 1usize;
                while depth > 0 {
                    let rest = &self.bytes()[self.at..];
                    let len = rest
                        .iter()
                        .position(|b| matches!(b, b'"' | b'{' | b'[' | b'}' | b']'))?;
                    self.at += len + 1;
                    match rest[len] {
                        b'"' => self.skip_string_body()?,
                        b'{' | b'[' => depth += 1,
                        _ => depth -= 1,
                    }
                }
                let close = if open == b'{' { b'}' } else { b']' };
                (self.bytes()[self.at - 1] == close).then_some(())
            }
            _ => {
                // A number, `true`, `false` or `null`: up to the next delimiter.
                let rest = &self.bytes()[self.at..];
                let len = rest
                    .iter()
                    .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                    .unwrap_or(rest.len());
                self.at += len;
                Some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(line: &str) -> Option<Head<'_>> {
        Scanner::new(line).head()
    }

    #[test]
    fn scan_agrees_with_serde_on_plain_lines() {
        let lines = [
            r#"{"v":1,"name":"t/x","version":"1.0.0","requires":{"t/y":"^1","t/z":">=1, <2"},"provides":["a"],"features":{"sms":["t/y"]},"sha256":"ab","size":10,"yanked":true,"origin":"t"}"#,
            r#" { "v" : 1 , "version" : "2.0.0-rc.1" , "name" : "t/x" , "x" : [ { "y" : "\"}]" } , null , -1.5e3 ] } "#,
            r#"{"v":9,"new":{"nested":[[],{}]}}"#,
            r#"{"v":1,"name":"t/x","version":"1.0.0","note":"a \\ b \" c"}"#,
        ];
        for line in lines {
            let expected: Head = serde_json::from_str(line).unwrap();
            assert_eq!(scan(line), Some(expected), "{line}");
        }
    }

    #[test]
    fn what_the_scan_does_not_expect_goes_to_serde() {
        for line in [
            r#"{"v":1,"name":"t\/x","version":"1.0.0"}"#,
            r#"{"v":1.0,"name":"t/x"}"#,
            r#"{"v":01}"#,
            r#"{"v":1,"v":2}"#,
            r#"{"name":"t/x"}"#,
            r#"{}"#,
            r#"{"v":1,"yanked":"yes"}"#,
            r#"{"v":1,"x":[1,2}"#,
            r#"{"v":1} trailing"#,
            r#"{"v":1,"x":"unterminated}"#,
            r#"[1]"#,
            "",
        ] {
            assert_eq!(scan(line), None, "{line}");
        }
        // serde then decides: the escaped name is read, the rest refused.
        assert_eq!(
            Head::of(r#"{"v":1,"name":"t\/x","version":"1.0.0"}"#)
                .and_then(|h| h.name)
                .as_deref(),
            Some("t/x")
        );
        assert_eq!(Head::of(r#"{"v":1,"v":2}"#), None);
        assert_eq!(Head::of(r#"{"v":1,"x":[1,2}"#), None);
    }
}

//! A streaming reader of the AAF's XML files (`ficAlimMENESR`): one request
//! (`<addRequest>`, `<modifyRequest>`, `<deleteRequest>`) at a time, with
//! the line it starts on, read from a `BufRead` so that an académie's file
//! of several hundred thousand entries is never held whole in memory.
//!
//! The format is the DTD `ficAlimMENESR.dtd` that comes with every export:
//!
//! ```text
//! <!ELEMENT ficAlimMENESR (addRequest|modifyRequest|deleteRequest)*>
//! <!ELEMENT addRequest (operationalAttributes, identifier, attributes)>
//! <!ELEMENT operationalAttributes (attr)>   categoriePersonne | categorieStructure
//! <!ELEMENT identifier (id)>
//! <!ELEMENT attributes (attr+)>
//! <!ELEMENT attr (value+)>                  <!ATTLIST attr name CDATA #REQUIRED>
//! ```
//!
//! The files are ISO-8859-15 (as their XML declaration says) or UTF-8; the
//! text is decoded as declared. The markup is plain (no namespaces, no
//! internal DTD subset); comments, processing instructions, CDATA and the
//! five predefined entities plus character references are understood, and
//! anything else is refused with its line rather than guessed.

use std::borrow::Cow;
use std::io::{BufRead, Read};

/// One request of a file, as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// `addRequest`, `modifyRequest` or `deleteRequest`.
    pub kind: String,
    /// The line of its opening tag.
    pub line: u64,
    /// `categoriePersonne` or `categorieStructure`, and its value.
    pub category: Option<(String, String)>,
    /// The `<identifier><id>`.
    pub id: Option<String>,
    /// Each `<attr name>` of `<attributes>` with its non-empty values, in
    /// the file's order.
    pub attrs: Vec<(String, Vec<String>)>,
}

impl Request {
    /// The values of attribute `name` (none when absent).
    pub fn values(&self, name: &str) -> &[String] {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// The first value of attribute `name`.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.values(name).first().map(String::as_str)
    }
}

/// What is wrong with the XML, and on which line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Latin1,
    Latin9,
}

/// An element's name: one of the format's, without allocating, or another
/// one kept for the message that refuses it.
type Name = Cow<'static, str>;

/// The longest tag or text read at once.
const MAX_TOKEN: usize = 1 << 20;

/// The element names of ficAlimMENESR.dtd.
const NAMES: &[&str] = &[
    "ficAlimMENESR",
    "addRequest",
    "modifyRequest",
    "deleteRequest",
    "operationalAttributes",
    "identifier",
    "attributes",
    "modifications",
    "modification",
    "attr",
    "value",
    "id",
];

enum Token {
    Open {
        name: Name,
        attr_name: Option<String>,
        empty: bool,
    },
    Close(Name),
    /// Text, left in the reader's buffer until the next token.
    Text,
}

/// Where the reader is inside a request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Operational,
    Identifier,
    Attributes,
    Other,
}

pub struct AafReader<R> {
    input: R,
    line: u64,
    encoding: Encoding,
    /// The open elements, outermost first.
    stack: Vec<(Name, u64)>,
    buf: Vec<u8>,
    /// A `<` was read: the next token is a tag.
    after_lt: bool,
    seen_root: bool,
}

impl<R: BufRead> AafReader<R> {
    pub fn new(input: R) -> Self {
        AafReader {
            input,
            line: 1,
            encoding: Encoding::Utf8,
            stack: Vec::new(),
            buf: Vec::new(),
            after_lt: false,
            seen_root: false,
        }
    }

    fn error(&self, line: u64, message: impl Into<String>) -> XmlError {
        XmlError {
            line,
            message: message.into(),
        }
    }

    /// The next request, `None` at the end of a complete file.
    pub fn next_request(&mut self) -> Result<Option<Request>, XmlError> {
        let mut request: Option<Request> = None;
        let mut part = Part::Other;
        // Whether an `<attr>` (or `<modification>`) is open, the `name` of
        // the operational one, and the text of an open `<value>` or `<id>`.
        let mut in_attr = false;
        let mut operational: Option<String> = None;
        let mut text: Vec<u8> = Vec::new();
        let mut capturing = false;
        loop {
            let start = self.line;
            let Some(token) = self.next_token()? else {
                if let Some((name, line)) = self.stack.last() {
                    return Err(self.error(
                        self.line,
                        format!(
                            "the file ends inside `<{name}>` opened on line {line}: it is truncated; copy it again from the académie's export (its size and checksum), or ask the académie for the file again"
                        ),
                    ));
                }
                if !self.seen_root {
                    return Err(self.error(
                        self.line,
                        "the file holds no `<ficAlimMENESR>` element: it is not an AAF export",
                    ));
                }
                return Ok(None);
            };
            match token {
                Token::Text => {
                    if capturing {
                        text.extend_from_slice(&self.buf);
                    } else if self.buf.iter().any(|b| !b.is_ascii_whitespace()) {
                        let parent = self.stack.last().map_or("", |(n, _)| n.as_ref());
                        return Err(self.error(
                            start,
                            format!("text outside any `<value>` or `<id>` (in `<{parent}>`): this is not the AAF's format"),
                        ));
                    }
                }
                Token::Open {
                    name,
                    attr_name,
                    empty,
                } => {
                    let depth = self.stack.len();
                    match (depth, name.as_ref()) {
                        (0, "ficAlimMENESR") => self.seen_root = true,
                        (0, other) => {
                            return Err(self.error(
                                start,
                                format!("the root element is `<{other}>`, expected `<ficAlimMENESR>`: this is not an AAF export"),
                            ));
                        }
                        (1, "addRequest" | "modifyRequest" | "deleteRequest") => {
                            request = Some(Request {
                                kind: name.to_string(),
                                line: start,
                                ..Request::default()
                            });
                        }
                        (2, "operationalAttributes") => part = Part::Operational,
                        (2, "identifier") => part = Part::Identifier,
                        (2, "attributes") => part = Part::Attributes,
                        (2, _) => part = Part::Other,
                        (3, "attr" | "modification") if part != Part::Identifier => {
                            let Some(n) = attr_name else {
                                return Err(self.error(start, "an `<attr>` without its `name`"));
                            };
                            match (part, request.as_mut()) {
                                (Part::Attributes, Some(r)) => r.attrs.push((n, Vec::new())),
                                (Part::Operational, _) => operational = Some(n),
                                _ => {}
                            }
                            in_attr = !empty;
                        }
                        (3, "id") if part == Part::Identifier => capturing = !empty,
                        (4, "value") if in_attr => capturing = !empty,
                        (_, other) => {
                            let parent = self.stack.last().map_or("", |(n, _)| n.as_ref());
                            return Err(self.error(
                                start,
                                format!("unexpected `<{other}>` in `<{parent}>`: the AAF's DTD (ficAlimMENESR.dtd) does not allow it here"),
                            ));
                        }
                    }
                    // `<value/>` is an empty value, as AAF writes an absent one.
                    if !empty {
                        self.stack.push((name, start));
                    }
                }
                Token::Close(name) => {
                    let Some((open, _)) = self.stack.pop() else {
                        return Err(self.error(start, format!("`</{name}>` closes nothing")));
                    };
                    if open != name {
                        return Err(self.error(
                            start,
                            format!("`</{name}>` closes `<{open}>`: the file is damaged"),
                        ));
                    }
                    match name.as_ref() {
                        "value" | "id" => {
                            capturing = false;
                            let value = self.decode(&text, start).map_err(|mut e| {
                                let a = match part {
                                    Part::Operational => operational.as_deref(),
                                    Part::Attributes => request
                                        .as_ref()
                                        .and_then(|r| r.attrs.last())
                                        .map(|(n, _)| n.as_str()),
                                    _ => None,
                                };
                                if let Some(a) = a {
                                    e.message = format!("attribute `{a}`: {}", e.message);
                                }
                                e
                            })?;
                            text.clear();
                            if !value.is_empty()
                                && let Some(r) = request.as_mut()
                            {
                                match part {
                                    Part::Identifier => r.id = Some(value),
                                    Part::Operational => {
                                        let a = operational.clone().unwrap_or_default();
                                        r.category = Some((a, value));
                                    }
                                    Part::Attributes => {
                                        if let Some((_, values)) = r.attrs.last_mut() {
                                            values.push(value);
                                        }
                                    }
                                    Part::Other => {}
                                }
                            }
                        }
                        "attr" | "modification" => in_attr = false,
                        "addRequest" | "modifyRequest" | "deleteRequest" => {
                            return Ok(request.take());
                        }
                        _ => {}
                    }
                    // Out of `<operationalAttributes>`, `<identifier>`, `<attributes>`.
                    if self.stack.len() == 2 {
                        part = Part::Other;
                    }
                }
            }
        }
    }

    /// Text bytes decoded as the file declares, white space around it
    /// dropped, entities replaced.
    fn decode(&self, raw: &[u8], line: u64) -> Result<String, XmlError> {
        let raw = raw.trim_ascii();
        let text = match std::str::from_utf8(raw) {
            // ASCII reads the same in the three encodings.
            Ok(s) if self.encoding == Encoding::Utf8 || raw.is_ascii() => s.to_owned(),
            Err(_) if self.encoding == Encoding::Utf8 => {
                return Err(self.error(
                    line,
                    "a value is not UTF-8 although the file declares no other encoding; the AAF writes ISO-8859-15 and says so in its first line `<?xml … encoding=\"ISO-8859-15\"?>`",
                ));
            }
            _ if self.encoding == Encoding::Latin9 => raw.iter().map(|&b| latin9(b)).collect(),
            _ => raw.iter().map(|&b| b as char).collect(),
        };
        unescape(text).map_err(|m| self.error(line, m))
    }

    /// Reads up to and including `byte`; false when the input ended first.
    /// A tag or a text longer than [`MAX_TOKEN`] is refused rather than
    /// held in memory: a damaged or hostile file cannot exhaust it.
    fn read_until(&mut self, byte: u8) -> Result<bool, XmlError> {
        let before = self.buf.len();
        let room = MAX_TOKEN.saturating_sub(before) as u64 + 1;
        (&mut self.input)
            .take(room)
            .read_until(byte, &mut self.buf)
            .map_err(|e| self.error(self.line, format!("cannot read: {e}")))?;
        self.line += memchr::memchr_iter(b'\n', &self.buf[before..]).count() as u64;
        let found = self.buf.len() > before && self.buf.last() == Some(&byte);
        if !found && self.buf.len() > MAX_TOKEN {
            return Err(self.error(
                self.line,
                format!("a tag or a text longer than {} MiB: an AAF value is a few hundred bytes at most; the file is damaged", MAX_TOKEN >> 20),
            ));
        }
        Ok(found)
    }

    fn next_token(&mut self) -> Result<Option<Token>, XmlError> {
        loop {
            if self.after_lt {
                self.after_lt = false;
                if let Some(token) = self.tag()? {
                    return Ok(Some(token));
                }
                continue;
            }
            self.buf.clear();
            let found = self.read_until(b'<')?;
            if found {
                self.buf.pop();
                self.after_lt = true;
            }
            if !self.buf.is_empty() {
                return Ok(Some(Token::Text));
            }
            if !found {
                return Ok(None);
            }
        }
    }

    fn truncated(&self, line: u64) -> XmlError {
        let within = self.stack.last().map_or_else(String::new, |(name, at)| {
            format!(" in `<{name}>` opened on line {at}")
        });
        self.error(
            line,
            format!("the file ends inside a tag{within}: it is truncated; copy it again from the académie's export, or ask the académie for the file again"),
        )
    }

    /// The tag after a `<`; `None` for what carries nothing (declaration,
    /// comment, DOCTYPE).
    fn tag(&mut self) -> Result<Option<Token>, XmlError> {
        let line = self.line;
        self.buf.clear();
        if !self.read_until(b'>')? {
            return Err(self.truncated(line));
        }
        if self.buf.starts_with(b"!--") {
            while !self.buf.ends_with(b"-->") {
                if !self.read_until(b'>')? {
                    return Err(self.truncated(line));
                }
            }
            return Ok(None);
        }
        if self.buf.starts_with(b"!DOCTYPE") {
            if self.buf.contains(&b'[') {
                return Err(self.error(
                    line,
                    "the DOCTYPE has an internal subset (`[…]`): the AAF's files name their DTD (`ficAlimMENESR.dtd`) and declare nothing inline",
                ));
            }
            return Ok(None);
        }
        if self.buf.starts_with(b"?") {
            if self.buf.starts_with(b"?xml") {
                self.encoding = self.declared_encoding(line)?;
            }
            return Ok(None);
        }
        if self.buf.starts_with(b"!") {
            return Err(self.error(
                line,
                "a `<!…>` section (CDATA or declaration) in the data: the AAF's format has none",
            ));
        }
        // A `>` inside a quoted attribute value does not end the tag.
        while in_quotes(&self.buf) {
            if !self.read_until(b'>')? {
                return Err(self.truncated(line));
            }
        }
        let body = &self.buf[..self.buf.len() - 1];
        if let Some(rest) = body.strip_prefix(b"/") {
            return Ok(Some(Token::Close(self.name(rest.trim_ascii(), line)?)));
        }
        let (body, empty) = match body.strip_suffix(b"/") {
            Some(b) => (b, true),
            None => (body, false),
        };
        let end = body
            .iter()
            .position(|b| b.is_ascii_whitespace())
            .unwrap_or(body.len());
        let name = self.name(&body[..end], line)?;
        let attr_name = match attribute(&body[end..], b"name") {
            Some(raw) => Some(self.decode(raw, line)?),
            None => None,
        };
        Ok(Some(Token::Open {
            name,
            attr_name,
            empty,
        }))
    }

    fn name(&self, bytes: &[u8], line: u64) -> Result<Name, XmlError> {
        if let Some(known) = NAMES.iter().find(|n| n.as_bytes() == bytes) {
            return Ok(Cow::Borrowed(known));
        }
        match std::str::from_utf8(bytes) {
            Ok(s) if !s.is_empty() && s.is_ascii() => Ok(Cow::Owned(s.to_owned())),
            _ => Err(self.error(
                line,
                format!(
                    "`<{}>` is not an element name of the AAF's format",
                    String::from_utf8_lossy(bytes)
                ),
            )),
        }
    }

    /// The `encoding` of `<?xml … ?>`, read from `self.buf`.
    fn declared_encoding(&self, line: u64) -> Result<Encoding, XmlError> {
        let Some(raw) = attribute(&self.buf[4..self.buf.len() - 1], b"encoding") else {
            return Ok(Encoding::Utf8);
        };
        match String::from_utf8_lossy(raw).to_uppercase().as_str() {
            "UTF-8" | "UTF8" => Ok(Encoding::Utf8),
            "ISO-8859-1" | "ISO8859-1" | "LATIN1" => Ok(Encoding::Latin1),
            "ISO-8859-15" | "ISO8859-15" | "LATIN9" => Ok(Encoding::Latin9),
            other => Err(self.error(
                line,
                format!("the file declares the encoding `{other}`; the AAF writes ISO-8859-15 (or UTF-8): convert it with `iconv -t ISO-8859-15` and fix its first line"),
            )),
        }
    }
}

/// Whether `tag` ends inside a quoted attribute value (`"…'…"` is closed).
fn in_quotes(tag: &[u8]) -> bool {
    let mut open: Option<u8> = None;
    for &b in tag {
        match open {
            Some(q) if b == q => open = None,
            None if b == b'"' || b == b'\'' => open = Some(b),
            _ => {}
        }
    }
    open.is_some()
}

/// The raw value of attribute `key` in the bytes after an element's name.
fn attribute<'a>(mut rest: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    loop {
        rest = rest.trim_ascii_start();
        let eq = rest.iter().position(|&b| b == b'=')?;
        let name = rest[..eq].trim_ascii();
        let after = rest[eq + 1..].trim_ascii_start();
        let quote = *after.first()?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let close = after[1..].iter().position(|&b| b == quote)?;
        let value = &after[1..1 + close];
        if name == key {
            return Some(value);
        }
        rest = &after[close + 2..];
    }
}

/// ISO-8859-15 differs from ISO-8859-1 at eight places (€, Š, š, Ž, ž, Œ, œ, Ÿ).
fn latin9(b: u8) -> char {
    match b {
        0xA4 => '€',
        0xA6 => 'Š',
        0xA8 => 'š',
        0xB4 => 'Ž',
        0xB8 => 'ž',
        0xBC => 'Œ',
        0xBD => 'œ',
        0xBE => 'Ÿ',
        _ => b as char,
    }
}

/// XML's five entities and character references replaced.
fn unescape(text: String) -> Result<String, String> {
    if !text.contains('&') {
        return Ok(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let Some(semi) = after.find(';') else {
            return Err("a `&` that starts no entity: write it `&amp;`".to_owned());
        };
        let entity = &after[..semi];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        let Some(c) = c else {
            return Err(format!(
                "the entity `&{entity};` is not one XML defines (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&#…;`)"
            ));
        };
        out.push(c);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &[u8]) -> Result<Vec<Request>, XmlError> {
        let mut reader = AafReader::new(text);
        let mut out = Vec::new();
        while let Some(r) = reader.next_request()? {
            out.push(r);
        }
        Ok(out)
    }

    #[test]
    fn a_request_is_read_with_its_line_category_id_and_values() {
        let text = b"<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?>\n<!DOCTYPE ficAlimMENESR SYSTEM \"ficAlimMENESR.dtd\">\n<ficAlimMENESR>\n<!-- a > comment -->\n<addRequest>\n<operationalAttributes><attr name=\"categoriePersonne\"><value>Eleve</value></attr></operationalAttributes>\n<identifier><id>1234</id></identifier>\n<attributes>\n<attr name=\"sn\"><value>L\xc9V\xbdQUE &amp; Fils</value></attr>\n<attr name=\"mail\"><value/></attr>\n<attr name=\"ENTEleveClasses\"><value>1$3A</value><value>1$3B</value></attr>\n</attributes>\n</addRequest>\n</ficAlimMENESR>\n";
        let requests = read_all(text).unwrap();
        assert_eq!(
            requests,
            vec![Request {
                kind: "addRequest".into(),
                line: 5,
                category: Some(("categoriePersonne".into(), "Eleve".into())),
                id: Some("1234".into()),
                attrs: vec![
                    ("sn".into(), vec!["LÉVœQUE & Fils".into()]),
                    ("mail".into(), vec![]),
                    ("ENTEleveClasses".into(), vec!["1$3A".into(), "1$3B".into()]),
                ],
            }]
        );
    }

    #[test]
    fn a_truncated_file_names_the_element_left_open_and_its_line() {
        let text = b"<ficAlimMENESR>\n<addRequest>\n<identifier><id>1</id></identifier>\n<attributes><attr name=\"sn\"><value>DUP";
        let err = read_all(text).unwrap_err();
        assert_eq!(err.line, 4);
        assert!(
            err.message.contains("inside `<value>` opened on line 4"),
            "{}",
            err.message
        );
        let cut_in_tag = b"<ficAlimMENESR>\n<addRequest>\n<identifier><id>1</id></identif";
        let err = read_all(cut_in_tag).unwrap_err();
        assert!(err.message.contains("ends inside a tag"), "{}", err.message);
    }

    #[test]
    fn a_value_longer_than_the_limit_is_refused_without_reading_it_all() {
        let mut text = b"<ficAlimMENESR>\n<addRequest>\n<identifier><id>".to_vec();
        text.extend(std::iter::repeat_n(b'1', 3 * MAX_TOKEN));
        let err = read_all(&text).unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("longer than 1 MiB"), "{}", err.message);
    }

    #[test]
    fn a_quote_or_a_greater_than_sign_inside_an_attribute_value_is_read_as_text() {
        let text = b"<ficAlimMENESR>\n<addRequest>\n<identifier><id>1</id></identifier>\n<attributes><attr name=\"l'a>b\"><value>x</value></attr></attributes>\n</addRequest>\n</ficAlimMENESR>\n";
        let requests = read_all(text).unwrap();
        assert_eq!(
            requests[0].attrs,
            vec![("l'a>b".to_owned(), vec!["x".to_owned()])]
        );
    }

    #[test]
    fn unknown_entities_and_mismatched_tags_are_refused() {
        assert!(unescape("a &eacute; b".into()).is_err());
        assert_eq!(unescape("&#233;&#xE9;".into()).unwrap(), "éé");
        let text = b"<ficAlimMENESR>\n<addRequest>\n</attributes>";
        let err = read_all(text).unwrap_err();
        assert_eq!(err.line, 3);
    }
}

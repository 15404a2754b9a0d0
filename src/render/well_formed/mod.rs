//! Parsing back what was rendered: a rendered file whose format oent knows
//! (by its extension) must parse, else the software would fail to start, or
//! worse read something else than the distribution says (a name with a
//! quote that closes a JSON string early). Each format has its own small
//! checker; an error points at the byte where parsing stopped, and
//! [`malformed`] turns it into a diagnostic naming the template, the
//! établissement and the rendered line (docs/render.md, "Well-formed
//! output").

pub mod json;
pub mod ldif;
pub mod php;
pub mod properties;
pub mod xml;
pub mod yaml;

use std::borrow::Cow;
use std::io::Write;

use crate::manifest::source::SourceFile;
use crate::manifest::{Code, Diagnostic};

/// A format oent parses back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    Properties,
    Ldif,
    Xml,
    Php,
}

impl Format {
    /// The format of a bundle path, by its extension; `None`: not checked
    /// (`.conf` is nginx, Dovecot, Postfix… each its own syntax).
    pub fn of(path: &str) -> Option<Format> {
        let extension = path.rsplit_once('.')?.1;
        Some(match extension.to_ascii_lowercase().as_str() {
            "json" => Format::Json,
            "yaml" | "yml" => Format::Yaml,
            "properties" | "ini" => Format::Properties,
            "ldif" => Format::Ldif,
            "xml" => Format::Xml,
            "php" => Format::Php,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
            Format::Properties => "properties/INI",
            Format::Ldif => "LDIF",
            Format::Xml => "XML",
            Format::Php => "PHP",
        }
    }

    /// The escaping filter a template should use for values in this format.
    fn filter(self) -> &'static str {
        match self {
            Format::Json => "json_string",
            Format::Yaml => "yaml_scalar",
            Format::Properties => "properties_value",
            Format::Ldif => "ldif_value",
            Format::Xml => "escape_xml",
            Format::Php => "php_string",
        }
    }

    /// Whether `text` parses as this format.
    pub fn check(self, text: &str) -> Result<(), Malformed> {
        match self {
            Format::Json => json::check(text),
            Format::Yaml => yaml::check(text),
            Format::Properties => properties::check(text).map(drop),
            Format::Ldif => ldif::check(text),
            Format::Xml => xml::check(text),
            Format::Php => php::check(text),
        }
    }
}

/// Whether rendered `bytes` parse as `format`, and their text for the
/// diagnostic (what is not UTF-8 shown lossily). Every format oent checks
/// is UTF-8 text: invalid UTF-8 is refused at its first byte.
pub fn check_bytes(format: Format, bytes: &[u8]) -> (Cow<'_, str>, Result<(), Malformed>) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (Cow::Borrowed(text), format.check(text)),
        Err(e) => (
            String::from_utf8_lossy(bytes),
            Err(Malformed::at(
                e.valid_up_to(),
                "the rendered text is not UTF-8",
            )),
        ),
    }
}

/// Where and why parsing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// Byte offset in the rendered text.
    pub offset: usize,
    pub message: String,
}

impl Malformed {
    pub fn at(offset: usize, message: impl Into<String>) -> Self {
        Malformed {
            offset,
            message: message.into(),
        }
    }
}

/// The diagnostic of a rendered file that does not parse: the template
/// (`template`, as shown), the file of the bundle, the établissement, the
/// position and the rendered line (on one line: diagnostics are one line
/// each, and the rendered file is not kept).
pub fn malformed(
    template: &std::path::Path,
    path: &str,
    during: &str,
    format: Format,
    text: &str,
    error: &Malformed,
) -> Diagnostic {
    let rendered = SourceFile::new(path, text.to_owned());
    let (line, column) = rendered.line_col(error.offset);
    let start = rendered.line_starts()[line - 1];
    let quoted = excerpt(text[start..].lines().next().unwrap_or(""), column);
    Diagnostic::new(
        Code::MalformedOutput,
        template,
        format!(
            "rendered `{path}`{during} is not valid {} at line {line}, column {column}: {}; the line reads `{quoted}`",
            format.name(),
            error.message,
        ),
    )
    .help(format!(
        "write each value with the format's escaping filter, e.g. `{{{{ value | {} }}}}` (docs/render.md, \"Escaping filters\")",
        format.filter()
    ))
}

/// Characters of the line around `column` (1-based), at most 40 on each side.
fn excerpt(line: &str, column: usize) -> String {
    const SIDE: usize = 40;
    let chars: Vec<char> = line.chars().collect();
    let from = column.saturating_sub(1 + SIDE);
    let to = (column + SIDE).min(chars.len());
    let mut out: String = chars[from..to].iter().collect();
    if from > 0 {
        out.insert(0, '…');
    }
    if to < chars.len() {
        out.push('…');
    }
    out
}

/// A writer that keeps a copy of what it writes when the file is to be
/// parsed back.
pub struct Keep<W> {
    inner: W,
    kept: Option<Vec<u8>>,
}

impl<W: Write> Keep<W> {
    pub fn new(inner: W, keep: bool) -> Self {
        Keep {
            inner,
            // Most rendered files are a few KiB: one allocation, rarely two.
            kept: keep.then(|| Vec::with_capacity(8 * 1024)),
        }
    }

    pub fn finish(self) -> (W, Option<Vec<u8>>) {
        (self.inner, self.kept)
    }
}

impl<W: Write> Write for Keep<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(kept) = &mut self.kept {
            kept.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::template_filters::tests::HOSTILE;
    use crate::manifest::template_filters::{ldif_value, php_string};

    #[test]
    fn hostile_values_written_with_the_filters_read_back_as_valid_files() {
        for s in HOSTILE {
            let php = format!("<?php $a = {};\n", php_string(s));
            assert_eq!(php::check(&php), Ok(()), "{php}");
            let ldif = format!("dn: cn=x\ndescription{}\n", ldif_value(s));
            assert_eq!(ldif::check(&ldif), Ok(()), "{ldif}");
        }
    }

    #[test]
    fn formats_by_extension() {
        assert_eq!(Format::of("conf/m/a.json"), Some(Format::Json));
        assert_eq!(Format::of("conf/m/a.YML"), Some(Format::Yaml));
        assert_eq!(Format::of("conf/m/a.ini"), Some(Format::Properties));
        assert_eq!(Format::of("conf/m/nginx.conf"), None);
        assert_eq!(Format::of("conf/m/README"), None);
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_at_its_first_byte() {
        let (text, checked) = check_bytes(Format::Json, b"\"ab\xff\"");
        assert_eq!(text, "\"ab\u{fffd}\"");
        assert_eq!(
            checked,
            Err(Malformed::at(3, "the rendered text is not UTF-8"))
        );
    }

    #[test]
    fn long_lines_are_quoted_around_the_column() {
        let line = format!("{}X{}", "a".repeat(100), "b".repeat(100));
        assert_eq!(
            excerpt(&line, 101),
            format!("…{}X{}…", "a".repeat(40), "b".repeat(40))
        );
        assert_eq!(excerpt("short", 1), "short");
    }

    #[test]
    fn the_diagnostic_quotes_the_rendered_line() {
        let text = "{\n  \"nom\": \"Collège \"Le Phare\"\"\n}\n";
        let error = Format::Json.check(text).unwrap_err();
        let d = malformed(
            std::path::Path::new("a/b@1.0.0/templates/e.json.tera"),
            "conf/b/e.json",
            " (établissement 0750001A)",
            Format::Json,
            text,
            &error,
        );
        assert_eq!(
            d.message,
            "rendered `conf/b/e.json` (établissement 0750001A) is not valid JSON at line 2, column 20: expected `,` or `}`; the line reads `  \"nom\": \"Collège \"Le Phare\"\"`"
        );
    }
}

//! Diagnostics drawn the way a compiler draws them (codespan-reporting):
//! `error[E028/value-type]: message`, where (`┌─ file:line:column`), the
//! source line with a caret under what is wrong and the key concerned, then
//! `help:`. Every command that reports diagnostics draws them here (lint's
//! human report, build, values, resolve…), so a problem reads the same
//! whichever command found it, and its location is printed once.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use codespan_reporting::diagnostic::{Diagnostic as Drawing, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config, Styles, StylesWriter, termcolor::Ansi};

use super::{Diagnostic, Severity};
use crate::manifest::etablissement::MAX_CSV_BYTES;

/// The largest file whose lines are quoted: the largest text any reader
/// accepts (the établissements CSV). A larger one is named, not quoted.
const MAX_QUOTED_BYTES: u64 = MAX_CSV_BYTES;

/// The text diagnostics point into, by the path they name.
#[derive(Debug, Default)]
pub struct Sources {
    /// Path → (name shown in the `┌─` line, text).
    texts: BTreeMap<PathBuf, (String, String)>,
}

impl Sources {
    /// A file's text, shown under its path.
    pub fn insert(&mut self, path: &Path, text: String) {
        self.texts
            .insert(path.to_path_buf(), (path.display().to_string(), text));
    }

    /// A text that is no file (a `--set` on the command line): diagnostics
    /// whose path is `key` quote `text` and are located under `name`.
    pub fn insert_named(&mut self, key: &Path, name: &str, text: String) {
        self.texts
            .insert(key.to_path_buf(), (name.to_owned(), text));
    }

    /// Reads each file a located diagnostic points into that is not held
    /// yet. A file that cannot be read now is named without its line.
    pub fn read_missing(&mut self, diagnostics: &[Diagnostic]) {
        for d in diagnostics.iter().filter(|d| d.position.is_some()) {
            if !self.texts.contains_key(&d.path)
                && let Some(text) = read_bounded(&d.path)
            {
                self.insert(&d.path, text);
            }
        }
    }
}

fn read_bounded(path: &Path) -> Option<String> {
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_QUOTED_BYTES + 1)
        .read_to_string(&mut text)
        .ok()?;
    (text.len() as u64 <= MAX_QUOTED_BYTES).then_some(text)
}

/// Every diagnostic drawn in turn, in colour when `color` (a terminal
/// without `NO_COLOR`: the caller decides).
pub fn render(diagnostics: &[Diagnostic], sources: &Sources, color: bool) -> String {
    let mut files = SimpleFiles::new();
    let ids: BTreeMap<&PathBuf, usize> = sources
        .texts
        .iter()
        .map(|(path, (name, text))| (path, files.add(name.clone(), text.clone())))
        .collect();
    let config = Config::default();
    let styles = Styles::default();
    let mut out = Vec::new();
    for diagnostic in diagnostics {
        let drawing = drawing(diagnostic, ids.get(&diagnostic.path).copied());
        let result = if color {
            let mut writer = StylesWriter::new(Ansi::new(&mut out), &styles);
            term::emit_to_write_style(&mut writer, &config, &files, &drawing)
        } else {
            term::emit_to_io_write(&mut out, &config, &files, &drawing)
        };
        if result.is_err() {
            // The line could not be drawn (the file changed meanwhile): one line instead.
            out.extend(format!("{diagnostic}\n").bytes());
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn drawing(d: &Diagnostic, file: Option<usize>) -> Drawing<usize> {
    let drawing = match d.severity {
        Severity::Error => Drawing::error(),
        Severity::Warning => Drawing::warning(),
    }
    .with_code(format!("{}/{}", d.code, d.code.name()));
    let help = d.help.iter().map(|h| format!("help: {h}"));
    match (file, &d.position) {
        (Some(id), Some(position)) => {
            let end = position.span.end.max(position.span.start);
            let label = Label::primary(id, position.span.start..end);
            let label = match &d.key {
                Some(key) => label.with_message(format!("in `{key}`")),
                None => label,
            };
            drawing
                .with_message(&d.message)
                .with_labels(vec![label])
                .with_notes(help.collect())
        }
        _ => {
            // No line to quote: the location leads the message, the key is a note.
            let location = match &d.position {
                Some(p) => format!("{}:{}:{}", d.path.display(), p.line, p.column),
                None => d.path.display().to_string(),
            };
            let key = d.key.iter().map(|key| format!("key: `{key}`"));
            drawing
                .with_message(format!("{location}: {}", d.message))
                .with_notes(key.chain(help).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Code;
    use crate::manifest::source::SourceFile;
    use crate::manifest::yaml::Span;

    #[test]
    fn a_located_diagnostic_quotes_its_line_with_a_caret_and_help() {
        let source = SourceFile::new("dist.yaml", "name: a\nport: douze\n".into());
        let d = Diagnostic::error(Code::ValueType, &source.path, "expected an integer")
            .at(&source, Span::new(14, 19))
            .key("port")
            .help("a number of days");
        let mut sources = Sources::default();
        sources.insert(&source.path, source.text.clone());
        assert_eq!(
            render(&[d], &sources, false),
            "error[E028/value-type]: expected an integer\n  ┌─ dist.yaml:2:7\n  │\n2 │ port: douze\n  │       ^^^^^ in `port`\n  │\n  = help: a number of days\n\n"
        );
    }

    #[test]
    fn a_named_source_is_located_under_its_name() {
        let flag = "--set a/b.port=douze";
        let key = Path::new(flag);
        let source = SourceFile::new(key, flag.into());
        let d = Diagnostic::error(Code::ValueType, key, "expected an integer")
            .at(&source, Span::new(15, 20));
        let mut sources = Sources::default();
        sources.insert_named(key, "command line", flag.into());
        assert_eq!(
            render(&[d], &sources, false),
            "error[E028/value-type]: expected an integer\n  ┌─ command line:1:16\n  │\n1 │ --set a/b.port=douze\n  │                ^^^^^\n\n"
        );
    }

    #[test]
    fn without_its_text_a_diagnostic_names_its_location_once() {
        let d = Diagnostic {
            position: Some(super::super::Position {
                span: Span::new(3, 4),
                line: 2,
                column: 3,
            }),
            ..Diagnostic::error(
                Code::ValueType,
                Path::new("gone.yaml"),
                "expected an integer",
            )
        }
        .key("port");
        let mut sources = Sources::default();
        sources.read_missing(std::slice::from_ref(&d));
        assert_eq!(
            render(&[d], &sources, false),
            "error[E028/value-type]: gone.yaml:2:3: expected an integer\n = key: `port`\n\n"
        );
    }
}

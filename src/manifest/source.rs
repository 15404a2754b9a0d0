//! Reading a manifest file from disk, with the checks that come before YAML:
//! size cap, UTF-8, byte-order mark, line endings. The text is kept so that
//! diagnostics can quote the line they point at.

use std::path::{Path, PathBuf};

use super::diagnostic::{Code, Diagnostic, Position, Span};

/// Manifests are small; anything larger is refused before it is read whole.
pub const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;

/// A file's text and where its lines start, to turn byte offsets into line:column.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let column = self.text[start..floor_char_boundary(&self.text, offset)]
            .chars()
            .count();
        (line + 1, column + 1)
    }

    /// Byte offset of a 1-based line and character column (as parsers report them).
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        rest.char_indices()
            .nth(column.saturating_sub(1))
            .map(|(i, _)| start + i)
            .unwrap_or(self.text.len())
    }

    pub fn line_starts(&self) -> &[usize] {
        &self.line_starts
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Why a file could not be read as text at all.
#[derive(Debug)]
pub enum ReadFailure {
    Io(std::io::Error),
    /// The problem is reported as a diagnostic (too large, not UTF-8, empty).
    Refused(Box<Diagnostic>),
}

/// What kind of text file is read: its size cap, and how an oversized file
/// is reported. Each reader states its own, instead of rewriting a generic
/// diagnostic after the fact.
#[derive(Debug, Clone, Copy)]
pub struct TextKind {
    pub max_bytes: u64,
    pub too_large: Code,
    pub too_large_help: &'static str,
    /// Whether CRLF line endings deserve a warning (YAML manifests: yes; a
    /// CSV exported from a spreadsheet or a template: they are harmless).
    pub warn_crlf: bool,
}

/// Manifests: refuses oversized, non-UTF-8 and empty files; warns on a BOM
/// (stripped) and CRLF line endings (kept: YAML accepts them).
pub const MANIFEST: TextKind = TextKind {
    max_bytes: MAX_MANIFEST_BYTES,
    too_large: Code::FileTooLarge,
    too_large_help: "manifests are small: move large data (établissements) to a CSV file",
    warn_crlf: true,
};

pub fn read_text(
    path: &Path,
    kind: &TextKind,
    warnings: &mut Vec<Diagnostic>,
) -> Result<SourceFile, ReadFailure> {
    use std::io::Read;
    let max_bytes = kind.max_bytes;
    let file = std::fs::File::open(path).map_err(ReadFailure::Io)?;
    let size = file.metadata().map_err(ReadFailure::Io)?.len();
    if size > max_bytes {
        return Err(ReadFailure::Refused(Box::new(
            Diagnostic::error(
                kind.too_large,
                path,
                format!("file is {size} bytes; the limit is {max_bytes} bytes"),
            )
            .help(kind.too_large_help),
        )));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // Read one byte past the cap in case the file grew after stat.
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadFailure::Io)?;
    text_from_bytes(path, bytes, kind, warnings)
}

/// The checks of [`read_text`] on bytes already in memory (a file fetched
/// from a registry): size cap, UTF-8, BOM, CRLF, emptiness. `path` names
/// the text in diagnostics.
pub fn text_from_bytes(
    path: &Path,
    bytes: Vec<u8>,
    kind: &TextKind,
    warnings: &mut Vec<Diagnostic>,
) -> Result<SourceFile, ReadFailure> {
    let max_bytes = kind.max_bytes;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadFailure::Refused(Box::new(
            Diagnostic::error(
                kind.too_large,
                path,
                format!("file is larger than {max_bytes} bytes"),
            )
            .help(kind.too_large_help),
        )));
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let bytes = err.into_bytes();
            let prefix = String::from_utf8_lossy(&bytes[..valid]).into_owned();
            let source = SourceFile::new(path, prefix);
            let (line, column) = source.line_col(valid);
            return Err(ReadFailure::Refused(Box::new(
                Diagnostic::error(
                    Code::NotUtf8,
                    path,
                    format!(
                        "byte 0x{:02X} at line {line}, column {column} is not valid UTF-8",
                        bytes[valid]
                    ),
                )
                .at_offset(&source, valid)
                .help("save the file as UTF-8 (from Latin-1: `iconv -f latin1 -t utf-8`)"),
            )));
        }
    };
    let mut source = SourceFile::new(path, text);
    if let Some(stripped) = source.text.strip_prefix('\u{feff}') {
        warnings.push(
            Diagnostic::warning(
                Code::ByteOrderMark,
                path,
                "file starts with a UTF-8 byte-order mark",
            )
            .help("save the file as UTF-8 without BOM"),
        );
        // Replace the BOM by nothing; offsets below refer to the stripped text.
        source = SourceFile::new(path, stripped.to_owned());
    }
    if let Some(pos) = source.text.find("\r\n").filter(|_| kind.warn_crlf) {
        warnings.push(
            Diagnostic::warning(
                Code::CrlfLineEndings,
                path,
                "file uses CRLF (Windows) line endings",
            )
            .at(&source, Span::new(pos, pos + 2))
            .help("configure your editor or git (`core.autocrlf=input`) to write LF"),
        );
    }
    if source.text.trim().is_empty() {
        return Err(ReadFailure::Refused(Box::new(
            Diagnostic::error(Code::EmptyFile, path, "file is empty")
                .help("start from `oent new module NS/NAME` or `oent new distribution NAME`"),
        )));
    }
    Ok(source)
}

/// Placing a diagnostic in a source file needs the file's line map, so it
/// is defined here (diagnostics themselves know nothing of files).
impl Diagnostic {
    pub fn at(mut self, source: &SourceFile, span: Span) -> Self {
        let (line, column) = source.line_col(span.start);
        self.position = Some(Position { span, line, column });
        self
    }

    pub fn at_offset(self, source: &SourceFile, offset: usize) -> Self {
        let end = source.text[offset.min(source.text.len())..]
            .chars()
            .next()
            .map_or(offset, |c| offset + c.len_utf8());
        self.at(source, Span::new(offset, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let source = SourceFile::new("f", "a: é\nb: ü x\n".to_owned());
        let offset = source.text.find('x').unwrap();
        assert_eq!(source.line_col(offset), (2, 6));
        assert_eq!(source.offset_of(2, 6), offset);
    }

    #[test]
    fn line_col_with_crlf() {
        let source = SourceFile::new("f", "a: 1\r\nb: 2\r\n".to_owned());
        let offset = source.text.find('b').unwrap();
        assert_eq!(source.line_col(offset), (2, 1));
    }
}

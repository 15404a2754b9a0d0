//! Établissements (collèges, lycées…), keyed by UAI, written inline in a
//! distribution or in a CSV file beside it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::diagnostic::{Code, Diagnostic, suggest};
use super::fields::Checker;
use super::formats::check_uai;
use super::names::ModuleName;
use super::source::{ReadFailure, SourceFile, TextKind, read_text};
use super::yaml::{Node, NodeKind, Span};

pub const TYPES: &[&str] = &["college", "lycee", "lycee-pro", "cite-scolaire", "erea"];
pub const SECTEURS: &[&str] = &["public", "prive"];
pub const CSV_HEADER: &[&str] = &["uai", "nom", "type", "commune", "departement", "secteur"];
/// 60,000 établissements fit in a few MiB; anything larger is a mistake.
pub const MAX_CSV_BYTES: u64 = 16 * 1024 * 1024;

const CSV: TextKind = TextKind {
    max_bytes: MAX_CSV_BYTES,
    too_large: Code::FileTooLarge,
    too_large_help: "check that this is the right file: a CSV this large is not a list of établissements",
    warn_crlf: false,
};

/// Where a value was written: file and position, for messages such as
/// `(examples/idf/distribution.yaml:42)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub path: PathBuf,
    pub span: Span,
    pub line: usize,
    pub column: usize,
}

impl Origin {
    pub fn new(source: &SourceFile, span: Span) -> Self {
        let (line, column) = source.line_col(span.start);
        Origin {
            path: source.path.clone(),
            span,
            line,
            column,
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.line)
    }
}

/// A value written in a distribution, kept untyped until the module that
/// declares the option is known.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueSetting {
    pub node: Node,
    pub origin: Origin,
}

/// Per-module option values: module → option → value.
pub type ModuleValues = BTreeMap<ModuleName, BTreeMap<String, ValueSetting>>;

#[derive(Debug, Clone, PartialEq)]
pub struct Etablissement {
    pub uai: String,
    pub nom: String,
    pub kind: &'static str,
    pub commune: String,
    pub departement: String,
    pub secteur: &'static str,
    /// Overrides of `scope: etablissement` options.
    pub config: ModuleValues,
    pub origin: Origin,
}

/// `01`–`95` (with `2A`, `2B` for Corsica) and `971`–`976`.
pub fn check_departement(s: &str) -> Result<(), String> {
    let ok = match s.len() {
        2 => {
            s == "2A"
                || s == "2B"
                || s.parse::<u8>()
                    .is_ok_and(|n| (1..=95).contains(&n) && n != 20)
                    && s.bytes().all(|b| b.is_ascii_digit())
        }
        3 => s.parse::<u16>().is_ok_and(|n| (971..=976).contains(&n)),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a département code (01–95, 2A, 2B, 971–976)"
        ))
    }
}

/// The fields of one établissement, from YAML or CSV; each check reports
/// through `report(code, field, message, help)`.
pub(super) struct RawEtablissement<'a> {
    pub uai: Option<&'a str>,
    pub nom: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub commune: Option<&'a str>,
    pub departement: Option<&'a str>,
    pub secteur: Option<&'a str>,
}

pub(super) fn validate(
    raw: &RawEtablissement,
    mut report: impl FnMut(Code, &str, String, String),
) -> Option<(String, String, &'static str, String, String, &'static str)> {
    let required =
        |field: &str, value: Option<&str>, report: &mut dyn FnMut(Code, &str, String, String)| {
            match value.map(str::trim) {
                Some(v) if !v.is_empty() => Some(v.to_owned()),
                _ => {
                    report(
                        Code::InvalidEtablissement,
                        field,
                        format!("établissement has no `{field}`"),
                        format!("fill in `{field}`"),
                    );
                    None
                }
            }
        };
    let uai = required("uai", raw.uai, &mut report);
    let uai = uai.and_then(|u| match check_uai(&u) {
        Ok(()) => Some(u),
        Err(e) => {
            report(
                Code::InvalidUai,
                "uai",
                e,
                "copy the UAI from the académie's directory (ramsese); the letter is a checksum"
                    .into(),
            );
            None
        }
    });
    let nom = required("nom", raw.nom, &mut report);
    let commune = required("commune", raw.commune, &mut report);
    let kind = required("type", raw.kind, &mut report)
        .and_then(|t| one_of(&t, "type", TYPES, &mut report));
    let secteur = required("secteur", raw.secteur, &mut report)
        .and_then(|t| one_of(&t, "secteur", SECTEURS, &mut report));
    let departement =
        required("departement", raw.departement, &mut report).and_then(
            |d| match check_departement(&d) {
                Ok(()) => Some(d),
                Err(e) => {
                    report(
                        Code::InvalidEtablissement,
                        "departement",
                        e,
                        "write the département number with two digits, e.g. `44`".into(),
                    );
                    None
                }
            },
        );
    Some((uai?, nom?, kind?, commune?, departement?, secteur?))
}

fn one_of(
    value: &str,
    field: &str,
    allowed: &[&'static str],
    report: &mut dyn FnMut(Code, &str, String, String),
) -> Option<&'static str> {
    if let Some(found) = allowed.iter().find(|a| **a == value) {
        return Some(found);
    }
    let help = match suggest(value, allowed.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("use one of: {}", allowed.join(", ")),
    };
    report(
        Code::InvalidEtablissement,
        field,
        format!("`{field}`: `{value}` is not one of {}", allowed.join(", ")),
        help,
    );
    None
}

/// Reads the établissements CSV file: header `uai,nom,type,commune,departement,secteur`.
pub(super) fn read_csv(checker: &mut Checker, path: &Path, file_node: &Node) -> Vec<Etablissement> {
    let mut warnings = Vec::new();
    let source = match read_text(path, &CSV, &mut warnings) {
        Ok(source) => source,
        Err(ReadFailure::Refused(d)) => {
            checker.diagnostics.push(*d);
            return Vec::new();
        }
        Err(ReadFailure::Io(e)) => {
            checker.report(
                Code::CsvError,
                file_node.span,
                "etablissements.file",
                format!("cannot read `{}`: {e}", path.display()),
                "check the path, relative to the distribution's directory",
            );
            return Vec::new();
        }
    };
    checker.diagnostics.extend(warnings);
    let mut out = Vec::new();
    let mut diagnostics = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(source.text.as_bytes());
    let header_ok = match reader.headers() {
        Ok(headers) => {
            let found: Vec<&str> = headers.iter().map(str::trim).collect();
            if found != CSV_HEADER {
                diagnostics.push(
                    Diagnostic::new(
                        Code::CsvError,
                        path,
                        format!(
                            "header is `{}`; expected `{}`",
                            found.join(","),
                            CSV_HEADER.join(",")
                        ),
                    )
                    .at(
                        &source,
                        Span::new(0, source.text.find('\n').unwrap_or(source.text.len())),
                    )
                    .help(format!(
                        "make the first line exactly `{}`",
                        CSV_HEADER.join(",")
                    )),
                );
                false
            } else {
                true
            }
        }
        Err(e) => {
            diagnostics.push(
                Diagnostic::new(Code::CsvError, path, format!("cannot read the header: {e}"))
                    .help("save the file as UTF-8 CSV, comma-separated"),
            );
            false
        }
    };
    if header_ok {
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let offset = e.position().map_or(0, |p| p.byte() as usize);
                    diagnostics.push(Diagnostic::new(Code::CsvError, path, format!("malformed row: {e}")).at_offset(&source, offset).help("each row needs 6 comma-separated fields; quote fields that contain commas"));
                    continue;
                }
            };
            let offset = record.position().map_or(0, |p| p.byte() as usize);
            let line_end = source.text[offset..]
                .find('\n')
                .map_or(source.text.len(), |e| offset + e);
            let span = Span::new(offset, line_end);
            let raw = RawEtablissement {
                uai: record.get(0),
                nom: record.get(1),
                kind: record.get(2),
                commune: record.get(3),
                departement: record.get(4),
                secteur: record.get(5),
            };
            let validated = validate(&raw, |code, field, message, help| {
                let column = CSV_HEADER.iter().position(|h| *h == field).unwrap_or(0);
                let field_span = field_span(&source.text, span, column);
                diagnostics.push(
                    Diagnostic::new(code, path, message)
                        .at(&source, field_span)
                        .key(field)
                        .help(help),
                );
            });
            if let Some((uai, nom, kind, commune, departement, secteur)) = validated {
                out.push(Etablissement {
                    uai,
                    nom,
                    kind,
                    commune,
                    departement,
                    secteur,
                    config: BTreeMap::new(),
                    origin: Origin::new(&source, span),
                });
            }
        }
    }
    checker.diagnostics.append(&mut diagnostics);
    checker.extra_sources.push(source);
    out
}

/// The span of the n-th comma-separated field of a CSV line (quotes respected).
fn field_span(text: &str, line: Span, n: usize) -> Span {
    let bytes = text.as_bytes();
    let (mut field, mut start, mut quoted) = (0, line.start, false);
    for (i, byte) in bytes.iter().enumerate().take(line.end).skip(line.start) {
        match byte {
            b'"' => quoted = !quoted,
            b',' if !quoted => {
                if field == n {
                    return Span::new(start, i);
                }
                field += 1;
                start = i + 1;
            }
            _ => {}
        }
    }
    let end = if line.end > start && bytes.get(line.end - 1) == Some(&b'\r') {
        line.end - 1
    } else {
        line.end
    };
    if field == n {
        Span::new(start, end)
    } else {
        line
    }
}

/// Reports UAIs that appear twice (the second occurrence, naming the first).
pub(super) fn check_unique(
    etablissements: &[Etablissement],
    diagnostics: &mut Vec<Diagnostic>,
    sources: &[&SourceFile],
) {
    let mut seen: BTreeMap<&str, &Etablissement> = BTreeMap::new();
    for e in etablissements {
        if let Some(first) = seen.get(e.uai.as_str()) {
            let mut d = Diagnostic::new(
                Code::DuplicateUai,
                &e.origin.path,
                format!(
                    "UAI `{}` ({}) is listed twice; first at {}",
                    e.uai, e.nom, first.origin
                ),
            )
            .key("uai")
            .help("keep one line per établissement");
            if let Some(source) = sources.iter().find(|s| s.path == e.origin.path) {
                d = d.at(source, e.origin.span);
            }
            diagnostics.push(d);
        } else {
            seen.insert(&e.uai, e);
        }
    }
}

pub(super) fn node_str(node: &Node) -> Option<&str> {
    match &node.kind {
        NodeKind::Str(s) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departements() {
        for ok in ["01", "44", "2A", "2B", "95", "974"] {
            assert!(check_departement(ok).is_ok(), "{ok}");
        }
        for bad in ["1", "20", "96", "00", "977", "2C", "4A"] {
            assert!(check_departement(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn csv_field_spans() {
        let text = "a,\"b,c\",d\n";
        let line = Span::new(0, 9);
        assert_eq!(field_span(text, line, 1), Span::new(2, 7));
        assert_eq!(field_span(text, line, 2), Span::new(8, 9));
    }
}

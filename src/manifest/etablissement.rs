//! Établissements (collèges, lycées…), keyed by UAI, written inline in a
//! distribution or in a CSV file beside it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::diagnostic::{Code, Diagnostic, suggest};
use super::fields::Checker;
use super::formats::check_uai;
use super::names::ModuleName;
use super::source::{ReadFailure, SourceFile, TextKind, read_text};
use super::uai::check_uai_departement;
use super::yaml::{Node, NodeKind, Span};

pub const TYPES: &[&str] = &["college", "lycee", "lycee-pro", "cite-scolaire", "erea"];
pub const SECTEURS: &[&str] = &["public", "prive"];
pub const CSV_HEADER: &[&str] = &["uai", "nom", "type", "commune", "departement", "secteur"];
/// The keys of an inline établissement; an extra column (or `extra` key)
/// may not take one of these names.
pub const INLINE_KEYS: &[&str] = &[
    "uai",
    "nom",
    "type",
    "commune",
    "departement",
    "secteur",
    "config",
    "extra",
];
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

/// Option values as written, untyped, per module: module → option → value.
pub type ConfigByModule = BTreeMap<ModuleName, BTreeMap<String, ValueSetting>>;

#[derive(Debug, Clone, PartialEq)]
pub struct Etablissement {
    pub uai: String,
    pub nom: String,
    pub kind: &'static str,
    pub commune: String,
    pub departement: String,
    pub secteur: &'static str,
    /// Overrides of `scope: etablissement` options.
    pub config: ConfigByModule,
    /// Free data about the établissement (the CSV's columns after the six
    /// fixed ones, or an inline `extra` map): `etab.extra.<name>` in
    /// templates. Every row of a CSV has every column (an empty cell is "").
    pub extra: BTreeMap<String, String>,
    pub origin: Origin,
}

/// An extra column or `extra` key: lowercase ASCII, digits and `_`, starting
/// with a letter (usable as `etab.extra.<name>` in Tera), not a fixed field.
pub fn check_extra_name(name: &str) -> Result<(), String> {
    let mut bytes = name.bytes();
    let well_formed = bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !well_formed {
        return Err(format!(
            "`{name}` is not a valid extra column name (lowercase letters, digits and `_`, starting with a letter)"
        ));
    }
    if INLINE_KEYS.contains(&name) {
        return Err(format!(
            "`{name}` is a field of every établissement and cannot be an extra column"
        ));
    }
    Ok(())
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
    if let (Some(uai), Some(departement)) = (&uai, &departement)
        && let Err(e) = check_uai_departement(uai, departement)
    {
        report(
            Code::UaiDepartement,
            "uai",
            e,
            "copy the UAI and the département from the Annuaire de l'éducation (`oent import etablissements`): one of them is wrong"
                .into(),
        );
        return None;
    }
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

/// What a non-regular file is, for a message.
fn file_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "a special file"
    }
}

/// Reads the établissements CSV file: header `uai,nom,type,commune,departement,secteur`,
/// then any extra columns (`etab.extra.<column>`).
pub(super) fn read_csv(checker: &mut Checker, path: &Path, file_node: &Node) -> Vec<Etablissement> {
    let mut warnings = Vec::new();
    // Opening a FIFO (or a device) blocks until a writer comes, forever: look first.
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
    {
        checker.report(
            Code::CsvError,
            file_node.span,
            "etablissements.file",
            format!(
                "`{}` is {}, not a regular file",
                path.display(),
                file_kind(&meta.file_type())
            ),
            "give the path of a CSV file (a FIFO or a device would block the build)",
        );
        return Vec::new();
    }
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
    let line_one = Span::new(0, source.text.find('\n').unwrap_or(source.text.len()));
    let extra_columns: Option<Vec<String>> = match reader.headers() {
        Ok(headers) => {
            let found: Vec<&str> = headers.iter().map(str::trim).collect();
            if found.len() < CSV_HEADER.len() || found[..CSV_HEADER.len()] != *CSV_HEADER {
                diagnostics.push(
                    Diagnostic::new(
                        Code::CsvError,
                        path,
                        format!(
                            "header is `{}`; expected `{}`, then optional extra columns",
                            found.join(","),
                            CSV_HEADER.join(",")
                        ),
                    )
                    .at(&source, line_one)
                    .help(format!(
                        "make the first line start exactly with `{}`",
                        CSV_HEADER.join(",")
                    )),
                );
                None
            } else {
                let extra: Vec<String> = found[CSV_HEADER.len()..]
                    .iter()
                    .map(|c| (*c).to_owned())
                    .collect();
                let mut ok = true;
                for (i, name) in extra.iter().enumerate() {
                    let column = CSV_HEADER.len() + i;
                    let problem = match check_extra_name(name) {
                        Err(e) => Some(e),
                        Ok(()) if extra[..i].contains(name) => {
                            Some(format!("the extra column `{name}` appears twice"))
                        }
                        Ok(()) => None,
                    };
                    if let Some(message) = problem {
                        ok = false;
                        diagnostics.push(
                            Diagnostic::new(Code::CsvError, path, message)
                                .at(&source, field_span(&source.text, line_one, column))
                                .key(name)
                                .help("rename the column, e.g. `vague` or `bassin_emploi`"),
                        );
                    }
                }
                ok.then_some(extra)
            }
        }
        Err(e) => {
            diagnostics.push(
                Diagnostic::new(Code::CsvError, path, format!("cannot read the header: {e}"))
                    .help("save the file as UTF-8 CSV, comma-separated"),
            );
            None
        }
    };
    if let Some(extra_columns) = extra_columns {
        let width = CSV_HEADER.len() + extra_columns.len();
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let offset = e.position().map_or(0, |p| p.byte() as usize);
                    diagnostics.push(Diagnostic::new(Code::CsvError, path, format!("malformed row: {e}")).at_offset(&source, offset).help(format!("each row needs {width} comma-separated fields, as many as the header; quote fields that contain commas")));
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
                    extra: extra_columns
                        .iter()
                        .zip(record.iter().skip(CSV_HEADER.len()))
                        .map(|(name, value)| (name.clone(), value.trim().to_owned()))
                        .collect(),
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
    fn extra_names() {
        for ok in ["vague", "pilote", "bassin_emploi", "zone2"] {
            assert!(check_extra_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "Vague", "2vague", "vague-1", "é", "uai", "config", "extra",
        ] {
            assert!(check_extra_name(bad).is_err(), "{bad}");
        }
    }

    /// Loads `distribution.yaml` (établissements in `etablissements.csv`)
    /// from a temporary directory.
    fn load_with_csv(
        csv: &str,
        inline: &str,
    ) -> crate::manifest::Loaded<crate::manifest::distribution::Distribution> {
        let dir = tempfile::tempdir().unwrap();
        let etablissements = if inline.is_empty() {
            "etablissements: { file: etablissements.csv }\n".to_owned()
        } else {
            format!("etablissements:\n{inline}")
        };
        std::fs::write(
            dir.path().join("distribution.yaml"),
            format!(
                "schema: oent/distribution/v1\nname: elyco/vendee\nversion: 1.0.0\n\
                 collectivite: {{ nom: Département de la Vendée, type: departement }}\n\
                 settings: {{ domaine: e-lyco.fr }}\n{etablissements}"
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("etablissements.csv"), csv).unwrap();
        crate::manifest::distribution::Distribution::load(&dir.path().join("distribution.yaml"))
            .unwrap()
    }

    #[test]
    fn csv_extra_columns_reach_each_etablissement() {
        let loaded = load_with_csv(
            "uai,nom,type,commune,departement,secteur,vague,pilote\n\
             0850001P,Collège Haxo,college,La Roche-sur-Yon,85,public,2009-2010,oui\n\
             0850002R,Collège exemple,college,Luçon,85,public, 2011-2012 ,\n",
            "",
        );
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let list = loaded.value.unwrap().etablissements.unwrap();
        let extra =
            |i: usize| -> Vec<(String, String)> { list[i].extra.clone().into_iter().collect() };
        assert_eq!(
            extra(0),
            [
                ("pilote".into(), "oui".into()),
                ("vague".into(), "2009-2010".into())
            ]
        );
        // Trimmed; an empty cell is the empty string, so every row has every column.
        assert_eq!(
            extra(1),
            [
                ("pilote".into(), String::new()),
                ("vague".into(), "2011-2012".into())
            ]
        );
    }

    #[test]
    fn bad_extra_columns_are_reported_at_the_header() {
        let loaded = load_with_csv(
            "uai,nom,type,commune,departement,secteur,vague,Pilote,vague\n\
             0850001P,Collège Haxo,college,La Roche-sur-Yon,85,public,2009-2010,oui,x\n",
            "",
        );
        let messages: Vec<(String, usize)> = loaded
            .diagnostics
            .iter()
            .map(|d| (format!("{} {}", d.code.as_str(), d.message), d.line()))
            .collect();
        assert_eq!(
            messages,
            [
                ("E029 `Pilote` is not a valid extra column name (lowercase letters, digits and `_`, starting with a letter)".to_owned(), 1),
                ("E029 the extra column `vague` appears twice".to_owned(), 1),
            ]
        );
        // A row with fewer cells than the header is malformed, naming the width.
        let loaded = load_with_csv(
            "uai,nom,type,commune,departement,secteur,vague\n\
             0850001P,Collège Haxo,college,La Roche-sur-Yon,85,public\n",
            "",
        );
        let d = &loaded.diagnostics[0];
        assert_eq!((d.code.as_str(), d.line()), ("E029", 2));
        assert!(
            d.help
                .as_deref()
                .unwrap()
                .contains("7 comma-separated fields"),
            "{d:?}"
        );
    }

    #[test]
    fn inline_extra_is_a_map_of_strings() {
        let loaded = load_with_csv(
            "",
            "  - { uai: 0850001P, nom: Collège Haxo, type: college, commune: La Roche-sur-Yon,\n\
             \x20     departement: \"85\", secteur: public, extra: { vague: 2009-2010, pilote: oui } }\n\
             \x20 - { uai: 0850002R, nom: Collège exemple, type: college, commune: Luçon,\n\
             \x20     departement: \"85\", secteur: public, extra: { vague: 2011, Zone: a } }\n",
        );
        let codes: Vec<(&str, &str)> = loaded
            .diagnostics
            .iter()
            .map(|d| (d.code.as_str(), d.key.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            codes,
            [
                ("E007", "etablissements[1].extra.vague"),
                ("E024", "etablissements[1].extra.Zone"),
            ]
        );
    }

    #[test]
    fn csv_field_spans() {
        let text = "a,\"b,c\",d\n";
        let line = Span::new(0, 9);
        assert_eq!(field_span(text, line, 1), Span::new(2, 7));
        assert_eq!(field_span(text, line, 2), Span::new(8, 9));
    }
}

//! `oent import etablissements FILE`: the établissements of the Ministry's
//! open directory, the "Annuaire de l'éducation" (data.education.gouv.fr,
//! dataset `fr-en-annuaire-education`, CSV export with `;`), selected by
//! département, type and secteur, written as oent's `etablissements.csv`.
//!
//! Only the columns below are read (matched without regard to case: the
//! export's labels are `Identifiant_de_l_etablissement`, its API names
//! `identifiant_de_l_etablissement`); the others are ignored. Rows that are
//! not collèges, lycées or EREA (écoles, CIO, services) and closed ones
//! (`etat` other than `OUVERT`) are skipped. Every selected row is checked
//! as lint checks `etablissements.csv` (UAI check letter, département
//! prefix, one row per UAI); any problem refuses the whole import and
//! writes nothing.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::manifest::etablissement::{CSV_HEADER, check_departement};
use crate::manifest::formats::check_uai;
use crate::manifest::uai::check_uai_departement;

/// The columns read: UAI, name, type, secteur, town, département, nature.
pub const COLUMNS: &[&str] = &[
    "identifiant_de_l_etablissement",
    "nom_etablissement",
    "type_etablissement",
    "statut_public_prive",
    "nom_commune",
    "code_departement",
    "code_nature",
];
/// Read when present: rows whose `etat` is not `OUVERT` are skipped.
const ETAT: &str = "etat";
/// `code_nature` of a lycée professionnel (LP); other lycées are `lycee`.
const NATURE_LYCEE_PRO: &str = "320";

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub file: PathBuf,
    /// A département code (`24`, `024`, `2A`, `971`); `None`: all.
    pub departement: Option<String>,
    /// oent types to keep (`college`, `lycee`…); empty: all.
    pub types: Vec<String>,
    /// `public` or `prive`; `None`: both.
    pub secteur: Option<String>,
    pub out: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read `{}`: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "`{}` is not UTF-8; export the Annuaire de l'éducation again as CSV (UTF-8), or convert it with `iconv -f latin1 -t utf-8`",
        .0.display()
    )]
    NotUtf8(PathBuf),
    #[error(
        "`{}` lacks the column{} {} of the Annuaire de l'éducation; export `fr-en-annuaire-education` from data.education.gouv.fr as CSV with `;` (every column)",
        .path.display(),
        if .missing.len() > 1 { "s" } else { "" },
        .missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
    )]
    MissingColumns { path: PathBuf, missing: Vec<String> },
    #[error("`{}`, line {line}: {message}", .path.display())]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("`{0}` is not a département code (01–95, 2A, 2B, 971–976)")]
    BadDepartement(String),
    #[error("{} problem(s) in `{}`; nothing was written:\n{}", .problems.len(), .path.display(), .problems.join("\n"))]
    Problems {
        path: PathBuf,
        problems: Vec<String>,
    },
    #[error("no row of `{}` matches {selection}; nothing was written", .path.display())]
    NothingSelected { path: PathBuf, selection: String },
    #[error("cannot write `{}`: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One établissement imported, in oent's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub uai: String,
    pub nom: String,
    pub kind: &'static str,
    pub commune: String,
    pub departement: String,
    pub secteur: &'static str,
}

/// What an import read and wrote.
#[derive(Debug)]
pub struct ImportOutcome {
    pub rows: usize,
    /// Sorted by UAI.
    pub etablissements: Vec<Imported>,
}

pub fn import(options: &ImportOptions) -> Result<ImportOutcome, ImportError> {
    let wanted_departement = match &options.departement {
        Some(d) => Some(
            normalise_departement(d)
                .filter(|n| check_departement(n).is_ok())
                .ok_or_else(|| ImportError::BadDepartement(d.clone()))?,
        ),
        None => None,
    };
    let path = &options.file;
    let bytes = std::fs::read(path).map_err(|source| ImportError::Read {
        path: path.clone(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| ImportError::NotUtf8(path.clone()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let csv_error = |e: csv::Error| ImportError::Csv {
        path: path.clone(),
        line: e.position().map_or(1, |p| p.line()),
        message: match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!(
                "the row has {len} field(s) but the header {expected_len}; the export separates fields with `;` and quotes those that hold one"
            ),
            _ => e.to_string(),
        },
    };
    let header = reader.headers().map_err(csv_error)?.clone();
    let index: BTreeMap<String, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim().to_lowercase(), i))
        .collect();
    let missing: Vec<String> = COLUMNS
        .iter()
        .filter(|c| !index.contains_key(**c))
        .map(|c| (*c).to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::MissingColumns {
            path: path.clone(),
            missing,
        });
    }
    let column = |name: &str| index[name];
    let etat = index.get(ETAT).copied();
    let mut rows = 0;
    let mut problems = Vec::new();
    let mut selected: BTreeMap<String, (u64, Imported)> = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        rows += 1;
        let line = record.position().map_or(0, |p| p.line());
        let field = |name: &str| record.get(column(name)).unwrap_or("").trim();
        if etat.is_some_and(|i| record.get(i).unwrap_or("").trim() != "OUVERT") {
            continue;
        }
        let Some(kind) = oent_type(field("type_etablissement"), field("code_nature")) else {
            continue;
        };
        let Some(secteur) = oent_secteur(field("statut_public_prive")) else {
            problems.push(format!(
                "  line {line}: `Statut_public_prive` is `{}`, expected `Public` or `Privé`",
                field("statut_public_prive")
            ));
            continue;
        };
        let raw_departement = field("code_departement");
        let Some(departement) =
            normalise_departement(raw_departement).filter(|d| check_departement(d).is_ok())
        else {
            problems.push(format!(
                "  line {line}: `Code_departement` `{raw_departement}` is not a département code"
            ));
            continue;
        };
        let keep = wanted_departement
            .as_ref()
            .is_none_or(|d| *d == departement)
            && (options.types.is_empty() || options.types.iter().any(|t| t == kind))
            && options.secteur.as_deref().is_none_or(|s| s == secteur);
        if !keep {
            continue;
        }
        let uai = field("identifiant_de_l_etablissement").to_owned();
        if let Err(e) = check_uai(&uai).and_then(|()| check_uai_departement(&uai, &departement)) {
            problems.push(format!("  line {line}: {e}"));
            continue;
        }
        let imported = Imported {
            uai: uai.clone(),
            nom: field("nom_etablissement").to_owned(),
            kind,
            commune: field("nom_commune").to_owned(),
            departement,
            secteur,
        };
        if let Some((first, _)) = selected.get(&uai) {
            problems.push(format!(
                "  line {line}: UAI `{uai}` is already on line {first}; keep one row per établissement"
            ));
            continue;
        }
        selected.insert(uai, (line, imported));
    }
    if !problems.is_empty() {
        return Err(ImportError::Problems {
            path: path.clone(),
            problems,
        });
    }
    if selected.is_empty() {
        return Err(ImportError::NothingSelected {
            path: path.clone(),
            selection: selection_words(options),
        });
    }
    let etablissements: Vec<Imported> = selected.into_values().map(|(_, e)| e).collect();
    let text = to_csv(&etablissements);
    crate::fsutil::write_atomic(&options.out, text.as_bytes()).map_err(|source| {
        ImportError::Write {
            path: options.out.clone(),
            source,
        }
    })?;
    Ok(ImportOutcome {
        rows,
        etablissements,
    })
}

/// oent's type for a row of the directory; `None` for what oent does not
/// deploy (écoles, CIO, services, médico-social).
fn oent_type(type_etablissement: &str, code_nature: &str) -> Option<&'static str> {
    match type_etablissement.to_lowercase().as_str() {
        "collège" | "college" => Some("college"),
        "lycée" | "lycee" if code_nature == NATURE_LYCEE_PRO => Some("lycee-pro"),
        "lycée" | "lycee" => Some("lycee"),
        "erea" => Some("erea"),
        _ => None,
    }
}

fn oent_secteur(statut: &str) -> Option<&'static str> {
    match statut.to_lowercase().as_str() {
        "public" => Some("public"),
        "privé" | "prive" => Some("prive"),
        _ => None,
    }
}

/// The directory writes départements on three characters (`024`, `02A`,
/// `971`); oent on two, or three overseas (`24`, `2A`, `971`).
fn normalise_departement(code: &str) -> Option<String> {
    let code = code.trim().to_uppercase();
    let short = match code.len() {
        1 => format!("0{code}"),
        3 if code.starts_with('0') => code[1..].to_owned(),
        2 | 3 => code,
        _ => return None,
    };
    Some(short)
}

fn selection_words(options: &ImportOptions) -> String {
    let mut words = Vec::new();
    if let Some(d) = &options.departement {
        words.push(format!("--departement {d}"));
    }
    for t in &options.types {
        words.push(format!("--type {t}"));
    }
    if let Some(s) = &options.secteur {
        words.push(format!("--secteur {s}"));
    }
    match words.is_empty() {
        true => "a collège, lycée or EREA that is open".to_owned(),
        false => words.join(" "),
    }
}

/// oent's `etablissements.csv`: its header, then one row per UAI.
fn to_csv(etablissements: &[Imported]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(CSV_HEADER);
    for e in etablissements {
        let _ = writer.write_record([
            e.uai.as_str(),
            &e.nom,
            e.kind,
            &e.commune,
            &e.departement,
            e.secteur,
        ]);
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departements_are_read_as_the_directory_writes_them() {
        assert_eq!(normalise_departement("024").as_deref(), Some("24"));
        assert_eq!(normalise_departement("02A").as_deref(), Some("2A"));
        assert_eq!(normalise_departement("2b").as_deref(), Some("2B"));
        assert_eq!(normalise_departement("971").as_deref(), Some("971"));
        assert_eq!(normalise_departement("1").as_deref(), Some("01"));
        assert_eq!(normalise_departement("0241"), None);
    }

    #[test]
    fn lycees_professionnels_are_told_apart_by_their_nature() {
        assert_eq!(oent_type("Lycée", "320"), Some("lycee-pro"));
        assert_eq!(oent_type("Lycée", "306"), Some("lycee"));
        assert_eq!(oent_type("Collège", "340"), Some("college"));
        assert_eq!(oent_type("Ecole", "151"), None);
    }
}

//! `oent import etablissements FILE`.

use std::path::PathBuf;

use clap::Subcommand;

use super::exit;
use oent::manifest::etablissement::{SECTEURS, TYPES};
use oent::ops::aaf::{AafError, AafOptions, import_aaf};
use oent::ops::import::{ImportError, ImportOptions, import};
use oent::workspace::WorkspaceOptions;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Write etablissements.csv from the Ministry's "Annuaire de l'éducation"
    /// (data.education.gouv.fr, fr-en-annuaire-education, CSV with `;`).
    Etablissements {
        /// The directory's CSV export.
        file: PathBuf,
        /// Only this département (`24`, `2A`, `971`).
        #[arg(long)]
        departement: Option<String>,
        /// Only these types (repeat the option for several).
        #[arg(long = "type", value_parser = clap::builder::PossibleValuesParser::new(TYPES))]
        types: Vec<String>,
        /// Only this secteur.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(SECTEURS))]
        secteur: Option<String>,
        /// Where to write (replaced atomically, only when the import succeeds).
        #[arg(short = 'o', long = "out", default_value = "etablissements.csv")]
        out: PathBuf,
    },
    /// Write the directory's accounts (LDIF) from an académie's AAF export
    /// (its complete XML files: EtabEducNat, Eleve, PersRelEleve, PersEducNat).
    Aaf {
        /// The export's XML files, établissements' file included.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The distribution the accounts are for (its directory or distribution.yaml).
        #[arg(long = "to", default_value = ".")]
        to: PathBuf,
        /// Where to write (replaced atomically, only when the import succeeds);
        /// default: local/annuaire/aaf.ldif beside the distribution.
        #[arg(short = 'o', long = "out")]
        out: Option<PathBuf>,
        /// Fail instead of changing the lock.
        #[arg(long)]
        locked: bool,
        /// Use only the download cache.
        #[arg(long)]
        offline: bool,
    },
}

pub fn run(command: ImportCommand) -> anyhow::Result<u8> {
    let (file, departement, types, secteur, out) = match command {
        ImportCommand::Etablissements {
            file,
            departement,
            types,
            secteur,
            out,
        } => (file, departement, types, secteur, out),
        ImportCommand::Aaf {
            files,
            to,
            out,
            locked,
            offline,
        } => return run_aaf(files, to, out, locked, offline),
    };
    let options = ImportOptions {
        file,
        departement,
        types,
        secteur,
        out,
    };
    let outcome = match import(&options) {
        Ok(outcome) => outcome,
        // The file was read and has problems: exit 1, as lint.
        Err(
            e @ (ImportError::Problems { .. }
            | ImportError::NothingSelected { .. }
            | ImportError::MissingColumns { .. }
            | ImportError::Csv { .. }),
        ) => {
            eprintln!("error: {e}");
            return Ok(exit::PROBLEMS);
        }
        Err(e) => return Err(e.into()),
    };
    eprintln!(
        "wrote {}: {} établissements ({}) of {} rows read",
        options.out.display(),
        outcome.etablissements.len(),
        counted(outcome.etablissements.iter().map(|e| e.kind)),
        outcome.rows
    );
    Ok(exit::OK)
}

fn run_aaf(
    files: Vec<PathBuf>,
    to: PathBuf,
    out: Option<PathBuf>,
    locked: bool,
    offline: bool,
) -> anyhow::Result<u8> {
    let options = AafOptions {
        files,
        workspace: WorkspaceOptions::new(to, locked, offline)?,
        out,
    };
    let outcome = match import_aaf(&options) {
        Ok(outcome) => outcome,
        // The files were read and have problems: exit 1, as lint.
        Err(e @ AafError::Problems(_)) => {
            eprintln!("error: {e}");
            return Ok(exit::PROBLEMS);
        }
        Err(e) => return Err(e.into()),
    };
    eprintln!(
        "wrote {}: {} accounts ({}) in {} of {} établissements read",
        outcome.out.display(),
        outcome.accounts.len(),
        counted(outcome.accounts.iter().map(|a| a.class)),
        outcome.structures_used,
        outcome.structures
    );
    Ok(exit::OK)
}

/// `2 college, 1 lycee`: how many of each kind, sorted by kind.
fn counted<'a>(kinds: impl Iterator<Item = &'a str>) -> String {
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for kind in kinds {
        *counts.entry(kind).or_default() += 1;
    }
    let counts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    counts.join(", ")
}

//! `oent import etablissements FILE`.

use std::path::PathBuf;

use clap::Subcommand;

use super::exit;
use oent::manifest::etablissement::{SECTEURS, TYPES};
use oent::ops::import::{ImportError, ImportOptions, import};

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
}

pub fn run(command: ImportCommand) -> anyhow::Result<u8> {
    let ImportCommand::Etablissements {
        file,
        departement,
        types,
        secteur,
        out,
    } = command;
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
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for e in &outcome.etablissements {
        *counts.entry(e.kind).or_default() += 1;
    }
    let counts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    eprintln!(
        "wrote {}: {} établissements ({}) of {} rows read",
        options.out.display(),
        outcome.etablissements.len(),
        counts.join(", "),
        outcome.rows
    );
    Ok(exit::OK)
}

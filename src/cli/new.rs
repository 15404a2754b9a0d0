use std::path::PathBuf;

use clap::Subcommand;

use super::exit;
use oent::manifest::distribution::COLLECTIVITE_TYPES;
use oent::ops::new::{NewDistribution, new_distribution, new_module};

#[derive(Debug, Subcommand)]
pub enum NewCommand {
    /// A module: module.yaml and a template, in modules/NS/NAME by default.
    Module {
        /// `namespace/name`, e.g. `openent/cahier-de-textes`.
        name: String,
        /// Directory to create (default: modules/NS/NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// A distribution: distribution.yaml and etablissements.csv, in ./NAME by default.
    Distribution {
        /// `namespace/name`, e.g. `idf/lilie`.
        name: String,
        /// Name of the collectivité, e.g. "Département de la Dordogne".
        #[arg(long, default_value = "Ma collectivité")]
        collectivite: String,
        /// Type of the collectivité (default: what its name says, e.g.
        /// `departement` for "Département de …").
        #[arg(long = "type", value_parser = clap::builder::PossibleValuesParser::new(COLLECTIVITE_TYPES))]
        kind: Option<String>,
        /// A registry URL, or a directory relative to the new distribution's
        /// (default: none, the catalogue built into oent).
        #[arg(long)]
        registry: Option<String>,
        /// Directory to create (default: the name's last part).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

pub fn run(command: NewCommand) -> anyhow::Result<u8> {
    let written = match command {
        NewCommand::Module { name, dir } => new_module(&name, dir.as_deref())?,
        NewCommand::Distribution {
            name,
            collectivite,
            kind,
            registry,
            dir,
        } => {
            let new = NewDistribution {
                name: &name,
                kind: kind.as_deref(),
                collectivite: &collectivite,
                registry: registry.as_deref(),
            };
            new_distribution(&new, dir.as_deref())?
        }
    };
    for path in &written {
        println!("created {}", path.display());
    }
    if let Some(first) = written.first() {
        println!(
            "next: edit {} then run `oent lint {}`",
            first.display(),
            first
                .parent()
                .map_or(String::new(), |p| p.display().to_string())
        );
    }
    Ok(exit::OK)
}

use std::path::PathBuf;

use clap::Subcommand;

use super::exit;
use oent::manifest::scaffold;

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
        /// Name of the collectivité.
        #[arg(long, default_value = "Ma collectivité")]
        collectivite: String,
        /// Directory to create (default: the name's last part).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

pub fn run(command: NewCommand) -> anyhow::Result<u8> {
    let written = match command {
        NewCommand::Module { name, dir } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from("modules").join(&name));
            scaffold::new_module(&name, &dir)?
        }
        NewCommand::Distribution {
            name,
            collectivite,
            dir,
        } => {
            let default = name.rsplit('/').next().unwrap_or(&name).to_owned();
            let dir = dir.unwrap_or_else(|| PathBuf::from(default));
            scaffold::new_distribution(&name, &collectivite, &dir)?
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

use std::path::PathBuf;

use clap::Subcommand;

use super::exit;
use oent::registry::RegistryError;
use oent::registry::config::RegistryConfig;
use oent::registry::local::{Added, LocalRegistry};

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Create an empty registry that owns the given namespaces.
    Init {
        dir: PathBuf,
        /// The registry's name (recorded as `origin` of what it publishes).
        #[arg(long)]
        name: String,
        /// A namespace this registry alone may publish (repeatable).
        #[arg(long = "namespace", required = true)]
        namespaces: Vec<String>,
        /// Base URL of the forge API that accepts publishes, if any.
        #[arg(long)]
        api: Option<String>,
    },
    /// Publish an archive into a registry directory.
    Add {
        archive: PathBuf,
        #[arg(long)]
        to: PathBuf,
    },
    /// Pack every module of a tree and publish the new versions.
    Build {
        #[arg(default_value = "modules")]
        modules: PathBuf,
        #[arg(long, default_value = "registry")]
        to: PathBuf,
        /// Change nothing; fail if the registry is not exactly what the tree produces (CI).
        #[arg(long)]
        check: bool,
    },
}

pub fn run(command: RegistryCommand) -> anyhow::Result<u8> {
    match command {
        RegistryCommand::Init {
            dir,
            name,
            namespaces,
            api,
        } => {
            let config = RegistryConfig {
                name,
                namespaces,
                api,
                keys: Vec::new(),
                mirrors: Vec::new(),
            };
            // Validate what we are about to write by the same rules as reading.
            LocalRegistry::init(&dir, config)?;
            LocalRegistry::open(&dir)?;
            println!("created registry in {}", dir.display());
        }
        RegistryCommand::Add { archive, to } => {
            let registry = LocalRegistry::open(&to)?;
            report(registry.add_archive(&archive).map_err(explain)?);
        }
        RegistryCommand::Build { modules, to, check } => {
            let registry = LocalRegistry::open(&to)?;
            if check {
                let differences = registry.check(&modules).map_err(explain)?;
                if !differences.is_empty() {
                    return Err(RegistryError::OutOfDate {
                        path: to,
                        differences,
                    }
                    .into());
                }
                println!("{} is up to date with {}", to.display(), modules.display());
            } else {
                for added in registry.build(&modules).map_err(explain)? {
                    report(added);
                }
            }
        }
    }
    Ok(exit::OK)
}

fn report(added: Added) {
    match added {
        Added::Published(line) => println!(
            "published {} {} (sha256 {})",
            line.name, line.version, line.sha256
        ),
        Added::AlreadyPresent(line) => println!("unchanged {} {}", line.name, line.version),
    }
}

/// Prints manifest diagnostics carried by an error before the error itself.
fn explain(err: RegistryError) -> RegistryError {
    if let RegistryError::InvalidManifest { diagnostics, .. }
    | RegistryError::InvalidConfig { diagnostics, .. } = &err
    {
        for d in diagnostics {
            eprintln!("{d}");
        }
    }
    err
}

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::exit;
use oent::ops;
use oent::ops::registry::{Published, RegistryOpError, SignOptions, Signed};
use oent::registry::RegistryError;
use oent::registry::config::RegistryConfig;
use oent::registry::local::{Added, LocalRegistry};
use oent::registry::snapshot::DEFAULT_VALIDITY;
use oent::registry::time;

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
        #[command(flatten)]
        sign: SignArgs,
    },
    /// Pack every module of a tree and publish the new versions.
    Build {
        #[arg(default_value = "modules")]
        modules: PathBuf,
        #[arg(long, default_value = "registry")]
        to: PathBuf,
        /// Change nothing; fail if the registry is not exactly what the tree produces (CI).
        #[arg(long, conflicts_with = "key")]
        check: bool,
        #[command(flatten)]
        sign: SignArgs,
    },
}

/// Signing the snapshot after a change.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Sign snapshot.json with this OpenSSH Ed25519 secret key (`oent key new`).
    #[arg(long = "sign", value_name = "KEY", id = "key")]
    key: Option<PathBuf>,
    /// Days until the signed snapshot expires; clients refuse it afterwards.
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_VALIDITY.as_secs() / 86_400,
          value_parser = clap::value_parser!(u64).range(1..=366), requires = "key")]
    validity: u64,
}

impl SignArgs {
    fn options(&self) -> SignOptions {
        SignOptions {
            key: self.key.clone(),
            validity: Duration::from_secs(self.validity * 86_400),
        }
    }
}

/// What was published, then how the snapshot stands.
fn report_published(published: Published) -> anyhow::Result<()> {
    for added in published.added {
        report(added);
    }
    match published.signed.map_err(explain_op)? {
        Signed::Signed {
            file,
            snapshot,
            fingerprint,
        } => println!(
            "signed {} version {} ({} files, expires {}) with {}",
            file.display(),
            snapshot.version,
            snapshot.files.len(),
            time::rfc3339(time::unix_seconds(snapshot.expires)),
            fingerprint
        ),
        Signed::Stale(file) => eprintln!(
            "warning: {} was signed before and no longer lists the current index files; clients that pin its key will refuse the registry until you sign it again with `--sign KEY`",
            file.display()
        ),
        Signed::Unsigned => {}
    }
    Ok(())
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
        RegistryCommand::Add { archive, to, sign } => {
            let published =
                ops::registry::add(&to, &archive, &sign.options()).map_err(explain_op)?;
            report_published(published)?;
        }
        RegistryCommand::Build {
            modules,
            to,
            check,
            sign,
        } => {
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
                let published =
                    ops::registry::build(&to, &modules, &sign.options()).map_err(explain_op)?;
                report_published(published)?;
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

fn explain_op(err: RegistryOpError) -> RegistryOpError {
    match err {
        RegistryOpError::Registry(e) => RegistryOpError::Registry(explain(e)),
        other => other,
    }
}

/// Prints manifest diagnostics carried by an error before the error itself.
fn explain(err: RegistryError) -> RegistryError {
    if let RegistryError::InvalidManifest { diagnostics, .. }
    | RegistryError::InvalidConfig { diagnostics, .. } = &err
    {
        super::report::print_diagnostics(diagnostics, Default::default());
    }
    err
}

use std::path::PathBuf;

use clap::Args;

use super::exit;
use oent::package::{PackOptions, PackageError};

#[derive(Debug, Args)]
pub struct PackageArgs {
    /// The module directory (holding module.yaml).
    #[arg(default_value = ".")]
    module_dir: PathBuf,
    /// Output directory; the archive goes to DIR/<namespace>/<name>-<version>.tar.gz.
    #[arg(
        long,
        short = 'o',
        value_name = "DIR",
        default_value = "target/oent/package"
    )]
    out: PathBuf,
}

pub fn run(args: PackageArgs) -> anyhow::Result<u8> {
    let options = PackOptions {
        module_dir: args.module_dir,
        out_dir: args.out,
        mtime: None,
    };
    match oent::ops::package(&options) {
        Ok(packed) => {
            println!(
                "packed {} {} ({} files, {} bytes)",
                packed.module.name, packed.module.version, packed.files, packed.size
            );
            println!("{}", packed.archive.display());
            println!("sha256 {}", packed.sha256);
            Ok(exit::OK)
        }
        Err(PackageError::Invalid { path, diagnostics }) => {
            super::report::print_diagnostics(&diagnostics, Default::default());
            eprintln!(
                "error: `{}` was not packed: fix the problems above",
                path.display()
            );
            Ok(exit::PROBLEMS)
        }
        Err(err) => Err(err.into()),
    }
}

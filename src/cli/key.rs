//! `oent key new PATH`: an Ed25519 key pair in OpenSSH's formats, for
//! signing registry snapshots (`oent registry build --sign PATH`).

use std::path::PathBuf;

use clap::Subcommand;

use super::exit;
use oent::registry::signing::{SecretKey, public_path};

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Write a new Ed25519 key pair: PATH (secret, mode 0600) and PATH.pub.
    New {
        path: PathBuf,
        /// The comment stored with the key (default: the file's name).
        #[arg(long)]
        comment: Option<String>,
    },
}

pub fn run(command: KeyCommand) -> anyhow::Result<u8> {
    match command {
        KeyCommand::New { path, comment } => {
            let comment = comment.unwrap_or_else(|| {
                path.file_name()
                    .map_or_else(|| "oent".into(), |n| n.to_string_lossy().into_owned())
            });
            let key = SecretKey::generate(&comment);
            key.write_pair(&path)?;
            let public = key.public();
            println!(
                "wrote {} (secret: keep it private) and {}",
                path.display(),
                public_path(&path).display()
            );
            println!("{}", public.to_openssh());
            println!("fingerprint {}", public.fingerprint());
        }
    }
    Ok(exit::OK)
}

//! `oent key new PATH`: an Ed25519 key pair in OpenSSH's formats, for
//! signing registry snapshots (`oent registry build --sign PATH`).

use std::path::PathBuf;

use clap::Subcommand;

use super::exit;
use oent::ops::key::new_key;

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
            let new = new_key(&path, comment.as_deref())?;
            println!(
                "wrote {} (secret: keep it private) and {}",
                new.secret.display(),
                new.public.display()
            );
            println!("{}", new.key.to_openssh());
            println!("fingerprint {}", new.key.fingerprint());
        }
    }
    Ok(exit::OK)
}

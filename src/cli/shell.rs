//! `oent completions SHELL` and `oent man --to DIR`: shell completions and
//! man pages generated from the command-line definition itself (clap_complete,
//! clap_mangen), so that they always list the flags the binary accepts. The
//! image the Containerfile builds installs both.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, exit};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The folder to write the pages into (created if needed): oent.1 and
    /// one page per command (oent-build.1, oent-registry-add.1…).
    #[arg(long, value_name = "DIR")]
    to: PathBuf,
}

/// The completion script on standard output, to be sourced or saved where
/// the shell looks (docs/json.md shows where).
pub fn run_completions(args: CompletionsArgs) -> anyhow::Result<u8> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "oent", &mut std::io::stdout());
    Ok(exit::OK)
}

pub fn run_man(args: ManArgs) -> anyhow::Result<u8> {
    std::fs::create_dir_all(&args.to)
        .with_context(|| format!("cannot create `{}`", args.to.display()))?;
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let written = pages(command, &args.to)?;
    eprintln!("wrote {written} man page(s) into {}", args.to.display());
    Ok(exit::OK)
}

/// One page for `command` and one for each of its subcommands, each
/// written atomically; how many were written.
fn pages(command: clap::Command, dir: &Path) -> anyhow::Result<usize> {
    let mut written = 0;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        written += pages(sub.clone(), dir)?;
    }
    let man = clap_mangen::Man::new(command);
    let mut page = Vec::new();
    man.render(&mut page)?;
    let path = dir.join(man.get_filename());
    oent::fsutil::write_atomic(&path, &page)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(written + 1)
}

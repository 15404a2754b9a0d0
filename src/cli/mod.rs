//! Command-line interface: parses arguments, calls one operation, prints.
//! The only place that uses anyhow; `report` decides exit codes and prints failures.

mod build;
mod contribute;
mod fetch;
mod forge;
mod import;
mod info;
mod key;
mod licences;
mod lint;
mod new;
mod output;
mod package;
mod preview;
mod progress;
mod registry;
mod release;
mod report;
mod resolve;
mod search;
mod shell;
mod values;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit statuses shared by every command (documented in README.md).
pub mod exit {
    /// Success; for lint: no problems.
    pub const OK: u8 = 0;
    /// The command ran and found problems (lint errors, denied warnings).
    pub const PROBLEMS: u8 = 1;
    /// The command could not run: bad arguments, unreadable paths.
    pub const FAILURE: u8 = 2;
}

#[derive(Debug, Parser)]
#[command(
    name = "oent",
    version,
    about = "The Open ENT as a software distribution: modules, distributions, releases."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Download and verify module archives from a registry into the cache.
    Fetch(fetch::FetchArgs),
    /// Build a distribution's bundle: every établissement's configuration and the deployment.
    Build(build::BuildArgs),
    /// Show the final value of every option, and where it comes from.
    Values(values::ValuesArgs),
    /// Find modules in the catalogue (or the distribution's registries) by words.
    Search(search::SearchArgs),
    /// Show a module: versions, licence, what it deploys, dependencies, every option.
    Info(info::InfoArgs),
    /// Show what changes between two bundles (exit 1 when they differ).
    Diff(build::DiffArgs),
    /// Report every module's licence, checksum, origin and fork status (Markdown, SPDX, CycloneDX).
    Licences(licences::LicencesArgs),
    /// Copy a module into the distribution as a fork that the distribution then uses.
    Fork(contribute::ForkArgs),
    /// Give a fork's changes back upstream: a pushed branch, a git bundle or patches.
    Contribute(contribute::ContributeArgs),
    /// Check module and distribution manifests, their templates and values.
    Lint(lint::LintArgs),
    /// Import data into a distribution: `etablissements` from the Annuaire de l'éducation,
    /// `aaf` accounts from an académie's AAF export.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Create a new module or distribution from a commented starting point.
    #[command(subcommand)]
    New(new::NewCommand),
    /// Lint a module and pack it into a deterministic .tar.gz with its .sha256.
    Package(package::PackageArgs),
    /// Resolve the distribution's modules and write oent.lock.
    Resolve(resolve::ResolveArgs),
    /// Move locked modules to the newest versions the distribution allows.
    Update(resolve::UpdateArgs),
    /// Show the resolved modules as a dependency tree.
    Tree(resolve::TreeArgs),
    /// Explain why a module is part of the distribution.
    Why(resolve::WhyArgs),
    /// Publish modules to a forge (in dependency order; what is already there is skipped).
    Publish(forge::PublishArgs),
    /// Cut a release: bump, changelog, commit, tag, signed archive, push, publish.
    Release(release::ReleaseArgs),
    /// Check that an archive is rebuilt byte for byte from its git tag, and its signature.
    Verify(release::VerifyArgs),
    /// Yank a published version (or undo it with --undo).
    Yank(forge::YankArgs),
    /// Run a forge: a registry server with publishing and federation.
    #[command(subcommand)]
    Forge(forge::ForgeCommand),
    /// Create signing keys (Ed25519, OpenSSH format).
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Create, fill, sign and check static registries.
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
    /// Print the shell completion script for bash, zsh, fish, elvish or powershell.
    Completions(shell::CompletionsArgs),
    /// Write the man pages (oent.1 and one per command) into a folder.
    Man(shell::ManArgs),
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                exit::FAILURE
            } else {
                exit::OK
            });
        }
    };
    let result = match cli.command {
        Command::Fetch(args) => fetch::run(args),
        Command::Build(args) => build::run_build(args),
        Command::Values(args) => values::run(args),
        Command::Search(args) => search::run(args),
        Command::Info(args) => info::run(args),
        Command::Diff(args) => build::run_diff(args),
        Command::Licences(args) => licences::run(args),
        Command::Fork(args) => contribute::run_fork(args),
        Command::Contribute(args) => contribute::run_contribute(args),
        Command::Lint(args) => lint::run(args),
        Command::New(command) => new::run(command),
        Command::Import(command) => import::run(command),
        Command::Package(args) => package::run(args),
        Command::Key(command) => key::run(command),
        Command::Registry(command) => registry::run(command),
        Command::Publish(args) => forge::run_publish(args),
        Command::Yank(args) => forge::run_yank(args),
        Command::Release(args) => release::run_release(args),
        Command::Verify(args) => release::run_verify(args),
        Command::Forge(command) => forge::run(command),
        Command::Resolve(args) => resolve::run_resolve(args),
        Command::Update(args) => resolve::run_update(args),
        Command::Tree(args) => resolve::run_tree(args),
        Command::Why(args) => resolve::run_why(args),
        Command::Completions(args) => shell::run_completions(args),
        Command::Man(args) => shell::run_man(args),
    };
    report::exit_code(result)
}

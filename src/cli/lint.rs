use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::exit;
use oent::lint::{LintOptions, Report, codequality, human, json, junit};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Junit,
    Codequality,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    Warnings,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Files or directories to check (default: distribution.yaml, modules/ and examples/ of the current directory).
    paths: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Make warnings fail the run (exit 1).
    #[arg(long, value_enum)]
    deny: Vec<Deny>,
    /// Write the report to this file (atomically) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(args: LintArgs) -> anyhow::Result<u8> {
    let deny_warnings = args.deny.contains(&Deny::Warnings);
    let mut report = oent::ops::lint(&LintOptions {
        paths: args.paths,
        root: PathBuf::from("."),
        cache: oent::registry::cache::Cache::default_location().ok(),
        // What `oent build` checks once resolved.
        checks: oent::ops::build::checks(false),
    })?;
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = to_terminal && std::env::var_os("NO_COLOR").is_none();
    if !matches!(args.format, Format::Human) {
        repository_relative(&mut report);
    }
    let text = match args.format {
        Format::Human => human::render(&report, color),
        Format::Json => json::render(&report),
        Format::Junit => junit::render(&report, deny_warnings),
        Format::Codequality => codequality::render(&report),
    };
    match &args.output {
        Some(path) => {
            oent::fsutil::write_atomic(path, text.as_bytes())
                .with_context(|| format!("cannot write the report to `{}`", path.display()))?;
            // The file holds the details; say in one line what happened.
            eprint!("{}", human::summary(&report));
        }
        None => print!("{text}"),
    }
    Ok(if report.fails(deny_warnings) {
        exit::PROBLEMS
    } else {
        exit::OK
    })
}

/// Machine-readable reports name files relative to the current directory,
/// which is the repository's root where CI runs them: GitLab matches a Code
/// Quality or JUnit path to the merge request's diff only in that form, and
/// `oent lint "$CI_PROJECT_DIR/dist"` (or a module read from a cache inside
/// the project) would otherwise write absolute paths. Paths outside the
/// current directory stay as they are.
fn repository_relative(report: &mut Report) {
    let Ok(cwd) = std::env::current_dir() else {
        return;
    };
    let canonical = cwd.canonicalize().unwrap_or_else(|_| cwd.clone());
    let relative = |path: &Path| -> PathBuf {
        let path = path.strip_prefix("./").unwrap_or(path);
        if !path.is_absolute() {
            return path.to_path_buf();
        }
        let resolved = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        [
            (path, &cwd),
            (path, &canonical),
            (resolved.as_path(), &canonical),
        ]
        .into_iter()
        .find_map(|(p, root)| p.strip_prefix(root).ok())
        .map_or_else(|| path.to_path_buf(), Path::to_path_buf)
    };
    for diagnostic in &mut report.diagnostics {
        diagnostic.path = relative(&diagnostic.path);
    }
    for file in &mut report.files {
        *file = relative(file);
    }
}

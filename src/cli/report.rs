//! The one place that turns a command's failure into what the user reads on
//! stderr and the exit status: problems found (diagnostics, a resolution that
//! has no solution, a lock that would change) exit 1; anything that kept the
//! command from running exits 2 with its error and the causes it does not
//! already say.

use std::io::IsTerminal;
use std::process::ExitCode;

use super::exit;
use oent::contribute::ContributeError;
use oent::manifest::Diagnostic;
use oent::manifest::diagnostic::render::{Sources, render};
use oent::ops::BuildError;
use oent::release::ReleaseError;
use oent::resolve::ResolveError;
use oent::resolve::lock::LockOpError;
use oent::workspace::WorkspaceError;

/// The exit status of a finished command; an error is printed first.
pub fn exit_code(result: anyhow::Result<u8>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprint!("{}", error_text(&err));
            ExitCode::from(exit::FAILURE)
        }
    }
}

/// `error: …` then one `caused by:` line per cause whose text the lines
/// before do not already hold (many errors quote their source in their own
/// message, and saying it twice only makes the reader compare them).
fn error_text(err: &anyhow::Error) -> String {
    let mut text = format!("error: {err}\n");
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(&format!("  caused by: {cause}\n"));
        }
    }
    text
}

/// Prints what a failed lock says, and the exit status for it.
pub fn lock_failure(err: LockOpError) -> anyhow::Result<u8> {
    match err {
        LockOpError::Distribution { path, diagnostics } => {
            let errors: Vec<Diagnostic> =
                diagnostics.into_iter().filter(|d| d.is_error()).collect();
            print_diagnostics(&errors, Sources::default());
            eprintln!(
                "error: `{}` has {} problem(s); nothing was resolved",
                path.display(),
                errors.len()
            );
            Ok(exit::PROBLEMS)
        }
        LockOpError::Resolve(ResolveError::NoSolution { report, hints }) => {
            eprint!("error: the distribution cannot be resolved\n\n{report}");
            for hint in &hints {
                eprintln!("help: {hint}");
            }
            eprintln!();
            Ok(exit::PROBLEMS)
        }
        LockOpError::Resolve(
            e @ (ResolveError::AmbiguousCapability { .. } | ResolveError::NoProvider { .. }),
        ) => {
            eprintln!("error: {e}");
            Ok(exit::PROBLEMS)
        }
        LockOpError::WouldChange { .. } => {
            eprintln!("error: {err}");
            Ok(exit::PROBLEMS)
        }
        other => Err(other.into()),
    }
}

/// Diagnostics then the exit status, for commands that resolve and fetch as
/// `build` does; `sources` holds the text of what is not a file (`--set`).
pub fn workspace_failure(err: WorkspaceError, sources: Sources) -> anyhow::Result<u8> {
    match err {
        WorkspaceError::Problems(problems) => problems_found(&problems, sources, ""),
        WorkspaceError::Lock(e) => lock_failure(*e),
        other => Err(other.into()),
    }
}

/// Diagnostics then the exit status of a failed `oent build`.
pub fn build_failure(err: BuildError, sources: Sources) -> anyhow::Result<u8> {
    match err {
        BuildError::Problems(problems) => problems_found(&problems, sources, UNTOUCHED),
        BuildError::Workspace(WorkspaceError::Problems(problems)) => {
            problems_found(&problems, sources, UNTOUCHED)
        }
        BuildError::Workspace(e) => workspace_failure(e, sources),
        other => Err(other.into()),
    }
}

/// Diagnostics then the exit status of a failed `oent fork` or `oent contribute`.
pub fn contribute_failure(err: ContributeError) -> anyhow::Result<u8> {
    match err {
        ContributeError::Workspace(e) => workspace_failure(*e, Sources::default()),
        other => Err(other.into()),
    }
}

/// A release that stopped: its diagnostics, if any, then why (exit 1).
pub fn release_failure(err: ReleaseError) -> u8 {
    if let ReleaseError::Invalid { diagnostics, .. } = &err {
        print_diagnostics(diagnostics, Sources::default());
    }
    eprintln!("error: {err}");
    exit::PROBLEMS
}

/// What a build that found problems says of its output.
const UNTOUCHED: &str = "; nothing was written, the previous bundle is untouched";

/// Each diagnostic, then their count and `then` (what became of the output).
fn problems_found(problems: &[Diagnostic], sources: Sources, then: &str) -> anyhow::Result<u8> {
    print_diagnostics(problems, sources);
    eprintln!("error: {} problem(s){then}", problems.len());
    Ok(exit::PROBLEMS)
}

/// Diagnostics drawn on stderr with the lines they point at: from `sources`
/// (a `--set` flag), else read again from their files; in colour on a
/// terminal unless `NO_COLOR` is set.
pub fn print_diagnostics(diagnostics: &[Diagnostic], mut sources: Sources) {
    sources.read_missing(diagnostics);
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    eprint!("{}", render(diagnostics, &sources, color));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("registry `local` at reg: {source}")]
    struct Quoting {
        source: std::io::Error,
    }

    #[test]
    fn a_cause_the_message_already_quotes_is_not_repeated() {
        let err = anyhow::Error::new(Quoting {
            source: std::io::Error::other("`reg` is not a registry"),
        });
        assert_eq!(
            error_text(&err),
            "error: registry `local` at reg: `reg` is not a registry\n"
        );
    }

    #[test]
    fn a_cause_the_message_does_not_say_is_printed() {
        let err = anyhow::Error::new(std::io::Error::other("disk full")).context("writing x");
        assert_eq!(
            error_text(&err),
            "error: writing x\n  caused by: disk full\n"
        );
    }
}

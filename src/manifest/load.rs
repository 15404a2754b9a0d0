//! The common path of every manifest: read the file, parse the YAML, hand the
//! tree to a format's parser, and collect what went wrong.

use std::path::{Path, PathBuf};

use super::diagnostic::Diagnostic;
use super::fields::Checker;
use super::source::{MANIFEST, ReadFailure, SourceFile, read_text, text_from_bytes};
use super::yaml::{self, Node};

/// The result of loading a file: every diagnostic, and the value as far as
/// it could be read. A value that came with errors is still useful to lint
/// (it lets later checks report more problems in the same run) but must not
/// be used for real work: take it through [`Loaded::into_valid`].
#[derive(Debug)]
pub struct Loaded<T> {
    pub value: Option<T>,
    pub diagnostics: Vec<Diagnostic>,
    /// Texts read while loading (the manifest, templates, CSV files), for snippets.
    pub sources: Vec<SourceFile>,
}

impl<T> Loaded<T> {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The value, only if loading found no error.
    pub fn into_valid(self) -> Option<T> {
        if self.has_errors() { None } else { self.value }
    }

    pub fn failed(diagnostics: Vec<Diagnostic>, sources: Vec<SourceFile>) -> Self {
        Loaded {
            value: None,
            diagnostics,
            sources,
        }
    }
}

/// A file that could not be read at all: lint cannot run on it.
#[derive(Debug, thiserror::Error)]
#[error("cannot read `{}`: {source}", path.display())]
pub struct ReadError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

pub fn load_yaml<T>(
    path: &Path,
    parse: impl FnOnce(&mut Checker, &Node) -> Option<T>,
) -> Result<Loaded<T>, ReadError> {
    let mut diagnostics = Vec::new();
    let read = read_text(path, &MANIFEST, &mut diagnostics);
    parse_source(path, read, diagnostics, parse)
}

/// [`load_yaml`] of a manifest already in memory (fetched from a registry);
/// `label` names it in diagnostics.
pub fn load_yaml_bytes<T>(
    label: &Path,
    bytes: Vec<u8>,
    parse: impl FnOnce(&mut Checker, &Node) -> Option<T>,
) -> Loaded<T> {
    let mut diagnostics = Vec::new();
    let read = text_from_bytes(label, bytes, &MANIFEST, &mut diagnostics);
    parse_source(label, read, diagnostics, parse).expect("bytes in memory cannot fail to read")
}

fn parse_source<T>(
    path: &Path,
    read: Result<SourceFile, ReadFailure>,
    mut diagnostics: Vec<Diagnostic>,
    parse: impl FnOnce(&mut Checker, &Node) -> Option<T>,
) -> Result<Loaded<T>, ReadError> {
    let source = match read {
        Ok(source) => source,
        Err(ReadFailure::Io(source)) => {
            return Err(ReadError {
                path: path.to_path_buf(),
                source,
            });
        }
        Err(ReadFailure::Refused(diagnostic)) => {
            diagnostics.push(*diagnostic);
            return Ok(Loaded::failed(diagnostics, Vec::new()));
        }
    };
    let root = match yaml::parse(&source) {
        Ok(root) => root,
        Err(diagnostic) => {
            diagnostics.push(*diagnostic);
            return Ok(Loaded::failed(diagnostics, vec![source]));
        }
    };
    let mut checker = Checker::new(&source);
    let value = parse(&mut checker, &root);
    diagnostics.append(&mut checker.diagnostics);
    let mut sources = vec![source.clone()];
    sources.append(&mut checker.extra_sources);
    Ok(Loaded {
        value,
        diagnostics,
        sources,
    })
}

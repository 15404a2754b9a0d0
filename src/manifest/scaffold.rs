//! `oent new`: commented, lint-clean starting points for a module or a
//! distribution, from the files under templates/new/ (embedded at build time).

use std::path::{Path, PathBuf};

use super::names::ModuleName;

const MODULE_FILES: &[(&str, &str)] = &[
    (
        "module.yaml",
        include_str!("../../templates/new/module/module.yaml"),
    ),
    (
        "templates/app.conf.tera",
        include_str!("../../templates/new/module/templates/app.conf.tera"),
    ),
];

const DISTRIBUTION_FILES: &[(&str, &str)] = &[
    (
        "distribution.yaml",
        include_str!("../../templates/new/distribution/distribution.yaml"),
    ),
    (
        "etablissements.csv",
        include_str!("../../templates/new/distribution/etablissements.csv"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("`{0}` is not a valid name: {1}")]
    InvalidName(String, String),
    #[error("`{}` already exists and is not empty; choose another directory with --dir, or remove it", .0.display())]
    NotEmpty(PathBuf),
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes a new module named `name` into `dir`; returns the files written.
pub fn new_module(name: &str, dir: &Path) -> Result<Vec<PathBuf>, ScaffoldError> {
    let parsed: ModuleName = name
        .parse()
        .map_err(|e| ScaffoldError::InvalidName(name.into(), e))?;
    let values = [
        ("@NAME@", parsed.as_str()),
        ("@SHORT@", parsed.short_name()),
    ];
    write_files(dir, MODULE_FILES, &values)
}

/// Writes a new distribution named `name` (`region/ent`) into `dir`.
pub fn new_distribution(
    name: &str,
    collectivite: &str,
    dir: &Path,
) -> Result<Vec<PathBuf>, ScaffoldError> {
    let parsed: ModuleName = name
        .parse()
        .map_err(|e| ScaffoldError::InvalidName(name.into(), e))?;
    let collectivite = collectivite.replace('"', "'");
    let values = [
        ("@NAME@", parsed.as_str()),
        ("@COLLECTIVITE@", collectivite.as_str()),
    ];
    write_files(dir, DISTRIBUTION_FILES, &values)
}

fn write_files(
    dir: &Path,
    files: &[(&str, &str)],
    values: &[(&str, &str)],
) -> Result<Vec<PathBuf>, ScaffoldError> {
    if dir
        .read_dir()
        .is_ok_and(|mut entries| entries.next().is_some())
    {
        return Err(ScaffoldError::NotEmpty(dir.to_path_buf()));
    }
    let mut written = Vec::new();
    for (relative, template) in files {
        let text = values
            .iter()
            .fold(template.to_string(), |text, (from, to)| {
                text.replace(from, to)
            });
        let path = dir.join(relative);
        crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(|source| {
            ScaffoldError::Write {
                path: path.clone(),
                source,
            }
        })?;
        written.push(path);
    }
    Ok(written)
}

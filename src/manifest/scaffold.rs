//! `oent new`: commented, lint-clean starting points for a module or a
//! distribution, from the files under templates/new/ (embedded at build time).

use std::path::{Path, PathBuf};

use super::distribution::COLLECTIVITE_TYPES;
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
    (
        ".gitignore",
        include_str!("../../templates/new/distribution/gitignore"),
    ),
    // The CI template itself (not an include of it): it runs on the
    // project's GitLab at once, with the image of this version of oent.
    (
        ".gitlab-ci.yml",
        include_str!("../../templates/ci/gitlab-ci.yml"),
    ),
    // Beside the file, so that `$schema=distribution.schema.json` resolves
    // wherever the distribution is, offline, for any YAML language server.
    (
        "distribution.schema.json",
        include_str!("../../manifests/distribution.schema.json"),
    ),
];

/// What `oent new distribution` writes.
#[derive(Debug, Clone)]
pub struct NewDistribution<'a> {
    /// `namespace/name`, e.g. `cd24/colleges`.
    pub name: &'a str,
    /// One of [`COLLECTIVITE_TYPES`].
    pub kind: &'a str,
    pub collectivite: &'a str,
    /// A registry URL or directory; none: the catalogue built into oent.
    pub registry: Option<&'a str>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("`{0}` is not a valid name: {1}")]
    InvalidName(String, String),
    #[error(
        "`{0}` is not a type of collectivité; use one of: region, departement, academie, groupement, commune"
    )]
    InvalidType(String),
    #[error(
        "cannot tell the type of collectivité from \"{0}\"; pass --type region|departement|academie|groupement|commune"
    )]
    UnknownType(String),
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

/// Writes a new distribution into `dir`: it lints and builds as written
/// (from the embedded catalogue when no registry is given).
pub fn new_distribution(new: &NewDistribution, dir: &Path) -> Result<Vec<PathBuf>, ScaffoldError> {
    let parsed: ModuleName = new
        .name
        .parse()
        .map_err(|e| ScaffoldError::InvalidName(new.name.into(), e))?;
    if !COLLECTIVITE_TYPES.contains(&new.kind) {
        return Err(ScaffoldError::InvalidType(new.kind.into()));
    }
    let collectivite = new.collectivite.replace('"', "'");
    let registries = match new.registry {
        None => "# No `registries`: modules come from the catalogue built into oent\n\
                 # (`openent (embedded)`). Add yours, e.g.\n\
                 # registries: [{ name: openent, url: \"https://forge.example.org/registry\" }]\n"
            .to_owned(),
        Some(location) => {
            let key = match location.starts_with("http://") || location.starts_with("https://") {
                true => "url",
                false => "path",
            };
            // A JSON string is a YAML one: quotes and backslashes stay data.
            let quoted = serde_json::Value::from(location).to_string();
            format!("registries:\n  - {{ name: openent, {key}: {quoted} }}\n")
        }
    };
    let values = [
        ("@NAME@", parsed.as_str()),
        ("@COLLECTIVITE@", collectivite.as_str()),
        ("@TYPE@", new.kind),
        ("@REGISTRIES@", registries.as_str()),
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

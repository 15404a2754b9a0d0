//! `oent new module|distribution`: where a new module or distribution goes
//! when no directory is given, then the scaffold written there.

use std::path::{Path, PathBuf};

use crate::manifest::distribution::COLLECTIVITE_TYPES;
use crate::manifest::scaffold::{self, ScaffoldError};

/// Writes a new module `name` into `dir`, by default `modules/NS/NAME`
/// (where `oent lint` looks); returns the files written, module.yaml first.
pub fn new_module(name: &str, dir: Option<&Path>) -> Result<Vec<PathBuf>, ScaffoldError> {
    let dir = dir.map_or_else(|| default_module_dir(name), Path::to_path_buf);
    scaffold::new_module(name, &dir)
}

/// What `oent new distribution` is asked for.
#[derive(Debug, Clone)]
pub struct NewDistribution<'a> {
    /// `namespace/name`, e.g. `cd24/colleges`.
    pub name: &'a str,
    /// One of [`COLLECTIVITE_TYPES`]; `None`: what the collectivité's name says.
    pub kind: Option<&'a str>,
    pub collectivite: &'a str,
    /// A registry URL or directory; none: the catalogue built into oent.
    pub registry: Option<&'a str>,
}

/// Writes a new distribution into `dir`, by default the last part of its
/// name (`idf/lilie` → `lilie`); returns the files written. Without a
/// type, the collectivité's name must say it.
pub fn new_distribution(
    new: &NewDistribution,
    dir: Option<&Path>,
) -> Result<Vec<PathBuf>, ScaffoldError> {
    let dir = dir.map_or_else(|| default_distribution_dir(new.name), Path::to_path_buf);
    let kind = match new.kind {
        Some(kind) => kind,
        None => collectivite_type_of(new.collectivite)
            .ok_or_else(|| ScaffoldError::UnknownType(new.collectivite.to_owned()))?,
    };
    let scaffold = scaffold::NewDistribution {
        name: new.name,
        kind,
        collectivite: new.collectivite,
        registry: new.registry,
    };
    scaffold::new_distribution(&scaffold, &dir)
}

/// The type of collectivité its name says (`Département de la Dordogne` is
/// a `departement`).
fn collectivite_type_of(nom: &str) -> Option<&'static str> {
    let first = nom.split_whitespace().next()?.to_lowercase();
    let kind = match first.as_str() {
        "région" | "region" => "region",
        "département" | "departement" | "conseil" => "departement",
        "académie" | "academie" | "rectorat" => "academie",
        "groupement" => "groupement",
        "commune" | "ville" | "mairie" => "commune",
        _ => return None,
    };
    debug_assert!(COLLECTIVITE_TYPES.contains(&kind));
    Some(kind)
}

fn default_module_dir(name: &str) -> PathBuf {
    PathBuf::from("modules").join(name)
}

fn default_distribution_dir(name: &str) -> PathBuf {
    PathBuf::from(name.rsplit('/').next().unwrap_or(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_directories_follow_the_name() {
        assert_eq!(
            default_module_dir("openent/agenda"),
            Path::new("modules/openent/agenda")
        );
        assert_eq!(default_distribution_dir("idf/lilie"), Path::new("lilie"));
    }

    #[test]
    fn the_type_of_collectivite_comes_from_its_name() {
        assert_eq!(
            collectivite_type_of("Département de la Dordogne"),
            Some("departement")
        );
        assert_eq!(collectivite_type_of("Région Île-de-France"), Some("region"));
        assert_eq!(collectivite_type_of("Académie de Rennes"), Some("academie"));
        assert_eq!(collectivite_type_of("SIVU des écoles"), None);
    }
}

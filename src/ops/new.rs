//! `oent new module|distribution`: where a new module or distribution goes
//! when no directory is given, then the scaffold written there.

use std::path::{Path, PathBuf};

use crate::manifest::scaffold::{self, ScaffoldError};

/// Writes a new module `name` into `dir`, by default `modules/NS/NAME`
/// (where `oent lint` looks); returns the files written, module.yaml first.
pub fn new_module(name: &str, dir: Option<&Path>) -> Result<Vec<PathBuf>, ScaffoldError> {
    let dir = dir.map_or_else(|| default_module_dir(name), Path::to_path_buf);
    scaffold::new_module(name, &dir)
}

/// Writes a new distribution `name` into `dir`, by default the last part of
/// its name (`idf/lilie` → `lilie`); returns the files written.
pub fn new_distribution(
    name: &str,
    collectivite: &str,
    dir: Option<&Path>,
) -> Result<Vec<PathBuf>, ScaffoldError> {
    let dir = dir.map_or_else(|| default_distribution_dir(name), Path::to_path_buf);
    scaffold::new_distribution(name, collectivite, &dir)
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
}

//! A module's `templates` entry: which file renders to which bundle path,
//! once or per établissement. Its own file because both the manifest
//! (`module`) and the checks of its templates (`template_check`) read it.

use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Each {
    Etablissement,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSpec {
    /// Relative to the module directory.
    pub source: PathBuf,
    /// Output path, itself a Tera template (`conf/{{ module.slug }}/app.properties`).
    pub target: String,
    pub each: Option<Each>,
}

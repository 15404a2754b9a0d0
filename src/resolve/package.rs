//! What pubgrub sees: the distribution as a root package, modules, and a
//! proxy package per enabled feature (uv's approach to extras). Private to
//! `resolve/`.

use std::fmt;

use crate::manifest::names::ModuleName;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Pkg {
    /// The distribution itself (its name, for messages).
    Root(String),
    Module(ModuleName),
    /// `module[feature]`: depends on exactly the same version of the module
    /// and on the optional modules the feature enables.
    Feature(ModuleName, String),
}

impl Pkg {
    pub(crate) fn module(&self) -> Option<&ModuleName> {
        match self {
            Pkg::Root(_) => None,
            Pkg::Module(m) | Pkg::Feature(m, _) => Some(m),
        }
    }
}

impl fmt::Display for Pkg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pkg::Root(name) => write!(f, "{name}"),
            Pkg::Module(m) => write!(f, "{m}"),
            Pkg::Feature(m, feature) => write!(f, "{m}[{feature}]"),
        }
    }
}

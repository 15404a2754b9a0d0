//! `distribution.yaml`: a collectivité's choice of modules, values and
//! établissements, possibly extending a base (a groupement de commandes).
//! This file holds the domain types; the rooms beside it:
//!
//! - `parse`: one file's YAML into a [`Distribution`], every problem collected;
//! - `etablissements`: its `etablissements:` key (CSV, inline list, overrides);
//! - `chain`: [`DistributionChain`], the `extends` chain and what is in force across it;
//! - `scale`: its `scale:` key, and the scale in force with what is derived;
//! - `values`: [`check_values`] and [`typed_value`], a value typed by the option
//!   that declares it (lint and build share them).

mod chain;
mod etablissements;
mod parse;
mod scale;
mod values;

pub use chain::DistributionChain;
pub use scale::StatedScale;
pub use values::{check_values, typed_value};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::diagnostic::{Code, Diagnostic};
use super::etablissement::{Etablissement, Origin, ValueSetting};
use super::load::{Loaded, ReadError, load_yaml};
use super::names::ModuleName;

pub const DISTRIBUTION_SCHEMA: &str = "oent/distribution/v1";
pub const DISTRIBUTION_FILE: &str = "distribution.yaml";
pub const COLLECTIVITE_TYPES: &[&str] =
    &["region", "departement", "academie", "groupement", "commune"];

const DISTRIBUTION_KEYS: &[&str] = &[
    "schema",
    "name",
    "version",
    "collectivite",
    "extends",
    "registries",
    "modules",
    "settings",
    "etablissements",
    "target",
    "licence",
    "scale",
];

/// Licence policies oent knows (docs/licences.md).
pub const LICENCE_POLICIES: &[&str] = &["cecill-2.1"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Compose,
    Kubernetes,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Collectivite {
    pub nom: String,
    pub kind: &'static str,
    pub siren: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RegistryLocation {
    Url(String),
    /// Relative to the distribution's directory, as written.
    Path(PathBuf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegistrySpec {
    pub name: String,
    pub location: RegistryLocation,
    /// OpenSSH public key lines pinned for the registry's snapshot (`key:`,
    /// one line or a list): empty for an unsigned registry.
    pub keys: Vec<String>,
    pub origin: Origin,
}

/// A capability asked for by the distribution (a `modules:` key without `/`).
#[derive(Debug, Clone, PartialEq)]
pub struct CapabilityRequest {
    pub capability: String,
    pub req: semver::VersionReq,
    pub origin: Origin,
}

/// One module asked for by the distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleRequest {
    pub name: ModuleName,
    pub req: semver::VersionReq,
    pub features: Vec<(String, Origin)>,
    pub config: BTreeMap<String, ValueSetting>,
    /// The line that asks for the module (for resolver explanations).
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    pub manifest_path: PathBuf,
    pub name: ModuleName,
    pub version: semver::Version,
    pub collectivite: Option<Collectivite>,
    /// The base's distribution.yaml, resolved against this file's directory.
    pub extends: Option<(PathBuf, Origin)>,
    pub registries: Vec<RegistrySpec>,
    pub modules: BTreeMap<ModuleName, ModuleRequest>,
    /// Capabilities asked for by name (`messagerie: "*"`): the resolver picks
    /// the module that provides it, or asks the distribution to choose.
    pub capabilities: BTreeMap<String, CapabilityRequest>,
    pub settings: Map<String, Value>,
    /// `None` when the file does not set `etablissements` (a base's list is then kept).
    pub etablissements: Option<Vec<Etablissement>>,
    pub target: Option<Target>,
    /// `licence:`: the policy the distribution's modules are checked against.
    pub licence: Option<LicenceSection>,
    /// `scale:`: what the file states of the ENT's size (the nearest layer's wins).
    pub scale: Option<StatedScale>,
}

/// `licence: { policy, allow, deny }` of a distribution.yaml.
#[derive(Debug, Clone, PartialEq)]
pub struct LicenceSection {
    /// One of [`LICENCE_POLICIES`].
    pub policy: Option<&'static str>,
    /// SPDX licences (`MIT`, `AGPL-3.0-only WITH …`, `LicenseRef-…`) accepted
    /// whatever the policy's table says, each with the line that lists it.
    pub allow: Vec<(String, Origin)>,
    /// SPDX licences refused whatever the policy's table says.
    pub deny: Vec<(String, Origin)>,
}

impl Distribution {
    pub fn dir(&self) -> &Path {
        self.manifest_path.parent().unwrap_or(Path::new("."))
    }

    /// Reads and validates one distribution.yaml, without following `extends`.
    pub fn load(path: &Path) -> Result<Loaded<Distribution>, ReadError> {
        load_yaml(path, parse::parse_distribution)
    }
}

/// A diagnostic at the place a value or key was written.
pub fn at_origin(code: Code, origin: &Origin, message: impl Into<String>) -> Diagnostic {
    let mut d = Diagnostic::new(code, &origin.path, message);
    d.position = Some(super::diagnostic::Position {
        span: origin.span,
        line: origin.line,
        column: origin.column,
    });
    d
}

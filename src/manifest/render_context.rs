//! The documented render context: every variable a template may read
//! (docs/formats.md, "Render context"). Lint checks template reads against
//! it, and `render/` builds exactly these keys.

/// What a name in the context holds.
#[derive(Clone, Copy)]
pub enum Shape {
    /// Fixed attributes, each with its own shape.
    Fields(&'static [(&'static str, Shape)]),
    /// Any attribute (maps keyed by data: module names, list values).
    Open,
    /// The distribution settings, or one of their groups: their keys are the
    /// ones `settings.rs` accepts, read from its table (one list, not two).
    Settings(&'static [Setting]),
}

use super::settings::{self, Setting};
use Shape::{Fields, Open, Settings};

const SERVICE: Shape = Fields(&[
    ("image", Open),
    ("command", Open),
    ("environment", Open),
    ("files", Open),
    ("data", Open),
    ("ports", Open),
    ("probe", Open),
    ("databases", Open),
    ("secrets", Open),
    ("port", Open),
    ("path", Open),
    ("health", Open),
]);

const MODULE: Shape = Fields(&[
    ("name", Open),
    ("namespace", Open),
    ("short_name", Open),
    ("slug", Open),
    ("version", Open),
    ("licence", Open),
    ("summary", Open),
    ("category", Open),
    ("audiences", Open),
    ("repository", Open),
    ("service", SERVICE),
    // Only for a service that logs users in through the SSO (docs/render.md).
    ("login", LOGIN),
]);

const LOGIN: Shape = Fields(&[
    ("module", Open),
    ("slug", Open),
    ("client_id", Open),
    ("protocol", Open),
    ("protocols", Open),
    ("path", Open),
    ("redirect", Open),
    ("attributes", Open),
    ("url", Open),
    ("secret", Open),
]);

const ETAB: Shape = Fields(&[
    ("uai", Open),
    ("nom", Open),
    ("type", Open),
    ("commune", Open),
    ("departement", Open),
    ("secteur", Open),
    ("extra", Open),
]);

/// Top-level names; `config` is checked against the module's own options,
/// and `etab` exists only in templates rendered once per établissement.
pub const ROOTS: &[(&str, Shape)] = &[
    ("module", MODULE),
    ("config", Open),
    ("settings", Settings(settings::SETTINGS)),
    (
        "distribution",
        Fields(&[
            ("name", Open),
            ("version", Open),
            ("target", Open),
            (
                "scale",
                Fields(&[
                    ("comptes", Open),
                    ("eleves", Open),
                    ("etablissements", Open),
                ]),
            ),
        ]),
    ),
    (
        "collectivite",
        Fields(&[("nom", Open), ("type", Open), ("siren", Open)]),
    ),
    ("etablissements", Open),
    ("etab", ETAB),
    ("modules", Open),
    // Only when a module of the distribution serves the SSO.
    (
        "sso",
        Fields(&[
            ("provider", Open),
            ("slug", Open),
            ("url", Open),
            ("serves", Open),
            ("services", Open),
            ("by_protocol", Open),
            ("attributes", Open),
            ("ldap", Open),
        ]),
    ),
];

pub fn root_names() -> impl Iterator<Item = &'static str> {
    ROOTS.iter().map(|(n, _)| *n)
}

pub fn root(name: &str) -> Option<&'static Shape> {
    ROOTS.iter().find(|(n, _)| *n == name).map(|(_, s)| s)
}

impl Shape {
    pub fn field(&self, name: &str) -> Option<Shape> {
        match self {
            Fields(fields) => fields.iter().find(|(n, _)| *n == name).map(|(_, s)| *s),
            Open => Some(Open),
            Settings(spec) => {
                settings::find(spec, name).map(|kind| match settings::group_of(kind) {
                    Some(inner) => Settings(inner),
                    None => Open,
                })
            }
        }
    }

    pub fn field_names(&self) -> Vec<&'static str> {
        match self {
            Fields(fields) => fields.iter().map(|(n, _)| *n).collect(),
            Open => Vec::new(),
            Settings(spec) => spec.iter().map(|(n, _, _)| *n).collect(),
        }
    }
}

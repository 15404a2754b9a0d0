//! `registry.yaml`: who the registry is and which namespaces it owns.
//!
//! ```yaml
//! schema: oent/registry/v1
//! name: openent
//! namespaces: [openent]
//! api: https://forge.example.org/api/v1     # optional: where a forge accepts publishes
//! keys: ["ssh-ed25519 AAAA… openent-2026"]   # optional: public keys of its signatures
//! ```

use std::path::Path;

use crate::manifest::Code;
use crate::manifest::fields::Checker;
use crate::manifest::formats::check_url;
use crate::manifest::load::load_yaml;
use crate::manifest::names::check_part;
use crate::manifest::yaml::{Node, Span};

use super::RegistryError;

pub const REGISTRY_SCHEMA: &str = "oent/registry/v1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryConfig {
    pub name: String,
    pub namespaces: Vec<String>,
    pub api: Option<String>,
    pub keys: Vec<String>,
}

impl RegistryConfig {
    pub fn load(path: &Path) -> Result<RegistryConfig, RegistryError> {
        let loaded = load_yaml(path, parse)?;
        if loaded.has_errors() {
            return Err(RegistryError::InvalidConfig {
                path: path.to_path_buf(),
                diagnostics: loaded.diagnostics,
            });
        }
        loaded
            .into_valid()
            .ok_or_else(|| RegistryError::InvalidConfig {
                path: path.to_path_buf(),
                diagnostics: Vec::new(),
            })
    }

    pub fn owns(&self, namespace: &str) -> bool {
        self.namespaces.iter().any(|n| n == namespace)
    }

    /// The file's text, written by hand so that it is byte-stable.
    pub fn to_yaml(&self) -> String {
        let mut text = format!(
            "# oent registry: see docs/registry.md\nschema: {REGISTRY_SCHEMA}\nname: {}\nnamespaces: [{}]\n",
            self.name,
            self.namespaces.join(", ")
        );
        if let Some(api) = &self.api {
            text.push_str(&format!("api: \"{api}\"\n"));
        }
        if !self.keys.is_empty() {
            text.push_str("keys:\n");
            for key in &self.keys {
                text.push_str(&format!("  - \"{}\"\n", key.replace('"', "")));
            }
        }
        text
    }
}

fn parse(checker: &mut Checker, root: &Node) -> Option<RegistryConfig> {
    let fields = checker.map(
        root,
        "",
        Span::default(),
        &["schema", "name", "namespaces", "api", "keys"],
    )?;
    if let Some(schema) = fields
        .required(checker, "schema", REGISTRY_SCHEMA)
        .and_then(|n| checker.string(n, "schema").map(|s| (s, n.span)))
        && schema.0 != REGISTRY_SCHEMA
    {
        checker.report(
            Code::UnsupportedSchema,
            schema.1,
            "schema",
            format!("`schema: {}` is not supported", schema.0),
            format!("write `schema: {REGISTRY_SCHEMA}`"),
        );
    }
    let name = fields.required(checker, "name", "openent").and_then(|n| {
        let s = checker.string(n, "name")?;
        check_part(&s, "registry name")
            .map_err(|e| {
                checker.report(
                    Code::InvalidName,
                    n.span,
                    "name",
                    e,
                    "use lowercase letters, digits and '-'",
                )
            })
            .ok()
            .map(|()| s)
    });
    let namespaces = fields
        .required(checker, "namespaces", "[openent]")
        .and_then(|n| checker.strings(n, "namespaces"))
        .map(|list| {
            list.into_iter()
                .filter_map(|(ns, span)| {
                    check_part(&ns, "namespace")
                        .map_err(|e| {
                            checker.report(
                                Code::InvalidName,
                                span,
                                "namespaces",
                                e,
                                "namespaces are lowercase words",
                            )
                        })
                        .ok()
                        .map(|()| ns)
                })
                .collect::<Vec<_>>()
        });
    let api = fields.get("api").and_then(|n| {
        let s = checker.string(n, "api")?;
        check_url(&s)
            .map_err(|e| {
                checker.report(
                    Code::InvalidValue,
                    n.span,
                    "api",
                    e,
                    "write the forge API's base URL",
                )
            })
            .ok()
            .map(|()| s)
    });
    let keys = fields
        .get("keys")
        .and_then(|n| checker.strings(n, "keys"))
        .map(|k| k.into_iter().map(|(s, _)| s).collect())
        .unwrap_or_default();
    Some(RegistryConfig {
        name: name?,
        namespaces: namespaces?,
        api,
        keys,
    })
}

//! `registry.yaml`: who the registry is and which namespaces it owns.
//!
//! ```yaml
//! schema: oent/registry/v1
//! name: openent
//! namespaces: [openent]
//! api: https://forge.example.org/api/v1     # optional: where a forge accepts publishes
//! keys: ["ssh-ed25519 AAAA… openent-2026"]   # optional: public keys of its signatures
//! mirrors:                                   # optional: peers whose namespaces it mirrors
//!   - name: assoc
//!     namespaces: [assoc]
//!     keys: ["ssh-ed25519 AAAA… assoc"]      # the peer's snapshot keys
//! ```
//!
//! A mirror keeps its peer's signed snapshot unchanged at
//! `mirrors/<name>/snapshot.json` and the peer's index files and archives at
//! their usual paths; clients check those index files against the peer's
//! snapshot with the peer's keys (docs/registry.md, "Mirrors").

use std::path::Path;

use crate::manifest::Code;
use crate::manifest::fields::Checker;
use crate::manifest::formats::check_url;
use crate::manifest::load::load_yaml;
use crate::manifest::names::check_part;
use crate::manifest::yaml::{Node, Span};

use super::RegistryError;
use super::signing::PublicKey;

pub const REGISTRY_SCHEMA: &str = "oent/registry/v1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryConfig {
    pub name: String,
    pub namespaces: Vec<String>,
    pub api: Option<String>,
    /// OpenSSH public key lines, each checked to be an Ed25519 key.
    pub keys: Vec<String>,
    /// Peers whose namespaces this registry mirrors.
    pub mirrors: Vec<Mirror>,
}

/// A peer registry whose namespaces are mirrored, with the keys that sign
/// its snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    pub name: String,
    pub namespaces: Vec<String>,
    pub keys: Vec<PublicKey>,
}

impl Mirror {
    /// Where the mirror keeps the peer's own signed snapshot.
    pub fn snapshot_path(&self) -> String {
        mirror_snapshot_path(&self.name)
    }
}

/// Where a registry keeps the signed snapshot of registry `name` it
/// mirrors, relative to its root.
pub fn mirror_snapshot_path(name: &str) -> String {
    format!("mirrors/{name}/{}", super::SNAPSHOT_FILE)
}

impl RegistryConfig {
    /// A new registry's configuration: its name and the namespaces it
    /// owns, no API, no keys, no mirrors yet.
    pub fn owning(name: &str, namespaces: &[&str]) -> RegistryConfig {
        RegistryConfig {
            name: name.to_owned(),
            namespaces: namespaces.iter().map(|n| n.to_string()).collect(),
            api: None,
            keys: Vec::new(),
            mirrors: Vec::new(),
        }
    }

    pub fn load(path: &Path) -> Result<RegistryConfig, RegistryError> {
        checked(path, load_yaml(path, parse)?)
    }

    /// Parses the bytes of a `registry.yaml` read from elsewhere (a web
    /// server, a file just checked against a snapshot); messages name `label`.
    pub fn from_bytes(label: &Path, bytes: &[u8]) -> Result<RegistryConfig, RegistryError> {
        checked(
            label,
            crate::manifest::load::load_yaml_bytes(label, bytes.to_vec(), parse),
        )
    }

    pub fn owns(&self, namespace: &str) -> bool {
        self.namespaces.iter().any(|n| n == namespace)
    }

    /// The peer whose namespace this registry mirrors, if any.
    pub fn mirror_of(&self, namespace: &str) -> Option<&Mirror> {
        self.mirrors
            .iter()
            .find(|m| m.namespaces.iter().any(|n| n == namespace))
    }

    /// Whether the registry may serve modules of `namespace`: it owns it
    /// or mirrors it. It is believed about nothing else.
    pub fn serves(&self, namespace: &str) -> bool {
        self.owns(namespace) || self.mirror_of(namespace).is_some()
    }

    /// What the registry owns and mirrors, in words, for messages:
    /// "`openent` owns openent; mirrors assoc".
    pub fn served_in_words(&self) -> String {
        let list = |names: Vec<&str>| match names.is_empty() {
            true => "nothing".to_owned(),
            false => names.join(", "),
        };
        let mirrored = self
            .mirrors
            .iter()
            .flat_map(|m| m.namespaces.iter().map(String::as_str))
            .collect();
        format!(
            "`{}` owns {}; mirrors {}",
            self.name,
            list(self.namespaces.iter().map(String::as_str).collect()),
            list(mirrored)
        )
    }

    /// The registry's own keys, parsed (they were checked when loaded).
    pub fn public_keys(&self) -> Vec<PublicKey> {
        self.keys
            .iter()
            .filter_map(|k| PublicKey::parse(k).ok())
            .collect()
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
        if !self.mirrors.is_empty() {
            text.push_str("mirrors:\n");
            for mirror in &self.mirrors {
                text.push_str(&format!(
                    "  - name: {}\n    namespaces: [{}]\n    keys:\n",
                    mirror.name,
                    mirror.namespaces.join(", ")
                ));
                for key in &mirror.keys {
                    text.push_str(&format!(
                        "      - \"{}\"\n",
                        key.to_openssh().replace('"', "")
                    ));
                }
            }
        }
        text
    }
}

/// The configuration, or every problem found in it.
fn checked(
    path: &Path,
    loaded: crate::manifest::Loaded<RegistryConfig>,
) -> Result<RegistryConfig, RegistryError> {
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

fn parse(checker: &mut Checker, root: &Node) -> Option<RegistryConfig> {
    let fields = checker.map(
        root,
        "",
        Span::default(),
        &["schema", "name", "namespaces", "api", "keys", "mirrors"],
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
        .and_then(|n| namespace_list(checker, n, "namespaces"));
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
        .and_then(|n| key_list(checker, n, "keys"))
        .map(|k| k.into_iter().map(|(line, _)| line).collect())
        .unwrap_or_default();
    let mirrors = fields
        .get("mirrors")
        .map(|n| mirrors(checker, n, namespaces.as_deref().unwrap_or_default()))
        .unwrap_or_default();
    Some(RegistryConfig {
        name: name?,
        namespaces: namespaces?,
        api,
        keys,
        mirrors,
    })
}

fn namespace_list(checker: &mut Checker, node: &Node, key: &str) -> Option<Vec<String>> {
    let list = checker.strings(node, key)?;
    Some(
        list.into_iter()
            .filter_map(|(ns, span)| {
                check_part(&ns, "namespace")
                    .map_err(|e| {
                        checker.report(
                            Code::InvalidName,
                            span,
                            key,
                            e,
                            "namespaces are lowercase words",
                        )
                    })
                    .ok()
                    .map(|()| ns)
            })
            .collect(),
    )
}

/// OpenSSH public key lines, each parsed; bad ones are reported.
fn key_list(checker: &mut Checker, node: &Node, key: &str) -> Option<Vec<(String, PublicKey)>> {
    let list = checker.strings(node, key)?;
    Some(
        list.into_iter()
            .filter_map(|(line, span)| match PublicKey::parse(&line) {
                Ok(parsed) => Some((line, parsed)),
                Err(e) => {
                    checker.report(
                        Code::InvalidValue,
                        span,
                        key,
                        e.to_string(),
                        "copy the line of the key's .pub file (`oent key new` prints it)",
                    );
                    None
                }
            })
            .collect(),
    )
}

fn mirrors(checker: &mut Checker, node: &Node, owned: &[String]) -> Vec<Mirror> {
    let mut out: Vec<Mirror> = Vec::new();
    let Some(items) = checker.seq(node, "mirrors") else {
        return out;
    };
    for (i, item) in items.iter().enumerate() {
        let path = format!("mirrors[{i}]");
        let Some(fields) = checker.map(item, &path, item.span, &["name", "namespaces", "keys"])
        else {
            continue;
        };
        let name = fields.required(checker, "name", "openent").and_then(|n| {
            let s = checker.string(n, &fields.key("name"))?;
            let problem = check_part(&s, "mirror name").err().or_else(|| {
                out.iter()
                    .any(|m| m.name == s)
                    .then(|| format!("mirror `{s}` is listed twice"))
            });
            match problem {
                Some(e) => {
                    checker.report(
                        Code::InvalidName,
                        n.span,
                        &fields.key("name"),
                        e,
                        "name each mirrored peer once, by its registry name",
                    );
                    None
                }
                None => Some(s),
            }
        });
        let namespaces = fields
            .required(checker, "namespaces", "[openent]")
            .and_then(|n| {
                let list = namespace_list(checker, n, &fields.key("namespaces"))?;
                for ns in &list {
                    let problem = if owned.contains(ns) {
                        Some(format!(
                            "namespace `{ns}` is owned by this registry: it cannot mirror it too"
                        ))
                    } else {
                        out.iter().find(|m| m.namespaces.contains(ns)).map(|m| {
                            format!("namespace `{ns}` is already mirrored from `{}`", m.name)
                        })
                    };
                    if let Some(problem) = problem {
                        checker.report(
                            Code::InvalidValue,
                            n.span,
                            &fields.key("namespaces"),
                            problem,
                            "a namespace belongs to one registry: mirror it from that one only",
                        );
                        return None;
                    }
                }
                non_empty(
                    checker,
                    list,
                    n,
                    &fields.key("namespaces"),
                    (
                        "the namespaces it mirrors",
                        "write the peer's namespaces, e.g. `[openent]`",
                    ),
                )
            });
        let keys = fields
            .required(checker, "keys", "[\"ssh-ed25519 AAAA…\"]")
            .and_then(|n| {
                let list = key_list(checker, n, &fields.key("keys"))?;
                let list = non_empty(
                    checker,
                    list,
                    n,
                    &fields.key("keys"),
                    (
                        "the keys of its peer's snapshot",
                        "copy the `keys:` of the peer's registry.yaml",
                    ),
                )?;
                Some(list.into_iter().map(|(_, key)| key).collect())
            });
        if let (Some(name), Some(namespaces), Some(keys)) = (name, namespaces, keys) {
            out.push(Mirror {
                name,
                namespaces,
                keys,
            });
        }
    }
    out
}

/// `list`, or a report that a mirror must list `what` (and `None`) when it is empty.
fn non_empty<T>(
    checker: &mut Checker,
    list: Vec<T>,
    node: &Node,
    key: &str,
    (what, help): (&str, &str),
) -> Option<Vec<T>> {
    if list.is_empty() {
        checker.report(
            Code::InvalidValue,
            node.span,
            key,
            format!("a mirror must list {what}"),
            help,
        );
        return None;
    }
    Some(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::signing::SecretKey;

    fn load(text: &str) -> Result<RegistryConfig, RegistryError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.yaml");
        std::fs::write(&path, text).unwrap();
        RegistryConfig::load(&path)
    }

    fn messages(err: RegistryError) -> String {
        match err {
            RegistryError::InvalidConfig { diagnostics, .. } => diagnostics
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn mirrors_round_trip() {
        let peer = SecretKey::generate("assoc").public();
        let own = SecretKey::generate("dep").public().to_openssh();
        let config = RegistryConfig {
            name: "dep".into(),
            namespaces: vec!["dep".into()],
            api: None,
            keys: vec![own],
            mirrors: vec![Mirror {
                name: "assoc".into(),
                namespaces: vec!["assoc".into(), "tools".into()],
                keys: vec![peer.clone()],
            }],
        };
        let loaded = load(&config.to_yaml()).unwrap();
        assert_eq!(loaded, config);
        assert_eq!(loaded.mirror_of("tools").unwrap().keys, [peer]);
        assert!(loaded.mirror_of("dep").is_none());
        assert_eq!(loaded.public_keys().len(), 1);
        assert_eq!(
            loaded.mirrors[0].snapshot_path(),
            "mirrors/assoc/snapshot.json"
        );
    }

    #[test]
    fn bad_keys_and_mirrors_are_reported() {
        let text = messages(
            load(
                "schema: oent/registry/v1\nname: dep\nnamespaces: [dep]\nkeys: [\"ssh-ed25519 nope\"]\n\
                 mirrors:\n  - { name: assoc, namespaces: [dep], keys: [\"x\"] }\n  - { name: Bad, namespaces: [], keys: [] }\n",
            )
            .unwrap_err(),
        );
        for expected in [
            "`ssh-ed25519 nope` is not an OpenSSH public key",
            "namespace `dep` is owned by this registry",
            "`x` is not an OpenSSH public key",
            "mirror name",
            "must list the namespaces",
            "must list the keys",
        ] {
            assert!(text.contains(expected), "{expected:?} not in:\n{text}");
        }
    }
}

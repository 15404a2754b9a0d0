//! Parsing one `distribution.yaml` into a [`Distribution`]: every key
//! checked where it is written, every problem collected. Values stay
//! untyped here ([`ValueSetting`]): their types are known only with the
//! modules (`values.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::etablissements::etablissements;
use super::scale::parse_scale;
use super::{
    COLLECTIVITE_TYPES, CapabilityRequest, Collectivite, DISTRIBUTION_FILE, DISTRIBUTION_KEYS,
    DISTRIBUTION_SCHEMA, Distribution, LICENCE_POLICIES, LicenceSection, ModuleRequest,
    RegistryLocation, RegistrySpec, Target,
};
use crate::manifest::diagnostic::Code;
use crate::manifest::etablissement::{self, ConfigByModule, Origin, ValueSetting};
use crate::manifest::fields::{Checker, Fields, describe};
use crate::manifest::formats;
use crate::manifest::module::{check_schema, module_name, version};
use crate::manifest::names::{self, ModuleName, check_part};
use crate::manifest::settings::parse_settings;
use crate::manifest::yaml::{Key, Node, NodeKind, Span};

pub(super) fn parse_distribution(checker: &mut Checker, root: &Node) -> Option<Distribution> {
    let fields = checker.map(root, "", Span::default(), DISTRIBUTION_KEYS)?;
    check_schema(checker, &fields, DISTRIBUTION_SCHEMA);
    let name = fields
        .required(checker, "name", "region/ent")
        .and_then(|n| module_name(checker, n, "name"));
    let version = fields
        .required(checker, "version", "2026.1.0")
        .and_then(|n| version(checker, n, "version"));
    let collectivite = fields
        .get("collectivite")
        .and_then(|n| collectivite(checker, n, key_span(&fields, "collectivite")));
    let dir = checker
        .source
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let extends = fields.get("extends").and_then(|n| {
        let text = checker.string(n, "extends")?;
        let mut path = crate::fsutil::normalize(&dir.join(&text));
        if path.is_dir() || text.ends_with('/') {
            path = path.join(DISTRIBUTION_FILE);
        }
        Some((path, Origin::new(checker.source, n.span)))
    });
    let registries = fields
        .get("registries")
        .map(|n| registries(checker, n))
        .unwrap_or_default();
    let (modules, capabilities) = fields
        .get("modules")
        .map(|n| modules(checker, n))
        .unwrap_or_default();
    let settings = fields
        .get("settings")
        .map(|n| parse_settings(checker, n, key_span(&fields, "settings")))
        .unwrap_or_default();
    let etablissements = fields
        .get("etablissements")
        .map(|n| etablissements(checker, n, &dir));
    if let Some(list) = &etablissements {
        etablissement::check_unique(
            list,
            &mut checker.diagnostics,
            &std::iter::once(checker.source)
                .chain(&checker.extra_sources)
                .collect::<Vec<_>>(),
        );
    }
    let target = fields
        .get("target")
        .and_then(|n| checker.one_of(n, "target", &["compose", "kubernetes"]))
        .map(|t| match t {
            "kubernetes" => Target::Kubernetes,
            _ => Target::Compose,
        });
    let licence = fields
        .get("licence")
        .and_then(|n| licence_section(checker, n, key_span(&fields, "licence")));
    let scale = fields
        .get("scale")
        .and_then(|n| parse_scale(checker, n, key_span(&fields, "scale")));
    // Returned even with errors elsewhere in the file, so that lint can go on
    // checking values and bases; `Loaded::into_valid` withholds it from real work.
    Some(Distribution {
        manifest_path: checker.source.path.clone(),
        name: name?,
        version: version?,
        collectivite,
        extends,
        registries,
        modules,
        capabilities,
        settings,
        etablissements,
        target,
        licence,
        scale,
    })
}

fn licence_section(checker: &mut Checker, node: &Node, anchor: Span) -> Option<LicenceSection> {
    let fields = checker.map(node, "licence", anchor, &["policy", "allow", "deny"])?;
    let policy = fields
        .get("policy")
        .and_then(|n| checker.one_of(n, "licence.policy", LICENCE_POLICIES));
    let mut list = |key: &str| -> Vec<(String, Origin)> {
        let path = format!("licence.{key}");
        let Some(items) = fields.get(key).and_then(|n| checker.strings(n, &path)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (text, span) in items {
            match crate::manifest::module::single_licence(&text) {
                Ok(()) => out.push((text, Origin::new(checker.source, span))),
                Err((message, help)) => {
                    checker.report(Code::InvalidLicence, span, &path, message, help);
                }
            }
        }
        out
    };
    let allow = list("allow");
    let deny = list("deny");
    Some(LicenceSection {
        policy,
        allow,
        deny,
    })
}

fn key_span(fields: &Fields, name: &str) -> Span {
    fields
        .entries()
        .iter()
        .find(|(k, _)| k.name == name)
        .map_or(Span::default(), |(k, _)| k.span)
}

fn collectivite(checker: &mut Checker, node: &Node, anchor: Span) -> Option<Collectivite> {
    let fields = checker.map(node, "collectivite", anchor, &["nom", "type", "siren"])?;
    let nom = fields
        .required(checker, "nom", "Région Île-de-France")
        .and_then(|n| checker.string(n, "collectivite.nom"));
    let kind = fields
        .required(checker, "type", &COLLECTIVITE_TYPES.join("|"))
        .and_then(|n| checker.one_of(n, "collectivite.type", COLLECTIVITE_TYPES));
    let siren = fields.get("siren").and_then(|n| {
        let s = match &n.kind {
            NodeKind::Int(i) => i.to_string(),
            _ => checker.string(n, "collectivite.siren")?,
        };
        if s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit()) {
            Some(s)
        } else {
            checker.report(
                Code::InvalidValue,
                n.span,
                "collectivite.siren",
                format!("`{s}` is not a SIREN number (9 digits)"),
                "write the 9 digits, quoted: \"237500079\"",
            );
            None
        }
    });
    Some(Collectivite {
        nom: nom?,
        kind: kind?,
        siren,
    })
}

/// `key:`: one OpenSSH public key line or a list of them (several during a
/// key rotation). Only their shape is checked here; `registry/` parses them.
fn pinned_keys(checker: &mut Checker, node: &Node, key: &str) -> Vec<String> {
    let lines = match &node.kind {
        NodeKind::Seq(_) => checker.strings(node, key).unwrap_or_default(),
        _ => checker
            .string(node, key)
            .map(|s| vec![(s, node.span)])
            .unwrap_or_default(),
    };
    let mut keys = Vec::new();
    for (line, span) in lines {
        let mut words = line.split_whitespace();
        let shape_ok = words.next() == Some("ssh-ed25519")
            && words.next().is_some_and(|b| {
                b.starts_with("AAAAC3NzaC1lZDI1NTE5")
                    && b.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
            });
        if shape_ok {
            keys.push(line);
        } else {
            checker.report(
                Code::InvalidValue,
                span,
                key,
                format!("`{key}` is not an OpenSSH Ed25519 public key"),
                "copy the registry's key line, `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5…` (its maintainers publish it; `oent key new` prints it)",
            );
        }
    }
    if keys.is_empty() && matches!(node.kind, NodeKind::Seq(_)) && !checker.has_errors() {
        checker.report(
            Code::InvalidValue,
            node.span,
            key,
            format!("`{key}` is an empty list"),
            "list at least one key, or remove `key:` for an unsigned registry",
        );
    }
    keys
}

fn registries(checker: &mut Checker, node: &Node) -> Vec<RegistrySpec> {
    let mut out: Vec<RegistrySpec> = Vec::new();
    let Some(items) = checker.seq(node, "registries") else {
        return out;
    };
    for (i, item) in items.iter().enumerate() {
        let path = format!("registries[{i}]");
        let Some(fields) = checker.map(item, &path, item.span, &["name", "url", "path", "key"])
        else {
            continue;
        };
        let name = fields.required(checker, "name", "openent").and_then(|n| {
            let s = checker.string(n, &fields.key("name"))?;
            check_part(&s, "registry name")
                .map_err(|e| {
                    checker.report(
                        Code::InvalidName,
                        n.span,
                        &fields.key("name"),
                        e,
                        "registry names are lowercase words, e.g. `openent`",
                    )
                })
                .ok()?;
            if out.iter().any(|r| r.name == s) {
                checker.report(
                    Code::InvalidValue,
                    n.span,
                    &fields.key("name"),
                    format!("registry `{s}` is listed twice"),
                    "give each registry its own name",
                );
            }
            Some(s)
        });
        let location = match (fields.get("url"), fields.get("path")) {
            (Some(u), None) => checker.string(u, &fields.key("url")).and_then(|s| {
                formats::check_url(&s)
                    .map_err(|e| {
                        checker.report(
                            Code::InvalidValue,
                            u.span,
                            &fields.key("url"),
                            e,
                            "write the registry's base URL",
                        )
                    })
                    .ok()?;
                Some(RegistryLocation::Url(s))
            }),
            (None, Some(p)) => checker
                .string(p, &fields.key("path"))
                .map(|s| RegistryLocation::Path(PathBuf::from(s))),
            _ => {
                checker.report(
                    Code::InvalidValue,
                    item.span,
                    &path,
                    "a registry needs exactly one of `url` or `path`",
                    "keep `url:` for a remote registry or `path:` for a directory",
                );
                None
            }
        };
        let keys = fields
            .get("key")
            .map(|n| pinned_keys(checker, n, &fields.key("key")))
            .unwrap_or_default();
        if let (Some(name), Some(location)) = (name, location) {
            out.push(RegistrySpec {
                name,
                location,
                keys,
                origin: Origin::new(checker.source, item.span),
            });
        }
    }
    out
}

type Requests = (
    BTreeMap<ModuleName, ModuleRequest>,
    BTreeMap<String, CapabilityRequest>,
);

fn modules(checker: &mut Checker, node: &Node) -> Requests {
    let mut out = BTreeMap::new();
    let mut capabilities = BTreeMap::new();
    let Some(entries) = checker.entries(node, "modules") else {
        return (out, capabilities);
    };
    for (k, v) in entries {
        let path = format!("modules.{}", k.name);
        if !k.name.contains('/') && check_part(&k.name, "capability").is_ok() {
            let req = match &v.kind {
                NodeKind::Str(_) => requirement(checker, v, &path),
                _ => {
                    checker.report(Code::InvalidRequirement, v.span, &path, format!("`{path}` names a capability: expected a requirement string such as \"*\", found {}", describe(v)), "to set values, name the module that provides the capability instead");
                    None
                }
            };
            if let Some(req) = req {
                capabilities.insert(
                    k.name.clone(),
                    CapabilityRequest {
                        capability: k.name.clone(),
                        req,
                        origin: Origin::new(checker.source, k.span),
                    },
                );
            }
            continue;
        }
        let name = k.name.parse::<ModuleName>().map_err(|e| {
            checker.report(
                Code::InvalidName,
                k.span,
                &path,
                e,
                "modules are keyed by `namespace/name` (or a capability such as `messagerie`)",
            )
        });
        let request = match &v.kind {
            NodeKind::Str(_) => {
                requirement(checker, v, &path).map(|req| (req, Vec::new(), BTreeMap::new()))
            }
            NodeKind::Map(_) => module_entry(checker, k, v, &path),
            _ => {
                checker.report(Code::InvalidRequirement, v.span, &path, format!("`{path}`: expected a requirement like \"^2.3\" or a mapping with `version`, found {}", describe(v)), "write `\"^2.3\"` or `{ version: \"^2.3\", config: { … } }`");
                None
            }
        };
        if let (Ok(name), Some((req, features, config))) = (name, request) {
            let origin = Origin::new(checker.source, k.span);
            out.insert(
                name.clone(),
                ModuleRequest {
                    name,
                    req,
                    features,
                    config,
                    origin,
                },
            );
        }
    }
    (out, capabilities)
}

type Entry = (
    semver::VersionReq,
    Vec<(String, Origin)>,
    BTreeMap<String, ValueSetting>,
);

fn module_entry(checker: &mut Checker, key: &Key, node: &Node, path: &str) -> Option<Entry> {
    let fields = checker.map(node, path, key.span, &["version", "features", "config"])?;
    let req = fields
        .required(checker, "version", "\"^1.0\"")
        .and_then(|n| requirement(checker, n, &fields.key("version")));
    let features = fields
        .get("features")
        .and_then(|n| checker.strings(n, &fields.key("features")))
        .unwrap_or_default()
        .into_iter()
        .map(|(f, span)| (f, Origin::new(checker.source, span)))
        .collect();
    let config = fields
        .get("config")
        .map(|n| values(checker, n, &fields.key("config")))
        .unwrap_or_default();
    Some((req?, features, config))
}

fn requirement(checker: &mut Checker, node: &Node, key: &str) -> Option<semver::VersionReq> {
    let text = match &node.kind {
        NodeKind::Str(s) => s.clone(),
        _ => {
            checker.report(
                Code::InvalidRequirement,
                node.span,
                key,
                format!(
                    "`{key}`: expected a requirement string, found {}",
                    describe(node)
                ),
                "quote the requirement: \"^1.2\"",
            );
            return None;
        }
    };
    names::parse_requirement(&text)
        .map_err(|e| {
            checker.report(
                Code::InvalidRequirement,
                node.span,
                key,
                e,
                "use cargo's requirement syntax",
            )
        })
        .ok()
}

/// `option: value` pairs, kept untyped until the module is known.
fn values(checker: &mut Checker, node: &Node, path: &str) -> BTreeMap<String, ValueSetting> {
    let mut out = BTreeMap::new();
    if let Some(entries) = checker.entries(node, path) {
        for (k, v) in entries {
            out.insert(
                k.name.clone(),
                ValueSetting {
                    node: v.clone(),
                    origin: Origin::new(checker.source, v.span),
                },
            );
        }
    }
    out
}

/// `module: { option: value }` per module.
pub(super) fn module_values(checker: &mut Checker, node: &Node, path: &str) -> ConfigByModule {
    let mut out = ConfigByModule::new();
    if let Some(entries) = checker.entries(node, path) {
        for (k, v) in entries {
            let key = format!("{path}.{}", k.name);
            match k.name.parse::<ModuleName>() {
                Ok(name) => {
                    out.insert(name, values(checker, v, &key));
                }
                Err(e) => checker.report(
                    Code::InvalidName,
                    k.span,
                    &key,
                    e,
                    "overrides are keyed by module name, then option",
                ),
            }
        }
    }
    out
}

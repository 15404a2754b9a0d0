//! `distribution.yaml`: a collectivité's choice of modules, values and
//! établissements, possibly extending a base (a groupement de commandes).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::diagnostic::{Code, Diagnostic, suggest};
use super::etablissement::{
    self, Etablissement, ModuleValues, Origin, RawEtablissement, ValueSetting, node_str,
};
use super::fields::{Checker, Fields, describe};
use super::formats;
use super::load::{Loaded, ReadError, load_yaml};
use super::module::{Module, check_schema, module_name, version};
use super::names::{self, ModuleName, check_part};
use super::option::{OptionType, Scope, secret_reference};
use super::settings::parse_settings;
use super::yaml::{Key, Node, NodeKind, Span};

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
        load_yaml(path, parse_distribution)
    }
}

fn parse_distribution(checker: &mut Checker, root: &Node) -> Option<Distribution> {
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
            match super::module::single_licence(&text) {
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
fn module_values(checker: &mut Checker, node: &Node, path: &str) -> ModuleValues {
    let mut out = ModuleValues::new();
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

fn etablissements(checker: &mut Checker, node: &Node, dir: &Path) -> Vec<Etablissement> {
    match &node.kind {
        NodeKind::Seq(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| inline_etablissement(checker, item, i))
            .collect(),
        NodeKind::Map(_) => {
            let Some(fields) =
                checker.map(node, "etablissements", node.span, &["file", "overrides"])
            else {
                return Vec::new();
            };
            let Some(file_node) = fields.required(checker, "file", "etablissements.csv") else {
                return Vec::new();
            };
            let Some(file) = checker.string(file_node, "etablissements.file") else {
                return Vec::new();
            };
            let mut list = etablissement::read_csv(checker, &dir.join(&file), file_node);
            if let Some(overrides) = fields.get("overrides") {
                apply_overrides(checker, overrides, &mut list);
            }
            list
        }
        _ => {
            checker.wrong_type(
                node,
                "etablissements",
                "a list of établissements or `{ file: etablissements.csv }`",
            );
            Vec::new()
        }
    }
}

fn apply_overrides(checker: &mut Checker, node: &Node, list: &mut [Etablissement]) {
    let Some(entries) = checker.entries(node, "etablissements.overrides") else {
        return;
    };
    for (k, v) in entries {
        let path = format!("etablissements.overrides.{}", k.name);
        match list.iter_mut().find(|e| e.uai == k.name) {
            Some(etab) => etab.config = module_values(checker, v, &path),
            None => {
                let help = match formats::check_uai(&k.name) {
                    Err(e) => e,
                    Ok(()) => {
                        "add the établissement to the CSV file, or remove this override".into()
                    }
                };
                checker.report(
                    Code::InvalidEtablissement,
                    k.span,
                    &path,
                    format!(
                        "override for UAI `{}`, which is not in the établissements list",
                        k.name
                    ),
                    help,
                );
            }
        }
    }
}

fn inline_etablissement(checker: &mut Checker, item: &Node, i: usize) -> Option<Etablissement> {
    let path = format!("etablissements[{i}]");
    let fields = checker.map(item, &path, item.span, etablissement::INLINE_KEYS)?;
    let text = |name: &str| fields.get(name).and_then(node_str);
    // Non-string scalars (a UAI or département written as a number) are type errors.
    let mut mistyped = Vec::new();
    for name in ["uai", "nom", "type", "commune", "departement", "secteur"] {
        if let Some(n) = fields.get(name)
            && n.kind != NodeKind::Null
            && node_str(n).is_none()
        {
            checker.wrong_type(
                n,
                &fields.key(name),
                "a string (quote codes such as \"044\")",
            );
            mistyped.push(name);
        }
    }
    let raw = RawEtablissement {
        uai: text("uai"),
        nom: text("nom"),
        kind: text("type"),
        commune: text("commune"),
        departement: text("departement"),
        secteur: text("secteur"),
    };
    let mut problems = Vec::new();
    let validated = etablissement::validate(&raw, |code, field, message, help| {
        problems.push((code, field.to_owned(), message, help))
    });
    // A mistyped field was reported above; do not also call it missing.
    for (code, field, message, help) in problems
        .into_iter()
        .filter(|p| !mistyped.contains(&p.1.as_str()))
    {
        let span = fields.get(&field).map_or(item.span, |n| n.span);
        checker.report(code, span, &fields.key(&field), message, help);
    }
    let config = fields
        .get("config")
        .map(|n| module_values(checker, n, &fields.key("config")))
        .unwrap_or_default();
    let extra = fields
        .get("extra")
        .map(|n| inline_extra(checker, n, &fields.key("extra")))
        .unwrap_or_default();
    let (uai, nom, kind, commune, departement, secteur) = validated?;
    let span = fields.get("uai").map_or(item.span, |n| n.span);
    Some(Etablissement {
        uai,
        nom,
        kind,
        commune,
        departement,
        secteur,
        config,
        extra,
        origin: Origin::new(checker.source, span),
    })
}

/// An inline établissement's `extra`: name → string, the same names a CSV's
/// extra columns may take.
fn inline_extra(checker: &mut Checker, node: &Node, path: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(entries) = checker.entries(node, path) else {
        return out;
    };
    for (k, v) in entries {
        let key = format!("{path}.{}", k.name);
        if let Err(e) = etablissement::check_extra_name(&k.name) {
            checker.report(
                Code::InvalidEtablissement,
                k.span,
                &key,
                e,
                "rename the key, e.g. `vague` or `bassin_emploi`",
            );
            continue;
        }
        if let Some(value) = checker.string(v, &key) {
            out.insert(k.name.clone(), value);
        }
    }
    out
}

/// A distribution and the bases it extends, base first.
#[derive(Debug, Clone)]
pub struct DistributionChain {
    pub layers: Vec<Distribution>,
}

impl DistributionChain {
    /// The distribution the user named (the last layer).
    pub fn top(&self) -> &Distribution {
        self.layers.last().expect("a chain has at least one layer")
    }

    /// Loads a distribution and follows `extends` until a file without it.
    /// A missing base or a cycle is a diagnostic on the `extends` line.
    pub fn load(path: &Path) -> Result<Loaded<DistributionChain>, ReadError> {
        let mut layers: Vec<Distribution> = Vec::new();
        let mut diagnostics = Vec::new();
        let mut sources = Vec::new();
        let mut seen: Vec<PathBuf> = Vec::new();
        let mut next = Some((path.to_path_buf(), None::<Origin>));
        while let Some((path, asked_by)) = next.take() {
            let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
            if let Some(origin) = &asked_by {
                if !path.is_file() {
                    diagnostics.push(at_origin(Code::ExtendsMissing, origin, format!("`extends` names `{}`, which does not exist", path.display())).key("extends").help("correct the path (relative to this distribution's directory) or remove `extends`"));
                    break;
                }
                if let Some(pos) = seen.iter().position(|p| *p == canonical) {
                    let cycle: Vec<String> = seen[pos..]
                        .iter()
                        .chain(std::iter::once(&canonical))
                        .map(|p| p.display().to_string())
                        .collect();
                    diagnostics.push(
                        at_origin(
                            Code::ExtendsCycle,
                            origin,
                            format!("`extends` makes a cycle: {}", cycle.join(" → ")),
                        )
                        .key("extends")
                        .help("a base distribution must not extend the distributions built on it"),
                    );
                    break;
                }
            }
            seen.push(canonical);
            let loaded = match Distribution::load(&path) {
                Ok(loaded) => loaded,
                Err(e) if asked_by.is_some() => {
                    let origin = asked_by.as_ref().expect("checked");
                    diagnostics.push(
                        at_origin(Code::ExtendsMissing, origin, e.to_string()).key("extends"),
                    );
                    break;
                }
                Err(e) => return Err(e),
            };
            diagnostics.extend(loaded.diagnostics);
            sources.extend(loaded.sources);
            let Some(distribution) = loaded.value else {
                break;
            };
            next = distribution.extends.clone().map(|(p, o)| (p, Some(o)));
            layers.push(distribution);
        }
        layers.reverse();
        // Kept even with errors (see `Loaded`), so that lint checks values too.
        let value = (!layers.is_empty()).then_some(DistributionChain { layers });
        let collectivite_reported = diagnostics.iter().any(|d| {
            d.key
                .as_deref()
                .is_some_and(|k| k.starts_with("collectivite"))
        });
        if let Some(chain) = &value
            && chain.layers.iter().all(|l| l.collectivite.is_none())
            && !collectivite_reported
        {
            let top = chain.top();
            diagnostics.push(
                Diagnostic::new(
                    Code::MissingKey,
                    &top.manifest_path,
                    "no `collectivite` in this distribution nor in the ones it extends",
                )
                .key("collectivite")
                .help("add `collectivite: { nom: …, type: region }`"),
            );
        }
        Ok(Loaded {
            value,
            diagnostics,
            sources,
        })
    }

    /// The établissements in force: the nearest layer that sets them.
    pub fn etablissements(&self) -> &[Etablissement] {
        self.layers
            .iter()
            .rev()
            .find_map(|l| l.etablissements.as_deref())
            .unwrap_or(&[])
    }

    /// Capabilities asked for by some layer, the nearest layer winning.
    pub fn capability_requests(&self) -> BTreeMap<&str, &CapabilityRequest> {
        self.layers
            .iter()
            .flat_map(|l| l.capabilities.iter().map(|(k, v)| (k.as_str(), v)))
            .collect()
    }

    /// The registries in force: the nearest layer that lists some, with
    /// `path:` locations resolved against that layer's directory.
    pub fn registries(&self) -> Vec<RegistrySpec> {
        let Some(layer) = self.layers.iter().rev().find(|l| !l.registries.is_empty()) else {
            return Vec::new();
        };
        layer
            .registries
            .iter()
            .map(|r| RegistrySpec {
                location: match &r.location {
                    RegistryLocation::Path(p) => {
                        RegistryLocation::Path(crate::fsutil::normalize(&layer.dir().join(p)))
                    }
                    url => url.clone(),
                },
                ..r.clone()
            })
            .collect()
    }

    /// The licence section in force: the nearest layer that has one.
    pub fn licence(&self) -> Option<&LicenceSection> {
        self.layers.iter().rev().find_map(|l| l.licence.as_ref())
    }

    /// Every module asked for by some layer, the nearest layer's request winning.
    pub fn module_requests(&self) -> BTreeMap<&ModuleName, &ModuleRequest> {
        let mut out = BTreeMap::new();
        for layer in &self.layers {
            for (name, request) in &layer.modules {
                out.insert(name, request);
            }
        }
        out
    }
}

pub fn at_origin(code: Code, origin: &Origin, message: impl Into<String>) -> Diagnostic {
    let mut d = Diagnostic::new(code, &origin.path, message);
    d.position = Some(super::diagnostic::Position {
        span: origin.span,
        line: origin.line,
        column: origin.column,
    });
    d
}

/// Checks every value a distribution chain sets against the modules that
/// declare the options; `find` looks a module up (the local catalogue at lint
/// time, the resolved modules at build time).
pub fn check_values<'m>(
    chain: &DistributionChain,
    find: impl Fn(&ModuleName) -> Option<&'m Module>,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for layer in &chain.layers {
        for (name, request) in &layer.modules {
            let Some(module) = find(name) else {
                diagnostics.push(at_origin(Code::ModuleNotFound, &request.origin, format!("module `{name}` is not in the local catalogue; its values are not checked")).key(format!("modules.{name}")).help("check the name; lint from the repository that holds modules/, or resolve the distribution (oent.lock) so that lint reads its modules from the registries"));
                continue;
            };
            for (feature, origin) in &request.features {
                if !module.features.contains_key(feature) {
                    let help = match suggest(feature, module.features.keys().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!(
                            "`{name}` has features: {}",
                            module
                                .features
                                .keys()
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    diagnostics.push(
                        at_origin(
                            Code::InvalidValue,
                            origin,
                            format!("`{name}` has no feature `{feature}`"),
                        )
                        .key(format!("modules.{name}.features"))
                        .help(help),
                    );
                }
            }
            for (option, value) in &request.config {
                check_value(
                    module,
                    option,
                    value,
                    &format!("modules.{name}.config.{option}"),
                    false,
                    &mut diagnostics,
                );
            }
        }
        for etab in layer.etablissements.iter().flatten() {
            for (name, values) in &etab.config {
                let Some(module) = find(name) else {
                    let origin = values.values().next().map_or(&etab.origin, |v| &v.origin);
                    diagnostics.push(at_origin(Code::ModuleNotFound, origin, format!("module `{name}` is not in the local catalogue; the overrides of {} are not checked", etab.uai)));
                    continue;
                };
                for (option, value) in values {
                    check_value(
                        module,
                        option,
                        value,
                        &format!("{}.{name}.{option}", etab.uai),
                        true,
                        &mut diagnostics,
                    );
                }
            }
        }
    }
    diagnostics
}

fn check_value(
    module: &Module,
    option: &str,
    value: &ValueSetting,
    key: &str,
    per_etablissement: bool,
    out: &mut Vec<Diagnostic>,
) {
    if let Err(d) = typed_value(module, option, value, key, per_etablissement) {
        out.push(*d);
    }
}

/// The value a distribution sets for a module's option, typed by the
/// option's declaration — or the diagnostic that says why it cannot be:
/// undeclared (E027), not overridable per établissement (E032), a secret in
/// clear (E033), or the wrong type or out of bounds (E028). Lint and build
/// share it, so they can never disagree.
pub fn typed_value(
    module: &Module,
    option: &str,
    value: &ValueSetting,
    key: &str,
    per_etablissement: bool,
) -> Result<Value, Box<Diagnostic>> {
    let Some(decl) = module.config.get(option) else {
        let help = match suggest(option, module.config.keys().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None if module.config.is_empty() => format!("`{}` declares no options", module.name),
            None => format!(
                "`{}` declares: {}",
                module.name,
                module.config.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        };
        return Err(Box::new(
            at_origin(
                Code::UndeclaredValue,
                &value.origin,
                format!("`{}` has no option `{option}`", module.name),
            )
            .key(key)
            .help(help),
        ));
    };
    if per_etablissement && decl.scope != Scope::Etablissement {
        return Err(Box::new(at_origin(Code::NotEtablissementScope, &value.origin, format!("`{}.{option}` cannot be set per établissement", module.name)).key(key).help("set it for the whole distribution under `modules:`, or ask the module to declare `scope: etablissement`")));
    }
    if decl.ty == OptionType::Secret && secret_reference(&value.node).is_none() {
        return Err(Box::new(
            at_origin(
                Code::SecretInClear,
                &value.origin,
                format!(
                    "`{}.{option}` is a secret and must not be written in clear",
                    module.name
                ),
            )
            .key(key)
            .help("write `{ env: VARIABLE_NAME }` and provide the variable at deployment"),
        ));
    }
    decl.check(&value.node).map_err(|e| {
        Box::new(
            at_origin(
                Code::ValueType,
                &value.origin,
                format!("{}.{option}: {e} ({})", module.name, value.origin),
            )
            .key(key)
            .help(decl.doc.as_ref().map_or_else(
                || {
                    format!(
                        "see option `{option}` in the module.yaml of {} {}",
                        module.name, module.version
                    )
                },
                |d| format!("{option}: {d}"),
            )),
        )
    })
}

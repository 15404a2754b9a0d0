//! `module.yaml`: one versioned part of the ENT, its dependencies, typed
//! configuration, templates and service. See docs/formats.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::diagnostic::{Code, Diagnostic};
use super::fields::{Checker, Fields, describe};
use super::formats;
use super::load::{Loaded, ReadError, load_yaml};
use super::names::{self, ModuleName, check_part};
use super::option::ConfigOption;
use super::security;
use super::service;
pub use super::service::Service;
use super::template_check;
pub use super::template_spec::{Each, TemplateSpec};
use super::yaml::{Node, Span};

pub const MODULE_SCHEMA: &str = "oent/module/v1";
pub const MODULE_FILE: &str = "module.yaml";

pub const CATEGORIES: &[&str] = &[
    "socle",
    "pedagogie",
    "vie-scolaire",
    "communication",
    "externe",
];
pub const AUDIENCES: &[&str] = &[
    "eleve",
    "parent",
    "enseignant",
    "direction",
    "personnel",
    "collectivite",
    "entreprise",
];

const MODULE_KEYS: &[&str] = &[
    "schema",
    "name",
    "version",
    "licence",
    "summary",
    "description",
    "category",
    "audiences",
    "repository",
    "homepage",
    "authors",
    "fork-of",
    "requires",
    "optional",
    "conflicts",
    "provides",
    "features",
    "config",
    "templates",
    "service",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    pub name: ModuleName,
    pub req: semver::VersionReq,
    /// The requirement in module.yaml, for explanations.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    /// The module.yaml this was read from.
    pub manifest_path: PathBuf,
    pub name: ModuleName,
    pub version: semver::Version,
    /// SPDX expression, validated.
    pub licence: String,
    pub summary: String,
    pub description: Option<String>,
    pub category: &'static str,
    pub audiences: Vec<&'static str>,
    pub repository: Option<String>,
    pub homepage: Option<String>,
    pub authors: Vec<String>,
    pub fork_of: Option<(ModuleName, semver::Version)>,
    pub requires: BTreeMap<ModuleName, Dependency>,
    pub optional: BTreeMap<ModuleName, Dependency>,
    pub conflicts: BTreeMap<ModuleName, Dependency>,
    pub provides: Vec<String>,
    pub features: BTreeMap<String, Vec<ModuleName>>,
    pub config: BTreeMap<String, ConfigOption>,
    pub templates: Vec<TemplateSpec>,
    pub service: Option<Service>,
}

impl Module {
    pub fn dir(&self) -> &Path {
        self.manifest_path.parent().unwrap_or(Path::new("."))
    }

    /// Reads and validates a module.yaml (and its templates). Every problem
    /// is returned; the module itself only when there is no error.
    pub fn load(path: &Path) -> Result<Loaded<Module>, ReadError> {
        load_yaml(path, parse_module)
    }
}

fn parse_module(checker: &mut Checker, root: &Node) -> Option<Module> {
    let fields = checker.map(root, "", Span::default(), MODULE_KEYS)?;
    check_schema(checker, &fields, MODULE_SCHEMA);
    let name = fields
        .required(checker, "name", "namespace/name")
        .and_then(|n| module_name(checker, n, "name"));
    let version = fields
        .required(checker, "version", "1.0.0")
        .and_then(|n| version(checker, n, "version"));
    let licence = match fields.get("licence") {
        Some(n) => licence(checker, n, "licence"),
        None => {
            let suggestion = ["license", "licenses", "licences"]
                .into_iter()
                .find(|k| fields.get(k).is_some());
            checker.report(
                Code::MissingKey,
                Span::default(),
                "licence",
                "module has no `licence`: without one it cannot be redistributed",
                match suggestion {
                    Some(k) => {
                        format!("rename `{k}` to `licence` (French spelling, as in the CeCILL)")
                    }
                    None => "add `licence: CECILL-2.1` (or the SPDX id of what the module deploys)"
                        .into(),
                },
            );
            None
        }
    };
    let summary = fields
        .required(checker, "summary", "\"one line, in French\"")
        .and_then(|n| checker.string(n, "summary"));
    if let (Some(s), Some(n)) = (&summary, fields.get("summary"))
        && (s.trim().is_empty() || s.chars().count() > 200)
    {
        checker.report(
            Code::InvalidValue,
            n.span,
            "summary",
            "`summary` must be 1 to 200 characters",
            "write one short line; put details in `description`",
        );
    }
    let description = fields
        .get("description")
        .and_then(|n| checker.string(n, "description"));
    let category = fields
        .required(checker, "category", &CATEGORIES.join("|"))
        .and_then(|n| checker.one_of(n, "category", CATEGORIES));
    let audiences = fields
        .required(checker, "audiences", "[eleve, parent, enseignant]")
        .and_then(|n| audiences(checker, n));
    let repository = fields
        .get("repository")
        .and_then(|n| url(checker, n, "repository", formats::check_repository_url));
    let homepage = fields
        .get("homepage")
        .and_then(|n| url(checker, n, "homepage", formats::check_url));
    let authors = fields
        .get("authors")
        .and_then(|n| checker.strings(n, "authors"))
        .map(|v| v.into_iter().map(|(s, _)| s).collect())
        .unwrap_or_default();
    let fork_of = fields.get("fork-of").and_then(|n| fork_of(checker, n));
    let requires = dependencies(checker, &fields, "requires");
    let optional = dependencies(checker, &fields, "optional");
    let conflicts = dependencies(checker, &fields, "conflicts");
    let provides = fields
        .get("provides")
        .map(|n| provides(checker, n))
        .unwrap_or_default();
    let features = fields
        .get("features")
        .map(|n| features(checker, n, &optional))
        .unwrap_or_default();
    let config = fields
        .get("config")
        .map(|n| config(checker, n))
        .unwrap_or_default();
    let templates = fields
        .get("templates")
        .map(|n| templates(checker, n))
        .unwrap_or_default();
    let short_name = name.as_ref().map_or("", |n| n.short_name());
    let service = fields.get("service").and_then(|n| {
        let anchor = fields
            .entries()
            .iter()
            .find(|(k, _)| k.name == "service")
            .map_or(n.span, |(k, _)| k.span);
        let service = service::parse(checker, n, anchor, short_name)?;
        let targets: Vec<String> = templates.iter().map(|t| t.target.clone()).collect();
        service::check_against_module(checker, &service, n, &config, &targets);
        if let Some(login) = &service.login {
            super::login::check_against_module(checker, login, n, &provides, &config);
        }
        security::check_module_secrets(checker, &service, &config);
        Some(service)
    });

    if let Some(name) = &name {
        check_dependency_sets(checker, name, &requires, &optional, &conflicts);
        if repository.is_none() && fields.get("repository").is_none() {
            checker.diagnostics.push(
                Diagnostic::warning(Code::MissingRepository, &checker.source.path, format!("module `{name}` has no `repository`"))
                    .at(checker.source, Span::default())
                    .key("repository")
                    .help("add `repository: https://…/…git` so that modifications can be reversed upstream"),
            );
        }
    }

    // Templates are checked even when the manifest has other errors, so that
    // one run reports everything; they need only the options and the path.
    let dir = checker
        .source
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let display_name = name
        .as_ref()
        .map_or_else(|| "this module".to_owned(), |n| format!("`{n}`"));
    template_check::check_templates(
        checker,
        &dir,
        &display_name,
        &config,
        &templates,
        fields.get("templates"),
    );
    if checker.has_errors() {
        return None;
    }
    Some(Module {
        manifest_path: checker.source.path.clone(),
        name: name?,
        version: version?,
        licence: licence?,
        summary: summary?,
        description,
        category: category?,
        audiences: audiences?,
        repository,
        homepage,
        authors,
        fork_of,
        requires,
        optional,
        conflicts,
        provides,
        features,
        config,
        templates,
        service,
    })
}

pub(super) fn check_schema(checker: &mut Checker, fields: &Fields, expected: &str) {
    let Some(node) = fields.required(checker, "schema", expected) else {
        return;
    };
    if let Some(schema) = checker.string(node, "schema")
        && schema != expected
    {
        checker.report(
            Code::UnsupportedSchema,
            node.span,
            "schema",
            format!("`schema: {schema}` is not supported; this oent reads `{expected}`"),
            format!("write `schema: {expected}`, or upgrade oent if the file is newer"),
        );
    }
}

pub(super) fn module_name(checker: &mut Checker, node: &Node, key: &str) -> Option<ModuleName> {
    let text = checker.string(node, key)?;
    text.parse()
        .map_err(|e: String| {
            checker.report(
                Code::InvalidName,
                node.span,
                key,
                e,
                "module names are `namespace/name` in lowercase letters, digits and '-'",
            )
        })
        .ok()
}

pub(super) fn version(checker: &mut Checker, node: &Node, key: &str) -> Option<semver::Version> {
    let text = match &node.kind {
        super::yaml::NodeKind::Str(s) => s.clone(),
        _ => {
            let written = checker
                .source
                .text
                .get(node.span.start..node.span.end)
                .unwrap_or("");
            checker.report(
                Code::InvalidVersion,
                node.span,
                key,
                format!(
                    "`{key}`: expected a semver version string, found {} `{written}`",
                    describe(node).split(' ').next().unwrap_or("")
                ),
                "write MAJOR.MINOR.PATCH, for example `version: 1.0.0`",
            );
            return None;
        }
    };
    names::parse_version(&text)
        .map_err(|e| {
            checker.report(
                Code::InvalidVersion,
                node.span,
                key,
                e,
                "see https://semver.org",
            )
        })
        .ok()
}

fn licence(checker: &mut Checker, node: &Node, key: &str) -> Option<String> {
    let text = checker.string(node, key)?;
    match spdx::Expression::parse(&text) {
        Ok(_) => Some(text),
        Err(err) => {
            let unknown = &text[err.span.clone()];
            let help = licence_help(unknown);
            // Point at the offending part when the value is written unquoted.
            let unquoted =
                checker.source.text.get(node.span.start..node.span.end) == Some(text.as_str());
            let span = if unquoted {
                Span::new(
                    node.span.start + err.span.start,
                    node.span.start + err.span.end,
                )
            } else {
                node.span
            };
            checker.report(
                Code::InvalidLicence,
                span,
                key,
                format!("`{text}` is not a valid SPDX expression: {}", err.reason),
                help,
            );
            None
        }
    }
}

/// Checks one licence of a policy list: a single SPDX licence, optionally
/// `WITH` an exception (`MIT`, `AGPL-3.0-only WITH Classpath-exception-2.0`,
/// `LicenseRef-entcore`). On error: the message and the help line.
pub fn single_licence(text: &str) -> Result<(), (String, String)> {
    match spdx::Expression::parse(text) {
        Ok(expr) if expr.requirements().count() == 1 => Ok(()),
        Ok(_) => Err((
            format!("`{text}` is an expression: list one licence per entry"),
            "split it: one SPDX licence (optionally `WITH` an exception) per line".into(),
        )),
        Err(err) => {
            let unknown = &text[err.span.clone()];
            Err((
                format!("`{text}` is not a known SPDX licence: {}", err.reason),
                licence_help(unknown),
            ))
        }
    }
}

/// What to write instead of an identifier SPDX refused: the `-only` /
/// `-or-later` forms of a deprecated id, the ids that start with what was
/// written (`GPL-3` → `GPL-3.0-only`…), or the nearest id by spelling.
fn licence_help(written: &str) -> String {
    let current = |name: &str| spdx::license_id(name).is_some_and(|id| !id.is_deprecated());
    let forms: Vec<String> = ["-only", "-or-later"]
        .iter()
        .map(|s| format!("{written}{s}"))
        .filter(|f| current(f))
        .collect();
    if !forms.is_empty() {
        return format!(
            "`{written}` is deprecated in SPDX: write `{}`",
            forms.join("` or `")
        );
    }
    let lower = written.to_ascii_lowercase();
    let ids = spdx::identifiers::LICENSES
        .iter()
        .filter(|l| current(l.name))
        .map(|l| l.name);
    let prefixed: Vec<&str> = ids
        .clone()
        .filter(|n| n.to_ascii_lowercase().starts_with(&lower) && lower.len() >= 3)
        .take(3)
        .collect();
    if !prefixed.is_empty() {
        return format!("did you mean `{}`?", prefixed.join("`, `"));
    }
    let nearest = ids
        .map(|n| (strsim::levenshtein(&lower, &n.to_ascii_lowercase()), n))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d);
    match nearest {
        Some((_, n)) => format!("did you mean `{n}`?"),
        None => "use an SPDX identifier (https://spdx.org/licenses/), e.g. `CECILL-2.1`, `AGPL-3.0-or-later`, `MIT OR Apache-2.0`".into(),
    }
}

fn audiences(checker: &mut Checker, node: &Node) -> Option<Vec<&'static str>> {
    let items = checker.seq(node, "audiences")?;
    if items.is_empty() {
        checker.report(
            Code::InvalidValue,
            node.span,
            "audiences",
            "`audiences` is empty",
            format!("list who sees the module among: {}", AUDIENCES.join(", ")),
        );
        return None;
    }
    let mut out: Vec<&'static str> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(a) = checker.one_of(item, &format!("audiences[{i}]"), AUDIENCES) {
            if out.contains(&a) {
                checker.report(
                    Code::InvalidValue,
                    item.span,
                    "audiences",
                    format!("`{a}` is listed twice"),
                    "remove the duplicate",
                );
            }
            out.push(a);
        }
    }
    Some(out)
}

fn url(
    checker: &mut Checker,
    node: &Node,
    key: &str,
    check: fn(&str) -> Result<(), String>,
) -> Option<String> {
    let text = checker.string(node, key)?;
    check(&text)
        .map_err(|e| {
            checker.report(
                Code::InvalidValue,
                node.span,
                key,
                e,
                format!(
                    "write `{key}` as a full URL, e.g. https://forge.example.org/openent/x.git"
                ),
            )
        })
        .ok()
        .map(|()| text)
}

fn fork_of(checker: &mut Checker, node: &Node) -> Option<(ModuleName, semver::Version)> {
    let text = checker.string(node, "fork-of")?;
    let parsed = text
        .split_once('@')
        .and_then(|(n, v)| Some((n.parse().ok()?, semver::Version::parse(v).ok()?)));
    if parsed.is_none() {
        checker.report(
            Code::InvalidValue,
            node.span,
            "fork-of",
            format!("`{text}` is not `namespace/name@version`"),
            "write the base module and version, e.g. `fork-of: openent/messagerie@1.2.3`",
        );
    }
    parsed
}

fn dependencies(
    checker: &mut Checker,
    fields: &Fields,
    key: &str,
) -> BTreeMap<ModuleName, Dependency> {
    let mut out = BTreeMap::new();
    let Some(node) = fields.get(key) else {
        return out;
    };
    let Some(entries) = checker.entries(node, key) else {
        return out;
    };
    for (k, v) in entries {
        let path = format!("{key}.{}", k.name);
        let name = k.name.parse::<ModuleName>().map_err(|e| {
            checker.report(
                Code::InvalidName,
                k.span,
                &path,
                e,
                "dependencies are keyed by `namespace/name`",
            )
        });
        let req = match &v.kind {
            super::yaml::NodeKind::Str(s) => names::parse_requirement(s).map_err(|e| {
                checker.report(
                    Code::InvalidRequirement,
                    v.span,
                    &path,
                    e,
                    "use cargo's requirement syntax",
                )
            }),
            _ => {
                checker.report(
                    Code::InvalidRequirement,
                    v.span,
                    &path,
                    format!(
                        "`{path}`: expected a requirement string like \"^1.2\", found {}",
                        describe(v)
                    ),
                    "quote the requirement: \"^1.2\"",
                );
                Err(())
            }
        };
        if let (Ok(name), Ok(req)) = (name, req) {
            out.insert(
                name.clone(),
                Dependency {
                    name,
                    req,
                    span: v.span,
                },
            );
        }
    }
    out
}

fn check_dependency_sets(
    checker: &mut Checker,
    name: &ModuleName,
    requires: &BTreeMap<ModuleName, Dependency>,
    optional: &BTreeMap<ModuleName, Dependency>,
    conflicts: &BTreeMap<ModuleName, Dependency>,
) {
    for (set, deps) in [
        ("requires", requires),
        ("optional", optional),
        ("conflicts", conflicts),
    ] {
        if let Some(dep) = deps.get(name) {
            checker.report(
                Code::DependencyConflict,
                dep.span,
                &format!("{set}.{name}"),
                format!("`{name}` names itself in `{set}`"),
                "remove the entry",
            );
        }
    }
    for (dep_name, dep) in conflicts {
        for (set, deps) in [("requires", requires), ("optional", optional)] {
            if deps.contains_key(dep_name) {
                checker.report(
                    Code::DependencyConflict,
                    dep.span,
                    &format!("conflicts.{dep_name}"),
                    format!("`{dep_name}` is both in `{set}` and in `conflicts`"),
                    format!("remove it from `{set}` or from `conflicts`"),
                );
            }
        }
    }
    for dep_name in optional.keys() {
        if let Some(dep) = requires.get(dep_name) {
            checker.report(
                Code::DependencyConflict,
                dep.span,
                &format!("requires.{dep_name}"),
                format!("`{dep_name}` is both in `requires` and in `optional`"),
                "keep it in one of the two",
            );
        }
    }
}

fn provides(checker: &mut Checker, node: &Node) -> Vec<String> {
    let items = checker.strings(node, "provides").unwrap_or_default();
    items
        .into_iter()
        .filter_map(|(cap, span)| {
            check_part(&cap, "capability")
                .map_err(|e| {
                    checker.report(
                        Code::InvalidName,
                        span,
                        "provides",
                        e,
                        "capabilities are lowercase words joined by '-', e.g. `messagerie`",
                    )
                })
                .ok()
                .map(|()| cap)
        })
        .collect()
}

fn features(
    checker: &mut Checker,
    node: &Node,
    optional: &BTreeMap<ModuleName, Dependency>,
) -> BTreeMap<String, Vec<ModuleName>> {
    let mut out = BTreeMap::new();
    let Some(entries) = checker.entries(node, "features") else {
        return out;
    };
    for (k, v) in entries {
        let path = format!("features.{}", k.name);
        if let Err(e) = check_part(&k.name.replace('_', "-"), "feature name") {
            checker.report(
                Code::InvalidName,
                k.span,
                &path,
                e,
                "feature names are lowercase words, e.g. `sms`",
            );
        }
        let mut enabled = Vec::new();
        for (dep, span) in checker.strings(v, &path).unwrap_or_default() {
            match dep.parse::<ModuleName>() {
                Ok(name) if optional.contains_key(&name) => enabled.push(name),
                Ok(name) => checker.report(
                    Code::UnknownFeatureDependency,
                    span,
                    &path,
                    format!(
                        "feature `{}` enables `{name}`, which is not an optional dependency",
                        k.name
                    ),
                    format!("add `{name}` under `optional:` with a version requirement"),
                ),
                Err(e) => checker.report(
                    Code::InvalidName,
                    span,
                    &path,
                    e,
                    "a feature lists module names",
                ),
            }
        }
        out.insert(k.name.clone(), enabled);
    }
    out
}

fn config(checker: &mut Checker, node: &Node) -> BTreeMap<String, ConfigOption> {
    let mut out = BTreeMap::new();
    let Some(entries) = checker.entries(node, "config") else {
        return out;
    };
    for (k, v) in entries {
        if let Some(option) = ConfigOption::parse(checker, k, v, &format!("config.{}", k.name)) {
            out.insert(k.name.clone(), option);
        }
    }
    out
}

const TEMPLATE_KEYS: &[&str] = &["source", "target", "each"];

fn templates(checker: &mut Checker, node: &Node) -> Vec<TemplateSpec> {
    let mut out = Vec::new();
    let Some(items) = checker.seq(node, "templates") else {
        return out;
    };
    for (i, item) in items.iter().enumerate() {
        let path = format!("templates[{i}]");
        let Some(fields) = checker.map(item, &path, item.span, TEMPLATE_KEYS) else {
            continue;
        };
        let source = fields
            .required(checker, "source", "templates/x.tera")
            .and_then(|n| relative_path(checker, n, &fields.key("source")));
        let target = fields
            .required(checker, "target", "conf/{{ module.slug }}/x")
            .and_then(|n| relative_path(checker, n, &fields.key("target")));
        let each = fields
            .get("each")
            .and_then(|n| checker.one_of(n, &fields.key("each"), &["etablissement"]))
            .map(|_| Each::Etablissement);
        if let (Some(source), Some(target)) = (source, target) {
            out.push(TemplateSpec {
                source: PathBuf::from(source),
                target,
                each,
            });
        }
    }
    out
}

/// A path that stays inside its directory: relative, no `..`, no backslash.
fn relative_path(checker: &mut Checker, node: &Node, key: &str) -> Option<String> {
    let text = checker.string(node, key)?;
    let bad = text.is_empty()
        || text.starts_with('/')
        || text.contains('\\')
        || text.split('/').any(|part| part == "..");
    if bad {
        checker.report(
            Code::InvalidValue,
            node.span,
            key,
            format!("`{text}` must be a relative path inside the module, without `..`"),
            "write a path relative to the module directory, e.g. `templates/app.conf.tera`",
        );
        return None;
    }
    Some(text)
}

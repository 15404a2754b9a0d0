//! Distribution settings: the few values every module may read (domain,
//! mail…), typed like options. Unknown keys are errors, so that a template
//! reading `settings.domain` is caught instead of rendering an empty string.

use serde_json::{Map, Value};

use super::diagnostic::Code;
use super::fields::{Checker, describe};
use super::option::{OptionType, check_typed};
use super::yaml::{Node, NodeKind, Span};

/// A setting's type: a scalar, an enum, a list of a scalar, or a nested group.
pub enum Kind {
    Scalar(OptionType),
    Enum(&'static [&'static str]),
    List(OptionType),
    Group(&'static [(&'static str, Kind, bool)]),
}

use Kind::{Enum, Group, List, Scalar};

/// (key, kind, required within its group). Mirrors `render_context::SETTINGS`.
/// A setting: its key, its type, and whether it is required within its group.
pub type Setting = (&'static str, Kind, bool);

/// `render_context` reads this table for the keys templates may use.
pub const SETTINGS: &[Setting] = &[
    ("domaine", Scalar(OptionType::Hostname), false),
    // Derived from the SSO provider now and refused in a distribution
    // (E055, [`parse_settings`]); still declared so that the templates of
    // modules published before `service.login` (`{% if settings.sso is
    // defined %}`) load, and find it undefined.
    (
        "sso",
        Group(&[
            ("type", Enum(&["cas", "oidc", "saml"]), true),
            ("url", Scalar(OptionType::Url), true),
        ]),
        false,
    ),
    (
        "smtp",
        Group(&[
            ("host", Scalar(OptionType::Hostname), true),
            ("port", Scalar(OptionType::Integer), false),
            ("from", Scalar(OptionType::Email), true),
        ]),
        false,
    ),
    ("fuseau_horaire", Scalar(OptionType::String), false),
    ("langue", Scalar(OptionType::String), false),
    ("contact", Scalar(OptionType::Email), false),
    (
        "proxy",
        Group(&[
            ("http", Scalar(OptionType::Url), false),
            ("https", Scalar(OptionType::Url), false),
            ("no_proxy", List(OptionType::Hostname), false),
        ]),
        false,
    ),
    (
        "images",
        Group(&[("registry", Scalar(OptionType::String), true)]),
        false,
    ),
];

/// Checks `settings:` and returns it as a JSON object (only valid entries).
/// The kind of setting `name` in `spec`.
pub fn find(spec: &'static [Setting], name: &str) -> Option<&'static Kind> {
    spec.iter().find(|(n, _, _)| *n == name).map(|(_, k, _)| k)
}

/// The settings inside a group (`sso`, `smtp`, `proxy`), if `kind` is one.
pub fn group_of(kind: &'static Kind) -> Option<&'static [Setting]> {
    match kind {
        Group(inner) => Some(inner),
        _ => None,
    }
}

pub fn parse_settings(checker: &mut Checker, node: &Node, anchor: Span) -> Map<String, Value> {
    // `settings.sso` (schema v1 before `service.login`) is derived now: said
    // so with its own code rather than as an unknown key.
    if let NodeKind::Map(entries) = &node.kind
        && let Some((k, _)) = entries.iter().find(|(k, _)| k.name == "sso")
    {
        checker.report(
            Code::SsoSettingDerived,
            k.span,
            "settings.sso",
            "`settings.sso` is no longer set by hand: oent derives each service's login from the SSO provider module",
            "remove `settings.sso`; the provider (`openent/sso`, `openent/sso-cas`, `openent/lemonldap`) is the module of `modules:` that provides `sso` (docs/formats.md, \"Login\")",
        );
        let mut rest = node.clone();
        if let NodeKind::Map(entries) = &mut rest.kind {
            entries.retain(|(k, _)| k.name != "sso");
        }
        return group(checker, &rest, "settings", anchor, SETTINGS);
    }
    group(checker, node, "settings", anchor, SETTINGS)
}

fn group(
    checker: &mut Checker,
    node: &Node,
    path: &str,
    anchor: Span,
    spec: &[(&str, Kind, bool)],
) -> Map<String, Value> {
    let mut out = Map::new();
    let names: Vec<&str> = spec.iter().map(|(n, _, _)| *n).collect();
    let Some(fields) = checker.map(node, path, anchor, &names) else {
        return out;
    };
    for (name, kind, required) in spec {
        let key = fields.key(name);
        let value = if *required {
            fields.required(checker, name, "…")
        } else {
            fields.get(name)
        };
        let Some(value) = value else { continue };
        let anchor = fields
            .entries()
            .iter()
            .find(|(k, _)| k.name == *name)
            .map_or(anchor, |(k, _)| k.span);
        let checked = match kind {
            Scalar(ty) => check(checker, *ty, &[], value, &key),
            Enum(values) => {
                let values: Vec<String> = values.iter().map(|s| s.to_string()).collect();
                check(checker, OptionType::Enum, &values, value, &key)
            }
            List(item) => match check_typed(OptionType::List, *item, &[], value) {
                Ok(v) => Some(v),
                Err(e) => {
                    checker.report(
                        Code::ValueType,
                        value.span,
                        &key,
                        format!("`{key}`: {e}"),
                        "correct the value",
                    );
                    None
                }
            },
            Group(inner) => Some(Value::Object(group(checker, value, &key, anchor, inner))),
        };
        if let Some(v) = checked {
            out.insert(name.to_string(), v);
        }
    }
    if let (Some(port), Some(node)) = (out.get("port").and_then(Value::as_i64), fields.get("port"))
        && !(1..=65535).contains(&port)
    {
        checker.report(
            Code::ValueType,
            node.span,
            &fields.key("port"),
            format!("port {port} is not between 1 and 65535"),
            "use 587 (submission) or 465 (SMTPS)",
        );
    }
    out
}

fn check(
    checker: &mut Checker,
    ty: OptionType,
    values: &[String],
    node: &Node,
    key: &str,
) -> Option<Value> {
    match check_typed(ty, ty, values, node) {
        Ok(v) => Some(v),
        Err(e) => {
            let help = match ty {
                OptionType::Hostname => {
                    "write a lowercase host name, e.g. `monlycee.net`".to_owned()
                }
                OptionType::Url => "write a full URL, e.g. `https://cas.monlycee.net`".to_owned(),
                _ => format!("correct `{key}` (found {})", describe(node)),
            };
            checker.report(
                Code::ValueType,
                node.span,
                key,
                format!("`{key}`: {e}"),
                help,
            );
            None
        }
    }
}

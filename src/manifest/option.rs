//! Typed configuration options, as NixOS modules have them: a type, a
//! default, bounds, documentation and a scope. Every value set anywhere
//! (default, distribution, établissement) is checked by [`ConfigOption::check`].

use serde_json::{Map, Value};

use super::diagnostic::Code;
use super::fields::{Checker, describe};
use super::formats;
use super::yaml::{Key, Node, NodeKind, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionType {
    String,
    Integer,
    Number,
    Boolean,
    Enum,
    List,
    Map,
    Url,
    Email,
    Hostname,
    Uai,
    Secret,
    Duration,
}

impl OptionType {
    pub const NAMES: &'static [&'static str] = &[
        "string", "integer", "number", "boolean", "enum", "list", "map", "url", "email",
        "hostname", "uai", "secret", "duration",
    ];
    /// Types allowed for the elements of a `list` or `map`.
    pub const ITEM_NAMES: &'static [&'static str] = &[
        "string", "integer", "number", "boolean", "url", "email", "hostname", "uai", "duration",
    ];

    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "string" => Self::String,
            "integer" => Self::Integer,
            "number" => Self::Number,
            "boolean" => Self::Boolean,
            "enum" => Self::Enum,
            "list" => Self::List,
            "map" => Self::Map,
            "url" => Self::Url,
            "email" => Self::Email,
            "hostname" => Self::Hostname,
            "uai" => Self::Uai,
            "secret" => Self::Secret,
            "duration" => Self::Duration,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// "an integer", "a URL"… for messages.
    fn article(self) -> &'static str {
        match self {
            Self::String => "a string",
            Self::Integer => "an integer",
            Self::Number => "a number",
            Self::Boolean => "`true` or `false`",
            Self::Enum => "one of the listed values",
            Self::List => "a list",
            Self::Map => "a mapping",
            Self::Url => "an http(s) URL",
            Self::Email => "an e-mail address",
            Self::Hostname => "a host name",
            Self::Uai => "a UAI",
            Self::Secret => "a secret reference `{ env: VARIABLE }`",
            Self::Duration => "a duration like `30s`, `15m` or `7d`",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    #[default]
    Distribution,
    Etablissement,
}

/// An inclusive bound. Durations are kept in seconds, list/map/string bounds as counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    pub value: f64,
    /// How the bound was written, for messages.
    pub written: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigOption {
    pub name: String,
    pub ty: OptionType,
    pub items: OptionType,
    pub default: Option<Value>,
    pub required: bool,
    pub min: Option<(f64, String)>,
    pub max: Option<(f64, String)>,
    pub values: Vec<String>,
    pub doc: Option<String>,
    pub scope: Scope,
    /// Where the option is declared (its key in module.yaml).
    pub span: Span,
}

const OPTION_KEYS: &[&str] = &[
    "type", "default", "required", "min", "max", "values", "items", "doc", "scope", "example",
];

impl ConfigOption {
    /// Reads an option declaration; problems go to the checker. Once its
    /// type is known the option is returned even when the rest of its
    /// declaration is wrong (without the default that does not fit), so that
    /// templates reading it are not also told it is undeclared: one cause,
    /// one diagnostic. A module with such an option is still withheld from
    /// real work, since the checker holds an error.
    pub fn parse(
        checker: &mut Checker,
        key: &Key,
        node: &Node,
        path: &str,
    ) -> Option<ConfigOption> {
        if !is_option_name(&key.name) {
            checker.report(
                Code::InvalidOption,
                key.span,
                path,
                format!(
                    "option name `{}` must be snake_case: `[a-z][a-z0-9_]*`",
                    key.name
                ),
                "rename the option, for example `retention_days`",
            );
        }
        let fields = checker.map(node, path, key.span, OPTION_KEYS)?;
        let ty_node = fields.required(checker, "type", OptionType::NAMES.join("|").as_str())?;
        let ty = option_type(checker, ty_node, &fields.key("type"))?;
        let mut option = ConfigOption {
            name: key.name.clone(),
            ty,
            items: OptionType::String,
            default: None,
            required: false,
            min: None,
            max: None,
            values: Vec::new(),
            doc: None,
            scope: Scope::Distribution,
            span: key.span,
        };
        // Whether the declaration is consistent so far (a default is checked
        // only against consistent bounds and values).
        let mut ok = true;
        if let Some(n) = fields.get("required") {
            option.required = checker.bool(n, &fields.key("required")).unwrap_or(false);
        }
        if let Some(n) = fields.get("doc") {
            option.doc = checker.string(n, &fields.key("doc"));
        }
        if let Some(n) = fields.get("scope") {
            option.scope =
                match checker.one_of(n, &fields.key("scope"), &["distribution", "etablissement"]) {
                    Some("etablissement") => Scope::Etablissement,
                    _ => Scope::Distribution,
                };
        }
        if let Some(n) = fields.get("items") {
            if !matches!(ty, OptionType::List | OptionType::Map) {
                checker.report(
                    Code::InvalidOption,
                    n.span,
                    &fields.key("items"),
                    format!(
                        "`items` applies to `list` and `map` options, not `{}`",
                        ty.name()
                    ),
                    "remove `items`",
                );
                ok = false;
            } else if let Some(name) =
                checker.one_of(n, &fields.key("items"), OptionType::ITEM_NAMES)
            {
                option.items = OptionType::from_name(name).unwrap_or(OptionType::String);
            } else {
                ok = false;
            }
        }
        match (ty, fields.get("values")) {
            (OptionType::Enum, Some(n)) => {
                let values = checker
                    .strings(n, &fields.key("values"))
                    .unwrap_or_default();
                if values.is_empty() {
                    checker.report(
                        Code::InvalidOption,
                        n.span,
                        &fields.key("values"),
                        "an `enum` option needs at least one value",
                        "list the allowed values: `values: [a, b]`",
                    );
                    ok = false;
                }
                for (i, (v, span)) in values.iter().enumerate() {
                    if values[..i].iter().any(|(w, _)| w == v) {
                        checker.report(
                            Code::InvalidOption,
                            *span,
                            &fields.key("values"),
                            format!("value `{v}` is listed twice"),
                            "remove the duplicate",
                        );
                        ok = false;
                    }
                }
                option.values = values.into_iter().map(|(v, _)| v).collect();
            }
            (OptionType::Enum, None) => {
                checker.report(
                    Code::InvalidOption,
                    key.span,
                    &fields.key("values"),
                    format!("enum option `{}` has no `values`", key.name),
                    "add `values: [a, b, c]`",
                );
                ok = false;
            }
            (_, Some(n)) => {
                checker.report(
                    Code::InvalidOption,
                    n.span,
                    &fields.key("values"),
                    format!("`values` applies to `enum` options, not `{}`", ty.name()),
                    "use `type: enum`, or remove `values`",
                );
                ok = false;
            }
            (_, None) => {}
        }
        for (bound, slot) in [("min", &mut option.min), ("max", &mut option.max)] {
            if let Some(n) = fields.get(bound) {
                match bound_value(ty, n) {
                    Ok(v) => *slot = Some(v),
                    Err(expected) => {
                        checker.report(
                            Code::InvalidOption,
                            n.span,
                            &fields.key(bound),
                            format!(
                                "`{bound}` of a `{}` option must be {expected}, found {}",
                                ty.name(),
                                describe(n)
                            ),
                            format!("write `{bound}` as {expected}, or remove it"),
                        );
                        ok = false;
                    }
                }
            }
        }
        if let (Some((lo, lo_text)), Some((hi, hi_text))) = (&option.min, &option.max)
            && lo > hi
        {
            checker.report(
                Code::InvalidOption,
                key.span,
                path,
                format!("`min` ({lo_text}) is greater than `max` ({hi_text})"),
                "swap or correct the bounds",
            );
            ok = false;
        }
        if let Some(n) = fields.get("default") {
            if ty == OptionType::Secret {
                checker.report(
                    Code::DefaultMismatch,
                    n.span,
                    &fields.key("default"),
                    "a `secret` option cannot have a default: it would ship in every bundle",
                    "remove `default`; the distribution sets it as `{ env: VARIABLE }`",
                );
            } else if ok && n.kind != NodeKind::Null {
                match option.check(n) {
                    Ok(v) => option.default = Some(v),
                    Err(expected) => {
                        checker.report(
                            Code::DefaultMismatch,
                            n.span,
                            &fields.key("default"),
                            format!("default of `{}`: {expected}", key.name),
                            "change the default so that it fits the option's type and bounds",
                        );
                    }
                }
            }
        }
        Some(option)
    }

    /// Checks a value against the option; `Err` says what was expected and what was found.
    pub fn check(&self, node: &Node) -> Result<Value, String> {
        let value = check_typed(self.ty, self.items, &self.values, node)?;
        let measure = match (&self.ty, &value) {
            (OptionType::Integer | OptionType::Number, Value::Number(n)) => n.as_f64(),
            (OptionType::Duration, Value::String(s)) => {
                formats::parse_duration(s).ok().map(|v| v as f64)
            }
            (OptionType::List, Value::Array(a)) => Some(a.len() as f64),
            (OptionType::Map, Value::Object(m)) => Some(m.len() as f64),
            (OptionType::String, Value::String(s)) => Some(s.chars().count() as f64),
            _ => None,
        };
        if let Some(m) = measure {
            let unit = match self.ty {
                OptionType::List | OptionType::Map => " entries",
                OptionType::String => " characters",
                _ => "",
            };
            if let Some((lo, text)) = &self.min
                && m < *lo
            {
                return Err(format!(
                    "expected {} ≥ {text}{unit}, got {}",
                    self.ty.article(),
                    describe(node)
                ));
            }
            if let Some((hi, text)) = &self.max
                && m > *hi
            {
                return Err(format!(
                    "expected {} ≤ {text}{unit}, got {}",
                    self.ty.article(),
                    describe(node)
                ));
            }
        }
        Ok(value)
    }
}

/// The option's `type`; an unknown one is an invalid option declaration (E016).
fn option_type(checker: &mut Checker, node: &Node, key: &str) -> Option<OptionType> {
    let name = checker.string(node, key)?;
    OptionType::from_name(&name).or_else(|| {
        let help = match super::diagnostic::suggest(&name, OptionType::NAMES.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("use one of: {}", OptionType::NAMES.join(", ")),
        };
        checker.report(
            Code::InvalidOption,
            node.span,
            key,
            format!("`{key}`: unknown option type `{name}`"),
            help,
        );
        None
    })
}

fn is_option_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A bound as a number, and as written.
fn bound_value(ty: OptionType, node: &Node) -> Result<(f64, String), &'static str> {
    match (ty, &node.kind) {
        (OptionType::Integer, NodeKind::Int(i)) => Ok((*i as f64, i.to_string())),
        (OptionType::Number, NodeKind::Int(i)) => Ok((*i as f64, i.to_string())),
        (OptionType::Number, NodeKind::Float(f)) => Ok((*f, f.to_string())),
        (OptionType::Duration, NodeKind::Str(s)) => formats::parse_duration(s)
            .map(|v| (v as f64, s.clone()))
            .map_err(|_| "a duration like `30s` or `7d`"),
        (OptionType::List | OptionType::Map | OptionType::String, NodeKind::Int(i)) if *i >= 0 => {
            Ok((*i as f64, i.to_string()))
        }
        (OptionType::Integer, _) => Err("an integer"),
        (OptionType::Number, _) => Err("a number"),
        (OptionType::Duration, _) => Err("a duration like `30s` or `7d`"),
        (OptionType::List | OptionType::Map | OptionType::String, _) => {
            Err("a count (integer ≥ 0)")
        }
        _ => Err("absent: this type has no bounds"),
    }
}

/// The value of `node` as `ty`, without bounds.
pub fn check_typed(
    ty: OptionType,
    items: OptionType,
    values: &[String],
    node: &Node,
) -> Result<Value, String> {
    let found = describe(node);
    let mismatch = || format!("expected {}, got {found}", ty.article());
    let text = |check: fn(&str) -> Result<(), String>| match &node.kind {
        NodeKind::Str(s) => check(s).map(|()| Value::String(s.clone())),
        _ => Err(mismatch()),
    };
    match ty {
        OptionType::String => match &node.kind {
            NodeKind::Str(s) => Ok(Value::String(s.clone())),
            _ => Err(format!("{} (quote it: \"…\")", mismatch())),
        },
        OptionType::Integer => match node.kind {
            NodeKind::Int(i) => Ok(Value::from(i)),
            _ => Err(mismatch()),
        },
        OptionType::Number => match node.kind {
            NodeKind::Int(i) => Ok(Value::from(i)),
            NodeKind::Float(f) if f.is_finite() => Ok(Value::from(f)),
            _ => Err(mismatch()),
        },
        OptionType::Boolean => match node.kind {
            NodeKind::Bool(b) => Ok(Value::Bool(b)),
            _ => Err(mismatch()),
        },
        OptionType::Enum => match &node.kind {
            NodeKind::Str(s) if values.contains(s) => Ok(Value::String(s.clone())),
            _ => Err(format!(
                "expected one of {}, got {found}",
                values.join(", ")
            )),
        },
        OptionType::Url => text(formats::check_url),
        OptionType::Email => text(formats::check_email),
        OptionType::Hostname => text(formats::check_hostname),
        OptionType::Uai => text(formats::check_uai),
        OptionType::Duration => text(|s| formats::parse_duration(s).map(|_| ())),
        OptionType::Secret => secret_reference(node)
            .map(|var| serde_json::json!({ "env": var }))
            .ok_or_else(mismatch),
        OptionType::List => match &node.kind {
            NodeKind::Seq(elements) => elements
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    check_typed(items, items, values, e).map_err(|m| format!("item {}: {m}", i + 1))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            _ => Err(mismatch()),
        },
        OptionType::Map => match &node.kind {
            NodeKind::Map(entries) => {
                let mut map = Map::new();
                for (k, v) in entries {
                    let value = check_typed(items, items, values, v)
                        .map_err(|m| format!("key `{}`: {m}", k.name))?;
                    map.insert(k.name.clone(), value);
                }
                Ok(Value::Object(map))
            }
            _ => Err(mismatch()),
        },
    }
}

/// `{ env: VARIABLE }`: the only way a secret may be written in a manifest.
pub fn secret_reference(node: &Node) -> Option<String> {
    let NodeKind::Map(entries) = &node.kind else {
        return None;
    };
    match entries.as_slice() {
        [(k, v)] if k.name == "env" => match &v.kind {
            NodeKind::Str(var)
                if !var.is_empty()
                    && var
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') =>
            {
                Some(var.clone())
            }
            _ => None,
        },
        _ => None,
    }
}

/// A node as a plain JSON value (for settings and free values).
pub fn to_value(node: &Node) -> Value {
    match &node.kind {
        NodeKind::Null => Value::Null,
        NodeKind::Bool(b) => Value::Bool(*b),
        NodeKind::Int(i) => Value::from(*i),
        NodeKind::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        NodeKind::Str(s) => Value::String(s.clone()),
        NodeKind::Seq(items) => Value::Array(items.iter().map(to_value).collect()),
        NodeKind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.name.clone(), to_value(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::source::SourceFile;
    use crate::manifest::yaml;

    fn option(decl: &str) -> (Option<ConfigOption>, Vec<String>) {
        let source = SourceFile::new("m.yaml", format!("opt: {decl}\n"));
        let node = yaml::parse(&source).unwrap();
        let NodeKind::Map(entries) = &node.kind else {
            unreachable!()
        };
        let mut checker = Checker::new(&source);
        let option = ConfigOption::parse(&mut checker, &entries[0].0, &entries[0].1, "config.opt");
        let messages = checker
            .diagnostics
            .iter()
            .map(|d| format!("{} {}", d.code, d.message))
            .collect();
        (option, messages)
    }

    fn value(text: &str) -> Node {
        yaml::parse(&SourceFile::new("v.yaml", format!("v: {text}\n")))
            .map(|n| match n.kind {
                NodeKind::Map(mut e) => e.remove(0).1,
                _ => unreachable!(),
            })
            .unwrap()
    }

    #[test]
    fn integer_with_bounds() {
        let (opt, errors) = option("{ type: integer, default: 365, min: 30 }");
        assert!(errors.is_empty(), "{errors:?}");
        let opt = opt.unwrap();
        assert_eq!(opt.default, Some(Value::from(365)));
        assert_eq!(
            opt.check(&value("10")).unwrap_err(),
            "expected an integer ≥ 30, got integer `10`"
        );
        assert_eq!(
            opt.check(&value("big")).unwrap_err(),
            "expected an integer, got string \"big\""
        );
    }

    #[test]
    fn default_out_of_bounds_is_reported() {
        let (opt, errors) = option("{ type: integer, default: 10, min: 30 }");
        // Still declared (templates may read it), without the default.
        assert_eq!(opt.map(|o| o.default), Some(None));
        assert_eq!(
            errors,
            ["E017 default of `opt`: expected an integer ≥ 30, got integer `10`"]
        );
    }

    #[test]
    fn enum_needs_values_and_secret_no_default() {
        assert_eq!(
            option("{ type: enum }").1,
            ["E016 enum option `opt` has no `values`"]
        );
        assert!(option("{ type: secret, default: x }").1[0].starts_with("E017"));
        assert!(option("{ type: strng }").1[0].starts_with("E016"));
    }

    #[test]
    fn list_of_urls_and_durations() {
        let (opt, _) = option("{ type: list, items: url, default: [\"https://a.fr\"] }");
        let opt = opt.unwrap();
        assert!(
            opt.check(&value("[\"https://b.fr\", \"nope\"]"))
                .unwrap_err()
                .starts_with("item 2:")
        );
        let (opt, errors) = option("{ type: duration, default: 1h, min: 5m, max: 1d }");
        assert!(errors.is_empty(), "{errors:?}");
        assert!(
            opt.unwrap()
                .check(&value("2d"))
                .unwrap_err()
                .contains("≤ 1d")
        );
    }

    #[test]
    fn secrets_are_references() {
        assert_eq!(
            secret_reference(&value("{ env: SMTP_PASSWORD }")),
            Some("SMTP_PASSWORD".into())
        );
        assert_eq!(secret_reference(&value("hunter2")), None);
    }
}

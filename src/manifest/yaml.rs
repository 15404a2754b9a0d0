//! A YAML document as a tree of nodes that remember where they came from.
//!
//! serde-saphyr does the parsing (duplicate keys refused, alias and nesting
//! budgets enforced); this module only keeps every node's byte span so that
//! validation can point at the exact key or value, and can report every
//! problem at once instead of stopping at the first mismatch as a derived
//! `Deserialize` would.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

// Spans are defined with the diagnostics that point at them; read here as
// `yaml::Span` too, where nodes carry them.
pub use super::diagnostic::Span;
use super::diagnostic::{Code, Diagnostic};
use super::source::SourceFile;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key: always text (numbers and booleans used as keys are kept as written).
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

fn span_of<T>(spanned: &Spanned<T>) -> Span {
    let span = spanned.referenced.span();
    match (span.byte_offset(), span.byte_len()) {
        (Some(start), Some(len)) => Span::new(start as usize, (start + len) as usize),
        _ => Span::default(),
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<NodeKind>::deserialize(deserializer)?;
        let span = span_of(&spanned);
        Ok(Node {
            span,
            kind: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for NodeKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = NodeKind;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<NodeKind, E> {
        Ok(NodeKind::Null)
    }
    fn visit_none<E>(self) -> Result<NodeKind, E> {
        Ok(NodeKind::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<NodeKind, D::Error> {
        NodeKind::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<NodeKind, E> {
        Ok(NodeKind::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<NodeKind, E> {
        Ok(NodeKind::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<NodeKind, E> {
        i64::try_from(v).map(NodeKind::Int).map_err(|_| {
            E::custom(format!(
                "integer {v} is too large (the maximum is {})",
                i64::MAX
            ))
        })
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<NodeKind, E> {
        i64::try_from(v)
            .map(NodeKind::Int)
            .map_err(|_| E::custom(format!("integer {v} is out of range")))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<NodeKind, E> {
        i64::try_from(v)
            .map(NodeKind::Int)
            .map_err(|_| E::custom(format!("integer {v} is out of range")))
    }
    fn visit_f64<E>(self, v: f64) -> Result<NodeKind, E> {
        Ok(NodeKind::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<NodeKind, E> {
        Ok(NodeKind::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<NodeKind, E> {
        Ok(NodeKind::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeKind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(NodeKind::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeKind, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<Spanned<KeyText>, Node>()? {
            let span = span_of(&key);
            entries.push((
                Key {
                    name: key.value.0,
                    span,
                },
                value,
            ));
        }
        Ok(NodeKind::Map(entries))
    }
}

/// Key text: YAML allows any scalar as a key; we keep it as text.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_owned()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".into()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

/// Nesting deeper than this is refused: no manifest needs it, and deep
/// nesting is how hostile files exhaust the stack.
pub const MAX_DEPTH: usize = 64;
/// Alias uses allowed in one document; manifests rarely use any.
pub const MAX_ALIASES: usize = 1_000;
/// Parser events (roughly: nodes) allowed in one document.
pub const MAX_EVENTS: usize = 200_000;
/// Events that aliases may replay in all: aliases are a convenience in a
/// manifest, never a multiplier; a "billion laughs" stops here.
pub const MAX_REPLAYED_EVENTS: usize = 10_000;

pub(crate) fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::budget::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_aliases = MAX_ALIASES;
    budget.max_events = MAX_EVENTS;
    budget.max_nodes = MAX_EVENTS;
    let mut alias_limits = serde_saphyr::options::AliasLimits::default();
    alias_limits.max_total_replayed_events = MAX_REPLAYED_EVENTS;
    serde_saphyr::options! {
        budget: Some(budget),
        alias_limits: alias_limits,
        // YAML 1.2: `yes`, `no`, `on`, `y` stay strings (the "Norway problem").
        strict_booleans: true,
        with_snippet: false,
    }
}

/// Parses one YAML document. A syntax error, a duplicate key or an exceeded
/// budget becomes a diagnostic pointing where the parser stopped.
pub fn parse(source: &SourceFile) -> Result<Node, Box<Diagnostic>> {
    serde_saphyr::from_str_with_options::<Node>(&source.text, options())
        .map_err(|err| Box::new(parse_error(source, &err)))
}

fn parse_error(source: &SourceFile, err: &serde_saphyr::Error) -> Diagnostic {
    use serde_saphyr::Error as E;
    let rendered = err.to_string();
    let message = strip_location_prefix(&rendered);
    let (code, message, help) = match err {
        E::DuplicateMappingKey { .. } => (
            Code::DuplicateKey,
            message
                .split(", set DuplicateKeyPolicy")
                .next()
                .unwrap_or(message)
                .to_owned(),
            "remove one of the two entries: YAML keeps neither reliably",
        ),
        E::Budget { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. } => (
            Code::YamlBudget,
            format!("refused: {message}"),
            "manifests need no deep nesting nor repeated aliases; write the values out",
        ),
        _ if message.contains("alias") && message.contains("limit") => (
            Code::YamlBudget,
            format!(
                "refused: aliases expand to more than {MAX_REPLAYED_EVENTS} YAML events \
                 (nested aliases: a \"billion laughs\" document?)"
            ),
            "manifests need no repeated aliases; write the values out",
        ),
        _ if message.contains("recursion limit") => (
            Code::YamlBudget,
            format!("refused: the document nests deeper than {MAX_DEPTH} levels"),
            "manifests need no deep nesting; flatten the structure",
        ),
        _ if message.contains("from_str_multiple") || message.contains("multiple documents") => (
            Code::YamlSyntax,
            "the file holds several YAML documents (separated by `---`); a manifest is one document".to_owned(),
            "keep one document per file: remove the extra `---` and what follows, or split the file",
        ),
        _ if message.contains("budget breached") => (
            Code::YamlBudget,
            format!(
                "refused: the document goes over a parsing budget ({}); \
                 nested aliases (a \"billion laughs\" document) or nesting deeper than {MAX_DEPTH} levels",
                message.trim_start_matches("budget breached: ")
            ),
            "manifests need no deep nesting nor repeated aliases; write the values out",
        ),
        _ if message.contains("tab") => (
            Code::YamlSyntax,
            message.to_owned(),
            "indent with spaces: YAML does not allow tabs for indentation",
        ),
        _ => (
            Code::YamlSyntax,
            message.to_owned(),
            "fix the YAML syntax at this position",
        ),
    };
    let mut diagnostic = Diagnostic::error(code, &source.path, message).help(help);
    if let Some(location) = err.location() {
        let offset = match location.span().byte_offset() {
            Some(offset) if (offset as usize) <= source.text.len() => offset as usize,
            _ => source.offset_of(location.line() as usize, location.column() as usize),
        };
        diagnostic = diagnostic.at_offset(source, offset);
    }
    diagnostic
}

/// serde-saphyr prefixes messages with `line N column M: `; we print positions ourselves.
fn strip_location_prefix(message: &str) -> &str {
    let first_line = message.lines().next().unwrap_or(message);
    match first_line.strip_prefix("line ") {
        Some(rest) => rest.split_once(": ").map_or(first_line, |(_, text)| text),
        None => first_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Node, Box<Diagnostic>> {
        parse(&SourceFile::new("t.yaml", text.to_owned()))
    }

    #[test]
    fn keeps_spans_of_keys_and_values() {
        let text = "a: 1\nb:\n  c: [x, 2.5, true]\n";
        let node = parse_str(text).unwrap();
        let NodeKind::Map(entries) = &node.kind else {
            panic!("not a map")
        };
        assert_eq!(entries[1].0.name, "b");
        let NodeKind::Map(inner) = &entries[1].1.kind else {
            panic!("not a map")
        };
        let NodeKind::Seq(items) = &inner[0].1.kind else {
            panic!("not a seq")
        };
        assert_eq!(&text[items[1].span.start..items[1].span.end], "2.5");
        assert_eq!(items[2].kind, NodeKind::Bool(true));
    }

    #[test]
    fn yaml_1_1_booleans_stay_strings() {
        let node = parse_str("pays: no\n").unwrap();
        let NodeKind::Map(entries) = &node.kind else {
            panic!("not a map")
        };
        assert_eq!(entries[0].1.kind, NodeKind::Str("no".into()));
    }

    #[test]
    fn duplicate_key_is_reported_at_the_second_key() {
        let err = parse_str("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.code, Code::DuplicateKey);
        assert_eq!((err.line(), err.column()), (3, 1));
        assert_eq!(err.message, "duplicate mapping key: a");
    }

    #[test]
    fn alias_bomb_is_refused_quickly() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse_str(&text).unwrap_err();
        assert_eq!(err.code, Code::YamlBudget, "{err}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("a: {}{}\n", "[".repeat(500), "]".repeat(500));
        let err = parse_str(&text).unwrap_err();
        assert!(
            matches!(err.code, Code::YamlBudget | Code::YamlSyntax),
            "{err}"
        );
    }

    #[test]
    fn tab_indentation_says_use_spaces() {
        let err = parse_str("a:\n\tb: 1\n").unwrap_err();
        assert_eq!(err.code, Code::YamlSyntax);
        assert_eq!(err.line(), 2);
        assert!(err.help.unwrap().contains("spaces"));
    }
}

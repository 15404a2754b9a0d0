//! Reading typed fields out of spanned YAML nodes while collecting every
//! problem: a wrong type, a missing key, an unknown key (with "did you mean").
//! Validation never stops at the first error; it records it and goes on.

use super::diagnostic::{Code, Diagnostic, suggest};
use super::source::SourceFile;
use super::yaml::{Key, Node, NodeKind, Span};

/// The file being validated and the diagnostics found so far.
pub struct Checker<'s> {
    pub source: &'s SourceFile,
    pub diagnostics: Vec<Diagnostic>,
    /// Other files read while checking this one (templates, CSV), for snippets.
    pub extra_sources: Vec<SourceFile>,
}

impl<'s> Checker<'s> {
    pub fn new(source: &'s SourceFile) -> Self {
        Checker {
            source,
            diagnostics: Vec::new(),
            extra_sources: Vec::new(),
        }
    }

    /// Records a diagnostic at `span`, naming the key path.
    pub fn report(
        &mut self,
        code: Code,
        span: Span,
        key: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let mut diagnostic = Diagnostic::new(code, &self.source.path, message)
            .at(self.source, span)
            .help(help);
        if !key.is_empty() {
            diagnostic = diagnostic.key(key);
        }
        self.diagnostics.push(diagnostic);
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn wrong_type(&mut self, node: &Node, key: &str, expected: &str) {
        if key.is_empty() {
            self.report(
                Code::WrongType,
                node.span,
                key,
                format!(
                    "the file must be a YAML mapping of keys, found {}",
                    describe(node)
                ),
                "a manifest starts with `schema: …` then one `key: value` per line",
            );
            return;
        }
        self.report(
            Code::WrongType,
            node.span,
            key,
            format!("`{key}`: expected {expected}, found {}", describe(node)),
            format!("write `{key}` as {expected}"),
        );
    }

    /// A mapping, with its keys checked against `allowed`.
    pub fn map<'n>(
        &mut self,
        node: &'n Node,
        key: &str,
        anchor: Span,
        allowed: &[&str],
    ) -> Option<Fields<'n>> {
        let NodeKind::Map(entries) = &node.kind else {
            self.wrong_type(node, key, "a mapping");
            return None;
        };
        for (k, _) in entries {
            if !allowed.contains(&k.name.as_str()) {
                self.unknown_key(k, key, allowed);
            }
        }
        Some(Fields {
            entries,
            path: key.to_owned(),
            anchor,
        })
    }

    /// A mapping whose keys are free (module names, option names…).
    pub fn entries<'n>(&mut self, node: &'n Node, key: &str) -> Option<&'n [(Key, Node)]> {
        match &node.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => {
                self.wrong_type(node, key, "a mapping");
                None
            }
        }
    }

    pub fn unknown_key(&mut self, k: &Key, parent: &str, allowed: &[&str]) {
        let full = join(parent, &k.name);
        let help = match suggest(&k.name, allowed.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("allowed keys here: {}", allowed.join(", ")),
        };
        self.report(
            Code::UnknownKey,
            k.span,
            &full,
            format!("unknown key `{}`", k.name),
            help,
        );
    }

    pub fn string(&mut self, node: &Node, key: &str) -> Option<String> {
        match &node.kind {
            NodeKind::Str(s) => Some(s.clone()),
            _ => {
                self.wrong_type(node, key, "a string");
                None
            }
        }
    }

    pub fn bool(&mut self, node: &Node, key: &str) -> Option<bool> {
        match &node.kind {
            NodeKind::Bool(b) => Some(*b),
            _ => {
                self.wrong_type(node, key, "`true` or `false`");
                None
            }
        }
    }

    pub fn int(&mut self, node: &Node, key: &str) -> Option<i64> {
        match &node.kind {
            NodeKind::Int(i) => Some(*i),
            _ => {
                self.wrong_type(node, key, "an integer");
                None
            }
        }
    }

    pub fn seq<'n>(&mut self, node: &'n Node, key: &str) -> Option<&'n [Node]> {
        match &node.kind {
            NodeKind::Seq(items) => Some(items),
            _ => {
                self.wrong_type(node, key, "a list");
                None
            }
        }
    }

    /// A list of strings; items of another type are reported and skipped.
    pub fn strings(&mut self, node: &Node, key: &str) -> Option<Vec<(String, Span)>> {
        let items = self.seq(node, key)?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(s) = self.string(item, &format!("{key}[{i}]")) {
                out.push((s, item.span));
            }
        }
        Some(out)
    }

    /// A string that must be one of `allowed`.
    pub fn one_of(
        &mut self,
        node: &Node,
        key: &str,
        allowed: &[&'static str],
    ) -> Option<&'static str> {
        let value = self.string(node, key)?;
        if let Some(found) = allowed.iter().find(|a| **a == value) {
            return Some(found);
        }
        let help = match suggest(&value, allowed.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("use one of: {}", allowed.join(", ")),
        };
        self.report(
            Code::InvalidValue,
            node.span,
            key,
            format!("`{key}`: `{value}` is not one of {}", allowed.join(", ")),
            help,
        );
        None
    }
}

/// The entries of a mapping being read.
pub struct Fields<'n> {
    entries: &'n [(Key, Node)],
    path: String,
    /// Where to point when a required key is missing (the mapping's own key).
    anchor: Span,
}

impl<'n> Fields<'n> {
    pub fn get(&self, name: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(_, v)| v)
    }

    /// The value of a key that must be present (and not null).
    pub fn required(&self, checker: &mut Checker, name: &str, what: &str) -> Option<&'n Node> {
        match self.get(name) {
            Some(node) if node.kind != NodeKind::Null => Some(node),
            _ => {
                let key = self.key(name);
                let message = if self.path.is_empty() {
                    format!("missing required key `{name}`")
                } else {
                    format!("`{}` is missing required key `{name}`", self.path)
                };
                checker.report(
                    Code::MissingKey,
                    self.anchor,
                    &key,
                    message,
                    format!("add `{name}: {what}`"),
                );
                None
            }
        }
    }

    /// Full key path of a field of this mapping.
    pub fn key(&self, name: &str) -> String {
        join(&self.path, name)
    }

    pub fn entries(&self) -> &'n [(Key, Node)] {
        self.entries
    }
}

pub fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// How a node is named in messages: its type, and the value when short.
pub fn describe(node: &Node) -> String {
    match &node.kind {
        NodeKind::Null => "nothing (null)".into(),
        NodeKind::Bool(b) => format!("boolean `{b}`"),
        NodeKind::Int(i) => format!("integer `{i}`"),
        NodeKind::Float(f) => format!("number `{f}`"),
        NodeKind::Str(s) if s.chars().count() <= 40 => format!("string \"{s}\""),
        NodeKind::Str(_) => "a string".into(),
        NodeKind::Seq(_) => "a list".into(),
        NodeKind::Map(_) => "a mapping".into(),
    }
}

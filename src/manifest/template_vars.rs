//! Which context variables a Tera template reads, with their positions.
//!
//! Tera 2 only reports top-level names, and its AST is private; a typo such
//! as `config.retention_dayz` must be caught at lint time, so this small
//! scanner walks the expressions of `{{ }}` and `{% %}` blocks and returns
//! every access path (`config.retention_dayz`) that is not a local variable.
//! It errs on the side of silence: what it cannot read as a plain path
//! (subscripts, calls) it leaves alone, and Tera's strict rendering catches
//! the rest at build time.

use std::collections::HashSet;
use std::ops::Range;

/// A read of a context variable: `root.attr.attr…` and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableRead {
    pub path: Vec<String>,
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Dot,
    Pipe,
    LParen,
    LBracket,
    Assign,
    Comma,
    Other,
}

const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    "elif",
    "endif",
    "for",
    "endfor",
    "set",
    "set_global",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
    "include",
    "extends",
    "block",
    "endblock",
    "macro",
    "endmacro",
    "filter",
    "endfilter",
    "import",
    "as",
    "with",
    "endwith",
    "break",
    "continue",
    "raw",
    "endraw",
    "ignore",
    "missing",
    "component",
    "endcomponent",
    "loop",
    "self",
    "super",
];

type Tokens = Vec<(Token, Range<usize>)>;

/// A template's expression blocks, tokenized once; both checks (depth, then
/// variable reads) walk this instead of scanning the text twice.
pub struct Scan<'s> {
    source: &'s str,
    /// Each `{{ }}` / `{% %}` inside: its range, whether it is a tag, its tokens.
    blocks: Vec<(Range<usize>, bool, Tokens)>,
}

pub fn scan(source: &str) -> Scan<'_> {
    let blocks = expression_blocks(source)
        .into_iter()
        .map(|(range, is_tag)| {
            let tokens = tokenize(source, range.clone());
            (range, is_tag, tokens)
        })
        .collect();
    Scan { source, blocks }
}

/// Scans `source`; returns the reads of non-local variables.
pub fn variable_reads(source: &str) -> Vec<VariableRead> {
    scan(source).reads()
}

/// The byte offset where nesting first goes deeper than [`MAX_NESTING`].
pub fn too_deep(source: &str) -> Option<usize> {
    scan(source).too_deep()
}

impl Scan<'_> {
    /// The reads of non-local variables.
    pub fn reads(&self) -> Vec<VariableRead> {
        let mut locals: HashSet<String> = HashSet::new();
        for (_, is_tag, tokens) in &self.blocks {
            if *is_tag {
                collect_locals(tokens, &mut locals);
            }
        }
        let mut reads = Vec::new();
        for (_, _, tokens) in &self.blocks {
            collect_reads(tokens, &locals, &mut reads);
        }
        reads
    }
}

/// Deepest nesting allowed, counting brackets inside expressions and
/// block tags (`if`, `for`, `macro`…). Tera's parser recurses on both; a
/// hostile template nested thousands deep would overflow the stack.
pub const MAX_NESTING: usize = 64;

impl Scan<'_> {
    /// The byte offset where nesting first goes deeper than [`MAX_NESTING`].
    pub fn too_deep(&self) -> Option<usize> {
        const OPENERS: &[&str] = &[
            "if",
            "for",
            "macro",
            "block",
            "filter",
            "with",
            "raw",
            "component",
        ];
        // Levels each open block adds: Tera nests every `elif` one level deeper
        // inside its `if`, so an `if` with 1,000 branches is 1,000 levels deep.
        let mut open: Vec<usize> = Vec::new();
        let mut blocks = 0usize;
        for (range, is_tag, tokens) in &self.blocks {
            if *is_tag {
                match tokens.first() {
                    Some((Token::Ident(k), r)) if OPENERS.contains(&k.as_str()) || k == "elif" => {
                        if k == "elif" {
                            match open.last_mut() {
                                Some(levels) => *levels += 1,
                                None => open.push(1),
                            }
                        } else {
                            open.push(1);
                        }
                        blocks += 1;
                        if blocks > MAX_NESTING {
                            return Some(r.start);
                        }
                    }
                    Some((Token::Ident(k), _)) if k.starts_with("end") => {
                        blocks = blocks.saturating_sub(open.pop().unwrap_or(1));
                    }
                    _ => {}
                }
            }
            let mut depth = 0usize;
            for (i, c) in self.source[range.clone()].bytes().enumerate() {
                match c {
                    b'(' | b'[' | b'{' => {
                        depth += 1;
                        if depth > MAX_NESTING {
                            return Some(range.start + i);
                        }
                    }
                    b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
        }
        None
    }
}

/// The inside of every `{{ … }}` (false) and `{% … %}` (true), skipping
/// comments and `{% raw %}` sections.
fn expression_blocks(source: &str) -> Vec<(Range<usize>, bool)> {
    let bytes = source.as_bytes();
    let mut blocks = Vec::new();
    let mut i = 0;
    let mut in_raw = false;
    while i + 1 < bytes.len() {
        if bytes[i] != b'{' {
            i += 1;
            continue;
        }
        let (close, is_tag) = match bytes[i + 1] {
            b'{' => ("}}", false),
            b'%' => ("%}", true),
            b'#' => ("#}", false),
            _ => {
                i += 1;
                continue;
            }
        };
        let Some(close_at) = find_close(source, i + 2, close) else {
            break;
        };
        // Whitespace control (`{%-`, `-%}`, `+`) is not part of the expression.
        let mut start = i + 2;
        let mut end = close_at;
        if start < end && matches!(bytes[start], b'-' | b'+') {
            start += 1;
        }
        if end > start && matches!(bytes[end - 1], b'-' | b'+') {
            end -= 1;
        }
        let inner = source[start..end].trim_matches(|c: char| c == '-' || c.is_whitespace());
        if bytes[i + 1] == b'#' {
            // comment
        } else if in_raw {
            if is_tag && inner == "endraw" {
                in_raw = false;
            }
        } else if is_tag && inner == "raw" {
            in_raw = true;
        } else {
            blocks.push((start..end, is_tag));
        }
        i = close_at + 2;
    }
    blocks
}

/// The closing delimiter, skipping string literals.
fn find_close(source: &str, from: usize, close: &str) -> Option<usize> {
    let bytes = source.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'"' | b'\'' | b'`') if close != "#}" => {
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    i += 1;
                }
                i += 1;
            }
            _ if bytes[i..].starts_with(close.as_bytes()) => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn tokenize(source: &str, range: Range<usize>) -> Vec<(Token, Range<usize>)> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut i = range.start;
    while i < range.end {
        let c = bytes[i];
        let start = i;
        let token = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'"' | b'\'' | b'`' => {
                i += 1;
                while i < range.end && bytes[i] != c {
                    i += 1;
                }
                i += 1;
                Token::Other
            }
            b'0'..=b'9' => {
                while i < range.end
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
                {
                    i += 1;
                }
                Token::Other
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < range.end && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Token::Ident(source[start..i].to_owned())
            }
            b'.' => {
                i += 1;
                Token::Dot
            }
            b'|' => {
                i += 1;
                Token::Pipe
            }
            b'(' => {
                i += 1;
                Token::LParen
            }
            b'[' => {
                i += 1;
                Token::LBracket
            }
            b',' => {
                i += 1;
                Token::Comma
            }
            b'=' if bytes.get(i + 1) != Some(&b'=') => {
                i += 1;
                Token::Assign
            }
            _ => {
                i += 1;
                Token::Other
            }
        };
        tokens.push((token, start..i.min(range.end)));
    }
    tokens
}

/// Names bound by `for`, `set`, `set_global`, `macro` and `with`.
fn collect_locals(tokens: &[(Token, Range<usize>)], locals: &mut HashSet<String>) {
    let idents: Vec<Option<&str>> = tokens
        .iter()
        .map(|(t, _)| match t {
            Token::Ident(s) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    match idents.first().copied().flatten() {
        Some("for") => {
            // for a in … / for k, v in …
            for id in idents[1..]
                .iter()
                .take_while(|i| *i != &Some("in"))
                .flatten()
            {
                locals.insert((*id).to_owned());
            }
        }
        Some("set" | "set_global" | "with") => {
            if let Some(Some(name)) = idents.get(1) {
                locals.insert((*name).to_owned());
            }
        }
        Some("macro" | "component") => {
            // macro name(arg1, arg2=default)
            let mut after_paren = false;
            for (i, (t, _)) in tokens.iter().enumerate() {
                match t {
                    Token::LParen => after_paren = true,
                    Token::Ident(s) if after_paren => {
                        let prev = tokens.get(i.wrapping_sub(1)).map(|(t, _)| t);
                        if matches!(prev, Some(Token::LParen | Token::Comma)) {
                            locals.insert(s.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

fn collect_reads(
    tokens: &[(Token, Range<usize>)],
    locals: &HashSet<String>,
    reads: &mut Vec<VariableRead>,
) {
    let mut i = 0;
    // In `{% for x in … %}` and `{% set x = … %}` the bound names are not reads.
    let skip_until = match tokens.first() {
        Some((Token::Ident(k), _)) if k == "for" => tokens
            .iter()
            .position(|(t, _)| matches!(t, Token::Ident(s) if s == "in"))
            .map_or(0, |p| p + 1),
        Some((Token::Ident(k), _)) if matches!(k.as_str(), "set" | "set_global" | "with") => 2,
        Some((Token::Ident(k), _))
            if matches!(
                k.as_str(),
                "macro" | "component" | "block" | "import" | "include" | "extends"
            ) =>
        {
            tokens.len()
        }
        _ => 0,
    };
    while i < tokens.len() {
        let (token, range) = &tokens[i];
        let Token::Ident(name) = token else {
            i += 1;
            continue;
        };
        let prev = i.checked_sub(1).map(|p| &tokens[p].0);
        let is_attribute_or_filter = matches!(prev, Some(Token::Dot | Token::Pipe))
            || matches!(prev, Some(Token::Ident(k)) if k == "is");
        let next = tokens.get(i + 1).map(|(t, _)| t);
        let is_call_or_kwarg = matches!(next, Some(Token::LParen | Token::Assign));
        if i < skip_until
            || is_attribute_or_filter
            || is_call_or_kwarg
            || KEYWORDS.contains(&name.as_str())
            || locals.contains(name)
        {
            i += 1;
            continue;
        }
        let mut path = vec![name.clone()];
        let mut end = range.end;
        let mut j = i + 1;
        while let (Some((Token::Dot, _)), Some((Token::Ident(attr), r))) =
            (tokens.get(j), tokens.get(j + 1))
        {
            path.push(attr.clone());
            end = r.end;
            j += 2;
        }
        // `a.b(…)` is a method call; keep only the object path.
        if matches!(tokens.get(j).map(|(t, _)| t), Some(Token::LParen)) && path.len() > 1 {
            path.pop();
        }
        reads.push(VariableRead {
            path,
            range: range.start..end,
        });
        i = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(source: &str) -> Vec<String> {
        variable_reads(source)
            .into_iter()
            .map(|r| r.path.join("."))
            .collect()
    }

    #[test]
    fn finds_paths_in_expressions_and_tags() {
        let t = "a={{ config.retention_days }}\n{% if settings.sso.url and not module.slug %}x{% endif %}";
        assert_eq!(
            paths(t),
            ["config.retention_days", "settings.sso.url", "module.slug"]
        );
    }

    #[test]
    fn skips_locals_filters_strings_comments_and_raw() {
        let t = "{% for e in etablissements %}{{ e.uai | upper }}{{ loop.index }}{% endfor %}\
                 {% set n = config.x | default(value=3) %}{{ n }}{{ \"config.nope\" }}\
                 {# {{ config.comment }} #}{% raw %}{{ config.raw }}{% endraw %}{{ now() }}";
        assert_eq!(paths(t), ["etablissements", "config.x"]);
    }

    #[test]
    fn positions_point_at_the_path() {
        let t = "x {{ config.retention_dayz }}";
        let read = &variable_reads(t)[0];
        assert_eq!(&t[read.range.clone()], "config.retention_dayz");
    }

    #[test]
    fn deep_nesting_is_found_before_tera_sees_it() {
        let brackets = format!("{{{{ {}1{} }}}}", "(".repeat(100), ")".repeat(100));
        assert_eq!(too_deep(&brackets), Some(3 + MAX_NESTING));
        let ifs = "{% if a %}".repeat(70) + &"{% endif %}".repeat(70);
        assert!(too_deep(&ifs).is_some());
        let elifs = format!("{{% if a %}}{}{{% endif %}}", "{% elif b %}x".repeat(100));
        assert!(too_deep(&elifs).is_some());
        let siblings = "{% if a %}{% elif b %}{% elif c %}{% endif %}".repeat(100);
        assert_eq!(too_deep(&siblings), None);
        assert_eq!(too_deep("{% if a %}{{ (1 + 2) }}{% endif %}"), None);
    }

    #[test]
    fn non_ascii_text_anywhere_is_fine() {
        assert_eq!(
            paths("{# généré #}é{{ config.x }}{% if \"é\" %}{% endif %}"),
            ["config.x"]
        );
        // Not valid Tera, but must not crash the scanner.
        let _ = paths("{{ é }}{% if config.âge %}{% endif %}");
    }

    #[test]
    fn whitespace_control_does_not_hide_loop_variables() {
        let t = "{%- for name, m in modules -%}{{- name }}{{ m.summary -}}{%- endfor %}";
        assert_eq!(paths(t), ["modules"]);
    }

    #[test]
    fn for_with_key_value_and_tests() {
        let t = "{% for k, v in config.labels %}{{ k }}={{ v }}{% endfor %}{% if etab is defined %}{% endif %}";
        assert_eq!(paths(t), ["config.labels", "etab"]);
    }
}

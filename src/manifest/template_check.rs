//! Checks a module's templates before anything is rendered: each file exists,
//! is under the size cap, is not nested deep enough to overflow Tera's
//! parser, parses with Tera, and reads only declared variables.

use std::ops::Range;

use super::diagnostic::{Code, Diagnostic, suggest};
use super::fields::Checker;
use std::collections::BTreeMap;
use std::path::Path;

use super::option::ConfigOption;
use super::render_context::{self, Shape};
use super::source::{ReadFailure, SourceFile, TextKind, read_text};
use super::template_spec::{Each, TemplateSpec};
use super::template_vars::{self, MAX_NESTING};
use super::yaml::{Node, NodeKind, Span};

/// Templates are configuration files, not data: 256 KiB is generous.
pub const MAX_TEMPLATE_BYTES: u64 = 256 * 1024;

const TEMPLATE: TextKind = TextKind {
    max_bytes: MAX_TEMPLATE_BYTES,
    too_large: Code::TemplateTooLarge,
    too_large_help: "split the template, or move data into options",
    warn_crlf: false,
};

/// What template checks need to know of the module.
struct ModuleView<'a> {
    name: &'a str,
    config: &'a BTreeMap<String, ConfigOption>,
}

pub(super) fn check_templates(
    checker: &mut Checker,
    dir: &Path,
    name: &str,
    config: &BTreeMap<String, ConfigOption>,
    templates: &[TemplateSpec],
    templates_node: Option<&Node>,
) {
    let module = ModuleView { name, config };
    let module = &module;
    let items: &[Node] = match templates_node.map(|n| &n.kind) {
        Some(NodeKind::Seq(items)) => items,
        _ => &[],
    };
    for (i, spec) in templates.iter().enumerate() {
        let entry = items.get(i);
        let field_span = |name: &str| {
            entry
                .and_then(|e| match &e.kind {
                    NodeKind::Map(fields) => fields
                        .iter()
                        .find(|(k, _)| k.name == name)
                        .map(|(_, v)| v.span),
                    _ => None,
                })
                .unwrap_or_default()
        };
        let each = spec.each;
        // The target path is a template too.
        for read in template_vars::variable_reads(&spec.target) {
            if let Err((message, help)) = check_read(&read.path, module, each) {
                checker.report(
                    Code::TemplateUndeclaredVariable,
                    field_span("target"),
                    &format!("templates[{i}].target"),
                    message,
                    help,
                );
            }
        }
        let path = dir.join(&spec.source);
        if !path.is_file() {
            checker.report(
                Code::TemplateMissing,
                field_span("source"),
                &format!("templates[{i}].source"),
                format!("template `{}` does not exist", spec.source.display()),
                format!(
                    "create `{}`, or correct `source` (relative to the module directory)",
                    path.display()
                ),
            );
            continue;
        }
        let mut warnings = Vec::new();
        let source = match read_text(&path, &TEMPLATE, &mut warnings) {
            Ok(source) => source,
            Err(ReadFailure::Refused(d)) => {
                checker.diagnostics.push(*d);
                continue;
            }
            Err(ReadFailure::Io(e)) => {
                checker.report(
                    Code::TemplateMissing,
                    field_span("source"),
                    &format!("templates[{i}].source"),
                    format!("cannot read `{}`: {e}", path.display()),
                    "check the file's permissions",
                );
                continue;
            }
        };
        checker.diagnostics.extend(warnings);
        check_template_text(checker, module, each, &source);
        checker.extra_sources.push(source);
    }
}

fn check_template_text(
    checker: &mut Checker,
    module: &ModuleView,
    each: Option<Each>,
    source: &SourceFile,
) {
    let at = |code: Code, range: Range<usize>, message: String, help: &str| {
        Diagnostic::new(code, &source.path, message)
            .at(source, Span::new(range.start, range.end))
            .help(help)
    };
    let scan = template_vars::scan(&source.text);
    if let Some(offset) = scan.too_deep() {
        checker.diagnostics.push(at(
            Code::TemplateSyntax,
            offset..offset + 1,
            format!("template nests deeper than {MAX_NESTING} levels"),
            "flatten the expression or the blocks; deep nesting can crash the template engine",
        ));
        return;
    }
    let mut tera = tera::Tera::default();
    // The filters `oent build` gives templates (json_string…) exist here too.
    super::template_filters::register_escaping_filters(&mut tera);
    if let Err(err) = tera.add_raw_template(&source.path.to_string_lossy(), &source.text) {
        let (message, range) = match err.kind() {
            tera::ErrorKind::SyntaxError(report) => {
                (report.message().to_owned(), report.span().range.clone())
            }
            _ => (err.to_string(), 0..0),
        };
        checker.diagnostics.push(at(
            Code::TemplateSyntax,
            range,
            message,
            "fix the Tera syntax (https://keats.github.io/tera/)",
        ));
        return;
    }
    checker
        .diagnostics
        .extend(super::template_bounds::check(source));
    for read in scan.reads() {
        if let Err((message, help)) = check_read(&read.path, module, each) {
            checker.diagnostics.push(at(
                Code::TemplateUndeclaredVariable,
                read.range,
                message,
                &help,
            ));
        }
    }
}

/// Whether a read path is declared by the render context or the module's options.
fn check_read(
    path: &[String],
    module: &ModuleView,
    each: Option<Each>,
) -> Result<(), (String, String)> {
    let written = path.join(".");
    let root = path[0].as_str();
    let Some(shape) = render_context::root(root) else {
        let help = match suggest(root, render_context::root_names()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "templates can read: {}",
                render_context::root_names().collect::<Vec<_>>().join(", ")
            ),
        };
        return Err((
            format!("`{written}`: `{root}` is not part of the render context"),
            help,
        ));
    };
    if root == "etab" && each.is_none() {
        return Err((
            format!("`{written}`: `etab` exists only in templates rendered once per établissement"),
            "add `each: etablissement` to this template's entry, or loop over `etablissements`"
                .into(),
        ));
    }
    if root == "config" {
        if let Some(option) = path.get(1)
            && !module.config.contains_key(option)
        {
            let help = match suggest(option, module.config.keys().map(String::as_str)) {
                Some(s) => format!("did you mean `config.{s}`?"),
                None => format!("declare `{option}` under `config:` in module.yaml"),
            };
            return Err((
                format!(
                    "`{written}`: `{option}` is not a config option of {}",
                    module.name
                ),
                help,
            ));
        }
        return Ok(());
    }
    let mut shape: Shape = *shape;
    for (depth, attr) in path.iter().enumerate().skip(1) {
        match shape.field(attr) {
            Some(next) => shape = next,
            None => {
                let parent = path[..depth].join(".");
                let names = shape.field_names();
                let help = match suggest(attr, names.iter().copied()) {
                    Some(s) => format!("did you mean `{parent}.{s}`?"),
                    None => format!("`{parent}` has: {}", names.join(", ")),
                };
                return Err((format!("`{written}`: `{parent}` has no `{attr}`"), help));
            }
        }
    }
    Ok(())
}

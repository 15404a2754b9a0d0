//! Rendering module templates: each module's templates are parsed once into
//! one Tera instance, then rendered once or once per établissement. Tera is
//! strict (an undefined value is an error); an error names the template file
//! and line and the établissement being rendered. Targets are templates too,
//! and must land inside `conf/<slug>/`. Templates have the escaping filters
//! of [`super::escape`]; a file whose format oent knows is parsed back before it
//! is committed to the bundle ([`super::well_formed`]).

use std::collections::BTreeMap;
use std::path::{Component, Path};

use tera::{Tera, Value as TeraValue};

use super::bundle::{BundleError, Shard};
use super::context::SharedContext;
use super::limits::{Bounded, Budget, register_range};
use super::well_formed::{self, Format, Keep, malformed};
use crate::manifest::module::Each;
use crate::manifest::source::SourceFile;
use crate::manifest::template_filters::register_escaping_filters;
use crate::manifest::yaml::Span;
use crate::manifest::{Code, Diagnostic, Module};
use crate::registry::fetch::Progress;
use crate::workspace::values::ModuleValues;

/// Why rendering stopped: problems of the input (all of them), or the
/// bundle could not be written.
#[derive(Debug)]
pub enum RenderError {
    Problems(Vec<Diagnostic>),
    Bundle(BundleError),
}

impl From<Diagnostic> for RenderError {
    fn from(d: Diagnostic) -> Self {
        RenderError::Problems(vec![d])
    }
}

/// Renders every template of `module` straight into `staging`, one file
/// at a time, within `budget` (shared with the modules other threads render).
pub fn render_module(
    shared: &SharedContext,
    module: &Module,
    values: &ModuleValues,
    staging: &mut Shard,
    budget: &Budget,
    progress: &dyn Progress,
) -> Result<(), RenderError> {
    let mut tera = Tera::default();
    tera.autoescape_on(Vec::<&'static str>::new());
    register_range(&mut tera, budget);
    register_escaping_filters(&mut tera);
    let mut problems = Vec::new();
    let mut sources = BTreeMap::new();
    for (i, spec) in module.templates.iter().enumerate() {
        let path = module.dir().join(&spec.source);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                problems.push(Diagnostic::new(
                    Code::TemplateMissing,
                    &path,
                    format!("cannot read the template: {e}"),
                ));
                continue;
            }
        };
        if let Err(e) = tera
            .add_raw_template(&format!("t{i}"), &text)
            .and_then(|()| tera.add_raw_template(&format!("target{i}"), &spec.target))
        {
            problems.push(Diagnostic::new(Code::TemplateSyntax, &path, e.to_string()));
        }
        // Messages name the template inside the module, not its copy in the cache.
        let shown = format!(
            "{}@{}/{}",
            module.name,
            module.version,
            spec.source.display()
        );
        sources.insert(i, SourceFile::new(shown, text));
    }
    if !problems.is_empty() {
        return Err(RenderError::Problems(problems));
    }
    let module_value = shared.module_value(module);
    let config = TeraValue::from_serializable(&values.as_object(None));
    let prefix = format!("conf/{}/", module.name.slug());
    let mut one =
        |context: &tera::Context, i: usize, uai: Option<&str>, problems: &mut Vec<Diagnostic>| {
            let template = Template {
                tera: &tera,
                i,
                source: &sources[&i],
                prefix: &prefix,
            };
            match render_one(&template, context, uai, staging, budget) {
                Ok(()) => Ok(true),
                Err(Stop::Problem(d)) => {
                    problems.push(*d);
                    Ok(false)
                }
                Err(Stop::All(e)) => Err(e),
            }
        };
    for (i, spec) in module.templates.iter().enumerate() {
        match spec.each {
            None => {
                let context = shared.for_module(&module_value, &config);
                one(&context, i, None, &mut problems)?;
            }
            Some(Each::Etablissement) => {
                for (uai, etab) in &shared.etabs {
                    let config = match values.overrides.get(uai) {
                        Some(o) if !o.is_empty() => {
                            TeraValue::from_serializable(&values.as_object(Some(uai)))
                        }
                        _ => config.clone(),
                    };
                    let mut context = shared.for_module(&module_value, &config);
                    context.insert_value("etab", etab.clone());
                    // One établissement's failure is enough to explain; don't repeat it 700 times.
                    if !one(&context, i, Some(uai), &mut problems)? {
                        break;
                    }
                }
                progress.advance(shared.etabs.len() as u64);
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(RenderError::Problems(problems))
    }
}

/// One template of a module, parsed.
struct Template<'a> {
    tera: &'a Tera,
    i: usize,
    source: &'a SourceFile,
    prefix: &'a str,
}

/// Why one file was not rendered: a problem to report with the others, or
/// a reason to stop the whole build (the disk, or a budget of the build).
enum Stop {
    Problem(Box<Diagnostic>),
    All(RenderError),
}

fn render_one(
    template: &Template,
    context: &tera::Context,
    uai: Option<&str>,
    staging: &mut Shard,
    budget: &Budget,
) -> Result<(), Stop> {
    let Template {
        tera,
        i,
        source,
        prefix,
    } = *template;
    let during = uai.map_or(String::new(), |u| format!(" (établissement {u})"));
    let problem = |d: Diagnostic| Stop::Problem(Box::new(d));
    if let Some(exceeded) = budget.out_of_time() {
        return Err(Stop::All(exceeded.diagnostic(&source.path, &during).into()));
    }
    let target = tera.render(&format!("target{i}"), context).map_err(|e| {
        problem(Diagnostic::new(
            Code::TemplateRender,
            &source.path,
            format!("target: {}{during}", message(&e)),
        ))
    })?;
    let path = checked_target(&target, prefix).map_err(|reason| {
        problem(
            Diagnostic::new(
                Code::TargetOutsideBundle,
                &source.path,
                format!("target `{target}`{during}: {reason}"),
            )
            .help(format!(
                "write targets under `{prefix}`, e.g. `{prefix}app.conf`"
            )),
        )
    })?;
    if staging.contains(&path) {
        return Err(problem(
            Diagnostic::new(
                Code::DuplicateTarget,
                &source.path,
                format!("`{path}` is written by two templates"),
            )
            .help("give each template (and each établissement) its own target"),
        ));
    }
    let file = staging
        .create(&path)
        .map_err(|e| Stop::All(RenderError::Bundle(e)))?;
    // A file whose format oent knows is kept, to be parsed back.
    let format = Format::of(&path);
    let mut bounded = Bounded::new(Keep::new(file, format.is_some()), budget);
    let rendered = tera.render_to(&format!("t{i}"), context, &mut bounded);
    let (kept, mut exceeded) = bounded.finish(budget);
    let (mut file, kept) = kept.finish();
    if rendered.is_err() && exceeded.is_none() {
        // Tera's `range` stops a silent loop at the deadline (register_range).
        exceeded = budget.out_of_time();
    }
    if let Err(e) = rendered {
        let disk = file.disk_error();
        staging.discard(file);
        if let Some(exceeded) = exceeded {
            let d = exceeded.diagnostic(&source.path, &during);
            return Err(if exceeded.stops_the_build() {
                Stop::All(d.into())
            } else {
                problem(d)
            });
        }
        if let Some(error) = disk {
            return Err(Stop::All(RenderError::Bundle(BundleError::Io {
                path: staging.shown().to_path_buf(),
                error,
            })));
        }
        let mut d = Diagnostic::new(
            Code::TemplateRender,
            &source.path,
            format!("{}{during}", message(&e)),
        );
        if let tera::ErrorKind::RenderingError(report) = e.kind() {
            let range = report.span().range.clone();
            d = d.at(source, Span::new(range.start, range.end));
        }
        return Err(problem(d.help("every value a template reads must exist: declare it, give it a default, or guard it with `is defined`")));
    }
    if let (Some(format), Some(kept)) = (format, kept) {
        let (text, checked) = well_formed::check_bytes(format, &kept);
        if let Err(error) = checked {
            staging.discard(file);
            return Err(problem(malformed(
                &source.path,
                &path,
                &during,
                format,
                &text,
                &error,
            )));
        }
    }
    staging
        .commit(file)
        .map_err(|e| Stop::All(RenderError::Bundle(e)))
}

fn message(e: &tera::Error) -> String {
    match e.kind() {
        tera::ErrorKind::RenderingError(report) | tera::ErrorKind::SyntaxError(report) => {
            report.message().to_owned()
        }
        _ => e.to_string(),
    }
}

/// A rendered target must be a plain relative path under `prefix`.
fn checked_target(target: &str, prefix: &str) -> Result<String, &'static str> {
    let target = target.trim();
    if target.is_empty() {
        return Err("it is empty");
    }
    let path = Path::new(target);
    if path.is_absolute() {
        return Err("it is absolute");
    }
    if path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err("it leaves its directory (`..`)");
    }
    if target.contains('\\') || target.contains('\0') {
        return Err("it contains a backslash or NUL");
    }
    if !target.starts_with(prefix) || target.len() == prefix.len() {
        return Err("it is not inside the module's directory of the bundle");
    }
    Ok(target.to_owned())
}

#[cfg(test)]
mod tests {
    use super::checked_target;

    #[test]
    fn targets_stay_in_the_module_directory() {
        assert_eq!(
            checked_target("conf/m/a.conf", "conf/m/"),
            Ok("conf/m/a.conf".into())
        );
        assert!(checked_target("../../etc/x", "conf/m/").is_err());
        assert!(checked_target("conf/m/../../bundle.json", "conf/m/").is_err());
        assert!(checked_target("/etc/passwd", "conf/m/").is_err());
        assert!(checked_target("conf/other/x", "conf/m/").is_err());
        assert!(checked_target("conf/m/", "conf/m/").is_err());
    }
}

//! Rendering module templates: each module's templates are parsed once into
//! one Tera instance, then rendered once or once per établissement. Tera is
//! strict (an undefined value is an error); an error names the template file
//! and line and the établissement being rendered. Targets are templates too,
//! and must land inside `conf/<slug>/`.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use tera::{Tera, Value as TeraValue};

use super::context::{SharedContext, module_json};
use super::values::ModuleValues;
use crate::manifest::module::Each;
use crate::manifest::source::SourceFile;
use crate::manifest::yaml::Span;
use crate::manifest::{Code, Diagnostic, Module};
use crate::registry::fetch::Progress;

/// Files rendered, by path relative to the bundle root.
pub type Files = BTreeMap<String, Vec<u8>>;

pub fn render_module(
    shared: &SharedContext,
    module: &Module,
    values: &ModuleValues,
    files: &mut Files,
    progress: &dyn Progress,
) -> Result<(), Vec<Diagnostic>> {
    let mut tera = Tera::default();
    tera.autoescape_on(Vec::<&'static str>::new());
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
        return Err(problems);
    }
    let module_value = TeraValue::from_serializable(&module_json(module));
    let config = TeraValue::from_serializable(&values.as_object(None));
    let prefix = format!("conf/{}/", module.name.slug());
    for (i, spec) in module.templates.iter().enumerate() {
        let source = &sources[&i];
        match spec.each {
            None => {
                let context = shared.for_module(&module_value, &config);
                match render_one(&tera, i, &context, &prefix, source, None) {
                    Ok((path, bytes)) => insert(files, path, bytes, source, &mut problems),
                    Err(d) => problems.push(*d),
                }
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
                    match render_one(&tera, i, &context, &prefix, source, Some(uai)) {
                        Ok((path, bytes)) => insert(files, path, bytes, source, &mut problems),
                        Err(d) => {
                            problems.push(*d);
                            // One établissement's failure is enough to explain; don't repeat it 700 times.
                            break;
                        }
                    }
                }
                progress.advance(shared.etabs.len() as u64);
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn insert(
    files: &mut Files,
    path: String,
    bytes: Vec<u8>,
    source: &SourceFile,
    problems: &mut Vec<Diagnostic>,
) {
    if files.contains_key(&path) {
        problems.push(
            Diagnostic::new(
                Code::DuplicateTarget,
                &source.path,
                format!("`{path}` is written by two templates"),
            )
            .help("give each template (and each établissement) its own target"),
        );
        return;
    }
    files.insert(path, bytes);
}

fn render_one(
    tera: &Tera,
    i: usize,
    context: &tera::Context,
    prefix: &str,
    source: &SourceFile,
    uai: Option<&str>,
) -> Result<(String, Vec<u8>), Box<Diagnostic>> {
    let during = uai.map_or(String::new(), |u| format!(" (établissement {u})"));
    let target = tera.render(&format!("target{i}"), context).map_err(|e| {
        Box::new(Diagnostic::new(
            Code::TemplateRender,
            &source.path,
            format!("target: {}{during}", message(&e)),
        ))
    })?;
    let path = checked_target(&target, prefix).map_err(|reason| {
        Box::new(
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
    let text = tera.render(&format!("t{i}"), context).map_err(|e| {
        let mut d = Diagnostic::new(Code::TemplateRender, &source.path, format!("{}{during}", message(&e)));
        if let tera::ErrorKind::RenderingError(report) = e.kind() {
            let range = report.span().range.clone();
            d = d.at(source, Span::new(range.start, range.end));
        }
        Box::new(d.help("every value a template reads must exist: declare it, give it a default, or guard it with `is defined`"))
    })?;
    // Tera's output buffer is sized by a power of two: keep only what was written.
    let mut bytes = text.into_bytes();
    bytes.shrink_to_fit();
    Ok((path, bytes))
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

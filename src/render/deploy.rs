//! Deployment templates: `compose` (compose.yaml and an nginx reverse proxy,
//! for one server) and `kubernetes` (Deployments, Services, an Ingress and a
//! kustomization, for regions that outgrow one server), plus the operator
//! README. They are embedded in the binary; a distribution overrides any of
//! them with a file of the same name under its own `templates/`.

use std::path::Path;

use serde_json::{Value, json};
use tera::{Context, Tera};

use super::bundle::Staging;
use super::context::{SharedContext, service_json};
use super::engine::RenderError;
use crate::manifest::names::ModuleName;
use crate::manifest::option::OptionType;
use crate::manifest::{Code, Diagnostic, Module};
use crate::workspace::values::ModuleValues;

/// (path under templates/, text, output path in the bundle).
const COMPOSE: &[(&str, &str, &str)] = &[
    (
        "compose/compose.yaml.tera",
        include_str!("../../templates/compose/compose.yaml.tera"),
        "compose/compose.yaml",
    ),
    (
        "compose/nginx/oent.conf.tera",
        include_str!("../../templates/compose/nginx/oent.conf.tera"),
        "compose/nginx/oent.conf",
    ),
];

const KUBERNETES: &[(&str, &str, &str)] = &[
    (
        "kubernetes/services.yaml.tera",
        include_str!("../../templates/kubernetes/services.yaml.tera"),
        "kubernetes/services.yaml",
    ),
    (
        "kubernetes/ingress.yaml.tera",
        include_str!("../../templates/kubernetes/ingress.yaml.tera"),
        "kubernetes/ingress.yaml",
    ),
    (
        "kubernetes/kustomization.yaml.tera",
        include_str!("../../templates/kubernetes/kustomization.yaml.tera"),
        "kustomization.yaml",
    ),
];

const README: (&str, &str, &str) = (
    "README.md.tera",
    include_str!("../../templates/README.md.tera"),
    "README.md",
);

/// One module as deployment templates see it (docs/render.md).
pub fn deployment_module(module: &Module, values: &ModuleValues, staging: &Staging) -> Value {
    let slug = module.name.slug();
    let prefix = format!("conf/{slug}/");
    let config_files: Vec<&String> = staging.paths().filter(|p| p.starts_with(&prefix)).collect();
    let secrets: Vec<Value> = module
        .config
        .iter()
        .filter(|(_, o)| o.ty == OptionType::Secret)
        .filter_map(|(name, _)| {
            let env = values
                .values
                .get(name)?
                .value
                .get("env")?
                .as_str()?
                .to_owned();
            Some(json!({ "option": name, "env": env }))
        })
        .collect();
    let mut entry = json!({
        "name": module.name.as_str(),
        "slug": slug,
        "short_name": module.name.short_name(),
        "version": module.version.to_string(),
        "summary": module.summary,
        "category": module.category,
        "audiences": module.audiences,
        "licence": module.licence,
        "config_dir": format!("conf/{slug}"),
        "config_files": config_files,
        "secrets": secrets,
    });
    if let Some(Value::Object(service)) = service_json(module) {
        for (k, v) in service {
            entry[k] = v;
        }
    }
    entry
}

/// Renders the target's templates and the README into `staging`: all of
/// them first, so that nothing is written when one fails.
pub fn render(
    target: &str,
    distribution_dir: &Path,
    shared: &SharedContext,
    distribution_slug: &str,
    modules: &[(ModuleName, Value)],
    staging: &mut Staging,
) -> Result<(), RenderError> {
    let templates: Vec<(&str, &str, &str)> = match target {
        "kubernetes" => KUBERNETES.to_vec(),
        _ => COMPOSE.to_vec(),
    };
    let mut distribution = shared.distribution_json.clone();
    distribution["slug"] = json!(distribution_slug);
    let services: Vec<&Value> = modules
        .iter()
        .map(|(_, m)| m)
        .filter(|m| m.get("image").is_some())
        .collect();
    let module_map: serde_json::Map<String, Value> = modules
        .iter()
        .map(|(n, m)| (n.to_string(), m.clone()))
        .collect();
    let mut context = Context::new();
    context.insert("distribution", &distribution);
    context.insert_value("collectivite", shared.collectivite.clone());
    context.insert_value("settings", shared.settings.clone());
    context.insert_value("etablissements", shared.etablissements.clone());
    context.insert("services", &services);
    context.insert("modules", &module_map);
    let mut problems = Vec::new();
    let mut rendered_files = Vec::new();
    for (name, embedded, output) in templates.into_iter().chain(std::iter::once(README)) {
        // A distribution's own templates/ overrides the embedded one.
        let custom = distribution_dir.join("templates").join(name);
        let (label, text) = match std::fs::read_to_string(&custom) {
            Ok(text) => (custom.display().to_string(), text),
            Err(_) => (format!("templates/{name} (built in)"), embedded.to_owned()),
        };
        let mut tera = Tera::default();
        tera.autoescape_on(Vec::<&'static str>::new());
        let rendered = tera
            .add_raw_template(name, &text)
            .and_then(|()| tera.render(name, &context));
        match rendered {
            Ok(text) => rendered_files.push((output, text)),
            Err(e) => problems.push(Diagnostic::new(
                Code::TemplateRender,
                Path::new(&label),
                e.to_string(),
            )),
        }
    }
    if !problems.is_empty() {
        return Err(RenderError::Problems(problems));
    }
    for (output, text) in rendered_files {
        staging
            .write(output, text.as_bytes())
            .map_err(RenderError::Bundle)?;
    }
    Ok(())
}

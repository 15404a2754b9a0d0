//! Deployment templates: `compose` (compose.yaml and an nginx reverse proxy,
//! for one server) and `kubernetes` (Deployments, Services, an Ingress and a
//! kustomization, for regions that outgrow one server), plus the operator
//! README. They are embedded in the binary; a distribution overrides any of
//! them with a file of the same name under its own `templates/`.

use std::path::Path;

use serde_json::{Value, json};
use tera::{Context, Tera, Value as TeraValue};

use super::bundle::Staging;
use super::context::{SharedContext, service_json};
use super::contract;
use super::engine::RenderError;
use crate::manifest::distribution::DISTRIBUTION_FILE;
use crate::manifest::names::ModuleName;
use crate::manifest::option::OptionType;
use crate::manifest::service::SecretDelivery;
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
        "kubernetes/namespace.yaml.tera",
        include_str!("../../templates/kubernetes/namespace.yaml.tera"),
        "kubernetes/namespace.yaml",
    ),
    (
        "kubernetes/network.yaml.tera",
        include_str!("../../templates/kubernetes/network.yaml.tera"),
        "kubernetes/network.yaml",
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
pub fn deployment_module(
    module: &Module,
    values: &ModuleValues,
    staging: &Staging,
    shared: &SharedContext,
) -> Value {
    let slug = module.name.slug();
    let prefix = format!("conf/{slug}/");
    let config_files: Vec<&String> = staging.paths_under(&prefix).collect();
    let delivery = module.service.as_ref().map(|s| &s.secrets);
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
            // `env`: the variable the operator fills (secrets.env); the
            // contract says how it reaches the software: under another
            // variable name, or as a file. Without a contract entry, the
            // container gets the operator's variable itself.
            let mut secret = json!({ "option": name, "env": env, "target_env": env });
            match delivery.and_then(|d| d.get(name)) {
                Some(SecretDelivery::Env(var)) => secret["target_env"] = json!(var),
                Some(SecretDelivery::File(path)) => {
                    secret["target_env"] = Value::Null;
                    secret["file"] = json!(path);
                }
                None => {}
            }
            Some(secret)
        })
        // The SSO provider shares each service's client secret.
        .chain(
            shared
                .sso
                .as_ref()
                .filter(|sso| sso.provider == module.name)
                .map(|sso| sso.secrets.clone())
                .unwrap_or_default(),
        )
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
        // `secrets` stays the list above: how each reaches the software is
        // in it already (`target_env`, `file`).
        for (k, v) in service.into_iter().filter(|(k, _)| k != "secrets") {
            entry[k] = v;
        }
    }
    if let Some(service) = &module.service {
        contract::place(module, service, &config_files, &secrets, shared, &mut entry);
        let containers: Vec<Value> = service
            .containers
            .iter()
            .map(|c| contract::container_entry(module, &entry, c, &config_files, shared))
            .collect();
        entry["containers"] = json!(containers);
    }
    entry
}

/// Renders the target's templates and the README into `staging`, every
/// problem reported at once; the staging folder of a failed build is
/// removed, so nothing reaches the output when one fails.
pub fn render(
    target: &str,
    distribution_dir: &Path,
    shared: &SharedContext,
    distribution_slug: &str,
    modules: Vec<(ModuleName, Value, Mounts)>,
    staging: &mut Staging,
) -> Result<Vec<Diagnostic>, RenderError> {
    let templates: Vec<(&str, &str, &str)> = match target {
        "kubernetes" => KUBERNETES.to_vec(),
        _ => COMPOSE.to_vec(),
    };
    let mut distribution = shared.distribution_json.clone();
    distribution["slug"] = json!(distribution_slug);
    // Each module's entry is owned here (a large bundle's lists every file of
    // the module): rewritten in place, then moved into the context, never copied.
    let mut names = Vec::new();
    let mut entries = Vec::new();
    let mut mounts = Vec::new();
    for (name, entry, m) in modules {
        names.push(name);
        entries.push(entry);
        mounts.push(m);
    }
    contract::rewrite_placeholder_images(&mut entries, shared.image_registry.as_deref());
    let database_passwords = contract::link_databases(&mut entries);
    // Each module's service, then its other containers (`service.containers`),
    // each with where it comes from (module, container) to find its mounts.
    let (origins, mut flat): (Vec<Origin>, Vec<Value>) = entries
        .iter()
        .enumerate()
        .filter(|(_, m)| m.get("image").is_some())
        .flat_map(|(i, m)| {
            let more = m["containers"].as_array().cloned().unwrap_or_default();
            std::iter::once(((i, None), m.clone())).chain(
                more.into_iter()
                    .enumerate()
                    .map(move |(j, c)| ((i, Some(j)), c)),
            )
        })
        .unzip();
    let placeholders =
        contract::rewrite_placeholder_images(&mut flat, shared.image_registry.as_deref());
    contract::link_clients(&mut flat);
    let duplicates =
        contract::duplicate_environment(&flat, &distribution_dir.join(DISTRIBUTION_FILE));
    if !duplicates.is_empty() {
        return Err(RenderError::Problems(duplicates));
    }
    let services: Vec<&Value> = flat.iter().collect();
    let mut warnings: Vec<Diagnostic> = placeholders
        .iter()
        .map(|image| {
            Diagnostic::warning(
                Code::PlaceholderImage,
                &distribution_dir.join(DISTRIBUTION_FILE),
                format!("`{image}` is a placeholder: no registry serves it"),
            )
            .key("settings.images.registry")
            .help("build the image and point `settings.images.registry` at your registry (docs/formats.md)")
        })
        .collect();
    warnings.extend(contract::unfilled_placeholders(&flat, staging));
    let secrets_example = secrets_example(&services, &database_passwords);
    let (services, module_map) = shared_values(&names, entries, mounts, flat, &origins);
    let mut context = Context::new();
    context.insert("distribution", &distribution);
    context.insert_value("collectivite", shared.collectivite.clone());
    context.insert_value("settings", shared.settings.clone());
    context.insert_value("etablissements", shared.etablissements.clone());
    context.insert_value("services", services);
    context.insert_value("modules", module_map);
    context.insert("placeholder_images", &placeholders);
    context.insert("secret_variables", &secret_variables(&secrets_example));
    // Each file streamed into the staging folder as it is rendered (a
    // country's kubernetes/ lists every file several times: tens of MB): a
    // failed build removes the staging folder, so nothing reaches the output.
    let mut problems = Vec::new();
    for (name, embedded, output) in templates.into_iter().chain(std::iter::once(README)) {
        // A distribution's own templates/ overrides the embedded one.
        let custom = distribution_dir.join("templates").join(name);
        let (label, text) = match std::fs::read_to_string(&custom) {
            Ok(text) => (custom.display().to_string(), text),
            Err(_) => (format!("templates/{name} (built in)"), embedded.to_owned()),
        };
        let mut tera = Tera::default();
        tera.autoescape_on(Vec::<&'static str>::new());
        let rendered = match tera.add_raw_template(name, &text) {
            Ok(()) => staging
                .stream(output, |file| tera.render_to(name, &context, file))
                .map_err(RenderError::Bundle)?,
            Err(e) => Err(e),
        };
        if let Err(e) = rendered {
            problems.push(Diagnostic::new(
                Code::TemplateRender,
                Path::new(&label),
                e.to_string(),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(RenderError::Problems(problems));
    }
    staging
        .write("secrets.env.example", secrets_example.as_bytes())
        .map_err(RenderError::Bundle)?;
    Ok(warnings)
}

/// The per-file part of a module's deployment entry: `k8s_mounts`, one
/// mount per rendered file, of its service and of each of its containers.
/// A country's bundle has hundreds of thousands: they are taken out of the
/// entry as soon as it is made ([`take_mounts`]), kept as Tera values (a
/// serde_json map of two keys costs ten times more), and put back in
/// [`render`], so the checks' copies of the entries never hold them.
pub struct Mounts {
    main: Option<TeraValue>,
    containers: Vec<Option<TeraValue>>,
}

const MOUNTS: &str = "k8s_mounts";

/// Takes the [`Mounts`] out of `entry` (a [`deployment_module`]).
pub fn take_mounts(entry: &mut Value) -> Mounts {
    fn take(entry: &mut Value) -> Option<TeraValue> {
        let taken = entry.as_object_mut()?.remove(MOUNTS)?;
        Some(TeraValue::from_serializable(&taken))
    }
    let containers = match entry.get_mut("containers").and_then(Value::as_array_mut) {
        Some(containers) => containers.iter_mut().map(take).collect(),
        None => Vec::new(),
    };
    Mounts {
        main: take(entry),
        containers,
    }
}

/// A service of `services`: its module, and which of its containers (none:
/// the module's own service).
type Origin = (usize, Option<usize>);

/// `entry` as a Tera value, with `mounts` back in it and its containers
/// replaced by `containers` when given; keys in serde_json's (sorted) order.
fn with_mounts(
    entry: &Value,
    mounts: Option<&TeraValue>,
    containers: Option<TeraValue>,
) -> TeraValue {
    let Some(object) = entry.as_object() else {
        return TeraValue::from_serializable(entry);
    };
    let mut fields: Vec<(&str, TeraValue)> = object
        .iter()
        .filter(|(k, _)| !(containers.is_some() && k.as_str() == "containers"))
        .map(|(k, v)| (k.as_str(), TeraValue::from_serializable(v)))
        .collect();
    fields.extend(mounts.map(|m| (MOUNTS, m.clone())));
    fields.extend(containers.map(|c| ("containers", c)));
    fields.sort_by(|a, b| a.0.cmp(b.0));
    let map: tera::Map = fields
        .into_iter()
        .map(|(k, v)| (tera::value::Key::from(k.to_owned()), v))
        .collect();
    TeraValue::from(map)
}

/// `services` and `modules` for the templates, with their mounts; each
/// module's entry converted once and shared by both (Tera values share
/// their contents): an entry lists every file the module rendered.
fn shared_values(
    names: &[ModuleName],
    entries: Vec<Value>,
    mounts: Vec<Mounts>,
    flat: Vec<Value>,
    origins: &[Origin],
) -> (TeraValue, TeraValue) {
    // What the checks changed in each service (every service gets its
    // `clients`; a container may get its placeholder image rewritten): only
    // those fields are converted on their own, the others are its module's
    // entry's (or container's), which list every file of the module.
    let changed: Vec<Vec<(String, Value)>> = flat
        .into_iter()
        .zip(origins)
        .map(|(s, &(i, j))| {
            let original = match j {
                None => &entries[i],
                Some(j) => &entries[i]["containers"][j],
            };
            changed_fields(s, original)
        })
        .collect();
    let mut containers: Vec<Vec<TeraValue>> = Vec::new();
    let mut converted = Vec::new();
    for (entry, mounts) in entries.into_iter().zip(&mounts) {
        let own: Vec<TeraValue> = entry["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(j, c)| with_mounts(c, mounts.containers.get(j).and_then(Option::as_ref), None))
            .collect();
        let list = entry
            .get("containers")
            .is_some()
            .then(|| TeraValue::from(own.clone()));
        converted.push(with_mounts(&entry, mounts.main.as_ref(), list));
        containers.push(own);
    }
    let services: Vec<TeraValue> = changed
        .into_iter()
        .zip(origins)
        .map(|(changed, &(i, j))| {
            let shared = match j {
                None => &converted[i],
                Some(j) => &containers[i][j],
            };
            overlay(shared, changed)
        })
        .collect();
    let modules: tera::Map = names
        .iter()
        .map(|n| tera::value::Key::from(n.to_string()))
        .zip(converted)
        .collect();
    (TeraValue::from(services), TeraValue::from(modules))
}

/// The fields of `service` (an object, as [`deployment_module`] makes them)
/// that are not the same in `original`, moved out of it.
fn changed_fields(service: Value, original: &Value) -> Vec<(String, Value)> {
    let Value::Object(fields) = service else {
        return Vec::new();
    };
    fields
        .into_iter()
        .filter(|(k, v)| original.get(k) != Some(v))
        .collect()
}

/// `shared` (a converted entry) with `changed` put in it, keys in
/// serde_json's (sorted) order as [`with_mounts`] leaves them; the fields
/// left as they were are shared, not copied.
fn overlay(shared: &TeraValue, changed: Vec<(String, Value)>) -> TeraValue {
    let Some(map) = shared.as_map().filter(|_| !changed.is_empty()) else {
        return shared.clone();
    };
    let mut fields: Vec<(tera::value::Key<'static>, TeraValue)> = map
        .iter()
        .filter(|(k, _)| !changed.iter().any(|(c, _)| k.as_str() == Some(c)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    fields.extend(
        changed
            .into_iter()
            .map(|(k, v)| (tera::value::Key::from(k), TeraValue::from_serializable(&v))),
    );
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    TeraValue::from(fields.into_iter().collect::<tera::Map>())
}

/// The variables `secrets.env.example` lists, sorted.
fn secret_variables(example: &str) -> Vec<&str> {
    example
        .lines()
        .filter_map(|l| l.strip_suffix('='))
        .collect()
}

/// `secrets.env.example`: every variable the deployment reads from
/// `local/secrets.env`, each with what it fills. The filled copy lives in
/// `local/`, never in the bundle.
fn secrets_example(services: &[&Value], database_passwords: &[(String, String)]) -> String {
    let mut vars: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for s in services {
        let name = s["name"].as_str().unwrap_or_default();
        for secret in s["secrets"].as_array().into_iter().flatten() {
            if let Some(env) = secret["env"].as_str() {
                vars.entry(env.to_owned()).or_default().push(format!(
                    "{name}, option {}",
                    secret["option"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    for (env, why) in database_passwords {
        vars.entry(env.clone()).or_default().push(why.clone());
    }
    let mut text = String::from(
        "# Généré par oent : les variables secrètes que le déploiement lit.\n\
         # Copier ce fichier en ../local/secrets.env (hors du bundle, droits 0600)\n\
         # et remplir chaque valeur ; ne jamais l'écrire dans le bundle.\n",
    );
    let mut provided: Vec<String> = services
        .iter()
        .flat_map(|s| s["local_files"].as_array().into_iter().flatten())
        .filter_map(|f| Some(format!("#   ../local/{}\n", f["path"].as_str()?)))
        .collect();
    provided.sort();
    provided.dedup();
    if !provided.is_empty() {
        text.push_str(
            "#\n# Fichiers à fournir (hors du bundle, lus au déploiement, voir README.md) :\n",
        );
        text.extend(provided);
    }
    for (env, uses) in vars {
        text.push_str(&format!("\n# {}\n{env}=\n", uses.join(" ; ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field<'v>(value: &'v TeraValue, key: &'static str) -> &'v TeraValue {
        &value.as_map().expect("an object")[&tera::value::Key::from(key)]
    }

    /// Where a list's items are: the same for a list shared, not for a copy.
    fn items(value: &TeraValue, key: &'static str) -> *const TeraValue {
        field(value, key).as_array().expect("a list").as_ptr()
    }

    #[test]
    fn services_share_their_modules_fields_but_those_the_checks_changed() {
        let name: ModuleName = "openent/a".parse().unwrap();
        let mut entry = json!({
            "name": "openent/a",
            "slug": "a",
            "image": "docker.io/a:1",
            "config_files": ["conf/a/x", "conf/a/y"],
            "k8s_mounts": [{ "key": "x" }],
            "containers": [{
                "name": "openent/a",
                "slug": "a-worker",
                "image": "registry.example.org/worker:1",
                "config_files": ["conf/a/x"],
            }],
        });
        let mounts = take_mounts(&mut entry);
        let mut flat = vec![entry.clone(), entry["containers"][0].clone()];
        contract::rewrite_placeholder_images(&mut flat, Some("r.test"));
        contract::link_clients(&mut flat);
        let origins = [(0, None), (0, Some(0))];
        let (services, modules) = shared_values(&[name], vec![entry], vec![mounts], flat, &origins);
        let services = services.as_array().unwrap();
        let module = field(&modules, "openent/a");
        let worker = &field(module, "containers").as_array().unwrap()[0];
        // What the checks added or rewrote is the service's own...
        assert_eq!(
            field(&services[0], "clients").to_string(),
            r#"["a-worker"]"#
        );
        assert_eq!(field(&services[1], "image").to_string(), "r.test/worker:1");
        assert!(
            !module
                .as_map()
                .unwrap()
                .contains_key(&tera::value::Key::from("clients"))
        );
        // ...the rest is its module's entry, not a copy of it.
        assert_eq!(
            items(&services[0], "config_files"),
            items(module, "config_files")
        );
        assert_eq!(
            items(&services[0], "k8s_mounts"),
            items(module, "k8s_mounts")
        );
        assert_eq!(
            items(&services[1], "config_files"),
            items(worker, "config_files")
        );
        let keys: Vec<String> = services[0]
            .as_map()
            .unwrap()
            .keys()
            .map(ToString::to_string)
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }
}

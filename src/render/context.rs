//! The render context, built once and shared. The distribution-wide parts
//! (settings, établissements, modules) are converted to Tera values once; a
//! template's context then only adds the module, its values and, per
//! établissement, `etab` — cheap, since Tera values share their contents.
//! (Copying a 732-row list into each of 14,660 contexts made Tera 35× slower.)

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tera::{Context, Value as TeraValue};

use crate::manifest::Module;
use crate::manifest::distribution::{DistributionChain, Target};
use crate::manifest::etablissement::Etablissement;
use crate::manifest::login::Plan;
use crate::manifest::names::ModuleName;
use crate::manifest::service::{Probe, SecretDelivery};
use crate::manifest::sizing::Scale;
use crate::workspace::values::ModuleValues;

pub struct SharedContext {
    /// `distribution` as JSON, for the deployment context to extend.
    pub distribution_json: Value,
    pub settings: TeraValue,
    pub distribution: TeraValue,
    pub collectivite: TeraValue,
    pub etablissements: TeraValue,
    pub modules: TeraValue,
    /// Per UAI, the `etab` value.
    pub etabs: Vec<(String, TeraValue)>,
    /// `settings.images.registry`: where the placeholder images are pulled from.
    pub image_registry: Option<String>,
    /// The distribution's scale, every measure stated or derived: what each
    /// module's `service.sizing` is computed from.
    pub scale: Scale,
    /// The single sign-on, when a module serves it.
    pub sso: Option<Sso>,
    /// The target mounts each rendered file on its own (Kubernetes'
    /// `k8s_mounts`); Compose mounts the module's folder and never reads them.
    pub mounts_per_file: bool,
}

/// The single sign-on as templates see it (docs/render.md, "Single
/// sign-on"): `sso` in every template, and `module.login` in the templates
/// of each service that logs users in through it.
pub struct Sso {
    pub provider: ModuleName,
    pub value: TeraValue,
    pub logins: BTreeMap<ModuleName, Value>,
    /// The client secrets, as the provider's secret entries (the deployment
    /// gives the provider the operator's variable of each).
    pub secrets: Vec<Value>,
}

impl Sso {
    /// `plan`'s services, their URLs under `https://<settings.domaine>`, and
    /// each client secret's variable from the service's values.
    pub fn new(
        plan: &Plan,
        settings: &serde_json::Map<String, Value>,
        values: &BTreeMap<ModuleName, ModuleValues>,
    ) -> Sso {
        let domaine = settings
            .get("domaine")
            .and_then(Value::as_str)
            .unwrap_or("localhost");
        let base = format!("https://{domaine}");
        let serves: serde_json::Map<String, Value> = plan
            .serves
            .iter()
            .map(|(p, path)| ((*p).to_owned(), json!(format!("{base}{path}"))))
            .collect();
        let mut secrets = Vec::new();
        let mut logins = BTreeMap::new();
        for client in &plan.clients {
            let slug = client.module.slug();
            let needs = &client.needs;
            let env = needs.secret.as_ref().and_then(|option| {
                let var = values
                    .get(&client.module)?
                    .values
                    .get(option)?
                    .value
                    .get("env")?
                    .as_str()?;
                Some(var.to_owned())
            });
            if let (Some(option), Some(var)) = (&needs.secret, &env) {
                secrets.push(json!({ "option": format!("{}.{option}", client.module), "env": var, "target_env": var }));
            }
            let entry = json!({
                "module": client.module.as_str(),
                "slug": slug,
                "client_id": slug,
                "protocol": client.protocol,
                "protocols": needs.protocols,
                "path": needs.redirect,
                "redirect": format!("{base}{}", needs.redirect),
                "attributes": needs.attributes,
                "url": serves[client.protocol],
                "secret": env.map(|var| json!({ "env": var })),
            });
            logins.insert(client.module.clone(), entry);
        }
        // What provider templates loop over, grouped here: Tera has no
        // filter to select list items nor to build a set.
        let mut by_protocol: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
        for client in &plan.clients {
            by_protocol
                .entry(client.protocol)
                .or_default()
                .push(&logins[&client.module]);
        }
        let attributes: std::collections::BTreeSet<&str> = plan
            .clients
            .iter()
            .flat_map(|c| c.needs.attributes.iter().map(String::as_str))
            .collect();
        let value = json!({
            "provider": plan.provider.as_str(),
            "slug": plan.provider.slug(),
            "url": base,
            "serves": serves,
            "services": logins.values().collect::<Vec<_>>(),
            "by_protocol": by_protocol,
            "attributes": attributes,
            // Per attribute, the directory's attribute that holds it: its own
            // name since the annuaire holds the SDET schema (docs/accounts.md).
            // Module versions published before read the directory's name here.
            "ldap": attributes.iter().map(|a| (*a, *a)).collect::<BTreeMap<_, _>>(),
        });
        Sso {
            provider: plan.provider.clone(),
            value: TeraValue::from_serializable(&value),
            logins,
            secrets,
        }
    }
}

pub fn target_name(target: Target) -> &'static str {
    match target {
        Target::Compose => "compose",
        Target::Kubernetes => "kubernetes",
    }
}

pub fn etab_json(e: &Etablissement) -> Value {
    json!({ "uai": e.uai, "nom": e.nom, "type": e.kind, "commune": e.commune, "departement": e.departement, "secteur": e.secteur, "extra": e.extra })
}

pub fn probe_json(probe: &Probe) -> Value {
    match probe {
        Probe::Http { port, path } => json!({ "http": { "port": port, "path": path } }),
        Probe::Tcp(port) => json!({ "tcp": port }),
        Probe::Exec(command) => json!({ "exec": command }),
    }
}

/// `service` as templates see it: the deployment contract (docs/render.md),
/// plus `port` (the main port) and `path` (the main HTTP path, when the
/// service has an HTTP port) that module templates read.
pub fn service_json(module: &Module) -> Option<Value> {
    let s = module.service.as_ref()?;
    let slug = module.name.slug();
    let probe = s.probe.as_ref().map(probe_json);
    let secrets: serde_json::Map<String, Value> = s
        .secrets
        .iter()
        .map(|(option, delivery)| {
            let v = match delivery {
                SecretDelivery::Env(var) => json!({ "env": var }),
                SecretDelivery::File(path) => json!({ "file": path }),
            };
            (option.clone(), v)
        })
        .collect();
    let mut service = json!({
        "image": s.image,
        "command": s.command,
        "environment": s.environment,
        "files": s.files.iter().map(|f| json!({
            "source": f.source,
            "mount": f.mount,
            "doc": f.doc,
            "path": format!("conf/{slug}/{}", f.source),
        })).collect::<Vec<_>>(),
        "data": s.data.iter().map(|d| json!({ "name": d.name, "mount": d.mount, "size": d.size })).collect::<Vec<_>>(),
        "ports": s.ports.iter().map(|p| json!({ "name": p.name, "port": p.port, "http": p.http, "publish": p.publish })).collect::<Vec<_>>(),
        "databases": s.databases.iter().map(|d| json!({ "engine": d.engine, "env": d.env })).collect::<Vec<_>>(),
        "secrets": secrets,
    });
    if let Some(main) = s.main_port() {
        service["port"] = json!(main.port);
        if let Some(path) = &main.http {
            service["path"] = json!(path);
        }
    }
    if let Some(probe) = probe {
        service["probe"] = probe;
    }
    // Read by templates written before the contract (`service.health`).
    if let Some(Probe::Http { path, .. }) = &s.probe {
        service["health"] = json!(path);
    }
    Some(service)
}

/// `module` as templates see it (docs/formats.md, "The render context").
pub fn module_json(module: &Module) -> Value {
    let mut m = json!({
        "name": module.name.as_str(),
        "namespace": module.name.namespace(),
        "short_name": module.name.short_name(),
        "slug": module.name.slug(),
        "version": module.version.to_string(),
        "licence": module.licence,
        "summary": module.summary,
        "category": module.category,
        "audiences": module.audiences,
    });
    if let Some(repository) = &module.repository {
        m["repository"] = json!(repository);
    }
    if let Some(service) = service_json(module) {
        m["service"] = service;
    }
    m
}

impl SharedContext {
    pub fn new(
        chain: &DistributionChain,
        target: Target,
        settings: &serde_json::Map<String, Value>,
        modules: &BTreeMap<ModuleName, Module>,
    ) -> Self {
        let top = chain.top();
        let mut collectivite = serde_json::Map::new();
        if let Some(c) = chain
            .layers
            .iter()
            .rev()
            .find_map(|l| l.collectivite.as_ref())
        {
            collectivite.insert("nom".into(), json!(c.nom));
            collectivite.insert("type".into(), json!(c.kind));
            if let Some(siren) = &c.siren {
                collectivite.insert("siren".into(), json!(siren));
            }
        }
        let etabs: Vec<(String, TeraValue)> = chain
            .etablissements()
            .iter()
            .map(|e| (e.uai.clone(), TeraValue::from_serializable(&etab_json(e))))
            .collect();
        let list: Vec<Value> = chain.etablissements().iter().map(etab_json).collect();
        let module_map: serde_json::Map<String, Value> = modules
            .iter()
            .map(|(name, m)| {
                let mut entry = json!({ "name": name.as_str(), "slug": name.slug(), "version": m.version.to_string(), "category": m.category, "audiences": m.audiences, "summary": m.summary });
                if let Some(service) = service_json(m) {
                    entry["service"] = service;
                }
                (name.to_string(), entry)
            })
            .collect();
        let scale = chain.scale();
        let distribution_json = json!({
            "name": top.name.as_str(),
            "version": top.version.to_string(),
            "target": target_name(target),
            "scale": { "comptes": scale.comptes, "eleves": scale.eleves, "etablissements": scale.etablissements },
        });
        SharedContext {
            settings: TeraValue::from_serializable(settings),
            distribution: TeraValue::from_serializable(&distribution_json),
            distribution_json,
            collectivite: TeraValue::from_serializable(&collectivite),
            etablissements: TeraValue::from_serializable(&list),
            modules: TeraValue::from_serializable(&module_map),
            etabs,
            image_registry: settings
                .get("images")
                .and_then(|i| i.get("registry"))
                .and_then(Value::as_str)
                .map(|r| r.trim_end_matches('/').to_owned()),
            scale,
            sso: None,
            mounts_per_file: target == Target::Kubernetes,
        }
    }

    /// `module` as its templates see it: [`module_json`], plus `login` for
    /// a service that logs users in through the SSO.
    pub fn module_value(&self, module: &Module) -> TeraValue {
        let mut value = module_json(module);
        if let Some(login) = self.sso.as_ref().and_then(|s| s.logins.get(&module.name)) {
            value["login"] = login.clone();
        }
        TeraValue::from_serializable(&value)
    }

    /// The context of one module template (without `etab`).
    pub fn for_module(&self, module: &TeraValue, config: &TeraValue) -> Context {
        let mut context = Context::new();
        context.insert_value("settings", self.settings.clone());
        context.insert_value("distribution", self.distribution.clone());
        context.insert_value("collectivite", self.collectivite.clone());
        context.insert_value("etablissements", self.etablissements.clone());
        context.insert_value("modules", self.modules.clone());
        context.insert_value("module", module.clone());
        context.insert_value("config", config.clone());
        if let Some(sso) = &self.sso {
            context.insert_value("sso", sso.value.clone());
        }
        context
    }
}

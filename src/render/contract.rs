//! The deployment contract (module.yaml `service`) turned into what the
//! target templates place: environment (plain, secret, database), mounts,
//! ports split into routes / internal / published, and the databases each
//! database module creates. Computed here once, so that the compose and
//! Kubernetes templates only lay it out (docs/render.md).

use serde_json::{Value, json};

use super::bundle::Staging;
use super::context::SharedContext;
use crate::manifest::diagnostic::Position;
use crate::manifest::security::{self, Exception};
use crate::manifest::service::{Container, MountedFile, Service};
use crate::manifest::sizing::{Scale, Sizing, cpu_cores, cpu_quantity, memory_quantity};
use crate::manifest::yaml::Span;
use crate::manifest::{Code, Diagnostic, Module};

/// Where the files of a module without `service.files` (module.yaml before
/// the deployment contract) are mounted: a path no upstream image reads, kept
/// only until those modules declare theirs.
pub fn legacy_mount(slug: &str) -> String {
    format!("/etc/oent/{slug}/")
}

/// The variable holding the database password of a dependent module.
pub fn database_password_env(slug: &str) -> String {
    format!(
        "OENT_DB_PASSWORD_{}",
        slug.to_ascii_uppercase().replace('-', "_")
    )
}

/// The database and user name of a dependent module (SQL identifiers: no `-`).
pub fn database_name(slug: &str) -> String {
    slug.replace('-', "_")
}

pub fn default_port(engine: &str) -> u16 {
    match engine {
        "mariadb" => 3306,
        _ => 5432,
    }
}

/// The contract's fields for the deployment templates, added to `entry`.
/// `secrets` are the module's secret options (`option`, `env`: the variable
/// the operator fills, `target_env` / `file`: how it reaches the software).
pub fn place(
    module: &Module,
    service: &Service,
    config_files: &[&String],
    secrets: &[Value],
    shared: &SharedContext,
    entry: &mut Value,
) {
    let scale = &shared.scale;
    let slug = module.name.slug();
    match &service.sizing {
        Some(sizing) => entry["sizing"] = sized(sizing, scale, service),
        None => {
            if let Some(map) = entry.as_object_mut() {
                map.remove("sizing");
            }
        }
    }
    let mut env: Vec<Value> = service
        .environment
        .iter()
        .map(|(name, value)| {
            json!({ "name": name, "value": value, "origin": "`service.environment`" })
        })
        .collect();
    let mut secret_files = Vec::new();
    for secret in secrets {
        let option = secret["option"].as_str().unwrap_or_default();
        let why = format!("option {option}");
        if let Some(file) = secret.get("file") {
            secret_files.push(json!({
                "name": format!("{slug}-{}", option.replace('_', "-")),
                "env": secret["env"],
                "file": file,
            }));
        } else {
            let origin = format!("the secret option `{option}`");
            env.push(json!({
                "name": secret["target_env"], "secret": secret["env"], "why": why, "origin": origin,
            }));
        }
    }
    entry["env"] = json!(env);
    entry["secret_files"] = json!(secret_files);
    entry["files"] = json!(files(service, &slug, config_files));
    // One entry per rendered file: a country's bundle has hundreds of
    // thousands, made only for the target that reads them.
    if shared.mounts_per_file {
        entry["k8s_mounts"] = json!(k8s_mounts(service, &slug, config_files));
    }
    entry["local_files"] = json!(local_files(service));
    let routes: Vec<Value> = service
        .ports
        .iter()
        .filter_map(|p| Some(json!({ "name": p.name, "port": p.port, "path": p.http.as_ref()? })))
        .collect();
    entry["routes"] = json!(routes);
    entry["internal_ports"] = json!(
        service
            .ports
            .iter()
            .filter(|p| !p.publish)
            .map(|p| p.port)
            .collect::<Vec<_>>()
    );
    entry["published_ports"] = json!(
        service
            .ports
            .iter()
            .filter(|p| p.publish)
            .map(|p| p.port)
            .collect::<Vec<_>>()
    );
    entry["provides"] = json!(module.provides);
    // The modules this one talks to (docs/render.md, "Security"): what it
    // `requires` or may use (`optional`); with `databases`, the clients each
    // NetworkPolicy lets in.
    entry["reads"] = json!(
        module
            .requires
            .keys()
            .chain(module.optional.keys())
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    entry["security"] = security_json(service);
}

/// `service.security` as the targets lay it out (docs/render.md,
/// "Security"); a contract without it gets the defaults: not root, its UID
/// left to the image, a read-only root with `/tmp` writable.
fn security_json(service: &Service) -> Value {
    let s = service.security.as_ref();
    let root = s.is_some_and(|s| s.user == 0);
    let writable: Vec<Value> = match s {
        Some(s) => s.writable.iter().map(String::as_str).collect(),
        None => vec!["/tmp"],
    }
    .into_iter()
    .enumerate()
    .map(|(i, path)| json!({ "name": format!("writable-{i}"), "path": path }))
    .collect();
    let mut exceptions: Vec<Exception> = s.map(|s| s.exceptions.clone()).unwrap_or_default();
    exceptions.extend(security::stated(&service.image, s));
    let exceptions: Vec<Value> = exceptions
        .iter()
        .map(|e| {
            let rule = security::RULES.iter().find(|r| r.name == e.rule);
            json!({
                "rule": e.rule,
                "reason": e.reason,
                "asks": rule.map(|r| r.asks),
                "checks": rule.map(|r| r.checks),
            })
        })
        .collect();
    let capabilities = s.map(|s| s.capabilities.clone()).unwrap_or_default();
    json!({
        "user": s.map(|s| s.user),
        "group": s.map(|s| s.group),
        "root": root,
        "read_only_root": s.is_none_or(security::Security::read_only_root),
        "writable": writable,
        // Kubernetes' restricted Pod Security Standard allows no other.
        "restricted": !root && capabilities.iter().all(|c| c == "NET_BIND_SERVICE"),
        "capabilities": capabilities,
        // A process that is not root binds a port below 1024 through this
        // namespaced sysctl (Kubernetes' safe set, Docker's default): Kubernetes
        // gives a non-root process no ambient NET_BIND_SERVICE.
        "low_port": !root && service.ports.iter().any(|p| p.port < 1024),
        "exceptions": exceptions,
    })
}

/// Per service, the other services that may connect to it (docs/render.md,
/// "Security"): the containers of its own module, the modules that read its
/// module (`requires`, `optional`), and those whose `databases` it provides.
pub fn link_clients(services: &mut [Value]) {
    let clients: Vec<Vec<String>> = services
        .iter()
        .map(|target| {
            let name = &target["name"];
            let provides = target["provides"].as_array().cloned().unwrap_or_default();
            let mut found: Vec<String> = services
                .iter()
                .filter(|client| client["slug"] != target["slug"])
                .filter(|client| {
                    client["name"] == *name
                        || client["reads"].as_array().is_some_and(|r| r.contains(name))
                        || client["databases"].as_array().is_some_and(|d| {
                            d.iter().any(|need| provides.contains(&need["engine"]))
                        })
                })
                .filter_map(|client| Some(client["slug"].as_str()?.to_owned()))
                .collect();
            found.sort();
            found.dedup();
            found
        })
        .collect();
    for (service, clients) in services.iter_mut().zip(clients) {
        service["clients"] = json!(clients);
    }
}

/// A second container of a module (`service.containers`) as its own
/// service entry `<slug>-<name>`: the module's labels and files, its own
/// image, ports, probe and data; no secrets.
pub fn container_entry(
    module: &Module,
    main: &Value,
    container: &Container,
    config_files: &[&String],
    shared: &SharedContext,
) -> Value {
    let mut entry = main.clone();
    let slug = format!("{}-{}", module.name.slug(), container.name);
    entry["slug"] = json!(slug);
    entry["container"] = json!(container.name);
    entry["secrets"] = json!([]);
    for key in ["port", "path", "probe"] {
        if let Some(map) = entry.as_object_mut() {
            map.remove(key);
        }
    }
    let s = &container.service;
    entry["image"] = json!(s.image);
    entry["command"] = json!(s.command);
    entry["data"] = json!(
        s.data
            .iter()
            .map(|d| json!({ "name": d.name, "mount": d.mount, "size": d.size }))
            .collect::<Vec<_>>()
    );
    entry["ports"] = json!(
        s.ports
            .iter()
            .map(
                |p| json!({ "name": p.name, "port": p.port, "http": p.http, "publish": p.publish })
            )
            .collect::<Vec<_>>()
    );
    if let Some(probe) = &s.probe {
        entry["probe"] = super::context::probe_json(probe);
    }
    place(module, s, config_files, &[], shared, &mut entry);
    entry
}

/// `sizing` computed for the distribution's scale, in each target's words
/// (docs/render.md, "Sizing"): Kubernetes quantities for `resources`,
/// Compose's `cpus` and byte values for `deploy.resources`.
fn sized(sizing: &Sizing, scale: &Scale, service: &Service) -> Value {
    let sized = sizing.at(scale);
    let side = |cpu: Option<u64>, memory: Option<u64>, compose: bool| {
        let mut out = serde_json::Map::new();
        if let Some(cpu) = cpu {
            let (key, v) = if compose {
                ("cpus", cpu_cores(cpu))
            } else {
                ("cpu", cpu_quantity(cpu))
            };
            out.insert(key.into(), json!(v));
        }
        if let Some(memory) = memory {
            out.insert("memory".into(), json!(memory_quantity(memory, compose)));
        }
        (!out.is_empty()).then_some(Value::Object(out))
    };
    let requests = |compose| side(Some(sized.cpu.request), Some(sized.memory.request), compose);
    let limits = |compose| side(sized.cpu.limit, sized.memory.limit, compose);
    let mut out = json!({
        "per": sizing.per,
        "unit": sizing.unit,
        "measure": scale.measure(sizing.per),
        "stateless": sized.stateless,
        "replicas": sized.replicas,
        // A host port is bound once: Compose runs one replica of a service
        // that publishes one.
        "compose_replicas": if service.ports.iter().any(|p| p.publish) { 1 } else { sized.replicas },
        "disruption_budget": sized.replicas > 1,
        "kubernetes": { "requests": requests(false), "limits": limits(false) },
        "compose": { "reservations": requests(true), "limits": limits(true) },
    });
    if let Some(max) = sized.autoscale_max {
        out["autoscale"] = json!({ "min": sized.replicas, "max": max });
    }
    out
}

/// `service.files`, each with its path in the bundle; a module without any
/// gets its whole folder at [`legacy_mount`].
fn files(service: &Service, slug: &str, config_files: &[&String]) -> Vec<Value> {
    if rendered(service).next().is_none() && !config_files.is_empty() {
        return vec![json!({
            "source": "", "mount": legacy_mount(slug), "doc": null, "expand": false,
            "path": format!("conf/{slug}/"),
        })];
    }
    rendered(service)
        .map(|f| json!({ "source": f.source, "mount": f.mount, "doc": f.doc, "expand": f.expand_env, "path": format!("conf/{slug}/{}", f.source) }))
        .collect()
}

/// The `service.files` a template renders (not those the operator provides).
fn rendered(service: &Service) -> impl Iterator<Item = &MountedFile> {
    service.files.iter().filter(|f| !f.provided)
}

/// `service.files` with `local:`: `path` under the operator's `local/`
/// (compose mounts `../../local/<path>`), `key` in the Secret
/// `<distribution>-local-files` (a key cannot hold `/`: it becomes `__`).
fn local_files(service: &Service) -> Vec<Value> {
    service
        .files
        .iter()
        .filter(|f| f.provided)
        .map(|f| json!({ "path": f.source, "mount": f.mount, "doc": f.doc, "key": f.source.replace('/', "__") }))
        .collect()
}

/// One subPath mount per rendered file: a folder source mounts each file
/// under it. The key is the ConfigMap's (kustomization.yaml.tera: `/` → `__`).
fn k8s_mounts(service: &Service, slug: &str, config_files: &[&String]) -> Vec<Value> {
    let prefix = format!("conf/{slug}/");
    let sources: Vec<(String, String)> = if rendered(service).next().is_none() {
        vec![(String::new(), legacy_mount(slug))]
    } else {
        rendered(service)
            .map(|f| (f.source.clone(), f.mount.clone()))
            .collect()
    };
    let mut out = Vec::new();
    for file in config_files {
        let relative = file.strip_prefix(&prefix).unwrap_or(file);
        for (source, mount) in &sources {
            let target = if relative == source {
                mount.clone()
            } else if (source.is_empty() || source.ends_with('/'))
                && let Some(rest) = relative.strip_prefix(source.as_str())
            {
                format!("{}/{rest}", mount.trim_end_matches('/'))
            } else {
                continue;
            };
            out.push(json!({ "key": relative.replace('/', "__"), "mount": target }));
        }
    }
    out
}

/// Database needs met: each dependent gets host, port, name, user and
/// password variables (those its contract names), and each database module
/// gets the password variable of each dependent, for its init script. Also
/// returns, per password variable, the dependent it is for (secrets.env).
pub fn link_databases(modules: &mut [Value]) -> Vec<(String, String)> {
    let mut passwords = Vec::new();
    let providers: Vec<(String, String)> = modules
        .iter()
        .filter_map(|m| {
            let slug = m["slug"].as_str()?.to_owned();
            let provides = m["provides"].as_array()?;
            Some(
                provides
                    .iter()
                    .filter_map(|c| Some((c.as_str()?.to_owned(), slug.clone())))
                    .collect::<Vec<_>>(),
            )
        })
        .flatten()
        .collect();
    let mut for_providers: Vec<(String, Value)> = Vec::new();
    for m in modules.iter_mut() {
        let Some(needs) = m.pointer("/databases").and_then(Value::as_array).cloned() else {
            continue;
        };
        let slug = m["slug"].as_str().unwrap_or_default().to_owned();
        let name = m["name"].as_str().unwrap_or_default().to_owned();
        for need in needs {
            let engine = need["engine"].as_str().unwrap_or_default();
            let Some((_, host)) = providers.iter().find(|(c, _)| c == engine) else {
                continue;
            };
            let password = database_password_env(&slug);
            let values = [
                ("host", json!(host)),
                ("port", json!(default_port(engine).to_string())),
                ("name", json!(database_name(&slug))),
                ("user", json!(database_name(&slug))),
            ];
            let env = m["env"].as_array_mut();
            let Some(env) = env else { continue };
            let origin =
                |setting: &str| format!("the `{engine}` database (`databases.env.{setting}`)");
            for (setting, value) in values {
                if let Some(var) = need["env"][setting].as_str() {
                    env.push(json!({ "name": var, "value": value, "origin": origin(setting) }));
                }
            }
            let why = format!("base {engine} de {name}");
            if let Some(var) = need["env"]["password"].as_str() {
                env.push(json!({
                    "name": var, "secret": password, "why": why, "origin": origin("password"),
                }));
            }
            passwords.push((password.clone(), why.clone()));
            for_providers.push((
                host.clone(),
                json!({
                    "name": password, "secret": password, "why": why,
                    "origin": format!("the database of `{name}`"),
                }),
            ));
        }
    }
    for (host, env) in for_providers {
        if let Some(m) = modules.iter_mut().find(|m| m["slug"] == host.as_str())
            && let Some(list) = m["env"].as_array_mut()
        {
            list.push(env);
        }
    }
    passwords
}

/// Two entries of one container's environment with one name: Compose
/// refuses the file (a duplicate key) and Kubernetes keeps only the last,
/// so the software would not read what one of them says. Refused, naming
/// the module and both origins.
pub fn duplicate_environment(
    services: &[Value],
    distribution: &std::path::Path,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    for s in services {
        let mut seen: std::collections::BTreeMap<&str, &str> = Default::default();
        for e in s["env"].as_array().into_iter().flatten() {
            let Some(var) = e["name"].as_str() else {
                continue;
            };
            let origin = e["origin"].as_str().unwrap_or("the contract");
            let Some(first) = seen.insert(var, origin) else {
                continue;
            };
            let module = s["name"].as_str().unwrap_or_default();
            problems.push(
                Diagnostic::error(
                    Code::ContractEnv,
                    distribution,
                    format!(
                        "the container `{}` of `{module}` would get `{var}` twice: from {first} and from {origin}",
                        s["slug"].as_str().unwrap_or_default()
                    ),
                )
                .key(format!("modules.{module}"))
                .help("give the variable one source: drop the module's own option where the contract fills it (its `databases.env`), or rename one of the two"),
            );
        }
    }
    problems
}

/// The registry host of the catalogue's own images until they are published:
/// nothing is pulled from it (docs/render.md, "Placeholder images").
pub const PLACEHOLDER_REGISTRY: &str = "registry.example.org/";

/// Points each placeholder image at `registry` (`settings.images.registry`)
/// when set; returns the images that stay placeholders.
pub fn rewrite_placeholder_images(modules: &mut [Value], registry: Option<&str>) -> Vec<String> {
    let mut left = Vec::new();
    for m in modules.iter_mut() {
        let Some(image) = m["image"].as_str() else {
            continue;
        };
        let Some(rest) = image.strip_prefix(PLACEHOLDER_REGISTRY) else {
            continue;
        };
        match registry {
            Some(registry) => m["image"] = json!(format!("{registry}/{rest}")),
            None => left.push(image.to_owned()),
        }
    }
    left
}

/// W007 for each rendered file that holds `${VAR}` nothing fills: only a
/// file the contract declares `expand: env` is filled at start, and only
/// with variables its service receives. One warning per mounted entry and
/// variable, at its first file, with the count of the others: a folder of
/// per-établissement files would otherwise repeat one fix 732 times (and
/// drawing them was most of a large build's time).
pub fn unfilled_placeholders(services: &[Value], staging: &Staging) -> Vec<Diagnostic> {
    let mut found = OncePerKey::default();
    for s in services {
        let name = s["name"].as_str().unwrap_or_default();
        let env: Vec<&str> = s["env"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["name"].as_str())
            .collect();
        let files = s["files"].as_array().cloned().unwrap_or_default();
        for path in s["config_files"].as_array().into_iter().flatten() {
            let Some(path) = path.as_str() else { continue };
            // Only what this container mounts is read by it.
            let covering = files.iter().find(|f| {
                let source = f["path"].as_str().unwrap_or_default();
                path == source || (source.ends_with('/') && path.starts_with(source))
            });
            let Some(covering) = covering else { continue };
            let expands = covering["expand"] == true;
            let Some(bytes) = staging.read_with_placeholder(path) else {
                continue;
            };
            // Not text (an image, an archive): no placeholder to fill.
            let Ok(text) = std::str::from_utf8(&bytes) else {
                continue;
            };
            let unfilled = placeholders(text)
                .into_iter()
                .find(|(_, var)| !(expands && env.contains(var)));
            let Some((offset, var)) = unfilled else {
                continue;
            };
            let entry = covering["path"].as_str().unwrap_or(path).to_owned();
            found.add((name.to_owned(), entry, var.to_owned()), || {
                unfilled_warning(name, path, text, offset, var, expands, staging)
            });
        }
    }
    found.finish()
}

/// The first warning of each key, told how many more files share it;
/// counted as they are found, each made only for a key not seen yet (a
/// country's per-établissement folder finds the same one 11,000 times).
struct OncePerKey<K> {
    seen: std::collections::HashMap<K, usize>,
    out: Vec<(Diagnostic, usize)>,
}

impl<K> Default for OncePerKey<K> {
    fn default() -> Self {
        OncePerKey {
            seen: std::collections::HashMap::new(),
            out: Vec::new(),
        }
    }
}

impl<K: std::hash::Hash + Eq> OncePerKey<K> {
    fn add(&mut self, key: K, warning: impl FnOnce() -> Diagnostic) {
        match self.seen.get(&key) {
            Some(&i) => self.out[i].1 += 1,
            None => {
                self.seen.insert(key, self.out.len());
                self.out.push((warning(), 0));
            }
        }
    }

    fn finish(self) -> Vec<Diagnostic> {
        self.out
            .into_iter()
            .map(|(mut d, more)| {
                if more > 0 {
                    d.message
                        .push_str(&format!(" (and in {more} other files of the same mount)"));
                }
                d
            })
            .collect()
    }
}

fn unfilled_warning(
    service: &str,
    path: &str,
    text: &str,
    offset: usize,
    var: &str,
    expands: bool,
    staging: &Staging,
) -> Diagnostic {
    let line = text[..offset].matches('\n').count() + 1;
    let column = text[..offset]
        .rfind('\n')
        .map_or(offset, |n| offset - n - 1)
        + 1;
    let mut d = Diagnostic::warning(
        Code::UnfilledPlaceholder,
        &staging.shown().join(path),
        format!("`${{{var}}}` is left in the file: nothing replaces it when `{service}` starts"),
    )
    .help(if expands {
        format!("the service does not receive `{var}`: add it to `service.secrets` or `service.environment`")
    } else {
        "if the software replaces `${VAR}` from its environment, say so with `expand: env` in `service.files`; otherwise have the template read the value from the environment (`getenv`) or a mounted secret".to_owned()
    });
    d.position = Some(Position {
        span: Span::new(offset, offset + var.len() + 3),
        line,
        column,
    });
    d
}

/// `${NAME}` where NAME reads like an environment variable (upper case,
/// digits, `_`): `${cas.server.name}` is a Spring property, not one.
fn placeholders(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut rest = 0;
    while let Some(found) = text[rest..].find("${") {
        let start = rest + found;
        let body = &text[start + 2..];
        let end = body.find('}');
        if let Some(end) = end {
            let name = &body[..end];
            if !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                out.push((start, name));
            }
        }
        rest = start + 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unfilled_variable_is_told_once_per_mount_with_the_count_of_its_files() {
        let warning = |file: &str, var: &str| {
            Diagnostic::warning(
                Code::UnfilledPlaceholder,
                std::path::Path::new(file),
                format!("`${{{var}}}` is left"),
            )
        };
        let found = vec![
            (("m", "etabs/", "K"), warning("etabs/a.conf", "K")),
            (("m", "etabs/", "K"), warning("etabs/b.conf", "K")),
            (("m", "etabs/", "L"), warning("etabs/a.conf", "L")),
            (("m", "etabs/", "K"), warning("etabs/c.conf", "K")),
        ];
        let mut once = OncePerKey::default();
        for (key, warning) in found {
            once.add(key, || warning);
        }
        let told: Vec<(String, String)> = once
            .finish()
            .into_iter()
            .map(|d| (d.path.display().to_string(), d.message))
            .collect();
        let expected = [
            (
                "etabs/a.conf",
                "`${K}` is left (and in 2 other files of the same mount)",
            ),
            ("etabs/a.conf", "`${L}` is left"),
        ];
        assert_eq!(told, expected.map(|(p, m)| (p.to_owned(), m.to_owned())));
    }

    #[test]
    fn placeholders_are_environment_names_only() {
        let text = "a=${LDAP_PASSWORD}\nb=${cas.server.name}\nc=$HOME ${X1}";
        assert_eq!(placeholders(text), vec![(2, "LDAP_PASSWORD"), (48, "X1")]);
    }

    #[test]
    fn placeholder_images_point_at_the_registry_setting() {
        let mut modules = vec![
            json!({ "image": "registry.example.org/openent/portail:1.4.0" }),
            json!({ "image": "quay.io/keycloak/keycloak:26.0.7" }),
        ];
        let left = rewrite_placeholder_images(&mut modules.clone(), None);
        assert_eq!(left, ["registry.example.org/openent/portail:1.4.0"]);
        let left = rewrite_placeholder_images(&mut modules, Some("registry.cd91.fr/ent"));
        assert!(left.is_empty());
        assert_eq!(
            modules[0]["image"],
            "registry.cd91.fr/ent/openent/portail:1.4.0"
        );
        assert_eq!(modules[1]["image"], "quay.io/keycloak/keycloak:26.0.7");
    }
}

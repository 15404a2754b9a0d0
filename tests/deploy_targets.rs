//! The deployment targets (`templates/compose/`, `templates/kubernetes/`,
//! `templates/README.md.tera`; docs/render.md, "Deployment templates"),
//! checked with the real consumers of what they produce:
//!
//! - compose: the Compose Specification's JSON Schema (check-jsonschema's
//!   builtin `vendor.compose-spec`), and `nginx -t` on the proxy's file;
//! - kubernetes: kubernetes-validate `--strict` against Kubernetes 1.31's
//!   OpenAPI schemas, and `kubectl kustomize` on the bundle's
//!   kustomization.yaml, whose output (ConfigMaps included) is validated too.
//!
//! Two layers. The templates rendered with Tera 2 as `oent build` renders
//! them (each once, with the whole context, no autoescaping) from
//! tests/fixtures/deploy/context.json, written by hand after docs/render.md
//! for the distribution tests/fixtures/deploy/idf-lilie (7 modules, 8
//! lycées), and variants of it for the branches it does not reach; then the
//! bundles `oent build` writes for that distribution (kubernetes) and for
//! tests/fixtures/deploy/e-lyco/loire-atlantique (compose), checked the same
//! way against the same expected context, which
//! also pins the context the binary gives the templates. The validators are
//! installed by .ci/setup (nginx, the Python ones) or come with the machine
//! (kubectl); a missing one fails the test, it never skips.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Test, tools};
use tera::{Context, Tera};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn fixture_context() -> Value {
    let path = Path::new(ROOT).join("tests/fixtures/deploy/context.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Renders `templates/<name>` once with `context`, failing with Tera's
/// report (template, line) when it does not parse or reads an undefined value.
fn render(name: &str, context: &Value) -> String {
    let source = std::fs::read_to_string(Path::new(ROOT).join("templates").join(name))
        .unwrap_or_else(|e| panic!("templates/{name}: {e}"));
    let mut tera = Tera::default();
    tera.autoescape_on(Vec::<&str>::new());
    tera.add_raw_template(name, &source)
        .unwrap_or_else(|e| panic!("templates/{name} does not parse: {e:?}"));
    let context = Context::from_serialize(context).unwrap();
    let first = tera
        .render(name, &context)
        .unwrap_or_else(|e| panic!("templates/{name} does not render: {e:?}"));
    let second = tera.render(name, &context).unwrap();
    assert_eq!(
        first, second,
        "templates/{name}: the output is not deterministic"
    );
    first
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Lays out a bundle as docs/render.md describes it, from the templates:
/// README.md, the target's files, and a stand-in for each rendered module
/// file listed in `config_files` (their contents do not matter here).
fn write_bundle(context: &Value, out: &Path) {
    write(&out.join("README.md"), &render("README.md.tera", context));
    for service in context["services"].as_array().unwrap() {
        for file in service["config_files"].as_array().unwrap() {
            let file = file.as_str().unwrap();
            write(&out.join(file), &format!("# {file}\n"));
        }
    }
    match context["distribution"]["target"].as_str().unwrap() {
        "compose" => {
            write(
                &out.join("compose/compose.yaml"),
                &render("compose/compose.yaml.tera", context),
            );
            write(
                &out.join("compose/nginx/oent.conf"),
                &render("compose/nginx/oent.conf.tera", context),
            );
        }
        "kubernetes" => {
            // At the bundle root: kustomize reads no file outside its own
            // directory, and the ConfigMaps come from conf/.
            write(
                &out.join("kustomization.yaml"),
                &render("kubernetes/kustomization.yaml.tera", context),
            );
            for name in ["namespace", "network", "services", "ingress"] {
                write(
                    &out.join(format!("kubernetes/{name}.yaml")),
                    &render(&format!("kubernetes/{name}.yaml.tera"), context),
                );
            }
        }
        other => panic!("unknown target {other}"),
    }
}

fn parse_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse_yaml_documents(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .unwrap()
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

fn services(context: &Value) -> &Vec<Value> {
    context["services"].as_array().unwrap()
}

fn secret_envs(service: &Value) -> Vec<&str> {
    service["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["env"].as_str().unwrap())
        .collect()
}

/// The port numbers of a Kubernetes Service.
fn port_numbers(service: &Value) -> Vec<&Value> {
    service["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["port"])
        .collect()
}

fn list<'a>(service: &'a Value, key: &str) -> &'a Vec<Value> {
    service[key]
        .as_array()
        .unwrap_or_else(|| panic!("{}: no list `{key}`", service["name"]))
}

/// The compose `volumes` of a service: each file at its contract mount,
/// read-only, then each data volume.
fn compose_volumes(service: &Value) -> Vec<String> {
    let slug = service["slug"].as_str().unwrap();
    let files = list(service, "files").iter().map(|f| {
        format!(
            "../{}:{}:ro",
            f["path"].as_str().unwrap(),
            f["mount"].as_str().unwrap()
        )
    });
    let data = list(service, "data").iter().map(|d| {
        format!(
            "{slug}-{}:{}",
            d["name"].as_str().unwrap(),
            d["mount"].as_str().unwrap()
        )
    });
    files.chain(data).collect()
}

/// compose/compose.yaml against the Compose Specification, then what the
/// schema cannot say: one entry per service, secrets as required
/// interpolations (never values), read-only configuration, health checks
/// only where the module declares `health`.
fn check_compose(context: &Value, bundle: &Path) {
    let file = bundle.join("compose/compose.yaml");
    tools::compose_schema(&file);

    let compose = parse_yaml(&file);
    assert!(
        compose.get("version").is_none(),
        "`version` is obsolete in the Compose Specification"
    );
    assert_eq!(compose["name"], context["distribution"]["slug"]);
    let entries = compose["services"].as_object().unwrap();
    assert_eq!(
        entries.len(),
        services(context).len() + 1,
        "one per service, and the proxy"
    );
    for service in services(context) {
        let slug = service["slug"].as_str().unwrap();
        let entry = &entries[slug];
        assert_eq!(entry["image"], service["image"], "{slug}");
        assert_eq!(entry["restart"], "unless-stopped", "{slug}");
        assert_eq!(
            entry["labels"]["org.oent.module"], service["name"],
            "{slug}"
        );
        assert_eq!(
            entry["labels"]["org.oent.version"], service["version"],
            "{slug}"
        );
        assert_eq!(
            entry["labels"]["org.oent.distribution"],
            context["distribution"]["name"]
        );
        let env = list(service, "env");
        if env.is_empty() {
            assert!(entry.get("environment").is_none(), "{slug}");
        } else {
            let environment = entry["environment"].as_object().unwrap();
            assert_eq!(environment.len(), env.len(), "{slug}");
            for e in env {
                let value = environment[e["name"].as_str().unwrap()].as_str().unwrap();
                match e["secret"].as_str() {
                    Some(var) => assert!(
                        value.starts_with(&format!("${{{var}:?")) && value.ends_with('}'),
                        "{slug}: {var} must be a required interpolation, got {value}"
                    ),
                    None => assert_eq!(value, e["value"].as_str().unwrap().replace('$', "$$")),
                }
            }
        }
        let volumes = compose_volumes(service);
        if volumes.is_empty() {
            assert!(entry.get("volumes").is_none(), "{slug}");
        } else {
            assert_eq!(entry["volumes"], json!(volumes), "{slug}");
            for f in list(service, "files") {
                let path = bundle.join(f["path"].as_str().unwrap());
                assert!(
                    path.exists(),
                    "{slug}: {} is mounted but absent",
                    path.display()
                );
            }
        }
        let ports = |key: &str| -> Value {
            let ports = list(service, key);
            if ports.is_empty() {
                Value::Null
            } else if key == "published_ports" {
                json!(ports.iter().map(|p| format!("{p}:{p}")).collect::<Vec<_>>())
            } else {
                json!(ports.iter().map(|p| p.to_string()).collect::<Vec<_>>())
            }
        };
        assert_eq!(entry["expose"], ports("internal_ports"), "{slug}");
        assert_eq!(entry["ports"], ports("published_ports"), "{slug}");
        // Compose health checks only for `exec` probes (a command the module
        // says its image has): never a `wget` the image may lack.
        match service.pointer("/probe/exec") {
            Some(exec) => {
                let test = entry["healthcheck"]["test"].as_array().unwrap();
                assert_eq!(test[0], "CMD");
                assert_eq!(&test[1..], exec.as_array().unwrap().as_slice(), "{slug}");
            }
            None => assert!(entry.get("healthcheck").is_none(), "{slug}"),
        }
        check_compose_hardening(service, entry);
    }
    let proxy = &entries["proxy"];
    assert_eq!(proxy["networks"], json!(["front"]));
    assert_eq!(compose["networks"]["back"]["internal"], true);
    assert_eq!(proxy["image"], "nginx:1.27-alpine");
    assert_eq!(proxy["ports"], json!(["80:80"]));
    assert_eq!(
        proxy["volumes"],
        json!(["./nginx/oent.conf:/etc/nginx/conf.d/default.conf:ro"])
    );
    let slugs: Vec<&Value> = services(context)
        .iter()
        .filter(|s| !list(s, "routes").is_empty())
        .map(|s| &s["slug"])
        .collect();
    let depends: Vec<&Value> = proxy["depends_on"].as_array().unwrap().iter().collect();
    assert_eq!(
        depends, slugs,
        "the proxy waits for the services it routes to"
    );
}

/// docs/render.md, "Security", on Compose: the contract's user, a
/// read-only root with tmpfs where it writes, no capability, no privilege
/// gained, limits; only services the proxy reaches (or that publish a port)
/// on its network, the others on the internal one only.
fn check_compose_hardening(service: &Value, entry: &Value) {
    let slug = service["slug"].as_str().unwrap();
    let security = &service["security"];
    match security["user"].as_u64() {
        Some(user) => assert_eq!(
            entry["user"],
            format!("{user}:{}", security["group"]),
            "{slug}"
        ),
        None => assert!(entry.get("user").is_none(), "{slug}"),
    }
    assert_eq!(
        entry["read_only"].as_bool().unwrap_or(false),
        security["read_only_root"] == true,
        "{slug}"
    );
    let tmpfs: Vec<&Value> = list(security, "writable")
        .iter()
        .map(|w| &w["path"])
        .collect();
    if tmpfs.is_empty() {
        assert!(entry.get("tmpfs").is_none(), "{slug}");
    } else {
        assert_eq!(entry["tmpfs"], json!(tmpfs), "{slug}");
    }
    assert_eq!(entry["cap_drop"], json!(["ALL"]), "{slug}");
    assert_eq!(
        entry["security_opt"],
        json!(["no-new-privileges:true"]),
        "{slug}"
    );
    let limits = &entry["deploy"]["resources"]["limits"];
    assert!(
        limits["cpus"].is_string() && limits["memory"].is_string(),
        "{slug}: {limits}"
    );
    let reached =
        !list(service, "routes").is_empty() || !list(service, "published_ports").is_empty();
    let networks = if reached {
        json!(["back", "front"])
    } else {
        json!(["back"])
    };
    assert_eq!(entry["networks"], networks, "{slug}");
}

/// compose/nginx/oent.conf is included inside `http { }` by the nginx image:
/// include it the same way in a minimal nginx.conf and let nginx check it.
fn check_nginx(context: &Value, bundle: &Path) {
    let conf = bundle.join("compose/nginx/oent.conf");
    tools::nginx_t(&conf, &bundle.join("nginx-check"));

    let text = std::fs::read_to_string(&conf).unwrap();
    let domaine = context["settings"]["domaine"].as_str().unwrap();
    assert!(text.contains(&format!("server_name {domaine};")));
    assert!(text.contains("resolver 127.0.0.11 valid=30s"));
    for service in services(context) {
        let slug = service["slug"].as_str().unwrap();
        for route in list(service, "routes") {
            let port = &route["port"];
            let variable = format!("$upstream_{}_{port}", slug.replace('-', "_"));
            assert!(
                text.contains(&format!("set {variable} http://{slug}:{port};"))
                    && text.contains(&format!("proxy_pass {variable};")),
                "{slug}: no proxied location"
            );
            let path = route["path"].as_str().unwrap();
            let location = if path == "/" {
                "location / {".to_owned()
            } else {
                format!("location {path}/ {{")
            };
            assert!(text.contains(&location), "{slug}: no `{location}`");
        }
        // Ports that are not HTTP (LDAP, SQL, IMAPS, SMTP) are never proxied.
        for port in list(service, "ports")
            .iter()
            .filter(|p| p["http"].is_null())
        {
            let upstream = format!("http://{slug}:{}", port["port"]);
            assert!(!text.contains(&upstream), "{slug}: {upstream} is routed");
        }
    }
}

/// kubernetes/*.yaml against Kubernetes' schemas, strictly (unknown fields
/// are errors); then the kustomization built by kustomize, and its output
/// validated as well.
fn check_kubernetes(context: &Value, bundle: &Path) {
    tools::kubernetes_validate(&[
        bundle.join("kubernetes/services.yaml"),
        bundle.join("kubernetes/ingress.yaml"),
    ]);
    let built = tools::kustomize(bundle);
    let built_file = bundle.join("kustomize-build.yaml");
    write(&built_file, &built);
    tools::kubernetes_validate(std::slice::from_ref(&built_file));

    let documents = parse_yaml_documents(&built);
    let find = |kind: &str, name: &str| {
        documents
            .iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name} in the kustomize build"))
    };
    let part_of = &context["distribution"]["slug"];
    let secrets_name = format!("{}-secrets", part_of.as_str().unwrap());
    for service in services(context) {
        let slug = service["slug"].as_str().unwrap();
        // Persistent data: a StatefulSet whose claims outlive the pods.
        let data = list(service, "data");
        let kind = if data.is_empty() {
            "Deployment"
        } else {
            "StatefulSet"
        };
        let deployment = find(kind, slug);
        let labels = &deployment["metadata"]["labels"];
        assert_eq!(labels["app.kubernetes.io/name"], slug);
        assert_eq!(&labels["app.kubernetes.io/part-of"], part_of);
        // `+` (semver build metadata) is not allowed in a label value.
        let version = service["version"].as_str().unwrap().replace('+', "_");
        assert_eq!(labels["app.kubernetes.io/version"], version.as_str());
        let claims: Vec<Value> = data
            .iter()
            .map(|d| json!({ "metadata": { "name": d["name"] }, "spec": { "accessModes": ["ReadWriteOnce"], "resources": { "requests": { "storage": d["size"] } } } }))
            .collect();
        if claims.is_empty() {
            assert!(deployment["spec"].get("volumeClaimTemplates").is_none());
        } else {
            assert_eq!(
                deployment["spec"]["volumeClaimTemplates"],
                json!(claims),
                "{slug}"
            );
        }
        let pod = &deployment["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        assert_eq!(container["image"], service["image"], "{slug}");
        let ports: Vec<Value> = list(service, "ports")
            .iter()
            .map(|p| json!({ "name": p["name"], "containerPort": p["port"], "protocol": "TCP" }))
            .collect();
        assert_eq!(container["ports"], json!(ports), "{slug}");
        let env: Vec<Value> = list(service, "env")
            .iter()
            .map(|e| match e["secret"].as_str() {
                Some(var) => json!({ "name": e["name"], "valueFrom": { "secretKeyRef": { "name": secrets_name, "key": var } } }),
                None => json!({ "name": e["name"], "value": e["value"] }),
            })
            .collect();
        if env.is_empty() {
            assert!(container.get("env").is_none(), "{slug}");
        } else {
            assert_eq!(container["env"], json!(env), "{slug}");
        }
        let probe = &container["readinessProbe"];
        match service.get("probe") {
            Some(p) if p.get("http").is_some() => {
                assert_eq!(probe["httpGet"]["path"], p["http"]["path"], "{slug}");
                assert_eq!(probe["httpGet"]["port"], p["http"]["port"], "{slug}");
            }
            Some(p) if p.get("tcp").is_some() => {
                assert_eq!(probe["tcpSocket"]["port"], p["tcp"], "{slug}");
            }
            Some(p) => assert_eq!(probe["exec"]["command"], p["exec"], "{slug}"),
            None => assert!(container.get("readinessProbe").is_none(), "{slug}"),
        }

        // Services: every port in the ClusterIP one, published ones also in
        // a LoadBalancer.
        let service_ports: Vec<Value> = list(service, "ports")
            .iter()
            .map(|p| json!({ "name": p["name"], "port": p["port"], "targetPort": p["name"], "protocol": "TCP" }))
            .collect();
        let service_object = find("Service", slug);
        assert_eq!(
            service_object["spec"]["ports"],
            json!(service_ports),
            "{slug}"
        );
        let published: Vec<&Value> = list(service, "ports")
            .iter()
            .filter(|p| p["publish"] == true)
            .map(|p| &p["port"])
            .collect();
        let public_name = format!("{slug}-public");
        let public = documents
            .iter()
            .find(|d| d["kind"] == "Service" && d["metadata"]["name"] == public_name.as_str());
        match public {
            Some(public) => {
                assert_eq!(public["spec"]["type"], "LoadBalancer");
                let ports: Vec<&Value> = port_numbers(public);
                assert_eq!(ports, published, "{slug}");
            }
            None => assert!(published.is_empty(), "{slug}: no LoadBalancer"),
        }

        // The ConfigMap kustomize generated holds every rendered file, and
        // each is mounted with subPath at the path the contract names.
        check_pod_hardening(service, deployment, &documents, part_of);
        let files = service["config_files"].as_array().unwrap();
        let mounts = list(service, "k8s_mounts");
        if files.is_empty() {
            let volumes = pod["volumes"].as_array().into_iter().flatten();
            assert!(
                volumes.into_iter().all(|v| v.get("configMap").is_none()),
                "{slug}"
            );
            continue;
        }
        let volume = &pod["volumes"][0]["configMap"];
        let map_name = volume["name"].as_str().unwrap();
        assert!(
            map_name.starts_with(&format!("{slug}-conf-")),
            "{slug}: the volume does not use the generated ConfigMap: {map_name}"
        );
        let config_map = find("ConfigMap", map_name);
        let data = config_map["data"].as_object().unwrap();
        assert_eq!(data.len(), files.len(), "{slug}");
        let prefix = format!("{}/", service["config_dir"].as_str().unwrap());
        for file in files {
            let file = file.as_str().unwrap();
            let key = file.strip_prefix(&prefix).unwrap().replace('/', "__");
            let content = std::fs::read_to_string(bundle.join(file)).unwrap();
            assert_eq!(data[&key], content.as_str(), "{slug}: {key}");
        }
        let conf_mounts: Vec<Value> = mounts
            .iter()
            .map(|m| json!({ "name": "conf", "mountPath": m["mount"], "subPath": m["key"], "readOnly": true }))
            .collect();
        let found: Vec<&Value> = container["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["name"] == "conf")
            .collect();
        assert_eq!(json!(found), json!(conf_mounts), "{slug}");
    }

    let ingress = find("Ingress", part_of.as_str().unwrap());
    assert_eq!(ingress["spec"]["ingressClassName"], "nginx");
    let rule = &ingress["spec"]["rules"][0];
    assert_eq!(rule["host"], context["settings"]["domaine"]);
    let routes: Vec<(Value, Value)> = rule["http"]["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["path"].clone(), p["backend"]["service"]["name"].clone()))
        .collect();
    let expected: Vec<(Value, Value)> = services(context)
        .iter()
        .flat_map(|s| {
            list(s, "routes")
                .iter()
                .map(|r| (r["path"].clone(), s["slug"].clone()))
        })
        .collect();
    assert_eq!(routes, expected, "only HTTP ports are in the Ingress");
}

/// docs/render.md, "Security", on Kubernetes: the workload in the bundle's
/// namespace, the restricted Pod Security Standard from the contract (or
/// its written exceptions), probes, limits, and its NetworkPolicy letting in
/// its clients only.
fn check_pod_hardening(service: &Value, workload: &Value, documents: &[Value], part_of: &Value) {
    let slug = service["slug"].as_str().unwrap();
    let security = &service["security"];
    assert_eq!(&workload["metadata"]["namespace"], part_of, "{slug}");
    let pod = &workload["spec"]["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false, "{slug}");
    let context = &pod["securityContext"];
    assert_eq!(
        context["seccompProfile"]["type"], "RuntimeDefault",
        "{slug}"
    );
    assert_eq!(context["runAsNonRoot"], security["root"] != true, "{slug}");
    if let Some(user) = security["user"].as_u64() {
        assert_eq!(context["runAsUser"], user, "{slug}");
    }
    if security["root"] != true && security["user"].is_number() {
        assert_eq!(context["fsGroup"], security["group"], "{slug}");
    }
    let container = &pod["containers"][0];
    let own = &container["securityContext"];
    assert_eq!(own["allowPrivilegeEscalation"], false, "{slug}");
    assert_eq!(
        own["readOnlyRootFilesystem"], security["read_only_root"],
        "{slug}"
    );
    assert_eq!(own["capabilities"]["drop"], json!(["ALL"]), "{slug}");
    let added = list(security, "capabilities");
    if added.is_empty() {
        assert!(own["capabilities"].get("add").is_none(), "{slug}");
    } else {
        assert_eq!(own["capabilities"]["add"], json!(added), "{slug}");
    }
    for w in list(security, "writable") {
        let mount = container["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == w["name"])
            .unwrap_or_else(|| panic!("{slug}: {w} not mounted"));
        assert_eq!(mount["mountPath"], w["path"], "{slug}");
    }
    assert_eq!(
        container.get("livenessProbe").is_some(),
        service.get("probe").is_some(),
        "{slug}"
    );
    for side in ["requests", "limits"] {
        let r = &container["resources"][side];
        assert!(
            r["cpu"].is_string() && r["memory"].is_string(),
            "{slug}: {side}"
        );
    }
    let policy = documents
        .iter()
        .find(|d| d["kind"] == "NetworkPolicy" && d["metadata"]["name"] == slug)
        .unwrap_or_else(|| panic!("no NetworkPolicy {slug}"));
    let from: Vec<&Value> = policy["spec"]["ingress"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rule| rule["from"].as_array().into_iter().flatten())
        .filter_map(|peer| peer.pointer("/podSelector/matchLabels/app.kubernetes.io~1name"))
        .collect();
    let clients: Vec<&Value> = if list(service, "ports").is_empty() {
        Vec::new()
    } else {
        list(service, "clients").iter().collect()
    };
    assert_eq!(from, clients, "{slug}: only its clients get in");
    let namespace = documents
        .iter()
        .find(|d| d["kind"] == "Namespace")
        .expect("the bundle's own Namespace");
    assert_eq!(&namespace["metadata"]["name"], part_of);
    let level = &namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"];
    if security["restricted"] == false {
        assert_eq!(level, "baseline", "{slug} keeps a written exception");
    }
}

/// README.md names every service and every secret variable, and the way to
/// deploy the bundle's own target.
fn check_readme(context: &Value, bundle: &Path) {
    let readme = std::fs::read_to_string(bundle.join("README.md")).unwrap();
    for service in services(context) {
        let name = service["name"].as_str().unwrap();
        assert!(readme.contains(&format!("`{name}`")), "README: {name}");
        for env in secret_envs(service) {
            assert!(readme.contains(&format!("{env}=…")), "README: {env}");
        }
    }
    match context["distribution"]["target"].as_str().unwrap() {
        "kubernetes" => {
            assert!(readme.contains("kubectl apply -k ."));
            assert!(!readme.contains("docker compose"));
        }
        _ => {
            assert!(readme.contains("docker compose"));
            assert!(!readme.contains("kubectl"));
        }
    }
    assert!(readme.contains("## English summary"));
}

fn with_target(context: &Value, target: &str) -> Value {
    let mut context = context.clone();
    context["distribution"]["target"] = json!(target);
    context
}

/// The fixture changed to reach the templates' other branches: a module
/// without health, secrets nor configuration files, a portail behind
/// `/portail` (so `/` redirects to it), and a build metadata in a version.
fn edge_context() -> Value {
    let mut context = fixture_context();
    let mut minimal = json!({
        "name": "acme/minimal", "slug": "acme-minimal", "short_name": "minimal",
        "version": "1.0.0+build.7", "summary": "Un module | sans rien d'optionnel",
        "category": "externe", "audiences": ["personnel"], "licence": "MIT",
        "image": "registry.example.org/acme/minimal:1.0.0", "port": 3000,
        "path": "/minimal", "config_dir": "conf/acme-minimal", "config_files": [],
        "secrets": [], "command": [], "environment": {}, "env": [], "secret_files": [], "local_files": [],
        "files": [], "k8s_mounts": [], "data": [], "databases": [], "provides": [],
        "ports": [{ "name": "http", "port": 3000, "http": "/minimal", "publish": false }],
        "routes": [{ "name": "http", "port": 3000, "path": "/minimal" }],
        "internal_ports": [3000], "published_ports": [], "reads": [], "clients": ["openent-portail"]
    });
    // Root, with its written exceptions: the namespace falls to baseline.
    minimal["security"] = json!({
            "user": 0, "group": 0, "root": true, "read_only_root": false, "restricted": false,
            "writable": [{ "name": "writable-0", "path": "/var/cache/minimal" }],
            "capabilities": ["NET_BIND_SERVICE", "SETUID"], "low_port": false,
            "exceptions": [
                { "rule": "run-as-root", "reason": "it binds then drops to its own user", "asks": "the container runs as a UID other than 0", "checks": ["CKV_K8S_23", "CKV_K8S_40"] },
                { "rule": "added-capabilities", "reason": "to drop to its own user", "asks": "every capability is dropped", "checks": ["CKV_K8S_25"] }
            ]
    });
    let list = context["services"].as_array_mut().unwrap();
    list.insert(0, minimal.clone());
    for service in list.iter_mut() {
        if service["name"] == "openent/portail" {
            service["path"] = json!("/portail");
            service["routes"][0]["path"] = json!("/portail");
            service["ports"][0]["http"] = json!("/portail");
        }
    }
    let portail = list
        .iter()
        .find(|s| s["name"] == "openent/portail")
        .unwrap()
        .clone();
    let modules = context["modules"].as_object_mut().unwrap();
    modules.insert("acme/minimal".into(), minimal);
    modules["openent/portail"] = portail;
    // A module without service is in `modules` only.
    modules.insert(
        "openent/theme".into(),
        json!({
            "name": "openent/theme", "slug": "openent-theme", "short_name": "theme",
            "version": "1.0.0", "summary": "Charte graphique", "category": "socle",
            "audiences": ["eleve"], "licence": "CECILL-2.1",
            "config_dir": "conf/openent-theme", "config_files": [], "secrets": []
        }),
    );
    context
}

#[test]
fn the_fixture_follows_the_documented_context() {
    let context = fixture_context();
    for key in ["name", "slug", "version", "target"] {
        assert!(
            context["distribution"][key].is_string(),
            "distribution.{key}"
        );
    }
    let list = services(&context);
    assert_eq!(list.len(), 7);
    let names: Vec<&str> = list.iter().map(|s| s["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "services are sorted by name");
    for service in list {
        let name = service["name"].as_str().unwrap();
        assert_eq!(context["modules"][name], *service, "{name}");
        assert_eq!(service["slug"], name.replace('/', "-"));
        assert_eq!(
            service["config_dir"],
            format!("conf/{}", service["slug"].as_str().unwrap())
        );
        let files: Vec<&str> = service["config_files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        let mut sorted = files.clone();
        sorted.sort_unstable();
        assert_eq!(files, sorted, "{name}: config_files are sorted");
        for key in [
            "short_name",
            "version",
            "summary",
            "category",
            "audiences",
            "licence",
            "image",
            "port",
            "ports",
            "routes",
            "env",
            "files",
            "secrets",
        ] {
            assert!(service.get(key).is_some(), "{name}.{key}");
        }
    }
}

#[test]
fn compose_target_passes_the_compose_schema_and_nginx() {
    let context = with_target(&fixture_context(), "compose");
    let bundle = tempfile::tempdir().unwrap();
    write_bundle(&context, bundle.path());
    check_compose(&context, bundle.path());
    check_nginx(&context, bundle.path());
    check_readme(&context, bundle.path());
    // The portail is at `/`: it answers the root, no redirect, no 404.
    let conf = std::fs::read_to_string(bundle.path().join("compose/nginx/oent.conf")).unwrap();
    assert!(!conf.contains("location = / {"));
    assert!(!conf.contains("return 404;"));
}

#[test]
fn kubernetes_target_passes_kubernetes_validate_and_kustomize() {
    let context = fixture_context();
    let bundle = tempfile::tempdir().unwrap();
    write_bundle(&context, bundle.path());
    check_kubernetes(&context, bundle.path());
    check_readme(&context, bundle.path());
}

#[test]
fn optional_keys_and_a_portail_off_root_render_valid_targets() {
    let context = edge_context();
    for target in ["compose", "kubernetes"] {
        let context = with_target(&context, target);
        let bundle = tempfile::tempdir().unwrap();
        write_bundle(&context, bundle.path());
        check_readme(&context, bundle.path());
        if target == "compose" {
            check_compose(&context, bundle.path());
            check_nginx(&context, bundle.path());
            let conf =
                std::fs::read_to_string(bundle.path().join("compose/nginx/oent.conf")).unwrap();
            assert!(conf.contains("location = / {\n        return 302 /portail/;"));
            assert!(conf.contains("return 404;"), "nothing at `/`: a plain 404");
        } else {
            check_kubernetes(&context, bundle.path());
            let services =
                std::fs::read_to_string(bundle.path().join("kubernetes/services.yaml")).unwrap();
            assert!(services.contains("app.kubernetes.io/version: '1.0.0_build.7'"));
        }
        let readme = std::fs::read_to_string(bundle.path().join("README.md")).unwrap();
        assert!(
            readme.contains("`openent/theme`"),
            "modules without service are listed"
        );
    }
}

/// The rendered proxy configuration, served by a real nginx on loopback
/// (its `listen 80` moved to a free port, its resolver timeout shortened):
/// what goes where. Upstreams are
/// not running and Docker's DNS is absent, so a proxied request ends in 502:
/// that is how a request that reached a `proxy_pass` shows.
struct RunningNginx {
    child: Child,
    port: u16,
    work: PathBuf,
}

impl RunningNginx {
    fn start(conf: &str, work: &Path) -> RunningNginx {
        let w = work.display();
        let (child, port) = tools::start_nginx(work, |port| {
            let server = conf
                .replace(
                    "listen 80 default_server;",
                    &format!("listen 127.0.0.1:{port} default_server;"),
                )
                .replace("listen [::]:80 default_server;", "")
                // Nothing answers on Docker's DNS address here: fail fast.
                .replace("resolver_timeout 5s;", "resolver_timeout 1s;");
            write(&work.join("oent.conf"), &server);
            write(
                &work.join("nginx.conf"),
                &format!(
                    "worker_processes 1;\nerror_log {w}/error.log;\nevents {{}}\nhttp {{\n    \
                     access_log off;\n    client_body_temp_path {w}/body;\n    \
                     proxy_temp_path {w}/proxy;\n    fastcgi_temp_path {w}/fastcgi;\n    \
                     uwsgi_temp_path {w}/uwsgi;\n    scgi_temp_path {w}/scgi;\n    \
                     include {w}/oent.conf;\n}}\n"
                ),
            );
        });
        RunningNginx {
            child,
            port,
            work: work.to_path_buf(),
        }
    }

    /// `GET path` for `host`: the status and the Location header, if any.
    fn get(&self, host: &str, path: &str) -> (u16, Option<String>) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        let head = answer.split("\r\n\r\n").next().unwrap_or_default();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "no HTTP answer for {path}: {answer:?}\nerror log:\n{}",
                    std::fs::read_to_string(self.work.join("error.log")).unwrap_or_default()
                )
            });
        let location = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("location")
                .then(|| value.trim().to_owned())
        });
        (status, location)
    }
}

impl Drop for RunningNginx {
    fn drop(&mut self) {
        support::stop_gracefully(&mut self.child);
    }
}

const PROXIED: u16 = 502;

#[test]
fn nginx_routes_each_path_like_the_ingress_prefix_match() {
    let work = tempfile::tempdir().unwrap();

    // The fixture: the portail owns `/`, so it gets whatever no other
    // service takes, including `/notes-x` (element-wise prefix, not string).
    let conf = render("compose/nginx/oent.conf.tera", &fixture_context());
    let nginx = RunningNginx::start(&conf, &work.path().join("fixture"));
    let host = "monlycee.net";
    assert_eq!(nginx.get(host, "/"), (PROXIED, None));
    assert_eq!(nginx.get(host, "/notes/eleve/42"), (PROXIED, None));
    assert_eq!(
        nginx.get(host, "/notes?x=1"),
        (308, Some("/notes/?x=1".to_owned()))
    );
    assert_eq!(nginx.get(host, "/notes-x"), (PROXIED, None));
    assert_eq!(nginx.get(host, "/auth/realms/ent"), (PROXIED, None));
    drop(nginx);

    // The portail elsewhere: `/` redirects to it, unknown paths are 404.
    let conf = render("compose/nginx/oent.conf.tera", &edge_context());
    let nginx = RunningNginx::start(&conf, &work.path().join("edge"));
    assert_eq!(nginx.get(host, "/"), (302, Some("/portail/".to_owned())));
    assert_eq!(nginx.get(host, "/portail/accueil"), (PROXIED, None));
    assert_eq!(nginx.get(host, "/minimal/"), (PROXIED, None));
    assert_eq!(nginx.get(host, "/nowhere"), (404, None));
}

// ---------------------------------------------------------------------------
// The real thing: `oent build` on the examples, the bundle checked the same
// way. The expected context is the fixture (written for tests/fixtures/deploy/idf-lilie)
// or derived from it, so these tests also compare the context `oent build`
// gives the templates with the one docs/render.md describes.

/// Runs `oent build DIST -o OUT --target TARGET --locked` with a private cache
/// and returns OUT. `--locked`: the examples' oent.lock is never rewritten.
fn oent_build(dist: &str, target: &str, work: &Path) -> PathBuf {
    let out = work.join("bundle");
    let output = Test::new()
        .current_dir(ROOT)
        .arg("build")
        .arg(dist)
        .arg("-o")
        .arg(&out)
        .args(["--target", target, "--locked"])
        .env("OENT_CACHE_DIR", work.join("cache"))
        .run();
    assert_eq!(
        output.code,
        Some(0),
        "oent build {dist} --target {target} failed:\n{output:?}"
    );
    out
}

/// Every file under conf/ is one of the modules' `config_files`, and each
/// of those is there.
fn check_conf(context: &Value, bundle: &Path) {
    fn walk(dir: &Path, root: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, found);
            } else {
                let relative = path.strip_prefix(root).unwrap();
                found.push(relative.to_str().unwrap().to_owned());
            }
        }
    }
    let mut found = Vec::new();
    walk(&bundle.join("conf"), bundle, &mut found);
    found.sort();
    let mut expected: Vec<String> = context["modules"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|m| m["config_files"].as_array().unwrap().iter())
        .map(|f| f.as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    assert_eq!(found, expected);
}

/// tests/fixtures/deploy/e-lyco/loire-atlantique, as docs/render.md describes its context:
/// the idf-lilie fixture without sms-parents, with its own two collèges.
fn loire_atlantique_context() -> Value {
    let mut context = fixture_context();
    context["distribution"] = json!({
        "name": "elyco/loire-atlantique", "slug": "elyco-loire-atlantique",
        "version": "2026.1.0", "target": "compose"
    });
    context["settings"]["domaine"] = json!("loire-atlantique.e-lyco.fr");
    let uais = ["0440001M", "0441001Z"];
    let first_fixture_uai = "0750654D";
    let fixture_uais: Vec<String> = context["etablissements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uai"].as_str().unwrap().to_owned())
        .collect();
    let adapt = |service: &Value| {
        let mut service = service.clone();
        let mut files = Vec::new();
        for file in service["config_files"].as_array().unwrap() {
            let file = file.as_str().unwrap();
            if file.contains(first_fixture_uai) {
                files.extend(uais.iter().map(|u| file.replace(first_fixture_uai, u)));
            } else if !fixture_uais.iter().any(|u| file.contains(u.as_str())) {
                files.push(file.to_owned());
            }
        }
        files.sort();
        service["config_files"] = json!(files);
        service
    };
    let services: Vec<Value> = services(&context)
        .iter()
        .filter(|s| s["name"] != "openent/sms-parents")
        .map(adapt)
        .collect();
    context["modules"] = services
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_owned(), s.clone()))
        .collect::<serde_json::Map<_, _>>()
        .into();
    context["services"] = json!(services);
    context
}

#[test]
fn oent_build_of_the_kubernetes_fixture_passes_the_validators() {
    let work = tempfile::tempdir().unwrap();
    let bundle = oent_build("tests/fixtures/deploy/idf-lilie", "kubernetes", work.path());
    let context = fixture_context();
    assert!(!bundle.join("compose").exists());
    check_conf(&context, &bundle);
    check_kubernetes(&context, &bundle);
    check_readme(&context, &bundle);
}

#[test]
fn oent_build_of_the_compose_fixture_passes_the_validators() {
    let work = tempfile::tempdir().unwrap();
    let bundle = oent_build(
        "tests/fixtures/deploy/e-lyco/loire-atlantique",
        "compose",
        work.path(),
    );
    let context = loire_atlantique_context();
    assert!(!bundle.join("kubernetes").exists());
    assert!(!bundle.join("kustomization.yaml").exists());
    check_conf(&context, &bundle);
    check_compose(&context, &bundle);
    check_nginx(&context, &bundle);
    check_readme(&context, &bundle);
}

// ---------------------------------------------------------------------------
// The deployment contract (docs/formats.md, "The deployment contract"):
// tests/fixtures/deploy/contract, whose modules use every key, with the
// catalogue's openent/postgresql and openent/mariadb, published to a registry
// in the test's directory and built for both targets.

fn contract_fixture() -> Test {
    let fixture = Path::new(ROOT).join("tests/fixtures/deploy/contract");
    let catalogue = Path::new(ROOT).join("modules/openent");
    let test = Test::new()
        .copy(&fixture, ".")
        .copy(&catalogue.join("postgresql"), "modules/postgresql")
        .copy(&catalogue.join("mariadb"), "modules/mariadb");
    support::registry::publish_tree(test, "registry", "openent", "modules")
}

fn build_contract(test: Test, target: &str) -> support::Output {
    test.args(["build", ".", "-o", "out", "--target", target])
        .run()
}

fn find<'a>(documents: &'a [Value], kind: &str, name: &str) -> &'a Value {
    documents
        .iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

#[test]
fn compose_places_files_data_ports_secrets_and_databases_where_the_contract_says() {
    let run = build_contract(contract_fixture(), "compose").status(0);
    let out = run.path().join("out");
    let file = out.join("compose/compose.yaml");
    tools::compose_schema(&file);
    tools::nginx_t(
        &out.join("compose/nginx/oent.conf"),
        &run.path().join("nginx-check"),
    );
    let compose = parse_yaml(&file);
    let app = &compose["services"]["openent-app"];
    assert_eq!(
        app["command"],
        json!(["start", "--optimized", "--price=$$5"])
    );
    assert_eq!(
        app["volumes"],
        json!([
            "../conf/openent-app/app.conf:/opt/app/conf/app.conf:ro",
            "../conf/openent-app/etablissements/:/opt/app/etablissements/:ro",
            "openent-app-data:/opt/app/data",
        ])
    );
    assert_eq!(app["expose"], json!(["8080", "9000"]));
    assert!(app.get("ports").is_none(), "HTTP goes through the proxy");
    let env = &app["environment"];
    assert_eq!(env["APP_HTTP_PATH"], "/app");
    assert_eq!(env["APP_DB_HOST"], "openent-postgresql");
    assert_eq!(env["APP_DB_NAME"], "openent_app");
    assert_eq!(env["APP_DB_USER"], "openent_app");
    assert!(
        env["APP_DB_PASSWORD"]
            .as_str()
            .unwrap()
            .starts_with("${OENT_DB_PASSWORD_OPENENT_APP:?")
    );
    assert!(
        env["APP_BOOTSTRAP_ADMIN_PASSWORD"]
            .as_str()
            .unwrap()
            .starts_with("${APP_ADMIN_PASSWORD:?")
    );
    assert_eq!(
        app["secrets"],
        json!([{ "source": "openent-app-smtp-password", "target": "/run/secrets/smtp_password" }])
    );
    assert_eq!(
        compose["secrets"]["openent-app-smtp-password"],
        json!({ "environment": "SMTP_PASSWORD" })
    );
    // Mail: IMAPS published on the host, LMTP internal; Postfix, the
    // module's second container, publishes SMTP and submission.
    let mail = &compose["services"]["openent-mail"];
    assert_eq!(mail["ports"], json!(["993:993"]));
    assert_eq!(mail["expose"], json!(["24"]));
    let postfix = &compose["services"]["openent-mail-postfix"];
    assert_eq!(postfix["ports"], json!(["25:25", "587:587"]));
    assert_eq!(
        postfix["volumes"],
        json!([
            "../conf/openent-mail/postfix/:/etc/postfix/:ro",
            "openent-mail-postfix-queue:/var/spool/postfix"
        ])
    );
    assert_eq!(postfix["labels"]["org.oent.module"], "openent/mail");
    // The database module gets each dependent's password, for its init script.
    let postgres = &compose["services"]["openent-postgresql"];
    assert!(
        postgres["environment"]["OENT_DB_PASSWORD_OPENENT_APP"]
            .as_str()
            .unwrap()
            .starts_with("${OENT_DB_PASSWORD_OPENENT_APP:?")
    );
    assert_eq!(
        postgres["healthcheck"]["test"],
        json!(["CMD", "pg_isready", "--username", "postgres"])
    );
    let volumes: Vec<&String> = compose["volumes"].as_object().unwrap().keys().collect();
    assert_eq!(
        volumes,
        [
            "openent-app-data",
            "openent-mail-mail",
            "openent-mail-postfix-queue",
            "openent-mariadb-data",
            "openent-postgresql-data"
        ]
    );
    assert_eq!(
        compose["services"]["proxy"]["depends_on"],
        json!(["openent-app", "openent-wiki"])
    );
    // `module.service.health`, read by templates written before the contract.
    assert!(
        run.read("out/conf/openent-app/app.conf")
            .contains("health=/app/health/ready\n")
    );
    let init = run.read("out/conf/openent-postgresql/oent-databases.sh");
    assert!(
        init.contains("--set=name=openent_app --set=password=\"${OENT_DB_PASSWORD_OPENENT_APP:?")
    );
    let init = run.read("out/conf/openent-mariadb/oent-databases.sh");
    assert!(init.contains("CREATE USER IF NOT EXISTS 'openent_wiki'@'%'"));

    // Only HTTP ports are proxied: never IMAPS, LMTP, SQL nor a management port.
    let nginx = run.read("out/compose/nginx/oent.conf");
    assert!(nginx.contains("location /app/ {"));
    assert!(nginx.contains("http://openent-app:8080;"));
    assert!(nginx.contains("http://openent-wiki:80;"));
    for port in [":993", ":587", ":24;", ":9000", ":5432", ":3306"] {
        assert!(!nginx.contains(port), "{port} is routed");
    }

    let example = run.read("out/secrets.env.example");
    for var in [
        "APP_ADMIN_PASSWORD",
        "LDAP_PASSWORD",
        "MARIADB_ROOT_PASSWORD",
        "OENT_DB_PASSWORD_OPENENT_APP",
        "OENT_DB_PASSWORD_OPENENT_WIKI",
        "POSTGRES_ADMIN_PASSWORD",
        "SMTP_PASSWORD",
    ] {
        assert!(
            example.contains(&format!("\n{var}=\n")),
            "{var}:\n{example}"
        );
    }
    assert!(example.contains("# base postgresql de openent/app\nOENT_DB_PASSWORD_OPENENT_APP=\n"));
    let readme = run.read("out/README.md");
    assert!(readme.contains("| `openent/app` | `conf/openent-app/app.conf` | `/opt/app/conf/app.conf` ([documentation](https://example.org/app/configuration)) |"));
    assert!(readme.contains("| `openent/app` | données `data` (5Gi) | `/opt/app/data` |"));
    assert!(readme.contains("## Images à fournir"));
    assert!(readme.contains("- `registry.example.org/openent/wiki:1.0.0`"));
}

#[test]
fn placeholders_and_unfilled_variables_are_said_aloud() {
    let run = build_contract(contract_fixture(), "compose")
        .status(0)
        .stderr_contains("warning[W008/placeholder-image]: ./distribution.yaml: `registry.example.org/openent/wiki:1.0.0` is a placeholder: no registry serves it")
        .stderr_contains("warning[W007/unfilled-placeholder]: `${LDAP_PASSWORD}` is left in the file: nothing replaces it when `openent/mail` starts\n  ┌─ out/conf/openent-mail/dovecot-ldap.conf.ext:2:10");
    // app.conf is declared `expand: env` and its service gets both variables.
    assert!(!run.stderr.contains("app.conf"), "{}", run.stderr);

    // `settings.images.registry` points the placeholders at the collectivité's registry.
    let test = run.then();
    let dist = std::fs::read_to_string(test.path().join("distribution.yaml")).unwrap();
    let test = test.write(
        "distribution.yaml",
        &dist.replace(
            "  domaine: ent.example.fr\n",
            "  domaine: ent.example.fr\n  images: { registry: registry.cd91.fr/ent }\n",
        ),
    );
    let run = build_contract(test, "compose")
        .status(0)
        .stderr_lacks("W008");
    let compose = parse_yaml(&run.path().join("out/compose/compose.yaml"));
    assert_eq!(
        compose["services"]["openent-wiki"]["image"],
        "registry.cd91.fr/ent/openent/wiki:1.0.0"
    );
    assert!(!run.read("out/README.md").contains("## Images à fournir"));
}

#[test]
fn a_database_nobody_provides_is_refused_naming_module_and_engine() {
    let test = contract_fixture();
    let dist = std::fs::read_to_string(test.path().join("distribution.yaml")).unwrap();
    let without: String = dist
        .lines()
        .filter(|l| !l.contains("openent/postgresql"))
        .map(|l| format!("{l}\n"))
        .collect();
    build_contract(test.write("distribution.yaml", &without), "compose")
        .status(1)
        .stderr_contains("error[E048/database-not-provided]: ./distribution.yaml: `openent/app` needs a `postgresql` database, and no module of the distribution provides `postgresql`\n = key: `modules`\n = help: add a module that provides `postgresql` to `modules:`, e.g. the catalogue's `openent/postgresql`");
}

#[test]
fn a_variable_given_twice_to_one_container_is_refused_naming_both_origins() {
    // The secret option admin_password reaching the container under the
    // variable the database's password already uses (as blogs' option and
    // its `databases.env.password` once did).
    let fixture = Path::new(ROOT).join("tests/fixtures/deploy/contract");
    let catalogue = Path::new(ROOT).join("modules/openent");
    let app = std::fs::read_to_string(fixture.join("modules/app/module.yaml"))
        .unwrap()
        .replace(
            "admin_password: { env: APP_BOOTSTRAP_ADMIN_PASSWORD }",
            "admin_password: { env: APP_DB_PASSWORD }",
        );
    let test = Test::new()
        .copy(&fixture, ".")
        .copy(&catalogue.join("postgresql"), "modules/postgresql")
        .copy(&catalogue.join("mariadb"), "modules/mariadb")
        .write_bytes("modules/app/module.yaml", app.as_bytes());
    let test = support::registry::publish_tree(test, "registry", "openent", "modules");
    build_contract(test, "compose")
        .status(1)
        .stderr_contains("error[E050/contract-env]: ./distribution.yaml: the container `openent-app` of `openent/app` would get `APP_DB_PASSWORD` twice: from the secret option `admin_password` and from the `postgresql` database (`databases.env.password`)\n = key: `modules.openent/app`\n = help: give the variable one source: drop the module's own option where the contract fills it (its `databases.env`), or rename one of the two")
        .stderr_lacks("built ");
}

#[test]
fn kubernetes_places_the_contract_statefulsets_subpaths_and_a_load_balancer() {
    let run = build_contract(contract_fixture(), "kubernetes").status(0);
    let out = run.path().join("out");
    tools::kubernetes_validate(&[
        out.join("kubernetes/services.yaml"),
        out.join("kubernetes/ingress.yaml"),
    ]);
    let built = tools::kustomize(&out);
    let built_file = run.path().join("kustomize-build.yaml");
    write(&built_file, &built);
    tools::kubernetes_validate(std::slice::from_ref(&built_file));
    let documents = parse_yaml_documents(&built);

    let app = find(&documents, "StatefulSet", "openent-app");
    assert_eq!(
        app["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "5Gi"
    );
    let container = &app["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["args"],
        json!(["start", "--optimized", "--price=$5"])
    );
    assert_eq!(
        container["readinessProbe"]["httpGet"],
        json!({ "path": "/app/health/ready", "port": 9000 })
    );
    let mounts: Vec<(String, String)> = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["mountPath"].as_str().unwrap().to_owned(),
                m["subPath"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let uai = "0910001G";
    assert_eq!(
        mounts,
        [
            ("/opt/app/conf/app.conf".to_owned(), "app.conf".to_owned()),
            (
                format!("/opt/app/etablissements/{uai}.json"),
                format!("etablissements__{uai}.json")
            ),
            (
                "/run/secrets/smtp_password".to_owned(),
                "SMTP_PASSWORD".to_owned()
            ),
            ("/opt/app/data".to_owned(), String::new()),
            // A contract without `security`: a read-only root, /tmp writable.
            ("/tmp".to_owned(), String::new()),
        ]
    );
    assert!(
        find(&documents, "Deployment", "openent-wiki")["spec"]
            .get("volumeClaimTemplates")
            .is_none()
    );
    let mail = find(&documents, "StatefulSet", "openent-mail");
    assert_eq!(
        mail["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["tcpSocket"],
        json!({ "port": 993 })
    );
    let public = find(&documents, "Service", "openent-mail-public");
    assert_eq!(public["spec"]["type"], "LoadBalancer");
    let ports: Vec<&Value> = port_numbers(public);
    assert_eq!(ports, [&json!(993)]);
    let postfix = find(&documents, "Service", "openent-mail-postfix-public");
    let ports: Vec<&Value> = port_numbers(postfix);
    assert_eq!(ports, [&json!(25), &json!(587)]);
    let postfix = find(&documents, "StatefulSet", "openent-mail-postfix");
    let container = &postfix["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["volumeMounts"][0],
        json!({ "name": "conf", "mountPath": "/etc/postfix/main.cf", "subPath": "postfix__main.cf", "readOnly": true })
    );
    assert!(
        documents
            .iter()
            .all(|d| d["metadata"]["name"] != "openent-postgresql-public"),
        "SQL is never published"
    );
    let ingress = find(&documents, "Ingress", "demo-contract");
    let paths: Vec<(&Value, &Value)> = ingress["spec"]["rules"][0]["http"]["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (&p["path"], &p["backend"]["service"]["port"]["number"]))
        .collect();
    assert_eq!(
        paths,
        [
            (&json!("/app"), &json!(8080)),
            (&json!("/wiki"), &json!(80))
        ]
    );
}

#[test]
fn deny_warnings_refuses_a_bundle_with_unfilled_placeholders_and_keeps_the_previous_one() {
    let run = build_contract(contract_fixture(), "compose").status(0);
    let before = run.read("out/bundle.json");
    let run = run
        .then()
        .args(["build", ".", "-o", "out", "--target", "kubernetes", "--deny", "warnings"])
        .run()
        .status(1)
        .stderr_contains("error[W007/unfilled-placeholder]: `${LDAP_PASSWORD}` is left in the file: nothing replaces it when `openent/mail` starts\n  ┌─ out/conf/openent-mail/dovecot-ldap.conf.ext:2:10")
        .stderr_contains("error[W008/placeholder-image]: ./distribution.yaml: `registry.example.org/openent/wiki:1.0.0` is a placeholder");
    assert_eq!(
        run.read("out/bundle.json"),
        before,
        "the previous bundle stays"
    );
    assert!(!run.path().join("out/kustomization.yaml").exists());
}

// ---------------------------------------------------------------------------
// Sizing (docs/formats.md, "Sizing"): tests/fixtures/deploy/sizing, the same
// modules built for a département at the Essonne's scale and a région at
// Île-de-France's, published to a registry in the test's directory.

fn sizing_fixture() -> Test {
    let fixture = Path::new(ROOT).join("tests/fixtures/deploy/sizing");
    support::registry::publish_tree(
        Test::new().copy(&fixture, "."),
        "registry",
        "openent",
        "modules",
    )
}

/// Builds `dist` for Kubernetes, validates what it writes and what kustomize
/// makes of it, and returns kustomize's documents.
fn build_sized(test: Test, dist: &str) -> (Test, Vec<Value>) {
    let run = test
        .args(["build", dist, "-o", &format!("out-{dist}")])
        .run()
        .status(0);
    let out = run.path().join(format!("out-{dist}"));
    tools::kubernetes_validate(&[out.join("kubernetes/services.yaml")]);
    let built = tools::kustomize(&out);
    let built_file = run.path().join(format!("kustomize-{dist}.yaml"));
    write(&built_file, &built);
    tools::kubernetes_validate(std::slice::from_ref(&built_file));
    (run.then(), parse_yaml_documents(&built))
}

/// (replicas, requests, limits) of a workload's first container.
fn sizing_of(documents: &[Value], kind: &str, name: &str) -> (Value, Value, Value) {
    let spec = &find(documents, kind, name)["spec"];
    let resources = &spec["template"]["spec"]["containers"][0]["resources"];
    (
        spec["replicas"].clone(),
        resources["requests"].clone(),
        resources["limits"].clone(),
    )
}

fn autoscaler(documents: &[Value], name: &str) -> Option<(Value, Value)> {
    documents
        .iter()
        .find(|d| d["kind"] == "HorizontalPodAutoscaler" && d["metadata"]["name"] == name)
        .map(|d| {
            (
                d["spec"]["minReplicas"].clone(),
                d["spec"]["maxReplicas"].clone(),
            )
        })
}

fn has_budget(documents: &[Value], name: &str) -> bool {
    documents
        .iter()
        .any(|d| d["kind"] == "PodDisruptionBudget" && d["metadata"]["name"] == name)
}

#[test]
fn ile_de_france_and_the_essonne_get_the_numbers_their_scale_gives() {
    let (test, essonne) = build_sized(sizing_fixture(), "essonne");
    let (_, idf) = build_sized(test, "ile-de-france");

    // Stateless, per 50,000 accounts within 2..20: 182,000 accounts give 4
    // replicas that may grow to 20; 1.2 M give 24, held at 20.
    let requests = json!({ "cpu": "250m", "memory": "512Mi" });
    let limits = json!({ "cpu": "1", "memory": "1Gi" });
    assert_eq!(
        sizing_of(&essonne, "Deployment", "openent-front"),
        (json!(4), requests.clone(), limits.clone())
    );
    assert_eq!(
        sizing_of(&idf, "Deployment", "openent-front"),
        (json!(20), requests, limits)
    );
    assert_eq!(
        autoscaler(&essonne, "openent-front"),
        Some((json!(4), json!(20)))
    );
    assert_eq!(
        autoscaler(&idf, "openent-front"),
        None,
        "already at its maximum"
    );
    let hpa = documents_of_kind(&essonne, "HorizontalPodAutoscaler");
    assert_eq!(
        hpa[0]["spec"]["scaleTargetRef"],
        json!({ "apiVersion": "apps/v1", "kind": "Deployment", "name": "openent-front" })
    );
    assert!(has_budget(&essonne, "openent-front") && has_budget(&idf, "openent-front"));
    let budget = documents_of_kind(&idf, "PodDisruptionBudget");
    assert_eq!(budget[0]["spec"]["maxUnavailable"], 1);

    // The worker counts établissements, 50 each within 1..10: the Essonne
    // states 100; Île-de-France's 2 come from its list.
    assert_eq!(
        sizing_of(&essonne, "Deployment", "openent-front-worker").0,
        json!(2)
    );
    assert_eq!(
        autoscaler(&essonne, "openent-front-worker"),
        Some((json!(2), json!(10)))
    );
    assert_eq!(
        sizing_of(&idf, "Deployment", "openent-front-worker").0,
        json!(1)
    );
    assert!(!has_budget(&idf, "openent-front-worker"), "one replica");

    // Stateful, per 300,000 accounts: one replica; Île-de-France's has 4
    // times the resources (the default max_factor), the Essonne's the base.
    assert_eq!(
        sizing_of(&essonne, "StatefulSet", "openent-annuaire"),
        (
            json!(1),
            json!({ "cpu": "500m", "memory": "1Gi" }),
            json!({ "cpu": "2", "memory": "2Gi" })
        )
    );
    assert_eq!(
        sizing_of(&idf, "StatefulSet", "openent-annuaire"),
        (
            json!(1),
            json!({ "cpu": "2", "memory": "4Gi" }),
            json!({ "cpu": "8", "memory": "8Gi" })
        )
    );
    for documents in [&essonne, &idf] {
        assert_eq!(autoscaler(documents, "openent-annuaire"), None);
        assert!(!has_budget(documents, "openent-annuaire"));
        // Without sizing: one replica, the default requests and limits,
        // whatever the scale.
        assert_eq!(
            sizing_of(documents, "Deployment", "openent-plain"),
            (
                json!(1),
                json!({ "cpu": "100m", "memory": "256Mi" }),
                json!({ "cpu": "1", "memory": "512Mi" })
            )
        );
    }
}

#[test]
fn a_distribution_without_scale_takes_the_one_its_base_states() {
    let (_, partner) = build_sized(sizing_fixture(), "essonne-partner");
    assert_eq!(
        sizing_of(&partner, "Deployment", "openent-front").0,
        json!(4)
    );
    assert_eq!(
        sizing_of(&partner, "Deployment", "openent-front-worker").0,
        json!(2),
        "100 établissements stated by the base, not the 1 listed"
    );
}

fn documents_of_kind<'a>(documents: &'a [Value], kind: &str) -> Vec<&'a Value> {
    documents.iter().filter(|d| d["kind"] == kind).collect()
}

#[test]
fn compose_reserves_and_limits_resources_and_replicates_only_stateless_services() {
    let run = sizing_fixture()
        .args(["build", "essonne", "-o", "out", "--target", "compose"])
        .run()
        .status(0);
    let file = run.path().join("out/compose/compose.yaml");
    tools::compose_schema(&file);
    let compose = parse_yaml(&file);
    let services = &compose["services"];
    assert_eq!(
        services["openent-front"]["deploy"],
        json!({
            "replicas": 4,
            "resources": {
                "limits": { "cpus": "1", "memory": "1g" },
                "reservations": { "cpus": "0.25", "memory": "512m" },
            },
        })
    );
    assert_eq!(
        services["openent-annuaire"]["deploy"],
        json!({
            "resources": {
                "limits": { "cpus": "2", "memory": "2g" },
                "reservations": { "cpus": "0.5", "memory": "1g" },
            },
        })
    );
    // Without sizing: the Kubernetes target's defaults, limits included.
    assert_eq!(
        services["openent-plain"]["deploy"],
        json!({
            "resources": {
                "limits": { "cpus": "1", "memory": "512m" },
                "reservations": { "cpus": "0.1", "memory": "256m" },
            },
        })
    );
    // Kubernetes runs 2 workers; a host port is bound by one container only.
    assert_eq!(services["openent-front-worker"]["deploy"]["replicas"], 1);
    assert_eq!(
        services["openent-front-worker"]["ports"],
        json!(["7000:7000"])
    );
}

// Files the operator provides (`service.files[].local`): the fixture's mail
// module takes its TLS certificate and key from `local/tls/mail/`.

#[test]
fn operator_files_are_mounted_from_local_in_compose_and_listed_for_the_operator() {
    let run = build_contract(contract_fixture(), "compose").status(0);
    let out = run.path().join("out");
    tools::compose_schema(&out.join("compose/compose.yaml"));
    let compose = parse_yaml(&out.join("compose/compose.yaml"));
    assert_eq!(
        compose["services"]["openent-mail"]["volumes"],
        json!([
            "../conf/openent-mail/dovecot-ldap.conf.ext:/etc/dovecot/dovecot-ldap.conf.ext:ro",
            "../../local/tls/mail/fullchain.pem:/etc/ssl/mail/fullchain.pem:ro",
            "../../local/tls/mail/privkey.pem:/etc/ssl/mail/privkey.pem:ro",
            "openent-mail-mail:/srv/vmail",
        ])
    );
    assert!(
        !out.join("conf/openent-mail/tls").exists(),
        "never in the bundle"
    );
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(readme.contains(
        "| `openent/mail` | `local/tls/mail/fullchain.pem` | `/etc/ssl/mail/fullchain.pem` |"
    ));
    assert!(readme.contains(
        "| `openent/mail` | `local/tls/mail/privkey.pem` | `/etc/ssl/mail/privkey.pem` |"
    ));
    let example = std::fs::read_to_string(out.join("secrets.env.example")).unwrap();
    assert!(example.contains(
        "# Fichiers à fournir (hors du bundle, lus au déploiement, voir README.md) :\n\
         #   ../local/tls/mail/fullchain.pem\n\
         #   ../local/tls/mail/privkey.pem\n"
    ));
}

#[test]
fn operator_files_come_from_a_secret_in_kubernetes() {
    let run = build_contract(contract_fixture(), "kubernetes").status(0);
    let out = run.path().join("out");
    let built = tools::kustomize(&out);
    let built_file = run.path().join("kustomize-build.yaml");
    write(&built_file, &built);
    tools::kubernetes_validate(std::slice::from_ref(&built_file));
    let documents = parse_yaml_documents(&built);
    let spec = &find(&documents, "StatefulSet", "openent-mail")["spec"]["template"]["spec"];
    let mounts = spec["containers"][0]["volumeMounts"].as_array().unwrap();
    assert!(mounts.contains(&json!({
        "name": "local-files", "mountPath": "/etc/ssl/mail/privkey.pem",
        "subPath": "tls__mail__privkey.pem", "readOnly": true
    })));
    assert!(spec["volumes"].as_array().unwrap().contains(
        &json!({ "name": "local-files", "secret": { "secretName": "demo-contract-local-files" } })
    ));
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(
        readme.contains(
            "   kubectl create secret generic demo-contract-local-files \\\n     \
         --from-file=tls__mail__fullchain.pem=../local/tls/mail/fullchain.pem \\\n     \
         --from-file=tls__mail__privkey.pem=../local/tls/mail/privkey.pem\n"
        ),
        "{readme}"
    );
}

#[test]
fn an_operator_file_outside_local_is_refused() {
    let fixture = Path::new(ROOT).join("tests/fixtures/deploy/contract/modules/mail/module.yaml");
    let yaml = std::fs::read_to_string(fixture).unwrap();
    for hostile in ["../../etc/shadow", "/etc/shadow", "tls/", "tls/a'b.pem"] {
        let test = contract_fixture().write(
            "modules/mail/module.yaml",
            &yaml.replace(
                "local: tls/mail/privkey.pem",
                &format!("local: \"{hostile}\""),
            ),
        );
        test.args(["lint", "modules/mail"])
            .run()
            .status(1)
            .stdout_contains(format!(
                "`{hostile}` is not a file path under the operator's `local/` folder"
            ));
    }
}

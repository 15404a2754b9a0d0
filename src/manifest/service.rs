//! `service:` of module.yaml, the deployment contract: how the module's
//! software runs, so that compose and Kubernetes place everything right
//! (docs/formats.md, "The deployment contract"). Parsed here; the checks that
//! need the rest of the manifest (secret options, template targets) are in
//! [`check_against_module`].

use std::collections::BTreeMap;

use super::diagnostic::Code;
use super::fields::{Checker, Fields};
use super::login::{self, Login};
use super::option::{ConfigOption, OptionType};
use super::sizing::{self, Sizing};
use super::yaml::{Node, NodeKind, Span};

/// Ports whose protocol is not HTTP: routing them through the reverse proxy
/// or the Ingress would hand a browser's request to an IMAP, SMTP, LDAP or SQL
/// server. The list is documented in docs/formats.md.
pub const NOT_HTTP_PORTS: &[(u16, &str)] = &[
    (25, "SMTP"),
    (110, "POP3"),
    (143, "IMAP"),
    (389, "LDAP"),
    (465, "SMTPS"),
    (587, "SMTP submission"),
    (636, "LDAPS"),
    (993, "IMAPS"),
    (995, "POP3S"),
    (1389, "LDAP"),
    (1636, "LDAPS"),
    (3306, "MySQL/MariaDB"),
    (5432, "PostgreSQL"),
    (6379, "Redis"),
];

/// Database engines a module may need (`service.databases[].engine`); the
/// module that deploys one `provides` the capability of the same name.
pub const ENGINES: &[&str] = &["mariadb", "postgresql"];

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub image: String,
    /// Arguments to the image's entrypoint.
    pub command: Vec<String>,
    /// Non-secret environment.
    pub environment: BTreeMap<String, String>,
    pub files: Vec<MountedFile>,
    pub data: Vec<DataVolume>,
    pub ports: Vec<Port>,
    pub probe: Option<Probe>,
    pub databases: Vec<DatabaseNeed>,
    /// Per `secret` option, how it reaches the software.
    pub secrets: BTreeMap<String, SecretDelivery>,
    /// More containers of the same module (Postfix beside Dovecot): each its
    /// own Compose service / Kubernetes workload `<slug>-<name>`, reading the
    /// module's files. No `databases`, `secrets` nor `containers` of their own.
    pub containers: Vec<Container>,
    /// How the service grows with the distribution's scale (`None`: one
    /// replica with the targets' default requests).
    pub sizing: Option<Sizing>,
    /// How its users log in through the SSO, or what the SSO provider serves.
    pub login: Option<Login>,
    /// How the image runs, for hardened bundles (`None`: the targets'
    /// defaults, docs/render.md "Security").
    pub security: Option<super::security::Security>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub name: String,
    pub service: Service,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MountedFile {
    /// Relative to the module's `conf/<slug>/` (a folder ends with `/`), or,
    /// when `provided`, to the operator's `local/` beside the bundle.
    pub source: String,
    /// `local:` instead of `source:`: a file the operator provides (a TLS
    /// certificate and key), never rendered nor in the bundle.
    pub provided: bool,
    /// Absolute path in the container.
    pub mount: String,
    pub doc: Option<String>,
    /// The software (or the image's entrypoint) replaces `${VAR}` in this
    /// file by its environment variable VAR when it reads it.
    pub expand_env: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DataVolume {
    pub name: String,
    pub mount: String,
    /// Kubernetes quantity (`1Gi`), the PersistentVolumeClaim's request.
    pub size: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Port {
    pub name: String,
    pub port: u16,
    /// Public path behind the reverse proxy / Ingress, for HTTP ports.
    pub http: Option<String>,
    /// Published on the host (compose) / a LoadBalancer Service (Kubernetes).
    pub publish: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    Http { port: u16, path: String },
    Tcp(u16),
    Exec(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseNeed {
    pub engine: &'static str,
    /// Environment variable names the software reads, per connection setting
    /// (`host`, `port`, `name`, `user`, `password`).
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SecretDelivery {
    /// An environment variable the image reads.
    Env(String),
    /// A file mounted from a secret at this absolute path.
    File(String),
}

impl Service {
    /// The first HTTP port, else the first port: what `module.service.port` is.
    pub fn main_port(&self) -> Option<&Port> {
        self.ports
            .iter()
            .find(|p| p.http.is_some())
            .or(self.ports.first())
    }
}

const SERVICE_KEYS: &[&str] = &[
    "image",
    "command",
    "environment",
    "files",
    "data",
    "ports",
    "probe",
    "databases",
    "secrets",
    "containers",
    "sizing",
    "login",
    "security",
    // Schema v1 before the contract, read for one schema version: `port`
    // becomes one port, HTTP-routed at `path` when `path` or `health` is set.
    "port",
    "health",
    "path",
];

/// An image pinned by digest must name the whole digest: the lock records it
/// and the runtime pulls exactly those bytes, so a shortened or mistyped one
/// would pin nothing (or fail at the first pull, on the cluster).
fn image_digest_is_whole(checker: &mut Checker, node: &Node, image: &str) -> bool {
    let Some((_, digest)) = image.split_once('@') else {
        return true;
    };
    let whole = digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    if !whole {
        checker.report(
            Code::InvalidValue,
            node.span,
            "service.image",
            format!("`service.image`: `@{digest}` is not a whole image digest"),
            "write `name@sha256:` followed by the 64 lowercase hexadecimal digits the registry gives (`docker buildx imagetools inspect NAME:TAG`), or pin by tag only",
        );
    }
    whole
}

/// Reads `service:`; `short_name` gives the default public path.
pub fn parse(
    checker: &mut Checker,
    node: &Node,
    anchor: Span,
    short_name: &str,
) -> Option<Service> {
    let fields = checker.map(node, "service", anchor, SERVICE_KEYS)?;
    let image = fields
        .required(checker, "image", "registry.example.org/openent/x:1.0.0")
        .and_then(|n| {
            let image = checker.string(n, "service.image")?;
            image_digest_is_whole(checker, n, &image).then_some(image)
        });
    let command = fields
        .get("command")
        .and_then(|n| checker.strings(n, "service.command"))
        .map(|v| v.into_iter().map(|(s, _)| s).collect())
        .unwrap_or_default();
    let environment = fields
        .get("environment")
        .map(|n| environment(checker, n))
        .unwrap_or_default();
    let files = list(checker, &fields, "files", mounted_file);
    let data = list(checker, &fields, "data", data_volume);
    let mut ports = list(checker, &fields, "ports", port);
    let mut probe = fields.get("probe").and_then(|n| self::probe(checker, n));
    legacy(checker, &fields, short_name, &mut ports, &mut probe);
    let databases = list(checker, &fields, "databases", database);
    let secrets = fields
        .get("secrets")
        .map(|n| secrets(checker, n))
        .unwrap_or_default();
    check_mounts(checker, &files, &data, &fields);
    check_ports(checker, &ports, probe.as_ref(), &fields);
    let containers = fields
        .get("containers")
        .map(|n| containers(checker, n, short_name))
        .unwrap_or_default();
    let sizing = fields.get("sizing").and_then(|n| sizing::parse(checker, n));
    let login = fields.get("login").and_then(|n| login::parse(checker, n));
    let security = fields
        .get("security")
        .and_then(|n| super::security::parse(checker, n));
    Some(Service {
        image: image?,
        command,
        environment,
        files,
        data,
        ports,
        probe,
        databases,
        secrets,
        containers,
        sizing,
        login,
        security,
    })
}

/// `service.containers`: each item is a contract (without `databases`,
/// `secrets`, `containers`) plus its `name`.
fn containers(checker: &mut Checker, node: &Node, short_name: &str) -> Vec<Container> {
    let mut out = Vec::new();
    for (i, item) in checker
        .seq(node, "service.containers")
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let key = format!("service.containers[{i}]");
        let NodeKind::Map(entries) = &item.kind else {
            checker.wrong_type(item, &key, "a mapping");
            continue;
        };
        let name = entries.iter().find(|(k, _)| k.name == "name");
        let Some(name) =
            name.and_then(|(_, n)| dns_label(checker, n, &format!("{key}.name"), 20, &[]))
        else {
            if name.is_none() {
                checker.report(
                    Code::MissingKey,
                    item.span,
                    &key,
                    format!("`{key}` is missing required key `name`"),
                    "add `name: postfix` (the service is then `<slug>-postfix`)",
                );
            }
            continue;
        };
        for (k, _) in entries {
            if ["databases", "secrets", "containers"].contains(&k.name.as_str()) {
                checker.report(
                    Code::UnknownKey,
                    k.span,
                    &format!("{key}.{}", k.name),
                    format!("a container has no `{}` of its own", k.name),
                    "declare it on the module's main `service`",
                );
            }
        }
        let rest = Node {
            span: item.span,
            kind: NodeKind::Map(
                entries
                    .iter()
                    .filter(|(k, _)| k.name != "name")
                    .cloned()
                    .collect(),
            ),
        };
        if let Some(service) = parse(checker, &rest, item.span, short_name) {
            out.push(Container { name, service });
        }
    }
    out
}

fn environment(checker: &mut Checker, node: &Node) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in checker.entries(node, "service.environment").unwrap_or(&[]) {
        let key = format!("service.environment.{}", k.name);
        let value = match &v.kind {
            NodeKind::Str(s) => Some(s.clone()),
            NodeKind::Int(i) => Some(i.to_string()),
            NodeKind::Bool(b) => Some(b.to_string()),
            _ => {
                checker.wrong_type(v, &key, "a string");
                None
            }
        };
        if let Some(value) = value {
            out.insert(k.name.clone(), value);
        }
    }
    out
}

/// A list of mappings under `service.<key>`, each read by `item`.
fn list<T>(
    checker: &mut Checker,
    fields: &Fields,
    key: &str,
    item: fn(&mut Checker, &Node, &str) -> Option<T>,
) -> Vec<T> {
    let Some(node) = fields.get(key) else {
        return Vec::new();
    };
    let path = format!("service.{key}");
    let items = checker.seq(node, &path).unwrap_or(&[]);
    items
        .iter()
        .enumerate()
        .filter_map(|(i, n)| item(checker, n, &format!("{path}[{i}]")))
        .collect()
}

fn mounted_file(checker: &mut Checker, node: &Node, path: &str) -> Option<MountedFile> {
    let keys = ["source", "local", "mount", "doc", "expand"];
    let fields = checker.map(node, path, node.span, &keys)?;
    let provided = fields.get("local").is_some();
    let source = match (fields.get("source"), fields.get("local")) {
        (Some(_), Some(local)) => {
            checker.report(
                Code::ContractPath,
                local.span,
                &fields.key("local"),
                "a file has both `source` (rendered by a template) and `local` (provided by the operator)",
                "keep `source` for a file a template writes, `local` for one the operator provides",
            );
            None
        }
        (None, Some(local)) => local_path(checker, local, &fields.key("local")),
        _ => fields
            .required(checker, "source", "app.conf")
            .and_then(|n| checker.string(n, &fields.key("source"))),
    };
    let mount = fields
        .required(checker, "mount", "/etc/app/app.conf")
        .and_then(|n| absolute(checker, n, &fields.key("mount")));
    let doc = fields
        .get("doc")
        .and_then(|n| checker.string(n, &fields.key("doc")));
    let expand_env = fields
        .get("expand")
        .and_then(|n| checker.one_of(n, &fields.key("expand"), &["env"]))
        .is_some();
    Some(MountedFile {
        source: source?,
        provided,
        mount: mount?,
        doc,
        expand_env,
        span: node.span,
    })
}

fn data_volume(checker: &mut Checker, node: &Node, path: &str) -> Option<DataVolume> {
    let fields = checker.map(node, path, node.span, &["name", "mount", "size"])?;
    let name = fields.required(checker, "name", "data").and_then(|n| {
        dns_label(
            checker,
            n,
            &fields.key("name"),
            32,
            &["conf", "secrets", "local-files"],
        )
    });
    let mount = fields
        .required(checker, "mount", "/var/lib/app")
        .and_then(|n| absolute(checker, n, &fields.key("mount")));
    let size = fields
        .get("size")
        .and_then(|n| checker.string(n, &fields.key("size")))
        .unwrap_or_else(|| "1Gi".into());
    Some(DataVolume {
        name: name?,
        mount: mount?,
        size,
    })
}

/// A container path: absolute, no `..`, nothing a shell or YAML would read twice.
fn absolute(checker: &mut Checker, node: &Node, key: &str) -> Option<String> {
    let text = checker.string(node, key)?;
    let ok = text.starts_with('/')
        && !text.split('/').any(|p| p == "..")
        && !text.contains(['\\', ':', '\n', '\'', '"', '$']);
    if !ok {
        checker.report(
            Code::ContractPath,
            node.span,
            key,
            format!("`{text}` is not an absolute path in the container"),
            "write the absolute path the image reads (from its documentation), e.g. `/etc/app/app.conf`",
        );
        return None;
    }
    Some(text)
}

/// `service.files[].local`: a relative path under the operator's `local/`,
/// one file. Refused: `..` (it would read outside `local/`), absolute paths,
/// a folder, and characters the Compose volume string or the Kubernetes
/// Secret key (`/` becomes `__`) cannot carry.
fn local_path(checker: &mut Checker, node: &Node, key: &str) -> Option<String> {
    let text = checker.string(node, key)?;
    let ok = !text.is_empty()
        && !text.starts_with('/')
        && !text.ends_with('/')
        && text
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != ".." && !p.contains("__"))
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._/".contains(c));
    if !ok {
        checker.report(
            Code::ContractPath,
            node.span,
            key,
            format!("`{text}` is not a file path under the operator's `local/` folder"),
            "write a relative path of letters, digits, `-`, `.`, `_` and `/` without `..` or `__`, e.g. `tls/messagerie/fullchain.pem`",
        );
        return None;
    }
    Some(text)
}

/// A name Kubernetes accepts for a port (IANA service name, 15 characters)
/// or a volume: lowercase letters, digits and inner `-`, starting with a letter.
fn dns_label(
    checker: &mut Checker,
    node: &Node,
    key: &str,
    max: usize,
    reserved: &[&str],
) -> Option<String> {
    let text = checker.string(node, key)?;
    let ok = text.len() <= max
        && text.starts_with(|c: char| c.is_ascii_lowercase())
        && !text.ends_with('-')
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !reserved.contains(&text.as_str());
    if !ok {
        checker.report(
            Code::InvalidValue,
            node.span,
            key,
            format!("`{text}` is not a name Kubernetes accepts here"),
            format!(
                "use up to {max} lowercase letters, digits and inner `-`, starting with a letter{}",
                if reserved.is_empty() {
                    String::new()
                } else {
                    format!(", other than {}", reserved.join(", "))
                }
            ),
        );
        return None;
    }
    Some(text)
}

fn port_number(checker: &mut Checker, node: &Node, key: &str) -> Option<u16> {
    let port = checker.int(node, key)?;
    u16::try_from(port).ok().filter(|p| *p > 0).or_else(|| {
        checker.report(
            Code::InvalidValue,
            node.span,
            key,
            format!("port {port} is not between 1 and 65535"),
            "use the port the container listens on",
        );
        None
    })
}

fn url_path(checker: &mut Checker, node: &Node, key: &str) -> Option<String> {
    let text = checker.string(node, key)?;
    if !text.starts_with('/') || text.contains(['\'', '"', ' ', ';', '{', '}', '$']) {
        checker.report(
            Code::InvalidValue,
            node.span,
            key,
            format!("`{text}` is not a URL path starting with `/`"),
            format!("write `{key}: /{}`", text.trim_start_matches('/')),
        );
        return None;
    }
    Some(text)
}

fn port(checker: &mut Checker, node: &Node, path: &str) -> Option<Port> {
    let fields = checker.map(node, path, node.span, &["name", "port", "http", "publish"])?;
    let name = fields
        .required(checker, "name", "http")
        .and_then(|n| dns_label(checker, n, &fields.key("name"), 15, &[]));
    let number = fields
        .required(checker, "port", "8080")
        .and_then(|n| port_number(checker, n, &fields.key("port")));
    let http = match fields.get("http") {
        None => None,
        Some(n) => {
            let key = fields.key("http");
            let http = checker.map(n, &key, n.span, &["path"])?;
            let p = http.required(checker, "path", "/app")?;
            Some(url_path(checker, p, &http.key("path"))?)
        }
    };
    let publish = fields
        .get("publish")
        .and_then(|n| checker.bool(n, &fields.key("publish")))
        .unwrap_or(false);
    Some(Port {
        name: name?,
        port: number?,
        http,
        publish,
    })
}

fn probe(checker: &mut Checker, node: &Node) -> Option<Probe> {
    let fields = checker.map(node, "service.probe", node.span, &["http", "tcp", "exec"])?;
    let kinds = ["http", "tcp", "exec"]
        .iter()
        .filter(|k| fields.get(k).is_some())
        .count();
    if kinds != 1 {
        checker.report(
            Code::InvalidValue,
            node.span,
            "service.probe",
            "`service.probe` must have exactly one of `http`, `tcp`, `exec`",
            "write `probe: { http: { port: 8080, path: /health } }`, `{ tcp: 993 }` or `{ exec: [cmd, arg] }`",
        );
        return None;
    }
    if let Some(n) = fields.get("http") {
        let http = checker.map(n, "service.probe.http", n.span, &["port", "path"])?;
        let port = http
            .required(checker, "port", "8080")
            .and_then(|p| port_number(checker, p, "service.probe.http.port"));
        let path = http
            .required(checker, "path", "/health")
            .and_then(|p| url_path(checker, p, "service.probe.http.path"));
        return Some(Probe::Http {
            port: port?,
            path: path?,
        });
    }
    if let Some(n) = fields.get("tcp") {
        return port_number(checker, n, "service.probe.tcp").map(Probe::Tcp);
    }
    let n = fields.get("exec")?;
    let command: Vec<String> = checker
        .strings(n, "service.probe.exec")?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    if command.is_empty() {
        checker.wrong_type(n, "service.probe.exec", "a non-empty list");
        return None;
    }
    Some(Probe::Exec(command))
}

fn legacy(
    checker: &mut Checker,
    fields: &Fields,
    short_name: &str,
    ports: &mut Vec<Port>,
    probe: &mut Option<Probe>,
) {
    let health = fields
        .get("health")
        .and_then(|h| url_path(checker, h, "service.health"));
    let path = fields
        .get("path")
        .and_then(|p| url_path(checker, p, "service.path"));
    let Some(n) = fields.get("port") else {
        return;
    };
    let Some(number) = port_number(checker, n, "service.port") else {
        return;
    };
    let routed = fields.get("health").is_some() || fields.get("path").is_some();
    ports.insert(
        0,
        Port {
            name: "http".into(),
            port: number,
            http: routed.then(|| path.unwrap_or_else(|| format!("/{short_name}"))),
            publish: false,
        },
    );
    if probe.is_none() {
        *probe = health.map(|path| Probe::Http { port: number, path });
    }
}

fn database(checker: &mut Checker, node: &Node, path: &str) -> Option<DatabaseNeed> {
    let fields = checker.map(node, path, node.span, &["engine", "env"])?;
    let engine = fields
        .required(checker, "engine", "postgresql")
        .and_then(|n| checker.one_of(n, &fields.key("engine"), ENGINES));
    let mut env = BTreeMap::new();
    if let Some(n) = fields.get("env") {
        const SETTINGS: &[&str] = &["host", "port", "name", "user", "password"];
        let key = fields.key("env");
        let map = checker.map(n, &key, n.span, SETTINGS)?;
        for setting in SETTINGS {
            if let Some(v) = map.get(setting)
                && let Some(var) = env_name(checker, v, &map.key(setting))
            {
                env.insert((*setting).to_owned(), var);
            }
        }
    }
    Some(DatabaseNeed {
        engine: engine?,
        env,
    })
}

fn env_name(checker: &mut Checker, node: &Node, key: &str) -> Option<String> {
    let text = checker.string(node, key)?;
    let ok = !text.is_empty()
        && !text.starts_with(|c: char| c.is_ascii_digit())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        checker.report(
            Code::InvalidValue,
            node.span,
            key,
            format!("`{text}` is not an environment variable name"),
            "use letters, digits and `_`, e.g. `DB_PASSWORD`",
        );
        return None;
    }
    Some(text)
}

fn secrets(checker: &mut Checker, node: &Node) -> BTreeMap<String, SecretDelivery> {
    let mut out = BTreeMap::new();
    for (k, v) in checker.entries(node, "service.secrets").unwrap_or(&[]) {
        let key = format!("service.secrets.{}", k.name);
        let Some(fields) = checker.map(v, &key, k.span, &["env", "file"]) else {
            continue;
        };
        let delivery = match (fields.get("env"), fields.get("file")) {
            (Some(n), None) => env_name(checker, n, &fields.key("env")).map(SecretDelivery::Env),
            (None, Some(n)) => absolute(checker, n, &fields.key("file")).map(SecretDelivery::File),
            _ => {
                checker.report(
                    Code::InvalidValue,
                    v.span,
                    &key,
                    format!("`{key}` must have exactly one of `env` and `file`"),
                    "write `{ env: VARIABLE_THE_IMAGE_READS }` or `{ file: /run/secrets/name }`",
                );
                None
            }
        };
        if let Some(delivery) = delivery {
            out.insert(k.name.clone(), delivery);
        }
    }
    out
}

fn span_of(fields: &Fields, key: &str) -> Span {
    fields.get(key).map_or(Span::default(), |n| n.span)
}

/// Two files, or a file and a data volume, at one path.
fn check_mounts(
    checker: &mut Checker,
    files: &[MountedFile],
    data: &[DataVolume],
    fields: &Fields,
) {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    let mounts = files
        .iter()
        .map(|f| (f.mount.as_str(), f.source.as_str(), f.span))
        .chain(
            data.iter()
                .map(|d| (d.mount.as_str(), d.name.as_str(), span_of(fields, "data"))),
        );
    for (mount, what, span) in mounts {
        let mount = mount.trim_end_matches('/');
        if let Some(first) = seen.get(mount) {
            checker.report(
                Code::ContractPath,
                span,
                "service.files",
                format!("`{what}` and `{first}` are both mounted at `{mount}`"),
                "give each file and data volume its own path in the container",
            );
        } else {
            seen.insert(mount, what);
        }
    }
}

fn check_ports(checker: &mut Checker, ports: &[Port], probe: Option<&Probe>, fields: &Fields) {
    let span = span_of(fields, "ports");
    let mut seen = BTreeMap::new();
    for p in ports {
        if let Some(first) = seen.insert(p.port, p.name.as_str()) {
            checker.report(
                Code::ContractPort,
                span,
                "service.ports",
                format!("ports `{first}` and `{}` both use port {}", p.name, p.port),
                "declare each port once",
            );
        }
        if p.http.is_some()
            && let Some((_, protocol)) = NOT_HTTP_PORTS.iter().find(|(n, _)| *n == p.port)
        {
            checker.report(
                Code::ContractPort,
                span,
                "service.ports",
                format!(
                    "port `{}` ({}) is {protocol}, not HTTP: it cannot be routed by the reverse proxy or the Ingress",
                    p.name, p.port
                ),
                "remove `http:`; add `publish: true` if clients outside the cluster connect to it",
            );
        }
    }
    if let Some(Probe::Http { port, .. }) = probe
        && !ports.iter().any(|p| p.port == *port)
    {
        checker.report(
            Code::ContractPort,
            span_of(fields, "probe"),
            "service.probe.http.port",
            format!("the probe asks port {port}, which `service.ports` does not declare"),
            "declare the port under `ports` (e.g. `{ name: management, port: 9000 }`) or probe a declared one",
        );
    }
}

/// The checks that need the module's options and templates: each `secrets`
/// key is a `secret` option; each `files.source` is rendered by a template.
pub fn check_against_module(
    checker: &mut Checker,
    service: &Service,
    node: &Node,
    config: &BTreeMap<String, ConfigOption>,
    targets: &[String],
) {
    let secrets_span = match &node.kind {
        NodeKind::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.name == "secrets")
            .map_or(node.span, |(_, v)| v.span),
        _ => node.span,
    };
    for name in service.secrets.keys() {
        if config.get(name).is_none_or(|o| o.ty != OptionType::Secret) {
            let secrets: Vec<&str> = config
                .iter()
                .filter(|(_, o)| o.ty == OptionType::Secret)
                .map(|(n, _)| n.as_str())
                .collect();
            checker.report(
                Code::ContractSecret,
                secrets_span,
                &format!("service.secrets.{name}"),
                format!("`service.secrets.{name}` is not a `secret` option of `config`"),
                if secrets.is_empty() {
                    "declare it under `config` with `type: secret`".to_owned()
                } else {
                    format!("the module's secret options: {}", secrets.join(", "))
                },
            );
        }
    }
    // What each template writes, relative to conf/<slug>/.
    let rendered: Vec<&str> = targets
        .iter()
        .filter_map(|t| t.strip_prefix("conf/")?.split_once('/').map(|(_, r)| r))
        .collect();
    let files = service
        .files
        .iter()
        .chain(service.containers.iter().flat_map(|c| &c.service.files));
    for file in files.filter(|f| !f.provided) {
        let found = rendered.iter().any(|r| {
            *r == file.source || (file.source.ends_with('/') && r.starts_with(&file.source))
        });
        if !found {
            checker.report(
                Code::ContractFile,
                file.span,
                "service.files",
                format!(
                    "`{}` is mounted, but no template writes `conf/{{{{ module.slug }}}}/{}`",
                    file.source, file.source
                ),
                "name the file as a template's `target` (relative to `conf/<slug>/`), or remove the entry",
            );
        }
    }
}

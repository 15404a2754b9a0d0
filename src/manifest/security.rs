//! `service.security` of module.yaml: how the module's image runs, so that
//! both targets can harden it (docs/formats.md, "Security"; docs/render.md,
//! "Security"): the UID and GID the image runs as, what it must write besides
//! its data volumes, the capabilities it needs back, and each rule it cannot
//! keep with the reason, written down. What a rule is and which checks of a
//! scanner (checkov) it answers for is [`RULES`]: the bundle README lists
//! every exception from it.

use std::collections::BTreeMap;

use super::diagnostic::Code;
use super::fields::Checker;
use super::option::{ConfigOption, OptionType};
use super::service::{SecretDelivery, Service};
use super::yaml::{Node, Span};

#[derive(Debug, Clone, PartialEq)]
pub struct Security {
    /// The UID the image runs as (from its documentation).
    pub user: u32,
    /// Its GID, also the pod's `fsGroup` (data volumes writable by it).
    pub group: u32,
    /// Absolute paths the software writes outside its data volumes: an
    /// emptyDir (Kubernetes) or a tmpfs (Compose); the rest is read-only.
    pub writable: Vec<String>,
    /// Capabilities added back after dropping them all.
    pub capabilities: Vec<String>,
    pub exceptions: Vec<Exception>,
    pub span: Span,
    /// Where `capabilities` is written (the block's span without it).
    pub capabilities_span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    pub rule: &'static str,
    pub reason: String,
    /// Where it is written (`Span::default()` for one oent states).
    pub span: Span,
}

/// A rule of the hardened bundles a module may be excused from: its name in
/// `exceptions[].rule`, what it asks, and the checkov checks that fail
/// without it.
pub struct Rule {
    pub name: &'static str,
    pub asks: &'static str,
    pub checks: &'static [&'static str],
}

pub const RUN_AS_ROOT: &str = "run-as-root";
pub const WRITABLE_ROOT: &str = "writable-root-filesystem";
pub const ADDED_CAPABILITIES: &str = "added-capabilities";
pub const SECRET_IN_ENVIRONMENT: &str = "secret-in-environment";

/// Rules written as exceptions in a contract, then the two oent states from
/// the contract itself (an image's UID below 10000, an image by tag): the
/// README lists both kinds.
pub const RULES: &[Rule] = &[
    Rule {
        name: RUN_AS_ROOT,
        asks: "the container runs as a UID other than 0",
        checks: &["CKV_K8S_23", "CKV_K8S_40"],
    },
    Rule {
        name: WRITABLE_ROOT,
        asks: "the root filesystem is read-only",
        checks: &["CKV_K8S_22"],
    },
    Rule {
        name: ADDED_CAPABILITIES,
        asks: "every capability is dropped",
        // CKV_K8S_37 ("capabilities assigned") passes once ALL is dropped.
        checks: &["CKV_K8S_25"],
    },
    Rule {
        name: SECRET_IN_ENVIRONMENT,
        asks: "secrets reach the software as files",
        checks: &["CKV_K8S_35"],
    },
    Rule {
        name: IMAGE_UID,
        asks: "the UID is 10000 or above, apart from the host's users",
        checks: &["CKV_K8S_40"],
    },
    Rule {
        name: IMAGE_BY_TAG,
        asks: "the image is pinned by digest",
        checks: &["CKV_K8S_43"],
    },
];

/// Stated by oent from `user` (below 10000), never written by a module.
pub const IMAGE_UID: &str = "image-uid";
/// Stated by oent from `image` (no `@sha256:`), never written by a module.
pub const IMAGE_BY_TAG: &str = "image-by-tag";

/// The rules a module may write in `exceptions`.
const WRITTEN: &[&str] = &[
    RUN_AS_ROOT,
    WRITABLE_ROOT,
    ADDED_CAPABILITIES,
    SECRET_IN_ENVIRONMENT,
];

/// What a root process needs back to start a daemon that drops privileges
/// (Dovecot, Postfix): Docker's default set minus what no ENT service uses.
/// Kubernetes' baseline Pod Security Standard allows exactly these.
const CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "NET_BIND_SERVICE",
    "SETGID",
    "SETUID",
    "SYS_CHROOT",
];

/// The UID below which a user may share its number with one of the host's
/// (checkov CKV_K8S_40).
pub const HIGH_UID: u32 = 10000;

impl Security {
    pub fn excuses(&self, rule: &str) -> bool {
        self.exceptions.iter().any(|e| e.rule == rule)
    }

    pub fn read_only_root(&self) -> bool {
        !self.excuses(WRITABLE_ROOT)
    }
}

/// Reads `service.security`.
pub fn parse(checker: &mut Checker, node: &Node) -> Option<Security> {
    const KEYS: &[&str] = &["user", "group", "writable", "capabilities", "exceptions"];
    let fields = checker.map(node, "service.security", node.span, KEYS)?;
    let id = |checker: &mut Checker, n: &Node, key: &str| {
        let value = checker.int(n, key)?;
        u32::try_from(value).ok().or_else(|| {
            checker.report(
                Code::InvalidValue,
                n.span,
                key,
                format!("`{key}`: {value} is not a UID or GID"),
                "write the number the image's documentation gives (e.g. 1001 for Bitnami's images)",
            );
            None
        })
    };
    let user = fields
        .required(checker, "user", "1001")
        .and_then(|n| id(checker, n, "service.security.user"));
    let group = match fields.get("group") {
        Some(n) => id(checker, n, "service.security.group"),
        None => user,
    };
    let writable = fields
        .get("writable")
        .and_then(|n| checker.strings(n, "service.security.writable"))
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .filter_map(|(i, (path, span))| {
            absolute(
                checker,
                &path,
                span,
                &format!("service.security.writable[{i}]"),
            )
        })
        .collect();
    let capabilities = fields
        .get("capabilities")
        .and_then(|n| checker.strings(n, "service.security.capabilities"))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(cap, span)| capability(checker, cap, span))
        .collect();
    let exceptions = fields
        .get("exceptions")
        .and_then(|n| checker.seq(n, "service.security.exceptions"))
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .filter_map(|(i, n)| exception(checker, n, &format!("service.security.exceptions[{i}]")))
        .collect();
    let security = Security {
        user: user?,
        group: group?,
        writable,
        capabilities,
        exceptions,
        span: node.span,
        capabilities_span: fields.get("capabilities").map_or(node.span, |n| n.span),
    };
    check(checker, &security);
    Some(security)
}

fn absolute(checker: &mut Checker, path: &str, span: Span, key: &str) -> Option<String> {
    let ok = path.starts_with('/')
        && path != "/"
        && !path.split('/').any(|p| p == "..")
        && !path.contains(['\\', ':', '\n', '\'', '"', '$']);
    if !ok {
        checker.report(
            Code::ContractPath,
            span,
            key,
            format!("`{path}` is not an absolute folder in the container"),
            "write the folder the software writes to, e.g. `/tmp` (the root itself cannot be writable here: see the `writable-root-filesystem` exception)",
        );
        return None;
    }
    Some(path.trim_end_matches('/').to_owned())
}

fn capability(checker: &mut Checker, cap: String, span: Span) -> Option<String> {
    let name = cap.strip_prefix("CAP_").unwrap_or(&cap).to_owned();
    if CAPABILITIES.contains(&name.as_str()) {
        return Some(name);
    }
    checker.report(
        Code::SecurityCapability,
        span,
        "service.security.capabilities",
        format!("`{cap}` is not a capability a hardened bundle adds back"),
        format!("use some of: {}", CAPABILITIES.join(", ")),
    );
    None
}

fn exception(checker: &mut Checker, node: &Node, key: &str) -> Option<Exception> {
    let fields = checker.map(node, key, node.span, &["rule", "reason"])?;
    let rule = fields
        .required(checker, "rule", RUN_AS_ROOT)
        .and_then(|n| checker.one_of(n, &fields.key("rule"), WRITTEN))?;
    let reason = fields
        .get("reason")
        .and_then(|n| checker.string(n, &fields.key("reason")))
        .unwrap_or_default();
    if reason.trim().len() < 10 {
        checker.report(
            Code::SecurityException,
            node.span,
            &fields.key("reason"),
            format!("the exception to `{rule}` gives no reason"),
            "say why the image cannot keep the rule, with a link to its documentation: the bundle README shows it to the security team",
        );
        return None;
    }
    Some(Exception {
        rule,
        reason,
        span: node.span,
    })
}

/// Each rule the contract breaks has its exception, and each exception a
/// rule the contract breaks.
fn check(checker: &mut Checker, security: &Security) {
    let span = security.span;
    if security.user == 0 && !security.excuses(RUN_AS_ROOT) {
        checker.report(
            Code::SecurityRoot,
            span,
            "service.security.user",
            "the image runs as root (UID 0) without an exception",
            "run it as the non-root user its documentation gives, or add `exceptions: [{ rule: run-as-root, reason: \"…\" }]` saying why it cannot",
        );
    }
    if !security.capabilities.is_empty() && !security.excuses(ADDED_CAPABILITIES) {
        checker.report(
            Code::SecurityCapability,
            security.capabilities_span,
            "service.security.capabilities",
            format!(
                "capabilities {} are added back without an exception",
                security.capabilities.join(", ")
            ),
            "add `{ rule: added-capabilities, reason: \"…\" }` to `exceptions` saying why; for a port below 1024, prefer a high port",
        );
    }
    let broken = |rule: &str| match rule {
        RUN_AS_ROOT => security.user == 0,
        ADDED_CAPABILITIES => !security.capabilities.is_empty(),
        // Whether a secret goes by the environment is told against the
        // rest of the contract ([`check_secrets`]); a writable root cannot
        // be seen from here.
        _ => true,
    };
    for e in &security.exceptions {
        if !broken(e.rule) {
            checker.report(
                Code::UnusedSecurityException,
                e.span,
                "service.security.exceptions",
                format!(
                    "the exception to `{}` excuses nothing: the contract keeps that rule",
                    e.rule
                ),
                "remove the exception",
            );
        }
    }
}

/// E059: a contract with `security` whose secrets reach the software by its
/// environment (a `secrets` entry with `env`, a secret option without entry,
/// a database password) writes the `secret-in-environment` exception; W009
/// when it writes it and none does.
pub fn check_module_secrets(
    checker: &mut Checker,
    service: &Service,
    config: &BTreeMap<String, ConfigOption>,
) {
    let Some(security) = &service.security else {
        return;
    };
    let mut env_secrets: Vec<String> = config
        .iter()
        .filter(|(_, o)| o.ty == OptionType::Secret)
        .filter(|(name, _)| !matches!(service.secrets.get(*name), Some(SecretDelivery::File(_))))
        .map(|(name, _)| format!("`{name}`"))
        .collect();
    env_secrets.extend(
        service
            .databases
            .iter()
            .filter(|d| d.env.contains_key("password"))
            .map(|d| format!("the {} password", d.engine)),
    );
    match (env_secrets.is_empty(), security.excuses(SECRET_IN_ENVIRONMENT)) {
        (false, false) => checker.report(
            Code::SecuritySecretEnv,
            security.span,
            "service.security.exceptions",
            format!(
                "the secrets {} reach the software by its environment without an exception",
                env_secrets.join(", ")
            ),
            "deliver each as a file (`secrets: { name: { file: /run/secrets/name } }`, with the image's `*_FILE` variable where it has one), or add `{ rule: secret-in-environment, reason: \"…\" }`",
        ),
        (true, true) => checker.report(
            Code::UnusedSecurityException,
            security.span,
            "service.security.exceptions",
            "the exception to `secret-in-environment` excuses nothing: no secret reaches the software by its environment",
            "remove the exception",
        ),
        _ => {}
    }
}

/// The rules oent states from the contract: the UID below [`HIGH_UID`], an
/// image without digest. Each with its reason, for the README.
pub fn stated(image: &str, security: Option<&Security>) -> Vec<Exception> {
    let mut out = Vec::new();
    if let Some(s) = security
        && s.user != 0
        && s.user < HIGH_UID
    {
        out.push(Exception {
            rule: IMAGE_UID,
            span: Span::default(),
            reason: format!(
                "l'image s'exécute sous l'UID {} (sa documentation) : ses propres fichiers lui appartiennent",
                s.user
            ),
        });
    }
    if !image.contains("@sha256:") {
        out.push(Exception {
            rule: IMAGE_BY_TAG,
            span: Span::default(),
            reason: "le module ne fixe pas son image par empreinte (`image: nom@sha256:…`)"
                .to_owned(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::source::SourceFile;
    use crate::manifest::yaml;

    fn read(text: &str) -> (Option<Security>, Vec<String>) {
        let source = SourceFile::new("module.yaml", text.to_owned());
        let node = yaml::parse(&source).unwrap();
        let mut checker = Checker::new(&source);
        let security = parse(&mut checker, &node);
        let codes = checker
            .diagnostics
            .iter()
            .map(|d| format!("{} {}", d.code, d.message))
            .collect();
        (security, codes)
    }

    #[test]
    fn a_non_root_contract_reads_its_user_paths_and_nothing_to_excuse() {
        let (security, codes) = read("user: 1001\nwritable: [/tmp, /opt/bitnami/openldap/var/]\n");
        assert_eq!(codes, Vec::<String>::new());
        let security = security.unwrap();
        assert_eq!((security.user, security.group), (1001, 1001));
        assert_eq!(security.writable, ["/tmp", "/opt/bitnami/openldap/var"]);
        assert!(security.read_only_root());
        assert_eq!(
            stated("docker.io/bitnami/openldap:2.6.8", Some(&security))
                .iter()
                .map(|e| e.rule)
                .collect::<Vec<_>>(),
            [IMAGE_UID, IMAGE_BY_TAG]
        );
        assert!(stated("nginx@sha256:abc", None).is_empty());
    }

    #[test]
    fn root_and_capabilities_without_exception_are_refused() {
        let (_, codes) = read("user: 0\ncapabilities: [CAP_SETUID, SYS_ADMIN]\n");
        assert_eq!(
            codes,
            [
                "E057 `SYS_ADMIN` is not a capability a hardened bundle adds back",
                "E056 the image runs as root (UID 0) without an exception",
                "E057 capabilities SETUID are added back without an exception",
            ]
        );
    }

    #[test]
    fn exceptions_need_a_reason_and_a_rule_they_excuse() {
        let (security, codes) = read(
            "user: 0\ncapabilities: [SETUID]\nexceptions:\n  - { rule: run-as-root, reason: \"Dovecot starts as root, then drops to vmail\" }\n  - { rule: added-capabilities, reason: \"\" }\n",
        );
        assert_eq!(
            codes,
            [
                "E058 the exception to `added-capabilities` gives no reason",
                "E057 capabilities SETUID are added back without an exception",
            ]
        );
        assert!(security.unwrap().excuses(RUN_AS_ROOT));
        let (_, codes) = read(
            "user: 101\nexceptions: [{ rule: run-as-root, reason: \"it used to run as root\" }]\n",
        );
        assert_eq!(
            codes,
            ["W009 the exception to `run-as-root` excuses nothing: the contract keeps that rule"]
        );
    }
}

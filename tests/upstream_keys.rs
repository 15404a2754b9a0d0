//! The keys each template writes for the software that cannot start here
//! (no Debian or PyPI package: Keycloak, Nextcloud, Moodle, Etherpad, Apereo
//! CAS) are
//! keys the upstream project documents: each rendered file is built by
//! `oent build` from modules/ (a registry built in the test, as in
//! start_data.rs), its keys are extracted, and every key must be in the list
//! read from upstream (tests/fixtures/start/upstream-keys/, each with its
//! source, version and date) or in the allow list below with its reason.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Keys the upstream list lacks but the software reads, and why.
const ALLOWED: &[(&str, &str, &str)] = &[
    // config-dist.php section 8 (FORCED SETTINGS): any core admin setting is
    // forced by assigning `$CFG->name` in config.php.
    (
        "moodle.txt",
        "auth",
        "core admin setting (Plugins > Authentication), forced",
    ),
    (
        "moodle.txt",
        "timezone",
        "core admin setting (Location), forced",
    ),
    (
        "moodle.txt",
        "theme",
        "core admin setting (Appearance > Themes), forced",
    ),
    (
        "moodle.txt",
        "maxbytes",
        "core admin setting (Security > Site security), forced",
    ),
    (
        "moodle.txt",
        "sessiontimeout",
        "core admin setting (Server > Session handling), forced",
    ),
    (
        "moodle.txt",
        "supportemail",
        "core admin setting (Server > Support contact), forced",
    ),
    (
        "moodle.txt",
        "smtphosts",
        "core admin setting (Server > Email > Outgoing), forced",
    ),
    (
        "moodle.txt",
        "smtpsecure",
        "core admin setting (Server > Email > Outgoing), forced",
    ),
    (
        "moodle.txt",
        "noreplyaddress",
        "core admin setting (Server > Email > Outgoing), forced",
    ),
    // Not in the stored sources of cas.txt (older classes, or Spring Boot's
    // own) but shown by CAS's documentation and list: to check against the
    // 7.1.x property catalogue when it can be read.
    (
        "cas.txt",
        "cas.authn.accept.enabled",
        "turns off the static demo account; CAS's LDAP getting-started example sets it \
         (the stored AcceptAuthenticationProperties predates the field)",
    ),
    (
        "cas.txt",
        "cas.monitor.endpoints.endpoint.health.access",
        "CAS's per-actuator access rule, cas.monitor.endpoints.endpoint.<id>.access \
         (https://www.mail-archive.com/cas-user@apereo.org/msg16673.html)",
    ),
    (
        "cas.txt",
        "management.endpoint.health.enabled",
        "Spring Boot's per-endpoint switch management.endpoint.<id>.enabled (same message)",
    ),
    (
        "cas.txt",
        "server.ssl.enabled",
        "Spring Boot's ServerProperties ssl, Ssl.enabled \
         (https://github.com/spring-projects/spring-boot/issues/8259)",
    ),
    (
        "cas.txt",
        "cas.service-registry.json.watcher-enabled",
        "CAS's JSON registry watcher switch, as its documentation shows it; the stored \
         JsonServiceRegistryProperties has no such field: the doubtful one",
    ),
];

/// `oent build` of `distribution` in the repository's folder `tree` against
/// a registry built from modules/, so that the templates checked are this
/// tree's ([`support::build_from_modules`]).
fn built(tree: &str, distribution: &str) -> (tempfile::TempDir, PathBuf) {
    support::build_from_modules(tree, distribution, &[])
}

/// The key names of an upstream list (comments and blank lines skipped).
fn upstream(list: &str) -> BTreeSet<String> {
    let path = Path::new(ROOT)
        .join("tests/fixtures/start/upstream-keys")
        .join(list);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The source of a list (its `# Source:` line and the `#   ` lines that go
/// on with it), for the message.
fn source(list: &str) -> String {
    let path = Path::new(ROOT)
        .join("tests/fixtures/start/upstream-keys")
        .join(list);
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines().skip_while(|l| !l.starts_with("# Source:"));
    let first = lines.next().unwrap_or("# Source: (none)");
    std::iter::once(first.trim_start_matches("# Source:"))
        .chain(lines.map_while(|l| l.strip_prefix("#   ")))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Fails naming each key of `keys` (written in `file`) that neither the
/// upstream `list` nor the allow list has.
fn check(file: &Path, list: &str, keys: &BTreeSet<String>) {
    assert!(!keys.is_empty(), "{}: no key extracted", file.display());
    let known = upstream(list);
    let unknown: Vec<&String> = keys
        .iter()
        .filter(|k| !known.contains(*k))
        .filter(|k| !ALLOWED.iter().any(|(l, a, _)| *l == list && a == k))
        .collect();
    assert!(
        unknown.is_empty(),
        "{}: key(s) {unknown:?} not documented upstream (list {list}, read from {}): \
         drop them from the template or, if the software reads them, allow them in \
         tests/upstream_keys.rs with the reason",
        file.display(),
        source(list)
    );
}

/// keycloak.conf and cas.properties: `key=value` lines.
fn properties_keys(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split('=').next().unwrap().trim().to_string())
        .collect()
}

/// Nextcloud config.php: the `'key' =>` entries at the top level of
/// `$CONFIG = array (...)` (nested arrays' keys are values, not options).
fn nextcloud_keys(text: &str) -> BTreeSet<String> {
    let body = &text[text.find("$CONFIG").expect("no $CONFIG")..];
    let mut depth = 0;
    let mut keys = BTreeSet::new();
    for line in body.lines() {
        let t = line.trim();
        if depth == 1
            && let Some(rest) = t.strip_prefix('\'')
            && let Some(end) = rest.find('\'')
            && rest[end + 1..].trim_start().starts_with("=>")
        {
            keys.insert(rest[..end].to_string());
        }
        depth += line.matches('(').count() as i32 - line.matches(')').count() as i32;
    }
    keys
}

/// Moodle config.php: `$CFG->key =` assignments.
fn moodle_keys(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("$CFG->"))
        .filter_map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            rest[name.len()..]
                .trim_start()
                .starts_with('=')
                .then_some(name)
        })
        .collect()
}

/// Etherpad settings.json: every object key as a dotted path; the names of
/// `users` are accounts, written `users.*`.
fn etherpad_keys(value: &serde_json::Value, prefix: &str, keys: &mut BTreeSet<String>) {
    if let serde_json::Value::Object(map) = value {
        for (name, child) in map {
            let name = if prefix == "users" { "*" } else { name };
            let path = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}.{name}")
            };
            keys.insert(path.clone());
            etherpad_keys(child, &path, keys);
        }
    }
}

#[test]
fn the_keycloak_nextcloud_and_moodle_settings_write_only_keys_upstream_documents() {
    // The Essonne logs in with LemonLDAP::NG; Île-de-France with Keycloak.
    let (_idf, bundle) = built("examples", "ile-de-france");
    let keycloak = bundle.join("conf/openent-sso/keycloak.conf");
    let text = std::fs::read_to_string(&keycloak).unwrap();
    check(&keycloak, "keycloak.txt", &properties_keys(&text));

    let (_work, bundle) = built("examples", "essonne-colleges");
    let conf = bundle.join("conf");

    let nextcloud = conf.join("openent-documents/config.php");
    let text = std::fs::read_to_string(&nextcloud).unwrap();
    check(&nextcloud, "nextcloud.txt", &nextcloud_keys(&text));

    let moodle = conf.join("openent-cours/config.php");
    let text = std::fs::read_to_string(&moodle).unwrap();
    check(&moodle, "moodle.txt", &moodle_keys(&text));
}

#[test]
fn the_etherpad_settings_write_only_keys_upstream_documents() {
    let (_work, bundle) = built("tests/fixtures/start", "chat");
    let settings = bundle.join("conf/openent-pads/settings.json");
    let text = std::fs::read_to_string(&settings).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut keys = BTreeSet::new();
    etherpad_keys(&json, "", &mut keys);
    check(&settings, "etherpad.txt", &keys);
}

#[test]
fn the_cas_properties_write_only_keys_upstream_documents() {
    let (_work, bundle) = built("tests/fixtures/start/upstream-keys", "cas");
    let properties = bundle.join("conf/openent-sso-cas/cas.properties");
    let text = std::fs::read_to_string(&properties).unwrap();
    check(&properties, "cas.txt", &properties_keys(&text));
}

#[test]
fn each_extractor_finds_the_keys_of_its_format() {
    assert_eq!(
        properties_keys("# c\nhostname=https://x/a=b\n\nhttp-enabled=true\n"),
        BTreeSet::from(["hostname".into(), "http-enabled".into()])
    );
    assert_eq!(
        nextcloud_keys(
            "<?php\n$CONFIG = array (\n  'trusted_domains' => array ( 0 => 'x' ),\n  \
             'a.b' => array (\n    'inner' => 1,\n  ),\n  'c' => 'd',\n);\n"
        ),
        BTreeSet::from(["trusted_domains".into(), "a.b".into(), "c".into()])
    );
    assert_eq!(
        moodle_keys("$CFG = new stdClass();\n$CFG->dbtype    = 'x';\n$CFG->dboptions = array(\n"),
        BTreeSet::from(["dbtype".into(), "dboptions".into()])
    );
    let mut keys = BTreeSet::new();
    etherpad_keys(
        &serde_json::json!({"a": {"b": 1}, "users": {"admin": {"password": "p"}}}),
        "",
        &mut keys,
    );
    assert_eq!(
        keys,
        BTreeSet::from([
            "a".into(),
            "a.b".into(),
            "users".into(),
            "users.*".into(),
            "users.*.password".into()
        ])
    );
}

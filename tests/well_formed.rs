//! What the software reads is well-formed: hostile names and values (an
//! établissement `Collège "Le Phare"`, a `--set` item with `"` and `\`)
//! written by templates that do not escape them refuse the build, with the
//! template, the établissement and the rendered line; written with the
//! escaping filters they build, and every file reads back the same strings.

mod support;

use std::path::{Path, PathBuf};

use support::registry::publish_tree;
use support::{Test, tree};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/well_formed")
}

/// The module `openent/KIND` published to `openent/`, and its
/// distribution in `dist/` (two ordinary établissements).
fn project(kind: &str) -> Test {
    let test = Test::new().copy(
        &fixture().join("modules").join(kind),
        &format!("src/{kind}"),
    );
    publish_tree(test, "openent", "openent", "src")
        .copy(&fixture().join("dist").join(kind), "dist")
        .env("OENT_CACHE_DIR", "cache")
}

/// The établissements of `hostile.csv`: quotes, a backslash, `<`, `&`, `${`.
fn hostile(test: Test) -> Test {
    std::fs::copy(
        fixture().join("hostile.csv"),
        test.path().join("dist/etablissements.csv"),
    )
    .unwrap();
    test
}

const HOSTILE_NOM: &str = "Collège \"Le Phare\"";
const HOSTILE_NOM_2: &str = "L'Oréal: \"<École> & ${HOME}\" \\";
/// A list whose items hold a quote and a backslash, as YAML (`--set`).
const HOSTILE_SET: &str =
    r#"openent/KIND.groupes=["Arts \"plastiques\"", 'C:\temp\', "deux\nlignes"]"#;
const HOSTILE_GROUPES: [&str; 3] = ["Arts \"plastiques\"", "C:\\temp\\", "deux\nlignes"];

fn build(test: Test, kind: &str, hostile_set: bool) -> support::Output {
    let set = HOSTILE_SET.replace("KIND", kind);
    let mut args = vec!["build", "dist", "-o", "out"];
    if hostile_set {
        args.extend(["--set", &set]);
    }
    test.arg_list(&args).run()
}

#[test]
fn unescaped_hostile_values_refuse_the_build_and_keep_the_previous_bundle() {
    let out = build(project("raw"), "raw", false).status(0);
    let before = tree(&out.path().join("out"));
    // The établissements alone: each file that quotes them is refused, at
    // the first établissement that breaks it.
    let out = build(hostile(out.then()), "raw", false)
        .status(1)
        .stderr_is(r#"error[E043/malformed-output]: openent/raw@1.0.0/templates/etab.json.tera: rendered `conf/openent-raw/0440001M.json` (établissement 0440001M) is not valid JSON at line 3, column 20: expected `,` or `}`; the line reads `  "nom": "Collège "Le Phare"",`
 = help: write each value with the format's escaping filter, e.g. `{{ value | json_string }}` (docs/render.md, "Escaping filters")

error[E043/malformed-output]: openent/raw@1.0.0/templates/etab.yaml.tera: rendered `conf/openent-raw/0440001M.yaml` (établissement 0440001M) is not valid YAML at line 2, column 16: invalid trailing content after double-quoted scalar; the line reads `nom: "Collège "Le Phare""`
 = help: write each value with the format's escaping filter, e.g. `{{ value | yaml_scalar }}` (docs/render.md, "Escaping filters")

error[E043/malformed-output]: openent/raw@1.0.0/templates/config.php.tera: rendered `conf/openent-raw/config.php` is not valid PHP at line 6, column 22: unexpected text right after a string (a value that closed its quotes? write it with `php_string`); the line reads `    '0911500L' => 'L'Oréal: "<École> & ${HOME}" \',`
 = help: write each value with the format's escaping filter, e.g. `{{ value | php_string }}` (docs/render.md, "Escaping filters")

error: 3 problem(s); nothing was written, the previous bundle is untouched
"#);
    assert_eq!(tree(&out.path().join("out")), before);
    // And a `--set` list with a quote, a backslash, a line break.
    let out = build(out.then(), "raw", true)
        .status(1)
        .stderr_contains("rendered `conf/openent-raw/0750655E.ldif` (établissement 0750655E) is not valid LDIF at line 8, column 1: expected `attribute: value` (a value with a line break must be base64-encoded, `attr:: …`); the line reads `lignes`\n = help: write each value with the format's escaping filter, e.g. `{{ value | ldif_value }}`")
        .stderr_contains("rendered `conf/openent-raw/app.properties` is not valid properties/INI at line 8, column 1: expected `key = value`")
        .stderr_contains("rendered `conf/openent-raw/0750655E.json` (établissement 0750655E) is not valid JSON at line 4, column 22: expected `,` or `]`; the line reads `  \"groupes\": [\"Arts \"plastiques\"\", \"C:\\temp\\\", \"deux`")
        .stderr_contains("error: 5 problem(s); nothing was written");
    assert_eq!(tree(&out.path().join("out")), before);
}

#[test]
fn escaped_hostile_values_build_and_read_back_the_same() {
    let out = build(hostile(project("escaped")), "escaped", true).status(0);
    let dir = out.path().join("out/conf/openent-escaped");
    let groupes = serde_json::json!(HOSTILE_GROUPES);
    for (uai, nom) in [("0440001M", HOSTILE_NOM), ("0911500L", HOSTILE_NOM_2)] {
        let json: serde_json::Value =
            serde_json::from_str(&out.read(&format!("out/conf/openent-escaped/{uai}.json")))
                .unwrap();
        assert_eq!(json["nom"], nom);
        assert_eq!(json["groupes"], groupes);
        let yaml: serde_json::Value =
            serde_saphyr::from_str(&out.read(&format!("out/conf/openent-escaped/{uai}.yaml")))
                .unwrap();
        assert_eq!(yaml["nom"], nom);
        assert_eq!(yaml["groupes"], groupes);
        let ldif = ldif_values(&out.read(&format!("out/conf/openent-escaped/{uai}.ldif")));
        assert_eq!(ldif["description"], [nom]);
        assert_eq!(ldif["businessCategory"], HOSTILE_GROUPES);
    }
    // PHP reads its own file: php-cli is how the value reaches the application.
    let php = support::tools::required("php", "php-cli");
    let config = support::tools::run(
        std::process::Command::new(php)
            .args(["-r", "include $argv[1]; echo json_encode($CONFIG);"])
            .arg(dir.join("config.php")),
    );
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["etablissements"]["0440001M"], HOSTILE_NOM);
    assert_eq!(config["etablissements"]["0911500L"], HOSTILE_NOM_2);
    assert_eq!(config["groupes"], groupes);
    let properties = oent::render::well_formed::properties::check(
        &out.read("out/conf/openent-escaped/app.properties"),
    )
    .unwrap();
    assert!(properties.contains(&("etablissement.0440001M.nom".into(), HOSTILE_NOM.into())));
    assert!(properties.contains(&("etablissement.0911500L.nom".into(), HOSTILE_NOM_2.into())));
    assert!(properties.contains(&("groupe.2".into(), HOSTILE_GROUPES[1].into())));
    assert!(properties.contains(&("groupe.3".into(), HOSTILE_GROUPES[2].into())));
}

/// `attr: value` and `attr:: base64` lines of an LDIF file (no folding), by attribute.
fn ldif_values(text: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    use base64::Engine as _;
    let mut values = std::collections::BTreeMap::<String, Vec<String>>::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').unwrap();
        let value = match value.strip_prefix(':') {
            Some(encoded) => String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .unwrap(),
            )
            .unwrap(),
            None => value.trim_start().to_owned(),
        };
        values.entry(name.to_owned()).or_default().push(value);
    }
    values
}

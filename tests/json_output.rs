//! `--format json` on every command that reports something: each command's
//! output, from a real run, validates against its schema in
//! manifests/output/ (check-jsonschema, in .ci/venv), and a few values are
//! checked for meaning. docs/json.md documents each shape.

mod forge_support;
mod git_support;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use forge_support::RunningForge;
use serde_json::{Value, json};
use support::registry::{module, publish_tree};
use support::{Output, Test, venv_tool};

fn schema(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("manifests/output/{name}.schema.json"))
}

/// The command's standard output, valid against `manifests/output/NAME.schema.json`.
fn valid(name: &str, output: &Output) -> Value {
    let file = output.path().join(format!("{name}-{}.json", rand_suffix()));
    std::fs::write(&file, &output.stdout).unwrap();
    let schema = schema(name);
    check_jsonschema(
        &[
            "--schemafile".as_ref(),
            schema.as_os_str(),
            file.as_os_str(),
        ],
        &output.stdout,
    );
    output.json()
}

/// `check-jsonschema ARGS…` succeeds; `checked` is shown when it does not.
fn check_jsonschema(args: &[&std::ffi::OsStr], checked: &str) {
    let check = Command::new(venv_tool("check-jsonschema"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}\n{checked}",
        String::from_utf8_lossy(&check.stdout)
    );
}

/// Distinct file names for the outputs checked in one test directory.
fn rand_suffix() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// openent/agenda (one file per établissement, an option) requiring
/// openent/annuaire, published; a distribution asking for agenda.
fn project() -> Test {
    let agenda = |version: &str, jours: u32| {
        module(
            "openent/agenda",
            version,
            &format!(
                "requires: {{ openent/annuaire: \"^1\" }}\nconfig:\n  jours: {{ type: integer, default: {jours}, doc: \"Jours affichés\" }}\n\
                 templates:\n  - {{ source: templates/t.tera, target: \"conf/{{{{ module.slug }}}}/{{{{ etab.uai }}}}\", each: etablissement }}\n"
            ),
        )
    };
    let test = Test::new()
        .write("src/agenda/module.yaml", &agenda("1.0.0", 5))
        .write(
            "src/agenda/templates/t.tera",
            "jours = {{ config.jours }}\n",
        )
        .write(
            "src/annuaire/module.yaml",
            &module("openent/annuaire", "1.0.0", ""),
        )
        .write("next/agenda/module.yaml", &agenda("1.1.0", 7))
        .write(
            "next/agenda/templates/t.tera",
            "jours = {{ config.jours }}\n",
        );
    publish_tree(test, "openent", "openent", "src")
        .write(
            "dist/distribution.yaml",
            "schema: oent/distribution/v1\nname: idf/test\nversion: 1.0.0\ncollectivite: { nom: Test, type: region }\n\
             registries:\n  - { name: openent, path: ../openent }\n\
             modules:\n  openent/agenda: \"^1\"\n\
             settings: { domaine: ent.example.fr }\ntarget: compose\netablissements:\n\
             \x20 - { uai: \"0750655E\", nom: A, type: lycee, commune: Paris, departement: \"75\", secteur: public }\n",
        )
}

fn run<const N: usize>(test: &Output, args: [&str; N]) -> Output {
    Test::at(test.path())
        .args(args)
        .args(["--format", "json"])
        .run()
}

#[test]
fn resolution_values_build_and_upgrade_commands_match_their_schemas() {
    let out = project().args(["--version"]).run().status(0);

    let lock = valid("lock", &run(&out, ["resolve", "dist"]).status(0));
    assert_eq!(lock["changed"], true);
    assert_eq!(
        lock["changes"][0],
        json!({"name": "openent/agenda", "old": null, "new": "1.0.0"})
    );
    assert_eq!(lock["modules"][0]["name"], "openent/agenda");
    assert_eq!(lock["modules"][0]["requires"], json!(["openent/annuaire"]));

    let tree = valid("tree", &run(&out, ["tree", "dist"]).status(0));
    assert_eq!(tree["roots"], json!(["openent/agenda"]));
    let inverted = valid(
        "tree",
        &run(&out, ["tree", "dist", "--invert", "openent/annuaire"]).status(0),
    );
    assert_eq!(inverted["invert"], "openent/annuaire");

    let why = valid(
        "why",
        &run(&out, ["why", "openent/annuaire", "dist"]).status(0),
    );
    assert_eq!(
        why["paths"],
        json!([[{"name": "openent/agenda", "version": "1.0.0"}, {"name": "openent/annuaire", "version": "1.0.0"}]])
    );
    let absent = valid(
        "why",
        &run(&out, ["why", "openent/absent", "dist"]).status(1),
    );
    assert_eq!(absent["module_version"], Value::Null);

    let values = valid("values", &run(&out, ["values", "dist"]).status(0));
    let jours = &values["modules"]["openent/agenda"]["jours"];
    assert_eq!(jours["value"], 5);
    assert_eq!(jours["default"], true);
    assert_eq!(jours["doc"], "Jours affichés");

    let build = valid(
        "build",
        &run(&out, ["build", "dist", "-o", "old"]).status(0),
    );
    assert_eq!(build["etablissements"], 1);

    // agenda 1.1.0 appears: the previews, then the upgrade itself.
    let out = publish_tree(out.then(), "openent", "openent", "next")
        .args(["--version"])
        .run();
    let preview = valid(
        "preview",
        &run(&out, ["update", "--dry-run", "--dist", "dist"]).status(0),
    );
    assert_eq!(preview["defaults"][0]["new"], 7);
    let updated = valid("lock", &run(&out, ["update", "--dist", "dist"]).status(0));
    assert_eq!(
        updated["changes"],
        json!([{"name": "openent/agenda", "old": "1.0.0", "new": "1.1.0"}])
    );
    let diff = valid(
        "preview",
        &run(&out, ["build", "dist", "-o", "old", "--diff"]).status(0),
    );
    assert_eq!(diff["modules"][0]["new"], "1.1.0");
    valid(
        "build",
        &run(&out, ["build", "dist", "-o", "new"]).status(0),
    );
    let files = valid("diff", &run(&out, ["diff", "old", "new"]).status(1));
    assert!(
        files["files"]
            .as_array()
            .unwrap()
            .contains(&json!({"path": "conf/openent-agenda/0750655E", "change": "modified"}))
    );

    let licences = valid("licences", &run(&out, ["licences", "dist"]).status(0));
    assert_eq!(licences["modules"][0]["licence"], "CECILL-2.1");
    assert_eq!(licences["modules"][0]["allowed"], true);
}

#[test]
fn the_catalogue_commands_match_their_schemas() {
    let out = Test::new().args(["--version"]).run();
    let found = valid("search", &run(&out, ["search", "annuaire"]).status(0));
    assert!(!found["modules"].as_array().unwrap().is_empty());
    let info = valid("info", &run(&out, ["info", "openent/portail"]).status(0));
    assert_eq!(info["name"], "openent/portail");
}

#[test]
fn publish_sync_and_release_match_their_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(&dir.path().join("forge"), "openent", "openent", "");
    support::registry::write_module(dir.path(), "openent/annuaire", "1.0.0", "");
    let published = Test::at(dir.path())
        .args(["publish", "src", "--format", "json"])
        .forge(&forge)
        .run()
        .status(0);
    let published = valid("publish", &published);
    assert_eq!(published["created"], 1);
    assert_eq!(published["modules"][0]["outcome"], "published");

    // A peer that does not answer: reported, as JSON, with exit 1.
    let sync_dir = dir.path().join("sync");
    Test::at(dir.path())
        .args(["key", "new", "sync/peer-key"])
        .run()
        .status(0);
    Test::at(&sync_dir)
        .args([
            "registry",
            "init",
            "reg",
            "--name",
            "idf",
            "--namespace",
            "idf",
        ])
        .run()
        .status(0);
    let public = std::fs::read_to_string(sync_dir.join("peer-key.pub")).unwrap();
    std::fs::write(
        sync_dir.join("forge.yaml"),
        format!(
            "schema: oent/forge/v1\nregistry: reg\nlisten: \"127.0.0.1:0\"\nsigning-key: peer-key\n\
             sync-interval-seconds: 0\ntokens: []\n\
             peers:\n  - {{ name: openent, url: \"http://127.0.0.1:9\", keys: [\"{}\"], namespaces: [openent] }}\n",
            public.trim()
        ),
    )
    .unwrap();
    let synced = Test::at(&sync_dir)
        .args([
            "forge",
            "sync",
            "--config",
            "forge.yaml",
            "--format",
            "json",
        ])
        .run()
        .status(1);
    let synced = valid("sync", &synced);
    assert_eq!(synced["peers"][0]["ok"], false);

    let remote = git_support::bare(&dir.path().join("remote.git"));
    let repo = git_support::work(&dir.path().join("work"), Some(remote.to_str().unwrap()));
    git_support::commit(
        &repo,
        &[("demo/module.yaml", &module("openent/demo", "1.0.0", ""))],
        "feat: first version",
    );
    git_support::git(&repo, &["tag", "-a", "v1.0.0", "-m", "openent/demo 1.0.0"]);
    git_support::git(&repo, &["push", "-q", "origin", "main", "v1.0.0"]);
    git_support::commit(&repo, &[("demo/x.txt", "x\n")], "fix: a typo");
    let release = Test::at(&repo)
        .args([
            "release",
            "demo",
            "--bump",
            "patch",
            "--dry-run",
            "--format",
            "json",
        ])
        .run()
        .status(0);
    let release = valid("release", &release);
    assert_eq!(release["dry_run"], true);
    assert_eq!(release["module_version"], "1.0.1");
    assert!(release["steps"].as_array().unwrap().len() >= 5);
}

#[test]
fn every_schema_is_a_valid_json_schema() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/output");
    let mut schemas: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    schemas.sort();
    assert_eq!(schemas.len(), 14, "{schemas:?}");
    let mut args: Vec<&std::ffi::OsStr> = vec!["--check-metaschema".as_ref()];
    args.extend(schemas.iter().map(|p| p.as_os_str()));
    check_jsonschema(&args, "the schemas themselves");
}

#[test]
fn an_unknown_format_is_refused_with_the_ones_there_are() {
    Test::new()
        .args(["tree", "--format", "yaml"])
        .run()
        .status(2)
        .stderr_contains("invalid value 'yaml' for '--format <FORMAT>'")
        .stderr_contains("[possible values: human, json]");
}

//! The repository's own manifests, and lint's machine-readable reports,
//! checked by the real tools CI systems use: check-jsonschema for the JSON
//! Schemas in manifests/, junitparser for JUnit, and GitLab's documented
//! Code Quality fields. The Python tools come from `.ci/setup`.

use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

use serde_json::Value;
use support::{Test, venv_tool};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn manifests_under(dir: &Path, name: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            manifests_under(&path, name, out);
        } else if path.file_name().is_some_and(|n| n == name) {
            out.push(path);
        }
    }
}

#[test]
fn the_repository_lints_clean() {
    // Run in the repository, its private cache in a temporary directory.
    let output = Test::new().current_dir(repo()).arg("lint").run().status(0);
    assert!(output.stdout.ends_with("no problems\n"), "{output:?}");
}

fn check_jsonschema(schema: &str, files: &[PathBuf]) {
    assert!(!files.is_empty());
    let output = Command::new(venv_tool("check-jsonschema"))
        .arg("--schemafile")
        .arg(repo().join("manifests").join(schema))
        .args(files)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{schema}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn every_module_in_the_repository_matches_the_module_schema() {
    let mut files = Vec::new();
    manifests_under(&repo().join("modules"), "module.yaml", &mut files);
    // The scaffold has placeholders: check what `oent new` writes.
    let dir = tempfile::tempdir().unwrap();
    Test::at(dir.path())
        .args(["new", "module", "openent/demo"])
        .run()
        .status(0);
    files.push(dir.path().join("modules/openent/demo/module.yaml"));
    check_jsonschema("module.schema.json", &files);
}

#[test]
fn every_distribution_in_the_repository_matches_the_distribution_schema() {
    let mut files = Vec::new();
    manifests_under(&repo().join("examples"), "distribution.yaml", &mut files);
    let dir = tempfile::tempdir().unwrap();
    Test::at(dir.path())
        .args(["new", "distribution", "idf/lilie", "--type", "region"])
        .run()
        .status(0);
    files.push(dir.path().join("lilie/distribution.yaml"));
    check_jsonschema("distribution.schema.json", &files);
}

#[test]
fn a_signed_snapshot_matches_the_snapshot_schema() {
    let dir = tempfile::tempdir().unwrap();
    let oent = |args: &[&str]| {
        Test::at(dir.path()).arg_list(args).run().status(0);
    };
    oent(&["key", "new", "key"]);
    oent(&["new", "module", "openent/demo"]);
    oent(&[
        "registry",
        "init",
        "reg",
        "--name",
        "openent",
        "--namespace",
        "openent",
    ]);
    oent(&[
        "registry", "build", "modules", "--to", "reg", "--sign", "key",
    ]);
    check_jsonschema(
        "snapshot.schema.json",
        &[dir.path().join("reg/snapshot.json")],
    );
    // A distribution pinning one key, and one pinning a list.
    let public = std::fs::read_to_string(dir.path().join("key.pub")).unwrap();
    let mut files = Vec::new();
    for key in [
        format!("\"{}\"", public.trim()),
        format!("[\"{}\"]", public.trim()),
    ] {
        let path = dir.path().join(format!("d{}.yaml", files.len()));
        std::fs::write(
            &path,
            format!(
                "schema: oent/distribution/v1\nname: idf/lilie\nversion: 2026.1.0\n\
                 collectivite: {{ nom: Région Île-de-France, type: region }}\n\
                 registries:\n  - {{ name: openent, path: reg, key: {key} }}\n"
            ),
        )
        .unwrap();
        files.push(path);
    }
    check_jsonschema("distribution.schema.json", &files);
}

#[test]
fn the_schemas_are_valid_json_schemas() {
    let output = Command::new(venv_tool("check-jsonschema"))
        .arg("--check-metaschema")
        .arg(repo().join("manifests/module.schema.json"))
        .arg(repo().join("manifests/distribution.schema.json"))
        .arg(repo().join("manifests/snapshot.schema.json"))
        .arg(repo().join("manifests/forge.schema.json"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn a_forge_yaml_that_oent_accepts_matches_the_forge_schema() {
    let dir = tempfile::tempdir().unwrap();
    let oent = |args: &[&str]| {
        Test::at(dir.path()).arg_list(args).run().status(0);
    };
    oent(&["key", "new", "peer-key"]);
    oent(&[
        "registry",
        "init",
        "reg",
        "--name",
        "idf",
        "--namespace",
        "idf",
    ]);
    let public = std::fs::read_to_string(dir.path().join("peer-key.pub")).unwrap();
    let path = dir.path().join("forge.yaml");
    std::fs::write(
        &path,
        format!(
            "schema: oent/forge/v1\nregistry: reg\nlisten: \"127.0.0.1:8470\"\nsigning-key: peer-key\n\
             snapshot-validity-days: 30\nmax-upload-mib: 64\nsync-interval-seconds: 0\n\
             tokens:\n  - {{ name: ci-idf, sha256: \"{}\", namespaces: [idf] }}\n\
             peers:\n  - {{ name: openent, url: \"http://127.0.0.1:9\", keys: [\"{}\"], namespaces: [openent] }}\n",
            "0".repeat(64),
            public.trim()
        ),
    )
    .unwrap();
    // oent reads it (the sync fails to reach the peer: exit 1, not a config error).
    Test::at(dir.path())
        .args(["forge", "sync", "--config", "forge.yaml"])
        .run()
        .status(1);
    check_jsonschema("forge.schema.json", &[path]);
}

/// A tree with one clean module, one module with two errors and a warning.
fn project_with_problems() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    Test::at(dir.path())
        .args(["new", "module", "openent/propre"])
        .run()
        .status(0);
    let broken = dir.path().join("modules/openent/casse");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("module.yaml"),
        "schema: oent/module/v1\nname: openent/casse\nversion: 1.0.0\nlicence: CECILL-2.1\n\
         summary: \"<cassé> & \\\"cité\\\"\"\ncategory: pedagogy\naudiences: [eleve]\nservce: {}\n",
    )
    .unwrap();
    dir
}

#[test]
fn junit_report_is_read_by_junitparser() {
    let dir = project_with_problems();
    let report = dir.path().join("oent-lint.xml");
    Test::at(dir.path())
        .args(["lint", "--format", "junit", "-o"])
        .arg(&report)
        .run()
        .status(1);
    let script = r#"
import sys
from junitparser import JUnitXml, Failure
xml = JUnitXml.fromfile(sys.argv[1])
cases = [c for suite in xml for c in suite]
failed = [c for c in cases if any(isinstance(r, Failure) for r in c.result)]
print(len(cases), len(failed), failed[0].name, failed[0].result[0].type)
"#;
    let output = Command::new(venv_tool("python"))
        .arg("-c")
        .arg(script)
        .arg(&report)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.trim(), "2 1 modules/openent/casse/module.yaml E015");
}

#[test]
fn codequality_report_has_gitlab_fields() {
    let dir = project_with_problems();
    let output = Test::at(dir.path())
        .args(["lint", "--format", "codequality"])
        .run()
        .status(1);
    let issues: Vec<Value> = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(issues.len(), 3, "{issues:#?}");
    let mut fingerprints = std::collections::HashSet::new();
    for issue in &issues {
        // The fields GitLab documents as required for Code Quality reports.
        assert!(issue["description"].as_str().is_some_and(|d| !d.is_empty()));
        assert!(
            issue["check_name"]
                .as_str()
                .is_some_and(|c| c.starts_with("oent/"))
        );
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&issue["severity"].as_str().unwrap())
        );
        assert_eq!(
            issue["location"]["path"],
            "modules/openent/casse/module.yaml"
        );
        assert!(issue["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
        assert!(fingerprints.insert(issue["fingerprint"].as_str().unwrap().to_owned()));
    }
    let lines: Vec<u64> = issues
        .iter()
        .map(|i| i["location"]["lines"]["begin"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [1, 6, 8]);
}

#[test]
fn json_report_is_stable() {
    let dir = project_with_problems();
    let output = Test::at(dir.path())
        .args(["lint", "--format", "json"])
        .run();
    let report = output.json();
    insta::assert_snapshot!(serde_json::to_string_pretty(&report).unwrap());
}

//! `oent licences` and the licence policy of `oent build`: incompatible
//! combinations fail with the reason and the chain of modules, allow and
//! deny lists, unknown licence ids, and the SBOMs validated against the
//! official SPDX 2.3 and CycloneDX 1.5 JSON Schemas (tests/fixtures/schemas).

mod support;

use std::path::Path;
use std::process::Command;

use support::registry::publish_tree;
use support::tools::run;
use support::{Test, venv_tool};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn module(name: &str, licence: &str, deps: &str) -> String {
    format!(
        "schema: oent/module/v1\nname: {name}\nversion: 1.0.0\nlicence: \"{licence}\"\nsummary: \"{name}\"\n\
         category: pedagogie\naudiences: [eleve]\nrepository: https://forge.example.org/{name}.git\n{deps}"
    )
}

/// A registry of three modules: `a` (GPL-2.0-only) requires `b` (Apache-2.0);
/// `c` is under SSPL-1.0.
fn project() -> Test {
    let test = Test::new()
        .write(
            "src/a/module.yaml",
            &module(
                "openent/a",
                "GPL-2.0-only",
                "requires: { openent/b: \"^1\" }\n",
            ),
        )
        .write("src/b/module.yaml", &module("openent/b", "Apache-2.0", ""))
        .write("src/c/module.yaml", &module("openent/c", "SSPL-1.0", ""))
        .write(
            "src/d/module.yaml",
            &module("openent/d", "MIT OR GPL-2.0-only", ""),
        );
    publish_tree(test, "openent", "openent", "src")
}

fn distribution(modules: &str, licence: &str) -> String {
    format!(
        "schema: oent/distribution/v1\nname: idf/test\nversion: 1.0.0\ncollectivite: {{ nom: Test, type: region }}\n\
         registries:\n  - {{ name: openent, path: ../openent }}\nmodules:\n{modules}\
         settings: {{ domaine: ent.example.fr }}\ntarget: compose\n{licence}etablissements:\n  - {{ uai: \"0750655E\", nom: A, type: lycee, commune: Paris, departement: \"75\", secteur: public }}\n"
    )
}

#[test]
fn an_incompatible_combination_fails_the_build_with_reason_and_chain() {
    let out = project()
        .write("dist/distribution.yaml", &distribution("  openent/a: \"^1\"\n", ""))
        .args(["build", "dist", "-o", "out"])
        .run()
        .status(1)
        .stderr_contains("error[E038/licence-conflict]: dist/distribution.yaml: openent/a 1.0.0 (`GPL-2.0-only`) requires openent/b 1.0.0 (`Apache-2.0`), and they cannot be combined: the FSF holds Apache-2.0's patent termination")
        .stderr_contains("pulled in by idf/test → openent/a 1.0.0 → openent/b 1.0.0")
        .stderr_contains("nothing was written");
    assert!(!out.path().join("out").exists());
}

#[test]
fn a_refused_licence_names_its_reason_and_an_allow_list_accepts_it() {
    let out = project()
        .write("dist/distribution.yaml", &distribution("  openent/c: \"^1\"\n", ""))
        .args(["build", "dist", "-o", "out"])
        .run()
        .status(1)
        .stderr_contains("error[E037/licence-denied]: dist/distribution.yaml: openent/c 1.0.0 is under `SSPL-1.0`, which the cecill-2.1 policy refuses: `SSPL-1.0`: not a free software licence")
        .stderr_contains("pulled in by idf/test → openent/c 1.0.0");
    out.then()
        .write(
            "dist/distribution.yaml",
            &distribution(
                "  openent/c: \"^1\"\n",
                "licence: { policy: cecill-2.1, allow: [SSPL-1.0] }\n",
            ),
        )
        .args(["build", "dist", "-o", "out"])
        .run()
        .status(0);
}

#[test]
fn a_deny_list_refuses_what_the_table_allows_and_or_is_a_choice() {
    // `MIT OR GPL-2.0-only`: denying MIT leaves GPL-2.0-only, still allowed.
    project()
        .write(
            "dist/distribution.yaml",
            &distribution("  openent/d: \"^1\"\n", "licence: { deny: [MIT] }\n"),
        )
        .args(["licences", "dist"])
        .run()
        .status(0)
        .stdout_contains("| openent/d | 1.0.0 | `MIT OR GPL-2.0-only` | allowed |")
        .then()
        .write(
            "dist/distribution.yaml",
            &distribution("  openent/b: \"^1\"\n", "licence: { deny: [Apache-2.0] }\n"),
        )
        .args(["licences", "dist"])
        .run()
        .status(1)
        .stdout_contains("**refused**: Apache-2.0: `licence.deny` lists it (")
        .stderr_contains("error[E037/licence-denied]: dist/distribution.yaml: openent/b 1.0.0 is under `Apache-2.0`");
}

#[test]
fn an_unknown_licence_id_in_the_policy_is_a_lint_error() {
    Test::new()
        .write(
            "dist/distribution.yaml",
            &distribution(
                "  openent/b: \"^1\"\n",
                "licence: { allow: [GPL-3, Beerwar] }\n",
            ),
        )
        .args(["lint", "dist"])
        .run()
        .status(1)
        .stdout_contains("E014")
        .stdout_contains("`GPL-3` is not a known SPDX licence")
        .stdout_contains("`Beerwar` is not a known SPDX licence");
}

/// The example copied with the registry it points at.
fn example(name: &str) -> Test {
    let test = Test::new();
    support::copy_dir(
        &repo().join("examples").join(name),
        &test.path().join("examples").join(name),
    );
    support::copy_dir(&repo().join("registry"), &test.path().join("registry"));
    test
}

fn validate(schema: &str, file: &Path) {
    let schema = repo().join("tests/fixtures/schemas").join(schema);
    run(Command::new(venv_tool("check-jsonschema"))
        .arg("--base-uri")
        .arg(format!("file://{}", schema.display()))
        .arg("--schemafile")
        .arg(&schema)
        .arg(file));
}

#[test]
fn sboms_validate_against_the_official_schemas_and_are_byte_stable() {
    let mut test = example("essonne-colleges");
    for (format, schema) in [
        ("spdx", "spdx-2.3.schema.json"),
        ("cyclonedx", "bom-1.5.schema.json"),
    ] {
        let out = test
            .args([
                "licences",
                "examples/essonne-colleges",
                "--offline",
                "--locked",
                "--format",
                format,
                "-o",
                "first.json",
            ])
            .run()
            .status(0);
        validate(schema, &out.path().join("first.json"));
        let out = out
            .then()
            .args([
                "licences",
                "examples/essonne-colleges",
                "--offline",
                "--locked",
                "--format",
                format,
            ])
            .run()
            .status(0);
        assert_eq!(
            out.stdout,
            out.read("first.json"),
            "{format} is byte-stable"
        );
        let json = out.json();
        if format == "spdx" {
            assert_eq!(json["spdxVersion"], "SPDX-2.3");
            let package = json["packages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == "openent/messagerie")
                .expect("messagerie is in the SBOM");
            assert_eq!(
                package["licenseDeclared"],
                "MIT AND LGPL-2.1-only AND (IPL-1.0 OR EPL-2.0)"
            );
            assert_eq!(package["checksums"][0]["algorithm"], "SHA256");
        } else {
            assert_eq!(json["specVersion"], "1.5");
            assert!(
                json["serialNumber"]
                    .as_str()
                    .unwrap()
                    .starts_with("urn:uuid:")
            );
        }
        test = out.then();
    }
}

#[test]
fn the_markdown_report_lists_every_module() {
    example("ile-de-france")
        .args([
            "licences",
            "examples/ile-de-france",
            "--offline",
            "--locked",
        ])
        .run()
        .status(0)
        .stdout_contains("# Licences — idf/lilie 2026.1.0")
        .stdout_contains("| openent/annuaire | 2.4.0 | `OLDAP-2.8` | allowed |");
}

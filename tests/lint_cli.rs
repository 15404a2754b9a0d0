//! `oent lint` and `oent new` as a user sees them: exact human output for
//! representative problems, exit statuses, `--deny warnings`, `-o FILE`, and
//! the scaffolds linting clean. Each test runs in its own temporary
//! directory ([`support::Test`]).

mod support;

use support::Test;

/// A valid module, to which tests add or remove lines.
const MODULE: &str = "
    schema: oent/module/v1
    name: openent/demo
    version: 1.0.0
    licence: CECILL-2.1
    summary: Module de démonstration
    category: pedagogie
    audiences: [eleve, enseignant]
    repository: https://forge.example.org/openent/demo.git
";

fn module_with(extra: &str) -> String {
    support::unindent(MODULE) + &support::unindent(extra)
}

#[test]
fn a_misspelt_key_is_shown_with_its_line_and_the_key_it_resembles() {
    Test::new()
        .write(
            "modules/openent/demo/module.yaml",
            &module_with(
                "
                config:
                  retention_days: { type: integer, defualt: 365 }
                ",
            ),
        )
        .arg("lint")
        .run()
        .status(1)
        .stdout_is(
            "
            error[E008/unknown-key]: unknown key `defualt`
               ┌─ modules/openent/demo/module.yaml:10:36
               │
            10 │   retention_days: { type: integer, defualt: 365 }
               │                                    ^^^^^^^ in `config.retention_days.defualt`
               │
               = help: did you mean `default`?

            oent lint: 1 error, 0 warnings in 1 file checked
            ",
        );
}

#[test]
fn a_wrong_uai_check_letter_in_the_csv_gives_the_expected_letter() {
    Test::new()
        .write(
            "examples/idf/distribution.yaml",
            "
            schema: oent/distribution/v1
            name: idf/lilie
            version: 2026.1.0
            collectivite: { nom: Région Île-de-France, type: region }
            settings:
              domaine: monlycee.net
            etablissements:
              file: etablissements.csv
            ",
        )
        .write(
            "examples/idf/etablissements.csv",
            r#"
            uai,nom,type,commune,departement,secteur
            0750655E,Lycée Charlemagne,lycee,Paris,75,public
            0440001N,"Collège exemple, site annexe",college,Nantes,44,public
            "#,
        )
        .arg("lint")
        .run()
        .status(1)
        .stdout_is(
            r#"
            error[E022/invalid-uai]: UAI `0440001N` has check letter `N`, but 0440001 mod 23 = 11 gives `M`
              ┌─ examples/idf/etablissements.csv:3:1
              │
            3 │ 0440001N,"Collège exemple, site annexe",college,Nantes,44,public
              │ ^^^^^^^^ in `uai`
              │
              = help: copy the UAI from the académie's directory (ramsese); the letter is a checksum

            oent lint: 1 error, 0 warnings in 1 file checked
            "#,
        );
}

#[test]
fn an_undeclared_template_variable_points_into_the_template() {
    Test::new()
        .write(
            "modules/openent/demo/module.yaml",
            &module_with(
                r#"
                config:
                  retention_days: { type: integer, default: 365, min: 30 }
                templates:
                  - { source: templates/app.properties.tera, target: "conf/{{ module.slug }}/app.properties" }
                "#,
            ),
        )
        .write(
            "modules/openent/demo/templates/app.properties.tera",
            "
            # {{ module.name }} {{ module.version }}
            url = https://{{ settings.domaine }}/demo
            retention.days = {{ config.retention_dayz }}
            ",
        )
        .arg("lint")
        .run()
        .status(1)
        .stdout_is(
            "
            error[E021/template-undeclared-variable]: `config.retention_dayz`: `retention_dayz` is not a config option of `openent/demo`
              ┌─ modules/openent/demo/templates/app.properties.tera:3:21
              │
            3 │ retention.days = {{ config.retention_dayz }}
              │                     ^^^^^^^^^^^^^^^^^^^^^
              │
              = help: did you mean `config.retention_days`?

            oent lint: 1 error, 0 warnings in 1 file checked
            ",
        );
}

#[test]
fn line_numbers_are_right_in_a_crlf_file() {
    let text = support::unindent(
        "
        schema: oent/module/v1
        name: openent/demo
        licence: CECILL-2.1
        summary: Module de démonstration
        version: v2.3.1
        category: pedagogie
        audiences: [eleve, enseignant]
        repository: https://forge.example.org/openent/demo.git
        ",
    )
    .replace('\n', "\r\n");
    let report = Test::new()
        .write_bytes("modules/openent/demo/module.yaml", text.as_bytes())
        .args(["lint", "--format", "json"])
        .run()
        .status(1)
        .json();
    let found: Vec<String> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {}:{}",
                d["code"].as_str().unwrap(),
                d["line"],
                d["column"]
            )
        })
        .collect();
    // W003 at the first line break, E012 on the value of line 5.
    assert_eq!(found, ["W003 1:23", "E012 5:10"]);
}

#[test]
fn a_path_that_does_not_exist_cannot_be_linted() {
    Test::new()
        .args(["lint", "nope"])
        .run()
        .status(2)
        .stdout_is("")
        .stderr_is("error: `nope` does not exist\n");
}

#[test]
fn lint_without_paths_needs_a_distribution_modules_or_examples() {
    Test::new()
        .arg("lint")
        .run()
        .status(2)
        .stdout_is("")
        .stderr_is(
            "error: nothing to lint: neither `distribution.yaml`, `modules/` nor `examples/` exists in `.`\n",
        );
}

/// In a distribution's own folder, `oent lint` lints that distribution, and
/// its `modules/` (forks) when there are some.
#[test]
fn lint_in_a_distribution_folder_lints_the_distribution_and_its_modules() {
    let distribution = "
        schema: oent/distribution/v1
        name: idf/lilie
        version: 2026.1.0
        collectivite: { nom: Région Île-de-France, type: region }
        settings: { domaine: monlycee.net }
        etablissements:
          - { uai: 0750655F, nom: Lycée Charlemagne, type: lycee, commune: Paris, departement: \"75\", secteur: public }
        ";
    let output = Test::new()
        .write("distribution.yaml", distribution)
        .args(["lint", "--format", "json"])
        .run()
        .status(1);
    let report = output.json();
    assert_eq!(report["files"], serde_json::json!(["distribution.yaml"]));
    assert_eq!(report["diagnostics"][0]["code"], "E022", "{report}");
    let output = output
        .then()
        .write(
            "modules/openent/demo/module.yaml",
            &module_with("servce: {}\n"),
        )
        .args(["lint", "--format", "json"])
        .run()
        .status(1);
    let report = output.json();
    assert_eq!(
        report["files"],
        serde_json::json!(["distribution.yaml", "modules/openent/demo/module.yaml"])
    );
    let codes: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["E022", "E008"], "{report}");
}

#[test]
fn an_unknown_format_is_a_usage_error() {
    Test::new()
        .args(["lint", "--format", "xml"])
        .run()
        .status(2)
        .stdout_is("")
        .stderr_contains("invalid value 'xml' for '--format <FORMAT>'");
}

#[test]
fn warnings_pass_unless_denied() {
    let module = support::unindent(MODULE).replace(
        "repository: https://forge.example.org/openent/demo.git\n",
        "",
    );
    let expected = "
        warning[W001/missing-repository]: module `openent/demo` has no `repository`
          ┌─ modules/openent/demo/module.yaml:1:1
          │
        1 │ schema: oent/module/v1
          │ ^ in `repository`
          │
          = help: add `repository: https://…/…git` so that modifications can be reversed upstream

        oent lint: 0 errors, 1 warning in 1 file checked
        ";
    Test::new()
        .write("modules/openent/demo/module.yaml", &module)
        .arg("lint")
        .run()
        .status(0)
        .stdout_is(expected)
        .then()
        .args(["lint", "--deny", "warnings"])
        .run()
        .status(1)
        .stdout_is(expected);
}

#[test]
fn the_report_file_is_replaced_whole_and_the_summary_goes_to_stderr() {
    let output = Test::new()
        .write("modules/openent/demo/module.yaml", MODULE)
        // A longer previous report: nothing of it may remain.
        .write("out/report.json", &"x".repeat(10_000))
        .args(["lint", "--format", "json", "-o", "out/report.json"])
        .run()
        .status(0)
        .stdout_is("")
        .stderr_is("oent lint: 1 file checked, no problems\n");
    let report: serde_json::Value = serde_json::from_str(&output.read("out/report.json")).unwrap();
    assert_eq!(report["summary"]["errors"], 0);
    assert_eq!(
        report["files"],
        serde_json::json!(["modules/openent/demo/module.yaml"])
    );
    // No temporary file left beside the report.
    let names: Vec<String> = std::fs::read_dir(output.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["report.json"]);
}

#[test]
fn a_report_file_with_errors_still_fails_the_run() {
    Test::new()
        .write(
            "modules/openent/demo/module.yaml",
            &module_with("servce: {}\n"),
        )
        .args(["lint", "--format", "junit", "-o", "lint.xml"])
        .run()
        .status(1)
        .stdout_is("")
        .stderr_is("oent lint: 1 error, 0 warnings in 1 file checked\n");
}

#[test]
fn a_new_module_lints_clean() {
    Test::new()
        .args(["new", "module", "openent/demo"])
        .run()
        .status(0)
        .stdout_is(
            "
            created modules/openent/demo/module.yaml
            created modules/openent/demo/templates/app.conf.tera
            next: edit modules/openent/demo/module.yaml then run `oent lint modules/openent/demo`
            ",
        )
        .then()
        .arg("lint")
        .run()
        .status(0)
        .stdout_is("oent lint: 1 file checked, no problems\n")
        .then()
        .args(["lint", "--deny", "warnings", "modules/openent/demo"])
        .run()
        .status(0);
}

#[test]
fn a_new_distribution_lints_clean() {
    Test::new()
        .args(["new", "distribution", "idf/lilie", "--type", "region"])
        .run()
        .status(0)
        .stdout_is(
            "
            created lilie/distribution.yaml
            created lilie/etablissements.csv
            created lilie/.gitignore
            created lilie/.gitlab-ci.yml
            created lilie/distribution.schema.json
            next: edit lilie/distribution.yaml then run `oent lint lilie`
            ",
        )
        .then()
        .args(["lint", "--deny", "warnings", "lilie"])
        .run()
        .status(0)
        .stdout_is("oent lint: 1 file checked, no problems\n");
}

#[test]
fn a_new_module_never_overwrites() {
    let output = Test::new()
        .write("modules/openent/demo/notes.txt", "à garder\n")
        .args(["new", "module", "openent/demo"])
        .run()
        .status(2)
        .stdout_is("")
        .stderr_is(
            "error: `modules/openent/demo` already exists and is not empty; \
             choose another directory with --dir, or remove it\n",
        );
    assert_eq!(output.read("modules/openent/demo/notes.txt"), "à garder\n");
    assert!(
        !output
            .path()
            .join("modules/openent/demo/module.yaml")
            .exists()
    );
}

#[test]
fn a_new_module_needs_a_valid_name() {
    Test::new()
        .args(["new", "module", "OpenENT/Demo"])
        .run()
        .status(2)
        .stdout_is("")
        .stderr_contains("error: `OpenENT/Demo` is not a valid name");
}

// Bugs found while writing the corpus: these tests state the behaviour the
// documentation promises.

/// A file that is a list, or only comments, must say that the file should be
/// a mapping; the message of a top-level problem has no key to name.
#[test]
fn a_top_level_type_error_names_no_empty_key() {
    let mut wrong = Vec::new();
    for text in ["- a\n- b\n", "# rien que des commentaires\n"] {
        let output = Test::new()
            .write("modules/openent/demo/module.yaml", text)
            .args(["lint", "--format", "json"])
            .run()
            .status(1);
        let report = output.json();
        let diagnostic = &report["diagnostics"][0];
        let message = diagnostic["message"].as_str().unwrap();
        let help = diagnostic["help"].as_str().unwrap_or("");
        if message.contains("``") || help.contains("``") {
            wrong.push(format!("{text:?}: {message:?} (help: {help:?})"));
        }
    }
    assert!(
        wrong.is_empty(),
        "messages naming an empty key:\n{}",
        wrong.join("\n")
    );
}

/// One document per file (E001): the message is for a user, not a Rust programmer.
#[test]
fn two_documents_are_explained_without_library_function_names() {
    let output = Test::new()
        .write(
            "modules/openent/demo/module.yaml",
            &(support::unindent(MODULE) + "---\nschema: oent/module/v1\n"),
        )
        .args(["lint", "--format", "json"])
        .run()
        .status(1);
    let report = output.json();
    let diagnostic = &report["diagnostics"][0];
    assert_eq!(diagnostic["code"], "E001");
    let message = diagnostic["message"].as_str().unwrap();
    assert!(
        !message.contains("from_str_multiple"),
        "the message tells the user to call a Rust function: {message:?}"
    );
}

/// "did you mean" for a licence must not suggest another licence (GPL-2.0 for
/// GPL-3), nor the deprecated identifier that was just refused (AGPL-3.0).
#[test]
fn licence_suggestions_keep_the_licence_written() {
    let mut misleading = Vec::new();
    for (written, wrong) in [
        ("GPL-3", "did you mean `GPL-2.0"),
        ("AGPL-3.0", "did you mean `AGPL-3.0`?"),
    ] {
        let output = Test::new()
            .write(
                "modules/openent/demo/module.yaml",
                &support::unindent(MODULE)
                    .replace("licence: CECILL-2.1", &format!("licence: {written}")),
            )
            .args(["lint", "--format", "json"])
            .run()
            .status(1);
        let report = output.json();
        let diagnostic = &report["diagnostics"][0];
        assert_eq!(diagnostic["code"], "E014");
        let help = diagnostic["help"].as_str().unwrap_or("");
        if help.contains(wrong) {
            misleading.push(format!("licence `{written}`: help {help:?}"));
        }
    }
    assert!(misleading.is_empty(), "{}", misleading.join("\n"));
}

/// Files written by `oent new` (and `-o`) are ordinary files: their mode
/// follows the umask, like any file the user creates (0644 under umask 022),
/// not the 0600 of a private temporary file.
#[cfg(unix)]
#[test]
fn written_files_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let out = Test::new()
        .under(&["sh", "-c", "umask 022 && exec \"$0\" \"$@\""])
        .args(["new", "module", "openent/demo"])
        .run()
        .status(0);
    let root = out.path();
    for file in [
        "modules/openent/demo/module.yaml",
        "modules/openent/demo/templates/app.conf.tera",
    ] {
        let mode = std::fs::metadata(root.join(file))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(format!("{mode:o}"), "644", "mode of {file}");
    }
}

/// An établissements CSV over its size cap: the help must not tell the user
/// to move the établissements to a CSV file, which is what they did.
#[test]
fn an_oversized_csv_is_not_told_to_move_to_a_csv_file() {
    let test = Test::new()
        .write(
            "examples/idf/distribution.yaml",
            "
            schema: oent/distribution/v1
            name: idf/lilie
            version: 2026.1.0
            collectivite: { nom: Région Île-de-France, type: region }
            settings:
              domaine: monlycee.net
            etablissements:
              file: etablissements.csv
            ",
        )
        .write(
            "examples/idf/etablissements.csv",
            "uai,nom,type,commune,departement,secteur\n",
        );
    // 17 MiB, over the 16 MiB cap; sparse where the file system allows it.
    std::fs::OpenOptions::new()
        .write(true)
        .open(test.path().join("examples/idf/etablissements.csv"))
        .unwrap()
        .set_len(17 * 1024 * 1024)
        .unwrap();
    let output = test.args(["lint", "--format", "json"]).run().status(1);
    let report = output.json();
    let diagnostic = &report["diagnostics"][0];
    assert_eq!(diagnostic["file"], "examples/idf/etablissements.csv");
    let help = diagnostic["help"].as_str().unwrap_or("");
    assert!(
        !help.contains("to a CSV file"),
        "misleading help for a CSV file: {help:?}"
    );
}

/// A distribution repository holds no `modules/`: lint reads the modules
/// its `oent.lock` pins from its registries, offline, and checks the
/// values against them instead of reporting them unchecked (W004).
#[test]
fn a_distribution_repository_is_checked_against_the_modules_its_lock_pins() {
    let test = support::registry::publish(
        Test::new(),
        "openent",
        "openent",
        &[(
            "openent/cahier-de-textes",
            "2.3.1",
            "config:\n  retention_days: { type: integer, default: 365, min: 30 }\n",
        )],
    );
    let distribution = |retention: &str| {
        format!(
            "schema: oent/distribution/v1\nname: idf/lilie\nversion: 2026.1.0\n\
             collectivite: {{ nom: Région Île-de-France, type: region }}\n\
             registries:\n  - {{ name: openent, path: ../openent }}\n\
             modules:\n  openent/cahier-de-textes: {{ version: \"^2\", config: {{ retention_days: {retention} }} }}\n"
        )
    };
    // Resolved once, with a valid value, as the repository would commit it.
    let test = test
        .write("dist/distribution.yaml", &distribution("400"))
        .args(["resolve", "dist"])
        .run()
        .status(0)
        .then();
    // A value under the option's minimum is now an error, not a warning.
    let out = test
        .write("dist/distribution.yaml", &distribution("7"))
        .args(["lint", "dist", "--format", "json"])
        .run()
        .status(1);
    let report = out.json();
    let codes = each(&report, "code");
    assert!(!codes.contains(&"W004"), "{report}");
    assert!(
        !codes.is_empty(),
        "the value 7 under `min: 30` was not reported: {report}"
    );
    let text = report.to_string();
    assert!(text.contains("retention_days"), "{report}");
}

/// A registry where `openent/portail` requires `openent/sso`, whose admin
/// password is required, and `openent/messagerie` provides `messagerie`.
fn socle_registry() -> Test {
    support::registry::publish(
        Test::new(),
        "openent",
        "openent",
        &[
            (
                "openent/sso",
                "3.1.0",
                "config:\n  admin_password: { type: secret, required: true }\n",
            ),
            (
                "openent/portail",
                "1.4.0",
                "requires: { openent/sso: \"^3\" }\nconfig:\n  titre: { type: string, default: ENT }\n",
            ),
            (
                "openent/messagerie",
                "2.3.0",
                "provides: [messagerie]\nconfig:\n  quota_mo: { type: integer, required: true, min: 100 }\n",
            ),
            (
                "openent/cahier-de-textes",
                "2.3.1",
                "config:\n  retention_days: { type: integer, default: 365, min: 30 }\n",
            ),
        ],
    )
}

/// A distribution over [`socle_registry`]; `modules` and `more` are YAML lines.
fn socle_distribution(modules: &str, more: &str) -> String {
    format!(
        "schema: oent/distribution/v1\nname: idf/lilie\nversion: 2026.1.0\n\
         collectivite: {{ nom: Région Île-de-France, type: region }}\n\
         registries:\n  - {{ name: openent, path: ../openent }}\n\
         modules:\n{}settings: {{ domaine: monlycee.net }}\n{}",
        support::unindent(modules)
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>(),
        support::unindent(more)
    )
}

/// One string field of each diagnostic of a JSON report.
fn each<'r>(report: &'r serde_json::Value, field: &str) -> Vec<&'r str> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d[field].as_str().unwrap())
        .collect()
}

/// `CODE line` of each diagnostic of a JSON report.
fn codes_and_lines(report: &serde_json::Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{} {}", d["code"].as_str().unwrap(), d["line"]))
        .collect()
}

/// Build refuses a module reached through a dependency or a capability when
/// a required value is missing: lint says so too, from the registries,
/// offline, without a lock.
#[test]
fn modules_reached_through_a_dependency_or_a_capability_are_checked() {
    let out = socle_registry()
        .write(
            "dist/distribution.yaml",
            &socle_distribution("openent/portail: \"^1\"\nmessagerie: \"*\"\n", ""),
        )
        .args(["lint", "dist", "--format", "json"])
        .run()
        .status(1);
    let report = out.json();
    assert_eq!(
        each(&report, "message"),
        [
            "openent/messagerie.quota_mo is required and has no value",
            "openent/sso.admin_password is required and has no value",
        ],
        "{report}"
    );
    assert!(
        !out.path().join("dist/oent.lock").exists(),
        "lint writes no lock"
    );
}

/// One bad UAI and one unknown key do not stop lint from checking values:
/// every problem comes in one run, the same list in every format.
#[test]
fn a_bad_uai_and_an_unknown_key_do_not_hide_the_values_problems() {
    let distribution = socle_distribution(
        "
        openent/portail: { version: \"^1\", config: { titre: 3, couleur: bleu } }
        openent/sso: { version: \"^3\", config: { admin_password: { env: SSO_PASSWORD } } }
        openent/cahier-de-textes: { version: \"^2\", config: { retention_days: 7 } }
        ",
        "
        servce: {}
        etablissements:
          - { uai: 0750655F, nom: Lycée Charlemagne, type: lycee, commune: Paris, departement: \"75\", secteur: public }
        ",
    );
    let test = socle_registry().write("dist/distribution.yaml", &distribution);
    let out = test
        .args(["lint", "dist", "--format", "json"])
        .run()
        .status(1);
    let report = out.json();
    assert_eq!(
        codes_and_lines(&report),
        ["E028 8", "E027 8", "E028 10", "E008 12", "E022 14"],
        "{report}"
    );
    // The same five problems in the other reports, and no W004 anywhere.
    let out = out
        .then()
        .args(["lint", "dist", "--format", "junit"])
        .run()
        .status(1);
    for code in ["E028", "E027", "E008", "E022"] {
        assert!(out.stdout.contains(&format!("[{code}]")), "{}", out.stdout);
    }
    assert!(!out.stdout.contains("W004"), "{}", out.stdout);
    let out = out
        .then()
        .args(["lint", "dist", "--format", "codequality"])
        .run()
        .status(1);
    let issues: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let names: Vec<&str> = issues
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["check_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "oent/value-type",
            "oent/undeclared-value",
            "oent/value-type",
            "oent/unknown-key",
            "oent/invalid-uai"
        ]
    );
}

/// A misspelt module or capability is an error with the name meant, and
/// the rest of the distribution is still resolved and checked.
#[test]
fn a_misspelt_module_or_capability_is_an_error_with_the_name_meant() {
    let out = socle_registry()
        .write(
            "dist/distribution.yaml",
            &socle_distribution(
                "openent/portail: \"^1\"\nopenent/cahier-de-texte: \"^2\"\nmessageri: \"*\"\n",
                "",
            ),
        )
        .args(["lint", "dist"])
        .run()
        .status(1);
    assert!(
        out.stdout.contains(
            "
error[E041/unknown-module]: module `openent/cahier-de-texte` is published by no registry of the distribution
  ┌─ dist/distribution.yaml:9:3
  │
9 │   openent/cahier-de-texte: \"^2\"
  │   ^^^^^^^^^^^^^^^^^^^^^^^ in `modules.openent/cahier-de-texte`
  │
  = help: did you mean `openent/cahier-de-textes`?
"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "error[E041/unknown-module]: no module of the distribution's registries provides capability `messageri`"
        ) && out.stdout.contains("= help: did you mean `messagerie`?"),
        "{}",
        out.stdout
    );
    // openent/portail was resolved all the same: its dependency is checked.
    assert!(
        out.stdout
            .contains("openent/sso.admin_password is required and has no value"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("W004"), "{}", out.stdout);
    assert!(
        out.stdout
            .ends_with("oent lint: 3 errors, 0 warnings in 1 file checked\n"),
        "{}",
        out.stdout
    );
}

/// A fork whose licence changed: build refuses it (E039), and lint says so
/// first, through the same check.
#[test]
fn a_fork_whose_licence_changed_is_reported_by_lint() {
    let fork = support::registry::module("idf/x", "1.0.1", "fork-of: openent/x@1.0.0\n")
        .replace("licence: CECILL-2.1", "licence: MIT");
    let test = support::registry::publish(
        Test::new(),
        "openent",
        "openent",
        &[("openent/x", "1.0.0", "")],
    )
    .write("dist/modules/idf/x/module.yaml", &fork)
    .args([
        "registry",
        "init",
        "dist/registry",
        "--name",
        "forks",
        "--namespace",
        "idf",
    ])
    .run()
    .status(0)
    .then()
    .args(["registry", "build", "dist/modules", "--to", "dist/registry"])
    .run()
    .status(0)
    .then()
    .write(
        "dist/distribution.yaml",
        "
        schema: oent/distribution/v1
        name: idf/lilie
        version: 2026.1.0
        collectivite: { nom: Région Île-de-France, type: region }
        registries:
          - { name: openent, path: ../openent }
          - { name: forks, path: registry }
        modules:
          idf/x: \"^1\"
        settings: { domaine: monlycee.net }
        ",
    );
    let message = "idf/x is a fork of openent/x@1.0.0 under `CECILL-2.1`, but declares `MIT`: a fork keeps its base's licence";
    let out = test
        .args(["lint", "dist", "--format", "json"])
        .run()
        .status(1);
    let report = out.json();
    assert!(each(&report, "message").contains(&message), "{report}");
    assert!(each(&report, "code").contains(&"E039"), "{report}");
    out.then()
        .args(["build", "dist", "-o", "out"])
        .run()
        .status(1)
        .stderr_contains(message);
}

/// A distribution that lists no registries reads the catalogue built into
/// oent: a name it does not hold is an error that names the module meant.
#[test]
fn a_module_not_found_names_the_catalogue_module_meant() {
    let out = Test::new()
        .write(
            "modules/openent/cahier-de-textes/module.yaml",
            &support::registry::module("openent/cahier-de-textes", "2.3.1", ""),
        )
        .write(
            "examples/idf/distribution.yaml",
            "
            schema: oent/distribution/v1
            name: idf/lilie
            version: 2026.1.0
            collectivite: { nom: Région Île-de-France, type: region }
            modules:
              openent/cahier-de-texte: \"^2\"
            settings: { domaine: monlycee.net }
            ",
        )
        .args(["lint", "--format", "json"])
        .run()
        .status(1);
    let report = out.json();
    assert_eq!(each(&report, "code"), ["E041"], "{report}");
    assert_eq!(
        each(&report, "help"),
        ["did you mean `openent/cahier-de-textes`?"],
        "{report}"
    );
}

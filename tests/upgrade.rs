//! Upgrades you can read: `oent update --dry-run` and `oent build --diff`
//! show the modules that would move, the option defaults that move with
//! them (and whether the distribution sets the option), and the bundle's
//! files that would change, and write nothing: the lock and the bundle keep
//! their bytes.

mod support;

use support::registry::{module, publish_tree};
use support::{Test, tree};

/// `openent/agenda` at `version`: `jours` and `titre` with these defaults,
/// one file per établissement reading both.
fn agenda(test: Test, version: &str, jours: u32, titre: &str) -> Test {
    let dir = format!("src-{version}/agenda");
    let manifest = module(
        "openent/agenda",
        version,
        &format!(
            "config:\n  jours: {{ type: integer, default: {jours} }}\n  titre: {{ type: string, default: \"{titre}\" }}\n\
             templates:\n  - {{ source: templates/t.tera, target: \"conf/{{{{ module.slug }}}}/{{{{ etab.uai }}}}\", each: etablissement }}\n"
        ),
    );
    let test = test.write(&format!("{dir}/module.yaml"), &manifest).write(
        &format!("{dir}/templates/t.tera"),
        "jours = {{ config.jours }}\ntitre = {{ config.titre }}\n",
    );
    publish_tree(test, "openent", "openent", &format!("src-{version}"))
}

/// A distribution on agenda 1.0.0 (it sets `titre`), built: oent.lock and
/// bundle/ written. Then agenda 1.1.0 is published, with new defaults for
/// both options.
fn built_then_upgraded() -> support::Output {
    let test = agenda(Test::new(), "1.0.0", 5, "Agenda");
    let built = test
        .write(
            "dist/distribution.yaml",
            "schema: oent/distribution/v1\nname: idf/test\nversion: 1.0.0\ncollectivite: { nom: Test, type: region }\n\
             registries:\n  - { name: openent, path: ../openent }\n\
             modules:\n  openent/agenda: { version: \"^1\", config: { titre: \"Cahier\" } }\n\
             settings: { domaine: ent.example.fr }\ntarget: compose\netablissements:\n\
             \x20 - { uai: \"0750655E\", nom: A, type: lycee, commune: Paris, departement: \"75\", secteur: public }\n",
        )
        .args(["build", "dist"])
        .run()
        .status(0);
    agenda(built.then(), "1.1.0", 7, "Agenda 2")
        .args(["--version"])
        .run()
        .status(0)
}

#[test]
fn update_dry_run_shows_modules_defaults_and_files_and_writes_nothing() {
    let out = built_then_upgraded();
    let before = tree(&out.path().join("dist"));
    let out = out
        .then()
        .args(["update", "--dry-run", "--dist", "dist"])
        .run()
        .status(0)
        .stderr_contains("nothing was written");
    let (head, files) = out.stdout.split_once("files:\n").expect("a files section");
    assert_eq!(
        head,
        "modules:\n  openent/agenda 1.0.0 → 1.1.0\n\
         defaults:\n  openent/agenda.jours: 5 → 7\n  \
         openent/agenda.titre: \"Agenda\" → \"Agenda 2\"  (set by the distribution: its value stays)\n"
    );
    assert_eq!(
        changed(files),
        [
            "~ LICENCES.md",
            "~ conf/openent-agenda/0750655E",
            "~ oent.lock"
        ]
    );
    assert!(
        files.contains("-jours = 5\n+jours = 7\n titre = Cahier\n"),
        "{files}"
    );
    // …the lock and the bundle keep their bytes (and no file was added).
    assert_eq!(tree(&out.path().join("dist")), before);
}

/// The `+ path`, `- path`, `~ path` lines of a files section (its diffs,
/// whose lines start with a sign then the line's own text, left out).
fn changed(files: &str) -> Vec<&str> {
    files
        .lines()
        .filter(|l| {
            ["+ ", "- ", "~ "].iter().any(|p| l.starts_with(p))
                && !l[2..].starts_with(char::is_whitespace)
        })
        .collect()
}

#[test]
fn update_dry_run_as_json() {
    let out = built_then_upgraded()
        .then()
        .args(["update", "--dry-run", "--dist", "dist", "--format", "json"])
        .run()
        .status(0);
    let report = out.json();
    assert_eq!(report["version"], 1);
    assert_eq!(
        report["modules"],
        serde_json::json!([{"name": "openent/agenda", "old": "1.0.0", "new": "1.1.0"}])
    );
    assert_eq!(
        report["defaults"],
        serde_json::json!([
            {"module": "openent/agenda", "option": "jours", "old": 5, "new": 7, "set_by_distribution": false},
            {"module": "openent/agenda", "option": "titre", "old": "Agenda", "new": "Agenda 2", "set_by_distribution": true},
        ])
    );
    assert_eq!(
        report["files"],
        serde_json::json!([
            {"path": "LICENCES.md", "change": "modified"},
            {"path": "conf/openent-agenda/0750655E", "change": "modified"},
            {"path": "oent.lock", "change": "modified"},
        ])
    );
}

/// After `oent update`, the lock on disk has moved but the bundle has not:
/// `oent build --diff` compares with the lock the bundle was built from,
/// and leaves the bundle as it is.
#[test]
fn build_diff_compares_with_the_bundle_and_writes_nothing() {
    let out = built_then_upgraded()
        .then()
        .args(["update", "--dist", "dist"])
        .run()
        .status(0);
    // The lock is now the newest: nothing left to move, nothing rendered.
    let out = out
        .then()
        .args(["update", "--dry-run", "--dist", "dist"])
        .run()
        .status(0)
        .stdout_is("")
        .stderr_contains("0 module(s), 0 default(s), 0 file(s) would change");
    let before = tree(&out.path().join("dist"));
    let out = out
        .then()
        .args(["build", "dist", "--diff"])
        .run()
        .status(0)
        .stderr_contains("nothing was written");
    assert!(
        out.stdout
            .starts_with("modules:\n  openent/agenda 1.0.0 → 1.1.0\ndefaults:\n"),
        "{}",
        out.stdout
    );
    let (_, files) = out.stdout.split_once("files:\n").unwrap();
    assert_eq!(
        changed(files),
        [
            "~ LICENCES.md",
            "~ conf/openent-agenda/0750655E",
            "~ oent.lock"
        ]
    );
    assert_eq!(tree(&out.path().join("dist")), before);
    // Once built, there is nothing left to show.
    out.then()
        .args(["build", "dist"])
        .run()
        .status(0)
        .then()
        .args(["build", "dist", "--diff", "--format", "json"])
        .run()
        .status(0)
        .stdout_is(
            r#"
            {
              "defaults": [],
              "files": [],
              "lock": "dist/oent.lock",
              "modules": [],
              "version": 1
            }
            "#,
        );
}

#[test]
fn update_dry_run_without_a_lock_says_what_to_do() {
    let out = built_then_upgraded();
    std::fs::remove_file(out.path().join("dist/oent.lock")).unwrap();
    out.then()
        .args(["update", "--dry-run", "--dist", "dist"])
        .run()
        .status(2)
        .stderr_is(
            "
            error: `dist/oent.lock` does not exist: there is no locked version to compare with
            help: run `oent resolve` first (or `oent build`), then `oent update --dry-run`
            ",
        );
}

//! `oent resolve`, `update`, `tree`, `why` against registries built in the
//! test with `oent registry`, the way a collectivité and its forge use them.

mod support;

use std::path::Path;

use support::registry::publish;
use support::{Test, unindent};

fn distribution(modules: &str) -> String {
    format!(
        "schema: oent/distribution/v1\nname: idf/lilie\nversion: 2026.1.0\ncollectivite: {{ nom: Région Île-de-France, type: region }}\n\
         registries:\n  - {{ name: openent, path: ../openent }}\nmodules:\n{}",
        unindent(modules)
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    )
}

fn base() -> Test {
    publish(
        Test::new(),
        "openent",
        "openent",
        &[
            ("openent/annuaire", "2.0.0", ""),
            ("openent/annuaire", "2.3.0", ""),
            ("openent/annuaire", "3.0.0", ""),
            (
                "openent/portail",
                "1.4.0",
                "requires: { openent/annuaire: \"^2.1\" }\n",
            ),
            (
                "openent/notes-absences",
                "1.6.0",
                "optional: { openent/sms-parents: \"^1\" }\nfeatures: { sms: [openent/sms-parents] }\n",
            ),
            (
                "openent/sms-parents",
                "1.0.0",
                "requires: { openent/notes-absences: \"^1.5\" }\n",
            ),
        ],
    )
}

/// The base registry and a distribution asking for `modules`, resolved.
fn resolved(modules: &str) -> support::Output {
    base()
        .write("dist/distribution.yaml", &distribution(modules))
        .args(["resolve", "dist"])
        .run()
        .status(0)
}

fn lock(test: &support::Output) -> String {
    test.read("dist/oent.lock")
}

/// The harness gives every run a private cache: a test passes the same on
/// a fresh machine, without `HOME`, and never fills the developer's cache.
#[test]
fn resolving_needs_no_cache_of_the_developer() {
    let out = base()
        .write(
            "dist/distribution.yaml",
            &format!(
                "{}settings: {{ domaine: ent.example.fr }}\n",
                distribution("openent/portail: \"^1\"\n")
            ),
        )
        .env_remove("HOME")
        .env_remove("XDG_CACHE_HOME")
        .args(["resolve", "dist"])
        .run()
        .status(0)
        .then()
        .env_remove("HOME")
        .env_remove("XDG_CACHE_HOME")
        .args(["build", "dist", "--out", "bundle"])
        .run()
        .status(0);
    // The modules unpacked for the build went to the run's own cache.
    assert!(
        out.path()
            .join(support::PRIVATE_CACHE)
            .join("modules")
            .is_dir(),
        "{}",
        out.stderr
    );
}

#[test]
fn resolving_writes_a_sorted_lock_and_twice_gives_the_same_bytes() {
    let out = base()
        .write("dist/distribution.yaml", &distribution("openent/portail: \"^1\"\nopenent/notes-absences: { version: \"^1\", features: [sms] }\n"))
        .args(["resolve", "dist"])
        .run()
        .status(0)
        .stderr_contains("wrote dist/oent.lock (4 modules)");
    let first = lock(&out);
    insta::assert_snapshot!(
        first
            .lines()
            .filter(|l| !l.contains("sha256"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let mtime = std::fs::metadata(out.path().join("dist/oent.lock"))
        .unwrap()
        .modified()
        .unwrap();
    let out = out
        .then()
        .args(["resolve", "dist"])
        .run()
        .status(0)
        .stderr_contains("unchanged: dist/oent.lock");
    assert_eq!(lock(&out), first);
    assert_eq!(
        std::fs::metadata(out.path().join("dist/oent.lock"))
            .unwrap()
            .modified()
            .unwrap(),
        mtime,
        "an unchanged lock is not rewritten"
    );
}

#[test]
fn locked_fails_when_the_lock_would_change_and_leaves_it_alone() {
    let out = resolved("openent/portail: \"^1\"\n");
    let before = lock(&out);
    let out = out
        .then()
        .write(
            "dist/distribution.yaml",
            &distribution("openent/portail: \"^1\"\nopenent/notes-absences: \"^1\"\n"),
        )
        .args(["resolve", "dist", "--locked"])
        .run()
        .status(1)
        .stderr_contains("would change, but --locked forbids it")
        .stderr_contains("+ openent/notes-absences 1.6.0")
        .stderr_contains("help: run `oent resolve`");
    assert_eq!(lock(&out), before);
    out.then()
        .args(["resolve", "dist", "--locked"])
        .write(
            "dist/distribution.yaml",
            &distribution("openent/portail: \"^1\"\n"),
        )
        .run()
        .status(0);
}

#[test]
fn locked_versions_stay_until_updated() {
    let out = resolved("openent/portail: \"^1\"\n");
    assert!(lock(&out).contains("version: \"2.3.0\""));
    // A newer annuaire 2.x is published: resolving again keeps the locked one…
    let out = publish(
        out.then(),
        "openent",
        "openent",
        &[("openent/annuaire", "2.4.0", "")],
    )
    .args(["resolve", "dist"])
    .run()
    .status(0);
    assert!(lock(&out).contains("version: \"2.3.0\""));
    // …and `oent update NAME` moves only that module.
    let out = out
        .then()
        .args(["update", "openent/annuaire", "--dist", "dist"])
        .run()
        .status(0)
        .stderr_contains("~ openent/annuaire 2.3.0 -> 2.4.0");
    assert!(lock(&out).contains("version: \"2.4.0\""));
    out.then()
        .args(["update", "--dist", "dist"])
        .run()
        .status(0)
        .stderr_contains("everything is already at the newest allowed version");
}

#[test]
fn yanked_versions_are_not_picked_anew_but_stay_locked() {
    let out = publish(
        base(),
        "openent",
        "openent",
        &[("openent/annuaire", "2.2.0", "")],
    )
    .write(
        "dist/distribution.yaml",
        &distribution("openent/portail: \"^1\"\n"),
    )
    .args(["resolve", "dist"])
    .run()
    .status(0);
    // Yank annuaire 2.3.0 by flipping its index line, as `oent yank` will.
    let index = out.path().join("openent/index/openent/annuaire.jsonl");
    let text = std::fs::read_to_string(&index).unwrap();
    let yanked: String = text.lines().map(|l| if l.contains("\"2.3.0\"") { l.replace("\"yanked\":false", "\"yanked\":true") } else { l.to_owned() } + "\n").collect();
    std::fs::write(&index, yanked).unwrap();
    let out = out.then().args(["resolve", "dist"]).run().status(0);
    assert!(
        lock(&out).contains("version: \"2.3.0\""),
        "a locked yanked version stays"
    );
    let out = out
        .then()
        .args(["update", "--dist", "dist"])
        .run()
        .status(0)
        .stderr_contains("~ openent/annuaire 2.3.0 -> 2.2.0");
    assert!(!lock(&out).contains("version: \"2.3.0\""));
}

#[test]
fn a_registry_that_does_not_own_a_namespace_cannot_serve_it() {
    // `evil` owns `evil` but ships an index for openent/portail with a higher version.
    let out = publish(base(), "evil", "evil", &[("evil/tool", "1.0.0", "")]);
    let evil_index = out.path().join("evil/index/openent");
    std::fs::create_dir_all(&evil_index).unwrap();
    let genuine =
        std::fs::read_to_string(out.path().join("openent/index/openent/portail.jsonl")).unwrap();
    std::fs::write(
        evil_index.join("portail.jsonl"),
        genuine.replace("\"1.4.0\"", "\"9.9.9\""),
    )
    .unwrap();
    let dist = distribution("openent/portail: \"*\"\nevil/tool: \"^1\"\n").replace(
        "  - { name: openent, path: ../openent }\n",
        "  - { name: evil, path: ../evil }\n  - { name: openent, path: ../openent }\n",
    );
    let out = out
        .write("dist/distribution.yaml", &dist)
        .args(["resolve", "dist"])
        .run()
        .status(0);
    let lock = lock(&out);
    assert!(
        lock.contains("name: openent/portail\n    version: \"1.4.0\"\n    source: openent"),
        "{lock}"
    );
    assert!(!lock.contains("9.9.9"));
}

#[test]
fn a_namespace_no_registry_owns_is_an_error() {
    base()
        .write(
            "dist/distribution.yaml",
            &distribution("idf/agenda: \"^1\"\n"),
        )
        .args(["resolve", "dist"])
        .run()
        .status(2)
        .stderr_contains(
            "no registry of the distribution serves namespace `idf` (registries: openent)",
        );
}

#[test]
fn a_conflict_is_explained_with_the_lines_that_ask() {
    let out = base()
        .write(
            "dist/distribution.yaml",
            &distribution("openent/portail: \"^1\"\nopenent/annuaire: \"^3\"\n"),
        )
        .args(["resolve", "dist"])
        .run()
        .status(1);
    insta::assert_snapshot!(out.stderr);
    assert!(
        !Path::new(&out.path().join("dist/oent.lock")).exists(),
        "no lock is written for a failed resolution"
    );
}

#[test]
fn tree_and_why() {
    let out = base()
        .write("dist/distribution.yaml", &distribution("openent/portail: \"^1\"\nopenent/notes-absences: { version: \"^1\", features: [sms] }\n"))
        .args(["tree", "dist"])
        .run()
        .status(0);
    insta::assert_snapshot!(out.stdout);
    out.then()
        .args(["why", "openent/annuaire", "dist"])
        .run()
        .status(0)
        .stdout_is("openent/annuaire 2.3.0 is in idf/lilie because:\n  idf/lilie → openent/portail 1.4.0 → openent/annuaire 2.3.0\n");
}

#[test]
fn a_misspelt_module_or_capability_gets_the_name_meant() {
    let test = publish(
        base(),
        "openent",
        "openent",
        &[("openent/messagerie", "2.3.0", "provides: [messagerie]\n")],
    );
    let out = test
        .write(
            "dist/distribution.yaml",
            &distribution("openent/portail: \"^1\"\nopenent/note-absences: \"^1\"\n"),
        )
        .args(["resolve", "dist"])
        .run()
        .status(1)
        .stderr_is(
            "
            error: the distribution cannot be resolved

            Because openent/note-absences is not published in the registry that serves namespace `openent` and idf/lilie requires openent/note-absences ^1 (dist/distribution.yaml:9), the modules idf/lilie asks for cannot all be installed together.
            help: change the requirement on openent/note-absences at dist/distribution.yaml:9, or publish a version that fits
            help: did you mean `openent/notes-absences`? (dist/distribution.yaml:9 asks for `openent/note-absences`, which no registry publishes)

            ",
        );
    out.then()
        .write(
            "dist/distribution.yaml",
            &distribution("openent/portail: \"^1\"\nmessageri: \"*\"\n"),
        )
        .args(["resolve", "dist"])
        .run()
        .status(1)
        .stderr_is(
            "
            error: the distribution asks for capability `messageri` (dist/distribution.yaml:9), which no module provides
            help: did you mean `messagerie`?
            ",
        );
}

#[test]
fn a_missing_registry_is_named_once_without_repeating_its_cause() {
    Test::new()
        .write(
            "dist/distribution.yaml",
            &distribution("openent/portail: \"^1\"\n"),
        )
        .args(["resolve", "dist"])
        .run()
        .status(2)
        .stderr_is(
            "
            error: registry `openent` at openent: `openent` is not a registry: it has no registry.yaml (create one with `oent registry init`)
            ",
        );
}

#[test]
fn a_misspelt_key_of_the_distribution_is_drawn_at_its_line_with_the_key_meant() {
    base()
        .write(
            "dist/distribution.yaml",
            &distribution("openent/portail: \"^1\"\n").replace("registries:", "registrys:"),
        )
        .args(["resolve", "dist"])
        .run()
        .status(1)
        .stderr_is(
            r#"
            error[E008/unknown-key]: unknown key `registrys`
              ┌─ dist/distribution.yaml:5:1
              │
            5 │ registrys:
              │ ^^^^^^^^^ in `registrys`
              │
              = help: did you mean `registries`?

            error: `dist/distribution.yaml` has 1 problem(s); nothing was resolved
            "#,
        );
}

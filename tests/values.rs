//! `oent values` as a collectivité runs it on the repository's examples
//! (offline, from the embedded registry): what it shows, and how it refuses
//! a module or an établissement the distribution does not have.

mod support;

use std::path::Path;

use support::Test;

/// The Essonne example copied with the registry it points at (`../../registry`).
fn essonne() -> Test {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    Test::new()
        .copy(
            &repo.join("examples/essonne-colleges"),
            "examples/essonne-colleges",
        )
        .copy(&repo.join("registry"), "registry")
}

#[test]
fn an_unknown_etablissement_is_an_error_with_the_close_uai() {
    essonne()
        .args(["values", "examples/essonne-colleges", "--offline"])
        .args(["--module", "openent/cdi", "--etablissement", "0911500M"])
        .run()
        .status(1)
        .stdout_is("")
        .stderr_is(
            "
            error: cd91/colleges has no établissement `0911500M`
            help: did you mean `0911500L`?
            ",
        )
        .then()
        .args(["values", "examples/essonne-colleges", "--offline"])
        .args(["--etablissement", "9999999Z"])
        .run()
        .status(1)
        .stdout_is("")
        .stderr_is(
            "
            error: cd91/colleges has no établissement `9999999Z`
            help: its établissements are listed in examples/essonne-colleges/etablissements.csv
            ",
        );
}

#[test]
fn an_unknown_module_is_an_error_with_the_module_meant() {
    essonne()
        .args(["values", "examples/essonne-colleges", "--offline"])
        .args(["--module", "openent/cahier"])
        .run()
        .status(1)
        .stdout_is("")
        .stderr_is(
            "
            error: `openent/cahier` is not a module of cd91/colleges
            help: did you mean `openent/cahier-de-textes`?
            ",
        )
        .then()
        .args(["values", "examples/essonne-colleges", "--offline"])
        .args(["--module", "openent/cdi", "--etablissement", "0911500L"])
        .run()
        .status(0)
        .stdout_contains("openent/cdi\n")
        .stdout_contains("  duree_pret = 28    # examples/essonne-colleges/distribution.yaml:")
        .stdout_lacks("openent/sso");
}

#[test]
fn a_set_value_of_the_wrong_type_is_drawn_under_the_flag() {
    essonne()
        .args(["values", "examples/essonne-colleges", "--offline"])
        .args(["--set", "openent/documents.quota_eleve=beaucoup"])
        .run()
        .status(1)
        .stdout_is("")
        .stderr_is(
            r#"
            error[E028/value-type]: openent/documents.quota_eleve: expected an integer, got string "beaucoup"
              ┌─ command line:1:37
              │
            1 │ --set openent/documents.quota_eleve=beaucoup
              │                                     ^^^^^^^^ in `openent/documents.quota_eleve`
              │
              = help: quota_eleve: Quota d'un élève (Mo). Nextcloud ne lit aucun quota dans config.php : le bundle ne l'écrit pas, l'administrateur l'applique par compte (occ user:setting <uid> files quota) ou comme quota par défaut (occ config:app:set files default_quota)

            error: 1 problem(s)
            "#,
        );
}

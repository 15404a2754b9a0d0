//! The first hour of a new user with only the `oent` binary: a new
//! distribution, written for the collectivité's type, lints and builds at
//! once from the catalogue built into the binary (no fixture registry, no
//! network), and is ready for git.

mod support;

use std::path::Path;

use support::Test;

/// `oent new distribution cd24/colleges` for the Dordogne, in `colleges/`.
fn dordogne() -> Test {
    new_dordogne(Test::new())
        .run()
        .status(0)
        .stdout_is(
            "
            created colleges/distribution.yaml
            created colleges/etablissements.csv
            created colleges/.gitignore
            created colleges/distribution.schema.json
            next: edit colleges/distribution.yaml then run `oent lint colleges`
            ",
        )
        .then()
}

/// `test` with the arguments of `oent new distribution` for the Dordogne.
fn new_dordogne(test: Test) -> Test {
    test.args([
        "new",
        "distribution",
        "cd24/colleges",
        "--type",
        "departement",
    ])
    .args(["--collectivite", "Département de la Dordogne"])
}

#[test]
fn a_new_distribution_builds_from_the_embedded_catalogue_alone() {
    let output = dordogne()
        .args(["lint", "--deny", "warnings", "colleges"])
        .run()
        .status(0)
        .then()
        .args(["build", "colleges", "--offline"])
        .run()
        .status(0)
        .stderr_contains("built colleges/bundle (compose)");
    assert!(output.path().join("colleges/bundle/bundle.json").is_file());
    let distribution = output.read("colleges/distribution.yaml");
    assert!(
        distribution.contains("  type: departement\n"),
        "{distribution}"
    );
    assert!(!distribution.contains("\nregistries:"), "{distribution}");
    // The lock names where every module came from, so that the same binary
    // (or any whose catalogue still holds these versions) builds it again.
    let lock = output.read("colleges/oent.lock");
    let sources: Vec<_> = lock.lines().filter(|l| l.contains("source:")).collect();
    assert!(!sources.is_empty(), "{lock}");
    assert!(
        sources
            .iter()
            .all(|l| l.trim() == "source: openent (embedded)"),
        "{lock}"
    );
    output
        .then()
        .args(["build", "colleges", "--locked", "--offline"])
        .run()
        .status(0);
}

#[test]
fn a_new_distribution_is_ready_for_git_and_its_schema_resolves_where_it_is() {
    let output = dordogne().args(["--version"]).run();
    assert_eq!(
        output
            .read("colleges/.gitignore")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>(),
        ["/bundle/", "/local/"]
    );
    let distribution = output.read("colleges/distribution.yaml");
    let schema = distribution
        .lines()
        .find_map(|l| l.strip_prefix("# yaml-language-server: $schema="))
        .expect("a $schema comment");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        output.read(&format!("colleges/{schema}")),
        std::fs::read_to_string(repo.join("manifests/distribution.schema.json")).unwrap()
    );
    assert_eq!(
        output.read("colleges/etablissements.csv"),
        "uai,nom,type,commune,departement,secteur\n"
    );
}

#[test]
fn the_type_comes_from_the_collectivite_name_or_must_be_given() {
    let output = Test::new()
        .args(["new", "distribution", "ac-rennes/lycees"])
        .args(["--collectivite", "Académie de Rennes"])
        .run()
        .status(0);
    assert!(
        output
            .read("lycees/distribution.yaml")
            .contains("  type: academie\n")
    );
    Test::new()
        .args([
            "new",
            "distribution",
            "sivu/ent",
            "--collectivite",
            "SIVU des écoles",
        ])
        .run()
        .status(2)
        .stderr_is(
            "error: cannot tell the type of collectivité from \"SIVU des écoles\"; \
             pass --type region|departement|academie|groupement|commune\n",
        );
    Test::new()
        .args(["new", "distribution", "cd24/colleges", "--type", "canton"])
        .run()
        .status(2)
        .stderr_contains("invalid value 'canton' for '--type <KIND>'");
}

#[test]
fn a_new_distribution_with_a_registry_reads_it_instead() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = new_dordogne(Test::new().copy(&repo.join("registry"), "registry"))
        .args(["--registry", "../registry"])
        .run()
        .status(0)
        .then()
        .args(["build", "colleges"])
        .run()
        .status(0);
    assert!(
        output
            .read("colleges/distribution.yaml")
            .contains("registries:\n  - { name: openent, path: \"../registry\" }\n")
    );
    let lock = output.read("colleges/oent.lock");
    assert!(lock.contains("source: openent\n"), "{lock}");
    assert!(!lock.contains("embedded"), "{lock}");
}

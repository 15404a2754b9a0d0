//! The first hour of a new user with only the `oent` binary: a new
//! distribution, written for the collectivité's type, lints and builds at
//! once from the catalogue built into the binary (no fixture registry, no
//! network), and is ready for git.

mod http_support;
mod support;

use std::path::Path;

use std::process::Command;

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
            created colleges/.gitlab-ci.yml
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

/// A registry of two modules written for these tests, and a distribution
/// `dist/` that reads it and sets one value.
fn browsable() -> Test {
    let agenda = "
        description: Un agenda partagé par établissement.
        provides: [agenda]
        config:
          couleur:
            type: enum
            values: [bleu, vert]
            default: bleu
            doc: Couleur des événements
          rappel:
            type: duration
            default: 1h
            min: 5m
            max: 7d
            doc: Délai du rappel avant un événement
          titre:
            type: string
            max: 40
            scope: etablissement
        service: { image: registry.example.org/ac/agenda:1.1.0, port: 8080 }
    ";
    let test = support::registry::publish(
        Test::new(),
        "registry",
        "ac",
        &[
            ("ac/agenda", "1.0.0", ""),
            ("ac/agenda", "1.1.0", agenda),
            (
                "ac/absences",
                "2.0.0",
                "description: Les devoirs notés vont dans l'agenda.\n\
                 provides: [evaluation]\nrequires: { ac/agenda: \"^1.1\" }\n",
            ),
        ],
    );
    test.write(
        "dist/distribution.yaml",
        "
        schema: oent/distribution/v1
        name: cd24/colleges
        version: 0.1.0
        collectivite: { nom: Département de la Dordogne, type: departement }
        registries: [{ name: academie, path: ../registry }]
        modules:
          ac/agenda: { version: \"^1\", config: { rappel: 30m } }
        settings: { domaine: ent.example.fr }
        ",
    )
}

#[test]
fn info_shows_versions_deployment_dependencies_and_every_option() {
    browsable()
        .args(["info", "ac/agenda", "--dist", "dist"])
        .run()
        .status(0)
        .stdout_is(
            "
            ac/agenda 1.1.0, from academie
            ac/agenda

            Un agenda partagé par établissement.

            versions:    1.1.0, 1.0.0
            licence:     CECILL-2.1
            category:    pedagogie
            repository:  https://forge.example.org/ac/agenda.git
            deploys:     registry.example.org/ac/agenda:1.1.0, port 8080
            provides:    agenda

            options:
              couleur = \"bleu\"
                  enum: bleu | vert
                  Couleur des événements
              rappel = \"1h\"
                  duration, min 5m, max 7d
                  Délai du rappel avant un événement
              titre
                  string, at most 40 characters, per établissement
            ",
        )
        .then()
        .args([
            "info",
            "ac/agenda@1.0.0",
            "--dist",
            "dist",
            "--format",
            "json",
        ])
        .run()
        .status(0)
        .stdout_contains("\"version\": \"1.0.0\"")
        .then()
        .args(["info", "ac/absences", "--dist", "dist/distribution.yaml"])
        .run()
        .status(0)
        .stdout_contains("deploys:     configuration only (no service)\n")
        .stdout_contains("requires:    ac/agenda ^1.1\n");
}

#[test]
fn info_of_an_unknown_module_or_version_says_what_exists() {
    browsable()
        .args(["info", "ac/agneda", "--dist", "dist"])
        .run()
        .status(1)
        .stdout_is("")
        .stderr_is(
            "
            error: no module `ac/agneda` in the registries of dist/distribution.yaml (academie)
            help: did you mean `ac/agenda`?
            ",
        )
        .then()
        .args(["info", "ac/agenda@3.0.0", "--dist", "dist"])
        .run()
        .status(1)
        .stderr_is("error: ac/agenda has no version 3.0.0 in academie; published: 1.1.0, 1.0.0\n")
        .then()
        .args(["info", "openent/portial"])
        .run()
        .status(1)
        .stderr_is(
            "
            error: no module `openent/portial` in the catalogue built into oent
            help: did you mean `openent/portail`?
            ",
        );
}

#[test]
fn search_ranks_name_before_capability_before_summary() {
    let output = browsable()
        .current_dir("dist")
        .args(["search", "agenda", "--format", "json"])
        .run()
        .status(0);
    let names: Vec<_> = output.json()["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect();
    // ac/agenda by its name and capability, before ac/absences (by its
    // description), which the name order would put first.
    assert_eq!(names, ["ac/agenda", "ac/absences"]);
    output
        .then()
        .current_dir("dist")
        .args(["search", "EVALUATION"])
        .run()
        .status(0)
        .stdout_is("ac/absences 2.0.0  ac/absences\n")
        .then()
        .current_dir("dist")
        .args(["search", "établissement", "partagé"])
        .run()
        .status(0)
        .stdout_is("ac/agenda 1.1.0  ac/agenda\n")
        .then()
        .current_dir("dist")
        .args(["search", "cantine"])
        .run()
        .status(1)
        .stdout_is("")
        .stderr_is(
            "no module matches `cantine` in the registries of distribution.yaml (academie)\n",
        );
}

#[test]
fn search_outside_a_distribution_reads_the_embedded_catalogue() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let published = std::fs::read_dir(repo.join("registry/index/openent"))
        .unwrap()
        .count();
    // Every module of the association is in namespace `openent`.
    let output = Test::new()
        .args(["search", "openent", "--format", "json"])
        .run()
        .status(0);
    let found = output.json()["modules"].as_array().unwrap().len();
    assert_eq!(found, published);
}

#[test]
fn values_show_each_option_type_bounds_and_doc() {
    browsable()
        .args(["values", "dist"])
        .run()
        .status(0)
        .stdout_is(
            "
            ac/agenda
              couleur = \"bleu\"    # default (module.yaml of ac/agenda 1.1.0)
                  enum: bleu | vert — Couleur des événements
              rappel = \"30m\"    # dist/distribution.yaml:7
                  duration, min 5m, max 7d — Délai du rappel avant un événement
            ",
        );
}

/// The whole first hour, as the README tells it: a new distribution, its
/// collèges from the Annuaire de l'éducation, a bundle.
#[test]
fn new_then_import_then_build_gives_a_bundle() {
    let annuaire =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import/annuaire-education.csv");
    let annuaire = std::fs::read_to_string(annuaire).unwrap();
    let output = new_dordogne(Test::new().write("annuaire.csv", &annuaire))
        .run()
        .status(0)
        .then()
        .args([
            "import",
            "etablissements",
            "annuaire.csv",
            "--departement",
            "24",
        ])
        .args(["--type", "college", "-o", "colleges/etablissements.csv"])
        .run()
        .status(0)
        .then()
        .args(["lint", "--deny", "warnings", "colleges"])
        .run()
        .status(0)
        .then()
        .args(["build", "colleges"])
        .run()
        .status(0)
        .stderr_contains("8 établissements");
    assert!(output.path().join("colleges/bundle/bundle.json").is_file());
}

/// A static web server cannot list its modules: search says it did not
/// look there, and info still reads a module by name.
#[test]
fn search_names_a_registry_it_cannot_list_and_info_still_reads_it() {
    let fixture = http_support::Fixture::new(&["1.0.0"]);
    let nginx = fixture.nginx();
    let distribution = format!(
        "schema: oent/distribution/v1\nname: t/dist\nversion: 0.1.0\n\
         collectivite: {{ nom: Région test, type: region }}\n\
         registries: [{{ name: web, url: \"{}\" }}]\nsettings: {{ domaine: ent.example.fr }}\n",
        nginx.url()
    );
    std::fs::write(fixture.path().join("distribution.yaml"), distribution).unwrap();
    fixture
        .oent(&["search", "x"])
        .status(1)
        .stderr_is(
            "
            warning: registry `web` cannot list its modules (a static web server): not searched; `oent info NS/NAME` still reads it
            no module matches `x` in the registries of distribution.yaml (web)
            ",
        );
    fixture
        .oent(&["info", "t/x"])
        .status(0)
        .stdout_contains("t/x 1.0.0, from web\n");
}

/// Progress bars are drawn on a terminal (a pseudo-terminal from script(1)),
/// never in a pipe, under `CI=true`, or with `--format json`.
#[test]
fn progress_bars_are_drawn_on_a_terminal_only() {
    let out = dordogne().args(["--version"]).run();
    let on_terminal = |command: &str, ci: bool| -> String {
        let mut script = Command::new("script");
        script
            .args([
                "-qec",
                &format!("{} {command}", support::oent().display()),
                "/dev/null",
            ])
            .current_dir(out.path())
            .env_remove("CI");
        if ci {
            script.env("CI", "true");
        }
        let output = script.output().expect("script(1), from bsdutils");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(on_terminal("build colleges --offline", false).contains("rendering ["));
    assert!(!on_terminal("build colleges --offline", true).contains("rendering ["));
    assert!(!on_terminal("build colleges --offline --format json", false).contains("rendering ["));
    Test::at(out.path())
        .args(["build", "colleges", "--offline"])
        .env_remove("CI")
        .run()
        .status(0)
        .stderr_lacks("rendering [");
}

/// The new distribution is a GitLab project at once: its .gitlab-ci.yml is
/// the CI template, and both jobs' scripts pass in it (once the lock is
/// committed, as `oent-build --locked` requires), with `oent` on PATH as
/// the image has it.
#[test]
fn a_new_distribution_has_the_ci_template_and_its_jobs_pass() {
    let out = dordogne()
        .args(["build", "colleges", "--offline"])
        .run()
        .status(0);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ci = out.read("colleges/.gitlab-ci.yml");
    assert_eq!(
        ci,
        std::fs::read_to_string(repo.join("templates/ci/gitlab-ci.yml")).unwrap()
    );
    let ci: serde_json::Value = serde_saphyr::from_str(&ci).unwrap();
    let dir = out.path().join("colleges");
    for job in ["oent-lint", "oent-build"] {
        support::run_gitlab_job(&ci, job, &dir, ".");
    }
    assert!(dir.join("gl-code-quality.json").is_file());
    assert!(dir.join("bundle/bundle.json").is_file());
}

//! `oent build` the way a collectivité runs it: the repository's examples
//! from the embedded registry, and small distributions over registries built
//! in the test for each way a build must refuse to write anything.

mod support;

use std::path::{Path, PathBuf};

use support::registry::{module, publish_tree};
use support::{Test, tree, unindent};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The example copied with the registry it points at (`../../registry`).
fn example(name: &str) -> Test {
    let test = Test::new();
    support::copy_dir(
        &repo().join("examples").join(name),
        &test.path().join("examples").join(name),
    );
    support::copy_dir(&repo().join("registry"), &test.path().join("registry"));
    let _ = std::fs::remove_dir_all(test.path().join("examples").join(name).join("bundle"));
    test.env("OENT_CACHE_DIR", "cache")
}

#[test]
fn the_ile_de_france_example_builds_offline_and_identically_twice() {
    let out = example("ile-de-france")
        .args([
            "build",
            "examples/ile-de-france",
            "-o",
            "b1",
            "--offline",
            "--locked",
        ])
        .run()
        .status(0)
        .stderr_contains("built b1 (kubernetes): 13 modules, 471 établissements");
    let first = tree(&out.path().join("b1"));
    assert!(
        first
            .iter()
            .any(|(p, _)| p == Path::new("conf/openent-notes-absences/0930501P.yaml"))
    );
    let manifest: serde_json::Value = serde_json::from_slice(
        &first
            .iter()
            .find(|(p, _)| p == Path::new("bundle.json"))
            .unwrap()
            .1,
    )
    .unwrap();
    assert_eq!(
        manifest["files"].as_array().unwrap().len(),
        first.len() - 1,
        "bundle.json lists every other file"
    );
    let out = out
        .then()
        .args([
            "build",
            "examples/ile-de-france",
            "-o",
            "b2",
            "--offline",
            "--locked",
        ])
        .env("OENT_CACHE_DIR", "cache")
        .run()
        .status(0);
    assert_eq!(
        tree(&out.path().join("b2")),
        first,
        "identical inputs give identical bundles"
    );
    // A per-établissement override reaches that établissement only.
    let lycee_pro = out.read("b2/conf/openent-notes-absences/0930501P.yaml");
    assert!(lycee_pro.contains("stage en entreprise"));
    assert!(
        !out.read("b2/conf/openent-notes-absences/0750500L.yaml")
            .contains("stage en entreprise")
    );
    // Secrets stay references.
    let services = out.read("b2/kubernetes/services.yaml");
    assert!(services.contains("SMS_API_KEY") && services.contains("secretKeyRef"));
}

#[test]
fn json_summary_for_ci() {
    let out = example("e-lyco")
        .args([
            "build",
            "examples/e-lyco/loire-atlantique",
            "-o",
            "b",
            "--format",
            "json",
            "--offline",
        ])
        .run()
        .status(0);
    let summary: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(summary["target"], "compose");
    assert_eq!(summary["etablissements"], 160);
    assert!(out.path().join("b/compose/compose.yaml").is_file());
}

/// A registry with one module whose template and target read values.
fn project(template: &str, target: &str, options: &str) -> Test {
    let test = Test::new();
    let manifest = module(
        "openent/agenda",
        "1.0.0",
        &format!(
            "config:\n{}templates:\n  - {{ source: templates/t.tera, target: \"{target}\", each: etablissement }}\n",
            unindent(options)
                .lines()
                .map(|l| format!("  {l}\n"))
                .collect::<String>()
        ),
    );
    let test = test
        .write("src/agenda/module.yaml", &manifest)
        .write("src/agenda/templates/t.tera", template);
    publish_tree(test, "openent", "openent", "src").env("OENT_CACHE_DIR", "cache")
}

fn distribution(config: &str, etablissements: &str) -> String {
    format!(
        "schema: oent/distribution/v1\nname: idf/test\nversion: 1.0.0\ncollectivite: {{ nom: Test, type: region }}\n\
         registries:\n  - {{ name: openent, path: ../openent }}\nmodules:\n  openent/agenda: {{ version: \"^1\", config: {{ {config} }} }}\n\
         settings: {{ domaine: ent.example.fr }}\ntarget: compose\netablissements:\n{}",
        unindent(etablissements)
    )
}

const ETABS: &str = "
  - { uai: \"0750655E\", nom: A, type: lycee, commune: Paris, departement: \"75\", secteur: public }
  - { uai: \"0440001M\", nom: B, type: college, commune: Nantes, departement: \"44\", secteur: public }
";

#[test]
fn every_bad_value_is_reported_at_once_and_nothing_is_written() {
    let test = project(
        "{{ config.jours }} {{ config.nom }}",
        "conf/{{ module.slug }}/{{ etab.uai }}",
        "jours: { type: integer, min: 1, default: 5 }\nnom: { type: string, required: true }",
    );
    let out = test
        .write("dist/distribution.yaml", &distribution("jours: 0", ETABS))
        .args(["build", "dist", "-o", "out"])
        .run()
        .status(1)
        .stderr_is(
            r#"
            error[E028/value-type]: openent/agenda.jours: expected an integer ≥ 1, got integer `0`
              ┌─ dist/distribution.yaml:8:53
              │
            8 │   openent/agenda: { version: "^1", config: { jours: 0 } }
              │                                                     ^ in `modules.openent/agenda.config.jours`
              │
              = help: see option `jours` in the module.yaml of openent/agenda 1.0.0

            error[E009/missing-key]: openent/agenda.nom is required and has no value
              ┌─ dist/distribution.yaml:8:3
              │
            8 │   openent/agenda: { version: "^1", config: { jours: 0 } }
              │   ^^^^^^^^^^^^^^ in `modules.openent/agenda.config.nom`
              │
              = help: set it under `modules.openent/agenda.config.nom` in the distribution

            error: 2 problem(s); nothing was written, the previous bundle is untouched
            "#,
        );
    assert!(!out.path().join("out").exists());
}

#[test]
fn set_is_typed_by_the_option() {
    let test = project(
        "{{ config.jours }}",
        "conf/{{ module.slug }}/{{ etab.uai }}",
        "jours: { type: integer, min: 1, default: 5 }",
    );
    let out = test
        .write("dist/distribution.yaml", &distribution("", ETABS))
        .args([
            "build",
            "dist",
            "-o",
            "out",
            "--set",
            "openent/agenda.jours=12",
        ])
        .run()
        .status(0);
    assert_eq!(out.read("out/conf/openent-agenda/0750655E"), "12");
    out.then()
        .args([
            "build",
            "dist",
            "-o",
            "out",
            "--set",
            "openent/agenda.jours=douze",
        ])
        .env("OENT_CACHE_DIR", "cache")
        .run()
        .status(1)
        .stderr_is(
            r#"
            error[E028/value-type]: openent/agenda.jours: expected an integer, got string "douze"
              ┌─ command line:1:28
              │
            1 │ --set openent/agenda.jours=douze
              │                            ^^^^^ in `openent/agenda.jours`
              │
              = help: see option `jours` in the module.yaml of openent/agenda 1.0.0

            error: 1 problem(s); nothing was written, the previous bundle is untouched
            "#,
        );
}

/// A distribution built once into `out`, and that bundle's files: the
/// starting point of the tests where a second build must not damage it.
fn a_first_bundle() -> (support::Output, Vec<(PathBuf, Vec<u8>)>) {
    let test = project(
        "{{ config.jours }}",
        "conf/{{ module.slug }}/{{ etab.uai }}",
        "jours: { type: integer, min: 1, default: 5 }",
    );
    let out = test
        .write("dist/distribution.yaml", &distribution("", ETABS))
        .args(["build", "dist", "-o", "out"])
        .run()
        .status(0);
    let before = tree(&out.path().join("out"));
    (out, before)
}

#[test]
fn a_failed_build_leaves_the_previous_bundle_untouched() {
    let (out, before) = a_first_bundle();
    let out = out
        .then()
        .args([
            "build",
            "dist",
            "-o",
            "out",
            "--set",
            "openent/agenda.jours=0",
        ])
        .env("OENT_CACHE_DIR", "cache")
        .run()
        .status(1);
    assert_eq!(tree(&out.path().join("out")), before);
    let leftovers: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("oent-build"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_template_runtime_error_names_the_template_line_and_the_etablissement() {
    let test = project(
        "ok\n{{ settings.smtp.host }}\n",
        "conf/{{ module.slug }}/{{ etab.uai }}",
        "jours: { type: integer, default: 5 }",
    );
    test.write("dist/distribution.yaml", &distribution("", ETABS))
        .args(["build", "dist", "-o", "out"])
        .run()
        .status(1)
        .stderr_contains("error[E034/template-render]: openent/agenda@1.0.0/templates/t.tera:2:")
        .stderr_contains("(établissement 0750655E)");
}

#[test]
fn a_target_that_leaves_the_bundle_is_refused() {
    let test = project(
        "x",
        "conf/{{ module.slug }}/{{ config.fichier }}",
        "fichier: { type: string, default: \"../../../etc/cron.d/x\" }",
    );
    let out = test
        .write("dist/distribution.yaml", &distribution("", ETABS))
        .args(["build", "dist", "-o", "out"])
        .run()
        .status(1)
        .stderr_contains("error[E035/target-outside-bundle]")
        .stderr_contains("leaves its directory");
    assert!(!out.path().join("etc").exists() && !out.path().join("out").exists());
}

#[test]
fn an_override_for_an_unknown_uai_is_refused() {
    let test = project(
        "{{ config.jours }}",
        "conf/{{ module.slug }}/{{ etab.uai }}",
        "jours: { type: integer, default: 5, scope: etablissement }",
    );
    let dist = distribution("", "").replace(
        "etablissements:\n",
        "etablissements:\n  file: e.csv\n  overrides:\n    \"0750001U\": { openent/agenda: { jours: 3 } }\n",
    );
    test.write("dist/distribution.yaml", &dist)
        .write(
            "dist/e.csv",
            "uai,nom,type,commune,departement,secteur\n0750655E,A,lycee,Paris,75,public\n",
        )
        .args(["build", "dist", "-o", "out"])
        .run()
        .status(1)
        .stderr_contains("E024")
        .stderr_contains("0750001U");
}

#[test]
fn an_unwritable_output_is_a_clear_error() {
    let test = project(
        "{{ config.jours }}",
        "conf/{{ module.slug }}/{{ etab.uai }}",
        "jours: { type: integer, default: 5 }",
    );
    test.write("dist/distribution.yaml", &distribution("", ETABS))
        .write("occupied", "a file, not a directory")
        .args(["build", "dist", "-o", "occupied/out"])
        .run()
        .status(2)
        .stderr_contains("cannot write the bundle `occupied`: File exists");
}

#[test]
fn killed_mid_build_the_previous_bundle_survives() {
    // Enough établissements that the build takes a while to render.
    let mut csv = String::from("uai,nom,type,commune,departement,secteur\n");
    let letters = b"ABCDEFGHJKLMNPRSTUVWXYZ";
    for n in 750_000..753_000u32 {
        csv.push_str(&format!(
            "0{n}{},Lycée {n},lycee,Paris,75,public\n",
            letters[(n % 23) as usize] as char
        ));
    }
    let test = project(
        &"{{ etab.nom }} {{ config.jours }}\n".repeat(50),
        "conf/{{ module.slug }}/{{ etab.uai }}",
        "jours: { type: integer, default: 5 }",
    );
    let dist =
        distribution("", "").replace("etablissements:\n", "etablissements: { file: e.csv }\n");
    let out = test
        .write("dist/distribution.yaml", &dist)
        .write("dist/e.csv", &csv)
        .args(["build", "dist", "-o", "out"])
        .run()
        .status(0);
    let before = tree(&out.path().join("out"));
    let mut child = Test::at(out.path())
        .args([
            "build",
            "dist",
            "-o",
            "out",
            "--set",
            "openent/agenda.jours=7",
        ])
        .env("OENT_CACHE_DIR", "cache")
        .spawn();
    std::thread::sleep(std::time::Duration::from_millis(150));
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    let after = tree(&out.path().join("out"));
    // Either the build was killed (the old bundle stays whole) or it had
    // already finished (the new bundle is whole): never a mixture.
    if status.success() {
        assert!(after.iter().all(|(p, b)| !p.starts_with("conf") || String::from_utf8_lossy(b).contains(" 7\n")));
    } else {
        assert_eq!(after, before);
    }
}

#[test]
fn diff_shows_what_an_upgrade_changes() {
    let test = project(
        "jours = {{ config.jours }}\n",
        "conf/{{ module.slug }}/{{ etab.uai }}",
        "jours: { type: integer, default: 5 }",
    );
    let out = test
        .write("dist/distribution.yaml", &distribution("", ETABS))
        .args(["build", "dist", "-o", "old"])
        .run()
        .status(0);
    let out = out
        .then()
        .args([
            "build",
            "dist",
            "-o",
            "new",
            "--set",
            "openent/agenda.jours=9",
        ])
        .env("OENT_CACHE_DIR", "cache")
        .run()
        .status(0);
    let out = out
        .then()
        .args(["diff", "old", "new"])
        .run()
        .status(1)
        .stderr_contains("2 file(s) differ");
    assert!(
        out.stdout.contains("~ conf/openent-agenda/0750655E\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("-jours = 5\n+jours = 9\n"),
        "{}",
        out.stdout
    );
    out.then()
        .args(["diff", "old", "old"])
        .run()
        .status(0)
        .stderr_contains("0 file(s) differ");
}

#[test]
fn values_says_where_each_value_comes_from() {
    let test = project(
        "{{ config.jours }}",
        "conf/{{ module.slug }}/{{ etab.uai }}",
        "jours: { type: integer, default: 5, scope: etablissement }\nnom: { type: string, default: \"Agenda\" }",
    );
    let etabs = "  - { uai: \"0750655E\", nom: A, type: lycee, commune: Paris, departement: \"75\", secteur: public, config: { openent/agenda: { jours: 2 } } }\n";
    let out = test
        .write("dist/distribution.yaml", &distribution("jours: 3", etabs))
        .args(["values", "dist"])
        .run()
        .status(0);
    assert!(
        out.stdout
            .contains("  jours = 3    # dist/distribution.yaml:8\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("  nom = \"Agenda\"    # default (module.yaml of openent/agenda 1.0.0)\n"),
        "{}",
        out.stdout
    );
    let out = out
        .then()
        .args(["values", "dist", "--etablissement", "0750655E"])
        .env("OENT_CACHE_DIR", "cache")
        .run()
        .status(0);
    assert!(
        out.stdout
            .contains("  jours = 2    # dist/distribution.yaml:12\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_full_disk_leaves_the_previous_bundle_and_no_debris() {
    let (out, before) = a_first_bundle();
    let out = out
        .then()
        .args(["build", "dist", "-o", "out", "--set", "openent/agenda.jours=6"])
        .env("OENT_CACHE_DIR", "cache")
        .env("OENT_FAULT_DISK_BYTES", "2000")
        .run()
        .status(2)
        .stderr_contains("cannot write the bundle `out`: no storage space; the previous bundle, if any, is untouched");
    assert_eq!(tree(&out.path().join("out")), before);
    let debris: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("oent-"))
        .collect();
    assert!(debris.is_empty(), "{debris:?}");
}

/// The next command in the same directory, with the same cache.
fn again<const N: usize>(out: support::Output, args: [&str; N]) -> Test {
    out.then().args(args).env("OENT_CACHE_DIR", "cache")
}

/// A limit or a refusal must come at once, not after the work it prevents.
#[track_caller]
fn quickly(out: &support::Output, seconds: u64) {
    let limit = std::time::Duration::from_secs(seconds);
    assert!(out.elapsed < limit, "took {:?}", out.elapsed);
}

#[test]
fn a_fifo_as_the_etablissements_csv_is_refused_without_waiting() {
    let test = project(
        "{{ config.jours }}",
        "conf/{{ module.slug }}/{{ etab.uai }}",
        "jours: { type: integer, default: 5 }",
    );
    let dist =
        distribution("", "").replace("etablissements:\n", "etablissements: { file: e.csv }\n");
    let test = test.write("dist/distribution.yaml", &dist);
    let fifo = test.path().join("dist/e.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Were oent to open the FIFO, it would wait for a writer forever: this
    // one comes after a while and writes nothing, so the test fails instead of hanging
    // (the while is long so that a loaded machine cannot pass for a wait).
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(30));
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo);
    });
    let out = test
        .args(["build", "dist", "-o", "out"])
        .run()
        .status(1)
        .stderr_contains("`dist/e.csv` is a FIFO (named pipe), not a regular file")
        .stderr_contains("give the path of a CSV file");
    quickly(&out, 30);
}

/// The hidden folders builds leave beside `dir`'s entries (`.out.oent-*`).
fn debris(dir: &Path) -> Vec<String> {
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".oent-"))
        .collect();
    found.sort();
    found
}

/// `oent build` under strace, killed (SIGKILL) at the `when`-th call of `syscalls`.
/// Whether it succeeded all the same.
fn build_killed_at(dir: &Path, syscalls: &str, when: u32) -> bool {
    let strace = support::tools::required("strace", "strace");
    let inject = format!("inject={syscalls}:signal=SIGKILL:when={when}");
    Test::at(dir)
        .under(&[
            strace.to_str().unwrap(),
            "-f",
            "-o",
            "/dev/null",
            "-e",
            &inject,
        ])
        .args([
            "build",
            "dist",
            "-o",
            "out",
            "--set",
            "openent/agenda.jours=7",
        ])
        .env("OENT_CACHE_DIR", "cache")
        .run()
        .code
        == Some(0)
}

#[test]
fn killed_at_any_rename_the_output_is_one_whole_bundle_and_the_next_build_cleans_up() {
    let (out, before) = a_first_bundle();
    let dir = out.path().to_path_buf();
    assert!(!before.is_empty());
    let after_build = |label: &str| {
        let files = tree(&dir.join("out"));
        let old = files == before;
        let new = files
            .iter()
            .any(|(p, b)| p.starts_with("conf") && b == b"7");
        assert!(old || new, "{label}: neither bundle whole: {files:?}");
        new
    };
    // The swap (the first rename of any kind), then the removal of the
    // previous bundle that follows it.
    let succeeded = build_killed_at(&dir, "rename,renameat,renameat2", 1);
    assert!(!succeeded);
    assert!(
        !after_build("killed at the swap"),
        "the swap did not happen"
    );
    let succeeded = build_killed_at(&dir, "rename,renameat,renameat2", 2);
    assert!(after_build("killed at the second rename") || !succeeded);
    let succeeded = build_killed_at(&dir, "unlinkat,rmdir", 1);
    assert!(!succeeded);
    assert!(after_build("killed while removing the previous bundle"));
    assert!(
        !debris(&dir).is_empty(),
        "the kills left their staging folders"
    );
    let _kept = again(out, ["build", "dist", "-o", "out"]).run().status(0);
    assert_eq!(debris(&dir), Vec::<String>::new());
    assert_eq!(tree(&dir.join("out")), before);
}

#[test]
fn a_folder_oent_did_not_write_is_refused_and_kept() {
    let (out, _) = a_first_bundle();
    let out = again(out, ["build", "dist", "-o", "precious"])
        .write("precious/file.txt", "mine")
        .run()
        .status(2)
        .stderr_contains("refusing to write the bundle to `precious`: it is not empty and is not a bundle oent wrote (no bundle.json); nothing was written")
        .stderr_contains("help: pick a new or empty folder, or leave out `-o` for the default `<distribution>/bundle`");
    assert_eq!(out.read("precious/file.txt"), "mine");
    // Its bundle.json must be oent's: a format and a file list.
    let out = again(out, ["build", "dist", "-o", "other"])
        .write("other/bundle.json", "{\"files\": \"*\"}")
        .run()
        .status(2)
        .stderr_contains(
            "its bundle.json is not one oent wrote (expected format 1 with a `files` list)",
        );
    assert!(out.path().join("other/bundle.json").is_file());
    // An empty folder is fine.
    again(out, ["build", "dist", "-o", "empty"])
        .create_dir("empty")
        .run()
        .status(0);
}

#[test]
fn the_distributions_folder_or_one_above_it_is_refused() {
    let (out, _) = a_first_bundle();
    let out = again(out, ["build", "dist", "-o", "dist"])
        .run()
        .status(2)
        .stderr_contains("refusing to write the bundle to `dist`: it is the distribution's folder, and the bundle replaces its folder as a whole (distribution.yaml, the CSV and oent.lock would be deleted)");
    let out = again(out, ["build", "dist", "-o", "."])
        .run()
        .status(2)
        .stderr_contains(
            "refusing to write the bundle to `.`: it holds the distribution's folder `dist`",
        );
    let out = out
        .then()
        .current_dir("dist")
        .args(["build", ".", "-o", "."])
        .env("OENT_CACHE_DIR", "../cache")
        .run()
        .status(2)
        .stderr_contains("refusing to write the bundle to `.`: it is the distribution's folder");
    let out = out
        .then()
        .create_dir("elsewhere")
        .current_dir("elsewhere")
        .args(["build", "../dist", "-o", "."])
        .env("OENT_CACHE_DIR", "../cache")
        .run()
        .status(2)
        .stderr_contains(
            "refusing to write the bundle to `.`: it is (or holds) the current directory",
        )
        .stderr_contains("help: pick a new folder, e.g. `-o bundle`");
    for kept in ["dist/distribution.yaml", "out/bundle.json", "elsewhere"] {
        assert!(out.path().join(kept).exists(), "{kept}");
    }
}

#[test]
fn files_the_previous_bundle_does_not_list_are_refused_unless_forced() {
    let (out, before) = a_first_bundle();
    let out = again(out, ["build", "dist", "-o", "out", "--set", "openent/agenda.jours=6"])
        .write("out/compose/.env", "SECRET=1")
        .write("out/notes/todo.txt", "x")
        .run()
        .status(2)
        .stderr_contains("refusing to write the bundle to `out`: the previous bundle holds 2 file(s) its bundle.json does not list, which replacing it would delete; nothing was written\n    compose/.env\n    notes/\n")
        .stderr_contains("help: keep your own files out of the bundle, in `local/` beside it");
    assert_eq!(out.read("out/compose/.env"), "SECRET=1");
    assert_eq!(tree(&out.path().join("out")).len(), before.len() + 2);
    // The bundle itself says where operator files go.
    assert!(
        out.read("out/compose/compose.yaml")
            .contains("--env-file ../../local/secrets.env up -d")
    );
    assert!(
        out.read("out/README.md")
            .contains("**`local/` à côté du bundle** (`../local/` depuis ce dossier)")
    );
    let out = again(out, ["build", "dist", "-o", "out", "--force"])
        .run()
        .status(0)
        .stderr_is(
            "
            warning[W006/unlisted-bundle-file]: out/compose/.env: not listed by the previous bundle's bundle.json: deleted with it (--force)
             = help: keep your own files in `local/` beside the bundle

            warning[W006/unlisted-bundle-file]: out/notes/: not listed by the previous bundle's bundle.json: deleted with it (--force)
             = help: keep your own files in `local/` beside the bundle

            built out (compose): 1 modules, 2 établissements, 9 files
            ",
        );
    assert_eq!(tree(&out.path().join("out")), before);
}

/// Two nested loops of 100,000: 10^10 lines, if nothing stopped them.
const BOMB: &str = "{% for a in range(end=100000) %}{% for b in range(end=100000) %}{{ etab.uai }} {{ a }} {{ b }}\n{% endfor %}{% endfor %}";

/// The same, with bounds lint cannot see (and publishing lets through).
const HIDDEN_BOMB: &str = "{% for a in range(end=config.n) %}{% for b in range(end=config.n) %}{{ etab.uai }} {{ a }} {{ b }}\n{% endfor %}{% endfor %}";

/// A distribution of one module whose template loops `config.n` (100,000) times.
fn looping(template: &str) -> Test {
    project(
        template,
        "conf/{{ module.slug }}/{{ etab.uai }}",
        "n: { type: integer, default: 100000 }",
    )
    .write("dist/distribution.yaml", &distribution("", ETABS))
}

#[test]
fn a_template_that_writes_without_end_is_stopped_at_the_file_limit() {
    let out = looping(HIDDEN_BOMB)
        .args(["build", "dist", "-o", "out"])
        .env("OENT_MAX_FILE_SIZE", "1MiB")
        .run()
        .status(1)
        .stderr_contains("error[E034/template-render]: openent/agenda@1.0.0/templates/t.tera: the rendered file exceeds the limit of 1 MiB per file (établissement 0750655E); rendering was stopped")
        .stderr_contains("--max-file-size or OENT_MAX_FILE_SIZE");
    quickly(&out, 20);
    assert!(!out.path().join("out").exists());
    assert_eq!(debris(out.path()), Vec::<String>::new());
    let out = again(out, ["build", "dist", "-o", "out", "--max-file-size", "100GiB", "--max-bundle-size", "2MiB"])
        .run()
        .status(1)
        .stderr_contains("the bundle exceeds the limit of 2 MiB per build while rendering this template (établissement 0750655E)");
    let out = again(
        out,
        [
            "build",
            "dist",
            "-o",
            "out",
            "--max-file-size",
            "100GiB",
            "--render-timeout",
            "1",
        ],
    )
    .env("OENT_MAX_BUNDLE_SIZE", "100GiB")
    .run()
    .status(1)
    .stderr_contains(
        "rendering exceeds the time limit of 1 s, in this template (établissement 0750655E)",
    );
    quickly(&out, 20);
    assert!(!out.path().join("out").exists());
}

#[test]
fn lint_refuses_nested_large_ranges_before_anyone_builds() {
    let manifest = module(
        "openent/agenda",
        "1.0.0",
        "templates:\n  - { source: templates/t.tera, target: \"conf/{{ module.slug }}/{{ etab.uai }}\", each: etablissement }\n",
    );
    Test::new()
        .write("src/agenda/module.yaml", &manifest)
        .write("src/agenda/templates/t.tera", &format!("ok\n{BOMB}\n"))
        .args(["lint", "src/agenda"])
        .run()
        .status(1)
        .stdout_contains("error[E042/template-unbounded]: nested loops over `range` run 10000000000 times: the template would render without end\n  ┌─ src/agenda/templates/t.tera:2:33\n");
}

#[test]
fn a_loop_that_writes_nothing_is_stopped_at_the_time_limit() {
    let silent = "{% for a in range(end=config.n) %}{% for b in range(end=config.n) %}{% endfor %}{% endfor %}done";
    let out = looping(silent)
        .args(["build", "dist", "-o", "out", "--render-timeout", "1"])
        .run()
        .status(1)
        .stderr_contains(
            "rendering exceeds the time limit of 1 s, in this template (établissement 0750655E)",
        );
    quickly(&out, 20);
}

#[test]
fn a_distribution_with_a_value_of_the_wrong_type_is_drawn_at_its_line() {
    let test = project(
        "x",
        "conf/{{ module.slug }}/{{ etab.uai }}",
        "jours: { type: integer, default: 5 }",
    );
    let text = distribution("", ETABS).replace("version: 1.0.0", "version: [1, 0]");
    test.write("dist/distribution.yaml", &text)
        .args(["build", "dist", "-o", "out"])
        .run()
        .status(1)
        .stderr_is(
            r#"
            error[E012/invalid-version]: `version`: expected a semver version string, found a `[`
              ┌─ dist/distribution.yaml:3:10
              │
            3 │ version: [1, 0]
              │          ^ in `version`
              │
              = help: write MAJOR.MINOR.PATCH, for example `version: 1.0.0`

            error: `dist/distribution.yaml` has 1 problem(s); nothing was resolved
            "#,
        );
}

/// `oent build` on a terminal (script(1) gives it one): its diagnostics are
/// coloured there, and never with `NO_COLOR`.
#[test]
fn diagnostics_are_coloured_on_a_terminal_unless_no_color() {
    let on_a_terminal = ["sh", "-c", "exec script -qec \"$0 $*\" /dev/null"];
    let test = project(
        "x",
        "conf/{{ module.slug }}/{{ etab.uai }}",
        "jours: { type: integer, default: 5 }",
    )
    .write(
        "dist/distribution.yaml",
        &distribution("jours: douze", ETABS),
    );
    let out = test
        .args(["build", "dist", "-o", "out"])
        .under(&on_a_terminal)
        .run()
        .stdout_contains("\u{1b}[")
        .stdout_contains("error[E028/value-type]");
    out.then()
        .args(["build", "dist", "-o", "out"])
        .under(&on_a_terminal)
        .env("NO_COLOR", "1")
        .run()
        .stdout_lacks("\u{1b}[")
        .stdout_contains("error[E028/value-type]");
}

// `oent build --jobs N` (or `OENT_JOBS`): modules rendered on N threads give
// the same bundle, byte for byte, and the same problems in the same order,
// as one thread.

/// Builds `dist` into `out` with the given thread options.
fn build(test: Test, dist: &str, out: &str, jobs: &[&str]) -> Test {
    let mut args = vec!["build", dist, "-o", out, "--offline", "--locked"];
    args.extend(jobs);
    test.arg_list(&args).run().status(0).then()
}

#[test]
fn any_number_of_threads_writes_the_same_bundle() {
    for (name, dist) in [
        ("ile-de-france", "examples/ile-de-france"),
        ("essonne-colleges", "examples/essonne-colleges"),
    ] {
        let test = example(name);
        let test = build(test, dist, "one", &["--jobs", "1"]);
        let test = build(test, dist, "four", &["-j", "4"]);
        let test = build(test, dist, "three", &[]).env("OENT_JOBS", "3");
        let test = build(test, dist, "default", &[]).env_remove("OENT_JOBS");
        let one = tree(&test.path().join("one"));
        assert!(one.len() > 100, "{name}: {} files", one.len());
        for other in ["four", "three", "default"] {
            assert!(
                tree(&test.path().join(other)) == one,
                "{name}: the bundle built with {other} thread option(s) differs from -j 1"
            );
        }
    }
}

#[test]
fn problems_come_in_the_modules_order_whatever_the_threads() {
    // Eight modules that each write malformed JSON for their second établissement, rendered
    // on one thread and on four: the same report, byte for byte.
    let mut test = Test::new();
    let mut modules = String::new();
    for i in 0..8 {
        let manifest = module(
            &format!("openent/m{i}"),
            "1.0.0",
            "templates:\n  - { source: templates/t.tera, target: \"conf/{{ module.slug }}/{{ etab.uai }}.json\", each: etablissement }\n",
        );
        test = test
            .write(&format!("src/m{i}/module.yaml"), &manifest)
            .write(
                &format!("src/m{i}/templates/t.tera"),
                "{% if etab.uai == \"0440001M\" %}[{% endif %}{}\n",
            );
        modules.push_str(&format!("  openent/m{i}: \"^1\"\n"));
    }
    let test = publish_tree(test, "openent", "openent", "src")
        .env("OENT_CACHE_DIR", "cache")
        .write(
            "dist/distribution.yaml",
            &format!(
                "schema: oent/distribution/v1\nname: idf/test\nversion: 1.0.0\ncollectivite: {{ nom: Test, type: region }}\n\
                 registries:\n  - {{ name: openent, path: ../openent }}\nmodules:\n{modules}\
                 settings: {{ domaine: ent.example.fr }}\ntarget: compose\netablissements:\n\
                 \x20 - {{ uai: \"0750655E\", nom: A, type: lycee, commune: Paris, departement: \"75\", secteur: public }}\n\
                 \x20 - {{ uai: \"0440001M\", nom: B, type: college, commune: Nantes, departement: \"44\", secteur: public }}\n"
            ),
        );
    let one = test
        .args(["build", "dist", "-o", "out", "-j", "1"])
        .run()
        .status(1);
    let first = one.stderr.clone();
    for i in 0..8 {
        assert!(first.contains(&format!("openent/m{i}@1.0.0")), "{first}");
    }
    let positions: Vec<usize> = (0..8)
        .map(|i| first.find(&format!("openent/m{i}@1.0.0")).unwrap())
        .collect();
    assert!(positions.is_sorted(), "in the modules' order:\n{first}");
    let four = one
        .then()
        .args(["build", "dist", "-o", "out", "-j", "4"])
        .run()
        .status(1);
    assert_eq!(four.stderr, first);
    assert!(!four.path().join("out").exists());
}

#[test]
fn zero_threads_is_refused() {
    Test::new()
        .args(["build", "dist", "--jobs", "0"])
        .run()
        .status(2)
        .stderr_contains("--jobs <N>");
}

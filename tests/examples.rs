//! The repository's examples (examples/), used the way a collectivité and
//! its CI use them: `oent lint` is clean, `oent resolve --locked --offline`
//! agrees with each committed oent.lock, and `oent build --offline --locked`
//! renders each bundle from the embedded registry/. Then every rendered file
//! is read back by the tool that will consume it:
//!
//! - JSON (serde_json) and YAML (serde-saphyr, every document) parse;
//! - PHP configuration files pass `php -l` (Debian package php-cli);
//! - `key=value` files (Java properties, keycloak.conf, env files, Postfix's
//!   main.cf) parse with Python's configparser, strictly;
//! - compose bundles: compose.yaml against the Compose Specification and the
//!   reverse proxy's configuration through `nginx -t`;
//! - kubernetes bundles: kubernetes-validate --strict on the manifests and on
//!   `kubectl kustomize`'s output, each generated ConfigMap under the 1 MiB
//!   that the API server accepts.
//!
//! A few key files per example are snapshot-tested (insta): a summary of the
//! bundle (counts per directory, not its thousands of names), one
//! établissement's file, and the reverse proxy's routes (nginx for compose,
//! the Ingress for kubernetes). The templates themselves are tested in
//! tests/deploy_targets.rs against a hand-written context.
//!
//! The CI snippet templates/ci/gitlab-ci.yml is validated against GitLab's
//! CI schema, and its jobs' scripts are run against an example.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::Value;
use support::tools;
use support::{Test, copy_dir, venv_tool, walk};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// An example and what its build must say.
struct Example {
    /// Under examples/.
    dir: &'static str,
    target: &'static str,
    modules: usize,
    etablissements: usize,
    /// The établissement whose files are snapshot-tested (one with an override
    /// where the example has one).
    uai: &'static str,
}

const ILE_DE_FRANCE: Example = Example {
    dir: "ile-de-france",
    target: "kubernetes",
    modules: 13,
    etablissements: 471,
    uai: "0930501P",
};
const ELYCO_REGION: Example = Example {
    dir: "e-lyco/pays-de-la-loire",
    target: "kubernetes",
    modules: 15,
    etablissements: 240,
    uai: "0441002A",
};
const ELYCO_44: Example = Example {
    dir: "e-lyco/loire-atlantique",
    target: "compose",
    modules: 13,
    etablissements: 160,
    uai: "0441018T",
};
const ELYCO_49: Example = Example {
    dir: "e-lyco/maine-et-loire",
    target: "compose",
    modules: 14,
    etablissements: 112,
    uai: "0491000W",
};
const ELYCO_53: Example = Example {
    dir: "e-lyco/mayenne",
    target: "compose",
    modules: 12,
    etablissements: 47,
    uai: "0531002B",
};
const ELYCO_72: Example = Example {
    dir: "e-lyco/sarthe",
    target: "compose",
    modules: 14,
    etablissements: 86,
    uai: "0721000W",
};
const ELYCO_85: Example = Example {
    dir: "e-lyco/vendee",
    target: "compose",
    modules: 13,
    etablissements: 87,
    uai: "0851002C",
};
const ESSONNE: Example = Example {
    dir: "essonne-colleges",
    target: "compose",
    modules: 13,
    etablissements: 100,
    uai: "0911500L",
};

const ALL: [&Example; 8] = [
    &ILE_DE_FRANCE,
    &ELYCO_REGION,
    &ELYCO_44,
    &ELYCO_49,
    &ELYCO_53,
    &ELYCO_72,
    &ELYCO_85,
    &ESSONNE,
];

/// examples/ and registry/ copied to a temporary directory, so that no
/// command can write into the repository; without the bundles a build from
/// the README may have left beside the examples.
fn workspace() -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(ROOT).join("examples"),
        &work.path().join("examples"),
    );
    copy_dir(
        &Path::new(ROOT).join("registry"),
        &work.path().join("registry"),
    );
    for example in ALL {
        let _ = std::fs::remove_dir_all(
            work.path()
                .join("examples")
                .join(example.dir)
                .join("bundle"),
        );
    }
    work
}

/// `oent ARGS` in `dir` with a private archive cache; returns (status, stdout, stderr).
fn oent_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Test::at(dir)
        .arg_list(args)
        .env("OENT_CACHE_DIR", dir.join(".cache"))
        .env("CI", "true")
        .run();
    (output.code.unwrap_or(-1), output.stdout, output.stderr)
}

#[test]
fn lint_is_clean_with_warnings_denied() {
    // Run in the repository, its private cache in a temporary directory.
    let output = Test::new()
        .current_dir(ROOT)
        .args(["lint", "--deny", "warnings", "--format", "json"])
        .run();
    let stdout = &output.stdout;
    assert_eq!(output.code, Some(0), "{stdout}");
    let report: Value = serde_json::from_str(stdout).unwrap();
    assert_eq!(report["diagnostics"], serde_json::json!([]), "{stdout}");
    // Every example's distribution.yaml was among the files checked: the
    // eight built below and the E-LYCO base.
    let checked: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for dir in ALL.iter().map(|e| e.dir).chain(["e-lyco/base"]) {
        let file = format!("examples/{dir}/distribution.yaml");
        assert!(
            checked.contains(&file.as_str()),
            "{file} not linted: {checked:?}"
        );
    }
}

#[test]
fn each_example_resolves_to_its_committed_lock() {
    let work = workspace();
    for example in ALL {
        let dist = format!("examples/{}", example.dir);
        let lock = work.path().join(&dist).join("oent.lock");
        let committed = std::fs::read(&lock).unwrap();
        let (status, stdout, stderr) =
            oent_in(work.path(), &["resolve", &dist, "--locked", "--offline"]);
        assert_eq!(status, 0, "oent resolve {dist}:\n{stdout}\n{stderr}");
        assert_eq!(
            std::fs::read(&lock).unwrap(),
            committed,
            "{dist}: the lock changed"
        );
        let text = String::from_utf8(committed).unwrap();
        assert_eq!(
            text.matches("\n  - name: ").count(),
            example.modules,
            "{dist}: modules in oent.lock"
        );
    }
    // The base of the groupement resolves on its own too (it has no lock:
    // nobody deploys it without a partner's établissements).
    let (status, stdout, stderr) = oent_in(
        work.path(),
        &["resolve", "examples/e-lyco/base", "--offline"],
    );
    assert_eq!(status, 0, "oent resolve base:\n{stdout}\n{stderr}");
}

/// The établissements CSV files are what scripts/examples/gen_etablissements.py
/// writes: the data can be reproduced, and was not edited by hand.
#[test]
fn the_csv_files_are_what_the_generator_writes() {
    let output = Command::new(tools::required("python3", "python3"))
        .current_dir(ROOT)
        .args(["scripts/examples/gen_etablissements.py", "--check"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "run scripts/examples/gen_etablissements.py and commit the CSV files:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The figures of the sources: 471 lycées for Île-de-France; 732 for E-LYCO,
/// 370 public and 362 private, in the waves of the press kit, with its 12
/// pilot établissements.
#[test]
fn the_examples_have_the_documented_numbers() {
    let rows = |dir: &str| -> Vec<BTreeMap<String, String>> {
        let path = Path::new(ROOT)
            .join("examples")
            .join(dir)
            .join("etablissements.csv");
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let headers = reader.headers().unwrap().clone();
        reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                headers
                    .iter()
                    .zip(r.iter())
                    .map(|(h, v)| (h.to_owned(), v.to_owned()))
                    .collect()
            })
            .collect()
    };
    let idf = rows("ile-de-france");
    assert_eq!(idf.len(), 471);
    let mut per_departement = BTreeMap::new();
    for row in &idf {
        *per_departement
            .entry(row["departement"].clone())
            .or_insert(0) += 1;
        assert_eq!(&row["uai"][1..3], row["departement"], "{row:?}");
    }
    assert_eq!(
        per_departement.keys().collect::<Vec<_>>(),
        ["75", "77", "78", "91", "92", "93", "94", "95"]
    );

    let elyco: Vec<_> = [
        "pays-de-la-loire",
        "loire-atlantique",
        "maine-et-loire",
        "mayenne",
        "sarthe",
        "vendee",
    ]
    .iter()
    .flat_map(|p| rows(&format!("e-lyco/{p}")))
    .collect();
    assert_eq!(elyco.len(), 732);
    let count = |secteur: &str, vague: &str| {
        elyco
            .iter()
            .filter(|r| r["secteur"] == secteur && r["vague"] == vague)
            .count()
    };
    let waves = [
        "2009-2010",
        "2010-2011",
        "2011-2012",
        "2012-2013",
        "2013-2014",
    ];
    let public: Vec<usize> = waves.iter().map(|w| count("public", w)).collect();
    let prive: Vec<usize> = waves.iter().map(|w| count("prive", w)).collect();
    assert_eq!(public, [94, 94, 92, 57, 33]);
    assert_eq!(prive, [27, 61, 96, 95, 83]);
    let pilots: Vec<(&str, &str)> = elyco
        .iter()
        .filter(|r| r["pilote"] == "oui")
        .map(|r| (r["nom"].as_str(), r["commune"].as_str()))
        .collect();
    assert_eq!(pilots.len(), 12, "{pilots:?}");
    assert!(pilots.contains(&("Collège Haxo", "La Roche-sur-Yon")));
    assert!(pilots.contains(&("Lycée Jean-Perrin", "Rezé")));
    // Every pilot is in the first wave.
    assert!(
        elyco
            .iter()
            .filter(|r| r["pilote"] == "oui")
            .all(|r| r["vague"] == "2009-2010")
    );
}

/// Builds `example` in a fresh workspace and checks the bundle; returns the
/// bundle's directory (inside the returned workspace).
fn build(example: &Example) -> (tempfile::TempDir, PathBuf) {
    let work = workspace();
    let dist = format!("examples/{}", example.dir);
    let started = Instant::now();
    let (status, stdout, stderr) = oent_in(
        work.path(),
        &["build", &dist, "-o", "bundle", "--offline", "--locked"],
    );
    let elapsed = started.elapsed();
    assert_eq!(status, 0, "oent build {dist}:\n{stdout}\n{stderr}");
    let expected = format!(
        "built bundle ({}): {} modules, {} établissements,",
        example.target, example.modules, example.etablissements
    );
    assert!(stderr.contains(&expected), "{stderr}\nexpected: {expected}");
    eprintln!("oent build {dist}: {elapsed:.2?}");
    let bundle = work.path().join("bundle");
    (work, bundle)
}

/// Reads back every rendered file with the parser or tool that consumes it.
fn check_rendered_files(bundle: &Path) {
    let (mut php, mut ini) = (Vec::new(), Vec::new());
    let (mut json, mut yaml) = (0, 0);
    for path in walk(bundle) {
        let name = path.file_name().unwrap().to_str().unwrap();
        let text =
            || std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if name.ends_with(".json") {
            serde_json::from_str::<Value>(&text())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            json += 1;
        } else if name.ends_with(".yaml") || name.ends_with(".yml") || name == "oent.lock" {
            serde_saphyr::from_multiple::<Value>(&text())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            yaml += 1;
        } else if name.ends_with(".php") {
            php.push(path);
        } else if name.ends_with(".properties")
            || name.ends_with(".env")
            || name == "keycloak.conf"
            || name == "main.cf"
        {
            ini.push(path);
        }
    }
    assert!(json > 0 && yaml > 0, "{json} JSON, {yaml} YAML files");
    tools::php_lint(&php);
    if !ini.is_empty() {
        tools::ini_parse(&ini);
    }
}

/// bundle.json lists every other file of the bundle, with its size and sha256.
fn check_manifest(bundle: &Path) -> Value {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("bundle.json")).unwrap())
            .unwrap();
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(
        files.len(),
        walk(bundle).len() - 1,
        "bundle.json lists every other file"
    );
    manifest
}

/// Counts per directory (`conf/<module>` and its sub-directories, with the
/// établissement's UAI taken out of the names): what the bundle holds,
/// stable and short enough to read in a snapshot.
fn summary(bundle: &Path) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let files = walk(bundle);
    for path in &files {
        let relative = path.strip_prefix(bundle).unwrap().to_str().unwrap();
        let generic = relative
            .split('/')
            .map(|part| {
                let stem = part.split('.').next().unwrap();
                if stem.len() == 8 && stem[..7].bytes().all(|b| b.is_ascii_digit()) {
                    part.replacen(stem, "<UAI>", 1)
                } else {
                    part.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        *counts.entry(generic).or_default() += 1;
    }
    let mut out = format!("{} files\n", files.len());
    for (path, n) in counts {
        out.push_str(&format!("{n:>5}  {path}\n"));
    }
    out
}

fn read(bundle: &Path, path: &str) -> String {
    std::fs::read_to_string(bundle.join(path))
        .unwrap_or_else(|e| panic!("{}: {e}", bundle.join(path).display()))
}

fn check_compose(bundle: &Path) {
    tools::compose_schema(&bundle.join("compose/compose.yaml"));
    tools::nginx_t(
        &bundle.join("compose/nginx/oent.conf"),
        &bundle.join("../nginx-check"),
    );
}

/// The ConfigMaps of one module must fit in etcd: the API server refuses
/// objects over 1 MiB (1,048,576 bytes) of data.
const CONFIGMAP_MAX_BYTES: usize = 1024 * 1024;

fn check_kubernetes(bundle: &Path) {
    tools::kubernetes_validate(&[
        bundle.join("kubernetes/services.yaml"),
        bundle.join("kubernetes/ingress.yaml"),
    ]);
    let built = tools::kustomize(bundle);
    let built_file = bundle.join("../kustomize-build.yaml");
    std::fs::write(&built_file, &built).unwrap();
    tools::kubernetes_validate(std::slice::from_ref(&built_file));
    let documents: Vec<Value> = serde_saphyr::from_multiple(&built).unwrap();
    let maps: Vec<&Value> = documents
        .iter()
        .filter(|d| d["kind"] == "ConfigMap")
        .collect();
    assert!(!maps.is_empty());
    for map in maps {
        let size: usize = map["data"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| k.len() + v.as_str().unwrap().len())
            .sum();
        assert!(
            size < CONFIGMAP_MAX_BYTES,
            "ConfigMap {} holds {size} bytes, over the API server's 1 MiB",
            map["metadata"]["name"]
        );
    }
}

/// The whole check of one example, and its snapshots.
fn check_example(example: &Example) {
    let (_work, bundle) = build(example);
    let manifest = check_manifest(&bundle);
    check_rendered_files(&bundle);
    let name = example.dir.replace('/', "-");
    let uai = example.uai;
    insta::assert_snapshot!(format!("{name}-bundle"), summary(&bundle));
    assert!(manifest["files"].as_array().unwrap().len() > example.etablissements);
    insta::assert_snapshot!(
        format!("{name}-portail-{uai}"),
        read(
            &bundle,
            &format!("conf/openent-portail/etablissements/{uai}.json")
        )
    );
    insta::assert_snapshot!(
        format!("{name}-notes-{uai}"),
        read(&bundle, &format!("conf/openent-notes-absences/{uai}.yaml"))
    );
    match example.target {
        "compose" => {
            assert!(!bundle.join("kubernetes").exists());
            check_compose(&bundle);
            insta::assert_snapshot!(
                format!("{name}-nginx"),
                read(&bundle, "compose/nginx/oent.conf")
            );
        }
        "kubernetes" => {
            assert!(!bundle.join("compose").exists());
            check_kubernetes(&bundle);
            insta::assert_snapshot!(
                format!("{name}-ingress"),
                read(&bundle, "kubernetes/ingress.yaml")
            );
        }
        other => panic!("unknown target {other}"),
    }
    let readme = read(&bundle, "README.md");
    if example.dir.starts_with("e-lyco/") {
        // The deployment waves, from the CSV's `vague` and `pilote` columns.
        let start = readme
            .find("## Déploiement par vague")
            .expect("README: waves");
        let end = start + readme[start..].find("\n## Services").unwrap();
        insta::assert_snapshot!(format!("{name}-vagues"), &readme[start..end]);
    } else {
        assert!(!readme.contains("## Déploiement par vague"));
    }
}

#[test]
fn ile_de_france_builds_and_its_bundle_is_read_back() {
    check_example(&ILE_DE_FRANCE);
}

#[test]
fn e_lyco_region_builds_and_its_bundle_is_read_back() {
    check_example(&ELYCO_REGION);
}

#[test]
fn e_lyco_loire_atlantique_builds_and_its_bundle_is_read_back() {
    check_example(&ELYCO_44);
}

#[test]
fn e_lyco_maine_et_loire_builds_and_its_bundle_is_read_back() {
    check_example(&ELYCO_49);
}

#[test]
fn e_lyco_mayenne_builds_and_its_bundle_is_read_back() {
    check_example(&ELYCO_53);
}

#[test]
fn e_lyco_sarthe_builds_and_its_bundle_is_read_back() {
    check_example(&ELYCO_72);
}

#[test]
fn e_lyco_vendee_builds_and_its_bundle_is_read_back() {
    check_example(&ELYCO_85);
}

#[test]
fn essonne_colleges_builds_and_its_bundle_is_read_back() {
    check_example(&ESSONNE);
}

/// An override reaches its établissement only: the Essonne collège whose CDI
/// lends for four weeks, against its neighbour with the module's default.
#[test]
fn an_override_reaches_its_etablissement_only() {
    let (_work, bundle) = build(&ESSONNE);
    let cdi = |uai: &str| -> Value {
        serde_json::from_str(&read(
            &bundle,
            &format!("conf/openent-cdi/etablissements/{uai}.json"),
        ))
        .unwrap()
    };
    assert_eq!(cdi("0911500L")["pret"]["dureeJours"], 28);
    assert_eq!(cdi("0911500L")["opac"]["public"], true);
    assert_eq!(cdi("0911501M")["pret"]["dureeJours"], 21);
    assert_eq!(cdi("0911501M")["opac"]["public"], false);
}

// --- The GitLab CI snippet -------------------------------------------------

fn gitlab_ci() -> (PathBuf, Value) {
    let path = Path::new(ROOT).join("templates/ci/gitlab-ci.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    (path, serde_saphyr::from_str(&text).unwrap())
}

/// Valid for GitLab (its CI schema, vendored by check-jsonschema), with the
/// two jobs and their reports where GitLab looks for them.
#[test]
fn the_gitlab_ci_snippet_is_valid_gitlab_ci() {
    let (path, ci) = gitlab_ci();
    tools::run(
        Command::new(venv_tool("check-jsonschema"))
            .args(["--builtin-schema", "vendor.gitlab-ci"])
            .arg(&path),
    );
    let lint = &ci["oent-lint"];
    assert_eq!(lint["artifacts"]["reports"]["junit"], "oent-lint.xml");
    assert_eq!(
        lint["artifacts"]["reports"]["codequality"],
        "gl-code-quality.json"
    );
    assert_eq!(lint["artifacts"]["when"], "always");
    let build = &ci["oent-build"];
    let script = build["script"].as_array().unwrap();
    assert!(
        script
            .iter()
            .any(|l| l.as_str().unwrap().contains("oent build")
                && l.as_str().unwrap().contains("--locked")),
        "{script:?}"
    );
    for job in [lint, build] {
        assert_eq!(job["extends"], ".oent");
    }
}

/// Runs the scripts of both jobs in a shell, as a GitLab runner would, in a
/// copy of an example with `oent` on PATH: the reports and the bundle the
/// jobs declare as artifacts are there, and readable by their consumers.
#[test]
fn the_gitlab_ci_jobs_run_against_an_example() {
    let (_, ci) = gitlab_ci();
    let work = workspace();
    for job in ["oent-lint", "oent-build"] {
        support::run_gitlab_job(&ci, job, work.path(), "examples/e-lyco/mayenne");
        let artifacts = &ci[job]["artifacts"];
        let mut declared: Vec<&str> = artifacts["reports"]
            .as_object()
            .map(|r| r.values().map(|v| v.as_str().unwrap()).collect())
            .unwrap_or_default();
        if let Some(paths) = artifacts["paths"].as_array() {
            declared.extend(paths.iter().map(|p| p.as_str().unwrap()));
        }
        for artifact in declared {
            assert!(
                work.path().join(artifact).exists(),
                "{job}: artifact {artifact} missing"
            );
        }
    }
    // The reports, read back: GitLab's Code Quality format is a JSON array,
    // JUnit is XML (junitparser). A distribution repository has no modules/:
    // lint reads the modules its oent.lock pins from its registries, offline,
    // and checks the values against them: nothing to report.
    let quality: Value = serde_json::from_str(
        &std::fs::read_to_string(work.path().join("gl-code-quality.json")).unwrap(),
    )
    .unwrap();
    let issues = quality.as_array().unwrap();
    assert!(issues.is_empty(), "{quality:#}");
    tools::run(
        Command::new(venv_tool("python"))
            .args([
                "-c",
                "import sys, junitparser; x = junitparser.JUnitXml.fromfile(sys.argv[1]); \
                 assert x.failures == 0 and x.errors == 0, (x.failures, x.errors)",
            ])
            .arg(work.path().join("oent-lint.xml")),
    );
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(work.path().join("oent-build.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["etablissements"], 47);
    assert!(work.path().join("bundle/bundle.json").is_file());
}

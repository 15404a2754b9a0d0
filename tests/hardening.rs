//! Hardened by default (docs/render.md, "Security"): each example's
//! Kubernetes bundle, built against a registry made from modules/ and run
//! through kustomize as `kubectl apply -k` would, passes checkov's Kubernetes
//! checks but those its README lists as exceptions; the same bundle passes
//! kubernetes-validate. checkov has no Compose framework: the compose
//! bundle's rules are checked here, service by service.
//!
//! The exceptions are never written in this file: they are read from the
//! bundle README's "Sécurité" table, which oent fills from each module's
//! contract (its written exceptions, and those it states: a UID below 10000,
//! an image by tag). checkov comes from PyPI, in .ci/venv-checkov (its
//! pinned dependencies would move the other validators' in .ci/venv):
//! .ci/setup installs it; a missing checkov fails the test, it never skips.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::tools;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Every example distribution, as `build_from_modules` names them.
const EXAMPLES: &[&str] = &[
    "ile-de-france",
    "essonne-colleges",
    "e-lyco/loire-atlantique",
    "e-lyco/maine-et-loire",
    "e-lyco/mayenne",
    "e-lyco/sarthe",
    "e-lyco/vendee",
];

fn checkov() -> PathBuf {
    let path = Path::new(ROOT).join(".ci/venv-checkov/bin/checkov");
    assert!(
        path.is_file(),
        "{} is missing: run .ci/setup (it installs checkov in .ci/venv-checkov), then the tests again",
        path.display()
    );
    path
}

/// (resource, check id) of each check checkov fails in `file`, with the
/// numbers of passed and failed checks.
fn run_checkov(file: &Path) -> (Vec<(String, String)>, u64, u64) {
    let output = Command::new(checkov())
        .args(["--framework", "kubernetes", "--quiet", "--compact"])
        .args(["--output", "json", "--skip-download"])
        .arg("-f")
        .arg(file)
        .output()
        .expect("checkov starts");
    // Exit status 1 means "some check failed": the JSON says which.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "checkov's output is not JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let summary = &report["summary"];
    let failed = report["results"]["failed_checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["resource"].as_str().unwrap().to_owned(),
                c["check_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (
        failed,
        summary["passed"].as_u64().unwrap(),
        summary["failed"].as_u64().unwrap(),
    )
}

/// The README's exceptions: workload name → the checks they account for.
fn readme_exceptions(readme: &str) -> BTreeMap<String, BTreeSet<String>> {
    let section = readme
        .split("\n## Sécurité\n")
        .nth(1)
        .expect("the README has a `## Sécurité` section");
    let section = section.split("\n## ").next().unwrap();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let workload = cells[0].trim_start_matches("| ").trim_matches('`');
        let checks = cells[2].split(", ").map(str::to_owned);
        out.entry(workload.to_owned()).or_default().extend(checks);
    }
    out
}

/// `Kind.namespace.name` (checkov's resource) → the workload it is, or None
/// for objects that are not one.
fn workload(resource: &str) -> Option<&str> {
    let (kind, rest) = resource.split_once('.')?;
    ["Deployment", "StatefulSet"]
        .contains(&kind)
        .then(|| rest.split_once('.').map_or(rest, |(_, name)| name))
}

struct Checked {
    passed: u64,
    failed: u64,
    excused: usize,
}

fn check_example(example: &str) -> Checked {
    let (_work, bundle) =
        support::build_from_modules("examples", example, &["--target", "kubernetes"]);
    let built = tools::kustomize(&bundle);
    let built_file = bundle.join("kustomize-build.yaml");
    std::fs::write(&built_file, &built).unwrap();
    tools::kubernetes_validate(std::slice::from_ref(&built_file));
    let readme = std::fs::read_to_string(bundle.join("README.md")).unwrap();
    let exceptions = readme_exceptions(&readme);
    let (failed, passed, failed_count) = run_checkov(&built_file);
    let mut unexcused = Vec::new();
    let mut excused = 0;
    for (resource, check) in &failed {
        let listed = workload(resource)
            .and_then(|w| exceptions.get(w))
            .is_some_and(|checks| checks.contains(check));
        if listed {
            excused += 1;
        } else {
            unexcused.push(format!("{resource}: {check}"));
        }
    }
    assert!(
        unexcused.is_empty(),
        "{example}: checkov fails checks the README lists no exception for:\n{}",
        unexcused.join("\n")
    );
    // Each listed exception is one checkov really needs: a rule kept is
    // not listed as broken.
    for (workload, checks) in &exceptions {
        for check in checks {
            assert!(
                failed
                    .iter()
                    .any(|(r, c)| c == check && r.ends_with(&format!(".{workload}"))),
                "{example}: the README excuses {workload} from {check}, which passes"
            );
        }
    }
    Checked {
        passed,
        failed: failed_count,
        excused,
    }
}

#[test]
fn every_example_bundle_fails_no_checkov_check_but_its_listed_exceptions() {
    for example in EXAMPLES {
        let checked = check_example(example);
        assert_eq!(checked.failed as usize, checked.excused, "{example}");
        eprintln!(
            "{example}: checkov {} passed, {} failed, all listed exceptions",
            checked.passed, checked.failed
        );
    }
}

/// The rules of docs/render.md, "Security", that Compose has, on each
/// example's compose bundle: checkov has no Compose framework.
#[test]
fn every_example_compose_bundle_runs_hardened_services_on_an_internal_network() {
    for example in EXAMPLES {
        let (_work, bundle) =
            support::build_from_modules("examples", example, &["--target", "compose"]);
        let file = bundle.join("compose/compose.yaml");
        tools::compose_schema(&file);
        let compose: Value =
            serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(compose["networks"]["back"]["internal"], true, "{example}");
        let readme = std::fs::read_to_string(bundle.join("README.md")).unwrap();
        let exceptions = readme_exceptions(&readme);
        for (name, service) in compose["services"].as_object().unwrap() {
            if name == "proxy" {
                assert_eq!(service["networks"], serde_json::json!(["front"]));
                continue;
            }
            let excused = |check: &str| exceptions.get(name).is_some_and(|c| c.contains(check));
            assert_eq!(service["cap_drop"], serde_json::json!(["ALL"]), "{name}");
            assert_eq!(
                service["security_opt"],
                serde_json::json!(["no-new-privileges:true"]),
                "{name}"
            );
            assert!(
                service.get("cap_add").is_none() || excused("CKV_K8S_25"),
                "{example}: {name} adds capabilities without exception"
            );
            assert!(
                service["read_only"] == true || excused("CKV_K8S_22"),
                "{example}: {name} has a writable root without exception"
            );
            let user = service["user"].as_str().unwrap_or("0");
            assert!(
                !user.starts_with("0:") || excused("CKV_K8S_23"),
                "{example}: {name} runs as root without exception"
            );
            let limits = &service["deploy"]["resources"]["limits"];
            assert!(
                limits["cpus"].is_string() && limits["memory"].is_string(),
                "{example}: {name} has no limits"
            );
            // The directory and the databases (no route, nothing published)
            // are on the internal network only: not the proxy's.
            let networks = service["networks"].as_array().unwrap();
            if service.get("ports").is_none() && !routed(&bundle, name) {
                assert_eq!(networks, &[serde_json::json!("back")], "{example}: {name}");
            }
        }
    }
}

/// Whether the proxy routes to `service` (its nginx file names it).
fn routed(bundle: &Path, service: &str) -> bool {
    std::fs::read_to_string(bundle.join("compose/nginx/oent.conf"))
        .unwrap()
        .contains(&format!("{service}:"))
}

#[test]
fn the_readme_table_reads_back_as_the_exceptions_oent_wrote() {
    let readme = "intro\n## Sécurité\n\ntext\n\n| service | règle | contrôles | raison |\n|---|---|---|---|\n| `openent-messagerie` | `run-as-root` | CKV_K8S_23, CKV_K8S_40 | Dovecot démarre en root |\n| `openent-messagerie` | `writable-root-filesystem` | CKV_K8S_22 | écrit \\| dans /etc |\n\n## Déployer\n| `x` | `y` | CKV_K8S_1 | z |\n";
    let read = readme_exceptions(readme);
    let checks: Vec<&str> = read["openent-messagerie"]
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(checks, ["CKV_K8S_22", "CKV_K8S_23", "CKV_K8S_40"]);
    assert_eq!(read.len(), 1, "rows after the section are not exceptions");
    assert_eq!(
        workload("StatefulSet.idf-lilie.openent-annuaire"),
        Some("openent-annuaire")
    );
    assert_eq!(workload("NetworkPolicy.idf-lilie.openent-annuaire"), None);
}

/// A module may pin its image by digest: the lock records it (so a
/// reviewer sees which bytes each container runs), the bundle deploys it,
/// and the README lists no `image-by-tag` exception for it.
#[test]
fn an_image_pinned_by_digest_is_in_the_lock_and_the_bundle_and_excused_nothing() {
    let fixture = Path::new(ROOT).join("tests/fixtures/deploy/pinned");
    let test = support::Test::new().copy(&fixture, ".");
    let test = support::registry::publish_tree(test, "registry", "openent", "modules");
    let image = "docker.io/library/nginx:1.27@sha256:0a399eb16751829e1af26fea27b20c3ec28d7ab1fb72182879dcae1cca21206a";
    let test = test
        .args(["build", ".", "-o", "out"])
        .run()
        .status(0)
        .then();
    let lock = std::fs::read_to_string(test.path().join("oent.lock")).unwrap();
    assert!(
        lock.contains(&format!("    image: '{image}'\n")),
        "the lock records the digest:\n{lock}"
    );
    let services =
        std::fs::read_to_string(test.path().join("out/kubernetes/services.yaml")).unwrap();
    assert!(
        services.contains(&format!("image: '{image}'")),
        "{services}"
    );
    let readme = std::fs::read_to_string(test.path().join("out/README.md")).unwrap();
    assert_eq!(
        readme_exceptions(&readme).get("openent-store"),
        None,
        "{readme}"
    );
}

//! The GitLab CI template (templates/ci/gitlab-ci.yml) and the image it runs
//! (the Containerfile at the repository's root): the template names the
//! image of this version of oent, has `workflow:rules` that keep a merge
//! request's branch from running two pipelines, and its reports name files
//! relative to the repository's root; the Containerfile, read by BuildKit's
//! own parser (the `dockerfile` Python package, in .ci/venv), is a
//! multi-stage build of the release binary on debian:trixie-slim. Its jobs
//! run against an example in tests/examples.rs, which also validates the
//! template against GitLab's CI schema.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::{Test, oent, tools, venv_tool};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn template() -> Value {
    let text = std::fs::read_to_string(Path::new(ROOT).join("templates/ci/gitlab-ci.yml")).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

#[test]
fn a_merge_request_runs_one_pipeline_not_two() {
    let ci = template();
    let rules = ci["workflow"]["rules"].as_array().expect("workflow:rules");
    let conditions: Vec<(&str, Option<&str>)> = rules
        .iter()
        .map(|r| (r["if"].as_str().unwrap(), r["when"].as_str()))
        .collect();
    assert_eq!(
        conditions,
        [
            ("$CI_PIPELINE_SOURCE == \"merge_request_event\"", None),
            // A branch with an open merge request has the MR's pipeline only.
            (
                "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS",
                Some("never")
            ),
            ("$CI_COMMIT_BRANCH", None),
            ("$CI_COMMIT_TAG", None),
        ]
    );
}

/// The jobs run the image of the Containerfile at this version of oent (the
/// one the include line pins), never a placeholder registry.
#[test]
fn the_template_runs_the_image_this_version_builds() {
    let ci = template();
    let image = ci["variables"]["OENT_IMAGE"].as_str().unwrap();
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(image, format!("$CI_REGISTRY/openent/oent:{version}"));
    assert_eq!(ci[".oent"]["image"], "$OENT_IMAGE");
    let text = std::fs::read_to_string(Path::new(ROOT).join("templates/ci/gitlab-ci.yml")).unwrap();
    assert!(
        text.contains(&format!("/-/raw/v{version}/templates/ci/gitlab-ci.yml")),
        "the include line pins this version"
    );
    let containerfile = std::fs::read_to_string(Path::new(ROOT).join("Containerfile")).unwrap();
    assert!(
        containerfile.contains(&format!("\"$CI_REGISTRY/openent/oent:{version}\"")),
        "the Containerfile's build line tags the image the template runs"
    );
}

/// The Containerfile as BuildKit parses it: (instruction, flags, arguments).
fn containerfile() -> Vec<(String, Vec<String>, Vec<String>)> {
    let script = r#"
import json, sys, dockerfile
print(json.dumps([[c.cmd, list(c.flags), list(c.value)] for c in dockerfile.parse_file(sys.argv[1])]))
"#;
    let parsed = tools::run(
        Command::new(venv_tool("python"))
            .arg("-c")
            .arg(script)
            .arg(Path::new(ROOT).join("Containerfile")),
    );
    serde_json::from_str(&parsed).unwrap()
}

#[test]
fn the_containerfile_builds_the_release_binary_onto_debian_trixie_slim() {
    let commands = containerfile();
    let stages: Vec<&Vec<String>> = commands
        .iter()
        .filter(|(cmd, _, _)| cmd == "FROM")
        .map(|(_, _, args)| args)
        .collect();
    assert_eq!(stages.len(), 2, "{stages:?}");
    assert!(
        stages[0][0].starts_with("docker.io/library/rust:") && stages[0][2] == "build",
        "{stages:?}"
    );
    assert_eq!(stages[1], &["docker.io/library/debian:trixie-slim"]);
    let runs: Vec<&str> = commands
        .iter()
        .filter(|(cmd, _, _)| cmd == "RUN")
        .map(|(_, _, args)| args[0].as_str())
        .collect();
    assert!(
        runs[0].contains("cargo build --release --locked --bin oent"),
        "{runs:?}"
    );
    let copies: Vec<(&[String], &[String])> = commands
        .iter()
        .filter(|(cmd, _, _)| cmd == "COPY")
        .map(|(_, flags, args)| (flags.as_slice(), args.as_slice()))
        .collect();
    let from_build = |from: &str, to: &str| {
        copies
            .iter()
            .any(|(flags, args)| flags == &["--from=build"] && args == &[from, to])
    };
    assert!(from_build(
        "/src/target/release/oent",
        "/usr/local/bin/oent"
    ));
    assert!(from_build("/out/man/", "/usr/share/man/man1/"));
    assert!(from_build(
        "/out/completions/oent",
        "/usr/share/bash-completion/completions/oent"
    ));
    // The image has no ENTRYPOINT: GitLab runs the job's script in its shell.
    assert!(commands.iter().all(|(cmd, _, _)| cmd != "ENTRYPOINT"));
    // What the build stage runs of oent itself works (here, with the debug binary).
    let out = tempfile::tempdir().unwrap();
    for run in runs[0].split("&&").map(str::trim) {
        let Some(args) = run.strip_prefix("target/release/oent ") else {
            continue;
        };
        let args = args.replace("/out", &out.path().display().to_string());
        let (args, redirect) = args.split_once(" > ").unwrap_or((&args, ""));
        std::fs::create_dir_all(out.path().join("man")).unwrap();
        std::fs::create_dir_all(out.path().join("completions")).unwrap();
        let output = Command::new(oent())
            .args(args.split_whitespace())
            .output()
            .unwrap();
        assert!(output.status.success(), "{run}: {output:?}");
        if !redirect.is_empty() {
            assert!(!output.stdout.is_empty(), "{run}");
        }
    }
    assert!(out.path().join("man/oent.1").is_file());
}

/// The lint job's script, run as a runner would with `OENT_DIST` an
/// absolute path: the Code Quality and JUnit reports still name files from
/// the repository's root, as GitLab needs to place them in the diff.
#[test]
fn reports_name_files_relative_to_the_repository_root() {
    let ci = template();
    let project = tempfile::tempdir().unwrap();
    Test::at(project.path())
        .args(["new", "module", "openent/propre"])
        .run()
        .status(0);
    let broken = project.path().join("modules/openent/casse");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("module.yaml"),
        "schema: oent/module/v1\nname: openent/casse\nversion: 1.0.0\nlicence: CECILL-2.1\n\
         summary: casse\ncategory: pedagogy\naudiences: [eleve]\nservce: {}\n",
    )
    .unwrap();
    let (_, mut job) = support::gitlab_job(&ci, "oent-lint", project.path(), project.path());
    let output = job.output().unwrap();
    // The JUnit run decides the job: the module has errors.
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let issues: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(project.path().join("gl-code-quality.json")).unwrap(),
    )
    .unwrap();
    assert!(!issues.is_empty());
    for issue in &issues {
        assert_eq!(
            issue["location"]["path"], "modules/openent/casse/module.yaml",
            "{issue:#}"
        );
    }
    let junit = std::fs::read_to_string(project.path().join("oent-lint.xml")).unwrap();
    assert!(
        junit.contains("name=\"modules/openent/casse/module.yaml\""),
        "{junit}"
    );
    assert!(
        !junit.contains(&project.path().display().to_string()),
        "{junit}"
    );
}

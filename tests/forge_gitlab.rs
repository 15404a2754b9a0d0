//! `oent publish --to gitlab:…`, driven against a loopback GitLab that
//! checks each request against GitLab's documented API and answers as
//! GitLab does (tests/gitlab_support). Dropping the server fails the test
//! if the client sent anything GitLab does not document.

mod gitlab_support;
mod support;

use std::path::Path;

use axum::http::Method;
use gitlab_support::{GitLab, JOB_TOKEN, PRIVATE_TOKEN, REPORTER_TOKEN};
use serde_json::json;
use sha2::{Digest, Sha256};
use support::registry::write_module;
use support::{Output, Test};

/// The two modules of most tests: portail requires annuaire.
fn two_modules(dir: &Path) {
    write_module(
        dir,
        "openent/portail",
        "1.0.0",
        "requires: { openent/annuaire: \"^1\" }\n",
    );
    write_module(dir, "openent/annuaire", "1.0.0", "");
}

/// Runs `oent publish src --to TO ARGS…` with only the given tokens set.
fn publish(dir: &Path, to: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut test = Test::at(dir)
        .args(["publish", "src", "--to", to])
        .arg_list(args)
        .env("CI", "true");
    for (k, v) in env {
        test = test.env(k, v);
    }
    test.run()
}

fn with_token(dir: &Path, gitlab: &GitLab) -> Output {
    publish(dir, &gitlab.to(), &[], &[("OENT_TOKEN", PRIVATE_TOKEN)])
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The requests of one module, in the order the client sends them.
fn module_requests(project: &str, package: &str, file: &str) -> Vec<String> {
    let url = format!("{project}/packages/generic/{package}/1.0.0/{file}");
    vec![
        format!("GET {url}"),
        format!("PUT {url}?select=package_file"),
        format!("GET {url}.sha256"),
        format!("PUT {url}.sha256?select=package_file"),
        format!("POST {project}/releases"),
    ]
}

#[test]
fn publishes_in_dependency_order_with_checksums_and_releases_and_a_rerun_skips_all() {
    let dir = tempfile::tempdir().unwrap();
    let gitlab = GitLab::start();
    gitlab.push_tags(&["annuaire-v1.0.0", "portail-v1.0.0"]);
    two_modules(dir.path());

    let out = with_token(dir.path(), &gitlab).status(0);
    let project = "/api/v4/projects/42";
    let mut expected = module_requests(project, "openent-annuaire", "annuaire-1.0.0.tar.gz");
    expected.extend(module_requests(
        project,
        "openent-portail",
        "portail-1.0.0.tar.gz",
    ));
    assert_eq!(gitlab.lines(), expected);
    for request in gitlab.requests() {
        assert_eq!(
            request.auth,
            Some(("PRIVATE-TOKEN", PRIVATE_TOKEN.to_owned())),
            "{}",
            request.line()
        );
    }
    assert!(
        out.stdout.contains("2 published, 0 already there"),
        "{}",
        out.stdout
    );

    // The archive, and its .sha256 in sha256sum's format.
    let archive = gitlab
        .file("openent-annuaire", "1.0.0", "annuaire-1.0.0.tar.gz")
        .unwrap();
    assert_eq!(&archive[..2], &[0x1f, 0x8b], "a gzip archive");
    let checksum = gitlab
        .file("openent-annuaire", "1.0.0", "annuaire-1.0.0.tar.gz.sha256")
        .unwrap();
    assert_eq!(
        String::from_utf8(checksum).unwrap(),
        format!("{}  annuaire-1.0.0.tar.gz\n", sha256(&archive))
    );

    // The release of each module's tag links both files.
    let post = &gitlab.requests()[4];
    assert_eq!(post.content_type.as_deref(), Some("application/json"));
    let body = post.json();
    assert_eq!(body["tag_name"], "annuaire-v1.0.0");
    assert_eq!(body["name"], "openent/annuaire 1.0.0");
    assert!(body.get("ref").is_none(), "the tag exists: no ref");
    let description = body["description"].as_str().unwrap();
    assert!(description.contains("`openent/annuaire`"), "{description}");
    assert!(description.contains("CECILL-2.1"), "{description}");
    let file_url = format!(
        "{}/packages/generic/openent-annuaire/1.0.0/annuaire-1.0.0.tar.gz",
        gitlab.project_url()
    );
    assert_eq!(
        body["assets"]["links"],
        json!([
            {
                "name": "annuaire-1.0.0.tar.gz",
                "url": file_url,
                "direct_asset_path": "/annuaire-1.0.0.tar.gz",
                "link_type": "package",
            },
            {
                "name": "annuaire-1.0.0.tar.gz.sha256",
                "url": format!("{file_url}.sha256"),
                "direct_asset_path": "/annuaire-1.0.0.tar.gz.sha256",
                "link_type": "other",
            },
        ])
    );
    assert!(gitlab.release("portail-v1.0.0").is_some());

    // A rerun uploads nothing: GitLab keeps duplicates, so the client must
    // look first; the releases exist (409) and link the same archives.
    gitlab.clear_requests();
    let again = with_token(dir.path(), &gitlab).status(0);
    assert!(
        again.stdout.contains("0 published, 2 already there"),
        "{}",
        again.stdout
    );
    let lines = gitlab.lines();
    assert!(!lines.iter().any(|l| l.starts_with("PUT")), "{lines:#?}");
    assert_eq!(
        lines[2..5],
        [
            format!("{project}/releases"),
            format!("{project}/releases/annuaire-v1.0.0"),
            format!("{project}/packages/generic/openent-portail/1.0.0/portail-1.0.0.tar.gz"),
        ]
        .iter()
        .zip(["POST", "GET", "GET"])
        .map(|(path, method)| format!("{method} {path}"))
        .collect::<Vec<_>>()
    );
    assert_eq!(
        gitlab.state().files.values().map(Vec::len).sum::<usize>(),
        4,
        "one upload of each file"
    );
}

#[test]
fn in_gitlab_ci_the_job_token_is_sent_and_a_project_path_works_as_id() {
    let dir = tempfile::tempdir().unwrap();
    let gitlab = GitLab::start();
    gitlab.push_tags(&["annuaire-v1.0.0"]);
    write_module(dir.path(), "openent/annuaire", "1.0.0", "");

    let to = format!("gitlab:{}", gitlab.project_url_by_path());
    publish(dir.path(), &to, &[], &[("CI_JOB_TOKEN", JOB_TOKEN)]).status(0);
    let requests = gitlab.requests();
    assert_eq!(requests.len(), 5);
    for request in &requests {
        assert_eq!(request.auth, Some(("JOB-TOKEN", JOB_TOKEN.to_owned())));
        assert!(
            request
                .path
                .starts_with("/api/v4/projects/adullact%2Fopenent-modules/"),
            "{}",
            request.path
        );
    }
    // Links are absolute URLs of the project as it was named.
    let links = &gitlab.release("annuaire-v1.0.0").unwrap()["assets"]["links"];
    assert!(
        links[0]["url"]
            .as_str()
            .unwrap()
            .starts_with(&gitlab.project_url_by_path())
    );
}

#[test]
fn a_wrong_token_or_one_without_the_rights_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let gitlab = GitLab::start();
    two_modules(dir.path());

    let out = publish(
        dir.path(),
        &gitlab.to(),
        &[],
        &[("OENT_TOKEN", "glpat-revoked")],
    )
    .status(2);
    let err = out.stderr;
    assert!(err.contains("answered 401: 401 Unauthorized"), "{err}");
    assert!(err.contains("help: the token is missing, wrong"), "{err}");
    assert!(err.contains("`api` scope"), "{err}");
    assert_eq!(gitlab.requests().len(), 1, "stops at the first refusal");

    // A Reporter may read (the look-up passes) but not upload.
    gitlab.clear_requests();
    let out = publish(
        dir.path(),
        &gitlab.to(),
        &[],
        &[("OENT_TOKEN", REPORTER_TOKEN)],
    )
    .status(2);
    let err = out.stderr;
    assert!(err.contains("PUT http://"), "{err}");
    assert!(err.contains("answered 403: 403 Forbidden"), "{err}");
    assert!(err.contains("Developer role"), "{err}");

    // A project that does not exist (or that the token cannot see).
    let to = gitlab.to().replace("/projects/42", "/projects/43");
    let out = publish(dir.path(), &to, &[], &[("OENT_TOKEN", PRIVATE_TOKEN)]).status(2);
    let err = out.stderr;
    assert!(err.contains("404 Project Not Found"), "{err}");
    assert!(err.contains("help: no such project"), "{err}");
}

#[test]
fn a_version_already_published_with_other_bytes_is_refused_before_uploading() {
    let dir = tempfile::tempdir().unwrap();
    let gitlab = GitLab::start();
    gitlab.push_tags(&["annuaire-v1.0.0"]);
    write_module(dir.path(), "openent/annuaire", "1.0.0", "");
    with_token(dir.path(), &gitlab).status(0);

    write_module(
        dir.path(),
        "openent/annuaire",
        "1.0.0",
        "description: \"changed\"\n",
    );
    gitlab.clear_requests();
    let out = with_token(dir.path(), &gitlab).status(2);
    let err = out.stderr;
    assert!(err.contains("already holds other bytes"), "{err}");
    assert!(
        err.contains("bump the version of openent/annuaire 1.0.0"),
        "{err}"
    );
    assert_eq!(
        gitlab.lines(),
        ["GET /api/v4/projects/42/packages/generic/openent-annuaire/1.0.0/annuaire-1.0.0.tar.gz"]
    );
}

#[test]
fn a_server_error_on_the_second_module_keeps_the_first_and_a_rerun_completes() {
    let dir = tempfile::tempdir().unwrap();
    let gitlab = GitLab::start();
    gitlab.push_tags(&["annuaire-v1.0.0", "portail-v1.0.0"]);
    two_modules(dir.path());
    gitlab.fail(Method::PUT, "openent-portail", 500, 1);

    let out = with_token(dir.path(), &gitlab).status(2);
    let err = out.stderr;
    assert!(err.contains("answered 500"), "{err}");
    assert!(err.contains("publish again later"), "{err}");
    assert!(gitlab.release("annuaire-v1.0.0").is_some());
    assert!(gitlab.release("portail-v1.0.0").is_none());
    assert!(
        gitlab
            .file("openent-portail", "1.0.0", "portail-1.0.0.tar.gz")
            .is_none()
    );

    let again = with_token(dir.path(), &gitlab).status(0);
    let printed = again.stdout;
    assert!(
        printed.contains("1 published, 1 already there"),
        "{printed}"
    );
    assert!(
        printed.contains("already published openent/annuaire 1.0.0"),
        "{printed}"
    );
    assert!(gitlab.release("portail-v1.0.0").is_some());
}

#[test]
fn a_missing_tag_is_explained_and_ref_lets_gitlab_create_it() {
    let dir = tempfile::tempdir().unwrap();
    let gitlab = GitLab::start();
    write_module(dir.path(), "openent/annuaire", "1.0.0", "");

    let out = with_token(dir.path(), &gitlab).status(2);
    let err = out.stderr;
    assert!(err.contains("answered 422: Ref is not specified"), "{err}");
    assert!(err.contains("--ref"), "{err}");

    gitlab.clear_requests();
    publish(
        dir.path(),
        &gitlab.to(),
        &[
            "--ref",
            "main",
            "--tag-format",
            "{namespace}-{name}-{version}",
        ],
        &[("OENT_TOKEN", PRIVATE_TOKEN)],
    )
    .status(0);
    let post = gitlab
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(post.json()["ref"], "main");
    assert_eq!(post.json()["tag_name"], "openent-annuaire-1.0.0");
    assert!(gitlab.state().tags.contains("openent-annuaire-1.0.0"));
}

#[test]
fn what_gitlab_would_refuse_is_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let gitlab = GitLab::start();
    two_modules(dir.path());

    // A tag format that makes tags git cannot hold.
    let out = publish(
        dir.path(),
        &gitlab.to(),
        &["--tag-format", "{name} v{version}"],
        &[("OENT_TOKEN", PRIVATE_TOKEN)],
    )
    .status(2);
    let err = out.stderr;
    assert!(
        err.contains("GitLab would refuse the tag `annuaire v1.0.0`"),
        "{err}"
    );

    // No token at all.
    let out = publish(dir.path(), &gitlab.to(), &[], &[]).status(2);
    assert!(out.stderr.contains("CI_JOB_TOKEN"), "{}", out.stderr);

    // A token in clear to a remote host; a URL that is no project.
    for to in [
        "gitlab:http://gitlab.example/api/v4/projects/42",
        "gitlab:https://gitlab.example/projects/42",
    ] {
        let out = publish(dir.path(), to, &[], &[("OENT_TOKEN", PRIVATE_TOKEN)]).status(2);
        assert!(
            out.stderr.contains("is not a GitLab project"),
            "{}",
            out.stderr
        );
    }
    assert!(gitlab.requests().is_empty(), "{:#?}", gitlab.lines());
}

#[test]
fn a_build_version_is_encoded_and_its_links_have_no_direct_path() {
    let dir = tempfile::tempdir().unwrap();
    let gitlab = GitLab::start();
    gitlab.push_tags(&["annuaire-v1.0.0+ac.1"]);
    write_module(dir.path(), "openent/annuaire", "1.0.0+ac.1", "");

    with_token(dir.path(), &gitlab).status(0);
    assert_eq!(
        gitlab.lines()[1],
        "PUT /api/v4/projects/42/packages/generic/openent-annuaire/1.0.0%2Bac.1/annuaire-1.0.0%2Bac.1.tar.gz?select=package_file"
    );
    assert!(
        gitlab
            .file(
                "openent-annuaire",
                "1.0.0+ac.1",
                "annuaire-1.0.0+ac.1.tar.gz"
            )
            .is_some()
    );
    let release = gitlab.release("annuaire-v1.0.0+ac.1").unwrap();
    assert!(
        release["assets"]["links"][0]
            .get("direct_asset_path")
            .is_none()
    );
}

#[test]
fn an_altered_upload_and_a_foreign_release_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let gitlab = GitLab::start();
    gitlab.push_tags(&["annuaire-v1.0.0"]);
    write_module(dir.path(), "openent/annuaire", "1.0.0", "");

    gitlab.state().corrupt_sha256 = true;
    let out = with_token(dir.path(), &gitlab).status(2);
    assert!(
        out.stderr.contains("the upload was altered on the way"),
        "{}",
        out.stderr
    );

    // Someone made the release by hand, without the archive.
    gitlab.state().corrupt_sha256 = false;
    gitlab.state().files.clear();
    gitlab.state().releases.insert(
        "annuaire-v1.0.0".into(),
        json!({ "tag_name": "annuaire-v1.0.0", "assets": { "links": [] } }),
    );
    let out = with_token(dir.path(), &gitlab).status(2);
    let err = out.stderr;
    assert!(
        err.contains("the release annuaire-v1.0.0 already exists on the project but does not link"),
        "{err}"
    );
    assert!(err.contains("it links: nothing"), "{err}");
}

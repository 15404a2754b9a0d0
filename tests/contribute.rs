//! Forks and contributions end to end: `oent fork`, reversal debt in
//! `oent build` and `oent licences`, `--deny-unreversed`, and `oent
//! contribute` against real git servers on loopback: `git daemon` (push,
//! bundle, patches) and `git http-backend` behind nginx and fcgiwrap (push
//! over smart HTTP), with the bad inputs of issue 10, a push rejected as
//! non-fast-forward and one refused by the server among them; https (a
//! test CA, basic authentication) and ssh (sshd, ssh-agent); merge
//! requests on the loopback GitLab of `gitlab_support`.

mod git_support;
mod github_support;
mod gitlab_support;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use git_support::{GitDaemon, GitHttp, hook};
use github_support::GitHub;
use gitlab_support::{GitLab, PRIVATE_TOKEN, PROJECT_ID, REPORTER_TOKEN};
use support::registry::publish_tree;
use support::tools::{required, run};
use support::{Test, free_port};

const AUTHOR: &str = "Agent Test <agent@example.org>";

/// `git` with a fixed identity, in `dir`.
fn git(dir: &Path) -> Command {
    let mut c = Command::new(required("git", "git"));
    c.current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Upstream")
        .env("GIT_AUTHOR_EMAIL", "upstream@example.org")
        .env("GIT_COMMITTER_NAME", "Upstream")
        .env("GIT_COMMITTER_EMAIL", "upstream@example.org")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir);
    c
}

fn module_yaml(name: &str, licence: &str, repository: Option<&str>) -> String {
    format!(
        "schema: oent/module/v1\nname: {name}\nversion: 1.0.0\nlicence: {licence}\nsummary: Module x\n\
         category: pedagogie\naudiences: [eleve]\n{}",
        repository.map_or(String::new(), |r| format!("repository: {r}\n"))
    )
}

const README: &str = "Module x\n\nLigne 1\nLigne 2\n";

/// An upstream bare repository `git/x.git` holding the module at tag
/// `x-v1.0.0` (its files under `modules/x/`), and the same module published
/// to the registry `openent/`, and a distribution `dist/` using it.
fn setup(test: Test, repository: Option<&str>, tag: &str) -> Test {
    let root = test.path().to_path_buf();
    let work = root.join("upstream-work");
    std::fs::create_dir_all(work.join("modules/x")).unwrap();
    let manifest = module_yaml("openent/x", "CECILL-2.1", repository);
    std::fs::write(work.join("modules/x/module.yaml"), &manifest).unwrap();
    std::fs::write(work.join("modules/x/README.md"), README).unwrap();
    std::fs::write(work.join("README.md"), "Open ENT x\n").unwrap();
    run(git(&work).args(["init", "-q", "-b", "main"]));
    run(git(&work).args(["add", "."]));
    run(git(&work).args(["commit", "-q", "-m", "x 1.0.0"]));
    run(git(&work).args(["tag", tag]));
    std::fs::create_dir_all(root.join("git")).unwrap();
    run(git(&root).args(["clone", "-q", "--bare", "upstream-work", "git/x.git"]));
    let test = test
        .write("src/x/module.yaml", &manifest)
        .write("src/x/README.md", README);
    publish_tree(test, "openent", "openent", "src")
        .env("OENT_CACHE_DIR", "cache")
        .write(
            "dist/distribution.yaml",
            "
            schema: oent/distribution/v1
            name: idf/lilie
            version: 1.0.0
            collectivite: { nom: Région Île-de-France, type: region }
            registries:
              - { name: openent, path: ../openent }
            modules:
              openent/x: \"^1\"     # the module to fork
            settings: { domaine: ent.example.fr }
            etablissements:
              - { uai: \"0750655E\", nom: A, type: lycee, commune: Paris, departement: \"75\", secteur: public }
            ",
        )
}

fn forked(test: Test) -> Test {
    test.args(["fork", "openent/x", "dist"])
        .run()
        .status(0)
        .stderr_contains("forked openent/x@1.0.0 as idf/x in dist/modules/idf/x")
        .then()
}

fn edit(test: &Test, line: &str) {
    let path = test.path().join("dist/modules/idf/x/README.md");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(line);
    std::fs::write(path, text).unwrap();
}

fn bare(test: &Test) -> PathBuf {
    test.path().join("git/x.git")
}

#[test]
fn a_fork_is_used_by_the_build_and_its_debt_is_reported_until_contributed() {
    let test = Test::new();
    let daemon = test.git_daemon();
    let test = forked(setup(test, Some(&daemon.url("x.git")), "x-v1.0.0"));
    let dist = test.path().join("dist");
    let text = std::fs::read_to_string(dist.join("distribution.yaml")).unwrap();
    assert!(
        text.contains("  idf/x: \"^1\"     # the module to fork"),
        "{text}"
    );
    assert!(text.contains("- { name: idf, path: registry }"), "{text}");
    let fork = std::fs::read_to_string(dist.join("modules/idf/x/module.yaml")).unwrap();
    assert!(fork.contains("name: idf/x\nversion: 1.0.0\nfork-of: openent/x@1.0.0"));
    assert!(fork.contains("licence: CECILL-2.1") && fork.contains("repository: git://"));
    let lock = std::fs::read_to_string(dist.join("oent.lock")).unwrap();
    assert!(
        lock.contains("name: idf/x") && !lock.contains("openent/x"),
        "{lock}"
    );

    // Identical to its base: no debt.
    let test = test
        .args(["build", "dist", "-o", "out"])
        .run()
        .status(0)
        .stderr_contains("built out (compose): 1 modules");
    assert!(!test.stderr.contains("W005"));

    // Changed: debt reported, and denied for CI.
    let test = test.then();
    edit(&test, "Ligne 3 ajoutée par la Région\n");
    let test = test
        .args(["build", "dist", "-o", "out"])
        .run()
        .status(0)
        .stderr_contains("warning[W005/reversal-debt]: dist/distribution.yaml: idf/x (fork of openent/x@1.0.0): 1 file(s) changed, +1 −0 lines, not contributed")
        .then()
        .args(["build", "dist", "-o", "out2", "--deny-unreversed"])
        .run()
        .status(1)
        .stderr_contains("error[E040/unreversed-fork]: dist/distribution.yaml: idf/x (fork of openent/x@1.0.0)")
        .then()
        .args(["licences", "dist"])
        .run()
        .status(0)
        .stdout_contains("| openent/x@1.0.0 | unreversed: 1 file(s) changed, +1 −0 lines |")
        .then();
    assert!(!test.path().join("out2").exists());

    // Contributed by push: a branch upstream, recorded, no more debt.
    let test = test
        .args(["contribute", "idf/x", "dist", "--push", "--author", AUTHOR])
        .run()
        .status(0)
        .stderr_contains("contributed idf/x (1 file(s) changed, +1 −0 lines) on openent/x@1.0.0: branch oent/region-ile-de-france/x-1.0.0")
        .then();
    let message = run(git(&bare(&test)).args([
        "log",
        "-1",
        "--format=%an <%ae>%n%B",
        "oent/region-ile-de-france/x-1.0.0",
    ]));
    assert!(
        message.starts_with(&format!(
            "{AUTHOR}\nRégion Île-de-France : reversement de idf/x basé sur openent/x@1.0.0\n"
        )),
        "{message}"
    );
    assert!(
        message.contains(&format!("Signed-off-by: {AUTHOR}")),
        "{message}"
    );
    let readme = run(git(&bare(&test)).args([
        "show",
        "oent/region-ile-de-france/x-1.0.0:modules/x/README.md",
    ]));
    assert_eq!(readme, format!("{README}Ligne 3 ajoutée par la Région\n"));
    let upstream_manifest = run(git(&bare(&test)).args([
        "show",
        "oent/region-ile-de-france/x-1.0.0:modules/x/module.yaml",
    ]));
    assert!(
        upstream_manifest.contains("name: openent/x\n") && !upstream_manifest.contains("fork-of")
    );
    let record = std::fs::read_to_string(test.path().join("dist/contributions.yaml")).unwrap();
    assert!(
        record.contains("  idf/x:\n    - base: openent/x@1.0.0\n")
            && record.contains("method: push"),
        "{record}"
    );
    run(Command::new(support::venv_tool("check-jsonschema"))
        .arg("--schemafile")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/contributions.schema.json"))
        .arg(test.path().join("dist/contributions.yaml")));
    let test = test
        .args(["build", "dist", "-o", "out3", "--deny-unreversed"])
        .run()
        .status(0)
        .then()
        .args(["licences", "dist"])
        .run()
        .status(0)
        .stdout_contains(
            "reversed: 1 file(s) changed, +1 −0 lines (push, oent/region-ile-de-france/x-1.0.0",
        )
        .then();

    // Changed again: the branch exists upstream with other content, never forced.
    edit(&test, "Ligne 4\n");
    test.args(["contribute", "idf/x", "dist", "--push", "--author", AUTHOR])
        .run()
        .status(2)
        .stderr_contains("already has a branch `oent/region-ile-de-france/x-1.0.0` with other content: oent never forces a push");
    drop(daemon);
}

#[test]
fn a_bundle_and_a_patch_series_apply_upstream() {
    let test = Test::new();
    let daemon = test.git_daemon();
    let test = forked(setup(test, Some(&daemon.url("x.git")), "v1.0.0"));
    edit(&test, "Ligne 3\n");
    let test = test
        .args([
            "contribute",
            "idf/x",
            "dist",
            "--bundle",
            "x.bundle",
            "--author",
            AUTHOR,
        ])
        .run()
        .status(0)
        .then();
    let clone = test.path().join("check");
    run(git(test.path()).args(["clone", "-q", "git/x.git", "check"]));
    run(git(&clone).args(["bundle", "verify", "../x.bundle"]));
    run(git(&clone).args([
        "fetch",
        "-q",
        "../x.bundle",
        "oent/region-ile-de-france/x-1.0.0:contrib",
    ]));
    assert_eq!(
        run(git(&clone).args(["show", "contrib:modules/x/README.md"])),
        format!("{README}Ligne 3\n")
    );

    let test = test
        .args([
            "contribute",
            "idf/x",
            "dist",
            "--patches",
            "patches",
            "--author",
            AUTHOR,
        ])
        .run()
        .status(0)
        .then();
    let patches: Vec<PathBuf> = support::walk(&test.path().join("patches"));
    assert_eq!(patches.len(), 1, "{patches:?}");
    let clean = test.path().join("clean");
    run(git(test.path()).args(["clone", "-q", "git/x.git", "clean"]));
    run(git(&clean).args(["checkout", "-q", "v1.0.0"]));
    run(git(&clean).arg("am").arg(&patches[0]));
    assert_eq!(
        std::fs::read_to_string(clean.join("modules/x/README.md")).unwrap(),
        format!("{README}Ligne 3\n")
    );
    let record = std::fs::read_to_string(test.path().join("dist/contributions.yaml")).unwrap();
    assert!(record.contains("method: bundle") && record.contains("method: patches"));
    drop(daemon);
}

#[test]
fn a_module_without_repository_cannot_be_forked() {
    setup(Test::new(), None, "x-v1.0.0")
        .args(["fork", "openent/x", "dist"])
        .run()
        .status(2)
        .stderr_contains(
            "openent/x 1.0.0 has no `repository`: a fork of it could never be given back upstream",
        );
}

#[test]
fn an_unreachable_upstream_is_reported() {
    let port = free_port();
    let test = forked(setup(
        Test::new(),
        Some(&format!("git://127.0.0.1:{port}/x.git")),
        "x-v1.0.0",
    ));
    edit(&test, "Ligne 3\n");
    test.args(["contribute", "idf/x", "dist", "--push", "--author", AUTHOR])
        .run()
        .status(2)
        .stderr_contains(format!(
            "cannot clone the upstream repository git://127.0.0.1:{port}/x.git"
        ));
}

#[test]
fn a_missing_base_tag_is_reported() {
    let test = Test::new();
    let daemon = test.git_daemon();
    let test = forked(setup(test, Some(&daemon.url("x.git")), "release-1"));
    edit(&test, "Ligne 3\n");
    test.args(["contribute", "idf/x", "dist", "--push", "--author", AUTHOR])
        .run()
        .status(2)
        .stderr_contains("has no tag `x-v1.0.0` nor `v1.0.0` for openent/x@1.0.0");
    drop(daemon);
}

#[test]
fn binary_files_are_refused_unless_allowed() {
    let test = Test::new();
    let daemon = test.git_daemon();
    let test = forked(setup(test, Some(&daemon.url("x.git")), "x-v1.0.0"));
    std::fs::write(
        test.path().join("dist/modules/idf/x/logo.png"),
        [0x89, b'P', b'N', b'G', 0, 1, 2],
    )
    .unwrap();
    let test = test
        .args(["build", "dist", "-o", "out"])
        .run()
        .status(0)
        .stderr_contains("1 file(s) changed, +0 −0 lines, binary: logo.png, not contributed")
        .then()
        .args(["contribute", "idf/x", "dist", "--push", "--author", AUTHOR])
        .run()
        .status(2)
        .stderr_contains(
            "idf/x changes binary files, which a reviewer cannot read in a patch: logo.png",
        )
        .then();
    test.args([
        "contribute",
        "idf/x",
        "dist",
        "--push",
        "--allow-binary",
        "--author",
        AUTHOR,
    ])
    .run()
    .status(0);
    drop(daemon);
}

#[test]
fn a_fork_that_changes_its_licence_fails_the_build() {
    let test = Test::new();
    let daemon = test.git_daemon();
    let test = forked(setup(test, Some(&daemon.url("x.git")), "x-v1.0.0"));
    let path = test.path().join("dist/modules/idf/x/module.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("licence: CECILL-2.1", "licence: MIT");
    std::fs::write(&path, text).unwrap();
    // Republished under a new version, as the registry's versions are immutable.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("version: 1.0.0", "version: 1.0.1");
    std::fs::write(&path, text).unwrap();
    test.args(["registry", "build", "dist/modules", "--to", "dist/registry"])
        .run()
        .status(0)
        .then()
        .args(["update", "--dist", "dist"])
        .run()
        .status(0)
        .then()
        .args(["build", "dist", "-o", "out"])
        .run()
        .status(1)
        .stderr_contains("error[E039/fork-licence-changed]: dist/modules/idf/x/module.yaml: idf/x is a fork of openent/x@1.0.0 under `CECILL-2.1`, but declares `MIT`: a fork keeps its base's licence");
    drop(daemon);
}

const BRANCH: &str = "oent/region-ile-de-france/x-1.0.0";

#[test]
fn a_push_goes_over_smart_http_to_git_http_backend_behind_nginx() {
    let test = Test::new();
    let server = GitHttp::start(&test.path().join("git"), &test.path().join("http"));
    let url = server.url("x.git");
    let test = forked(setup(test, Some(&url), "x-v1.0.0"));
    edit(&test, "Ligne 3 ajoutée par la Région\n");
    let test = test
        .args(["contribute", "idf/x", "dist", "--push", "--author", AUTHOR])
        .run()
        .status(0)
        .stderr_contains(format!(
            "contributed idf/x (1 file(s) changed, +1 −0 lines) on openent/x@1.0.0: branch {BRANCH} commit "
        ))
        .stderr_contains(format!("pushed to {url}; recorded in contributions.yaml"))
        .then();

    // The branch is in the bare repository nginx serves, on top of the tag.
    let message = run(git(&bare(&test)).args(["log", "-1", "--format=%an <%ae>%n%B", BRANCH]));
    assert!(
        message.starts_with(&format!(
            "{AUTHOR}\nRégion Île-de-France : reversement de idf/x basé sur openent/x@1.0.0\n"
        )) && message.contains(&format!("Signed-off-by: {AUTHOR}")),
        "{message}"
    );
    assert_eq!(
        run(git(&bare(&test)).args(["rev-parse", &format!("{BRANCH}^")])),
        run(git(&bare(&test)).args(["rev-parse", "x-v1.0.0^{commit}"]))
    );
    assert_eq!(
        run(git(&bare(&test)).args(["show", &format!("{BRANCH}:modules/x/README.md")])),
        format!("{README}Ligne 3 ajoutée par la Région\n")
    );
    let commit = run(git(&bare(&test)).args(["rev-parse", BRANCH]));
    let record = std::fs::read_to_string(test.path().join("dist/contributions.yaml")).unwrap();
    assert!(
        record.contains(&format!("upstream: \"{url}\""))
            && record.contains("method: push")
            && record.contains(&format!("commit: \"{}\"", commit.trim())),
        "{record}"
    );

    // Over HTTP, through nginx: the clone (upload-pack), then the push
    // (receive-pack), each advertised then served by the backend.
    let log = server.access_log();
    for request in [
        "GET /x.git/info/refs?service=git-upload-pack 200",
        "POST /x.git/git-upload-pack 200",
        "GET /x.git/info/refs?service=git-receive-pack 200",
        "POST /x.git/git-receive-pack 200",
    ] {
        assert!(log.iter().any(|l| l == request), "{request}: {log:#?}");
    }
    drop(server);
}

/// `git commit-tree` in the upstream bare repository: another commit on
/// the tag, with the tag's files, as another contributor's would be.
const CONCURRENT_COMMIT: &str = "export GIT_AUTHOR_NAME=Autre GIT_AUTHOR_EMAIL=autre@example.org \
     GIT_COMMITTER_NAME=Autre GIT_COMMITTER_EMAIL=autre@example.org\n\
     commit=$(echo 'Contribution concurrente' | git commit-tree 'x-v1.0.0^{tree}' -p x-v1.0.0) || exit 1\n";

/// The upstream branch was left as the other contributor pushed it, and
/// nothing was recorded: the fork still owes its difference.
fn assert_nothing_pushed(test: Test) {
    let theirs =
        run(git(&bare(&test)).args(["log", "--format=%s", &format!("x-v1.0.0..{BRANCH}")]));
    assert_eq!(theirs, "Contribution concurrente\n");
    assert!(!test.path().join("dist/contributions.yaml").exists());
    test.args(["build", "dist", "-o", "out"])
        .run()
        .status(0)
        .stderr_contains("warning[W005/reversal-debt]: dist/distribution.yaml: idf/x (fork of openent/x@1.0.0): 1 file(s) changed, +1 −0 lines, not contributed");
}

#[test]
fn a_branch_pushed_upstream_after_the_clone_is_a_rejected_non_fast_forward() {
    let test = Test::new();
    let root = test.path().to_path_buf();
    // When oent connects to push (receive-pack), someone else has just
    // pushed the same branch: it is not in oent's clone, so the earlier
    // "already has a branch" check cannot see it.
    let access_hook = root.join("access-hook");
    std::fs::write(
        &access_hook,
        format!(
            "#!/bin/sh\n[ \"$1\" = receive-pack ] || exit 0\ncd '{}' || exit 1\n\
             git show-ref --quiet --verify refs/heads/{BRANCH} && exit 0\n{CONCURRENT_COMMIT}\
             exec git update-ref refs/heads/{BRANCH} \"$commit\" ''\n",
            root.join("git/x.git").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &access_hook,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let daemon = GitDaemon::start_with_access_hook(&root.join("git"), &access_hook);
    let url = daemon.url("x.git");
    let test = forked(setup(test, Some(&url), "x-v1.0.0"));
    edit(&test, "Ligne 3\n");
    let test = test
        .args(["contribute", "idf/x", "dist", "--push", "--author", AUTHOR])
        .run()
        .status(2)
        .stderr_contains(format!(
            "{url} rejected the push of `{BRANCH}`: not a fast-forward, the branch appeared or moved upstream after oent cloned it ("
        ))
        .stderr_contains("): oent never forces a push\nhelp: ask the maintainers about that branch, or contribute with --bundle or --patches")
        .then();
    assert_nothing_pushed(test);
    drop(daemon);
}

#[test]
fn a_push_the_server_refuses_is_reported_and_not_recorded() {
    let test = Test::new();
    let server = GitHttp::start(&test.path().join("git"), &test.path().join("http"));
    let url = server.url("x.git");
    let test = forked(setup(test, Some(&url), "x-v1.0.0"));
    // While oent's push is received (its objects in quarantine, its branch
    // not yet created), a concurrent push creates the same branch: the
    // server refuses oent's update of that reference.
    hook(
        &bare(&test),
        "pre-receive",
        &format!(
            "#!/bin/sh\nunset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\n\
             {CONCURRENT_COMMIT}git update-ref refs/heads/{BRANCH} \"$commit\" ''\n"
        ),
    );
    edit(&test, "Ligne 3\n");
    let test = test
        .args(["contribute", "idf/x", "dist", "--push", "--author", AUTHOR])
        .run()
        .status(2)
        .stderr_contains(format!(
            "{url} refused the push (refs/heads/{BRANCH}: failed to update ref): oent never forces a push"
        ))
        .then();
    assert_nothing_pushed(test);
    drop(server);
}

#[test]
fn a_distribution_with_problems_is_not_forked_and_each_is_drawn_at_its_line() {
    let test = setup(
        Test::new(),
        Some("https://forge.example.org/x.git"),
        "x-v1.0.0",
    );
    let text = std::fs::read_to_string(test.path().join("dist/distribution.yaml")).unwrap();
    test.write(
        "dist/distribution.yaml",
        &text.replace("settings:", "setings:"),
    )
    .args(["fork", "openent/x", "dist"])
    .run()
    .status(1)
    .stderr_is(
        "
        error[E008/unknown-key]: unknown key `setings`
          ┌─ dist/distribution.yaml:9:1
          │
        9 │ setings: { domaine: ent.example.fr }
          │ ^^^^^^^ in `setings`
          │
          = help: did you mean `settings`?

        error: `dist/distribution.yaml` has 1 problem(s); nothing was resolved
        ",
    );
}

/// The fork's branch in the upstream bare repository, one commit on the tag
/// with the fork's line, and the record naming `url`.
fn assert_contributed(test: &Test, url: &str) {
    assert_eq!(
        run(git(&bare(test)).args(["rev-parse", &format!("{BRANCH}^")])),
        run(git(&bare(test)).args(["rev-parse", "x-v1.0.0^{commit}"]))
    );
    assert_eq!(
        run(git(&bare(test)).args(["show", &format!("{BRANCH}:modules/x/README.md")])),
        format!("{README}Ligne 3\n")
    );
    let record = std::fs::read_to_string(test.path().join("dist/contributions.yaml")).unwrap();
    assert!(
        record.contains(&format!("upstream: \"{url}\"")) && record.contains("method: push"),
        "{record}"
    );
}

/// Nothing reached the upstream repository and nothing was recorded.
fn assert_not_contributed(test: &Test) {
    let branches =
        run(git(&bare(test)).args(["for-each-ref", "--format=%(refname)", "refs/heads"]));
    assert_eq!(branches, "refs/heads/main\n");
    assert!(!test.path().join("dist/contributions.yaml").exists());
}

#[test]
fn a_push_goes_over_https_with_basic_authentication_and_a_custom_ca() {
    let test = Test::new();
    let (tls, ca) = git_support::test_tls(&test.path().join("tls"), "contributeur", "s3cret");
    let server = GitHttp::start_tls(&test.path().join("git"), &test.path().join("https"), &tls);
    let url = server.https_url("x.git");
    let test = forked(setup(test, Some(&url), "x-v1.0.0"));
    edit(&test, "Ligne 3\n");
    let contribute = |test: Test| {
        test.args(["contribute", "idf/x", "dist", "--push", "--author", AUTHOR])
            .env("OENT_GIT_USERNAME", "contributeur")
    };

    // The test CA is not trusted: refused, with how to give it.
    let test = contribute(test)
        .env("OENT_GIT_TOKEN", "s3cret")
        .run()
        .status(2)
        .stderr_contains(format!(
            "cannot clone the upstream repository: {url}: the server's TLS certificate is not trusted ("
        ))
        .stderr_contains("help: if the forge uses its own certificate authority, give its certificate: `GIT_SSL_CAINFO=ca.pem oent …`")
        .then();
    assert_not_contributed(&test);

    // A wrong password: refused at once (stdin is no terminal, nothing prompts).
    let test = contribute(test)
        .env("GIT_SSL_CAINFO", &ca)
        .env("OENT_GIT_TOKEN", "wrong")
        .run()
        .status(2)
        .stderr_contains(format!(
            "cannot clone the upstream repository: {url} refused the credentials ("
        ))
        .stderr_contains("help: over https, set OENT_GIT_TOKEN (and OENT_GIT_USERNAME)")
        .then();
    assert_not_contributed(&test);

    // The right token and the CA: cloned and pushed.
    let test = contribute(test)
        .env("GIT_SSL_CAINFO", &ca)
        .env("OENT_GIT_TOKEN", "s3cret")
        .run()
        .status(0)
        .stderr_contains(format!("pushed to {url}; recorded in contributions.yaml"))
        .then();
    assert_contributed(&test, &url);
    let record = std::fs::read_to_string(test.path().join("dist/contributions.yaml")).unwrap();
    assert!(!record.contains("s3cret"), "{record}");
    let log = server.access_log();
    for request in [
        "GET /x.git/info/refs?service=git-upload-pack 401",
        "GET /x.git/info/refs?service=git-upload-pack 200",
        "POST /x.git/git-receive-pack 200",
    ] {
        assert!(log.iter().any(|l| l == request), "{request}: {log:#?}");
    }
    drop(server);
}

#[test]
fn a_push_goes_over_ssh_with_the_agents_key_and_an_unknown_host_is_refused() {
    use git_support::ssh::{SshAgent, Sshd, client, fingerprint};
    let test = Test::new();
    let ssh_dir = test.path().join("ssh");
    let agent = SshAgent::start(&ssh_dir.join("client"));
    let sshd = Sshd::start(&ssh_dir.join("server"), &agent.public);
    let url = sshd.url(&test.path().join("git/x.git"));
    // As oent's output shows it: the test's directory is [ROOT].
    let shown = format!(
        "ssh://{}@127.0.0.1:{}[ROOT]/git/x.git",
        git_support::ssh::user(),
        sshd.port
    );
    let test = forked(setup(test, Some(&url), "x-v1.0.0"));
    edit(&test, "Ligne 3\n");
    let known_hosts = ssh_dir.join("known_hosts");
    std::fs::write(&known_hosts, "").unwrap();
    let ssh_command = client(&ssh_dir, &known_hosts);
    let contribute = |test: Test| {
        test.args(["contribute", "idf/x", "dist", "--push", "--author", AUTHOR])
            .env("GIT_SSH_COMMAND", &ssh_command)
            .env("SSH_AUTH_SOCK", &agent.socket)
    };

    // An empty known_hosts: refused, naming the fingerprint to check.
    let test = contribute(test)
        .run()
        .status(2)
        .stderr_contains(format!(
            "cannot clone the upstream repository: {shown}: the ssh host key of 127.0.0.1 is not known, so the server cannot be told from an impostor; it presents {} (ED25519)\nhelp: check that fingerprint with the forge's administrators, then add the key to ~/.ssh/known_hosts (`ssh-keyscan -p {} 127.0.0.1 >> ~/.ssh/known_hosts`)",
            fingerprint(&sshd.host_public),
            sshd.port
        ))
        .then();
    assert_not_contributed(&test);

    // Known: cloned and pushed with the agent's key.
    std::fs::write(&known_hosts, sshd.known_hosts_line()).unwrap();
    let test = contribute(test)
        .run()
        .status(0)
        .stderr_contains(format!("pushed to {shown}; recorded in contributions.yaml"))
        .then();
    assert_contributed(&test, &url);
    drop(sshd);
    drop(agent);
}

/// A fork with one more line, of a base whose upstream `git daemon`
/// serves (at `repository`, else at the daemon's URL, returned).
fn edited_fork_on_daemon(repository: Option<&str>) -> (Test, GitDaemon, String) {
    let test = Test::new();
    let daemon = test.git_daemon();
    let url = daemon.url("x.git");
    let test = forked(setup(test, Some(repository.unwrap_or(&url)), "x-v1.0.0"));
    edit(&test, "Ligne 3\n");
    (test, daemon, url)
}

#[test]
fn an_upstream_url_with_credentials_is_refused_before_anything() {
    let (test, daemon, _) = edited_fork_on_daemon(None);
    let test = test
        .args([
            "contribute",
            "idf/x",
            "dist",
            "--push",
            "--upstream",
            "https://oauth2:glpat-secret@127.0.0.1:1/x.git",
        ])
        .run()
        .status(2)
        .stderr_contains("`https://***@127.0.0.1:1/x.git` holds a password: oent records and prints upstream URLs (contributions.yaml, its messages), so they would leak\nhelp: remove them from the URL and give them the way git does")
        .stderr_lacks("glpat-secret")
        .then();
    assert_not_contributed(&test);
    drop(daemon);
}

#[test]
fn upstream_overrides_the_bases_repository() {
    let (test, daemon, url) = edited_fork_on_daemon(Some("https://forge.invalid/x.git"));
    let test = test
        .args(["contribute", "idf/x", "dist", "--push", "--author", AUTHOR])
        .arg("--upstream")
        .arg(&url)
        .run()
        .status(0)
        .then();
    assert_contributed(&test, &url);
    drop(daemon);
}

/// A contribution pushed over `git daemon` to an upstream whose
/// `pre-receive` hook is `script`; the daemon lives as long as the output.
fn push_against_hook(script: &str) -> (support::Output, String, GitDaemon) {
    let (test, daemon, url) = edited_fork_on_daemon(None);
    hook(&bare(&test), "pre-receive", script);
    let output = test
        .args(["contribute", "idf/x", "dist", "--push", "--author", AUTHOR])
        .run();
    (output, url, daemon)
}

#[test]
fn a_push_a_server_hook_rejects_shows_the_hooks_message() {
    let (output, url, daemon) = push_against_hook(
        "#!/bin/sh\necho 'Les contributions passent par une merge request.' >&2\nexit 1\n",
    );
    let test = output
        .status(2)
        .stderr_contains(format!(
            "{url} refused the push (refs/heads/{BRANCH}: pre-receive hook declined): oent never forces a push\nthe server said:\n  Les contributions passent par une merge request.\nhelp: do what the server asks"
        ))
        .then();
    assert_not_contributed(&test);
    drop(daemon);
}

#[test]
fn a_network_cut_mid_push_records_nothing() {
    // The objects are received; then the connection dies (the receiving
    // process is killed) before any reference is updated.
    let (output, url, daemon) = push_against_hook("#!/bin/sh\nkill -9 $PPID\nsleep 5\n");
    let test = output
        .status(2)
        .stderr_contains(format!("pushing `{BRANCH}` to {url} failed: "))
        .stderr_contains("help: nothing was recorded; check write access and the network, then run oent contribute again")
        .then();
    assert_not_contributed(&test);
    test.args(["build", "dist", "-o", "out"])
        .run()
        .status(0)
        .stderr_contains(
            "idf/x (fork of openent/x@1.0.0): 1 file(s) changed, +1 −0 lines, not contributed",
        );
    drop(daemon);
}

/// A fork edited, its upstream served by `git daemon`, and the loopback
/// GitLab whose project that repository is.
fn on_gitlab() -> (Test, GitDaemon, GitLab) {
    let (test, daemon, _) = edited_fork_on_daemon(None);
    let gitlab = GitLab::start().with_repository(&bare(&test));
    (test, daemon, gitlab)
}

fn contribute_with_merge_request(test: Test, gitlab: &GitLab, token: &str) -> Test {
    test.args(["contribute", "idf/x", "dist", "--author", AUTHOR])
        .arg(format!("--merge-request={}", gitlab.to()))
        .args(["--label", "reversement", "--label", "idf"])
        .env("OENT_TOKEN", token)
}

const MR_URL: &str = "http://gitlab.example/adullact/openent-modules/-/merge_requests/1";

/// The fields of a JSON object, sorted.
fn field_names(body: &serde_json::Value) -> Vec<&str> {
    body.as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// Contributed with the merge request !1 `action` (opened, updated), its URL printed.
fn merge_request_done(test: Test, gitlab: &GitLab, action: &str) -> Test {
    contribute_with_merge_request(test, gitlab, PRIVATE_TOKEN)
        .run()
        .status(0)
        .stdout_is(&format!("{MR_URL}\n"))
        .stderr_contains(format!("merge request !1 {action}:"))
        .then()
}

#[test]
fn a_merge_request_is_opened_then_updated_never_duplicated() {
    let (test, daemon, gitlab) = on_gitlab();
    let test = merge_request_done(test, &gitlab, "opened");
    let list = format!(
        "GET /api/v4/projects/{PROJECT_ID}/merge_requests?source_branch=oent%2Fregion-ile-de-france%2Fx-1.0.0&state=opened"
    );
    let create = format!("POST /api/v4/projects/{PROJECT_ID}/merge_requests");
    assert_eq!(gitlab.lines(), [list.clone(), create]);
    let requests = gitlab.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.auth == Some(("PRIVATE-TOKEN", PRIVATE_TOKEN.into())))
    );
    let body = requests[1].json();
    let fields = field_names(&body);
    assert_eq!(
        fields,
        [
            "description",
            "labels",
            "source_branch",
            "target_branch",
            "title"
        ]
    );
    assert_eq!(body["source_branch"], BRANCH);
    assert_eq!(body["target_branch"], "main");
    assert_eq!(
        body["title"],
        "Région Île-de-France : reversement de idf/x basé sur openent/x@1.0.0"
    );
    assert_eq!(
        body["description"],
        format!(
            "idf/lilie — 1 file(s) changed, +1 −0 lines.\nDifférence publiée dans idf/x 1.0.0.\n\nSigned-off-by: {AUTHOR}"
        )
    );
    assert_eq!(body["labels"], "reversement,idf");
    assert_contributed(&test, &daemon.url("x.git"));

    // Again: the branch is already upstream with the same files (not pushed
    // twice), and the open merge request is updated.
    gitlab.clear_requests();
    let branch_before = run(git(&bare(&test)).args(["rev-parse", BRANCH]));
    let test = merge_request_done(test, &gitlab, "updated");
    let update = format!("PUT /api/v4/projects/{PROJECT_ID}/merge_requests/1");
    assert_eq!(gitlab.lines(), [list, update]);
    let body = gitlab.requests()[1].json();
    let fields = field_names(&body);
    assert_eq!(fields, ["description", "labels", "target_branch", "title"]);
    assert_eq!(gitlab.merge_requests().len(), 1);
    assert_eq!(
        gitlab.merge_requests()[0]["labels"],
        serde_json::json!(["idf", "reversement"])
    );
    assert_eq!(
        run(git(&bare(&test)).args(["rev-parse", BRANCH])),
        branch_before
    );
    // Recorded once.
    let record = std::fs::read_to_string(test.path().join("dist/contributions.yaml")).unwrap();
    assert_eq!(
        record.matches("- base: openent/x@1.0.0").count(),
        1,
        "{record}"
    );
    drop(daemon);
}

/// A merge request GitLab refuses: the branch stays pushed and recorded,
/// the error explains the status, and a rerun finishes the job.
fn refused_merge_request(token: &str, extra: &[&str], status: u16, explained: &str) {
    let (test, daemon, gitlab) = on_gitlab();
    let test = contribute_with_merge_request(test, &gitlab, token)
        .arg_list(extra)
        .run()
        .status(2)
        .stderr_contains(format!(
            "`{BRANCH}` is pushed to {} and recorded in contributions.yaml, but the merge request was not opened: ",
            daemon.url("x.git")
        ))
        .stderr_contains(format!(
            "/api/v4/projects/{PROJECT_ID}/merge_requests answered {status}: "
        ))
        .stderr_contains(explained)
        .stderr_contains("then: run the same command again")
        .stdout_is("")
        .then();
    assert_contributed(&test, &daemon.url("x.git"));
    merge_request_done(test, &gitlab, "opened");
    drop(daemon);
}

#[test]
fn a_merge_request_the_token_may_not_open_is_explained() {
    refused_merge_request(
        REPORTER_TOKEN,
        &[],
        403,
        "403 Forbidden\nhelp: the token may not open merge requests on this project: it needs the `api` scope and at least the Developer role",
    );
}

#[test]
fn a_merge_request_opened_meanwhile_is_explained_and_updated_on_the_rerun() {
    let (test, daemon, gitlab) = on_gitlab();
    gitlab.state().concurrent_merge_request = true;
    let test = contribute_with_merge_request(test, &gitlab, PRIVATE_TOKEN)
        .run()
        .status(2)
        .stderr_contains("answered 409: Another open merge request already exists for this source branch: !1\nhelp: an open merge request for `oent/region-ile-de-france/x-1.0.0` was created meanwhile: run the same command again, it updates that one")
        .then();
    merge_request_done(test, &gitlab, "updated");
    assert_eq!(gitlab.merge_requests().len(), 1);
    assert_eq!(
        gitlab.merge_requests()[0]["title"],
        "Région Île-de-France : reversement de idf/x basé sur openent/x@1.0.0"
    );
    drop(daemon);
}

#[test]
fn a_merge_request_to_a_missing_branch_is_explained() {
    refused_merge_request(
        PRIVATE_TOKEN,
        &["--target-branch", "develop"],
        422,
        "422: Target branch \"develop\" does not exist\nhelp: GitLab cannot merge `oent/region-ile-de-france/x-1.0.0` into `develop`: check that both branches exist on the project",
    );
}

#[test]
fn a_merge_request_without_a_token_is_refused_before_the_push() {
    let (test, daemon, gitlab) = on_gitlab();
    let test = test
        .args(["contribute", "idf/x", "dist", "--author", AUTHOR])
        .arg(format!("--merge-request={}", gitlab.to()))
        .env_remove("CI_JOB_TOKEN")
        .run()
        .status(2)
        .stderr_contains("--merge-request: no token for GitLab")
        .then();
    assert_not_contributed(&test);
    assert!(gitlab.lines().is_empty());
    drop(daemon);
}

#[test]
fn a_merge_request_needs_a_gitlab_project_and_never_takes_the_next_argument() {
    let (test, daemon, _) = edited_fork_on_daemon(None);
    // `dist` is the distribution, not the project: only `--merge-request=…` names one.
    let test = test
        .args(["contribute", "idf/x", "--merge-request", "dist"])
        .env("OENT_TOKEN", PRIVATE_TOKEN)
        .run()
        .status(2)
        .stderr_contains(format!(
            "--merge-request: `{}` is not a GitLab project: write gitlab:https://HOST/api/v4/projects/ID, where ID is the project's number or its path URL-encoded (group%2Fproject) (a GitLab project is reached over https or ssh; name the project with --merge-request=gitlab:https://HOST/api/v4/projects/ID)",
            daemon.url("x.git")
        ))
        .then();
    assert_not_contributed(&test);
    drop(daemon);
}

fn contribute_with_pull_request(test: Test, github: &GitHub, token: &str) -> Test {
    test.args(["contribute", "idf/x", "dist", "--author", AUTHOR])
        .arg(format!("--merge-request={}", github.project()))
        .env("OENT_TOKEN", token)
}

#[test]
fn a_pull_request_is_opened_then_updated_on_github() {
    let (test, daemon, _) = edited_fork_on_daemon(None);
    let github = GitHub::start(&bare(&test));
    let test = contribute_with_pull_request(test, &github, github_support::TOKEN)
        .run()
        .status(0)
        .stdout_is("https://github.example/openent/x/pull/1\n")
        .stderr_contains("pull request #1 opened:")
        .then();
    let list = "GET /repos/openent/x/pulls?head=openent%3Aoent%2Fregion-ile-de-france%2Fx-1.0.0&state=open";
    assert_eq!(
        github.lines(),
        [
            list,
            "POST /repos/openent/x/pulls",
            "POST /repos/openent/x/issues/1/labels"
        ]
    );
    let requests = github.requests();
    let body = requests[1].json();
    assert_eq!(field_names(&body), ["base", "body", "head", "title"]);
    assert_eq!(body["head"], BRANCH);
    assert_eq!(body["base"], "main");
    assert_eq!(
        body["title"],
        "Région Île-de-France : reversement de idf/x basé sur openent/x@1.0.0"
    );
    assert!(
        body["body"]
            .as_str()
            .unwrap()
            .ends_with(&format!("Signed-off-by: {AUTHOR}")),
        "{body}"
    );
    assert_eq!(
        requests[2].json(),
        serde_json::json!({ "labels": ["reversement"] })
    );

    // Again: the open pull request is updated, not duplicated.
    github.clear_requests();
    contribute_with_pull_request(test, &github, github_support::TOKEN)
        .run()
        .status(0)
        .stderr_contains("pull request #1 updated:");
    assert_eq!(
        github.lines(),
        [
            list,
            "PATCH /repos/openent/x/pulls/1",
            "POST /repos/openent/x/issues/1/labels"
        ]
    );
    assert_eq!(
        field_names(&github.requests()[1].json()),
        ["base", "body", "title"]
    );
    assert_eq!(github.pulls().len(), 1);
    drop(daemon);
}

#[test]
fn a_pull_request_the_token_may_not_write_is_explained() {
    let (test, daemon, _) = edited_fork_on_daemon(None);
    let github = GitHub::start(&bare(&test));
    contribute_with_pull_request(test, &github, github_support::READ_TOKEN)
        .run()
        .status(2)
        .stderr_contains("but the merge request was not opened: POST http://")
        .stderr_contains("/repos/openent/x/pulls answered 403: Resource not accessible by personal access token\nhelp: the token may not write pull requests on this repository");
    drop(daemon);
}

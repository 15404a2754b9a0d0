//! `oent release` and `oent verify` against real git repositories (a bare
//! remote on disk, and one behind `git daemon` on loopback) and a real forge
//! on loopback: the happy path, and each way a release can stop.

mod forge_support;
mod git_support;
mod gitlab_support;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use forge_support::{OPENENT_TOKEN, RunningForge};
use git_support::{GitDaemon, bare, commit, git, hook, ls_remote, work};
use support::registry::module;
use support::{Output, Test};

const OPTIONS_V1: &str = "config:\n  retention_days: { type: integer, default: 365, min: 30 }\n  \
                          mode: { type: enum, values: [simple, complet], default: simple }\n";

fn run(dir: &Path, args: &[&str]) -> Output {
    run_with(dir, args, None)
}

/// Runs oent in `dir` (the work repository) with its cache beside it.
fn run_with(dir: &Path, args: &[&str], token: Option<&str>) -> Output {
    let test = Test::at(dir)
        .arg_list(args)
        .env("OENT_CACHE_DIR", dir.join("../cache"));
    match token {
        Some(token) => test.token(token),
        None => test,
    }
    .run()
}

/// `oent release demo --bump BUMP --key KEY` in `repo`.
fn release(repo: &Path, bump: &str, key: &Path) -> Output {
    run(
        repo,
        &[
            "release",
            "demo",
            "--bump",
            bump,
            "--key",
            key.to_str().unwrap(),
        ],
    )
}

/// A signing key outside the repository: `<dir>/keys/release` and `.pub`.
fn signing_key(dir: &Path) -> PathBuf {
    let key = dir.join("keys/release");
    run(dir, &["key", "new", key.to_str().unwrap()]).status(0);
    key
}

/// A repository holding `demo/` (openent/demo 1.0.0, released as v1.0.0)
/// and pushed to `remote`.
fn released_module(dir: &Path, remote: &str) -> PathBuf {
    let repo = work(&dir.join("work"), Some(remote));
    commit(
        &repo,
        &[(
            "demo/module.yaml",
            &module("openent/demo", "1.0.0", OPTIONS_V1),
        )],
        "feat: first version",
    );
    git(&repo, &["tag", "-a", "v1.0.0", "-m", "openent/demo 1.0.0"]);
    git(&repo, &["push", "-q", "origin", "main", "v1.0.0"]);
    repo
}

/// Everything a failed or dry release must leave as it was.
/// A patch release is refused (exit 1) saying `reason`, and the repository
/// is exactly as `before`.
fn refused_before_anything(
    repo: &Path,
    key: &Path,
    before: &(String, String, String, String),
    reason: &str,
) {
    let o = release(repo, "patch", key).status(1);
    assert!(o.stderr.contains(reason), "{}", o.stderr);
    assert_eq!(&state(repo), before);
}

fn state(repo: &Path) -> (String, String, String, String) {
    (
        git(repo, &["rev-parse", "HEAD"]),
        git(repo, &["tag", "--list"]),
        git(repo, &["status", "--porcelain", "--", ".", ":!target"]),
        std::fs::read_to_string(repo.join("demo/module.yaml")).unwrap(),
    )
}

#[test]
fn a_release_bumps_tags_signs_pushes_and_publishes_and_verify_rebuilds_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let remote = bare(&d.join("remote.git"));
    let repo = released_module(d, remote.to_str().unwrap());
    let added = OPTIONS_V1.to_owned() + "  theme: { type: string, default: clair }\n";
    commit(
        &repo,
        &[("demo/module.yaml", &module("openent/demo", "1.0.0", &added))],
        "feat(config): a `theme` option",
    );
    commit(&repo, &[("demo/README.md", "# demo\n")], "docs: a README");
    commit(&repo, &[("demo/notes.txt", "x\n")], "Tidy up");
    let key = signing_key(d);
    let forge = RunningForge::start(&d.join("forge"), "openent", "openent", "");

    let o = run_with(
        &repo,
        &[
            "release",
            "demo",
            "--bump",
            "minor",
            "--to",
            &forge.url,
            "--key",
            key.to_str().unwrap(),
        ],
        Some(OPENENT_TOKEN),
    )
    .status(0);
    let out = o.stdout;
    let steps: Vec<&str> = out
        .lines()
        .filter_map(|l| {
            l.split_once("] ")
                .map(|(_, r)| r.split(':').next().unwrap())
        })
        .collect();
    assert_eq!(
        steps,
        [
            "check",
            "lint",
            "semver",
            "bump",
            "changelog",
            "commit",
            "package",
            "sign",
            "tag",
            "push",
            "publish"
        ],
        "{out}"
    );
    assert!(
        out.contains("released openent/demo 1.1.0 as v1.1.0"),
        "{out}"
    );

    // The manifest, the changelog, the commit and the tag, on the remote too.
    let manifest = std::fs::read_to_string(repo.join("demo/module.yaml")).unwrap();
    assert!(manifest.contains("\nversion: 1.1.0\n"), "{manifest}");
    let changelog = std::fs::read_to_string(repo.join("demo/CHANGELOG.md")).unwrap();
    assert!(changelog.starts_with("# Changelog\n"), "{changelog}");
    for part in [
        "## [1.1.0] - ",
        "### Added\n\n- **config:** a `theme` option\n",
        "### Documentation\n\n- a README\n",
        "### Other changes\n\n- Tidy up\n",
    ] {
        assert!(
            changelog.contains(part),
            "{part} missing from:\n{changelog}"
        );
    }
    assert!(!changelog.contains("first version"), "{changelog}");
    let remote_refs = ls_remote(&repo, "origin");
    let head = git(&repo, &["rev-parse", "HEAD"]);
    assert!(
        remote_refs.contains(&format!("{}\trefs/heads/main", head.trim())),
        "{remote_refs}"
    );
    assert!(remote_refs.contains("refs/tags/v1.1.0"), "{remote_refs}");
    assert_eq!(git(&repo, &["cat-file", "-t", "v1.1.0"]).trim(), "tag");
    assert_eq!(
        git(&repo, &["log", "-1", "--format=%s"]).trim(),
        "chore(release): openent/demo 1.1.0"
    );
    assert!(git(&repo, &["status", "--porcelain", "--", ".", ":!target"]).is_empty());

    // The archive, its checksum in the tag, published with the same bytes.
    let archive = repo.join("target/oent/release/openent/demo-1.1.0.tar.gz");
    let bytes = std::fs::read(&archive).unwrap();
    let sha = sha256(&bytes);
    let tag_message = git(&repo, &["tag", "-l", "--format=%(contents)", "v1.1.0"]);
    assert!(
        tag_message.contains(&format!("sha256: {sha}")),
        "{tag_message}"
    );
    let index = std::fs::read_to_string(forge.registry().join("index/openent/demo.jsonl")).unwrap();
    assert!(index.contains(&format!("\"sha256\":\"{sha}\"")), "{index}");
    assert_eq!(forge_support::assert_consistent(&forge.registry()), 1);

    // The signature verifies with OpenSSH itself.
    let public = std::fs::read_to_string(format!("{}.pub", key.display())).unwrap();
    std::fs::write(d.join("allowed"), format!("release {public}")).unwrap();
    // ssh-keygen is openssh-client's; `run` fails when it is missing or refuses.
    support::tools::run(
        Command::new("ssh-keygen")
            .args(["-Y", "verify", "-n", "oent-archive", "-I", "release", "-f"])
            .arg(d.join("allowed"))
            .arg("-s")
            .arg(format!("{}.sig", archive.display()))
            .stdin(std::fs::File::open(&archive).unwrap()),
    );

    // `oent verify`: the local file, then the published version.
    let pubkey = format!("{}.pub", key.display());
    let o = run(
        &repo,
        &["verify", archive.to_str().unwrap(), "--key", &pubkey],
    )
    .status(0);
    assert!(o.stdout.contains("byte-identical"), "{}", o.stdout);
    assert!(o.stdout.contains("signature: good"), "{}", o.stdout);
    let o = run(
        &repo,
        &[
            "verify",
            "openent/demo@1.1.0",
            "--registry",
            &forge.url,
            "--key",
            &pubkey,
        ],
    )
    .status(0);
    assert!(o.stdout.contains("rebuilt from tag v1.1.0"), "{}", o.stdout);

    // An archive of the same version built otherwise (another mtime) is caught.
    let other = d.join("other");
    Test::at(&repo)
        .args(["package", "demo", "-o"])
        .arg(&other)
        .env("SOURCE_DATE_EPOCH", "1234567")
        .run()
        .status(0);
    let forged = other.join("openent/demo-1.1.0.tar.gz");
    let o = run(&repo, &["verify", forged.to_str().unwrap()]).status(1);
    let err = o.stderr;
    assert!(err.contains("not reproducible from tag `v1.1.0`"), "{err}");
    assert!(err.contains("demo-1.1.0/module.yaml: differs"), "{err}");
    assert!(err.contains("mtime 1234567"), "{err}");

    // A tag moved to another commit is caught too.
    commit(&repo, &[("demo/notes.txt", "changed\n")], "chore: notes");
    git(&repo, &["tag", "-f", "-a", "v1.1.0", "-m", "moved"]);
    let o = run(&repo, &["verify", archive.to_str().unwrap()]).status(1);
    assert!(
        o.stderr.contains("demo-1.1.0/notes.txt: differs"),
        "{}",
        o.stderr
    );
}

#[test]
fn dry_run_prints_every_step_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let remote = bare(&d.join("remote.git"));
    let repo = released_module(d, remote.to_str().unwrap());
    commit(&repo, &[("demo/x.txt", "x\n")], "fix: a typo");
    let before = state(&repo);
    let remote_before = ls_remote(&repo, "origin");
    let o = run(&repo, &["release", "demo", "--bump", "patch", "--dry-run"]).status(0);
    let out = o.stdout;
    for step in [
        "[4/11] bump: would set demo/module.yaml to version 1.0.1",
        "[9/11] tag: would create the annotated tag v1.0.1",
        "[10/11] push: would push main and v1.0.1",
        "### Fixed",
        "- a typo",
    ] {
        assert!(out.contains(step), "{step} missing from:\n{out}");
    }
    assert_eq!(state(&repo), before);
    assert_eq!(ls_remote(&repo, "origin"), remote_before);
    assert!(!repo.join("target").exists());
}

#[test]
fn a_dirty_tree_or_a_missing_remote_is_refused_before_anything() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let remote = bare(&d.join("remote.git"));
    let repo = released_module(d, remote.to_str().unwrap());
    let key = signing_key(d);
    std::fs::write(repo.join("demo/new.txt"), "untracked\n").unwrap();
    let before = state(&repo);
    refused_before_anything(
        &repo,
        &key,
        &before,
        "not committed:\n  demo/new.txt\nhelp: commit or stash",
    );

    std::fs::remove_file(repo.join("demo/new.txt")).unwrap();
    git(&repo, &["remote", "remove", "origin"]);
    let before = state(&repo);
    refused_before_anything(&repo, &key, &before, "has no remote `origin`");

    git(
        &repo,
        &[
            "remote",
            "add",
            "origin",
            "https://oauth2:glpat-secret@forge.example.org/openent/demo.git",
        ],
    );
    refused_before_anything(
        &repo,
        &key,
        &before,
        "remote `origin`: `https://***@forge.example.org/openent/demo.git` holds a password",
    );
}

#[test]
fn a_remote_with_diverging_commits_is_refused_before_anything() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let remote = bare(&d.join("remote.git"));
    let repo = released_module(d, remote.to_str().unwrap());
    let key = signing_key(d);
    let other = d.join("other");
    git(
        d,
        &[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            other.to_str().unwrap(),
        ],
    );
    git(&other, &["config", "user.name", "Autre"]);
    git(&other, &["config", "user.email", "autre@example.org"]);
    commit(&other, &[("demo/other.txt", "x\n")], "fix: elsewhere");
    git(&other, &["push", "-q", "origin", "main"]);
    commit(&repo, &[("demo/mine.txt", "y\n")], "fix: here");
    let before = state(&repo);
    refused_before_anything(
        &repo,
        &key,
        &before,
        "has commits on `main` that this clone does not have",
    );
}

#[test]
fn a_push_rejected_by_the_git_daemon_leaves_no_tag_and_a_rerun_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let served = d.join("served");
    let remote = bare(&served.join("demo.git"));
    let daemon = GitDaemon::start(&served);
    let repo = released_module(d, &daemon.url("demo.git"));
    let key = signing_key(d);
    commit(&repo, &[("demo/x.txt", "x\n")], "fix: a typo");
    hook(
        &remote,
        "pre-receive",
        "#!/bin/sh\necho 'pushes are frozen' >&2\nexit 1\n",
    );
    let before = state(&repo);
    let remote_before = ls_remote(&repo, "origin");
    let args = [
        "release",
        "demo",
        "--bump",
        "patch",
        "--key",
        key.to_str().unwrap(),
    ];
    let o = run(&repo, &args).status(1);
    let err = o.stderr;
    assert!(
        err.contains("push failed: push to remote `origin`"),
        "{err}"
    );
    assert!(
        err.contains("state: nothing changed: the release commit"),
        "{err}"
    );
    assert_eq!(state(&repo), before, "{err}");
    assert_eq!(ls_remote(&repo, "origin"), remote_before);

    std::fs::remove_file(remote.join("hooks/pre-receive")).unwrap();
    run(&repo, &args).status(0);
    assert!(ls_remote(&repo, "origin").contains("refs/tags/v1.0.1"));
}

#[test]
fn a_forge_down_after_the_tag_is_pushed_is_recovered_by_resume() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let served = d.join("served");
    let remote = bare(&served.join("demo.git"));
    let daemon = GitDaemon::start(&served);
    let repo = released_module(d, &daemon.url("demo.git"));
    let key = signing_key(d);
    commit(&repo, &[("demo/x.txt", "x\n")], "fix: a typo");
    let forge_dir = d.join("forge");
    let forge = RunningForge::start(&forge_dir, "openent", "openent", "");
    // The forge dies while the tag is being pushed: after the checks, before publishing.
    hook(
        &remote,
        "post-receive",
        &format!("#!/bin/sh\nkill -9 {}\n", forge.pid()),
    );
    let o = run_with(
        &repo,
        &[
            "release",
            "demo",
            "--bump",
            "patch",
            "--to",
            &forge.url,
            "--key",
            key.to_str().unwrap(),
        ],
        Some(OPENENT_TOKEN),
    )
    .status(1);
    let err = o.stderr;
    assert!(err.contains("publish failed: publishing to"), "{err}");
    assert!(err.contains("state: tag v1.0.1 is pushed"), "{err}");
    assert!(err.contains("--resume"), "{err}");
    assert!(ls_remote(&repo, "origin").contains("refs/tags/v1.0.1"));
    drop(forge);
    std::fs::remove_file(remote.join("hooks/post-receive")).unwrap();

    // The forge is back (on another port); --resume rebuilds and publishes.
    let forge = RunningForge::spawn(&forge_dir);
    let resume = |forge: &RunningForge| {
        run_with(
            &repo,
            &["release", "demo", "--resume", "--to", &forge.url],
            Some(OPENENT_TOKEN),
        )
    };
    let o = resume(&forge).status(0);
    let out = o.stdout;
    assert!(out.contains("v1.0.1 is already on `origin`"), "{out}");
    assert!(out.contains("openent/demo 1.0.1 published"), "{out}");
    let sha =
        sha256(&std::fs::read(repo.join("target/oent/release/openent/demo-1.0.1.tar.gz")).unwrap());
    let tag_message = git(&repo, &["tag", "-l", "--format=%(contents)", "v1.0.1"]);
    assert!(
        tag_message.contains(&format!("sha256: {sha}")),
        "{tag_message}"
    );
    let index = std::fs::read_to_string(forge.registry().join("index/openent/demo.jsonl")).unwrap();
    assert!(index.contains(&sha), "{index}");
    // Again: nothing left to do.
    let o = resume(&forge).status(0);
    assert!(
        o.stdout.contains("already there (same sha256)"),
        "{}",
        o.stdout
    );
}

#[test]
fn a_breaking_change_under_a_minor_bump_is_refused_with_each_reason() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let remote = bare(&d.join("remote.git"));
    let repo = work(&d.join("work"), Some(remote.to_str().unwrap()));
    // Two modules: tags are `<name>-v<version>`.
    commit(
        &repo,
        &[
            (
                "demo/module.yaml",
                &module(
                    "openent/demo",
                    "1.0.0",
                    &(OPTIONS_V1.to_owned() + "provides: [demo]\n"),
                ),
            ),
            ("other/module.yaml", &module("openent/other", "1.0.0", "")),
        ],
        "feat: first version",
    );
    git(
        &repo,
        &["tag", "-a", "demo-v1.0.0", "-m", "openent/demo 1.0.0"],
    );
    git(&repo, &["push", "-q", "origin", "main", "demo-v1.0.0"]);
    let broken = "config:\n  retention_days: { type: integer, default: 365, min: 60 }\n  \
                  theme: { type: string, default: clair }\n";
    commit(
        &repo,
        &[("demo/module.yaml", &module("openent/demo", "1.0.0", broken))],
        "refactor: simpler options",
    );
    let key = signing_key(d);
    let before = state(&repo);
    let o = release(&repo, "minor", &key).status(1);
    let err = o.stderr;
    for reason in [
        "a minor release cannot carry these changes since demo-v1.0.0; they need a major release:",
        "[major] capability `demo` is no longer provided",
        "[major] option `mode` was removed",
        "[major] option `retention_days`'s minimum was raised from 30 to 60",
        "help: release with `--bump major`",
    ] {
        assert!(err.contains(reason), "{reason} missing from:\n{err}");
    }
    assert!(
        !err.contains("theme"),
        "a minor change is not listed as breaking:\n{err}"
    );
    assert_eq!(state(&repo), before);

    let o = release(&repo, "major", &key).status(0);
    assert!(
        o.stdout
            .contains("released openent/demo 2.0.0 as demo-v2.0.0"),
        "{}",
        o.stdout
    );
    let changelog = std::fs::read_to_string(repo.join("demo/CHANGELOG.md")).unwrap();
    assert!(
        changelog.contains("### Breaking changes\n\n- capability `demo`"),
        "{changelog}"
    );
    assert!(ls_remote(&repo, "origin").contains("refs/tags/demo-v2.0.0"));
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_distribution_release_lists_module_changes_and_changed_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let remote = bare(&d.join("remote.git"));
    let option =
        |default: u32| format!("config:\n  seuil: {{ type: integer, default: {default} }}\n");
    let add_module = |name: &str, version: &str, extra: &str| {
        let path = d.join(format!(
            "src/{}-{version}/module.yaml",
            name.replace('/', "-")
        ));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, module(name, version, extra)).unwrap();
        if !d.join("registry/registry.yaml").exists() {
            run(
                d,
                &[
                    "registry",
                    "init",
                    "registry",
                    "--name",
                    "openent",
                    "--namespace",
                    "openent",
                ],
            )
            .status(0);
        }
        run(d, &["registry", "build", "src", "--to", "registry"]).status(0);
    };
    add_module("openent/x", "1.0.0", &option(1));
    add_module("openent/gone", "1.0.0", "");
    let repo = work(&d.join("work"), Some(remote.to_str().unwrap()));
    let distribution = |modules: &str| {
        format!(
            "schema: oent/distribution/v1\nname: idf/lilie\nversion: 2026.1.0\n\
             collectivite: {{ nom: Région Île-de-France, type: region }}\n\
             registries:\n  - {{ name: openent, path: ../registry }}\nmodules:\n{modules}"
        )
    };
    std::fs::write(
        repo.join("distribution.yaml"),
        distribution("  openent/x: \"^1\"\n  openent/gone: \"^1\"\n"),
    )
    .unwrap();
    run(&repo, &["resolve", "."]).status(0);
    git(&repo, &["add", "distribution.yaml", "oent.lock"]);
    git(&repo, &["commit", "-q", "-m", "feat: first distribution"]);
    git(
        &repo,
        &["tag", "-a", "v2026.1.0", "-m", "idf/lilie 2026.1.0"],
    );
    git(&repo, &["push", "-q", "origin", "main", "v2026.1.0"]);

    add_module("openent/x", "1.1.0", &option(3));
    add_module("openent/y", "1.0.0", "");
    std::fs::write(
        repo.join("distribution.yaml"),
        distribution("  openent/x: \"^1\"\n  openent/y: \"^1\"\n"),
    )
    .unwrap();
    run(&repo, &["update", "--dist", "."]).status(0);
    git(&repo, &["add", "distribution.yaml", "oent.lock"]);
    git(&repo, &["commit", "-q", "-m", "feat: y instead of gone"]);

    let o = run(&repo, &["release", ".", "--bump", "minor"]).status(0);
    let out = o.stdout;
    assert!(
        out.contains("1 added, 1 removed, 1 upgraded, 1 default(s) changed"),
        "{out}"
    );
    assert!(
        out.contains("released idf/lilie 2026.2.0 as v2026.2.0"),
        "{out}"
    );
    let changelog = std::fs::read_to_string(repo.join("CHANGELOG.md")).unwrap();
    for part in [
        "## [2026.2.0] - ",
        "### Added\n\n- y instead of gone\n",
        "### Modules added\n\n- `openent/y` 1.0.0\n",
        "### Modules removed\n\n- `openent/gone` 1.0.0\n",
        "### Modules upgraded\n\n- `openent/x` 1.0.0 → 1.1.0\n",
        "### Defaults changed\n\n- `openent/x` option `seuil`: 1 → 3\n",
    ] {
        assert!(
            changelog.contains(part),
            "{part} missing from:\n{changelog}"
        );
    }
    assert!(ls_remote(&repo, "origin").contains("refs/tags/v2026.2.0"));
    let tag_message = git(&repo, &["tag", "-l", "--format=%(contents)", "v2026.2.0"]);
    assert!(
        tag_message.contains("### Modules upgraded"),
        "{tag_message}"
    );
}

#[test]
fn a_module_with_problems_is_refused_with_each_drawn_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let remote = bare(&d.join("remote.git"));
    let repo = released_module(d, remote.to_str().unwrap());
    let manifest = module("openent/demo", "1.0.0", OPTIONS_V1) + "servce: {}\n";
    commit(&repo, &[("demo/module.yaml", &manifest)], "fix: a key");
    let before = state(&repo);
    run(&repo, &["release", "demo", "--bump", "patch", "--dry-run"])
        .status(1)
        .stderr_is(
            "
            error[E008/unknown-key]: unknown key `servce`
               ┌─ demo/module.yaml:12:1
               │
            12 │ servce: {}
               │ ^^^^^^ in `servce`
               │
               = help: did you mean `service`?

            error: `demo` has problems; run `oent lint demo` for details
            ",
        );
    assert_eq!(state(&repo), before);
}

#[test]
fn a_release_to_a_gitlab_project_is_described_by_its_release_notes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let remote = bare(&d.join("remote.git"));
    let repo = released_module(d, remote.to_str().unwrap());
    commit(&repo, &[("demo/x.txt", "x\n")], "fix: a typo in the portal");
    let key = signing_key(d);
    let gitlab = gitlab_support::GitLab::start().with_repository(&remote);
    let to = gitlab.to();
    let args = [
        "release",
        "demo",
        "--bump",
        "patch",
        "--to",
        &to,
        "--key",
        key.to_str().unwrap(),
    ];
    let o = Test::at(&repo)
        .arg_list(&args)
        .env("OENT_CACHE_DIR", d.join("cache"))
        .env("OENT_TOKEN", gitlab_support::PRIVATE_TOKEN)
        .run()
        .status(0);
    assert!(
        o.stdout.contains(&format!(
            "[11/11] publish: {to}: openent/demo 1.0.1 published"
        )),
        "{}",
        o.stdout
    );
    let archive =
        std::fs::read(repo.join("target/oent/release/openent/demo-1.0.1.tar.gz")).unwrap();
    assert_eq!(
        gitlab.file("openent-demo", "1.0.1", "demo-1.0.1.tar.gz"),
        Some(archive.clone())
    );
    // The tag oent pushed, described by the changelog section it added.
    let release = gitlab.release("v1.0.1").expect("the release of v1.0.1");
    assert_eq!(release["name"], "openent/demo 1.0.1");
    let description = release["description"].as_str().unwrap();
    let changelog = std::fs::read_to_string(repo.join("demo/CHANGELOG.md")).unwrap();
    let section = changelog
        .split_once("## [1.0.1]")
        .map(|(_, rest)| format!("## [1.0.1]{}", rest.split("\n## [").next().unwrap()))
        .unwrap();
    assert!(section.contains("- a typo in the portal"), "{section}");
    assert_eq!(
        description,
        format!(
            "{}\n\nLicence : `CECILL-2.1`. Archive `demo-1.0.1.tar.gz` (sha256 `{}`, signée) dans le registre de paquets du projet, publiée par `oent release`.\n",
            section.trim(),
            sha256(&archive)
        )
    );
}

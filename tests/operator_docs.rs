//! The README's operator sections ("Déployer avec Docker Compose / Deploying
//! with Docker Compose", "Déployer sur Kubernetes / Deploying on Kubernetes")
//! cannot drift from what oent writes: their fenced commands are followed
//! here. Each `oent build` they give is run (from the repository, its
//! output in a temporary directory); each `cd` must land in a folder of the
//! built bundle; each path they name in the bundle (`compose/…`,
//! `kubernetes/…`, `secrets.env.example`, `compose.yaml`,
//! `kustomization.yaml`, the folder of `kubectl apply -k`) must exist, and
//! each Secret they create must be the one the bundle reads. Paths under
//! `local/` are the operator's, not the bundle's: they are not checked.

mod support;

use std::path::{Path, PathBuf};

use support::Test;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

const SECTIONS: &[&str] = &[
    "## Déployer avec Docker Compose / Deploying with Docker Compose",
    "## Déployer sur Kubernetes / Deploying on Kubernetes",
];

/// The lines of the fenced `sh` blocks of the README section `heading`, one
/// list per block.
fn shell_blocks(readme: &str, heading: &str) -> Vec<Vec<String>> {
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("README.md has no section {heading:?}"));
    let body = &readme[start + heading.len()..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in body.lines().map(str::trim) {
        match (&mut current, line) {
            (None, "```sh") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) if !line.is_empty() && !line.starts_with('#') => {
                block.push(line.to_owned())
            }
            _ => {}
        }
    }
    blocks
}

/// A word of a command as a path: the value of `--option=value`, unquoted.
fn word_path(word: &str) -> &str {
    let word = word.trim_matches(['"', '\'']);
    match word.strip_prefix("--").and_then(|w| w.split_once('=')) {
        Some((_, value)) => value,
        None => word,
    }
}

/// Whether a word names something the bundle holds.
fn names_bundle_file(path: &str) -> bool {
    !path.contains("local/")
        && (path.contains("compose/")
            || path.contains("kubernetes/")
            || ["secrets.env.example", "compose.yaml", "kustomization.yaml"]
                .iter()
                .any(|f| path.ends_with(f)))
}

/// `oent build DIST -o OUT` as the README gives it, OUT under `work`.
fn build(work: &Path, words: &[&str]) {
    let mut args: Vec<String> = words[1..].iter().map(|w| w.to_string()).collect();
    let out = args
        .iter()
        .position(|a| a == "-o")
        .expect("the README's `oent build` names its output with -o");
    args[out + 1] = work.join(&args[out + 1]).display().to_string();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = Test::at(work)
        .current_dir(ROOT)
        .arg_list(&args)
        .env("OENT_CACHE_DIR", work.join(".cache"))
        .run();
    assert_eq!(
        output.code,
        Some(0),
        "README's `{}` failed: {}",
        words.join(" "),
        output.stderr
    );
}

/// Whether the built bundle's Kubernetes files read the Secret `name`
/// (`name: NAME` of a secretKeyRef or a volume, `secretName: NAME`).
fn reads_secret(bundle: &Path, name: &str) -> bool {
    ["kubernetes/services.yaml", "kubernetes/ingress.yaml"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(bundle.join(f)).ok())
        .any(|text| {
            text.lines()
                .filter_map(|l| l.trim().split_once(": "))
                .any(|(k, v)| (k == "name" || k == "secretName") && v == name)
        })
}

/// `path` without `.` and `..` components (the files need not exist).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Follows one section; returns what it checked, for the test to say.
fn follow(work: &Path, blocks: &[Vec<String>]) -> Vec<String> {
    let mut checked = Vec::new();
    let mut built: Vec<PathBuf> = Vec::new();
    for block in blocks {
        // Each block starts where the operator stands: the project's root.
        let mut cwd = work.to_path_buf();
        for command in block.iter().flat_map(|l| l.split("&&")) {
            let words: Vec<&str> = command.split_whitespace().collect();
            match words.as_slice() {
                ["oent", "build", ..] => {
                    let out = words[words.iter().position(|w| *w == "-o").unwrap() + 1];
                    if !work.join(out).join("bundle.json").exists() {
                        build(work, &words);
                        built.push(work.join(out));
                    }
                    continue;
                }
                ["cd", dir] => {
                    cwd = cwd.join(dir);
                    assert!(cwd.is_dir(), "README: `cd {dir}`: no such folder");
                    checked.push(format!("cd {dir}"));
                    continue;
                }
                ["kubectl", "apply", "-k", dir] => {
                    let file = cwd.join(dir).join("kustomization.yaml");
                    assert!(
                        file.is_file(),
                        "README: `kubectl apply -k {dir}`: no {file:?}"
                    );
                    checked.push(format!("apply -k {dir}"));
                }
                ["kubectl", "create", "secret", _, name, ..] => {
                    let read = built.iter().any(|b| reads_secret(b, name));
                    assert!(read, "README creates the Secret {name}, no bundle reads it");
                    checked.push(format!("secret {name}"));
                }
                ["docker", "compose", ..] if !words.contains(&"-f") => {
                    assert!(
                        cwd.join("compose.yaml").is_file(),
                        "README runs `docker compose` in {cwd:?}, which has no compose.yaml"
                    );
                }
                _ => {}
            }
            for path in words.iter().map(|w| word_path(w)) {
                // A word inside a built bundle (`ent-essonne/bundle/…`).
                let inside = built
                    .iter()
                    .any(|b| normalize(&cwd.join(path)).starts_with(b) && path.contains('/'));
                if names_bundle_file(path) || (inside && !path.contains("local/")) {
                    assert!(cwd.join(path).exists(), "README names {path}: not built");
                    checked.push(path.to_owned());
                }
            }
        }
    }
    assert!(!built.is_empty(), "the section runs no `oent build`");
    checked
}

#[test]
fn the_readme_operator_steps_name_what_the_built_bundles_hold() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let work = tempfile::tempdir().unwrap();
    let compose = follow(work.path(), &shell_blocks(&readme, SECTIONS[0]));
    assert!(
        compose.contains(&"cd ent-essonne/bundle/compose".to_owned())
            && compose.contains(&"ent-essonne/bundle/secrets.env.example".to_owned()),
        "{compose:?}"
    );
    let kubernetes = follow(work.path(), &shell_blocks(&readme, SECTIONS[1]));
    assert!(
        kubernetes.contains(&"apply -k .".to_owned())
            && kubernetes.contains(&"secret idf-lilie-secrets".to_owned())
            && kubernetes.contains(&"secret idf-lilie-tls".to_owned()),
        "{kubernetes:?}"
    );
}

#[test]
fn a_path_the_bundle_lacks_is_caught() {
    let work = tempfile::tempdir().unwrap();
    let blocks = vec![vec![
        "oent build examples/essonne-colleges -o ent/bundle".to_owned(),
        "cd ent/bundle/kubernetes".to_owned(),
    ]];
    let caught = std::panic::catch_unwind(|| follow(work.path(), &blocks));
    assert!(
        caught.is_err(),
        "a compose bundle has no kubernetes/ folder"
    );
}

//! Registries on disk: init, add, build and the CI check, driven through the binary.

use std::path::Path;

mod support;

use support::{Output, Test};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_committed_registry_is_what_modules_produce() {
    // Run in the repository, its private cache in a temporary directory.
    Test::new()
        .current_dir(repo())
        .args([
            "registry", "build", "modules", "--to", "registry", "--check",
        ])
        .env_remove("SOURCE_DATE_EPOCH")
        .run()
        .status(0)
        .stdout_contains("is up to date");
}

fn new_module(dir: &Path, name: &str, version: &str) {
    let module_dir = dir.join("modules").join(name);
    Test::at(dir).args(["new", "module", name]).run().status(0);
    let manifest = module_dir.join("module.yaml");
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("version: 0.1.0", &format!("version: {version}"));
    std::fs::write(manifest, text).unwrap();
}

/// `reg/`: an empty registry that owns namespace `idf`.
fn init_idf_registry(d: &Path) {
    Test::at(d)
        .args([
            "registry",
            "init",
            "reg",
            "--name",
            "idf",
            "--namespace",
            "idf",
        ])
        .run()
        .status(0);
}

/// `reg/` (see [`init_idf_registry`]) and `idf/agenda` 1.0.0 packed; the
/// archive's path.
fn packed_agenda(d: &Path) -> &'static str {
    init_idf_registry(d);
    new_module(d, "idf/agenda", "1.0.0");
    Test::at(d)
        .args(["package", "modules/idf/agenda", "-o", "out"])
        .run()
        .status(0);
    "out/idf/agenda-1.0.0.tar.gz"
}

/// `oent registry add ARCHIVE --to reg` in `d`.
fn registry_add(d: &Path, archive: &str) -> Output {
    Test::at(d)
        .args(["registry", "add", archive, "--to", "reg"])
        .run()
}

#[test]
fn publishing_is_immutable_and_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let archive = packed_agenda(d);
    registry_add(d, archive)
        .status(0)
        .stdout_contains("published idf/agenda 1.0.0");
    let index = std::fs::read(d.join("reg/index/idf/agenda.jsonl")).unwrap();
    // The same bytes again: nothing changes.
    registry_add(d, archive)
        .status(0)
        .stdout_is("unchanged idf/agenda 1.0.0\n");
    assert_eq!(
        std::fs::read(d.join("reg/index/idf/agenda.jsonl")).unwrap(),
        index
    );
    // Other bytes under the same version: refused, and the registry is untouched.
    let manifest = d.join("modules/idf/agenda/module.yaml");
    std::fs::write(
        &manifest,
        std::fs::read_to_string(&manifest)
            .unwrap()
            .replace("log_level", "niveau_log"),
    )
    .unwrap();
    std::fs::write(
        d.join("modules/idf/agenda/templates/app.conf.tera"),
        "niveau = {{ config.niveau_log }}\n",
    )
    .unwrap();
    Test::at(d)
        .args(["package", "modules/idf/agenda", "-o", "out2"])
        .run()
        .status(0);
    Test::at(d)
        .args([
            "registry",
            "add",
            "out2/idf/agenda-1.0.0.tar.gz",
            "--to",
            "reg",
        ])
        .run()
        .status(2)
        .stderr_contains("idf/agenda 1.0.0 is already published with other content");
    assert_eq!(
        std::fs::read(d.join("reg/index/idf/agenda.jsonl")).unwrap(),
        index
    );
    // And the CI check names the module that changed without a version bump.
    Test::at(d)
        .args(["registry", "build", "modules", "--to", "reg", "--check"])
        .run()
        .status(2)
        .stderr_contains(
            "idf/agenda 1.0.0 in modules/idf/agenda differs from the published archive",
        );
}

#[test]
fn a_registry_refuses_namespaces_it_does_not_own() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    init_idf_registry(d);
    new_module(d, "openent/intrus", "1.0.0");
    Test::at(d)
        .args(["registry", "build", "modules", "--to", "reg"])
        .run()
        .status(2)
        .stdout_is("")
        .stderr_is(
            "error: registry `idf` does not own namespace `openent` (it owns: idf); \
             a namespace is published by its own registry only\n",
        );
    assert!(!d.join("reg/index/openent").exists());
}

#[test]
fn an_archive_no_index_line_names_does_not_hold_its_version() {
    // What a publish killed between the archive and its index line leaves:
    // the archive under its final name (other bytes), no line.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let archive = packed_agenda(d);
    let orphan = d.join("reg/archives/idf/agenda-1.0.0.tar.gz");
    std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    std::fs::write(&orphan, b"the bytes of an interrupted publish").unwrap();
    registry_add(d, archive)
        .status(0)
        .stdout_contains("published idf/agenda 1.0.0");
    assert_eq!(
        std::fs::read(&orphan).unwrap(),
        std::fs::read(d.join(archive)).unwrap()
    );
    let hidden: Vec<_> = std::fs::read_dir(orphan.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
}

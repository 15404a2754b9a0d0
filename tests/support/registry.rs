//! Registries built the way maintainers build them: module directories
//! written by the test, then `oent registry init` and `oent registry build`.

use super::{Test, unindent};

/// A minimal valid module.yaml; `deps` is inserted as written (YAML lines).
pub fn module(name: &str, version: &str, deps: &str) -> String {
    format!(
        "schema: oent/module/v1\nname: {name}\nversion: {version}\nlicence: CECILL-2.1\nsummary: \"{name}\"\n\
         category: pedagogie\naudiences: [eleve]\nrepository: https://forge.example.org/{name}.git\n{}",
        unindent(deps)
    )
}

/// Writes `dir/src/<ns>-<name>-<version>/module.yaml` ([`module`]) and
/// returns the module directory.
pub fn write_module(
    dir: &std::path::Path,
    name: &str,
    version: &str,
    deps: &str,
) -> std::path::PathBuf {
    let module_dir = dir
        .join("src")
        .join(format!("{}-{version}", name.replace('/', "-")));
    std::fs::create_dir_all(&module_dir).unwrap();
    std::fs::write(module_dir.join("module.yaml"), module(name, version, deps)).unwrap();
    module_dir
}

/// Writes modules under `src/<name>-<version>/` and publishes them to `registry/`.
pub fn publish(
    test: Test,
    registry: &str,
    namespace: &str,
    modules: &[(&str, &str, &str)],
) -> Test {
    let mut test = test;
    let batch = format!(
        "src-{registry}-{}",
        std::fs::read_dir(test.path()).unwrap().count()
    );
    for (name, version, deps) in modules {
        let dir = format!("{batch}/{}-{version}/module.yaml", name.replace('/', "-"));
        test = test.write(&dir, &module(name, version, deps));
    }
    publish_tree(test, registry, namespace, &batch)
}

/// Publishes the module directories already written under `dir` to `registry/`.
pub fn publish_tree(test: Test, registry: &str, namespace: &str, dir: &str) -> Test {
    let mut test = test;
    if !test.path().join(registry).join("registry.yaml").exists() {
        test = test
            .args([
                "registry",
                "init",
                registry,
                "--name",
                registry,
                "--namespace",
                namespace,
            ])
            .run()
            .status(0)
            .then();
    }
    test.args(["registry", "build", dir, "--to", registry])
        .run()
        .status(0)
        .then()
}

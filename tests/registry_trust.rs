//! What a registry may be believed about, keyed or not: a registry serves
//! only the namespaces its `registry.yaml` owns or mirrors (from a
//! directory and over real HTTP, with or without a pinned key), and a
//! snapshot refused for any reason leaves the remembered version alone, so
//! that the genuine registry is still accepted afterwards.

mod http_support;
mod support;

use http_support::{Fixture, fetched};

/// Rewrites the fixture's `registry.yaml` so that it owns only `rogue`,
/// while its index still holds `t/x`: the registry claims a module of a
/// namespace it does not own (dependency confusion).
fn make_rogue(fixture: &Fixture) {
    std::fs::write(
        fixture.registry().join("registry.yaml"),
        "schema: oent/registry/v1\nname: rogue\nnamespaces: [rogue]\n",
    )
    .unwrap();
}

#[test]
fn a_registry_serves_only_its_namespaces_from_a_directory() {
    let fixture = Fixture::new(&["1.0.0"]);
    make_rogue(&fixture);
    fixture
        .oent(&["fetch", "t/x", "--registry", "reg"])
        .status(2)
        .stderr_contains(
            "registry reg was asked for namespace `t`, which it neither owns nor mirrors (`rogue` owns rogue; mirrors nothing): refusing anything it serves for it (dependency confusion)",
        );
    assert!(!fixture.cache().join("archives").exists());
}

#[test]
fn a_registry_serves_only_its_namespaces_over_http() {
    let fixture = Fixture::new(&["1.0.0"]);
    make_rogue(&fixture);
    let server = fixture.nginx();
    let url = server.url();
    fixture
        .oent(&["fetch", "t/x", "--registry", &url])
        .status(2)
        .stderr_contains(format!(
            "registry {url} was asked for namespace `t`, which it neither owns nor mirrors (`rogue` owns rogue; mirrors nothing)"
        ));
    let asked: Vec<_> = server
        .access_log()
        .iter()
        .map(|l| l.split(' ').nth(1).unwrap_or_default().to_owned())
        .collect();
    assert!(
        asked.iter().all(|path| path == "/registry.yaml"),
        "nothing of `t` is even asked for: {asked:?}"
    );
}

#[test]
fn a_distribution_takes_no_module_from_a_registry_that_does_not_own_it() {
    let fixture = Fixture::new(&["1.0.0"]);
    make_rogue(&fixture);
    std::fs::create_dir_all(fixture.path().join("dist")).unwrap();
    std::fs::write(
        fixture.path().join("dist/distribution.yaml"),
        "schema: oent/distribution/v1\nname: idf/lilie\nversion: 2026.1.0\ncollectivite: { nom: Région Île-de-France, type: region }\n\
         registries:\n  - { name: rogue, path: ../reg }\nmodules:\n  t/x: \"^1\"\n",
    )
    .unwrap();
    for command in ["resolve", "build"] {
        let run = fixture.oent(&[command, "dist"]);
        assert_ne!(run.code, Some(0), "{run:#?}");
        assert!(run.stderr.contains("namespace `t`"), "{run:#?}");
        assert!(!fixture.path().join("dist/oent.lock").exists());
    }
}

/// A key, the fixture's registry `t` signed with it, and a second registry
/// `other` signed by the same key several times (its snapshot's version is
/// higher than `t`'s): the same maintainers sign both.
fn two_registries_one_key(fixture: &Fixture) {
    fixture.oent(&["key", "new", "key"]).status(0);
    let sign = |registry: &str| {
        fixture
            .oent(&[
                "registry", "build", "none", "--to", registry, "--sign", "key",
            ])
            .status(0)
    };
    std::fs::create_dir_all(fixture.path().join("none")).unwrap();
    sign("reg");
    fixture
        .oent(&[
            "registry",
            "init",
            "other",
            "--name",
            "other",
            "--namespace",
            "other",
        ])
        .status(0);
    for _ in 0..5 {
        sign("other");
    }
}

#[test]
fn a_refused_snapshot_does_not_raise_the_version_remembered() {
    let fixture = Fixture::new(&["1.0.0"]);
    two_registries_one_key(&fixture);
    let genuine = std::fs::read(fixture.registry().join("snapshot.json")).unwrap();
    let fetch = || fixture.oent(&["fetch", "t/x", "--registry", "reg", "--key", "key.pub"]);

    // Another registry's snapshot (version 5, validly signed): refused,
    // since this registry has no registry.yaml it vouches for.
    std::fs::copy(
        fixture.path().join("other/snapshot.json"),
        fixture.registry().join("snapshot.json"),
    )
    .unwrap();
    fetch()
        .status(2)
        .stderr_contains("`registry.yaml` is listed in the signed snapshot (version 5) but the registry does not serve it");

    // The genuine snapshot over an altered registry.yaml: refused too.
    std::fs::write(fixture.registry().join("snapshot.json"), &genuine).unwrap();
    let by_hash = fixture.registry().join("by-hash/registry.yaml");
    let config = std::fs::read_dir(&by_hash)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let original = std::fs::read(&config).unwrap();
    std::fs::write(
        &config,
        b"schema: oent/registry/v1\nname: t\nnamespaces: [t, u]\n",
    )
    .unwrap();
    fetch()
        .status(2)
        .stderr_contains("`registry.yaml` has sha256 ")
        .stderr_contains("mix-and-match");
    std::fs::write(&config, &original).unwrap();

    // The genuine registry (version 1) is not taken for a rollback.
    assert_eq!(fetched(&fetch().status(0))[0].0, "1.0.0");
}

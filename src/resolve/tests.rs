//! The resolver's rules on small in-memory registries, and the exact text of
//! classic conflicts (snapshots).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::index::{MemoryIndex, candidate};
use super::*;
use crate::manifest::yaml::Span;

fn origin(line: usize) -> Origin {
    Origin {
        path: PathBuf::from("examples/idf/distribution.yaml"),
        span: Span::default(),
        line,
        column: 3,
    }
}

fn root(name: &str, req: &str, line: usize) -> RootRequirement {
    RootRequirement {
        name: name.parse().unwrap(),
        req: VersionReq::parse(req).unwrap(),
        features: vec![],
        origin: origin(line),
    }
}

fn request(roots: Vec<RootRequirement>) -> Request {
    Request {
        distribution: "idf/lilie".into(),
        roots,
        capabilities: vec![],
        locked: BTreeMap::new(),
    }
}

fn versions(resolution: &Resolution) -> Vec<String> {
    resolution
        .modules
        .values()
        .map(|m| format!("{} {}", m.name, m.version))
        .collect()
}

fn explain(index: &MemoryIndex, req: &Request) -> String {
    match resolve(req, index) {
        Err(e @ ResolveError::NoSolution { .. }) => e.to_string(),
        other => panic!("expected no solution, got {other:?}"),
    }
}

#[test]
fn newest_allowed_versions_with_dependencies() {
    let mut index = MemoryIndex::default();
    index.add("openent/socle", candidate("3.0.0"));
    index.add("openent/socle", candidate("3.2.0"));
    index.add("openent/socle", candidate("4.0.0"));
    index.add(
        "openent/cahier",
        candidate("2.3.1").requires("openent/socle", ">=3.0, <4"),
    );
    let r = resolve(&request(vec![root("openent/cahier", "^2.3", 10)]), &index).unwrap();
    assert_eq!(
        versions(&r),
        ["openent/cahier 2.3.1", "openent/socle 3.2.0"]
    );
    assert_eq!(
        r.modules[&"openent/cahier".parse::<ModuleName>().unwrap()].requires,
        ["openent/socle".parse::<ModuleName>().unwrap()]
    );
}

#[test]
fn pre_releases_only_when_asked_for() {
    let mut index = MemoryIndex::default();
    index.add("openent/x", candidate("1.0.0"));
    index.add("openent/x", candidate("1.1.0-rc.1"));
    let r = resolve(&request(vec![root("openent/x", "^1", 1)]), &index).unwrap();
    assert_eq!(versions(&r), ["openent/x 1.0.0"]);
    let r = resolve(&request(vec![root("openent/x", ">=1.1.0-rc.1", 1)]), &index).unwrap();
    assert_eq!(versions(&r), ["openent/x 1.1.0-rc.1"]);
}

#[test]
fn yanked_versions_are_not_picked_but_stay_when_locked() {
    let mut index = MemoryIndex::default();
    index.add("openent/x", candidate("1.0.0"));
    index.add("openent/x", candidate("1.1.0").yanked());
    let mut req = request(vec![root("openent/x", "^1", 1)]);
    assert_eq!(
        versions(&resolve(&req, &index).unwrap()),
        ["openent/x 1.0.0"]
    );
    req.locked
        .insert("openent/x".parse().unwrap(), "1.1.0".parse().unwrap());
    assert_eq!(
        versions(&resolve(&req, &index).unwrap()),
        ["openent/x 1.1.0"]
    );
}

#[test]
fn locked_versions_are_kept_while_they_satisfy() {
    let mut index = MemoryIndex::default();
    for v in ["1.0.0", "1.1.0", "1.2.0", "2.0.0"] {
        index.add("openent/x", candidate(v));
    }
    let mut req = request(vec![root("openent/x", "^1", 1)]);
    req.locked
        .insert("openent/x".parse().unwrap(), "1.1.0".parse().unwrap());
    assert_eq!(
        versions(&resolve(&req, &index).unwrap()),
        ["openent/x 1.1.0"]
    );
    // The distribution now asks for more than the lock holds: the lock gives way.
    req.roots = vec![root("openent/x", "^2", 1)];
    assert_eq!(
        versions(&resolve(&req, &index).unwrap()),
        ["openent/x 2.0.0"]
    );
}

#[test]
fn optional_dependencies_come_with_a_feature_or_when_named() {
    let mut index = MemoryIndex::default();
    index.add("openent/sms", candidate("1.0.0"));
    index.add("openent/sms", candidate("2.0.0"));
    index.add(
        "openent/notes",
        candidate("1.6.0")
            .optional("openent/sms", "^1")
            .feature("sms", &["openent/sms"]),
    );
    let plain = request(vec![root("openent/notes", "^1", 3)]);
    assert_eq!(
        versions(&resolve(&plain, &index).unwrap()),
        ["openent/notes 1.6.0"]
    );
    let mut with_feature = plain.clone();
    with_feature.roots[0].features = vec!["sms".into()];
    let r = resolve(&with_feature, &index).unwrap();
    assert_eq!(versions(&r), ["openent/notes 1.6.0", "openent/sms 1.0.0"]);
    assert_eq!(
        r.modules[&"openent/notes".parse::<ModuleName>().unwrap()].features,
        ["sms"]
    );
    // Named by the distribution: present, and held to the optional range.
    let named = request(vec![
        root("openent/notes", "^1", 3),
        root("openent/sms", "*", 4),
    ]);
    assert_eq!(
        versions(&resolve(&named, &index).unwrap()),
        ["openent/notes 1.6.0", "openent/sms 1.0.0"]
    );
}

#[test]
fn conflicts_are_honoured() {
    let mut index = MemoryIndex::default();
    index.add("openent/legacy", candidate("1.0.0"));
    index.add("openent/cahier", candidate("2.0.0"));
    index.add(
        "openent/cahier",
        candidate("2.1.0").conflicts("openent/legacy", "*"),
    );
    // Without the legacy module, the newest version.
    assert_eq!(
        versions(&resolve(&request(vec![root("openent/cahier", "^2", 1)]), &index).unwrap()),
        ["openent/cahier 2.1.0"]
    );
    // With it, the newest version that does not conflict.
    let both = request(vec![
        root("openent/cahier", "^2", 1),
        root("openent/legacy", "^1", 2),
    ]);
    assert_eq!(
        versions(&resolve(&both, &index).unwrap()),
        ["openent/cahier 2.0.0", "openent/legacy 1.0.0"]
    );
}

#[test]
fn backtracks_to_an_older_version() {
    let mut index = MemoryIndex::default();
    index.add("openent/annuaire", candidate("2.0.0"));
    index.add("openent/annuaire", candidate("3.0.0"));
    index.add(
        "openent/portail",
        candidate("1.0.0").requires("openent/annuaire", "^2"),
    );
    index.add(
        "openent/portail",
        candidate("1.1.0").requires("openent/annuaire", "^3"),
    );
    index.add(
        "openent/sso",
        candidate("1.0.0").requires("openent/annuaire", "^2"),
    );
    let req = request(vec![
        root("openent/portail", "^1", 1),
        root("openent/sso", "^1", 2),
    ]);
    assert_eq!(
        versions(&resolve(&req, &index).unwrap()),
        [
            "openent/annuaire 2.0.0",
            "openent/portail 1.0.0",
            "openent/sso 1.0.0"
        ]
    );
}

#[test]
fn capabilities_need_a_single_provider_or_a_choice() {
    let mut index = MemoryIndex::default();
    index.add(
        "openent/messagerie",
        candidate("1.0.0").provides("messagerie"),
    );
    index.add("openent/agenda", candidate("1.0.0").provides("agenda"));
    index.add("idf/agenda", candidate("1.0.0").provides("agenda"));
    let cap = |c: &str| CapabilityRequirement {
        capability: c.into(),
        req: VersionReq::STAR,
        origin: origin(7),
    };
    let mut req = request(vec![]);
    req.capabilities = vec![cap("messagerie")];
    assert_eq!(
        versions(&resolve(&req, &index).unwrap()),
        ["openent/messagerie 1.0.0"]
    );
    req.capabilities = vec![cap("agenda")];
    let err = resolve(&req, &index).unwrap_err();
    assert_eq!(
        err.hints(),
        ["choose one by naming it under `modules:` instead of `agenda`"]
    );
    let err = err.to_string();
    assert!(
        err.contains("several modules provide: idf/agenda, openent/agenda"),
        "{err}"
    );
    req.roots = vec![root("idf/agenda", "^1", 8)];
    assert_eq!(
        versions(&resolve(&req, &index).unwrap()),
        ["idf/agenda 1.0.0"]
    );
    req.capabilities = vec![cap("visio")];
    assert!(matches!(
        resolve(&req, &index),
        Err(ResolveError::NoProvider { hints, .. }) if hints.is_empty()
    ));
    req.capabilities = vec![cap("messagerei")];
    assert_eq!(
        resolve(&req, &index).unwrap_err().hints(),
        ["did you mean `messagerie`?"]
    );
}

#[test]
fn conflict_between_the_distribution_and_a_dependency() {
    let mut index = MemoryIndex::default();
    index.add("openent/notes-absences", candidate("1.6.0"));
    index.add("openent/notes-absences", candidate("2.0.0"));
    index.add(
        "openent/sms-parents",
        candidate("1.0.0").requires("openent/notes-absences", "^2"),
    );
    index.add(
        "openent/sms-parents",
        candidate("1.2.0").requires("openent/notes-absences", "^2"),
    );
    let req = request(vec![
        root("openent/notes-absences", "^1", 14),
        root("openent/sms-parents", "^1", 15),
    ]);
    insta::assert_snapshot!(explain(&index, &req));
}

#[test]
fn conflict_with_a_missing_module() {
    let mut index = MemoryIndex::default();
    index.add(
        "openent/portail",
        candidate("1.4.0").requires("openent/sso", "^3"),
    );
    let req = request(vec![root("openent/portail", "^1.4", 12)]);
    insta::assert_snapshot!(explain(&index, &req));
}

#[test]
fn conflict_when_no_version_matches() {
    let mut index = MemoryIndex::default();
    index.add("openent/cahier-de-textes", candidate("2.3.1"));
    index.add("openent/cahier-de-textes", candidate("2.4.0").yanked());
    let req = request(vec![root("openent/cahier-de-textes", "^2.4", 9)]);
    insta::assert_snapshot!(explain(&index, &req));
}

#[test]
fn conflict_through_two_levels() {
    let mut index = MemoryIndex::default();
    index.add("openent/annuaire", candidate("2.3.0"));
    index.add("openent/annuaire", candidate("3.0.0"));
    index.add(
        "openent/sso",
        candidate("3.1.0").requires("openent/annuaire", "^2.1"),
    );
    index.add(
        "openent/documents",
        candidate("30.0.4").requires("openent/sso", "^3"),
    );
    index.add(
        "openent/ressources",
        candidate("1.0.0").requires("openent/annuaire", "^3"),
    );
    let req = request(vec![
        root("openent/documents", "^30", 20),
        root("openent/ressources", "^1", 21),
    ]);
    insta::assert_snapshot!(explain(&index, &req));
}

#[test]
fn conflict_with_a_conflicts_entry() {
    let mut index = MemoryIndex::default();
    index.add("openent/cahier-legacy", candidate("1.0.0"));
    index.add(
        "openent/cahier-de-textes",
        candidate("2.3.1").conflicts("openent/cahier-legacy", "*"),
    );
    let req = request(vec![
        root("openent/cahier-de-textes", "^2.3", 5),
        root("openent/cahier-legacy", "^1", 6),
    ]);
    insta::assert_snapshot!(explain(&index, &req));
}

#[test]
fn conflict_on_an_unknown_feature() {
    let mut index = MemoryIndex::default();
    index.add("openent/notes-absences", candidate("1.6.0"));
    let mut req = request(vec![root("openent/notes-absences", "^1", 5)]);
    req.roots[0].features = vec!["sms".into()];
    insta::assert_snapshot!(explain(&index, &req));
}

#[test]
fn unknown_names_get_the_published_name_meant() {
    let mut index = MemoryIndex::default();
    index.add("openent/notes-absences", candidate("1.6.0"));
    index.add(
        "openent/messagerie",
        candidate("2.3.0").provides("messagerie"),
    );
    let mut asked = request(vec![
        root("openent/note-absences", "^1", 8),
        root("openent/messagerie", "^2", 9),
        root("openent/inconnu", "^1", 10),
    ]);
    asked.capabilities.push(CapabilityRequirement {
        capability: "messageri".into(),
        req: VersionReq::STAR,
        origin: origin(11),
    });
    let found: Vec<(String, Option<String>)> = unknown::unknown_requests(&asked, &index)
        .into_iter()
        .map(|u| (u.name, u.suggestion))
        .collect();
    assert_eq!(
        found,
        [
            (
                "openent/note-absences".into(),
                Some("openent/notes-absences".into())
            ),
            ("openent/inconnu".into(), None),
            ("messageri".into(), Some("messagerie".into())),
        ]
    );
}

#[test]
fn a_conflict_carries_its_report_and_its_hints_apart() {
    let mut index = MemoryIndex::default();
    index.add("openent/cahier-de-textes", candidate("2.3.1"));
    let req = request(vec![root("openent/cahier-de-textes", "^2.4", 9)]);
    let Err(ResolveError::NoSolution { report, hints }) = resolve(&req, &index) else {
        panic!("expected no solution");
    };
    assert!(!report.contains("help:"), "{report}");
    assert!(report.ends_with('\n'), "{report}");
    assert_eq!(hints.len(), 1, "{hints:?}");
    assert!(
        hints[0].starts_with("change the requirement on openent/cahier-de-textes at "),
        "{hints:?}"
    );
}

//! The forge's web catalogue, as its visitors see it: a real forge on
//! loopback, modules published with `oent publish`, pages read over HTTP
//! and in headless Chromium (Debian's `chromium`, installed by .ci/setup).

mod forge_support;
mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use forge_support::RunningForge;
use reqwest::blocking::Client;
use support::Test;

fn http() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Writes `src/<dir>/module.yaml` (and README.md when given).
fn write(dir: &Path, module_dir: &str, manifest: &str, readme: Option<&str>) {
    let path = dir.join("src").join(module_dir);
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("module.yaml"), manifest).unwrap();
    if let Some(readme) = readme {
        std::fs::write(path.join("README.md"), readme).unwrap();
    }
}

fn manifest(name: &str, version: &str, rest: &str) -> String {
    format!("schema: oent/module/v1\nname: {name}\nversion: {version}\n{rest}")
}

const CAHIER: &str = "\
licence: CECILL-2.1
summary: Cahier de textes numérique
description: |
  Séances, travail à faire et pièces jointes.

  Les parents voient le travail à faire.
category: pedagogie
audiences: [eleve, parent, enseignant]
repository: https://forge.example.org/openent/cahier-de-textes.git
requires: { openent/annuaire: \"^2.1\" }
provides: [cahier-de-textes]
config:
  retention_days: { type: integer, default: 365, min: 30, doc: \"Durée de conservation des séances (jours)\" }
  visible_parents: { type: boolean, default: true, scope: etablissement, doc: \"Les parents voient le travail à faire\" }
";

const README: &str = "# Cahier de textes\n\nLe **cahier de textes** de l'établissement.\n\n## Installation\n\n- activer le module\n";

/// A forge with four modules: cahier-de-textes (2.2.0, 2.3.1, and 2.4.0
/// yanked), annuaire, messagerie (optional user of the cahier), sms-parents.
fn catalogue_forge(dir: &Path) -> RunningForge {
    let forge = RunningForge::start(dir, "openent", "openent", "");
    for version in ["2.2.0", "2.3.1", "2.4.0"] {
        write(
            dir,
            &format!("cahier-{version}"),
            &manifest("openent/cahier-de-textes", version, CAHIER),
            Some(README),
        );
    }
    write(
        dir,
        "annuaire",
        &manifest(
            "openent/annuaire",
            "2.1.0",
            "licence: MIT\nsummary: Annuaire LDAP des comptes\ncategory: socle\naudiences: [personnel, collectivite]\n",
        ),
        None,
    );
    write(
        dir,
        "messagerie",
        &manifest(
            "openent/messagerie",
            "1.0.0",
            "licence: AGPL-3.0-or-later\nsummary: Messagerie entre familles et établissement\n\
             category: communication\naudiences: [parent, enseignant]\n\
             optional: { openent/cahier-de-textes: \"^2\" }\n",
        ),
        None,
    );
    write(
        dir,
        "sms",
        &manifest(
            "openent/sms-parents",
            "0.4.2",
            "licence: CECILL-2.1\nsummary: Alertes SMS aux familles\ncategory: vie-scolaire\naudiences: [parent]\n",
        ),
        None,
    );
    Test::at(dir)
        .args(["publish", "src"])
        .forge(&forge)
        .run()
        .status(0);
    Test::at(dir)
        .args(["yank", "openent/cahier-de-textes@2.4.0"])
        .forge(&forge)
        .run()
        .status(0);
    forge
}

fn get(forge: &RunningForge, path: &str) -> (u16, String, String) {
    let response = http().get(format!("{}{path}", forge.url)).send().unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().unwrap())
}

/// The module names listed on a list page, in order.
fn listed(html: &str) -> Vec<String> {
    html.split("<h2><a href=\"/modules/")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

#[test]
fn the_list_searches_and_filters_without_javascript() {
    let dir = tempfile::tempdir().unwrap();
    let forge = catalogue_forge(dir.path());

    let (status, content_type, html) = get(&forge, "/");
    assert_eq!(status, 200, "{html}");
    assert_eq!(content_type, "text/html; charset=utf-8");
    assert!(
        html.starts_with("<!DOCTYPE html>\n<html lang=\"fr\">"),
        "{html}"
    );
    assert_eq!(
        listed(&html),
        [
            "openent/annuaire",
            "openent/cahier-de-textes",
            "openent/messagerie",
            "openent/sms-parents"
        ]
    );
    // The newest version not yanked is the one listed.
    assert!(html.contains("openent/cahier-de-textes</a> <span class=\"version\">2.3.1</span>"));
    // Every form control has its label.
    for id in ["q", "category", "audience", "licence"] {
        assert!(html.contains(&format!("<label for=\"{id}\">")), "{id}");
        assert!(html.contains(&format!("id=\"{id}\" name=\"{id}\"")), "{id}");
    }

    let cases: &[(&str, &[&str])] = &[
        ("/?q=cahier", &["openent/cahier-de-textes"]),
        // Accents and case do not matter; every word must match.
        ("/?q=S%C3%89ANCES", &["openent/cahier-de-textes"]),
        ("/?q=familles+sms", &["openent/sms-parents"]),
        // Audiences and categories are searched by their French labels too.
        ("/?q=%C3%A9l%C3%A8ves", &["openent/cahier-de-textes"]),
        ("/?category=socle", &["openent/annuaire"]),
        (
            "/?audience=parent",
            &[
                "openent/cahier-de-textes",
                "openent/messagerie",
                "openent/sms-parents",
            ],
        ),
        (
            "/?licence=CECILL-2.1",
            &["openent/cahier-de-textes", "openent/sms-parents"],
        ),
        (
            "/?q=&category=&audience=parent&licence=CECILL-2.1",
            &["openent/cahier-de-textes", "openent/sms-parents"],
        ),
        ("/?q=inexistant", &[]),
    ];
    for (path, expected) in cases {
        let (status, _, html) = get(&forge, path);
        assert_eq!(status, 200, "{path}");
        assert_eq!(listed(&html), *expected, "{path}");
    }
    let (_, _, html) = get(&forge, "/?audience=parent&licence=CECILL-2.1");
    assert!(html.contains("<option value=\"parent\" selected>Parents</option>"));
    assert!(html.contains("2 modules sur 4"), "{html}");
    let (_, _, html) = get(&forge, "/?q=inexistant");
    assert!(html.contains("Aucun module ne correspond."));

    // A publish shows at once.
    write(
        dir.path(),
        "agenda",
        &manifest(
            "openent/agenda",
            "1.0.0",
            "licence: CECILL-2.1\nsummary: Agendas partagés\ncategory: pedagogie\naudiences: [eleve]\n",
        ),
        None,
    );
    Test::at(dir.path())
        .args(["publish", "src/agenda"])
        .forge(&forge)
        .run()
        .status(0);
    let (_, _, html) = get(&forge, "/?q=agenda");
    assert_eq!(listed(&html), ["openent/agenda"]);

    // The registry's own files are still served beside the catalogue.
    let (status, content_type, _) = get(&forge, "/registry.yaml");
    assert_eq!((status, content_type.as_str()), (200, "application/yaml"));
    let (status, _, index) = get(&forge, "/index/openent/cahier-de-textes.jsonl");
    assert_eq!(status, 200);
    assert_eq!(index.lines().count(), 3);
    let (status, content_type, css) = get(&forge, "/catalogue.css");
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/css; charset=utf-8");
    assert!(css.contains(":focus-visible"));
}

#[test]
fn a_module_page_shows_versions_dependencies_options_readme_and_what_to_add() {
    let dir = tempfile::tempdir().unwrap();
    let forge = catalogue_forge(dir.path());

    let (status, _, html) = get(&forge, "/modules/openent/cahier-de-textes");
    assert_eq!(status, 200, "{html}");
    for expected in [
        "<h1>openent/cahier-de-textes <span class=\"version\">2.3.1</span></h1>",
        "<p class=\"resume\">Cahier de textes numérique</p>",
        "<dt>Licence</dt><dd>CECILL-2.1</dd>",
        "<dt>Catégorie</dt><dd>Pédagogie</dd>",
        "<dt>Publics</dt><dd>Élèves, Parents, Enseignants</dd>",
        "<p>Séances, travail à faire et pièces jointes.</p>",
        // Dependencies, linked, and the modules that depend on this one.
        "<a href=\"/modules/openent/annuaire\">openent/annuaire</a></th><td><code>^2.1</code></td><td>requis</td>",
        "<li><a href=\"/modules/openent/messagerie\">openent/messagerie</a> (<code>^2</code>, optionnel)</li>",
        // Options with their docs.
        "<th scope=\"row\"><code>retention_days</code></th>",
        "<td>integer, ≥ 30</td>",
        "<td><code>365</code></td>",
        "<td>établissement</td>",
        "<td>Durée de conservation des séances (jours)</td>",
        // Versions, newest first, the yanked one marked.
        "<th scope=\"row\"><a href=\"/modules/openent/cahier-de-textes/2.4.0\">2.4.0</a></th>",
        "<span class=\"retire\">retirée</span>",
        "<span aria-current=\"page\">2.3.1</span>",
        // The README, rendered, its headings under the page's h2.
        "<h2 id=\"readme\">README</h2>",
        "<h3>Cahier de textes</h3>",
        "<strong>cahier de textes</strong>",
        "<h4>Installation</h4>",
        // The archive, as the registry serves it.
        "<a href=\"/archives/openent/cahier-de-textes-2.3.1.tar.gz\">",
    ] {
        assert!(html.contains(expected), "missing {expected:?} in\n{html}");
    }
    // The lines to add to distribution.yaml name this forge.
    let snippet = format!(
        "registries:\n  - {{ name: openent, url: &quot;{}&quot; }}\nmodules:\n  openent/cahier-de-textes: &quot;^2.3&quot;\n",
        forge.url
    );
    assert!(html.contains(&snippet), "{snippet}\n{html}");
    let archive = get(&forge, "/archives/openent/cahier-de-textes-2.3.1.tar.gz");
    assert_eq!(archive.0, 200);

    // Headings in order: one h1, then h2s.
    let h1 = html.matches("<h1").count();
    assert_eq!(h1, 1);
    assert!(html.find("<h1").unwrap() < html.find("<h2").unwrap());

    let (_, _, html) = get(&forge, "/modules/openent/sms-parents");
    assert!(
        html.contains("openent/sms-parents: &quot;^0.4&quot;"),
        "{html}"
    );
    assert!(html.contains("Aucune option."));
    assert!(html.contains("Aucun module de ce registre."));

    // An older version has its own page, which points at the newest.
    let (status, _, html) = get(&forge, "/modules/openent/cahier-de-textes/2.2.0");
    assert_eq!(status, 200);
    assert!(html.contains("<span class=\"version\">2.2.0</span></h1>"));
    assert!(html.contains(
        "Une version plus récente existe : <a href=\"/modules/openent/cahier-de-textes\">2.3.1</a>."
    ));
    let (status, _, html) = get(&forge, "/modules/openent/cahier-de-textes/2.4.0");
    assert_eq!(status, 200);
    assert!(html.contains("Cette version est retirée"), "{html}");

    for path in [
        "/modules/openent/inconnu",
        "/modules/autre/cahier-de-textes",
        "/modules/openent/cahier-de-textes/9.9.9",
    ] {
        let (status, content_type, html) = get(&forge, path);
        assert_eq!(status, 404, "{path}");
        assert_eq!(content_type, "text/html; charset=utf-8", "{path}");
        assert!(html.contains("<h1>Module introuvable</h1>"), "{path}");
    }
}

const HOSTILE_SCRIPT: &str = "<script>alert(1)</script>";
const HOSTILE_IMG: &str = "\"><img src=x onerror=alert(2)>";

/// Every field a publisher writes is shown as text, never as markup.
#[test]
fn hostile_manifest_fields_and_readme_are_shown_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let forge = RunningForge::start(dir.path(), "openent", "openent", "");
    let yaml_quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let rest = format!(
        "licence: CECILL-2.1\nsummary: {}\ndescription: {}\ncategory: externe\naudiences: [eleve]\n\
         provides: [piege]\nconfig:\n  mode: {{ type: enum, values: [a, b], default: a, doc: {} }}\n",
        yaml_quote(&format!("Piège {HOSTILE_SCRIPT}")),
        yaml_quote(&format!("Description {HOSTILE_IMG}")),
        yaml_quote(&format!("Doc {HOSTILE_SCRIPT} {HOSTILE_IMG}")),
    );
    write(
        dir.path(),
        "piege",
        &manifest("openent/piege", "1.0.0", &rest),
        Some(&format!(
            "# Piège\n\n{HOSTILE_SCRIPT}\n\nTexte {HOSTILE_IMG} et [lien](javascript:alert(3)).\n"
        )),
    );
    Test::at(dir.path())
        .args(["publish", "src"])
        .forge(&forge)
        .run()
        .status(0);

    for path in ["/", "/?q=pi%C3%A8ge", "/modules/openent/piege"] {
        let response = http().get(format!("{}{path}", forge.url)).send().unwrap();
        let csp = response
            .headers()
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.starts_with("default-src 'none'"), "{csp}");
        let html = response.text().unwrap();
        assert!(!html.contains("<script"), "{path}: {html}");
        assert!(!html.contains("<img"), "{path}: {html}");
        assert!(
            !html.to_lowercase().contains("javascript:"),
            "{path}: {html}"
        );
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}: {html}"
        );
    }
    let (_, _, html) = get(&forge, "/modules/openent/piege");
    assert!(html.contains("Description &quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
    assert!(html.contains("<td>Doc &lt;script&gt;alert(1)&lt;/script&gt; &quot;&gt;&lt;img"));
    // The README's HTML is text too, its dangerous link reduced to its words.
    assert!(
        html.contains("<p>&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(html.contains(" et lien."), "{html}");

    // In a browser: the text is there, no element was injected.
    let dom = chromium_dom(&format!("{}/modules/openent/piege", forge.url));
    assert!(
        dom.contains("Piège &lt;script&gt;alert(1)&lt;/script&gt;"),
        "{dom}"
    );
    assert!(!dom.contains("<img"), "{dom}");
    assert!(!dom.contains("<script"), "{dom}");
}

/// Debian's chromium with a profile in `profile`; its absence fails the
/// test (CI installs it).
fn chromium(profile: &Path) -> Command {
    let found = Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`chromium` is not installed: the catalogue's browser tests need Debian's \
         chromium package (`apt-get install chromium`, as .ci/setup does)"
    );
    let mut command = Command::new("chromium");
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-dev-shm-usage",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// The DOM Chromium built from a page.
fn chromium_dom(url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let output = chromium(profile.path())
        .arg("--dump-dom")
        .arg(url)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "chromium --dump-dom {url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn chromium_renders_the_pages_and_search_narrows_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let forge = catalogue_forge(dir.path());

    let dom = chromium_dom(&format!("{}/", forge.url));
    assert!(dom.contains("<html lang=\"fr\">"), "{dom}");
    assert_eq!(listed(&dom).len(), 4, "{dom}");
    assert!(
        dom.contains("<p class=\"compte\" role=\"status\">4 modules</p>"),
        "{dom}"
    );

    // The search form's GET, as a visitor submitting it would send it.
    let dom = chromium_dom(&format!(
        "{}/?q=messagerie&category=&audience=&licence=",
        forge.url
    ));
    assert_eq!(listed(&dom), ["openent/messagerie"], "{dom}");
    assert!(dom.contains("value=\"messagerie\""), "{dom}");

    let dom = chromium_dom(&format!("{}/modules/openent/cahier-de-textes", forge.url));
    assert!(dom.contains("<h1>openent/cahier-de-textes"), "{dom}");
    assert!(dom.contains("<h3>Cahier de textes</h3>"), "{dom}");

    // A screenshot of the list (docs/catalogue.png is one, committed).
    let shot = dir.path().join("catalogue.png");
    let output = chromium(&dir.path().join("chromium-profile"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1280,900")
        .arg(format!("{}/", forge.url))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(png.len() > 20_000, "a blank page? {} bytes", png.len());
}

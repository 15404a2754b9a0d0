//! The catalogue's pages: the model turned into what each template shows,
//! rendered with Tera. The templates end in `.html`, so Tera escapes every
//! value they print; the only value marked `safe` is the README, which
//! [`super::markdown`] built with every HTML in it escaped.

use serde::Serialize;
use tera::{Context, Tera};

use super::data::{Details, Entry, Model, OptionDoc, Query};
use crate::manifest::module::{AUDIENCES, CATEGORIES};
use crate::registry::index::IndexEntry;

pub fn templates() -> Tera {
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html"]);
    tera.add_raw_templates([
        ("base.html", include_str!("templates/base.html")),
        ("list.html", include_str!("templates/list.html")),
        ("module.html", include_str!("templates/module.html")),
        ("not_found.html", include_str!("templates/not_found.html")),
    ])
    .expect("the catalogue's templates are valid");
    tera
}

pub fn category_label(value: &str) -> &str {
    match value {
        "socle" => "Socle",
        "pedagogie" => "Pédagogie",
        "vie-scolaire" => "Vie scolaire",
        "communication" => "Communication",
        "externe" => "Services externes",
        other => other,
    }
}

pub fn audience_label(value: &str) -> &str {
    match value {
        "eleve" => "Élèves",
        "parent" => "Parents",
        "enseignant" => "Enseignants",
        "direction" => "Direction",
        "personnel" => "Personnels",
        "collectivite" => "Collectivités",
        "entreprise" => "Entreprises",
        other => other,
    }
}

#[derive(Serialize)]
struct Choice<'a> {
    value: &'a str,
    label: &'a str,
    selected: bool,
}

#[derive(Serialize)]
struct Row<'a> {
    name: &'a str,
    href: String,
    version: String,
    summary: Option<&'a str>,
    problem: Option<&'a str>,
    category: Option<&'a str>,
    audiences: Vec<&'a str>,
    licence: &'a str,
    all_yanked: bool,
}

pub fn href(name: &str) -> String {
    format!("/modules/{name}")
}

/// `/`: the modules matching `query`, with the search form.
pub fn list(tera: &Tera, model: &Model, query: &Query) -> String {
    let choices =
        |values: &mut dyn Iterator<Item = &'static str>, label: fn(&str) -> &str, chosen: &str| {
            values
                .map(|v| Choice {
                    value: v,
                    label: label(v),
                    selected: v == chosen,
                })
                .collect::<Vec<_>>()
        };
    let licences: Vec<Choice> = model
        .licences
        .iter()
        .map(|l| Choice {
            value: l,
            label: l,
            selected: *l == query.licence,
        })
        .collect();
    let rows: Vec<Row> = model.filter(query).map(row).collect();
    let filtered = [&query.q, &query.category, &query.audience, &query.licence]
        .iter()
        .any(|v| !v.trim().is_empty());
    let mut context = Context::new();
    context.insert("registry_name", &model.registry_name);
    context.insert("query", query);
    context.insert("filtered", &filtered);
    context.insert("total", &model.modules.len());
    context.insert("shown", &rows.len());
    context.insert(
        "categories",
        &choices(
            &mut CATEGORIES.iter().copied(),
            category_label,
            &query.category,
        ),
    );
    context.insert(
        "audiences",
        &choices(
            &mut AUDIENCES.iter().copied(),
            audience_label,
            &query.audience,
        ),
    );
    context.insert("licences", &licences);
    context.insert("modules", &rows);
    render(tera, "list.html", &context)
}

fn row(entry: &Entry) -> Row<'_> {
    let line = entry.line();
    let details = entry.details.as_ref().ok();
    Row {
        name: &entry.name,
        href: href(&entry.name),
        version: line.version.to_string(),
        summary: details.map(|d| d.summary.as_str()),
        problem: entry.details.as_ref().err().map(String::as_str),
        category: details.map(|d| category_label(&d.category)),
        audiences: details
            .map(|d| d.audiences.iter().map(|a| audience_label(a)).collect())
            .unwrap_or_default(),
        licence: &line.licence,
        all_yanked: entry.all_yanked(),
    }
}

/// Where the forge is reached, for distribution.yaml's `registries:`.
pub struct Site<'a> {
    pub url: &'a str,
}

#[derive(Serialize)]
struct VersionRow<'a> {
    version: String,
    href: String,
    published: &'a str,
    licence: &'a str,
    yanked: bool,
    current: bool,
}

#[derive(Serialize)]
struct Dep<'a> {
    name: &'a str,
    req: &'a str,
    kind: &'static str,
    href: Option<String>,
}

#[derive(Serialize)]
struct DependentRow<'a> {
    name: &'a str,
    href: String,
    req: &'a str,
    optional: bool,
}

#[derive(Serialize)]
struct Newer {
    version: String,
    href: String,
}

/// `/modules/{ns}/{name}[/{version}]`: one version of a module.
pub fn module(
    tera: &Tera,
    model: &Model,
    site: &Site,
    entry: &Entry,
    line: &IndexEntry,
    details: Result<&Details, &str>,
) -> String {
    let ok = details.ok();
    let mut context = Context::new();
    context.insert("registry_name", &model.registry_name);
    context.insert("name", &entry.name);
    context.insert("version", &line.version.to_string());
    context.insert("licence", &line.licence);
    context.insert("yanked", &line.yanked);
    context.insert("problem", &details.err());
    let shown = entry.line();
    let is_newer = shown.version > line.version;
    let newer = (is_newer && !shown.yanked).then(|| Newer {
        version: shown.version.to_string(),
        href: href(&entry.name),
    });
    context.insert("newer", &newer);
    context.insert("summary", &ok.map(|d| &d.summary));
    context.insert(
        "description",
        &ok.and_then(|d| d.description.as_deref())
            .map(paragraphs)
            .unwrap_or_default(),
    );
    context.insert("category", &ok.map(|d| category_label(&d.category)));
    context.insert(
        "audiences",
        &ok.map(|d| {
            d.audiences
                .iter()
                .map(|a| audience_label(a))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default(),
    );
    context.insert("provides", &line.provides);
    let repository = ok.and_then(|d| d.repository.as_deref());
    context.insert("repository", &repository);
    context.insert("repository_href", &repository.filter(is_web));
    context.insert(
        "homepage",
        &ok.and_then(|d| d.homepage.as_deref()).filter(is_web),
    );
    context.insert(
        "authors",
        &ok.map(|d| d.authors.as_slice()).unwrap_or_default(),
    );
    context.insert("fork_of", &ok.and_then(|d| d.fork_of.as_deref()));
    context.insert("origin", &line.origin);
    context.insert("mirrored", &(line.origin != model.registry_name));
    context.insert("published", &date(&line.published_at));
    context.insert("archive_href", &format!("/{}", line.archive));
    context.insert(
        "archive_name",
        line.archive.rsplit('/').next().unwrap_or(&line.archive),
    );
    context.insert("size", &line.size);
    context.insert("sha256", &line.sha256);
    context.insert(
        "snippet",
        &snippet(model, site, &entry.name, &line.version.to_string()),
    );

    let mut dependencies = Vec::new();
    for (deps, kind) in [
        (&line.requires, "requis"),
        (&line.optional, "optionnel"),
        (&line.conflicts, "incompatible"),
    ] {
        for (name, req) in deps {
            dependencies.push(Dep {
                name,
                req,
                kind,
                href: model.get(name).map(|_| href(name)),
            });
        }
    }
    context.insert("dependencies", &dependencies);
    let dependents: Vec<DependentRow> = model
        .dependents
        .get(&entry.name)
        .map(|ds| {
            ds.iter()
                .map(|d| DependentRow {
                    name: &d.name,
                    href: href(&d.name),
                    req: &d.req,
                    optional: d.optional,
                })
                .collect()
        })
        .unwrap_or_default();
    context.insert("dependents", &dependents);
    let options: &[OptionDoc] = ok.map(|d| d.config.as_slice()).unwrap_or_default();
    context.insert("options", options);
    let versions: Vec<VersionRow> = entry
        .versions
        .iter()
        .map(|v| VersionRow {
            version: v.version.to_string(),
            href: format!("{}/{}", href(&entry.name), v.version),
            published: date(&v.published_at),
            licence: &v.licence,
            yanked: v.yanked,
            current: v.version == line.version,
        })
        .collect();
    context.insert("versions", &versions);
    context.insert("readme", &ok.and_then(|d| d.readme_html.as_deref()));
    render(tera, "module.html", &context)
}

pub fn not_found(tera: &Tera, model: &Model, message: &str) -> String {
    let mut context = Context::new();
    context.insert("registry_name", &model.registry_name);
    context.insert("message", message);
    render(tera, "not_found.html", &context)
}

/// The lines a collectivité adds to its distribution.yaml.
pub fn snippet(model: &Model, site: &Site, name: &str, version: &str) -> String {
    let quote = |s: &str| serde_json::to_string(s).expect("strings serialise");
    let mut registry = format!(
        "  - {{ name: {}, url: {}",
        model.registry_name,
        quote(site.url)
    );
    match model.keys.as_slice() {
        [] => {}
        [key] => registry.push_str(&format!(", key: {}", quote(key))),
        keys => registry.push_str(&format!(
            ", key: [{}]",
            keys.iter().map(|k| quote(k)).collect::<Vec<_>>().join(", ")
        )),
    }
    registry.push_str(" }");
    format!(
        "registries:\n{registry}\nmodules:\n  {name}: {}\n",
        quote(&requirement(version))
    )
}

/// `^2.3` for 2.3.1, `^0.4` for 0.4.2, the exact version for a pre-release.
fn requirement(version: &str) -> String {
    match semver::Version::parse(version) {
        Ok(v) if v.pre.is_empty() => format!("^{}.{}", v.major, v.minor),
        _ => format!("={version}"),
    }
}

fn is_web(url: &&str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// `2026-11-26` of an RFC 3339 timestamp.
fn date(timestamp: &str) -> &str {
    timestamp.get(..10).unwrap_or(timestamp)
}

fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

fn render(tera: &Tera, template: &str, context: &Context) -> String {
    tera.render(template, context).unwrap_or_else(|e| {
        // The templates are fixed and tested: this is a bug, not bad input.
        tracing::error!(template, error = %e, "catalogue page failed to render");
        "<!DOCTYPE html><html lang=\"fr\"><title>Erreur</title><p>Erreur interne du catalogue.</p></html>".to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_follow_the_caret_convention() {
        assert_eq!(requirement("2.3.1"), "^2.3");
        assert_eq!(requirement("0.4.2"), "^0.4");
        assert_eq!(requirement("1.0.0-rc.1"), "=1.0.0-rc.1");
    }

    #[test]
    fn snippet_names_the_registry_and_its_key() {
        let model = Model {
            registry_name: "openent".into(),
            keys: vec!["ssh-ed25519 AAAA k\"ey".into()],
            ..Model::default()
        };
        let text = snippet(
            &model,
            &Site {
                url: "https://forge.example.org",
            },
            "openent/cahier-de-textes",
            "2.3.1",
        );
        assert_eq!(
            text,
            "registries:\n  - { name: openent, url: \"https://forge.example.org\", key: \"ssh-ed25519 AAAA k\\\"ey\" }\nmodules:\n  openent/cahier-de-textes: \"^2.3\"\n"
        );
    }

    #[test]
    fn templates_parse() {
        templates();
    }
}

//! A resolution as a graph, both ways: what `oent tree` draws (dependencies,
//! or dependents with `--invert`) and the paths `oent why` lists.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::Resolution;
use crate::manifest::names::ModuleName;

pub struct Graph<'r> {
    resolution: &'r Resolution,
    dependencies: BTreeMap<ModuleName, Vec<ModuleName>>,
    dependents: BTreeMap<ModuleName, Vec<ModuleName>>,
}

impl<'r> Graph<'r> {
    pub fn new(resolution: &'r Resolution) -> Self {
        let mut dependencies = BTreeMap::new();
        let mut dependents: BTreeMap<ModuleName, Vec<ModuleName>> = BTreeMap::new();
        for m in resolution.modules.values() {
            dependencies.insert(m.name.clone(), m.requires.clone());
            for dep in &m.requires {
                dependents
                    .entry(dep.clone())
                    .or_default()
                    .push(m.name.clone());
            }
        }
        Graph {
            resolution,
            dependencies,
            dependents,
        }
    }

    /// The distribution, then each module it asks for with its dependencies below.
    pub fn tree(&self, distribution: &str) -> String {
        let mut out = format!("{distribution}\n");
        let roots = &self.resolution.roots;
        for (i, root) in roots.iter().enumerate() {
            self.draw_under(
                &mut out,
                root,
                &self.dependencies,
                "",
                i + 1 == roots.len(),
                &mut BTreeSet::new(),
            );
        }
        out
    }

    /// `start`, then what depends on it, down to the distribution that asks for it.
    pub fn inverted(&self, start: &ModuleName, distribution: &str) -> String {
        let mut out = format!("{}\n", self.label(start));
        let next = self.dependents.get(start).cloned().unwrap_or_default();
        let asked = self.resolution.roots.contains(start);
        for (i, n) in next.iter().enumerate() {
            let last = i + 1 == next.len() && !asked;
            self.draw_under(
                &mut out,
                n,
                &self.dependents,
                "",
                last,
                &mut BTreeSet::from([start.clone()]),
            );
        }
        if asked {
            let _ = writeln!(out, "└── {distribution} (asks for it)");
        }
        out
    }

    fn label(&self, name: &ModuleName) -> String {
        let m = &self.resolution.modules[name];
        let features = if m.features.is_empty() {
            String::new()
        } else {
            format!(" [{}]", m.features.join(", "))
        };
        format!("{name} {}{features}", m.version)
    }

    /// One line per module, `(*)` where a module already shown repeats.
    fn draw_under(
        &self,
        out: &mut String,
        name: &ModuleName,
        edges: &BTreeMap<ModuleName, Vec<ModuleName>>,
        indent: &str,
        last: bool,
        seen: &mut BTreeSet<ModuleName>,
    ) {
        let repeated = !seen.insert(name.clone());
        let branch = if last { "└── " } else { "├── " };
        let _ = writeln!(
            out,
            "{indent}{branch}{}{}",
            self.label(name),
            if repeated { " (*)" } else { "" }
        );
        if repeated {
            return;
        }
        let next = edges.get(name).cloned().unwrap_or_default();
        let indent = format!("{indent}{}", if last { "    " } else { "│   " });
        for (i, n) in next.iter().enumerate() {
            self.draw_under(out, n, edges, &indent, i + 1 == next.len(), seen);
        }
    }

    /// Every dependency path from a module the distribution asks for to `target`.
    pub fn paths_to(&self, target: &ModuleName) -> Vec<Vec<ModuleName>> {
        let roots: BTreeSet<&ModuleName> = self.resolution.roots.iter().collect();
        let mut paths = Vec::new();
        let mut stack = vec![vec![target.clone()]];
        while let Some(path) = stack.pop() {
            let head = path[0].clone();
            if roots.contains(&head) {
                paths.push(path.clone());
            }
            for parent in self.dependents.get(&head).into_iter().flatten() {
                if !path.contains(parent) {
                    let mut longer = vec![parent.clone()];
                    longer.extend(path.iter().cloned());
                    stack.push(longer);
                }
            }
        }
        paths.sort();
        paths
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::Resolved;

    fn module(name: &str, version: &str, requires: &[&str], features: &[&str]) -> Resolved {
        Resolved {
            name: name.parse().unwrap(),
            version: version.parse().unwrap(),
            source: "openent".into(),
            sha256: "0".repeat(64),
            requires: requires.iter().map(|r| r.parse().unwrap()).collect(),
            features: features.iter().map(|f| (*f).to_owned()).collect(),
            image: None,
        }
    }

    /// portail → annuaire ← notes (asked with sms), notes → portail.
    fn resolution() -> Resolution {
        let modules = [
            module("openent/annuaire", "2.3.0", &[], &[]),
            module(
                "openent/notes",
                "1.0.0",
                &["openent/annuaire", "openent/portail"],
                &["sms"],
            ),
            module("openent/portail", "1.4.0", &["openent/annuaire"], &[]),
        ];
        Resolution {
            modules: modules.into_iter().map(|m| (m.name.clone(), m)).collect(),
            roots: vec![
                "openent/notes".parse().unwrap(),
                "openent/portail".parse().unwrap(),
            ],
        }
    }

    #[test]
    fn the_tree_marks_a_module_already_shown() {
        let resolution = resolution();
        assert_eq!(
            Graph::new(&resolution).tree("idf/lilie"),
            "idf/lilie
├── openent/notes 1.0.0 [sms]
│   ├── openent/annuaire 2.3.0
│   └── openent/portail 1.4.0
│       └── openent/annuaire 2.3.0 (*)
└── openent/portail 1.4.0
    └── openent/annuaire 2.3.0
"
        );
    }

    #[test]
    fn the_inverted_tree_ends_at_the_distribution_when_it_asks() {
        let resolution = resolution();
        let graph = Graph::new(&resolution);
        assert_eq!(
            graph.inverted(&"openent/annuaire".parse().unwrap(), "idf/lilie"),
            "openent/annuaire 2.3.0
├── openent/notes 1.0.0 [sms]
└── openent/portail 1.4.0
    └── openent/notes 1.0.0 [sms]
"
        );
        assert_eq!(
            graph.inverted(&"openent/portail".parse().unwrap(), "idf/lilie"),
            "openent/portail 1.4.0
├── openent/notes 1.0.0 [sms]
└── idf/lilie (asks for it)
"
        );
    }

    #[test]
    fn every_path_from_a_root_is_listed() {
        let resolution = resolution();
        let name = |n: &str| -> ModuleName { n.parse().unwrap() };
        assert_eq!(
            Graph::new(&resolution).paths_to(&name("openent/annuaire")),
            vec![
                vec![name("openent/notes"), name("openent/annuaire")],
                vec![
                    name("openent/notes"),
                    name("openent/portail"),
                    name("openent/annuaire")
                ],
                vec![name("openent/portail"), name("openent/annuaire")],
            ]
        );
    }
}

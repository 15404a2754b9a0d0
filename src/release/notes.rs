//! Release notes of a distribution: what changed between the `oent.lock` of
//! the previous release and the one being released — modules added,
//! removed, upgraded (or downgraded) — and, for each module whose version
//! moved, every option whose default changed between the two versions.

use crate::manifest::Module;
use crate::manifest::lockfile::Lockfile;
use crate::resolve::lock::{ModuleChange, lock_changes};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notes {
    /// Name, version.
    pub added: Vec<(String, String)>,
    pub removed: Vec<(String, String)>,
    /// Name, old version, new version.
    pub upgraded: Vec<(String, String, String)>,
    pub downgraded: Vec<(String, String, String)>,
    /// Module, option, old default (`none` when it had none), new default.
    pub defaults_changed: Vec<(String, String, String, String)>,
    /// Modules whose manifests could not be read to compare defaults.
    pub unchecked: Vec<String>,
}

/// Compares two locks; `manifest(name, version)` reads a module's manifest
/// (from the distribution's registries) for the default comparison.
pub fn compare(
    old: Option<&Lockfile>,
    new: &Lockfile,
    manifest: &dyn Fn(&str, &str) -> Option<Module>,
) -> Notes {
    let mut notes = Notes::default();
    for change in lock_changes(old, new) {
        let ModuleChange { name, old, new } = change;
        match (old, new) {
            (None, Some(version)) => notes.added.push((name, version)),
            (Some(version), None) => notes.removed.push((name, version)),
            (Some(old_version), Some(version)) => {
                let older = semver::Version::parse(&old_version)
                    .ok()
                    .zip(semver::Version::parse(&version).ok())
                    .is_some_and(|(o, n)| o < n);
                match (manifest(&name, &old_version), manifest(&name, &version)) {
                    (Some(o), Some(n)) => defaults(&name, &o, &n, &mut notes.defaults_changed),
                    _ => notes
                        .unchecked
                        .push(format!("{name} {old_version} → {version}")),
                }
                let entry = (name, old_version, version);
                if older {
                    notes.upgraded.push(entry);
                } else {
                    notes.downgraded.push(entry);
                }
            }
            (None, None) => {}
        }
    }
    notes
}

fn defaults(
    name: &str,
    old: &Module,
    new: &Module,
    out: &mut Vec<(String, String, String, String)>,
) {
    let show =
        |v: Option<&serde_json::Value>| v.map_or_else(|| "none".to_owned(), |v| v.to_string());
    for (option, after) in &new.config {
        let before = old.config.get(option).and_then(|o| o.default.as_ref());
        let after = after.default.as_ref();
        let existed = old.config.contains_key(option);
        if existed && before != after {
            out.push((name.to_owned(), option.clone(), show(before), show(after)));
        }
    }
}

impl Notes {
    /// Markdown lines for CHANGELOG.md and the terminal.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let mut group = |title: &str, lines: Vec<String>| {
            if !lines.is_empty() {
                out.push_str(&format!("\n### {title}\n\n"));
                for l in lines {
                    out.push_str(&format!("- {l}\n"));
                }
            }
        };
        group(
            "Modules added",
            self.added
                .iter()
                .map(|(n, v)| format!("`{n}` {v}"))
                .collect(),
        );
        group(
            "Modules removed",
            self.removed
                .iter()
                .map(|(n, v)| format!("`{n}` {v}"))
                .collect(),
        );
        group(
            "Modules upgraded",
            self.upgraded
                .iter()
                .map(|(n, o, v)| format!("`{n}` {o} → {v}"))
                .collect(),
        );
        group(
            "Modules downgraded",
            self.downgraded
                .iter()
                .map(|(n, o, v)| format!("`{n}` {o} → {v}"))
                .collect(),
        );
        group(
            "Defaults changed",
            self.defaults_changed
                .iter()
                .map(|(m, o, b, a)| format!("`{m}` option `{o}`: {b} → {a}"))
                .collect(),
        );
        group(
            "Not compared (manifest not found in the registries)",
            self.unchecked.clone(),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_removed_upgraded() {
        let old = Lockfile::of_versions(&[("openent/a", "1.0.0"), ("openent/b", "1.0.0")]);
        let new = Lockfile::of_versions(&[("openent/a", "1.2.0"), ("openent/c", "2.0.0")]);
        let notes = compare(Some(&old), &new, &|_, _| None);
        assert_eq!(notes.added, [("openent/c".into(), "2.0.0".into())]);
        assert_eq!(notes.removed, [("openent/b".into(), "1.0.0".into())]);
        assert_eq!(
            notes.upgraded,
            [("openent/a".into(), "1.0.0".into(), "1.2.0".into())]
        );
        assert_eq!(notes.unchecked, ["openent/a 1.0.0 → 1.2.0"]);
        let text = notes.to_markdown();
        assert!(
            text.contains("### Modules upgraded\n\n- `openent/a` 1.0.0 → 1.2.0\n"),
            "{text}"
        );
    }
}

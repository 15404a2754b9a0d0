//! Semver from the manifests: what a new `module.yaml` changes for the
//! distributions that use the previous one, each change with the level of
//! release it needs and a sentence naming the option, capability or
//! template. The rules are listed in docs/release.md.

use std::collections::BTreeSet;

use semver::{Version, VersionReq};

use crate::manifest::Module;
use crate::manifest::module::Dependency;
use crate::manifest::option::{ConfigOption, Scope};

/// The smallest release a change needs, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Patch,
    Minor,
    Major,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Patch => "patch",
            Level::Minor => "minor",
            Level::Major => "major",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub level: Level,
    pub message: String,
}

fn change(level: Level, message: impl Into<String>) -> Change {
    Change {
        level,
        message: message.into(),
    }
}

/// The level of going from `old` to `new` (`new` > `old`). Below 1.0.0 the
/// levels shift down, as cargo reads them: 0.x → 0.(x+1) may break.
pub fn bump_level(old: &Version, new: &Version) -> Level {
    if old.major == 0 {
        if new.major > 0 || new.minor != old.minor {
            Level::Major
        } else {
            Level::Minor
        }
    } else if new.major != old.major {
        Level::Major
    } else if new.minor != old.minor {
        Level::Minor
    } else {
        Level::Patch
    }
}

/// Every change from `old` to `new` that needs more than a patch release,
/// sorted by level (major first), then by message.
pub fn compare(old: &Module, new: &Module) -> Vec<Change> {
    let mut out = Vec::new();
    for (name, before) in &old.config {
        match new.config.get(name) {
            None => out.push(change(
                Level::Major,
                format!(
                    "option `{name}` was removed: distributions that set it are refused, and templates of other modules that read it break"
                ),
            )),
            Some(after) => compare_option(name, before, after, &mut out),
        }
    }
    for (name, after) in &new.config {
        if old.config.contains_key(name) {
            continue;
        }
        if after.required && after.default.is_none() {
            out.push(change(
                Level::Major,
                format!(
                    "option `{name}` was added as required without a default: every distribution must now set it"
                ),
            ));
        } else {
            out.push(change(
                Level::Minor,
                format!("option `{name}` was added (with a default or optional)"),
            ));
        }
    }
    let old_provides: BTreeSet<_> = old.provides.iter().collect();
    let new_provides: BTreeSet<_> = new.provides.iter().collect();
    for cap in old_provides.difference(&new_provides) {
        out.push(change(
            Level::Major,
            format!(
                "capability `{cap}` is no longer provided: distributions that ask for it by name no longer resolve to this module"
            ),
        ));
    }
    for cap in new_provides.difference(&old_provides) {
        out.push(change(
            Level::Minor,
            format!("capability `{cap}` is now provided"),
        ));
    }
    let targets =
        |m: &Module| -> BTreeSet<String> { m.templates.iter().map(|t| t.target.clone()).collect() };
    let (old_targets, new_targets) = (targets(old), targets(new));
    for target in old_targets.difference(&new_targets) {
        out.push(change(
            Level::Major,
            format!(
                "template target `{target}` is no longer rendered: deployments that mount or read that file lose it"
            ),
        ));
    }
    for target in new_targets.difference(&old_targets) {
        out.push(change(
            Level::Minor,
            format!("template target `{target}` is now rendered"),
        ));
    }
    compare_dependencies(old, new, &mut out);
    for feature in old.features.keys() {
        if !new.features.contains_key(feature) {
            out.push(change(
                Level::Major,
                format!(
                    "feature `{feature}` was removed: distributions that enable it are refused"
                ),
            ));
        }
    }
    for feature in new.features.keys() {
        if !old.features.contains_key(feature) {
            out.push(change(
                Level::Minor,
                format!("feature `{feature}` was added"),
            ));
        }
    }
    match (&old.service, &new.service) {
        (Some(before), Some(after))
            if before.main_port().map(|p| p.port) != after.main_port().map(|p| p.port) =>
        {
            let port = |s: &crate::manifest::module::Service| {
                s.main_port()
                    .map_or("none".to_owned(), |p| p.port.to_string())
            };
            out.push(change(
                Level::Major,
                format!(
                    "the service's port changed from {} to {}: reverse proxies and network policies written for {} stop reaching it",
                    port(before),
                    port(after),
                    port(before)
                ),
            ))
        }
        (Some(_), None) => out.push(change(
            Level::Major,
            "the service was removed: deployments that route to it break",
        )),
        (None, Some(_)) => out.push(change(Level::Minor, "a service was added")),
        _ => {}
    }
    out.sort_by(|a, b| b.level.cmp(&a.level).then(a.message.cmp(&b.message)));
    out
}

fn compare_option(name: &str, before: &ConfigOption, after: &ConfigOption, out: &mut Vec<Change>) {
    let major = |out: &mut Vec<Change>, text: String| out.push(change(Level::Major, text));
    let minor = |out: &mut Vec<Change>, text: String| out.push(change(Level::Minor, text));
    if before.ty != after.ty {
        major(
            out,
            format!(
                "option `{name}` changed type from `{}` to `{}`: values set for the old type are refused",
                before.ty.name(),
                after.ty.name()
            ),
        );
        // Bounds and values of another type do not compare.
        return;
    }
    if before.items != after.items && matches!(before.ty.name(), "list" | "map") {
        major(
            out,
            format!(
                "option `{name}` changed its items from `{}` to `{}`: values set for the old items are refused",
                before.items.name(),
                after.items.name()
            ),
        );
    }
    if !before.required && after.required && after.default.is_none() {
        major(
            out,
            format!("option `{name}` became required: every distribution must now set it"),
        );
    }
    if before.default.is_some() && after.default.is_none() {
        major(
            out,
            format!(
                "option `{name}` lost its default: distributions that relied on it must now set it"
            ),
        );
    } else if let (Some(b), Some(a)) = (&before.default, &after.default)
        && b != a
    {
        minor(
            out,
            format!("option `{name}`'s default changed from {b} to {a}"),
        );
    } else if before.default.is_none() && after.default.is_some() {
        minor(out, format!("option `{name}` gained a default"));
    }
    match (&before.min, &after.min) {
        (None, Some((_, text))) => major(
            out,
            format!(
                "option `{name}` gained a minimum ({text}): smaller values set so far are refused"
            ),
        ),
        (Some((b, bt)), Some((a, at))) if a > b => major(
            out,
            format!(
                "option `{name}`'s minimum was raised from {bt} to {at}: values between them are refused"
            ),
        ),
        (Some(_), None) => minor(out, format!("option `{name}` no longer has a minimum")),
        (Some((b, bt)), Some((a, at))) if a < b => minor(
            out,
            format!("option `{name}`'s minimum was lowered from {bt} to {at}"),
        ),
        _ => {}
    }
    match (&before.max, &after.max) {
        (None, Some((_, text))) => major(
            out,
            format!(
                "option `{name}` gained a maximum ({text}): larger values set so far are refused"
            ),
        ),
        (Some((b, bt)), Some((a, at))) if a < b => major(
            out,
            format!(
                "option `{name}`'s maximum was lowered from {bt} to {at}: values between them are refused"
            ),
        ),
        (Some(_), None) => minor(out, format!("option `{name}` no longer has a maximum")),
        (Some((b, bt)), Some((a, at))) if a > b => minor(
            out,
            format!("option `{name}`'s maximum was raised from {bt} to {at}"),
        ),
        _ => {}
    }
    for value in &before.values {
        if !after.values.contains(value) {
            major(
                out,
                format!(
                    "option `{name}` no longer accepts the value `{value}`: distributions that chose it are refused"
                ),
            );
        }
    }
    for value in &after.values {
        if !before.values.contains(value) {
            minor(out, format!("option `{name}` now accepts `{value}`"));
        }
    }
    match (before.scope, after.scope) {
        (Scope::Etablissement, Scope::Distribution) => major(
            out,
            format!(
                "option `{name}` can no longer be set per établissement: per-établissement overrides are refused"
            ),
        ),
        (Scope::Distribution, Scope::Etablissement) => minor(
            out,
            format!("option `{name}` can now be set per établissement"),
        ),
        _ => {}
    }
}

/// Requirements: a new required dependency or a narrowed requirement may
/// make a distribution that resolved unresolvable (a conflict, a namespace
/// it cannot reach): major. Loosening, and optional dependencies, are minor.
fn compare_dependencies(old: &Module, new: &Module, out: &mut Vec<Change>) {
    for (name, after) in &new.requires {
        match old.requires.get(name) {
            None if old.optional.contains_key(name) => out.push(change(
                Level::Major,
                format!(
                    "`{name}` changed from optional to required: distributions without it must now add it"
                ),
            )),
            None => out.push(change(
                Level::Major,
                format!(
                    "`{name}` is now required: distributions without it must now resolve it, which may conflict with what they have"
                ),
            )),
            Some(before) => compare_requirement("requires", name, before, after, out),
        }
    }
    for name in old.requires.keys() {
        if !new.requires.contains_key(name) {
            out.push(change(
                Level::Minor,
                format!("`{name}` is no longer required"),
            ));
        }
    }
    for (name, after) in &new.optional {
        match old.optional.get(name) {
            None => out.push(change(
                Level::Minor,
                format!("`{name}` is a new optional dependency"),
            )),
            Some(before) => compare_requirement("optional", name, before, after, out),
        }
    }
    for name in new.conflicts.keys() {
        if !old.conflicts.contains_key(name) {
            out.push(change(
                Level::Major,
                format!(
                    "the module now conflicts with `{name}`: distributions that have both no longer resolve"
                ),
            ));
        }
    }
}

fn compare_requirement(
    set: &str,
    name: &impl std::fmt::Display,
    before: &Dependency,
    after: &Dependency,
    out: &mut Vec<Change>,
) {
    if before.req == after.req {
        return;
    }
    let probes = probes(&before.req, &after.req);
    let narrowed = probes
        .iter()
        .any(|v| before.req.matches(v) && !after.req.matches(v));
    if narrowed {
        out.push(change(
            Level::Major,
            format!(
                "the requirement on `{name}` ({set}) was narrowed from `{}` to `{}`: distributions locked to versions it now excludes must upgrade it",
                before.req, after.req
            ),
        ));
    } else {
        out.push(change(
            Level::Minor,
            format!(
                "the requirement on `{name}` ({set}) was widened from `{}` to `{}`",
                before.req, after.req
            ),
        ));
    }
}

/// Versions around every bound the two requirements mention: if the old
/// requirement accepts one the new refuses, the new one is narrower.
fn probes(a: &VersionReq, b: &VersionReq) -> Vec<Version> {
    let mut out = Vec::new();
    for c in a.comparators.iter().chain(&b.comparators) {
        let base = Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0));
        let mut around = vec![
            base.clone(),
            Version::new(base.major, base.minor, base.patch + 1),
            Version::new(base.major, base.minor + 1, 0),
            Version::new(base.major + 1, 0, 0),
        ];
        if base.patch > 0 {
            around.push(Version::new(base.major, base.minor, base.patch - 1));
        }
        if base.minor > 0 {
            around.push(Version::new(base.major, base.minor - 1, 99));
        }
        if base.major > 0 {
            around.push(Version::new(base.major - 1, 99, 99));
        }
        out.extend(around);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_of_bumps() {
        let v = |s| Version::parse(s).unwrap();
        assert_eq!(bump_level(&v("1.2.3"), &v("1.2.4")), Level::Patch);
        assert_eq!(bump_level(&v("1.2.3"), &v("1.3.0")), Level::Minor);
        assert_eq!(bump_level(&v("1.2.3"), &v("2.0.0")), Level::Major);
        assert_eq!(bump_level(&v("0.2.3"), &v("0.3.0")), Level::Major);
        assert_eq!(bump_level(&v("0.2.3"), &v("0.2.4")), Level::Minor);
    }

    #[test]
    fn narrowing_and_widening_requirements() {
        let req = |s| VersionReq::parse(s).unwrap();
        let narrowed = |a, b| {
            probes(&req(a), &req(b))
                .iter()
                .any(|v| req(a).matches(v) && !req(b).matches(v))
        };
        assert!(narrowed("^2.1", "^2.3"));
        assert!(narrowed(">=3.0, <4", ">=3.2, <4"));
        assert!(!narrowed("^2.3", "^2.1"));
        assert!(!narrowed("^2", ">=2, <4"));
    }
}

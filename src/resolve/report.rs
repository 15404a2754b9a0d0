//! Conflicts as sentences. A reporter of our own over pubgrub's derivation
//! tree: it speaks to the collectivité ("idf/lilie requires … (distribution.yaml:12)"),
//! names modules with the versions that exist rather than raw ranges
//! ("openent/sms-parents 1.0.0 to 1.2.0"), hides the proxy packages of
//! features, and ends with what to change.

use std::collections::BTreeSet;

use pubgrub::{DerivationTree, Derived, External, Term};

use super::RootRequirement;
use super::package::Pkg;
use super::provider::Provider;
use super::ranges::{Key, KeyRanges};
use crate::manifest::names::ModuleName;

type Tree = DerivationTree<Pkg, KeyRanges, String>;

pub(crate) struct Reporter<'p, 'a> {
    pub provider: &'p Provider<'a>,
    pub roots: &'a [RootRequirement],
    pub distribution: &'a str,
}

impl Reporter<'_, '_> {
    /// The explanation, one sentence per line, and apart from it what to
    /// change (hints without their `help: ` prefix: the caller renders them).
    pub fn explain(&self, tree: &Tree) -> (String, Vec<String>) {
        // No `collapse_no_versions`: "openent/sso is not published" is often
        // the very reason; noise of that kind is dropped clause by clause.
        let mut lines = Vec::new();
        self.visit(tree, &mut lines);
        let mut text = String::new();
        for line in &lines {
            text.push_str(&capitalize(line));
            text.push('\n');
        }
        (text, self.help(tree))
    }

    fn visit(&self, tree: &Tree, lines: &mut Vec<String>) {
        match tree {
            DerivationTree::External(external) => {
                if let Some(s) = self.external(external) {
                    lines.push(format!("{s}."));
                }
            }
            DerivationTree::Derived(derived) => self.derived(derived, lines),
        }
    }

    fn derived(&self, derived: &Derived<Pkg, KeyRanges, String>, lines: &mut Vec<String>) {
        let conclusion = self.terms(derived);
        match (derived.cause1.as_ref(), derived.cause2.as_ref()) {
            (DerivationTree::External(a), DerivationTree::External(b)) => {
                let (a_kept, b_kept) = (self.relevant(a, b), self.relevant(b, a));
                let dropped = a_kept.is_none() || b_kept.is_none();
                let reasons: Vec<String> = [
                    a_kept.and_then(|a| self.external(a)),
                    b_kept.and_then(|b| self.external(b)),
                ]
                .into_iter()
                .flatten()
                .collect();
                match reasons.as_slice() {
                    [] => lines.push(format!("{conclusion}.")),
                    // What remains is the fact itself; its narrowed restatement adds nothing.
                    [one] if dropped => lines.push(format!("{one}.")),
                    [one] => lines.push(format!("because {one}, {conclusion}.")),
                    [one, two] => lines.push(format!("because {one} and {two}, {conclusion}.")),
                    _ => unreachable!("two causes at most"),
                }
            }
            (DerivationTree::Derived(inner), DerivationTree::External(e))
            | (DerivationTree::External(e), DerivationTree::Derived(inner)) => {
                self.derived(inner, lines);
                if self.is_noise(e) {
                    return;
                }
                match self.external(e) {
                    Some(reason) => lines.push(format!("and because {reason}, {conclusion}.")),
                    None => lines.push(format!("so {conclusion}.")),
                }
            }
            (DerivationTree::Derived(a), DerivationTree::Derived(b)) => {
                self.derived(a, lines);
                self.derived(b, lines);
                lines.push(format!("together, {conclusion}."));
            }
        }
    }

    /// `None` for "no version of X matches R" when R holds no published
    /// version and the other cause is about a module's own content: true, but
    /// only noise next to the real reason ("1.6.0 has no feature `sms`").
    fn relevant<'t>(
        &self,
        this: &'t External<Pkg, KeyRanges, String>,
        other: &External<Pkg, KeyRanges, String>,
    ) -> Option<&'t External<Pkg, KeyRanges, String>> {
        let External::NoVersions(pkg, range) = this else {
            return Some(this);
        };
        let other_is_content = matches!(other, External::Custom(..))
            || matches!(other, External::FromDependencyOf(p, ..) if !matches!(p, Pkg::Root(_)));
        let empty_range = pkg
            .module()
            .and_then(|m| self.provider.candidates(m).ok())
            .is_some_and(|cs| {
                !cs.is_empty() && !cs.iter().any(|c| range.contains(&Key::of(&c.version)))
            });
        if other_is_content && empty_range {
            None
        } else {
            Some(this)
        }
    }

    /// "No other version of X exists": implied by the versions already named.
    fn is_noise(&self, external: &External<Pkg, KeyRanges, String>) -> bool {
        let External::NoVersions(pkg, range) = external else {
            return false;
        };
        pkg.module()
            .and_then(|m| self.provider.candidates(m).ok())
            .is_some_and(|cs| {
                !cs.is_empty() && !cs.iter().any(|c| range.contains(&Key::of(&c.version)))
            })
    }

    /// One fact from the registries or the distribution, as a clause.
    fn external(&self, external: &External<Pkg, KeyRanges, String>) -> Option<String> {
        match external {
            External::NotRoot(..) => None,
            External::NoVersions(pkg, range) => Some(self.no_versions(pkg, range)),
            External::Custom(_, _, reason) => Some(reason.clone()),
            External::FromDependencyOf(Pkg::Root(_), _, dep, _) => {
                let name = dep.module()?;
                let root = self.roots.iter().find(|r| &r.name == name)?;
                let what = match dep {
                    Pkg::Feature(_, f) => format!("feature `{f}` of {name} {}", root.req),
                    _ => format!("{name} {}", root.req),
                };
                Some(format!(
                    "{} requires {what} ({})",
                    self.distribution, root.origin
                ))
            }
            // A feature's proxy is the module itself: say nothing.
            External::FromDependencyOf(Pkg::Feature(m, _), _, Pkg::Module(d), _) if m == d => None,
            External::FromDependencyOf(pkg, range, dep, dep_range) => {
                Some(self.dependency(pkg, range, dep, dep_range))
            }
        }
    }

    fn dependency(&self, pkg: &Pkg, range: &KeyRanges, dep: &Pkg, dep_range: &KeyRanges) -> String {
        let subject = match pkg {
            Pkg::Feature(m, f) => format!("feature `{f}` of {}", self.versions_of(m, range)),
            _ => pkg
                .module()
                .map_or_else(|| pkg.to_string(), |m| self.versions_of(m, range)),
        };
        let Some(dep_name) = dep.module() else {
            return format!("{subject} requires {dep}");
        };
        // Say it with the requirement as written in module.yaml when we can find it.
        let candidate = pkg.module().and_then(|m| {
            let cs = self.provider.candidates(m).ok()?;
            cs.iter()
                .filter(|c| range.contains(&Key::of(&c.version)))
                .max_by(|a, b| a.version.cmp(&b.version))
                .cloned()
        });
        if let Some(c) = candidate.as_ref().and_then(|c| c.contents().ok()) {
            if let Some((_, req)) = c.requires.iter().find(|(n, _)| n == dep_name) {
                return format!("{subject} requires {dep_name} {req}");
            }
            if let Some((_, req)) = c.conflicts.iter().find(|(n, _)| n == dep_name) {
                return format!("{subject} conflicts with {dep_name} {req}");
            }
            if let Some((_, req)) = c.optional.iter().find(|(n, _)| n == dep_name) {
                let verb = if dep_range.contains(&Key::Absent) {
                    "accepts only"
                } else {
                    "requires"
                };
                return format!("{subject} {verb} {dep_name} {req}");
            }
        }
        format!(
            "{subject} requires {}",
            self.versions_of(dep_name, dep_range)
        )
    }

    fn no_versions(&self, pkg: &Pkg, range: &KeyRanges) -> String {
        let Some(name) = pkg.module() else {
            return format!("{pkg} has no version");
        };
        match self.provider.candidates(name) {
            Ok(cs) if cs.is_empty() => format!(
                "{name} is not published in the registry that serves namespace `{}`",
                name.namespace()
            ),
            Ok(cs) => {
                let yanked: Vec<String> = cs
                    .iter()
                    .filter(|c| c.yanked && range.contains(&Key::of(&c.version)))
                    .map(|c| c.version.to_string())
                    .collect();
                let published = published_list(
                    &cs.iter()
                        .filter(|c| !c.yanked)
                        .map(|c| c.version.clone())
                        .collect::<Vec<_>>(),
                );
                // Say the requirement as the distribution wrote it, when it is one.
                let wanted = self
                    .roots
                    .iter()
                    .find(|r| &r.name == name && &super::ranges::to_ranges(&r.req) == range)
                    .map_or_else(|| range_text(range), |r| r.req.to_string());
                let yanked = match yanked.as_slice() {
                    [] => String::new(),
                    [one] => format!("; {one} is yanked"),
                    many => format!("; {} are yanked", many.join(", ")),
                };
                format!("no version of {name} matches {wanted} (published: {published}{yanked})")
            }
            Err(e) => e.to_string(),
        }
    }

    /// `openent/x 1.2.0`, `openent/x 1.0.0 to 1.4.2`, `any version of openent/x`, by the versions that exist.
    fn versions_of(&self, name: &ModuleName, range: &KeyRanges) -> String {
        let mut versions: Vec<_> = self
            .provider
            .candidates(name)
            .map(|cs| cs.iter().map(|c| c.version.clone()).collect())
            .unwrap_or_default();
        versions.sort();
        let inside: Vec<_> = versions
            .iter()
            .filter(|v| range.contains(&Key::of(v)))
            .collect();
        match inside.as_slice() {
            [] => format!("{name} {}", range_text(range)),
            [one] => format!("{name} {one}"),
            _ if inside.len() == versions.len() => format!("every version of {name}"),
            [first, .., last] => format!("{name} {first} to {last}"),
        }
    }

    /// The derived incompatibility, as the conclusion of a sentence.
    fn terms(&self, derived: &Derived<Pkg, KeyRanges, String>) -> String {
        let terms: Vec<(&Pkg, &Term<KeyRanges>)> = derived
            .terms
            .iter()
            .filter(|(p, _)| !matches!(p, Pkg::Root(_)))
            .collect();
        let has_root = derived.terms.keys().any(|p| matches!(p, Pkg::Root(_)));
        let positive: Vec<_> = terms
            .iter()
            .filter_map(|(p, t)| {
                if let Term::Positive(r) = t {
                    Some((*p, r))
                } else {
                    None
                }
            })
            .collect();
        let negative: Vec<_> = terms
            .iter()
            .filter_map(|(p, t)| {
                if let Term::Negative(r) = t {
                    Some((*p, r))
                } else {
                    None
                }
            })
            .collect();
        match (positive.as_slice(), negative.as_slice()) {
            ([], []) => format!(
                "the modules {} asks for cannot all be installed together",
                self.distribution
            ),
            ([], [(q, s)]) if has_root => {
                format!("{} {}", self.distribution, self.requirement(q, s))
            }
            ([(p, r)], []) => {
                let subject = self.describe(p, r);
                match subject.strip_prefix("every version of ") {
                    Some(name) => format!("no version of {name} can be used"),
                    None => format!("{subject} cannot be used"),
                }
            }
            ([(p, r)], [(q, s)]) => format!("{} {}", self.describe(p, r), self.requirement(q, s)),
            _ => {
                let all: Vec<String> = positive
                    .iter()
                    .map(|(p, r)| self.describe(p, r))
                    .chain(
                        negative
                            .iter()
                            .map(|(q, s)| self.describe(q, &s.complement())),
                    )
                    .collect();
                format!("{} cannot be installed together", all.join(" and "))
            }
        }
    }

    fn describe(&self, p: &Pkg, r: &KeyRanges) -> String {
        match p {
            Pkg::Feature(m, f) => format!("feature `{f}` of {}", self.versions_of(m, r)),
            _ => p
                .module()
                .map_or_else(|| p.to_string(), |m| self.versions_of(m, r)),
        }
    }

    /// "requires X 2.0.0", "cannot be installed with X", "accepts only X 1.0.0 to 1.2.0":
    /// the allowed set `s` of `q` may include "absent".
    fn requirement(&self, q: &Pkg, s: &KeyRanges) -> String {
        let Some(name) = q.module() else {
            return format!("requires {q}");
        };
        if !s.contains(&Key::Absent) {
            return format!("requires {}", self.describe(q, s));
        }
        let any_version = self
            .provider
            .candidates(name)
            .is_ok_and(|cs| cs.iter().any(|c| s.contains(&Key::of(&c.version))));
        if any_version {
            format!("accepts only {} (or none)", self.describe(q, s))
        } else {
            format!("cannot be installed with {name}")
        }
    }

    fn help(&self, tree: &Tree) -> Vec<String> {
        let mut roots = BTreeSet::new();
        collect_roots(tree, &mut roots);
        let involved: Vec<&RootRequirement> = self
            .roots
            .iter()
            .filter(|r| roots.contains(&r.name))
            .collect();
        let mut help = Vec::new();
        match involved.as_slice() {
            [] => {}
            [one] => help.push(format!(
                "change the requirement on {} at {}, or publish a version that fits",
                one.name, one.origin
            )),
            many => help.push(format!(
                "relax one of the requirements of the distribution: {}",
                many.iter()
                    .map(|r| format!("{} {} ({})", r.name, r.req, r.origin))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
        help
    }
}

fn collect_roots(tree: &Tree, out: &mut BTreeSet<ModuleName>) {
    match tree {
        DerivationTree::External(External::FromDependencyOf(Pkg::Root(_), _, dep, _)) => {
            if let Some(m) = dep.module() {
                out.insert(m.clone());
            }
        }
        DerivationTree::External(_) => {}
        DerivationTree::Derived(d) => {
            collect_roots(&d.cause1, out);
            collect_roots(&d.cause2, out);
        }
    }
}

fn published_list(versions: &[semver::Version]) -> String {
    let mut versions = versions.to_vec();
    versions.sort();
    match versions.len() {
        0 => "none".into(),
        1..=6 => versions
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        n => format!("{} … {} ({n} versions)", versions[0], versions[n - 1]),
    }
}

/// A range without the pre-release artefacts of the key encoding.
fn range_text(range: &KeyRanges) -> String {
    range
        .to_string()
        .replace("-0", "")
        .replace("(absent)", "absent")
}

/// Sentences start with a capital, but module and distribution names keep their case.
fn capitalize(s: &str) -> String {
    if !["because ", "and ", "so ", "together", "no ", "every "]
        .iter()
        .any(|w| s.starts_with(w))
    {
        return s.to_owned();
    }
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

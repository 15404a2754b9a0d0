//! A distribution's licence policy (`licence:` in distribution.yaml) and its
//! evaluation over a resolution: every module's SPDX expression (`OR` is a
//! choice, `AND` needs every part) against the policy's table, its `allow`
//! and `deny` lists, then every dependency edge for licences that cannot be
//! combined with each other. Each problem names the reason and the chain of
//! modules from the distribution that pulls the module in.

use std::collections::{BTreeMap, VecDeque};

use super::compat::{self, Verdict};
use crate::manifest::distribution::{DistributionChain, LicenceSection};
use crate::manifest::etablissement::Origin;
use crate::manifest::names::ModuleName;
use crate::manifest::{Code, Diagnostic, Module};
use crate::resolve::Resolution;

/// The policy in force for a distribution.
#[derive(Debug, Clone)]
pub struct Policy {
    pub name: &'static str,
    allow: Vec<(String, Origin)>,
    deny: Vec<(String, Origin)>,
}

/// The verdict on one licence of an expression, with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub licence: String,
    pub allowed: bool,
    pub reason: String,
}

impl Policy {
    pub const DEFAULT: &'static str = "cecill-2.1";

    pub fn of(chain: &DistributionChain) -> Policy {
        Policy::from_section(chain.licence())
    }

    pub fn from_section(section: Option<&LicenceSection>) -> Policy {
        Policy {
            name: section.and_then(|s| s.policy).unwrap_or(Policy::DEFAULT),
            allow: section.map(|s| s.allow.clone()).unwrap_or_default(),
            deny: section.map(|s| s.deny.clone()).unwrap_or_default(),
        }
    }

    /// The verdict on one licence (`MIT`, `AGPL-3.0-only WITH …`).
    pub fn judge(&self, req: &spdx::LicenseReq) -> Judgement {
        let full = req.to_string();
        let name = req.license.to_string();
        let listed = |list: &[(String, Origin)]| {
            list.iter()
                .find(|(l, _)| *l == full || *l == name)
                .map(|(_, o)| o.clone())
        };
        let (allowed, reason) = if let Some(origin) = listed(&self.deny) {
            (false, format!("`licence.deny` lists it ({origin})"))
        } else if let Some(origin) = listed(&self.allow) {
            (true, format!("`licence.allow` lists it ({origin})"))
        } else {
            let verdict = compat::verdict(name.trim_end_matches('+'));
            let mut reason = verdict.reason().to_owned();
            if verdict.allowed() && req.addition.is_some() {
                reason.push_str("; its `WITH` exception only adds permissions");
            }
            (verdict.allowed(), reason)
        };
        Judgement {
            licence: full,
            allowed,
            reason,
        }
    }

    /// Whether an expression is acceptable; when not, the licences that fail it.
    pub fn evaluate(&self, expression: &str) -> Result<Vec<Judgement>, Vec<Judgement>> {
        let Ok(expr) = spdx::Expression::parse(expression) else {
            return Err(vec![Judgement {
                licence: expression.to_owned(),
                allowed: false,
                reason: "not a valid SPDX expression".into(),
            }]);
        };
        let judged: Vec<Judgement> = expr.requirements().map(|r| self.judge(&r.req)).collect();
        if expr.evaluate(|req| self.judge(req).allowed) {
            Ok(judged.into_iter().filter(|j| j.allowed).collect())
        } else {
            Err(judged.into_iter().filter(|j| !j.allowed).collect())
        }
    }
}

/// `idf/lilie → openent/a 1.0.0 → openent/b 2.0.0`: the shortest chain of
/// requirements from the distribution to `target`.
pub fn chain_to(distribution: &str, resolution: &Resolution, target: &ModuleName) -> String {
    let mut previous: BTreeMap<&ModuleName, Option<&ModuleName>> = BTreeMap::new();
    let mut queue = VecDeque::new();
    for root in &resolution.roots {
        if !previous.contains_key(root) {
            previous.insert(root, None);
            queue.push_back(root);
        }
    }
    while let Some(name) = queue.pop_front() {
        if name == target {
            break;
        }
        for dep in resolution
            .modules
            .get(name)
            .map(|m| m.requires.as_slice())
            .unwrap_or_default()
        {
            if !previous.contains_key(dep) {
                previous.insert(dep, Some(name));
                queue.push_back(dep);
            }
        }
    }
    let mut path = Vec::new();
    let mut current = Some(target);
    while let Some(name) = current {
        let version = resolution
            .modules
            .get(name)
            .map(|m| format!(" {}", m.version))
            .unwrap_or_default();
        path.push(format!("{name}{version}"));
        current = previous.get(name).copied().flatten();
    }
    path.push(distribution.to_owned());
    path.reverse();
    path.join(" → ")
}

/// Every licence problem of a resolved distribution: modules whose licence
/// the policy refuses (E037), and modules that require a module whose
/// licence cannot be combined with theirs (E038).
pub fn check(
    chain: &DistributionChain,
    resolution: &Resolution,
    modules: &BTreeMap<ModuleName, Module>,
) -> Vec<Diagnostic> {
    let policy = Policy::of(chain);
    let top = chain.top();
    let distribution = top.name.to_string();
    let mut out = Vec::new();
    for (name, module) in modules {
        if let Err(failed) = policy.evaluate(&module.licence) {
            let reasons: Vec<String> = failed
                .iter()
                .map(|j| format!("`{}`: {}", j.licence, j.reason))
                .collect();
            out.push(
                Diagnostic::new(
                    Code::LicenceDenied,
                    &top.manifest_path,
                    format!(
                        "{name} {} is under `{}`, which the {} policy refuses: {}; pulled in by {}",
                        module.version,
                        module.licence,
                        policy.name,
                        reasons.join("; "),
                        chain_to(&distribution, resolution, name)
                    ),
                )
                .key("licence")
                .help("replace the module, or accept its licence with `licence: { allow: [ID] }` once reviewed"),
            );
        }
    }
    for (name, module) in modules {
        let Some(resolved) = resolution.modules.get(name) else {
            continue;
        };
        for dep in &resolved.requires {
            let Some(dep_module) = modules.get(dep) else {
                continue;
            };
            if let Some(reason) = pair_conflict(&policy, &module.licence, &dep_module.licence) {
                out.push(
                    Diagnostic::new(
                        Code::LicenceConflict,
                        &top.manifest_path,
                        format!(
                            "{name} {} (`{}`) requires {dep} {} (`{}`), and they cannot be combined: {reason}; pulled in by {}",
                            module.version,
                            module.licence,
                            dep_module.version,
                            dep_module.licence,
                            chain_to(&distribution, resolution, dep)
                        ),
                    )
                    .key("modules")
                    .help("choose versions or modules whose licences can be combined, or deploy them in separate distributions"),
                );
            }
        }
    }
    out
}

/// Why two expressions cannot be combined: `None` when some choice of
/// licences on each side avoids every known conflict.
fn pair_conflict(policy: &Policy, a: &str, b: &str) -> Option<&'static str> {
    let (Ok(ea), Ok(eb)) = (spdx::Expression::parse(a), spdx::Expression::parse(b)) else {
        return None;
    };
    let name = |r: &spdx::LicenseReq| r.license.to_string();
    let mut reason = None;
    let fine = ea.evaluate(|ra| {
        policy.judge(ra).allowed
            && eb.evaluate(|rb| {
                let found = compat::conflict(&name(ra), &name(rb));
                if found.is_some() {
                    reason = reason.or(found);
                }
                policy.judge(rb).allowed && found.is_none()
            })
    });
    if fine { None } else { reason }
}

/// The verdict of the table alone, for reports.
pub fn table_verdict(id: &str) -> Verdict {
    compat::verdict(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn or_is_a_choice_and_and_needs_all() {
        let p = Policy::from_section(None);
        assert!(
            p.evaluate("MIT AND LGPL-2.1-only AND (IPL-1.0 OR EPL-2.0)")
                .is_ok()
        );
        assert!(p.evaluate("SSPL-1.0 OR AGPL-3.0-only").is_ok());
        let failed = p.evaluate("MIT AND SSPL-1.0").unwrap_err();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].licence, "SSPL-1.0");
    }

    #[test]
    fn conflicts_consider_choices() {
        let p = Policy::from_section(None);
        assert!(pair_conflict(&p, "GPL-2.0-only", "Apache-2.0").is_some());
        assert!(pair_conflict(&p, "GPL-2.0-only", "Apache-2.0 OR MIT").is_none());
        assert!(pair_conflict(&p, "GPL-2.0-or-later", "Apache-2.0").is_none());
    }
}

//! `oent licences`: every module of a resolved distribution with its
//! version, licence and the policy's verdict, the sha256 of its archive,
//! the forge it comes from, its sources, and for forks their base and
//! reversal status. Three renderings of one list, each byte-stable (dates
//! come from `SOURCE_DATE_EPOCH`, 0 when unset; identifiers from the
//! distribution's name, version and lock):
//!
//! - Markdown, for people;
//! - SPDX 2.3 JSON (<https://spdx.github.io/spdx-spec/v2.3/>);
//! - CycloneDX 1.5 JSON (<https://cyclonedx.org/docs/1.5/json/>).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::policy::{Policy, chain_to};
use crate::contribute::status::{ForkStatus, Reversal};
use crate::manifest::Module;
use crate::manifest::distribution::{DistributionChain, RegistryLocation};
use crate::manifest::names::ModuleName;
use crate::package::checksum::sha256_hex;
use crate::resolve::Resolution;

const TOOL: &str = concat!("oent-", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Spdx,
    CycloneDx,
}

/// One module of the report.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: ModuleName,
    pub version: String,
    pub licence: String,
    /// `allowed` or `refused: reasons`.
    pub verdict: Result<String, String>,
    pub sha256: String,
    /// The registry's name and, for a remote one, its URL.
    pub registry: String,
    pub origin_url: Option<String>,
    pub repository: Option<String>,
    pub requires: Vec<ModuleName>,
    pub chain: String,
    pub fork_of: Option<String>,
    pub reversal: Option<String>,
}

/// The whole report.
#[derive(Debug, Clone)]
pub struct Report {
    pub distribution: String,
    pub version: String,
    pub collectivite: Option<String>,
    pub policy: &'static str,
    pub roots: Vec<ModuleName>,
    /// sha256 of the lock's text, for stable document identifiers.
    pub lock_sha256: String,
    pub rows: Vec<Row>,
}

pub fn report(
    chain: &DistributionChain,
    lock_text: &str,
    resolution: &Resolution,
    modules: &BTreeMap<ModuleName, Module>,
    forks: &[ForkStatus],
) -> Report {
    let top = chain.top();
    let policy = Policy::of(chain);
    let registries = chain.registries();
    let forks: BTreeMap<&ModuleName, &ForkStatus> = forks.iter().map(|f| (&f.fork, f)).collect();
    let distribution = top.name.to_string();
    let rows = resolution
        .modules
        .values()
        .map(|r| {
            let module = modules.get(&r.name);
            let licence = module.map(|m| m.licence.clone()).unwrap_or_default();
            let verdict = match policy.evaluate(&licence) {
                Ok(_) => Ok("allowed".to_owned()),
                Err(failed) => Err(failed
                    .iter()
                    .map(|j| format!("{}: {}", j.licence, j.reason))
                    .collect::<Vec<_>>()
                    .join("; ")),
            };
            let origin_url = registries
                .iter()
                .find(|s| s.name == r.source)
                .and_then(|s| match &s.location {
                    RegistryLocation::Url(u) => Some(u.clone()),
                    RegistryLocation::Path(_) => None,
                });
            let fork = forks.get(&r.name);
            Row {
                name: r.name.clone(),
                version: r.version.to_string(),
                licence,
                verdict,
                sha256: r.sha256.clone(),
                registry: r.source.clone(),
                origin_url,
                repository: module.and_then(|m| m.repository.clone()),
                requires: r.requires.clone(),
                chain: chain_to(&distribution, resolution, &r.name),
                fork_of: module
                    .and_then(|m| m.fork_of.as_ref())
                    .map(|(n, v)| format!("{n}@{v}")),
                reversal: fork.map(|f| reversal_text(f)),
            }
        })
        .collect();
    Report {
        distribution,
        version: top.version.to_string(),
        collectivite: chain
            .layers
            .iter()
            .rev()
            .find_map(|l| l.collectivite.as_ref())
            .map(|c| c.nom.clone()),
        policy: policy.name,
        roots: resolution.roots.clone(),
        lock_sha256: sha256_hex(lock_text.as_bytes()),
        rows,
    }
}

fn reversal_text(f: &ForkStatus) -> String {
    match &f.reversal {
        Reversal::Identical => "identical to its base".into(),
        Reversal::Reversed(c) => format!(
            "reversed: {} ({}, {} {})",
            f.diff.summary(),
            c.method.as_str(),
            c.branch,
            c.commit
        ),
        Reversal::Debt => format!("unreversed: {}", f.diff.summary()),
    }
}

impl Report {
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Markdown => self.markdown(),
            Format::Spdx => pretty(&self.spdx()),
            Format::CycloneDx => pretty(&self.cyclonedx()),
        }
    }

    /// Whether any module is refused by the policy.
    pub fn has_refusals(&self) -> bool {
        self.rows.iter().any(|r| r.verdict.is_err())
    }

    fn markdown(&self) -> String {
        let cell = |s: &str| s.replace('|', "\\|");
        let mut text = format!(
            "# Licences — {} {}\n\nPolicy: `{}` (docs/licences.md). Every module, its licence, the archive it was built from, where it comes from and, for forks, whether their changes went back upstream.\n\n| module | version | licence | verdict | sha256 | registry | sources | fork of | reversal |\n|---|---|---|---|---|---|---|---|---|\n",
            self.distribution, self.version, self.policy
        );
        for r in &self.rows {
            let verdict = match &r.verdict {
                Ok(v) => v.clone(),
                Err(e) => format!("**refused**: {e}"),
            };
            let registry = match &r.origin_url {
                Some(u) => format!("{} ({u})", r.registry),
                None => r.registry.clone(),
            };
            text.push_str(&format!(
                "| {} | {} | `{}` | {} | `{}` | {} | {} | {} | {} |\n",
                r.name,
                r.version,
                cell(&r.licence),
                cell(&verdict),
                &r.sha256,
                cell(&registry),
                r.repository.as_deref().unwrap_or("—"),
                r.fork_of.as_deref().unwrap_or("—"),
                r.reversal.as_deref().map_or("—".into(), cell),
            ));
        }
        text
    }

    fn created(&self) -> String {
        let epoch = crate::package::archive::source_date_epoch();
        crate::registry::time::rfc3339(epoch as i64)
    }

    fn spdx_id(name: &ModuleName) -> String {
        format!("SPDXRef-Module-{}-{}", name.namespace(), name.short_name())
    }

    fn spdx(&self) -> Value {
        let created = self.created();
        let dist_id = "SPDXRef-Distribution";
        let mut packages = vec![json!({
            "SPDXID": dist_id,
            "name": self.distribution,
            "versionInfo": self.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "comment": format!("oent distribution; licence policy `{}`", self.policy),
        })];
        let mut relationships = vec![json!({
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": dist_id,
        })];
        for root in &self.roots {
            relationships.push(json!({
                "spdxElementId": dist_id,
                "relationshipType": "DEPENDS_ON",
                "relatedSpdxElement": Report::spdx_id(root),
            }));
        }
        let mut refs = std::collections::BTreeSet::new();
        for r in &self.rows {
            let mut package = json!({
                "SPDXID": Report::spdx_id(&r.name),
                "name": r.name.to_string(),
                "versionInfo": r.version,
                "downloadLocation": r.origin_url.clone().unwrap_or_else(|| "NOASSERTION".into()),
                "filesAnalyzed": false,
                "checksums": [{ "algorithm": "SHA256", "checksumValue": r.sha256 }],
                "licenseConcluded": if r.verdict.is_ok() { r.licence.clone() } else { "NOASSERTION".into() },
                "licenseDeclared": r.licence,
                "copyrightText": "NOASSERTION",
                "comment": format!("registry `{}`; pulled in by {}", r.registry, r.chain),
            });
            if let Some(repo) = &r.repository {
                package["sourceInfo"] = json!(format!("sources: {repo}"));
                package["externalRefs"] = json!([{
                    "referenceCategory": "OTHER",
                    "referenceType": "vcs",
                    "referenceLocator": repo,
                }]);
            }
            if let (Some(base), Some(reversal)) = (&r.fork_of, &r.reversal) {
                package["annotations"] = json!([{
                    "annotationDate": created,
                    "annotationType": "OTHER",
                    "annotator": format!("Tool: {TOOL}"),
                    "comment": format!("fork of {base}; {reversal}"),
                }]);
            }
            packages.push(package);
            for dep in &r.requires {
                relationships.push(json!({
                    "spdxElementId": Report::spdx_id(&r.name),
                    "relationshipType": "DEPENDS_ON",
                    "relatedSpdxElement": Report::spdx_id(dep),
                }));
            }
            if let Ok(expr) = spdx::Expression::parse(&r.licence) {
                for req in expr.requirements() {
                    if let spdx::LicenseItem::Other(other) = &req.req.license {
                        refs.insert(format!("LicenseRef-{}", other.lic_ref));
                    }
                }
            }
        }
        let mut doc = json!({
            "spdxVersion": "SPDX-2.3",
            "dataLicense": "CC0-1.0",
            "SPDXID": "SPDXRef-DOCUMENT",
            "name": format!("{} {}", self.distribution, self.version),
            "documentNamespace": format!(
                "https://oent.example.org/spdx/{}/{}-{}",
                self.distribution,
                self.version,
                &self.lock_sha256[..16]
            ),
            "creationInfo": {
                "created": created,
                "creators": self.creators(),
            },
            "documentDescribes": [dist_id],
            "packages": packages,
            "relationships": relationships,
        });
        if !refs.is_empty() {
            doc["hasExtractedLicensingInfos"] = refs
                .into_iter()
                .map(|id| {
                    json!({
                        "licenseId": id,
                        "extractedText": "Not on the SPDX licence list: see the module's repository for the text.",
                    })
                })
                .collect();
        }
        doc
    }

    fn creators(&self) -> Vec<String> {
        let mut creators = vec![format!("Tool: {TOOL}")];
        if let Some(c) = &self.collectivite {
            creators.push(format!("Organization: {c}"));
        }
        creators
    }

    fn bom_ref(name: &ModuleName, version: &str) -> String {
        format!("{name}@{version}")
    }

    fn cyclonedx(&self) -> Value {
        let hash = sha256_hex(
            format!(
                "{}\n{}\n{}",
                self.distribution, self.version, self.lock_sha256
            )
            .as_bytes(),
        );
        // A name-based UUID (version 5 layout) from the hash: stable.
        let serial = format!(
            "urn:uuid:{}-{}-5{}-{:x}{}-{}",
            &hash[0..8],
            &hash[8..12],
            &hash[13..16],
            8 | (u8::from_str_radix(&hash[16..17], 16).unwrap_or(0) & 3),
            &hash[17..20],
            &hash[20..32]
        );
        let dist_ref = format!("{}@{}", self.distribution, self.version);
        let components: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let mut c = json!({
                    "type": "application",
                    "bom-ref": Report::bom_ref(&r.name, &r.version),
                    "group": r.name.namespace(),
                    "name": r.name.short_name(),
                    "version": r.version,
                    "hashes": [{ "alg": "SHA-256", "content": r.sha256 }],
                    "licenses": [{ "expression": r.licence }],
                });
                let mut external = Vec::new();
                if let Some(repo) = &r.repository {
                    external.push(json!({ "type": "vcs", "url": repo }));
                }
                if let Some(url) = &r.origin_url {
                    external.push(json!({ "type": "distribution", "url": url }));
                }
                if !external.is_empty() {
                    c["externalReferences"] = json!(external);
                }
                let mut properties = vec![
                    json!({ "name": "oent:registry", "value": r.registry }),
                    json!({ "name": "oent:licence-verdict", "value": match &r.verdict { Ok(v) => v.clone(), Err(e) => format!("refused: {e}") } }),
                ];
                if let Some(base) = &r.fork_of {
                    properties.push(json!({ "name": "oent:fork-of", "value": base }));
                }
                if let Some(reversal) = &r.reversal {
                    properties.push(json!({ "name": "oent:reversal", "value": reversal }));
                }
                c["properties"] = json!(properties);
                c
            })
            .collect();
        let by_name: BTreeMap<&ModuleName, &Row> = self.rows.iter().map(|r| (&r.name, r)).collect();
        let dep_ref = |n: &ModuleName| {
            by_name
                .get(n)
                .map(|r| Report::bom_ref(&r.name, &r.version))
                .unwrap_or_else(|| n.to_string())
        };
        let mut dependencies = vec![json!({
            "ref": dist_ref,
            "dependsOn": self.roots.iter().map(dep_ref).collect::<Vec<_>>(),
        })];
        for r in &self.rows {
            dependencies.push(json!({
                "ref": Report::bom_ref(&r.name, &r.version),
                "dependsOn": r.requires.iter().map(dep_ref).collect::<Vec<_>>(),
            }));
        }
        let mut component = json!({
            "type": "application",
            "bom-ref": dist_ref,
            "name": self.distribution,
            "version": self.version,
        });
        if let Some(c) = &self.collectivite {
            component["supplier"] = json!({ "name": c });
        }
        json!({
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "serialNumber": serial,
            "version": 1,
            "metadata": {
                "timestamp": self.created(),
                "tools": { "components": [{ "type": "application", "name": "oent", "version": env!("CARGO_PKG_VERSION") }] },
                "component": component,
                "properties": [{ "name": "oent:licence-policy", "value": self.policy }],
            },
            "components": components,
            "dependencies": dependencies,
        })
    }
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("JSON values serialise");
    text.push('\n');
    text
}

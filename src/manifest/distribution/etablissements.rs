//! The `etablissements:` key of a distribution: a CSV file, an inline list,
//! and per-établissement overrides.

use std::collections::BTreeMap;
use std::path::Path;

use super::parse::module_values;
use crate::manifest::diagnostic::Code;
use crate::manifest::etablissement::{self, Etablissement, Origin, RawEtablissement, node_str};
use crate::manifest::fields::Checker;
use crate::manifest::formats;
use crate::manifest::yaml::{Node, NodeKind};

pub(super) fn etablissements(checker: &mut Checker, node: &Node, dir: &Path) -> Vec<Etablissement> {
    match &node.kind {
        NodeKind::Seq(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| inline_etablissement(checker, item, i))
            .collect(),
        NodeKind::Map(_) => {
            let Some(fields) =
                checker.map(node, "etablissements", node.span, &["file", "overrides"])
            else {
                return Vec::new();
            };
            let Some(file_node) = fields.required(checker, "file", "etablissements.csv") else {
                return Vec::new();
            };
            let Some(file) = checker.string(file_node, "etablissements.file") else {
                return Vec::new();
            };
            let mut list = etablissement::read_csv(checker, &dir.join(&file), file_node);
            if let Some(overrides) = fields.get("overrides") {
                apply_overrides(checker, overrides, &mut list);
            }
            list
        }
        _ => {
            checker.wrong_type(
                node,
                "etablissements",
                "a list of établissements or `{ file: etablissements.csv }`",
            );
            Vec::new()
        }
    }
}

fn apply_overrides(checker: &mut Checker, node: &Node, list: &mut [Etablissement]) {
    let Some(entries) = checker.entries(node, "etablissements.overrides") else {
        return;
    };
    for (k, v) in entries {
        let path = format!("etablissements.overrides.{}", k.name);
        match list.iter_mut().find(|e| e.uai == k.name) {
            Some(etab) => etab.config = module_values(checker, v, &path),
            None => {
                let help = match formats::check_uai(&k.name) {
                    Err(e) => e,
                    Ok(()) => {
                        "add the établissement to the CSV file, or remove this override".into()
                    }
                };
                checker.report(
                    Code::InvalidEtablissement,
                    k.span,
                    &path,
                    format!(
                        "override for UAI `{}`, which is not in the établissements list",
                        k.name
                    ),
                    help,
                );
            }
        }
    }
}

fn inline_etablissement(checker: &mut Checker, item: &Node, i: usize) -> Option<Etablissement> {
    let path = format!("etablissements[{i}]");
    let fields = checker.map(item, &path, item.span, etablissement::INLINE_KEYS)?;
    let text = |name: &str| fields.get(name).and_then(node_str);
    // Non-string scalars (a UAI or département written as a number) are type errors.
    let mut mistyped = Vec::new();
    for name in ["uai", "nom", "type", "commune", "departement", "secteur"] {
        if let Some(n) = fields.get(name)
            && n.kind != NodeKind::Null
            && node_str(n).is_none()
        {
            checker.wrong_type(
                n,
                &fields.key(name),
                "a string (quote codes such as \"044\")",
            );
            mistyped.push(name);
        }
    }
    let raw = RawEtablissement {
        uai: text("uai"),
        nom: text("nom"),
        kind: text("type"),
        commune: text("commune"),
        departement: text("departement"),
        secteur: text("secteur"),
    };
    let mut problems = Vec::new();
    let validated = etablissement::validate(&raw, |code, field, message, help| {
        problems.push((code, field.to_owned(), message, help))
    });
    // A mistyped field was reported above; do not also call it missing.
    for (code, field, message, help) in problems
        .into_iter()
        .filter(|p| !mistyped.contains(&p.1.as_str()))
    {
        let span = fields.get(&field).map_or(item.span, |n| n.span);
        checker.report(code, span, &fields.key(&field), message, help);
    }
    let config = fields
        .get("config")
        .map(|n| module_values(checker, n, &fields.key("config")))
        .unwrap_or_default();
    let extra = fields
        .get("extra")
        .map(|n| inline_extra(checker, n, &fields.key("extra")))
        .unwrap_or_default();
    let (uai, nom, kind, commune, departement, secteur) = validated?;
    let span = fields.get("uai").map_or(item.span, |n| n.span);
    Some(Etablissement {
        uai,
        nom,
        kind,
        commune,
        departement,
        secteur,
        config,
        extra,
        origin: Origin::new(checker.source, span),
    })
}

/// An inline établissement's `extra`: name → string, the same names a CSV's
/// extra columns may take.
fn inline_extra(checker: &mut Checker, node: &Node, path: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(entries) = checker.entries(node, path) else {
        return out;
    };
    for (k, v) in entries {
        let key = format!("{path}.{}", k.name);
        if let Err(e) = etablissement::check_extra_name(&k.name) {
            checker.report(
                Code::InvalidEtablissement,
                k.span,
                &key,
                e,
                "rename the key, e.g. `vague` or `bassin_emploi`",
            );
            continue;
        }
        if let Some(value) = checker.string(v, &key) {
            out.insert(k.name.clone(), value);
        }
    }
    out
}

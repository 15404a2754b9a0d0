//! The LDIF `oent import aaf` writes: a header naming the files read, then
//! one entry per account under the directory's `ou=personnes`, sorted by
//! identifier (RFC 2849; values that are not SAFE-STRINGs in base64), in
//! the SDET's schema (openent/annuaire's sdet-schema.ldif): an
//! `inetOrgPerson` and `ENTPerson` with its profile's auxiliary class, its
//! `ENTPersonStructRattach` the DN of each établissement's structure entry.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::{Account, ELEVE, PEOPLE_BRANCH, STRUCTURES_BRANCH, Target, profile_code};
use crate::manifest::template_filters::ldif_value;

/// The LDIF of `accounts` under `target`'s root.
pub fn to_ldif(accounts: &[Account], target: &Target, files: &[PathBuf]) -> String {
    let mut out = String::with_capacity(accounts.len() * 256);
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            f.file_name().map_or_else(
                || f.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "# Généré par oent import aaf : {} compte(s) de l'AAF",
        accounts.len()
    );
    let _ = writeln!(out, "# Fichiers : {}", names.join(", "));
    for a in accounts {
        out.push('\n');
        let dn = format!("uid={},{PEOPLE_BRANCH},{}", a.id, target.base_dn);
        line(&mut out, "dn", &dn);
        out.push_str("objectClass: inetOrgPerson\nobjectClass: ENTPerson\n");
        line(&mut out, "objectClass", a.class);
        line(&mut out, "uid", &a.id);
        let full = match &a.given_name {
            Some(g) => format!("{g} {}", a.sn),
            None => a.sn.clone(),
        };
        line(&mut out, "cn", &full);
        line(&mut out, "sn", &a.sn);
        if let Some(g) = &a.given_name {
            line(&mut out, "givenName", g);
        }
        line(&mut out, "displayName", &full);
        if let Some(m) = &a.mail {
            line(&mut out, "mail", m);
        }
        // The AAF identifier is the account's join key and, until the ENT
        // gives another, its login.
        line(&mut out, "ENTPersonJointure", &a.id);
        line(&mut out, "ENTPersonLogin", &a.id);
        line(&mut out, "ENTPersonProfils", profile_code(a.class));
        for uai in &a.uais {
            line(
                &mut out,
                "ENTPersonStructRattach",
                &structure_dn(uai, target),
            );
        }
        if let Some(date) = &a.birth_date {
            line(&mut out, "ENTPersonDateNaissance", date);
        }
        if a.class == ELEVE {
            for (uai, class) in &a.classes {
                let value = format!("{}${class}", structure_dn(uai, target));
                line(&mut out, "ENTEleveClasses", &value);
            }
        }
    }
    out
}

/// The DN of the structure entry of établissement `uai`.
fn structure_dn(uai: &str, target: &Target) -> String {
    format!("ou={uai},{STRUCTURES_BRANCH},{}", target.base_dn)
}

/// `attr: value`, or `attr:: base64` when the value is not an LDIF
/// SAFE-STRING: the same encoding as the templates' `ldif` filter.
fn line(out: &mut String, attr: &str, value: &str) {
    out.push_str(attr);
    out.push_str(&ldif_value(value));
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_that_are_not_safe_strings_are_base64() {
        let mut out = String::new();
        line(&mut out, "sn", "Dupont");
        line(&mut out, "cn", "Élodie Dupont");
        line(&mut out, "description", ": colon");
        assert_eq!(
            out,
            "sn: Dupont\ncn:: w4lsb2RpZSBEdXBvbnQ=\ndescription:: OiBjb2xvbg==\n"
        );
    }
}

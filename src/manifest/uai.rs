//! The département a UAI belongs to. A UAI (unité administrative
//! immatriculée, the national number of an établissement, formerly RNE) is
//! 3 characters for the département, 4 digits and a check letter (checked
//! by [`super::formats::check_uai`]). The first three are the département's
//! number on three digits (`024` for the Dordogne, `075` for Paris), `620`
//! and `720` for Corse-du-Sud (2A) and Haute-Corse (2B), and the number
//! itself for the overseas départements (`971` Guadeloupe … `976` Mayotte).

/// The first three digits of the UAIs of `departement` (a code that
/// [`super::etablissement::check_departement`] accepts): `24` → `024`,
/// `2A` → `620`, `2B` → `720`, `974` → `974`.
pub fn uai_prefix(departement: &str) -> String {
    match departement {
        "2A" => "620".to_owned(),
        "2B" => "720".to_owned(),
        d if d.len() == 3 => d.to_owned(),
        d => format!("0{d}"),
    }
}

/// Refuses a UAI whose prefix is not that of `departement`; the message
/// says which département the UAI belongs to.
pub fn check_uai_departement(uai: &str, departement: &str) -> Result<(), String> {
    let expected = uai_prefix(departement);
    let found = uai.get(..3).unwrap_or(uai);
    if found == expected {
        return Ok(());
    }
    Err(format!(
        "UAI `{uai}` is of département {} (prefix `{found}`), but the établissement's `departement` is `{departement}` (prefix `{expected}`)",
        departement_of_prefix(found)
    ))
}

/// The département a UAI prefix names, for messages (`075` → `75`).
fn departement_of_prefix(prefix: &str) -> String {
    match prefix {
        "620" => "2A".to_owned(),
        "720" => "2B".to_owned(),
        p if p.starts_with('0') => p[1..].to_owned(),
        p => p.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_of_metropolitan_corsican_and_overseas_departements() {
        assert_eq!(uai_prefix("24"), "024");
        assert_eq!(uai_prefix("01"), "001");
        assert_eq!(uai_prefix("2A"), "620");
        assert_eq!(uai_prefix("2B"), "720");
        assert_eq!(uai_prefix("971"), "971");
        assert_eq!(uai_prefix("976"), "976");
    }

    #[test]
    fn a_uai_of_another_departement_is_refused_naming_its_own() {
        assert!(check_uai_departement("0240001W", "24").is_ok());
        assert!(check_uai_departement("6200001G", "2A").is_ok());
        assert!(check_uai_departement("9710001Z", "971").is_ok());
        let err = check_uai_departement("0750655E", "24").unwrap_err();
        assert_eq!(
            err,
            "UAI `0750655E` is of département 75 (prefix `075`), but the établissement's `departement` is `24` (prefix `024`)"
        );
        let err = check_uai_departement("7200009X", "2A").unwrap_err();
        assert!(err.contains("is of département 2B (prefix `720`)"), "{err}");
        let err = check_uai_departement("0971001L", "971").unwrap_err();
        assert!(err.contains("prefix `097`"), "{err}");
    }
}

//! `oent import etablissements` over an extract of the Annuaire de
//! l'éducation (tests/fixtures/import/, see its README.md): selection,
//! oent's CSV format, and each bad input refused without writing.

mod support;

use std::path::Path;

use support::Test;

/// `oent import etablissements annuaire.csv`, before the options.
const IMPORT: [&str; 3] = ["import", "etablissements", "annuaire.csv"];

fn annuaire() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import/annuaire-education.csv"),
    )
    .unwrap()
}

/// A test with the extract as `annuaire.csv`, changed by `edit`.
fn with_annuaire(edit: impl FnOnce(String) -> String) -> Test {
    Test::new().write("annuaire.csv", &edit(annuaire()))
}

#[test]
fn the_public_colleges_of_a_departement_become_etablissements_csv() {
    let output = with_annuaire(|a| a)
        .args(IMPORT)
        .args(["--departement", "24"])
        .args(["--type", "college", "--secteur", "public"])
        .run()
        .status(0)
        .stdout_is("")
        .stderr_is("wrote etablissements.csv: 6 établissements (6 college) of 36 rows read\n");
    // The closed collège (etat FERME), the privé ones, lycées, écoles and
    // the CIO are left out; rows are sorted by UAI.
    assert_eq!(
        output.read("etablissements.csv"),
        support::unindent(
            "
            uai,nom,type,commune,departement,secteur
            0240011G,Collège Bertran de Born,college,Périgueux,24,public
            0240013J,Collège Michel de Montaigne,college,Périgueux,24,public
            0240035H,Collège Jean Moulin,college,Bergerac,24,public
            0240050Z,Collège Arnaut Daniel,college,Ribérac,24,public
            0240066S,Collège Las Cordeliers,college,Sarlat-la-Canéda,24,public
            0240079F,Collège Plaisance,college,Nontron,24,public
            "
        )
    );
}

#[test]
fn corsica_and_overseas_departements_and_lycee_types_are_read() {
    let output = with_annuaire(|a| a)
        .args(IMPORT)
        .args(["--departement", "2B"])
        .args(["-o", "haute-corse.csv"])
        .run()
        .status(0)
        .then()
        .args(IMPORT)
        .args(["--departement", "971"])
        .args(["--secteur", "prive", "-o", "guadeloupe.csv"])
        .run()
        .status(0);
    assert_eq!(
        output.read("haute-corse.csv"),
        support::unindent(
            "
            uai,nom,type,commune,departement,secteur
            7200009X,Lycée Giocante de Casabianca,lycee,Bastia,2B,public
            7200021K,Collège Simon Vinciguerra,college,Bastia,2B,public
            7200123W,Lycée professionnel Fred Scamaroni,lycee-pro,Bastia,2B,public
            "
        )
    );
    assert_eq!(
        output.read("guadeloupe.csv"),
        "uai,nom,type,commune,departement,secteur\n\
         9710046Y,Collège Massabielle,college,Pointe-à-Pitre,971,prive\n"
    );
}

#[test]
fn a_file_with_another_header_names_the_missing_columns() {
    with_annuaire(|a| {
        a.replacen("Identifiant_de_l_etablissement;", "UAI;", 1)
            .replacen(";code_nature;", ";nature;", 1)
    })
    .args(IMPORT)
    .run()
    .status(1)
    .stderr_is(
        "error: `annuaire.csv` lacks the columns `identifiant_de_l_etablissement`, `code_nature` \
         of the Annuaire de l'éducation; export `fr-en-annuaire-education` from \
         data.education.gouv.fr as CSV with `;` (every column)\n",
    );
}

#[test]
fn a_bad_check_letter_refuses_the_import_and_keeps_the_previous_file() {
    let output = with_annuaire(|a| a.replace("0240035H;", "0240035J;"))
        .write(
            "etablissements.csv",
            "uai,nom,type,commune,departement,secteur\n",
        )
        .args(IMPORT)
        .args(["--departement", "24"])
        .run()
        .status(1)
        .stderr_is(
            "
            error: 1 problem(s) in `annuaire.csv`; nothing was written:
              line 4: UAI `0240035J` has check letter `J`, but 0240035 mod 23 = 7 gives `H`
            ",
        );
    assert_eq!(
        output.read("etablissements.csv"),
        "uai,nom,type,commune,departement,secteur\n"
    );
}

#[test]
fn a_uai_of_another_departement_or_twice_is_refused() {
    with_annuaire(|a| {
        // A Paris UAI on a row of the Dordogne, and a collège listed twice.
        let a = a.replace("0240050Z;", "0750655E;");
        let twice = a.lines().find(|l| l.starts_with("0240011G;")).unwrap().to_owned();
        format!("{a}{twice}\n")
    })
    .args(IMPORT)
        .args(["--departement", "24"])
    .run()
    .status(1)
    .stderr_is(
        "
        error: 2 problem(s) in `annuaire.csv`; nothing was written:
          line 5: UAI `0750655E` is of département 75 (prefix `075`), but the établissement's `departement` is `24` (prefix `024`)
          line 38: UAI `0240011G` is already on line 2; keep one row per établissement
        ",
    );
}

#[test]
fn a_type_or_departement_that_does_not_exist_is_a_usage_error() {
    with_annuaire(|a| a)
        .args(IMPORT)
        .args(["--type", "lycée"])
        .run()
        .status(2)
        .stderr_contains("invalid value 'lycée' for '--type <TYPES>'")
        .stderr_contains("a similar value exists: 'lycee'")
        .then()
        .args(IMPORT)
        .args(["--departement", "20"])
        .run()
        .status(2)
        .stderr_is("error: `20` is not a département code (01–95, 2A, 2B, 971–976)\n")
        .then()
        .args(IMPORT)
        .args(["--departement", "48"])
        .run()
        .status(1)
        .stderr_is(
            "error: no row of `annuaire.csv` matches --departement 48; nothing was written\n",
        );
}

#[test]
fn a_file_that_is_not_utf8_or_not_csv_is_refused_without_writing() {
    let latin1: Vec<u8> = annuaire()
        .replace("Périgueux", "P\u{1}rigueux")
        .into_bytes()
        .into_iter()
        .map(|b| if b == 1 { 0xE9 } else { b })
        .collect();
    let output = Test::new()
        .write_bytes("annuaire.csv", &latin1)
        .args(IMPORT)
        .run()
        .status(2)
        .stderr_is(
            "error: `annuaire.csv` is not UTF-8; export the Annuaire de l'éducation again as \
             CSV (UTF-8), or convert it with `iconv -f latin1 -t utf-8`\n",
        );
    assert!(!output.path().join("etablissements.csv").exists());
    // A row cut short (a hand-edited file): the line is named.
    let output = with_annuaire(|a| {
        a.replace("0240013J;Collège Michel de Montaigne;", "0240013J\n")
    })
    .args(IMPORT)
    .run()
    .status(1)
    .stderr_is(
        "error: `annuaire.csv`, line 3: the row has 1 field(s) but the header 72; the export \
             separates fields with `;` and quotes those that hold one\n",
    );
    assert!(!output.path().join("etablissements.csv").exists());
}

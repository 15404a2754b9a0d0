//! `oent import aaf` over a small export of one académie built from the
//! AAF's published format (tests/fixtures/aaf/, see its README.md): the
//! accounts as LDIF for the distribution's directory, and each bad input
//! refused with its file, line, identifier and attribute, writing nothing.

mod support;

use std::path::{Path, PathBuf};

use support::Test;

const ETAB: &str = "ENT_ESSONNE_Complet_20260901_EtabEducNat_0000.xml";
const ELEVE: &str = "ENT_ESSONNE_Complet_20260901_Eleve_0000.xml";
const PARENTS: &str = "ENT_ESSONNE_Complet_20260901_PersRelEleve_0000.xml";
const PERSONNELS: &str = "ENT_ESSONNE_Complet_20260901_PersEducNat_0000.xml";
const FILES: [&str; 4] = [ETAB, ELEVE, PARENTS, PERSONNELS];
/// Where the LDIF goes by default, beside the distribution.
const OUT: &str = "examples/essonne-colleges/local/annuaire/aaf.ldif";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures/aaf").join(name)).unwrap()
}

/// `from` (ASCII, found exactly once) replaced by `to` in the ISO-8859-15 bytes.
fn replace(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let at: Vec<usize> = bytes
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| *w == from.as_bytes())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "`{from}` is not once in the fixture");
    [&bytes[..at[0]], to.as_bytes(), &bytes[at[0] + from.len()..]].concat()
}

/// The bytes up to the end of the first `pattern` (ASCII).
fn cut_after(bytes: &[u8], pattern: &str) -> Vec<u8> {
    let at = bytes
        .windows(pattern.len())
        .position(|w| w == pattern.as_bytes())
        .unwrap();
    bytes[..at + pattern.len()].to_vec()
}

/// A copy of the Essonne example (its registry beside it, as in the
/// repository), the export in `aaf/` with `edit` applied to one file, and
/// `oent import aaf aaf/… --to examples/essonne-colleges --locked`.
fn import(edit: impl Fn(&str, Vec<u8>) -> Vec<u8>) -> Test {
    let mut test = Test::new();
    let dir = test.path().to_path_buf();
    support::copy_dir(
        &root().join("examples/essonne-colleges"),
        &dir.join("examples/essonne-colleges"),
    );
    std::os::unix::fs::symlink(root().join("registry"), dir.join("registry")).unwrap();
    for name in FILES {
        test = test.write_bytes(&format!("aaf/{name}"), &edit(name, fixture(name)));
    }
    let files: Vec<PathBuf> = FILES.iter().map(|f| Path::new("aaf").join(f)).collect();
    test.args(["import", "aaf"])
        .arg_list(
            &files
                .iter()
                .map(|f| f.to_str().unwrap())
                .collect::<Vec<_>>(),
        )
        .args(["--to", "examples/essonne-colleges", "--locked"])
}

/// A refused import: exit 1, `expected` among the problems, and the LDIF
/// of an earlier import left as it was.
fn refused(edit: impl Fn(&str, Vec<u8>) -> Vec<u8>, expected: &str) {
    let test = import(edit).write(OUT, "earlier import\n");
    let output = test.run().status(1).stderr_contains(expected);
    assert_eq!(output.read(OUT), "earlier import\n");
}

#[test]
fn an_academie_export_becomes_the_accounts_of_the_directory() {
    let output = import(|_, bytes| bytes)
        .run()
        .status(0)
        .stdout_is("")
        .stderr_is(
            "wrote examples/essonne-colleges/local/annuaire/aaf.ldif: 9 accounts \
             (2 ENTAuxEnseignant, 1 ENTAuxNonEnsEtab, 3 ENTAuxPersRelEleve, 3 ENTEleve) \
             in 2 of 2 établissements read\n",
        );
    // Under the base DN of the distribution's openent/annuaire, one entry
    // per person sorted by identifier, the SDET class from the AAF profile,
    // a parent in the établissements of its children (3003 in both).
    let expected = std::fs::read_to_string(root().join("tests/fixtures/aaf/essonne.ldif")).unwrap();
    assert_eq!(output.read(OUT), expected);
}

#[test]
fn a_uai_with_a_wrong_check_letter_is_refused_at_its_attribute() {
    refused(
        |name, bytes| match name {
            ETAB => replace(
                &bytes,
                "<value>0911501M</value></attr>\n<attr name=\"ENTEtablissementUAI\">",
                "<value>0911501N</value></attr>\n<attr name=\"ENTEtablissementUAI\">",
            ),
            _ => bytes,
        },
        "error: 1 problem(s) in the AAF files; nothing was written:\n  \
         `aaf/ENT_ESSONNE_Complet_20260901_EtabEducNat_0000.xml`, line 21: entry `1002` \
         (EtabEducNat), attribute `ENTStructureUAI`: UAI `0911501N` has check letter `N`, \
         but 0911501 mod 23 = 11 gives `M`; have the académie correct it",
    );
}

#[test]
fn an_identifier_given_twice_is_refused_with_both_places() {
    refused(
        |name, bytes| match name {
            PARENTS => replace(&bytes, "<id>3001</id>", "<id>2001</id>"),
            _ => bytes,
        },
        "error: 1 problem(s) in the AAF files; nothing was written:\n  \
         `aaf/ENT_ESSONNE_Complet_20260901_PersRelEleve_0000.xml`, line 4: identifier `2001` \
         (PersRelEleve) is already at `aaf/ENT_ESSONNE_Complet_20260901_Eleve_0000.xml`, line 4; \
         an AAF export holds each person once",
    );
}

#[test]
fn a_truncated_file_is_refused_with_the_element_left_open() {
    refused(
        |name, bytes| match name {
            ELEVE => bytes[..bytes.len() / 2].to_vec(),
            _ => bytes,
        },
        "`aaf/ENT_ESSONNE_Complet_20260901_Eleve_0000.xml`, line 35: the file ends inside a tag \
         in `<attr>` opened on line 35: it is truncated; copy it again from the académie's export",
    );
    // Cut inside a value: the element left open is named with its line.
    refused(
        |name, bytes| match name {
            ELEVE => cut_after(&bytes, "<attr name=\"sn\"><value>"),
            _ => bytes,
        },
        "Eleve_0000.xml`, line 12: the file ends inside `<value>` opened on line 12: it is truncated",
    );
}

#[test]
fn an_unknown_profile_is_refused_with_the_profiles_expected() {
    refused(
        |name, bytes| match name {
            PERSONNELS => replace(
                &bytes,
                "<value>PersEducNat</value></attr></operationalAttributes>\n<identifier><id>4003",
                "<value>PersEducAgri</value></attr></operationalAttributes>\n<identifier><id>4003",
            ),
            _ => bytes,
        },
        "`aaf/ENT_ESSONNE_Complet_20260901_PersEducNat_0000.xml`, line 36: entry `4003`: \
         `categoriePersonne` is `PersEducAgri`, expected one of `Eleve`, `PersRelEleve`, \
         `PersEducNat` (the profiles of the AAF's second-degree exports); leave this file out of the import",
    );
}

#[test]
fn an_etablissement_outside_the_distribution_is_refused_when_it_has_accounts() {
    // A collège of the Yvelines (78) the Essonne's ENT does not serve, with
    // one teacher; another one without accounts is only counted.
    let outside = |id: &str, uai: &str| {
        format!(
            "<addRequest>\n<operationalAttributes><attr name=\"categorieStructure\"><value>EtabEducNat</value></attr></operationalAttributes>\n\
             <identifier><id>{id}</id></identifier>\n<attributes>\n<attr name=\"ENTStructureUAI\"><value>{uai}</value></attr>\n\
             <attr name=\"ENTStructureNomCourant\"><value>COLLEGE DES YVELINES</value></attr>\n</attributes>\n</addRequest>\n</ficAlimMENESR>"
        )
    };
    let edit = move |name: &str, bytes: Vec<u8>| match name {
        ETAB => replace(
            &bytes,
            "</ficAlimMENESR>",
            &(outside("1003", "0780001C").replace("</ficAlimMENESR>", "")
                + &outside("1004", "0780002D")),
        ),
        PERSONNELS => replace(
            &bytes,
            "<value>1002</value></attr>\n<attr name=\"ENTPersonFonctions\">",
            "<value>1003</value></attr>\n<attr name=\"ENTPersonFonctions\">",
        ),
        _ => bytes,
    };
    refused(
        edit,
        "error: 1 problem(s) in the AAF files; nothing was written:\n  \
         `aaf/ENT_ESSONNE_Complet_20260901_EtabEducNat_0000.xml`, line 38: établissement \
         `0780001C` (COLLEGE DES YVELINES) has 1 account(s) in this import but is not one of \
         the distribution's établissements (examples/essonne-colleges/etablissements.csv); \
         add it there (`oent import etablissements`), or import only the files of the \
         établissements this ENT serves\n",
    );
}

#[test]
fn a_delta_export_is_refused_for_a_complete_one() {
    refused(
        |name, bytes| match name {
            PARENTS => replace(
                &replace(
                    &bytes,
                    "<addRequest>\n<operationalAttributes><attr name=\"categoriePersonne\"><value>PersRelEleve</value></attr></operationalAttributes>\n<identifier><id>3002",
                    "<modifyRequest>\n<operationalAttributes><attr name=\"categoriePersonne\"><value>PersRelEleve</value></attr></operationalAttributes>\n<identifier><id>3002",
                ),
                "</attributes>\n</addRequest>\n<addRequest>\n<operationalAttributes><attr name=\"categoriePersonne\"><value>PersRelEleve</value></attr></operationalAttributes>\n<identifier><id>3003",
                "</attributes>\n</modifyRequest>\n<addRequest>\n<operationalAttributes><attr name=\"categoriePersonne\"><value>PersRelEleve</value></attr></operationalAttributes>\n<identifier><id>3003",
            ),
            _ => bytes,
        },
        "PersRelEleve_0000.xml`, line 22: entry `3002` is a `<modifyRequest>`: this file is a delta export",
    );
}

#[test]
fn accounts_without_the_etablissements_file_are_refused() {
    refused(
        |name, bytes| {
            match name {
            ETAB => b"<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?>\n<ficAlimMENESR>\n</ficAlimMENESR>\n".to_vec(),
            _ => bytes,
        }
        },
        "  no `EtabEducNat` entry in the files given: add the export's établissements file",
    );
}

#[test]
fn xml_outside_the_aaf_format_is_refused_with_its_line() {
    refused(
        |name, bytes| match name {
            PERSONNELS => replace(
                &bytes,
                "<value>MARTIN</value></attr>\n<attr name=\"givenName\">",
                "<value>MARTIN &eacute;</value></attr>\n<attr name=\"givenName\">",
            ),
            _ => bytes,
        },
        "PersEducNat_0000.xml`, line 11: attribute `sn`: the entity `&eacute;` is not one XML defines",
    );
    refused(
        |name, bytes| match name {
            ELEVE => replace(&bytes, "encoding=\"ISO-8859-15\"", "encoding=\"UTF-16\""),
            _ => bytes,
        },
        "Eleve_0000.xml`, line 1: the file declares the encoding `UTF-16`",
    );
}

#[test]
fn a_distribution_without_a_directory_is_refused() {
    let mut test = Test::new()
        .write(
            "mini/distribution.yaml",
            &support::unindent(
                "
                schema: oent/distribution/v1
                name: test/mini
                version: 2026.1.0
                collectivite: { nom: Essonne, type: departement }
                registries:
                  - { name: local, path: ../registry }
                modules:
                  openent/mariadb: { version: \"^11.4\", config: { root_password: { env: MARIADB_ROOT_PASSWORD } } }
                etablissements: { file: etablissements.csv }
                target: compose
                ",
            ),
        )
        .write(
            "mini/etablissements.csv",
            "uai,nom,type,commune,departement,secteur\n0911500L,Collège Alfred-de-Musset,college,Évry-Courcouronnes,91,public\n",
        );
    std::os::unix::fs::symlink(root().join("registry"), test.path().join("registry")).unwrap();
    for name in FILES {
        test = test.write_bytes(&format!("aaf/{name}"), &fixture(name));
    }
    test.args(["import", "aaf", "aaf/x.xml", "--to", "mini"])
        .run()
        .status(2)
        .stderr_is(
            "error: test/mini has no directory: no module of it provides `annuaire`; add `openent/annuaire` to its modules\n",
        );
}

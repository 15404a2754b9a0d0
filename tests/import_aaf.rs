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

#[test]
fn a_pupil_without_its_etablissement_is_refused() {
    // The SDET's ENTEleve requires ENTPersonStructRattach: slapd would
    // refuse the entry, so the import refuses the export first.
    refused(
        |name, bytes| match name {
            ELEVE => replace(
                &bytes,
                "<attr name=\"ENTPersonStructRattach\"><value>1002</value></attr>\n",
                "",
            ),
            _ => bytes,
        },
        "`aaf/ENT_ESSONNE_Complet_20260901_Eleve_0000.xml`, line 48: entry `2003` (Eleve), \
         attribute `ENTPersonStructRattach`: missing; a pupil belongs to an établissement \
         (the SDET's `ENTEleve` requires it)",
    );
}

#[test]
fn a_class_of_an_etablissement_the_export_lacks_is_refused() {
    refused(
        |name, bytes| match name {
            ELEVE => replace(
                &bytes,
                "<value>1002$3EME 2</value>",
                "<value>1009$3EME 2</value>",
            ),
            _ => bytes,
        },
        "`aaf/ENT_ESSONNE_Complet_20260901_Eleve_0000.xml`, line 48: entry `2003`, attribute \
         `ENTEleveClasses`: class `3EME 2` of établissement `1009`, which no `EtabEducNat` entry \
         defines; give the établissements' file of the same export",
    );
}

#[test]
fn a_birth_date_not_in_the_aaf_form_is_refused() {
    refused(
        |name, bytes| match name {
            ELEVE => replace(
                &bytes,
                "<value>2003</value></attr>\n<attr name=\"ENTEleveStructRattachId\"><value>12345</value></attr>\n\
                 <attr name=\"ENTPersonDateNaissance\"><value>14/03/2013",
                "<value>2003</value></attr>\n<attr name=\"ENTEleveStructRattachId\"><value>12345</value></attr>\n\
                 <attr name=\"ENTPersonDateNaissance\"><value>2013-03-14",
            ),
            _ => bytes,
        },
        "`aaf/ENT_ESSONNE_Complet_20260901_Eleve_0000.xml`, line 48: entry `2003` (Eleve), \
         attribute `ENTPersonDateNaissance`: `2013-03-14` is not a date `JJ/MM/AAAA`, the form \
         of the AAF and the SDET",
    );
}

/// `(kind, name, oid)` of each definition of openent/annuaire's SDET schema:
/// `olcAttributeTypes: ( OID NAME 'x'` (attribute) or `olcObjectClasses:` (class).
fn sdet_schema() -> Vec<(&'static str, String, String)> {
    let text = std::fs::read_to_string(
        root().join("modules/openent/annuaire/templates/sdet-schema.ldif.tera"),
    )
    .unwrap();
    let mut out = Vec::new();
    for line in text.lines() {
        let (kind, rest) = if let Some(r) = line.strip_prefix("olcAttributeTypes: ( ") {
            ("attribute", r)
        } else if let Some(r) = line.strip_prefix("olcObjectClasses: ( ") {
            ("class", r)
        } else {
            continue;
        };
        let (oid, rest) = rest.split_once(" NAME '").unwrap();
        let name = rest.split('\'').next().unwrap();
        out.push((kind, name.to_owned(), oid.to_owned()));
    }
    out
}

#[test]
fn every_name_of_the_sdet_schema_has_a_public_source_and_an_oid_of_its_own() {
    let listed = std::fs::read_to_string(root().join("tests/fixtures/sdet/names.tsv")).unwrap();
    let listed: Vec<Vec<&str>> = listed
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split('\t').collect())
        .collect();
    let schema = sdet_schema();
    assert_eq!(schema.len(), 16, "{schema:?}");
    let mut unsourced = Vec::new();
    for (kind, name, _) in &schema {
        let source = listed.iter().find(|row| row[0] == name);
        match source {
            Some(row)
                if row.len() == 4
                    && row[1] == *kind
                    && row[2].contains('/')
                    && !row[3].is_empty() => {}
            _ => unsourced.push(format!("{kind} {name}")),
        }
    }
    assert_eq!(
        unsourced,
        Vec::<String>::new(),
        "names without a source in names.tsv"
    );
    // One arc, minted from one UUID (X.667): attributes .1.N, classes .2.N, each once.
    let arc = "2.25.99657211248169442746255961940639804059";
    let mut oids: Vec<&str> = schema.iter().map(|(_, _, oid)| oid.as_str()).collect();
    for (kind, name, oid) in &schema {
        let branch = if *kind == "attribute" { ".1." } else { ".2." };
        let n = oid.strip_prefix(&format!("{arc}{branch}"));
        assert!(n.is_some_and(|n| n.parse::<u32>().is_ok()), "{name}: {oid}");
    }
    oids.sort();
    oids.dedup();
    assert_eq!(oids.len(), schema.len(), "an OID is given twice");
}

#[test]
fn the_import_writes_only_what_the_sdet_schema_defines() {
    // Every SDET attribute and class of the import's LDIF is in the schema
    // slapd loads (the rest is inetOrgPerson's, RFC 2798).
    let schema: Vec<String> = sdet_schema().into_iter().map(|(_, n, _)| n).collect();
    let ldif = std::fs::read_to_string(root().join("tests/fixtures/aaf/essonne.ldif")).unwrap();
    let mut missing: Vec<&str> = ldif
        .lines()
        .filter_map(|l| l.split_once(':'))
        .flat_map(|(attr, value)| [attr, value.trim()])
        .filter(|name| name.starts_with("ENT") && !name.contains([' ', '=']))
        .filter(|name| !schema.iter().any(|s| s == name))
        .collect();
    missing.sort();
    missing.dedup();
    assert_eq!(missing, Vec::<&str>::new());
}

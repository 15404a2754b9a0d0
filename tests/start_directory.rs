//! The directory as the accounts reach it: Debian's slapd loads the
//! Essonne bundle's tree (`ou=structures` with one branch per
//! établissement, `ou=personnes`, `ou=groupes`) and then the LDIF that
//! `oent import aaf` wrote from the académie's export
//! (tests/fixtures/aaf/), both in the SDET's schema that the bundle ships
//! (sdet-schema.ldif); an LDAP search finds each pupil under
//! `ou=personnes` as an `ENTEleve` with its établissement.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::tools;

const ROOT_DN: &str = "dc=colleges,dc=essonne,dc=fr";

#[test]
fn slapd_loads_the_bundle_tree_and_the_accounts_imported_from_the_aaf() {
    tools::required("slapd", "slapd");
    tools::required("slapadd", "slapd");
    tools::required("ldapsearch", "ldap-utils");
    let (work, bundle) = support::build_from_modules("examples", "essonne-colleges", &[]);
    support::import_aaf_fixture(work.path(), "examples/essonne-colleges", "aaf.ldif");

    let slapd = work.path().join("slapd");
    std::fs::create_dir_all(slapd.join("slapd.d")).unwrap();
    std::fs::create_dir_all(slapd.join("data")).unwrap();
    let config = tools::slapd_config(
        ROOT_DN,
        &format!("cn=admin,{ROOT_DN}"),
        "Mot-de-passe-2026",
        slapd.join("data").to_str().unwrap(),
        slapd.to_str().unwrap(),
    );
    std::fs::write(slapd.join("config.ldif"), config).unwrap();
    let conf = slapd.join("slapd.d");
    let annuaire = bundle.join("conf/openent-annuaire");
    // cn=config (-n0) and the bundle's SDET schema; then the bundle's tree
    // (ou=personnes must exist) and the accounts (-n1): slapadd checks every
    // entry against the schema and its parent.
    for (database, ldif) in [
        ("-n0", slapd.join("config.ldif")),
        ("-n0", annuaire.join("sdet-schema.ldif")),
        ("-n1", annuaire.join("slapd.ldif")),
        ("-n1", work.path().join("aaf.ldif")),
    ] {
        tools::run(
            Command::new("slapadd")
                .args([database, "-F"])
                .arg(&conf)
                .arg("-l")
                .arg(ldif),
        );
    }

    let port = support::free_port();
    let url = format!("ldap://127.0.0.1:{port}/");
    let mut server = Command::new("slapd")
        .args(["-d", "0", "-F"])
        .arg(&conf)
        .args(["-h", &url])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "slapd does not listen on {url}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let found = tools::run(
        Command::new("ldapsearch")
            .args(["-x", "-LLL", "-H", &url, "-b"])
            .arg(format!("ou=personnes,{ROOT_DN}"))
            .args([
                "-S",
                "uid",
                "(objectClass=ENTEleve)",
                "uid",
                "ENTPersonStructRattach",
            ]),
    );
    let structures = tools::run(
        Command::new("ldapsearch")
            .args(["-x", "-LLL", "-H", &url, "-s", "one", "-b"])
            .arg(format!("ou=structures,{ROOT_DN}"))
            .args([
                "(&(objectClass=ENTEtablissement)(ENTStructureUAI=0911501M))",
                "dn",
            ]),
    );
    support::stop_gracefully(&mut server);
    assert_eq!(
        found,
        support::unindent(
            "
            dn: uid=2001,ou=personnes,dc=colleges,dc=essonne,dc=fr
            uid: 2001
            ENTPersonStructRattach: ou=0911500L,ou=structures,dc=colleges,dc=essonne,dc=fr

            dn: uid=2002,ou=personnes,dc=colleges,dc=essonne,dc=fr
            uid: 2002
            ENTPersonStructRattach: ou=0911500L,ou=structures,dc=colleges,dc=essonne,dc=fr

            dn: uid=2003,ou=personnes,dc=colleges,dc=essonne,dc=fr
            uid: 2003
            ENTPersonStructRattach: ou=0911501M,ou=structures,dc=colleges,dc=essonne,dc=fr

            "
        )
    );
    assert_eq!(
        structures,
        "dn: ou=0911501M,ou=structures,dc=colleges,dc=essonne,dc=fr\n\n"
    );
}

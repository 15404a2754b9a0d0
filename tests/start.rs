//! Bundles that start: the services a bundle describes run, from Debian's
//! packages, with the bundle's own files, in a network and mount namespace
//! per run (see support/namespace.rs), and real clients talk to them.

mod support;

use std::path::{Path, PathBuf};

use support::namespace::Namespace;
use support::{Test, copy_dir, tools};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `oent build` of one example, from a copy of examples/ and registry/;
/// returns the temporary folder and the bundle in it.
fn built(example: &str) -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().unwrap();
    for dir in ["examples", "registry"] {
        copy_dir(&Path::new(ROOT).join(dir), &work.path().join(dir));
    }
    let distribution = work.path().join("examples").join(example);
    let bundle = work.path().join("bundle");
    Test::at(work.path())
        .arg("build")
        .arg(&distribution)
        .arg("-o")
        .arg(&bundle)
        .run()
        .status(0);
    (work, bundle)
}

/// The UAIs of an example's etablissements.csv (first column after the header).
fn uais(example: &str) -> Vec<String> {
    let csv = std::fs::read_to_string(
        Path::new(ROOT)
            .join("examples")
            .join(example)
            .join("etablissements.csv"),
    )
    .unwrap();
    let mut uais: Vec<String> = csv
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').next().unwrap().to_owned())
        .collect();
    uais.sort();
    uais
}

/// A minimal cn=config for Debian's slapd holding one MDB database for
/// `suffix` in `db`: what the directory image sets up from its environment
/// before it loads the bundle's LDIF.
fn slapd_config(suffix: &str, db: &str, run: &str) -> String {
    format!(
        "dn: cn=config\nobjectClass: olcGlobal\ncn: config\nolcPidFile: {run}/slapd.pid\n\n\
         dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\n\
         include: file:///etc/ldap/schema/core.ldif\n\
         include: file:///etc/ldap/schema/cosine.ldif\n\
         include: file:///etc/ldap/schema/inetorgperson.ldif\n\n\
         dn: cn=module{{0}},cn=config\nobjectClass: olcModuleList\ncn: module{{0}}\n\
         olcModulePath: /usr/lib/ldap\nolcModuleLoad: back_mdb\n\n\
         dn: olcDatabase={{1}}mdb,cn=config\nobjectClass: olcDatabaseConfig\n\
         objectClass: olcMdbConfig\nolcDatabase: {{1}}mdb\nolcSuffix: {suffix}\n\
         olcDbDirectory: {db}\nolcRootDN: cn=admin,{suffix}\nolcRootPW: test-secret\n"
    )
}

#[test]
fn the_essonne_directory_loads_into_slapd_and_lists_every_college() {
    tools::required("slapd", "slapd");
    tools::required("ldapsearch", "ldap-utils");
    let (_work, bundle) = built("essonne-colleges");
    let suffix = "dc=colleges,dc=essonne,dc=fr";

    let mut ns = Namespace::new(&["openent-annuaire"]);
    let config = ns.scratch().join("config.ldif");
    std::fs::write(&config, slapd_config(suffix, "/var/lib/ldap", "/run/slapd")).unwrap();
    ns.writable("/etc/ldap/slapd.d");
    ns.writable("/var/lib/ldap");
    ns.writable("/run/slapd");
    ns.bind_ro(
        &bundle.join("conf/openent-annuaire/slapd.ldif"),
        "/ldifs/slapd.ldif",
    );
    ns.run(
        ns.command("slapadd")
            .args(["-n0", "-F", "/etc/ldap/slapd.d", "-l"])
            .arg(&config),
    );
    ns.run(ns.command("slapadd").args([
        "-n1",
        "-F",
        "/etc/ldap/slapd.d",
        "-l",
        "/ldifs/slapd.ldif",
    ]));
    ns.start(
        "slapd",
        ns.command("slapd").args([
            "-d",
            "0",
            "-F",
            "/etc/ldap/slapd.d",
            "-h",
            "ldap://openent-annuaire:1389/",
        ]),
    );
    ns.wait_for_port("slapd", 1389);

    let found = ns.run(ns.command("ldapsearch").args([
        "-x",
        "-LLL",
        "-H",
        "ldap://openent-annuaire:1389",
        "-b",
        suffix,
        "(objectClass=organizationalUnit)",
        "ou",
    ]));
    let mut listed: Vec<String> = found
        .lines()
        .filter_map(|l| l.strip_prefix("ou: "))
        .map(str::to_owned)
        .collect();
    listed.sort();
    assert_eq!(listed, uais("essonne-colleges"));
}

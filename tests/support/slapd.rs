//! Debian's slapd in a [`Namespace`] that names `openent-annuaire`, as the
//! directory image runs it: its cn=config, database and run folders empty
//! and writable, cn=config for the bundle's root ([`tools::slapd_config`])
//! loaded first, then the LDIFs the test loads with [`slapadd`], then the
//! daemon in the foreground on [`URL`].

use std::ffi::OsStr;
use std::process::Command;

use super::namespace::Namespace;
use super::tools;

/// Where the bundle's services reach the directory.
pub const URL: &str = "ldap://openent-annuaire:1389";

/// slapd's cn=config, database and run folders, in that order.
pub const FOLDERS: [&str; 3] = ["/etc/ldap/slapd.d", "/var/lib/ldap", "/run/slapd"];

/// Makes [`FOLDERS`] empty and writable, and loads a cn=config holding
/// `suffix` with its administrator `admin` and `password`.
pub fn configure(ns: &Namespace, suffix: &str, admin: &str, password: &str) {
    let [_, db, run] = FOLDERS;
    let config = ns.scratch().join("config.ldif");
    std::fs::write(
        &config,
        tools::slapd_config(suffix, admin, password, db, run),
    )
    .unwrap();
    for folder in FOLDERS {
        ns.writable(folder);
    }
    slapadd(ns, "-n0", &config);
}

/// `slapadd` of `ldif` (a path the namespace sees) into `database`: `-n0`
/// (cn=config, a schema) or `-n1` (the tree). slapadd checks each entry
/// against the schema and its parent.
pub fn slapadd(ns: &Namespace, database: &str, ldif: impl AsRef<OsStr>) {
    ns.run(
        ns.command("slapadd")
            .args([database, "-F", FOLDERS[0], "-l"])
            .arg(ldif),
    );
}

/// Starts `slapd` (the program, run as the test or the image runs it) in
/// the foreground on [`URL`] and waits until it listens.
pub fn start(ns: &mut Namespace, slapd: &mut Command) {
    ns.start(
        "slapd",
        slapd.args(["-d", "0", "-F", FOLDERS[0], "-h", &format!("{URL}/")]),
    );
    ns.wait_for_port("slapd", 1389);
}

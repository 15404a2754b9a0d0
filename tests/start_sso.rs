//! One login for every service, proven with real servers: the Essonne's
//! bundle (built from modules/) logs its users in with LemonLDAP::NG. In a
//! namespace of their own (tests/support/namespace.rs): Debian's slapd with
//! the bundle's SDET schema and directory tree, which refuses an entry
//! breaking the schema, and an account `oent import aaf` wrote from
//! the académie's export (tests/fixtures/aaf/), given its first password as
//! the ENT's activation would; LemonLDAP::NG (Debian's
//! lemonldap-ng-fastcgi-server behind Debian's nginx) with the bundle's
//! lemonldap-ng.ini, lmConf-1.json and portal vhost, mounted where the
//! module's deployment contract says, and the secrets of the bundle's
//! environment. Then, as a browser and the services would:
//! - the account logs in on the portal, and a wrong password is refused;
//! - a CAS service ticket for the cahier de textes validates through
//!   `/sso/cas/p3/serviceValidate` and carries the attributes the module's
//!   `service.login` asks for; a service outside the bundle gets no ticket;
//! - OIDC discovery answers, and the authorization-code flow of the
//!   documents module's client (Nextcloud) returns an ID token for the
//!   account, signed with the bundle's key.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::compose::{compose_service, secrets_env};
use support::namespace::Namespace;
use support::{slapd, tools};

const ROOT_DN: &str = "dc=colleges,dc=essonne,dc=fr";
const DOMAIN: &str = "moncollege.essonne.fr";
const ADMIN_PASSWORD: &str = "Annuaire-2026";
const OIDC_SECRET: &str = "Secret-du-client-documents";
/// The AAF account (a pupil of 0911500L) and its first password.
const ACCOUNT: &str = "2001";
const PASSWORD: &str = "Premiere-connexion-2026";

/// The bundle's file `conf/<slug>/<path>`.
fn conf(bundle: &Path, slug: &str, path: &str) -> PathBuf {
    let file = bundle.join("conf").join(slug).join(path);
    assert!(file.exists(), "the bundle has no {}", file.display());
    file
}

/// Debian's slapd on openent-annuaire:1389 with the bundle's SDET schema
/// and tree, the imported accounts, and the account's first password.
fn start_directory(ns: &mut Namespace, bundle: &Path, accounts: &Path) {
    let admin = format!("cn=admin,{ROOT_DN}");
    slapd::configure(ns, ROOT_DN, &admin, ADMIN_PASSWORD);
    // The schema into cn=config (-n0), then the tree and the accounts (-n1).
    let annuaire = |file| conf(bundle, "openent-annuaire", file);
    for (database, ldif) in [
        ("-n0", annuaire("sdet-schema.ldif")),
        ("-n1", annuaire("slapd.ldif")),
        ("-n1", accounts.to_path_buf()),
    ] {
        slapd::slapadd(ns, database, ldif);
    }
    let mut daemon = ns.command("slapd");
    slapd::start(ns, &mut daemon);
    ns.run(ns.command("ldappasswd").args([
        "-x",
        "-H",
        slapd::URL,
        "-D",
        &admin,
        "-w",
        ADMIN_PASSWORD,
        "-s",
        PASSWORD,
        &format!("uid={ACCOUNT},ou=personnes,{ROOT_DN}"),
    ]));
}

/// What slapd holds of the pupil, and what it answers an entry that breaks
/// the SDET schema: an `ENTEleve` without the `ENTPersonStructRattach` the
/// class requires (ldapadd's exit status and message).
fn check_directory(ns: &Namespace) -> (String, String, String) {
    let admin = format!("cn=admin,{ROOT_DN}");
    let search = |base: &str, filter: &str, attrs: &[&str]| {
        let mut command = ns.command("ldapsearch");
        command
            .args(["-x", "-LLL", "-o", "ldif-wrap=no", "-H"])
            .arg(slapd::URL)
            .args(["-b", base, filter])
            .args(attrs);
        ns.run(&mut command)
    };
    let pupil = search(
        &format!("ou=personnes,{ROOT_DN}"),
        &format!("(&(objectClass=ENTEleve)(uid={ACCOUNT}))"),
        &["ENTPersonProfils", "ENTPersonStructRattach"],
    );
    let structure_dn = pupil
        .lines()
        .find_map(|l| l.strip_prefix("ENTPersonStructRattach: "))
        .unwrap_or_else(|| panic!("no ENTPersonStructRattach in {pupil}"))
        .to_owned();
    let structure = search(
        &structure_dn,
        "(objectClass=ENTEtablissement)",
        &["ENTStructureUAI", "ENTStructureTypeStruct"],
    );
    let bad = ns.scratch().join("bad.ldif");
    std::fs::write(
        &bad,
        format!(
            "dn: uid=9999,ou=personnes,{ROOT_DN}\nobjectClass: inetOrgPerson\n\
             objectClass: ENTPerson\nobjectClass: ENTEleve\nuid: 9999\ncn: Sans Etablissement\n\
             sn: Etablissement\nENTPersonJointure: 9999\n"
        ),
    )
    .unwrap();
    ns.bind_ro(&bad, "/etc/ldap/seed/bad.ldif");
    let refused = ns
        .command("ldapadd")
        .args(["-x", "-H", slapd::URL, "-D", &admin])
        .args(["-w", ADMIN_PASSWORD, "-f", "/etc/ldap/seed/bad.ldif"])
        .output()
        .unwrap();
    let refusal = format!(
        "{}: {}\n{}",
        refused.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&refused.stdout).trim(),
        String::from_utf8_lossy(&refused.stderr).trim()
    );
    (pupil, structure, refusal)
}

/// LemonLDAP::NG's portal from the bundle's files: llng-fastcgi-server
/// (as www-data: it refuses root) with the secrets in its environment, and
/// nginx with the module's vhost on port 8080.
fn start_lemonldap(ns: &mut Namespace, bundle: &Path, key: &str) {
    let lemonldap = compose_service(bundle, "openent-lemonldap", &secrets_env(bundle));
    lemonldap.mount_all(ns);
    for folder in [
        "/var/lib/lemonldap-ng/sessions",
        "/var/lib/lemonldap-ng/psessions",
        "/run/llng-fastcgi-server",
    ] {
        let outside = ns.writable(folder);
        tools::run(
            std::process::Command::new("chown")
                .arg("www-data:www-data")
                .arg(&outside),
        );
    }
    ns.start(
        "llng-fastcgi-server",
        ns.command("llng-fastcgi-server")
            .args([
                "--foreground",
                "-u",
                "www-data",
                "-g",
                "www-data",
                "-n",
                "2",
            ])
            .env("LDAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("LEMONLDAP_KEY", "Cle-de-chiffrement-du-portail")
            .env("LEMONLDAP_OIDC_KEY", key)
            .env("NEXTCLOUD_OIDC_SECRET", OIDC_SECRET),
    );
    let nginx = ns.scratch().join("nginx");
    std::fs::create_dir_all(&nginx).unwrap();
    let vhost = lemonldap.target("portal-nginx.conf");
    std::fs::write(
        nginx.join("nginx.conf"),
        format!(
            "user www-data;\nworker_processes 1;\npid /run/nginx-sso/nginx.pid;\nerror_log stderr;\n\
             events {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path /run/nginx-sso/body;\n\
             fastcgi_temp_path /run/nginx-sso/fastcgi;\n  proxy_temp_path /run/nginx-sso/proxy;\n\
             uwsgi_temp_path /run/nginx-sso/uwsgi;\n  scgi_temp_path /run/nginx-sso/scgi;\n\
             include /etc/nginx/mime.types;\n  include {vhost};\n}}\n"
        ),
    )
    .unwrap();
    ns.writable("/run/nginx-sso");
    ns.bind_ro(&nginx.join("nginx.conf"), "/etc/nginx/sso.conf");
    // The socket appears once the FastCGI server has loaded the portal.
    ns.run(ns.command("bash").args([
        "-c",
        "for i in $(seq 600); do test -S /run/llng-fastcgi-server/llng-fastcgi.sock && exit 0; sleep 0.1; done; exit 1",
    ]));
    ns.start(
        "nginx",
        ns.command("nginx")
            .args(["-c", "/etc/nginx/sso.conf", "-g", "daemon off;"]),
    );
    ns.wait_for_port("nginx", 8080);
}

/// A browser and the services, in Python's standard library: cookies and
/// redirects handled by hand (the portal's cookie is `Secure`, and its
/// redirects name the public https URL, served here on port 8080).
const CLIENT: &str = r#"
import base64, http.client, json, re, sys, urllib.parse

DOMAIN, ACCOUNT, PASSWORD, SECRET = sys.argv[1:5]
PUBLIC = "https://" + DOMAIN

def request(method, path, body=None, cookie=None, auth=None, accept=None):
    if path.startswith(PUBLIC):
        path = path[len(PUBLIC):]
    conn = http.client.HTTPConnection(DOMAIN, 8080, timeout=30)
    headers = {"Host": DOMAIN}
    if cookie:
        headers["Cookie"] = "lemonldap=" + cookie
    if accept:
        headers["Accept"] = accept
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    if body is not None:
        body = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    cookies = {}
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            cookies[name] = rest.split(";")[0]
    return response.status, response.getheader("Location") or "", cookies, text

def form_fields(page):
    return dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))

def login(path, password):
    status, _, _, page = request("GET", path)
    fields = {k: v for k, v in form_fields(page).items() if k in ("token", "url", "skin")}
    fields.update(user=ACCOUNT, password=password)
    status, location, cookies, _ = request("POST", path, fields)
    return status, location, cookies.get("lemonldap", "")

out = {}
status, _, wrong = login("/sso/", "not-the-password")
out["wrong_password"] = {"status": status, "session": bool(wrong)}
status, location, session = login("/sso/", PASSWORD)
out["login"] = {"status": status, "session": bool(session)}
out["ping"] = json.loads(request("GET", "/sso/ping", cookie=session, accept="application/json")[3])

service = PUBLIC + "/cahier-de-textes/"
status, location, _, _ = request("GET", "/sso/cas/login?service=" + urllib.parse.quote(service, safe=""), cookie=session)
ticket = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).get("ticket", [""])[0]
out["cas_redirect"] = location.split("?")[0]
validation = request("GET", "/sso/cas/p3/serviceValidate?" + urllib.parse.urlencode({"service": service, "ticket": ticket}))[3]
out["cas_user"] = re.findall(r"<cas:user>([^<]*)</cas:user>", validation)
out["cas_attributes"] = sorted(set(re.findall(r"<cas:([A-Za-z]+)>[^<]*</cas:\1>", validation)) - {"user", "authenticationDate", "longTermAuthenticationRequestTokenUsed", "isFromNewLogin"})
out["cas_values"] = dict(re.findall(r"<cas:(ENTPersonProfils|ENTPersonStructRattach)>([^<]*)</cas:", validation))
replay = request("GET", "/sso/cas/p3/serviceValidate?" + urllib.parse.urlencode({"service": service, "ticket": ticket}))[3]
out["cas_replay"] = "authenticationFailure" in replay
status, location, _, _ = request("GET", "/sso/cas/login?service=" + urllib.parse.quote("https://ailleurs.example.org/", safe=""), cookie=session)
out["unknown_service"] = {"status": status, "ticket": "ticket=" in location}

answer = request("GET", "/sso/.well-known/openid-configuration", accept="application/json")
try:
    discovery = json.loads(answer[3])
    discovery["issuer"]
except (ValueError, KeyError):
    sys.exit("discovery: %r" % (answer,))
out["issuer"] = discovery["issuer"]
redirect = PUBLIC + "/documents/apps/user_oidc/code"
query = urllib.parse.urlencode({"response_type": "code", "client_id": "openent-documents", "redirect_uri": redirect, "scope": "openid profile email", "state": "etat", "nonce": "n-0S6"})
status, location, _, _ = request("GET", urllib.parse.urlsplit(discovery["authorization_endpoint"]).path + "?" + query, cookie=session)
params = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
out["code_redirect"] = location.split("?")[0]
out["state"] = params.get("state", [""])[0]
token_path = urllib.parse.urlsplit(discovery["token_endpoint"]).path
body = {"grant_type": "authorization_code", "code": params.get("code", [""])[0], "redirect_uri": redirect}
status, _, _, text = request("POST", token_path, body, auth="openent-documents:" + SECRET)
tokens = json.loads(text)
header, payload, signature = tokens["id_token"].split(".")
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
out["id_token"] = {k: claims.get(k) for k in ("iss", "sub", "aud", "nonce")}
out["id_token_alg"] = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["alg"]
open("/run/sso-client/id_token", "w").write(tokens["id_token"])
status, _, _, text = request("POST", token_path, body, auth="openent-documents:" + SECRET)
out["code_replay"] = status
print(json.dumps(out, sort_keys=True))
"#;

#[test]
fn an_aaf_account_logs_in_with_cas_and_oidc_through_the_essonne_lemonldap() {
    tools::required("slapd", "slapd");
    tools::required("ldapadd", "ldap-utils");
    tools::required("llng-fastcgi-server", "lemonldap-ng-fastcgi-server");
    tools::required("nginx", "nginx");
    tools::required("openssl", "openssl");
    let (work, bundle) = support::build_from_modules("examples", "essonne-colleges", &[]);
    support::import_aaf_fixture(work.path(), "examples/essonne-colleges", "aaf.ldif");
    // The operator's signing key, as the module's option says to make it.
    let key = tools::run(std::process::Command::new("openssl").args([
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
    ]));

    let mut ns = Namespace::new(&["openent-annuaire", DOMAIN]);
    start_directory(&mut ns, &bundle, &work.path().join("aaf.ldif"));
    // slapd holds the pupil in the SDET's schema, attached to an existing
    // établissement entry, and refuses a pupil without its établissement.
    let (pupil, structure, refusal) = check_directory(&ns);
    assert_eq!(
        pupil,
        format!(
            "dn: uid={ACCOUNT},ou=personnes,{ROOT_DN}\nENTPersonProfils: National_ELV\n\
             ENTPersonStructRattach: ou=0911500L,ou=structures,{ROOT_DN}\n\n"
        )
    );
    assert_eq!(
        structure,
        format!(
            "dn: ou=0911500L,ou=structures,{ROOT_DN}\nENTStructureUAI: 0911500L\n\
             ENTStructureTypeStruct: CLG\n\n"
        )
    );
    assert_eq!(
        refusal,
        format!(
            "65: adding new entry \"uid=9999,ou=personnes,{ROOT_DN}\"\n\
             ldap_add: Object class violation (65)\n\t\
             additional info: object class 'ENTEleve' requires attribute 'ENTPersonStructRattach'"
        )
    );
    start_lemonldap(&mut ns, &bundle, &key);
    let out_dir = ns.writable("/run/sso-client");
    let out: Value = serde_json::from_str(&ns.run(ns.command("/usr/bin/python3").args([
        "-c",
        CLIENT,
        DOMAIN,
        ACCOUNT,
        PASSWORD,
        OIDC_SECRET,
    ])))
    .unwrap();

    // The portal shows its form again, with no session.
    assert_eq!(
        out["wrong_password"],
        serde_json::json!({ "status": 200, "session": false }),
        "{out}"
    );
    assert_eq!(
        out["login"],
        serde_json::json!({ "status": 302, "session": true }),
        "{out}"
    );
    assert_eq!(out["ping"], serde_json::json!({ "status": 1 }), "{out}");
    assert_eq!(
        out["cas_redirect"],
        format!("https://{DOMAIN}/cahier-de-textes/")
    );
    assert_eq!(out["cas_user"], serde_json::json!([ACCOUNT]));
    // What openent/cahier-de-textes's service.login asks for, from the directory.
    assert_eq!(
        out["cas_attributes"],
        serde_json::json!([
            "ENTPersonProfils",
            "ENTPersonStructRattach",
            "displayName",
            "uid"
        ]),
        "{out}"
    );
    assert_eq!(
        out["cas_values"],
        serde_json::json!({
            "ENTPersonProfils": "National_ELV",
            "ENTPersonStructRattach": format!("ou=0911500L,ou=structures,{ROOT_DN}")
        })
    );
    assert_eq!(out["cas_replay"], true, "a service ticket validates once");
    // A service outside the bundle: an error page, no ticket.
    assert_eq!(
        out["unknown_service"],
        serde_json::json!({ "status": 200, "ticket": false }),
        "{out}"
    );
    let issuer = format!("https://{DOMAIN}/sso");
    assert_eq!(out["issuer"], issuer);
    assert_eq!(
        out["code_redirect"],
        format!("https://{DOMAIN}/documents/apps/user_oidc/code")
    );
    assert_eq!(out["state"], "etat");
    assert_eq!(
        out["id_token"],
        serde_json::json!({ "iss": issuer, "sub": ACCOUNT, "aud": ["openent-documents"], "nonce": "n-0S6" })
    );
    assert_eq!(out["id_token_alg"], "RS256");
    assert_ne!(
        out["code_replay"], 200,
        "an authorization code is used once"
    );
    // The ID token's signature checks with the public half of the bundle's key.
    let token = std::fs::read_to_string(out_dir.join("id_token")).unwrap();
    verify_rs256(&work.path().join("sso"), &token, &key);
}

/// `openssl dgst -verify` of a JWT's RS256 signature with `key`'s public half.
fn verify_rs256(dir: &Path, token: &str, key: &str) {
    use base64::Engine as _;
    std::fs::create_dir_all(dir).unwrap();
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .unwrap();
    std::fs::write(dir.join("signed"), signed).unwrap();
    std::fs::write(dir.join("signature"), signature).unwrap();
    std::fs::write(dir.join("key.pem"), key).unwrap();
    tools::run(
        std::process::Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("public.pem")),
    );
    let verified = tools::run(
        std::process::Command::new("openssl")
            .args(["dgst", "-sha256", "-verify"])
            .arg(dir.join("public.pem"))
            .arg("-signature")
            .arg(dir.join("signature"))
            .arg(dir.join("signed")),
    );
    assert_eq!(verified.trim(), "Verified OK");
}

/// `[Class]` sections of a field list in tests/fixtures/sso/ (see its header).
fn known_fields(list: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/sso")
            .join(list),
    )
    .unwrap();
    let mut out = std::collections::BTreeMap::<String, Vec<String>>::new();
    let mut class = String::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            class = name.to_owned();
        } else {
            out.entry(class.clone()).or_default().push(line.to_owned());
        }
    }
    out
}

/// Every key of `object` that `class`'s field list lacks, as `where.key`.
fn unknown_keys(
    fields: &std::collections::BTreeMap<String, Vec<String>>,
    class: &str,
    object: &Value,
    at: &str,
    out: &mut Vec<String>,
) {
    let known = &fields[class];
    for key in object.as_object().expect("an object").keys() {
        if !known.contains(key) {
            out.push(format!("{at}.{key} ({class})"));
        }
    }
}

#[test]
fn the_keycloak_realm_and_the_cas_registry_write_only_fields_upstream_reads() {
    // Keycloak: Île-de-France's realm, with a directory bind password so that
    // the LDAP federation and its mappers are rendered too.
    let (_idf, bundle) = support::build_from_modules(
        "examples",
        "ile-de-france",
        &[
            "--set",
            "openent/sso.ldap_bind_password={ env: LDAP_ADMIN_PASSWORD }",
        ],
    );
    let realm: Value = serde_json::from_str(
        &std::fs::read_to_string(conf(&bundle, "openent-sso", "import/ent.json")).unwrap(),
    )
    .unwrap();
    let fields = known_fields("keycloak-representations.txt");
    let mut unknown = Vec::new();
    unknown_keys(
        &fields,
        "RealmRepresentation",
        &realm,
        "realm",
        &mut unknown,
    );
    for (i, client) in realm["clients"].as_array().unwrap().iter().enumerate() {
        unknown_keys(
            &fields,
            "ClientRepresentation",
            client,
            &format!("clients[{i}]"),
            &mut unknown,
        );
        for (j, mapper) in client["protocolMappers"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            let at = format!("clients[{i}].protocolMappers[{j}]");
            unknown_keys(
                &fields,
                "ProtocolMapperRepresentation",
                mapper,
                &at,
                &mut unknown,
            );
        }
    }
    for (i, idp) in realm["identityProviders"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let at = format!("identityProviders[{i}]");
        unknown_keys(
            &fields,
            "IdentityProviderRepresentation",
            idp,
            &at,
            &mut unknown,
        );
    }
    let mut components = 0;
    let mut stack = vec![("components".to_owned(), realm["components"].clone())];
    while let Some((at, by_type)) = stack.pop() {
        for (kind, list) in by_type.as_object().unwrap() {
            for (i, component) in list.as_array().unwrap().iter().enumerate() {
                let at = format!("{at}[{kind}][{i}]");
                components += 1;
                unknown_keys(
                    &fields,
                    "ComponentExportRepresentation",
                    component,
                    &at,
                    &mut unknown,
                );
                if let Some(sub) = component.get("subComponents") {
                    stack.push((format!("{at}.subComponents"), sub.clone()));
                }
            }
        }
    }
    // One client per service of the distribution that logs users in, the
    // directory and one mapper per attribute they read.
    assert_eq!(realm["clients"].as_array().unwrap().len(), 10, "{realm:#}");
    assert_eq!(components, 1 + 6, "{:#}", realm["components"]);
    assert_eq!(unknown, Vec::<String>::new(), "keys Keycloak does not read");
    // The module's session_max (10h by default), in the seconds Keycloak counts.
    assert_eq!(realm["ssoSessionMaxLifespan"], 36_000, "{realm:#}");

    // CAS: its registry, for the portal, the cahier de textes and the notes.
    let (_cas, bundle) = support::build_from_modules("tests/fixtures/sso", "cas", &[]);
    let service: Value = serde_json::from_str(
        &std::fs::read_to_string(conf(&bundle, "openent-sso-cas", "services/ENT-1001.json"))
            .unwrap(),
    )
    .unwrap();
    let fields = known_fields("cas-registered-service.txt");
    let mut unknown = Vec::new();
    unknown_keys(
        &fields,
        "CasRegisteredService",
        &service,
        "service",
        &mut unknown,
    );
    let policy = &service["attributeReleasePolicy"];
    unknown_keys(
        &fields,
        "ReturnAllowedAttributeReleasePolicy",
        policy,
        "attributeReleasePolicy",
        &mut unknown,
    );
    assert_eq!(unknown, Vec::<String>::new(), "keys CAS does not read");
    assert_eq!(
        policy["allowedAttributes"],
        serde_json::json!([
            "java.util.ArrayList",
            [
                "ENTPersonJointure",
                "ENTPersonProfils",
                "ENTPersonStructRattach",
                "displayName",
                "mail",
                "uid"
            ]
        ])
    );
    // CAS matches the whole service URL against serviceId (Java's
    // Pattern.matches, as Python's re.fullmatch).
    let pattern = service["serviceId"].as_str().unwrap();
    let matched = tools::run(std::process::Command::new("python3").args([
        "-c",
        "import re, sys; print(' '.join(str(bool(re.fullmatch(sys.argv[1], u))) for u in sys.argv[2:]))",
        pattern,
        "https://ent.essai.fr/cahier-de-textes/",
        "https://ent.essai.fr/notes/eleve?id=1",
        "https://ent.essai.fr/",
        "https://ent.essai.fr/documents/",
        "https://ent.essai.fr.ailleurs.example/cahier-de-textes/",
        "https://ailleurs.example/?https://ent.essai.fr/",
    ]));
    assert_eq!(
        matched.trim(),
        "True True True False False False",
        "{pattern}"
    );
}

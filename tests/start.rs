//! Bundles that start: the services a bundle describes run, from Debian's
//! packages, with the bundle's own files, in a network and mount namespace
//! per run (see support/namespace.rs), and real clients talk to them.

mod support;

use std::path::{Path, PathBuf};

use support::compose::{compose_service, secrets_env};
use support::namespace::{Namespace, REMOTE_SERVER};
use support::{copy_dir, slapd, tools};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `oent build` of one example (`essonne-colleges`, `e-lyco/mayenne`)
/// against a registry built in the test from modules/ (so that the
/// catalogue's changes are started before the catalogue is republished;
/// the copy's lock is dropped since the archives it pins are the published
/// ones); returns the temporary folder and the bundle in it.
fn built(example: &str) -> (tempfile::TempDir, PathBuf) {
    built_with(example, &[])
}

/// [`built`] with more arguments to `oent build` (`--target kubernetes`).
fn built_with(example: &str, args: &[&str]) -> (tempfile::TempDir, PathBuf) {
    support::build_from_modules("examples", example, args)
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

/// The test account an operator's import adds: an SDET `ENTPerson` (an
/// inetOrgPerson) under `ou=personnes` of the bundle's base DN, attached to
/// the first établissement's structure entry.
const ACCOUNT: &str = "jdupont";
const ACCOUNT_PASSWORD: &str = "Mot-de-passe-2026";

fn account_ldif(suffix: &str, uai: &str) -> String {
    format!(
        "dn: uid={ACCOUNT},ou=personnes,{suffix}\nobjectClass: inetOrgPerson\n\
         objectClass: ENTPerson\nobjectClass: ENTAuxEnseignant\nuid: {ACCOUNT}\n\
         cn: Jeanne Dupont\nsn: Dupont\nENTPersonJointure: {ACCOUNT}\nENTPersonLogin: {ACCOUNT}\n\
         ENTPersonStructRattach: ou={uai},ou=structures,{suffix}\nuserPassword: {ACCOUNT_PASSWORD}\n"
    )
}

/// Python run inside the namespace (imaplib, smtplib); fails with its output.
fn python(ns: &Namespace, script: &str) -> String {
    ns.run(ns.command("/usr/bin/python3").args(["-c", script]))
}

/// The directory of `example`'s bundle started in `ns` (which names
/// `openent-annuaire`) with the bundle's own files and settings: slapd
/// with the root (checked to be `root`), administrator and password the
/// image would set, the bundle's LDIFs loaded; `ldapsearch` lists every
/// établissement of the CSV. Returns the root, the administrator's DN and
/// password, and the sorted UAIs.
fn start_directory(
    ns: &mut Namespace,
    bundle: &Path,
    secrets: &[(String, String)],
    example: &str,
    root: &str,
) -> (String, String, String, Vec<String>) {
    // 1. The directory, as the bitnami/openldap image sets it up: its root
    // from LDAP_ROOT (or the file LDAP_ROOT_FILE names), the administrator
    // cn=<LDAP_ADMIN_USERNAME, admin by default>,<root> with
    // LDAP_ADMIN_PASSWORD (or the file LDAP_ADMIN_PASSWORD_FILE names), then
    // the schemas of LDAP_CUSTOM_SCHEMA_DIR (/schemas) added to cn=config,
    // then the LDIFs of /ldifs loaded.
    // https://github.com/bitnami/containers/blob/main/bitnami/openldap/README.md#configuration
    let annuaire = compose_service(bundle, "openent-annuaire", secrets);
    let suffix = match annuaire.env("LDAP_ROOT_FILE") {
        Some(file) => std::fs::read_to_string(annuaire.source(file))
            .unwrap()
            .trim()
            .to_owned(),
        None => annuaire
            .env("LDAP_ROOT")
            .expect("the directory's service sets neither LDAP_ROOT nor LDAP_ROOT_FILE: the image would create dc=example,dc=org")
            .to_owned(),
    };
    assert_eq!(suffix, root, "the bundle's directory root");
    let admin = format!(
        "cn={},{suffix}",
        annuaire.env("LDAP_ADMIN_USERNAME").unwrap_or("admin")
    );
    // The password as a file (LDAP_ADMIN_PASSWORD_FILE, a Compose secret),
    // else from the environment, as the image reads them.
    let admin_password = match annuaire.env("LDAP_ADMIN_PASSWORD_FILE") {
        Some(file) => annuaire
            .secret_files
            .iter()
            .find(|(target, _)| target == file)
            .map(|(_, value)| value.clone())
            .unwrap_or_else(|| panic!("LDAP_ADMIN_PASSWORD_FILE names {file}, which compose.yaml mounts no secret at")),
        None => annuaire
            .env("LDAP_ADMIN_PASSWORD")
            .expect("the directory's service gets neither LDAP_ADMIN_PASSWORD_FILE nor LDAP_ADMIN_PASSWORD")
            .to_owned(),
    };
    slapd::configure(ns, &suffix, &admin, &admin_password);
    annuaire.mount_all(ns);
    let schemas = annuaire.env("LDAP_CUSTOM_SCHEMA_DIR").unwrap_or("/schemas");
    for (_, schema) in annuaire
        .mounts
        .iter()
        .filter(|(_, m)| m.starts_with(&format!("{schemas}/")))
    {
        slapd::slapadd(ns, "-n0", schema);
    }
    let ldifs: Vec<&String> = annuaire
        .mounts
        .iter()
        .map(|(_, m)| m)
        .filter(|m| m.starts_with("/ldifs/"))
        .collect();
    assert!(!ldifs.is_empty(), "compose.yaml mounts no LDIF in /ldifs");
    for ldif in ldifs {
        slapd::slapadd(ns, "-n1", ldif);
    }
    // slapd runs as the image's user (Bitnami's 1001), owner of what it writes.
    let (uid, gid) = annuaire
        .user
        .expect("compose.yaml runs the directory as no `user`");
    ns.chown(uid, gid, &slapd::FOLDERS);
    let mut daemon = annuaire.contained(ns, "slapd");
    slapd::start(ns, &mut daemon);

    let found = ns.run(ns.command("ldapsearch").args([
        "-x",
        "-LLL",
        "-H",
        slapd::URL,
        "-b",
        &format!("ou=structures,{suffix}"),
        "-s",
        "one",
        "(objectClass=organizationalUnit)",
        "ou",
    ]));
    let mut listed: Vec<String> = found
        .lines()
        .filter_map(|l| l.strip_prefix("ou: "))
        .map(str::to_owned)
        .collect();
    listed.sort();
    let uais = uais(example);
    assert_eq!(
        listed, uais,
        "every établissement of {example}'s CSV is in the directory"
    );
    (suffix, admin, admin_password, uais)
}

#[test]
fn the_essonne_directory_and_mail_start_with_the_bundle_files() {
    tools::required("slapd", "slapd");
    tools::required("ldapsearch", "ldap-utils");
    tools::required("dovecot", "dovecot-imapd");
    tools::required("postfix", "postfix");
    tools::required("openssl", "openssl");
    let (_work, bundle) = built("essonne-colleges");
    let secrets = secrets_env(&bundle);

    let mut ns = Namespace::new(&[
        "openent-annuaire",
        "openent-messagerie",
        "openent-messagerie-postfix",
    ]);

    let (suffix, admin, admin_password, uais) = start_directory(
        &mut ns,
        &bundle,
        &secrets,
        "essonne-colleges",
        "dc=colleges,dc=essonne,dc=fr",
    );

    // The operator's import, as the bundle's administrator.
    let account = ns.scratch().join("account.ldif");
    std::fs::write(&account, account_ldif(&suffix, &uais[0])).unwrap();
    ns.run(
        ns.command("ldapadd")
            .args(["-x", "-H", slapd::URL, "-D", &admin, "-w"])
            .arg(&admin_password)
            .arg("-f")
            .arg(&account),
    );

    // 2. Dovecot with the bundle's files where compose.yaml mounts them, its
    // certificate where dovecot.conf reads it, provided by the operator in
    // local/ beside the bundle (compose.yaml mounts it from there), then the
    // service's own command (which fills dovecot-ldap.conf.ext from its
    // environment).
    let messagerie = compose_service(&bundle, "openent-messagerie", &secrets);
    let dovecot_conf =
        std::fs::read_to_string(messagerie.source("/etc/dovecot/dovecot.conf")).unwrap();
    let setting = |key: &str| -> String {
        dovecot_conf
            .lines()
            .find_map(|l| l.strip_prefix(key)?.trim().strip_prefix("= <"))
            .unwrap_or_else(|| panic!("dovecot.conf has no `{key} = <file`"))
            .trim()
            .to_owned()
    };
    let (cert, key) = (setting("ssl_cert"), setting("ssl_key"));
    let (cert, key) = (messagerie.source(&cert), messagerie.source(&key));
    assert!(
        cert.ends_with("compose/../../local/tls/messagerie/fullchain.pem")
            && key.ends_with("compose/../../local/tls/messagerie/privkey.pem"),
        "the certificate comes from the operator's local/: {cert:?} {key:?}"
    );
    let local = cert.parent().unwrap().to_path_buf();
    std::fs::create_dir_all(&local).unwrap();
    ns.run(
        std::process::Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=moncollege.essonne.fr", "-keyout"])
            .arg(key)
            .arg("-out")
            .arg(cert),
    );
    let pki = local;
    // The image's /etc/dovecot and /srv/mail (its volumes, mail owned by
    // vmail, uid 1000); /run/dovecot is Dovecot's base_dir.
    ns.writable("/etc/dovecot");
    let mail = ns.writable("/srv/mail");
    std::os::unix::fs::chown(&mail, Some(1000), Some(1000)).unwrap();
    ns.writable("/run/dovecot");
    messagerie.mount_all(&ns);
    assert!(
        !messagerie.command.is_empty(),
        "the Dovecot service has no command"
    );
    let mut dovecot = ns.command("env");
    dovecot.arg("-i").arg("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
    for (k, v) in &messagerie.environment {
        dovecot.arg(format!("{k}={v}"));
    }
    ns.start("dovecot", dovecot.args(&messagerie.command));
    ns.wait_for_port("dovecot", 993);

    let imap = |password: &str| {
        format!(
            "import imaplib, ssl\n\
             ctx = ssl.create_default_context(cafile='{}')\n\
             ctx.check_hostname = False\n\
             m = imaplib.IMAP4_SSL('openent-messagerie', 993, ssl_context=ctx)\n\
             try:\n    m.login('{ACCOUNT}', '{password}')\n    print('logged in')\n\
             except imaplib.IMAP4.error as e:\n    print('refused', e)\n",
            pki.join("fullchain.pem").display()
        )
    };
    assert_eq!(
        python(&ns, &imap(ACCOUNT_PASSWORD)).trim(),
        "logged in",
        "Dovecot authenticates the directory's account over IMAPS:\n{}",
        ns.logs()
    );
    let wrong = python(&ns, &imap("not-the-password"));
    assert!(
        wrong.starts_with("refused"),
        "Dovecot must refuse a wrong password: {wrong}"
    );

    // 3. Postfix with the bundle's main.cf and master.cf, in the Debian
    // package's /etc/postfix (what the Postfix image is built from), run as
    // that image runs it: `postfix start-fg`.
    // https://www.postfix.org/postfix.1.html
    let postfix = compose_service(&bundle, "openent-messagerie-postfix", &secrets);
    let etc = ns.writable("/etc/postfix");
    copy_dir(Path::new("/etc/postfix"), &etc);
    ns.writable("/var/spool/postfix");
    // Postfix's own data folder, owned by postfix as the package makes it.
    ns.writable("/var/lib/postfix");
    ns.run(
        ns.command("chown")
            .args(["postfix:postfix", "/var/lib/postfix"]),
    );
    postfix.mount_all(&ns);
    // The network of the port 25 check below, made before Postfix starts
    // so that Postfix sees its address as its own.
    let remote = ns.remote();
    ns.run(ns.command("postfix").args(["check"]));
    ns.start("postfix", ns.command("postfix").arg("start-fg"));
    ns.wait_for_port("postfix", 587);
    ns.wait_for_port("postfix", 25);

    let domain = "moncollege.essonne.fr";
    let submission = format!(
        "import smtplib, ssl\n\
         ctx = ssl.create_default_context(cafile='{ca}')\n\
         ctx.check_hostname = False\n\
         s = smtplib.SMTP('openent-messagerie-postfix', 587, timeout=30)\n\
         s.starttls(context=ctx)\n\
         s.login('{ACCOUNT}', '{ACCOUNT_PASSWORD}')\n\
         s.sendmail('{ACCOUNT}@{domain}', ['{ACCOUNT}@{domain}'],\n\
         'From: {ACCOUNT}@{domain}\\r\\nTo: {ACCOUNT}@{domain}\\r\\nSubject: oent start test\\r\\n\\r\\nBonjour.\\r\\n')\n\
         s.quit()\n\
         print('sent')\n",
        ca = pki.join("fullchain.pem").display()
    );
    assert_eq!(
        python(&ns, &submission).trim(),
        "sent",
        "Postfix accepts authenticated submission on 587"
    );
    let read = format!(
        "import imaplib, ssl, time\n\
         ctx = ssl.create_default_context(cafile='{ca}')\n\
         ctx.check_hostname = False\n\
         for _ in range(300):\n\
         \x20   m = imaplib.IMAP4_SSL('openent-messagerie', 993, ssl_context=ctx)\n\
         \x20   m.login('{ACCOUNT}', '{ACCOUNT_PASSWORD}')\n\
         \x20   m.select('INBOX')\n\
         \x20   _, found = m.search(None, 'SUBJECT', '\"oent start test\"')\n\
         \x20   if found[0]:\n\
         \x20       print('delivered')\n\
         \x20       break\n\
         \x20   m.logout()\n\
         \x20   time.sleep(0.1)\n\
         else:\n\
         \x20   print('not delivered')\n",
        ca = pki.join("fullchain.pem").display()
    );
    assert_eq!(
        python(&ns, &read).trim(),
        "delivered",
        "the message submitted on 587 reaches the account's mailbox (LMTP to Dovecot), read over IMAPS:\n{}",
        ns.logs()
    );

    // Port 25, from a client on another machine of the network (Postfix
    // trusts its own addresses): mail for the domain is accepted, relaying
    // elsewhere refused.
    let smtp = |to: &str| {
        let script = format!(
            "import smtplib\n\
             s = smtplib.SMTP('{REMOTE_SERVER}', 25, timeout=30)\n\
             s.ehlo('client.example.net')\n\
             s.mail('someone@example.net')\n\
             code, message = s.rcpt('{to}')\n\
             print(code, message.decode())\n"
        );
        ns.run(remote.command("/usr/bin/python3").args(["-c", &script]))
    };
    let local = smtp(&format!("{ACCOUNT}@{domain}"));
    assert!(
        local.starts_with("250"),
        "port 25 accepts mail for {domain}: {local}"
    );
    let relay = smtp("someone@example.org");
    assert!(
        relay.starts_with("554") && relay.contains("Relay access denied"),
        "port 25 refuses relaying elsewhere: {relay}"
    );
}

/// Every service of the bundle's compose.yaml with the ports its container
/// listens on (`expose`, and the container side of `ports`).
fn compose_ports(bundle: &Path) -> Vec<(String, Vec<u16>)> {
    let compose: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(bundle.join("compose/compose.yaml")).unwrap(),
    )
    .unwrap();
    let services = compose["services"].as_object().unwrap();
    services
        .iter()
        .filter(|(name, _)| name.as_str() != "proxy")
        .map(|(name, service)| {
            let mut ports: Vec<u16> = Vec::new();
            for key in ["expose", "ports"] {
                for port in service[key].as_array().into_iter().flatten() {
                    let port = port.as_str().unwrap();
                    let inside = port.rsplit(':').next().unwrap();
                    ports.push(inside.parse().unwrap());
                }
            }
            (name.clone(), ports)
        })
        .collect()
}

/// nginx.conf of the nginx image (its `http` block includes conf.d, where
/// compose.yaml mounts the bundle's oent.conf), with Debian's user.
/// https://github.com/nginxinc/docker-nginx/blob/master/stable/alpine/nginx.conf
const NGINX_CONF: &str = "user www-data;\nworker_processes 1;\n\
    error_log /dev/stderr notice;\npid /run/nginx/nginx.pid;\n\
    events { worker_connections 1024; }\n\
    http {\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n\
    access_log /dev/stdout;\n    sendfile on;\n    keepalive_timeout 65;\n\
    include /etc/nginx/conf.d/*.conf;\n}\n";

/// The HTTP ports of the Essonne bundle's services (their contract's
/// `http` paths): what the reverse proxy and the Ingress route, and nothing
/// else.
const ESSONNE_ROUTES: [(&str, &str, u16); 9] = [
    ("/", "openent-portail", 8080),
    ("/cahier-de-textes", "openent-cahier-de-textes", 8080),
    ("/cdi", "openent-cdi", 80),
    ("/cours", "openent-cours", 8080),
    ("/documents", "openent-documents", 80),
    ("/notes", "openent-notes-absences", 8080),
    ("/reservation", "openent-reservation", 80),
    ("/sites", "openent-sites-web", 80),
    // LemonLDAP::NG's portal (tests/start_sso.rs logs in through it).
    ("/sso", "openent-lemonldap", 8080),
];

/// nginx with `example`'s reverse-proxy configuration routes each of
/// `routes` (public path, service, port) to its service, and each of
/// `unrouted` (paths naming the directory, databases, mail) to the service
/// at `/`, `routes`' first, never to the service it names.
fn check_proxy(example: &str, domain: &str, routes: &[(&str, &str, u16)], unrouted: &[&str]) {
    tools::required("nginx", "nginx");
    tools::required("curl", "curl");
    let (_work, bundle) = built(example);
    let mut ns = Namespace::new(&[]);

    // Each service on its own address of a network beside the proxy's (as
    // each container has its own), a stub answering `<service>:<port>` on
    // every port the container listens on; the service names in /etc/hosts
    // and in the Docker DNS that oent.conf's `resolver 127.0.0.11` asks.
    let remote = ns.remote();
    let services = compose_ports(&bundle);
    let mut hosts = String::from("127.0.0.1 localhost\n");
    let mut stubs = Vec::new();
    for (i, (name, ports)) in services.iter().enumerate() {
        let address = format!("192.0.2.{}", 30 + i);
        ns.run(remote.command("ip").args([
            "addr",
            "add",
            &format!("{address}/24"),
            "dev",
            "oent-cli",
        ]));
        hosts.push_str(&format!("{address} {name}\n"));
        stubs.extend(ports.iter().map(|port| format!("{address}:{port}:{name}")));
    }
    let hosts_file = ns.scratch().join("service-hosts");
    std::fs::write(&hosts_file, hosts).unwrap();
    ns.bind_ro(&hosts_file, "/etc/hosts");
    let fixtures = Path::new(ROOT).join("tests/fixtures/start");
    ns.start(
        "backends",
        remote
            .command("/usr/bin/python3")
            .arg(fixtures.join("stub_http.py"))
            .args(&stubs),
    );
    ns.start(
        "docker-dns",
        ns.command("/usr/bin/python3")
            .arg(fixtures.join("docker_dns.py")),
    );

    // nginx as the proxy service runs it: the image's nginx.conf, the
    // bundle's oent.conf where compose.yaml mounts it.
    let proxy = compose_service(&bundle, "proxy", &[]);
    let nginx_conf = ns.scratch().join("nginx.conf");
    std::fs::write(&nginx_conf, NGINX_CONF).unwrap();
    ns.writable("/etc/nginx/conf.d");
    ns.bind_ro(&nginx_conf, "/etc/nginx/nginx.conf");
    ns.writable("/var/lib/nginx");
    ns.writable("/var/log/nginx");
    ns.writable("/run/nginx");
    proxy.mount_all(&ns);
    proxy.source("/etc/nginx/conf.d/default.conf");
    ns.start(
        "nginx",
        ns.command("nginx")
            .args(["-g", "daemon off;", "-c", "/etc/nginx/nginx.conf"]),
    );
    ns.wait_for_port("nginx", 80);

    let get = |path: &str| -> String {
        ns.run(ns.command("curl").args([
            "-s",
            "-w",
            " %{http_code}",
            "-H",
            &format!("Host: {domain}"),
            &format!("http://127.0.0.1{path}"),
        ]))
    };
    // Each HTTP port of the contract, at its public path.
    for (path, service, port) in routes {
        let answer = format!("{service}:{port}");
        let path = format!("{}/", path.trim_end_matches('/'));
        let path = path.as_str();
        assert_eq!(
            get(path),
            format!("{answer} 200"),
            "{path} through nginx reaches {answer}:\n{}",
            ns.logs()
        );
    }
    // The directory, the databases, IMAP and SMTP are never routed: a path
    // that would name them reaches the service at `/` (the portail), not them.
    let (root, service, port) = routes[0];
    assert_eq!(root, "/", "the first route is the one at /");
    for path in unrouted {
        assert_eq!(
            get(path),
            format!("{service}:{port} 200"),
            "{path} must not reach a directory, a database or a mail server"
        );
    }
}

#[test]
fn the_essonne_reverse_proxy_routes_each_path_to_its_service_and_nothing_else() {
    check_proxy(
        "essonne-colleges",
        "moncollege.essonne.fr",
        &ESSONNE_ROUTES,
        &[
            "/annuaire/",
            "/messagerie/",
            "/mariadb/",
            "/postgresql/",
            "/messagerie-postfix/",
        ],
    );
}

/// `example`'s Kubernetes Ingress lists exactly `routes`.
fn check_ingress(example: &str, routes: &[(&str, &str, u16)]) {
    let (_work, bundle) = built_with(example, &["--target", "kubernetes"]);
    let path = bundle.join("kubernetes/ingress.yaml");
    let ingress: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut routed: Vec<(String, String, u16)> = Vec::new();
    for rule in ingress["spec"]["rules"].as_array().unwrap() {
        for p in rule["http"]["paths"].as_array().unwrap() {
            let service = &p["backend"]["service"];
            routed.push((
                p["path"].as_str().unwrap().to_owned(),
                service["name"].as_str().unwrap().to_owned(),
                service["port"]["number"].as_u64().unwrap() as u16,
            ));
        }
    }
    routed.sort();
    let mut expected: Vec<(String, String, u16)> = routes
        .iter()
        .map(|(p, s, n)| ((*p).to_owned(), (*s).to_owned(), *n))
        .collect();
    expected.sort();
    assert_eq!(
        routed,
        expected,
        "{}: the HTTP ports' paths, and only them",
        path.display()
    );
}

#[test]
fn the_essonne_ingress_lists_exactly_the_http_paths() {
    check_ingress("essonne-colleges", &ESSONNE_ROUTES);
}

#[test]
fn the_mayenne_ingress_lists_exactly_the_http_paths() {
    check_ingress("e-lyco/mayenne", &MAYENNE_ROUTES);
}

/// The HTTP ports of the Mayenne bundle (E-LYCO's base, nothing added).
const MAYENNE_ROUTES: [(&str, &str, u16); 10] = [
    ("/", "openent-portail", 8080),
    ("/actualites", "openent-actualites", 8080),
    ("/agenda", "openent-agenda", 8080),
    ("/auth", "openent-sso", 8080),
    ("/cahier-de-textes", "openent-cahier-de-textes", 8080),
    ("/emploi-du-temps", "openent-emploi-du-temps", 8080),
    ("/forum", "openent-forum", 8080),
    ("/messages", "openent-messagerie-interne", 8080),
    ("/notes", "openent-notes-absences", 8080),
    ("/scolarite", "openent-scolarite", 8080),
];

#[test]
fn the_mayenne_directory_loads_with_the_bundle_files() {
    tools::required("slapd", "slapd");
    tools::required("ldapsearch", "ldap-utils");
    let (_work, bundle) = built("e-lyco/mayenne");
    let secrets = secrets_env(&bundle);
    let mut ns = Namespace::new(&["openent-annuaire"]);
    start_directory(
        &mut ns,
        &bundle,
        &secrets,
        "e-lyco/mayenne",
        "dc=e-lyco,dc=fr",
    );
}

#[test]
fn the_mayenne_reverse_proxy_routes_each_path_to_its_service_and_nothing_else() {
    check_proxy(
        "e-lyco/mayenne",
        "mayenne.e-lyco.fr",
        &MAYENNE_ROUTES,
        &["/annuaire/", "/postgresql/"],
    );
}

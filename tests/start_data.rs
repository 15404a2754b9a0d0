//! Bundles that start, their data side: the Essonne bundle's MariaDB and
//! PostgreSQL run (Debian's mariadbd and postgres) with the bundle's own init
//! scripts, the way the official images run /docker-entrypoint-initdb.d, and
//! each dependent module's rendered connection settings log in with the
//! client its software uses (PHP's mysqli and pgsql, psql), in one network
//! and mount namespace (support/namespace.rs).
//!
//! Until the catalogue is republished, the bundle is built from modules/
//! (a registry built in the test), so that what is checked is the catalogue
//! of this tree.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use support::compose::{ComposeService, compose_services};
use support::namespace::Namespace;
use support::tools;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Where both database modules mount their init script.
const INIT_SCRIPT: &str = "/docker-entrypoint-initdb.d/oent-databases.sh";

/// A built bundle's compose file services, read with the secrets an
/// operator filled in for it.
struct Bundle {
    _work: tempfile::TempDir,
    services: BTreeMap<String, ComposeService>,
}

/// `oent build` of `distribution` in the repository's folder `tree`
/// (`examples`, `tests/fixtures/start`) against a registry built from
/// modules/ ([`support::build_from_modules`]), with its compose file and
/// the secrets an operator would fill.
fn built_from_modules(tree: &str, distribution: &str) -> Bundle {
    let (work, dir) = support::build_from_modules(tree, distribution, &[]);
    let secrets = filled_secrets(&dir.join("secrets.env.example"));
    Bundle {
        _work: work,
        services: compose_services(&dir, &secrets),
    }
}

/// secrets.env as an operator fills it from the bundle's example: every
/// variable gets a value, each with a quote and a backslash, which the init
/// scripts and the settings must carry intact.
fn filled_secrets(example: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(example).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.strip_suffix('='))
        .map(|var| {
            (
                var.to_owned(),
                format!("{}-o'ent\\2026", var.to_lowercase()),
            )
        })
        .collect()
}

impl Bundle {
    fn service(&self, name: &str) -> &ComposeService {
        self.services
            .get(name)
            .unwrap_or_else(|| panic!("the bundle's compose.yaml has no service {name}"))
    }

    /// The UID and GID compose runs a service as (`user:`, from the contract's
    /// `security`): the test runs its daemon as them.
    fn user(&self, name: &str) -> (u32, u32) {
        self.service(name)
            .user
            .unwrap_or_else(|| panic!("compose.yaml runs {name} as no `user: UID:GID`"))
    }

    /// A command of `name`'s image as compose runs it (see
    /// [`ComposeService::contained`]).
    fn contained(
        &self,
        ns: &Namespace,
        name: &str,
        program: impl AsRef<std::ffi::OsStr>,
    ) -> Command {
        self.service(name).contained(ns, program)
    }

    /// A service's environment as compose gives it: `${VAR:?…}` replaced by
    /// secrets.env's value.
    fn environment(&self, name: &str) -> BTreeMap<String, String> {
        self.service(name).environment.iter().cloned().collect()
    }

    /// Mounts a service's secrets (a file holding the secret's variable)
    /// and files (`../conf/…:/path:ro`) where compose mounts them, and with
    /// `data` its named volumes as empty writable folders.
    fn mount(&self, ns: &Namespace, name: &str, data: bool) {
        let service = self.service(name);
        for (target, value) in &service.secret_files {
            let file = ns
                .scratch()
                .join(target.trim_start_matches('/').replace('/', "_"));
            std::fs::write(&file, value).unwrap();
            ns.bind_ro(&file, target);
        }
        if data {
            for volume in &service.volumes {
                ns.writable(volume);
            }
        }
        service.mount_all(ns);
    }
}

/// Runs `php -r script` in the namespace with a service's environment.
fn php(ns: &Namespace, env: &BTreeMap<String, String>, script: &str) -> Result<String, String> {
    let output = ns
        .command("php")
        .args(["-d", "display_errors=stderr", "-r", script])
        .envs(env)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// What the application's connection answers to `SELECT DATABASE()` (or
/// `current_database()`), or why it failed.
fn connects(ns: &Namespace, bundle: &Bundle, service: &str, script: &str) -> String {
    php(ns, &bundle.environment(service), script).unwrap_or_else(|e| {
        panic!(
            "{service}'s rendered settings do not log in: {e}\n{}",
            ns.logs()
        )
    })
}

/// MariaDB as the official image starts it (docker-entrypoint.sh,
/// https://github.com/MariaDB/mariadb-docker/blob/master/docker-entrypoint.sh):
/// an empty data folder is initialised, root gets MARIADB_ROOT_PASSWORD, and
/// every *.sh of /docker-entrypoint-initdb.d is sourced with
/// `docker_process_sql` defined; the image's conf.d/docker.cnf sets
/// skip-name-resolve, so users are matched by address ('%').
fn start_mariadb(ns: &mut Namespace, bundle: &Bundle) {
    let env = bundle.environment("openent-mariadb");
    // The image's mysql user is 999:999; mariadbd runs as it, not as root.
    let (uid, gid) = bundle.user("openent-mariadb");
    ns.add_user("mysql", uid, gid);
    bundle.mount(ns, "openent-mariadb", true);
    ns.writable("/run/mysqld");
    ns.chown(uid, gid, &["/var/lib/mysql", "/run/mysqld"]);
    ns.run(
        bundle
            .contained(ns, "openent-mariadb", "mariadb-install-db")
            .args([
                "--no-defaults",
                "--datadir=/var/lib/mysql",
                "--skip-test-db",
            ]),
    );
    ns.start(
        "mariadbd",
        bundle.contained(ns, "openent-mariadb", "mariadbd").args([
            "--no-defaults",
            "--datadir=/var/lib/mysql",
            "--socket=/run/mysqld/mysqld.sock",
            "--pid-file=/run/mysqld/mysqld.pid",
            "--port=3306",
            "--bind-address=0.0.0.0",
            "--skip-name-resolve",
        ]),
    );
    ns.wait_for_port("mariadbd", 3306);
    // Root logs in over the socket as the system's root (the image gives it
    // MARIADB_ROOT_PASSWORD; no dependent uses root).
    let process_sql = "docker_process_sql() { \
        mariadb --no-defaults --protocol=socket --socket=/run/mysqld/mysqld.sock -uroot \"$@\"; }";
    ns.run(
        ns.command("bash")
            .args(["-ec", &format!("{process_sql}\n. {INIT_SCRIPT}")])
            .envs(&env),
    );
    // Each image has its own /docker-entrypoint-initdb.d; this namespace
    // holds both, so MariaDB's script leaves the place once it has run.
    ns.run(ns.command("umount").arg(INIT_SCRIPT));
}

/// PostgreSQL as the official image starts it (docker-entrypoint.sh,
/// https://github.com/docker-library/postgres/blob/master/docker-entrypoint.sh):
/// initdb as the `postgres` user with POSTGRES_PASSWORD, then each *.sh of
/// /docker-entrypoint-initdb.d sourced (the bundle mounts it read-only,
/// not executable) with POSTGRES_USER set. The image lets other containers
/// in with `host all all all scram-sha-256`; here every client comes from
/// 127.0.0.1, which initdb would trust, so host connections get scram too.
/// The image's cluster is in en_US.utf8 (its LANG); C.UTF-8, the UTF-8
/// locale every Debian has, is likewise not the C collation Synapse needs.
fn start_postgresql(ns: &mut Namespace, bundle: &Bundle) {
    let mut env = bundle.environment("openent-postgresql");
    env.insert("POSTGRES_USER".into(), "postgres".into());
    env.insert("PGHOST".into(), "/run/postgresql".into());
    // The image's postgres user is 999:999 (Debian's has another UID).
    let (uid, gid) = bundle.user("openent-postgresql");
    ns.add_user("postgres", uid, gid);
    bundle.mount(ns, "openent-postgresql", true);
    ns.writable("/run/postgresql");
    ns.chown(uid, gid, &["/var/lib/postgresql/data", "/run/postgresql"]);
    // The image's entrypoint hands initdb the password through a pipe
    // (`--pwfile=<(printf …)`): nothing under /tmp, which is the container's own.
    ns.run(
        bundle
            .contained(ns, "openent-postgresql", "bash")
            .arg("-c")
            .arg(
                "initdb -D /var/lib/postgresql/data --username=postgres \
                 --auth-local=trust --auth-host=scram-sha-256 --locale=C.UTF-8 \
                 --pwfile=<(printf '%s\\n' \"$POSTGRES_PASSWORD\")",
            )
            .env("POSTGRES_PASSWORD", &env["POSTGRES_PASSWORD"]),
    );
    ns.start(
        "postgres",
        bundle
            .contained(ns, "openent-postgresql", "postgres")
            .args([
                "-D",
                "/var/lib/postgresql/data",
                "-p",
                "5432",
                "-c",
                "listen_addresses=*",
                "-k",
                "/run/postgresql",
            ]),
    );
    ns.wait_for_port("postgres", 5432);
    ns.run(
        bundle
            .contained(ns, "openent-postgresql", "bash")
            .arg("-ec")
            .arg(format!(". {INIT_SCRIPT}"))
            .envs(&env),
    );
}

/// The database psql reaches with `[host, port, name, user, password]`,
/// as a client given those settings would.
fn psql_database(ns: &Namespace, [host, port, name, user, password]: [&str; 5]) -> String {
    let database = ns.run(
        ns.command("psql")
            .args(["-X", "-A", "-t", "-c", "SELECT current_database()"])
            .arg(format!("host={host} port={port} dbname={name} user={user}"))
            .env("PGPASSWORD", password),
    );
    database.trim().to_owned()
}

const PMB: &str = r#"
include '/var/www/html/includes/db_param.inc.php';
[$host, $port] = explode(':', SQL_SERVER);
$db = new mysqli($host, USER_NAME, USER_PASS, DATA_BASE, (int) $port);
echo $db->query('SELECT DATABASE()')->fetch_row()[0];
"#;

#[test]
fn the_essonne_databases_start_and_every_module_logs_in_with_its_rendered_settings() {
    tools::required("mariadbd", "mariadb-server");
    tools::required("postgres", "postgresql");
    tools::required("php", "php-cli");
    let bundle = built_from_modules("examples", "essonne-colleges");
    let mut ns = Namespace::new(&["openent-mariadb", "openent-postgresql"]);
    start_mariadb(&mut ns, &bundle);
    start_postgresql(&mut ns, &bundle);

    // The applications' files, where their images read them (/var/www and
    // /bitnami are empty folders of the namespace first).
    ns.writable("/var/www");
    let bitnami = ns.writable("/bitnami");
    for service in [
        "openent-cdi",
        "openent-reservation",
        "openent-sites-web",
        "openent-cours",
    ] {
        bundle.mount(&ns, service, false);
    }

    // PMB reads includes/db_param.inc.php.
    assert_eq!(connects(&ns, &bundle, "openent-cdi", PMB), "openent_cdi");
    // The check fails when the password is not the one the database got.
    let mut wrong = bundle.environment("openent-cdi");
    wrong.insert("PMB_DB_PASSWORD".into(), "not-the-password".into());
    let refused = php(&ns, &wrong, PMB).expect_err("a wrong password logs in");
    assert!(refused.contains("Access denied"), "{refused}");

    // GRR reads include/connect.inc.php's variables.
    let grr = r#"
        include '/var/www/html/reservation/include/connect.inc.php';
        $db = new mysqli($dbHost, $dbUser, $dbPass, $dbDb, (int) $dbPort);
        echo $db->query('SELECT DATABASE()')->fetch_row()[0];
    "#;
    assert_eq!(
        connects(&ns, &bundle, "openent-reservation", grr),
        "openent_reservation"
    );

    // SPIP's config/connect.php (and each site's) calls spip_connect_db.
    let spip = r#"
        define('_ECRIRE_INC_VERSION', '4.2');
        function spip_connect_db($host, $port, $user, $pass, $base, $type, $prefix) {
            $db = new mysqli($host, $user, $pass, $base, (int) $port);
            echo $prefix, ':', $db->query('SELECT DATABASE()')->fetch_row()[0], "\n";
        }
        include '/var/www/html/config/connect.php';
        include '/var/www/html/sites/0911500l/config/connect.php';
    "#;
    assert_eq!(
        connects(&ns, &bundle, "openent-sites-web", spip),
        "spip:openent_sites_web\ne0911500l:openent_sites_web\n"
    );

    // Moodle's config.php fills $CFG then requires lib/setup.php, where
    // Moodle connects: here an empty one, and the test connects with $CFG.
    std::fs::create_dir_all(bitnami.join("moodle/lib")).unwrap();
    std::fs::write(bitnami.join("moodle/lib/setup.php"), "<?php\n").unwrap();
    let moodle = r#"
        include '/bitnami/moodle/config.php';
        if ($CFG->dbtype !== 'mariadb') { exit("dbtype $CFG->dbtype\n"); }
        $db = new mysqli($CFG->dbhost, $CFG->dbuser, $CFG->dbpass, $CFG->dbname,
            $CFG->dboptions['dbport']);
        echo $db->query('SELECT DATABASE()')->fetch_row()[0];
    "#;
    assert_eq!(
        connects(&ns, &bundle, "openent-cours", moodle),
        "openent_cours"
    );

    // Nextcloud's image installs from POSTGRES_* (its config.php has no
    // database keys): pgsql with those.
    let nextcloud = r#"
        $q = fn ($v) => "'" . addcslashes((string) $v, "'\\") . "'";
        $db = pg_connect('host=' . $q(getenv('POSTGRES_HOST')) . ' dbname=' . $q(getenv('POSTGRES_DB'))
            . ' user=' . $q(getenv('POSTGRES_USER')) . ' password=' . $q(getenv('POSTGRES_PASSWORD')));
        echo pg_fetch_row(pg_query($db, 'SELECT current_database()'))[0];
    "#;
    assert_eq!(
        connects(&ns, &bundle, "openent-documents", nextcloud),
        "openent_documents"
    );
}

#[test]
fn synapse_starts_with_the_bundles_homeserver_yaml_on_its_postgresql_database_and_etherpad_logs_in()
{
    tools::required("postgres", "postgresql");
    tools::required("curl", "curl");
    let python = Path::new(ROOT).join(".ci/venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run .ci/setup (it installs Synapse from PyPI)",
        python.display()
    );
    let bundle = built_from_modules("tests/fixtures/start", "chat");
    let mut ns = Namespace::new(&["openent-postgresql", "openent-chat", "openent-annuaire"]);
    start_postgresql(&mut ns, &bundle);

    // The image's /start.py (run mode) execs Synapse with SYNAPSE_CONFIG_PATH
    // (https://github.com/element-hq/synapse/blob/develop/docker/start.py);
    // Synapse writes the signing key it lacks into /data at start
    // (generate_missing_files), and logs to stderr without a log config.
    // It runs as the contract's UID (the image's 991), owner of /data.
    bundle.mount(&ns, "openent-chat", true);
    let (uid, gid) = bundle.user("openent-chat");
    ns.chown(uid, gid, &["/data"]);
    let env = bundle.environment("openent-chat");
    let config = env["SYNAPSE_CONFIG_PATH"].clone();
    ns.start(
        "synapse",
        bundle
            .contained(&ns, "openent-chat", &python)
            .args(["-m", "synapse.app.homeserver", "--config-path", &config])
            .envs(&env),
    );
    ns.wait_for_port("synapse", 8008);
    let versions = ns.run(ns.command("curl").args([
        "--silent",
        "--show-error",
        "--fail",
        "http://openent-chat:8008/_matrix/client/versions",
    ]));
    let versions: serde_json::Value = serde_json::from_str(&versions)
        .unwrap_or_else(|e| panic!("/_matrix/client/versions is not JSON ({e}): {versions}"));
    assert!(
        versions["versions"]
            .as_array()
            .is_some_and(|v| !v.is_empty()),
        "{versions}"
    );
    // Synapse keeps its tables in the module's database.
    let tables = ns.run(
        ns.command("psql")
            .args(["-X", "-A", "-t", "-h", "openent-postgresql", "-c"])
            .arg("SELECT count(*) FROM information_schema.tables WHERE table_name = 'users'")
            .envs(&env),
    );
    assert_eq!(tables.trim(), "1", "Synapse's users table in openent_chat");

    // Etherpad fills settings.json's "${DB_*}" from its environment (the
    // contract's `expand: env`): psql with those values.
    let pads = bundle.environment("openent-pads");
    let database = psql_database(
        &ns,
        ["DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASS"].map(|v| pads[v].as_str()),
    );
    assert_eq!(database, "openent_pads");
}

#[test]
fn the_maine_et_loire_blogs_log_in_to_their_mariadb_database() {
    tools::required("mariadbd", "mariadb-server");
    tools::required("php", "php-cli");
    let bundle = built_from_modules("examples", "e-lyco/maine-et-loire");
    let mut ns = Namespace::new(&["openent-mariadb"]);
    start_mariadb(&mut ns, &bundle);
    // WordPress's wp-config.php defines DB_* then requires wp-settings.php,
    // where WordPress connects: here an empty one (ABSPATH points at it),
    // and the test connects with DB_*.
    let abspath = ns.writable("/opt/wordpress");
    std::fs::write(abspath.join("wp-settings.php"), "<?php\n").unwrap();
    ns.writable("/var/www");
    bundle.mount(&ns, "openent-blogs", false);
    let wordpress = r#"
        define('ABSPATH', '/opt/wordpress/');
        include '/var/www/html/wp-config.php';
        $db = new mysqli(DB_HOST, DB_USER, DB_PASSWORD, DB_NAME);
        echo $db->query('SELECT DATABASE()')->fetch_row()[0];
    "#;
    assert_eq!(
        connects(&ns, &bundle, "openent-blogs", wordpress),
        "openent_blogs"
    );
}

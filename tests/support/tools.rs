//! The real tools tests check oent's output with: nginx, PHP, the Python
//! validators of .ci/venv, kubectl's kustomize. Each is found or the test
//! fails with how to install it; none is ever skipped.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::venv_tool;

pub const NGINX: &str = "/usr/sbin/nginx";
pub const KUBERNETES_VERSION: &str = "1.31.0";

/// Runs `command`, failing with its output unless it succeeds; returns stdout.
pub fn run(command: &mut Command) -> String {
    let shown = format!("{command:?}");
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{shown} does not start: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{shown} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

/// A program from PATH, or a failure naming the Debian package to install.
pub fn required(program: &str, package: &str) -> PathBuf {
    which(program).unwrap_or_else(|| {
        panic!(
            "`{program}` is missing: run .ci/setup (it installs {package}), then the tests again"
        )
    })
}

/// A real nginx in the foreground, its files (pid, error log) in `work`,
/// listening on a free loopback port: `write_conf(port)` writes its
/// configuration (whose main file is `work/nginx.conf`). The port may be
/// taken between choosing and binding it, so this tries three ports;
/// returns once the port accepts connections, or fails with the error log.
pub fn start_nginx(work: &Path, write_conf: impl Fn(u16)) -> (Child, u16) {
    assert!(
        Path::new(NGINX).is_file(),
        "{NGINX} is missing: run .ci/setup (it installs nginx), then the tests again"
    );
    std::fs::create_dir_all(work).unwrap();
    for _ in 0..3 {
        let port = super::free_port();
        write_conf(port);
        let mut child = Command::new(NGINX)
            .arg("-p")
            .arg(work)
            .arg("-e")
            .arg(work.join("error.log"))
            .arg("-c")
            .arg(work.join("nginx.conf"))
            .arg("-g")
            .arg(format!(
                "daemon off; pid {};",
                work.join("nginx.pid").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{NGINX} does not start: {e}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return (child, port);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        super::stop_gracefully(&mut child);
    }
    panic!(
        "nginx did not start; its error log:\n{}",
        std::fs::read_to_string(work.join("error.log")).unwrap_or_default()
    );
}

/// `nginx -t` on a file written for the nginx image's conf.d (included
/// inside `http { }`): a minimal nginx.conf in `work` includes it the same way.
pub fn nginx_t(conf: &Path, work: &Path) {
    assert!(
        Path::new(NGINX).is_file(),
        "{NGINX} is missing: run .ci/setup (it installs nginx), then the tests again"
    );
    std::fs::create_dir_all(work).unwrap();
    let w = work.display();
    std::fs::write(
        work.join("nginx.conf"),
        format!(
            "pid {w}/nginx.pid;\nerror_log {w}/error.log;\nevents {{}}\nhttp {{\n    \
             access_log off;\n    client_body_temp_path {w}/body;\n    \
             proxy_temp_path {w}/proxy;\n    fastcgi_temp_path {w}/fastcgi;\n    \
             uwsgi_temp_path {w}/uwsgi;\n    scgi_temp_path {w}/scgi;\n    \
             include {};\n}}\n",
            conf.display()
        ),
    )
    .unwrap();
    run(Command::new(NGINX)
        .arg("-t")
        .arg("-p")
        .arg(work)
        .arg("-e")
        .arg(work.join("error.log"))
        .arg("-c")
        .arg(work.join("nginx.conf")));
}

/// Compose files against the Compose Specification's JSON Schema.
pub fn compose_schema(file: &Path) {
    run(Command::new(venv_tool("check-jsonschema"))
        .args(["--builtin-schema", "vendor.compose-spec"])
        .arg(file));
}

/// Kubernetes manifests against Kubernetes' OpenAPI schemas, strictly
/// (unknown fields are errors).
pub fn kubernetes_validate(files: &[PathBuf]) {
    run(Command::new(venv_tool("kubernetes-validate"))
        .args([
            "--kubernetes-version",
            KUBERNETES_VERSION,
            "--strict",
            "--quiet",
        ])
        .args(files));
}

/// `kubectl kustomize DIR`: the manifests `kubectl apply -k DIR` would apply.
pub fn kustomize(dir: &Path) -> String {
    let kubectl = which("kubectl").unwrap_or_else(|| {
        panic!(
            "kubectl (with its built-in kustomize) is missing: it comes with this machine's \
             image; elsewhere install kubectl >= 1.27, then the tests again"
        )
    });
    run(Command::new(kubectl).arg("kustomize").arg(dir))
}

/// `php -l` on each file (the Debian package php-cli): a PHP configuration
/// file that does not parse stops the application that includes it.
pub fn php_lint(files: &[PathBuf]) {
    let php = required("php", "php-cli");
    for file in files {
        let out = run(Command::new(&php).arg("-l").arg(file));
        assert!(
            out.contains("No syntax errors"),
            "{}: {out}",
            file.display()
        );
    }
}

/// Parses `key=value` files (Java properties, Keycloak's and CAS's
/// configuration, env files) with Python's configparser, strictly: a line
/// that is not `key=value` or `key: value`, or a key given twice, fails.
pub fn ini_parse(files: &[PathBuf]) {
    let python = required("python3", "python3");
    let script = "import configparser, sys\n\
        for path in sys.argv[1:]:\n    \
            parser = configparser.ConfigParser(strict=True, interpolation=None, \
            comment_prefixes=('#', '!'), delimiters=('=', ':'))\n    \
            parser.optionxform = str\n    \
            with open(path, encoding='utf-8') as f:\n        \
                parser.read_string('[oent]\\n' + f.read(), source=path)\n";
    run(Command::new(python).arg("-c").arg(script).args(files));
}

/// A minimal cn=config for Debian's slapd holding one MDB database for
/// `suffix` in `db`, its administrator `admin` with `password`: what the
/// directory image sets up from its environment before it loads the
/// bundle's LDIF.
pub fn slapd_config(suffix: &str, admin: &str, password: &str, db: &str, run: &str) -> String {
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
         olcDbDirectory: {db}\nolcRootDN: {admin}\nolcRootPW: {password}\n"
    )
}

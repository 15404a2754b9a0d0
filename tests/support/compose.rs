//! A service of a bundle's compose/compose.yaml as a container runtime
//! reads it (its bind mounts, environment, command, user, secrets), and the
//! operator's secrets.env filled in from secrets.env.example: what the
//! start tests run Debian's daemons with in a [`Namespace`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::namespace::Namespace;

/// One service of the bundle's compose/compose.yaml, read as a container
/// runtime reads it.
pub struct ComposeService {
    /// Each bind mount: the file in the bundle and where the container sees it
    /// (named volumes are left out: the test gives each an empty folder).
    pub mounts: Vec<(PathBuf, String)>,
    /// Where each named volume is mounted.
    pub volumes: Vec<String>,
    /// The environment, each `${VAR:?…}` read from the operator's secrets.env.
    pub environment: Vec<(String, String)>,
    /// `command`, with Compose's `$$` read back as `$`.
    pub command: Vec<String>,
    /// `user: UID:GID` (the contract's `security`), and whether the root
    /// filesystem is read-only but the `tmpfs` folders.
    pub user: Option<(u32, u32)>,
    pub read_only: bool,
    pub tmpfs: Vec<String>,
    /// Each Compose secret the service mounts: where, and the value its
    /// variable holds in the operator's secrets.env.
    pub secret_files: Vec<(String, String)>,
}

/// Service `name` of `bundle`'s compose.yaml, its `${VAR}`s read from
/// `secrets` (see [`secrets_env`]); fails when there is no such service.
pub fn compose_service(bundle: &Path, name: &str, secrets: &[(String, String)]) -> ComposeService {
    let (path, compose) = read_compose(bundle);
    let service = &compose["services"][name];
    assert!(
        service.is_object(),
        "{}: no service `{name}`",
        path.display()
    );
    read_service(bundle, &compose, service, secrets)
}

fn read_compose(bundle: &Path) -> (PathBuf, serde_json::Value) {
    let path = bundle.join("compose/compose.yaml");
    let compose = serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    (path, compose)
}

/// Every service of `bundle`'s compose.yaml by name (see [`compose_service`]).
pub fn compose_services(
    bundle: &Path,
    secrets: &[(String, String)],
) -> BTreeMap<String, ComposeService> {
    let (path, compose) = read_compose(bundle);
    compose["services"]
        .as_object()
        .unwrap_or_else(|| panic!("{}: no services", path.display()))
        .iter()
        .map(|(name, service)| {
            let read = read_service(bundle, &compose, service, secrets);
            (name.clone(), read)
        })
        .collect()
}

fn read_service(
    bundle: &Path,
    compose: &serde_json::Value,
    service: &serde_json::Value,
    secrets: &[(String, String)],
) -> ComposeService {
    let strings = |key: &str| -> Vec<String> {
        service[key]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    let (files, named): (Vec<String>, Vec<String>) = strings("volumes")
        .into_iter()
        .partition(|v| v.starts_with('.'));
    let mounts = files
        .iter()
        .map(|v| {
            let mut parts = v.split(':');
            let host = bundle.join("compose").join(parts.next().unwrap());
            (host, parts.next().unwrap().to_owned())
        })
        .collect();
    let volumes = named
        .iter()
        .map(|v| v.split(':').nth(1).expect("`name:/path`").to_owned())
        .collect();
    let environment = service["environment"]
        .as_object()
        .map(|env| {
            env.iter()
                .map(|(k, v)| {
                    let v = v.as_str().unwrap();
                    let value = match v.strip_prefix("${") {
                        Some(rest) => {
                            let var = rest.split([':', '}']).next().unwrap();
                            secret(secrets, var)
                        }
                        None => v.to_owned(),
                    };
                    (k.clone(), value)
                })
                .collect()
        })
        .unwrap_or_default();
    let command = strings("command")
        .iter()
        .map(|c| c.replace("$$", "$"))
        .collect();
    let secret_files = service["secrets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let source = s["source"].as_str().unwrap();
            let var = compose["secrets"][source]["environment"].as_str().unwrap();
            (
                s["target"].as_str().unwrap().to_owned(),
                secret(secrets, var),
            )
        })
        .collect();
    let user = service["user"].as_str().map(|u| {
        let (uid, gid) = u.split_once(':').expect("`user: UID:GID`");
        (uid.parse().unwrap(), gid.parse().unwrap())
    });
    ComposeService {
        mounts,
        volumes,
        environment,
        command,
        user,
        read_only: service["read_only"] == true,
        tmpfs: strings("tmpfs"),
        secret_files,
    }
}

impl ComposeService {
    /// `program` as compose runs the service's image: as its `user`, with
    /// `read_only` on a read-only root but its `tmpfs` folders.
    pub fn contained(
        &self,
        ns: &Namespace,
        program: impl AsRef<std::ffi::OsStr>,
    ) -> std::process::Command {
        let user = self
            .user
            .expect("compose.yaml runs the service as no `user`");
        ns.command_of_service(user, self.read_only, &self.tmpfs, program)
    }

    /// Where the bundle mounts a file at `mount`, or fails naming it.
    pub fn source(&self, mount: &str) -> &Path {
        self.mounts
            .iter()
            .find(|(_, m)| m == mount)
            .map(|(h, _)| h.as_path())
            .unwrap_or_else(|| panic!("compose.yaml mounts nothing at {mount}: {:?}", self.mounts))
    }

    pub fn env(&self, name: &str) -> Option<&str> {
        self.environment
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Where the service sees the bundle's file `conf/<slug>/<file>` (a
    /// folder ends with `/`), or fails naming it.
    pub fn target(&self, file: &str) -> &str {
        self.mounts
            .iter()
            .find(|(h, _)| h.ends_with(file))
            .map(|(_, m)| m.as_str())
            .unwrap_or_else(|| panic!("compose.yaml mounts no {file}: {:?}", self.mounts))
    }

    /// Every bind mount of the service, read-only, as the runtime mounts it.
    pub fn mount_all(&self, ns: &Namespace) {
        for (host, mount) in &self.mounts {
            ns.bind_ro(host, mount);
        }
    }
}

/// The operator's secrets.env, written from the bundle's secrets.env.example:
/// each variable gets a value of its own.
pub fn secrets_env(bundle: &Path) -> Vec<(String, String)> {
    let example = std::fs::read_to_string(bundle.join("secrets.env.example")).unwrap();
    let secrets: Vec<(String, String)> = example
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.strip_suffix('='))
        .map(|var| (var.to_owned(), format!("test-{}", var.to_lowercase())))
        .collect();
    assert!(!secrets.is_empty(), "secrets.env.example lists no variable");
    secrets
}

fn secret(secrets: &[(String, String)], var: &str) -> String {
    secrets
        .iter()
        .find(|(k, _)| k == var)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("secrets.env.example does not list {var}"))
}

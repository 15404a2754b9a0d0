//! `forge.yaml`: which registry directory a forge serves, where it listens,
//! who may publish into which namespaces, and which peers it mirrors.
//!
//! ```yaml
//! schema: oent/forge/v1
//! registry: registry                 # directory, relative to forge.yaml
//! listen: "127.0.0.1:8470"
//! signing-key: keys/forge            # OpenSSH ed25519 private key (snapshot signatures)
//! snapshot-validity-days: 30
//! max-upload-mib: 64
//! request-timeout-seconds: 300       # a request not answered by then gets 408
//! sync-interval-seconds: 300         # 0: no periodic sync in `serve`
//! tokens:
//!   - { name: ci-openent, sha256: "9f86d0…", namespaces: [openent] }
//! peers:
//!   - { name: openent, url: "https://forge.openent.org/registry",
//!       keys: ["ssh-ed25519 AAAA…"], namespaces: [openent] }
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::manifest::Code;
use crate::manifest::fields::Checker;
use crate::manifest::formats::check_url;
use crate::manifest::load::load_yaml;
use crate::manifest::names::check_part;
use crate::manifest::yaml::{Node, Span};

use super::ForgeError;
use crate::registry::signing::PublicKey;

pub const FORGE_SCHEMA: &str = "oent/forge/v1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeConfig {
    /// The registry directory, resolved against the file's directory.
    pub registry: PathBuf,
    pub listen: SocketAddr,
    pub signing_key: Option<PathBuf>,
    pub snapshot_validity_days: u32,
    pub max_upload_bytes: u64,
    /// How long a request may take, upload included, before a 408.
    pub request_timeout: Duration,
    pub sync_interval_seconds: u64,
    pub tokens: Vec<Token>,
    pub peers: Vec<Peer>,
}

/// A publish token: only its sha256 is stored, so forge.yaml can be read
/// by anyone who may read the server's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub name: String,
    pub sha256: String,
    pub namespaces: Vec<String>,
}

impl Token {
    pub fn allows(&self, namespace: &str) -> bool {
        self.namespaces.iter().any(|n| n == namespace || n == "*")
    }
}

/// Another forge whose namespaces this one mirrors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub name: String,
    /// Base URL of the peer's registry (where its snapshot.json is).
    pub url: String,
    /// OpenSSH public keys that sign the peer's snapshot.
    pub keys: Vec<String>,
    /// The namespaces trusted from this peer: anything else it serves is ignored.
    pub namespaces: Vec<String>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8470";

impl ForgeConfig {
    pub fn load(path: &Path) -> Result<ForgeConfig, ForgeError> {
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let loaded = load_yaml(path, |checker, root| parse(checker, root, &base))
            .map_err(|e| ForgeError::Config(e.to_string()))?;
        if loaded.has_errors() {
            return Err(ForgeError::InvalidConfig {
                path: path.to_path_buf(),
                diagnostics: loaded.diagnostics,
            });
        }
        loaded
            .into_valid()
            .ok_or_else(|| ForgeError::InvalidConfig {
                path: path.to_path_buf(),
                diagnostics: Vec::new(),
            })
    }

    /// The token whose hash matches `presented`, compared in constant time.
    pub fn token(&self, presented: &str) -> Option<&Token> {
        let hash = hash_token(presented);
        self.tokens
            .iter()
            .find(|t| constant_time_eq(t.sha256.as_bytes(), hash.as_bytes()))
    }
}

/// What forge.yaml stores for a token.
pub fn hash_token(token: &str) -> String {
    crate::package::checksum::sha256_hex(token.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn parse(checker: &mut Checker, root: &Node, base: &Path) -> Option<ForgeConfig> {
    let fields = checker.map(
        root,
        "",
        Span::default(),
        &[
            "schema",
            "registry",
            "listen",
            "signing-key",
            "snapshot-validity-days",
            "max-upload-mib",
            "request-timeout-seconds",
            "sync-interval-seconds",
            "tokens",
            "peers",
        ],
    )?;
    if let Some((schema, span)) = fields
        .required(checker, "schema", FORGE_SCHEMA)
        .and_then(|n| checker.string(n, "schema").map(|s| (s, n.span)))
        && schema != FORGE_SCHEMA
    {
        checker.report(
            Code::UnsupportedSchema,
            span,
            "schema",
            format!("`schema: {schema}` is not supported"),
            format!("write `schema: {FORGE_SCHEMA}`"),
        );
    }
    let registry = fields
        .required(checker, "registry", "registry")
        .and_then(|n| checker.string(n, "registry"))
        .map(|s| base.join(s));
    let listen = match fields.get("listen") {
        None => DEFAULT_LISTEN.parse().ok(),
        Some(n) => checker.string(n, "listen").and_then(|s| {
            s.parse::<SocketAddr>()
                .map_err(|e| {
                    checker.report(
                        Code::InvalidValue,
                        n.span,
                        "listen",
                        format!("`listen: {s}` is not an address and port: {e}"),
                        format!("write an IP address and a port, such as `{DEFAULT_LISTEN}`"),
                    )
                })
                .ok()
        }),
    };
    let signing_key = fields
        .get("signing-key")
        .and_then(|n| checker.string(n, "signing-key"))
        .map(|s| base.join(s));
    let days = bounded(
        checker,
        fields.get("snapshot-validity-days"),
        "snapshot-validity-days",
        1,
        3650,
        30,
    );
    let mib = bounded(
        checker,
        fields.get("max-upload-mib"),
        "max-upload-mib",
        1,
        256,
        64,
    );
    let timeout = bounded(
        checker,
        fields.get("request-timeout-seconds"),
        "request-timeout-seconds",
        1,
        3600,
        300,
    );
    let interval = bounded(
        checker,
        fields.get("sync-interval-seconds"),
        "sync-interval-seconds",
        0,
        86_400 * 7,
        300,
    );
    let tokens = match fields.get("tokens") {
        None => Some(Vec::new()),
        Some(n) => checker.seq(n, "tokens").map(|items| {
            items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| token(checker, item, &format!("tokens[{i}]")))
                .collect::<Vec<_>>()
        }),
    };
    let peers = match fields.get("peers") {
        None => Some(Vec::new()),
        Some(n) => checker.seq(n, "peers").map(|items| {
            items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| peer(checker, item, &format!("peers[{i}]")))
                .collect::<Vec<_>>()
        }),
    };
    Some(ForgeConfig {
        registry: registry?,
        listen: listen?,
        signing_key,
        snapshot_validity_days: days? as u32,
        max_upload_bytes: (mib? as u64) << 20,
        request_timeout: Duration::from_secs(timeout? as u64),
        sync_interval_seconds: interval? as u64,
        tokens: tokens?,
        peers: peers?,
    })
}

fn bounded(
    checker: &mut Checker,
    node: Option<&Node>,
    key: &str,
    min: i64,
    max: i64,
    default: i64,
) -> Option<i64> {
    let Some(node) = node else {
        return Some(default);
    };
    let value = checker.int(node, key)?;
    if value < min || value > max {
        checker.report(
            Code::InvalidValue,
            node.span,
            key,
            format!("`{key}: {value}` is out of bounds"),
            format!("write a whole number from {min} to {max} (default {default})"),
        );
        return None;
    }
    Some(value)
}

fn namespaces(checker: &mut Checker, node: &Node, key: &str) -> Option<Vec<String>> {
    let list = checker.strings(node, key)?;
    let mut out = Vec::with_capacity(list.len());
    for (ns, span) in list {
        if ns != "*"
            && let Err(e) = check_part(&ns, "namespace")
        {
            checker.report(
                Code::InvalidName,
                span,
                key,
                e,
                "namespaces are lowercase words (or `*` for every namespace the forge owns)",
            );
            continue;
        }
        out.push(ns);
    }
    Some(out)
}

fn name(checker: &mut Checker, node: &Node, key: &str) -> Option<String> {
    let s = checker.string(node, key)?;
    match check_part(&s, "name") {
        Ok(()) => Some(s),
        Err(e) => {
            checker.report(
                Code::InvalidName,
                node.span,
                key,
                e,
                "use lowercase letters, digits and '-'",
            );
            None
        }
    }
}

fn token(checker: &mut Checker, node: &Node, key: &str) -> Option<Token> {
    let fields = checker.map(node, key, node.span, &["name", "sha256", "namespaces"])?;
    let token_name = fields
        .required(checker, "name", "ci-openent")
        .and_then(|n| name(checker, n, &fields.key("name")));
    let sha256 = fields
        .required(checker, "sha256", "<output of `oent forge token`>")
        .and_then(|n| {
            let s = checker.string(n, &fields.key("sha256"))?;
            if crate::package::checksum::is_sha256_hex(&s) {
                Some(s)
            } else {
                checker.report(
                    Code::InvalidValue,
                    n.span,
                    &fields.key("sha256"),
                    "a token is stored as the lowercase hex sha256 of its value (64 characters)",
                    "create tokens with `oent forge token --name NAME --namespace NS` and paste the line it prints",
                );
                None
            }
        });
    let namespaces = fields
        .required(checker, "namespaces", "[openent]")
        .and_then(|n| namespaces(checker, n, &fields.key("namespaces")));
    Some(Token {
        name: token_name?,
        sha256: sha256?,
        namespaces: namespaces?,
    })
}

fn peer(checker: &mut Checker, node: &Node, key: &str) -> Option<Peer> {
    let fields = checker.map(node, key, node.span, &["name", "url", "keys", "namespaces"])?;
    let peer_name = fields
        .required(checker, "name", "openent")
        .and_then(|n| name(checker, n, &fields.key("name")));
    let url = fields
        .required(checker, "url", "https://forge.example.org/registry")
        .and_then(|n| {
            let s = checker.string(n, &fields.key("url"))?;
            match check_url(&s) {
                Ok(()) => Some(s.trim_end_matches('/').to_owned()),
                Err(e) => {
                    checker.report(
                        Code::InvalidValue,
                        n.span,
                        &fields.key("url"),
                        e,
                        "write the peer registry's base URL",
                    );
                    None
                }
            }
        });
    let keys_key = fields.key("keys");
    let keys = fields
        .required(checker, "keys", "[\"ssh-ed25519 AAAA…\"]")
        .and_then(|n| checker.strings(n, &keys_key))
        .map(|k| {
            k.into_iter()
                .filter(|(key, span)| match PublicKey::parse(key) {
                    Ok(_) => true,
                    Err(e) => {
                        checker.report(
                            Code::InvalidValue,
                            *span,
                            &keys_key,
                            format!("not an OpenSSH ed25519 public key: {e}"),
                            "paste the peer's key line as `oent key new` printed it (the .pub file)",
                        );
                        false
                    }
                })
                .map(|(key, _)| key)
                .collect::<Vec<_>>()
        });
    let namespaces = fields
        .required(checker, "namespaces", "[openent]")
        .and_then(|n| namespaces(checker, n, &fields.key("namespaces")));
    Some(Peer {
        name: peer_name?,
        url: url?,
        keys: keys?,
        namespaces: namespaces?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<ForgeConfig, ForgeError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("forge.yaml");
        std::fs::write(&path, text).unwrap();
        ForgeConfig::load(&path)
    }

    #[test]
    fn a_minimal_forge_listens_on_loopback() {
        let config = load("schema: oent/forge/v1\nregistry: registry\n").unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.max_upload_bytes, 64 << 20);
        assert_eq!(config.request_timeout, Duration::from_secs(300));
        assert!(config.registry.ends_with("registry"));
    }

    #[test]
    fn tokens_are_found_by_their_hash_only() {
        let hash = hash_token("s3cret");
        let config = load(&format!(
            "schema: oent/forge/v1\nregistry: r\ntokens:\n  - {{ name: ci, sha256: \"{hash}\", namespaces: [idf] }}\n"
        ))
        .unwrap();
        assert_eq!(config.token("s3cret").unwrap().name, "ci");
        assert!(config.token("s3cret ").is_none());
        assert!(config.token("").is_none());
        assert!(config.token("s3cret").unwrap().allows("idf"));
        assert!(!config.token("s3cret").unwrap().allows("openent"));
    }

    #[test]
    fn a_clear_text_token_is_refused_with_the_way_to_hash_it() {
        let Err(ForgeError::InvalidConfig { diagnostics, .. }) = load(
            "schema: oent/forge/v1\nregistry: r\ntokens:\n  - { name: ci, sha256: hunter2, namespaces: [idf] }\n",
        ) else {
            panic!("accepted a clear-text token")
        };
        assert_eq!(diagnostics[0].key.as_deref(), Some("tokens[0].sha256"));
        assert_eq!(diagnostics[0].position.as_ref().map(|p| p.line), Some(4));
    }
}

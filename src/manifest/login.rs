//! `service.login` of module.yaml: how a module's users log in through the
//! distribution's single sign-on (docs/formats.md, "Login").
//!
//! A service that logs users in says which protocols its software speaks, in
//! its order of preference, where the provider may send users back, and which
//! directory attributes it reads:
//!
//! ```yaml
//! login: { protocols: [cas, oidc], redirect: /cahier-de-textes/, attributes: [uid, ENTPersonProfils] }
//! ```
//!
//! The SSO provider (a module that `provides: [sso]`) says instead what it
//! serves and where: `login: { serves: { cas: /cas, oidc: /oidc } }`.
//! [`plan`] pairs them once the distribution's modules are known: each
//! service gets the first of its protocols that the provider serves, and the
//! provider renders one client per service.

use std::collections::BTreeMap;
use std::path::Path;

use super::Module;
use super::diagnostic::{Code, Diagnostic};
use super::fields::Checker;
use super::names::ModuleName;
use super::option::{ConfigOption, OptionType};
use super::yaml::{Node, Span};

/// The protocols oent pairs services and providers on.
pub const PROTOCOLS: &[&str] = &["cas", "oidc", "saml"];

/// The capability an SSO provider module `provides`.
pub const SSO_CAPABILITY: &str = "sso";

#[derive(Debug, Clone, PartialEq)]
pub enum Login {
    /// A service that logs its users in through the provider.
    Service(LoginNeeds),
    /// The SSO provider: per protocol it serves, the public path of its
    /// endpoint (the CAS server's root, the OIDC issuer, the SAML IdP metadata).
    Provider(BTreeMap<&'static str, String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoginNeeds {
    /// In the software's order of preference.
    pub protocols: Vec<&'static str>,
    /// Public path under the distribution's domain where the provider may
    /// send users back (CAS service URL, OIDC redirect URI, SAML ACS prefix).
    pub redirect: String,
    /// Directory attributes the service reads from the login.
    pub attributes: Vec<String>,
    /// The `secret` option holding the client secret the provider and the
    /// service share (OIDC confidential clients).
    pub secret: Option<String>,
    pub span: Span,
}

const LOGIN_KEYS: &[&str] = &["protocols", "redirect", "attributes", "secret", "serves"];

/// Reads `service.login`.
pub fn parse(checker: &mut Checker, node: &Node) -> Option<Login> {
    let fields = checker.map(node, "service.login", node.span, LOGIN_KEYS)?;
    if let Some(serves) = fields.get("serves") {
        if let Some((k, _)) = fields
            .entries()
            .iter()
            .find(|(k, _)| k.name != "serves" && k.name != "attributes")
        {
            checker.report(
                Code::LoginBlock,
                k.span,
                &fields.key(&k.name),
                format!(
                    "`service.login` has both `serves` (an SSO provider) and `{}` (a service logging users in)",
                    k.name
                ),
                "a provider only says what it serves: keep `serves`, or remove it if the module logs users in through another provider",
            );
            return None;
        }
        let mut out = BTreeMap::new();
        for (k, v) in checker.entries(serves, "service.login.serves")? {
            let key = format!("service.login.serves.{}", k.name);
            let Some(protocol) = protocol(checker, &k.name, k.span, &key) else {
                continue;
            };
            if let Some(path) = checker.string(v, &key) {
                if !path.starts_with('/') || path.contains(['"', '\'', ' ', '{', '}', '$']) {
                    checker.report(
                        Code::InvalidValue,
                        v.span,
                        &key,
                        format!("`{path}` is not a URL path starting with `/`"),
                        format!("write `{}: /{}`", k.name, path.trim_start_matches('/')),
                    );
                    continue;
                }
                out.insert(protocol, path);
            }
        }
        return Some(Login::Provider(out));
    }
    let protocols = fields
        .required(checker, "protocols", "[cas, oidc]")
        .and_then(|n| checker.strings(n, &fields.key("protocols")));
    let redirect = fields
        .required(checker, "redirect", "/module/")
        .and_then(|n| {
            let path = checker.string(n, &fields.key("redirect"))?;
            let ok = path.starts_with('/')
                && !path.contains("//")
                && !path.split('/').any(|p| p == "..")
                && path
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._~/".contains(c));
            if !ok {
                checker.report(
                    Code::InvalidValue,
                    n.span,
                    &fields.key("redirect"),
                    format!("`{path}` is not a URL path starting with `/`"),
                    "write the service's public path, e.g. `redirect: /cahier-de-textes/`",
                );
                return None;
            }
            Some(path)
        });
    let attributes = fields
        .get("attributes")
        .and_then(|n| checker.strings(n, &fields.key("attributes")))
        .map(|v| v.into_iter().map(|(s, _)| s).collect())
        .unwrap_or_default();
    let secret = fields
        .get("secret")
        .and_then(|n| checker.string(n, &fields.key("secret")));
    let mut known = Vec::new();
    for (i, (name, span)) in protocols?.into_iter().enumerate() {
        let key = format!("service.login.protocols[{i}]");
        if let Some(p) = protocol(checker, &name, span, &key)
            && !known.contains(&p)
        {
            known.push(p);
        }
    }
    if known.is_empty() {
        checker.report(
            Code::LoginBlock,
            node.span,
            "service.login.protocols",
            "`service.login.protocols` names no protocol",
            format!(
                "list the ones the software speaks among {}",
                PROTOCOLS.join(", ")
            ),
        );
        return None;
    }
    Some(Login::Service(LoginNeeds {
        protocols: known,
        redirect: redirect?,
        attributes,
        secret,
        span: node.span,
    }))
}

fn protocol(checker: &mut Checker, name: &str, span: Span, key: &str) -> Option<&'static str> {
    if let Some(p) = PROTOCOLS.iter().find(|p| **p == name) {
        return Some(p);
    }
    let hint = super::diagnostic::suggest(name, PROTOCOLS.iter().copied())
        .map_or(String::new(), |s| format!("did you mean `{s}`? "));
    checker.report(
        Code::LoginProtocol,
        span,
        key,
        format!("`{name}` is not a login protocol oent knows"),
        format!("{hint}the protocols are {}", PROTOCOLS.join(", ")),
    );
    None
}

/// The checks that need the rest of the manifest: a provider `provides`
/// `sso`; a `secret` is one of the module's `secret` options.
pub fn check_against_module(
    checker: &mut Checker,
    login: &Login,
    node: &Node,
    provides: &[String],
    config: &BTreeMap<String, ConfigOption>,
) {
    match login {
        Login::Provider(_) if !provides.iter().any(|c| c == SSO_CAPABILITY) => {
            checker.report(
                Code::LoginBlock,
                node.span,
                "service.login.serves",
                "`service.login.serves` is for the SSO provider, and this module does not provide `sso`",
                "add `sso` to `provides:`, or describe what the service needs with `protocols` and `redirect`",
            );
        }
        Login::Service(needs) => {
            if let Some(secret) = &needs.secret
                && config
                    .get(secret)
                    .is_none_or(|o| o.ty != OptionType::Secret)
            {
                checker.report(
                    Code::LoginBlock,
                    needs.span,
                    "service.login.secret",
                    format!("`service.login.secret` names `{secret}`, which is not a `secret` option of `config`"),
                    format!("declare `{secret}: {{ type: secret, required: true }}` under `config`"),
                );
            }
        }
        Login::Provider(_) => {}
    }
}

/// The login part of a resolved distribution: its provider and, per service
/// that logs users in, the protocol it uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub provider: ModuleName,
    /// Per protocol the provider serves, its endpoint's public path.
    pub serves: BTreeMap<&'static str, String>,
    pub clients: Vec<Client>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub module: ModuleName,
    /// The first of the service's protocols the provider serves.
    pub protocol: &'static str,
    pub needs: LoginNeeds,
}

fn login_of(module: &Module) -> Option<&Login> {
    module.service.as_ref()?.login.as_ref()
}

/// Pairs each service that logs users in with the distribution's provider.
/// `Ok(None)` when no module provides `sso` with a `login.serves`: services
/// then keep their own login. Errors, reported against `distribution`: two
/// modules serving the SSO (E052), a service whose protocols the provider
/// does not serve (E053), two services sending users back to one path (E054).
pub fn plan(
    distribution: &Path,
    modules: &BTreeMap<ModuleName, Module>,
) -> Result<Option<Plan>, Vec<Diagnostic>> {
    let providers: Vec<(&ModuleName, &BTreeMap<&str, String>)> = modules
        .iter()
        .filter_map(|(name, m)| match login_of(m) {
            Some(Login::Provider(serves)) => Some((name, serves)),
            _ => None,
        })
        .collect();
    let Some(&(provider, serves)) = providers.first() else {
        return Ok(None);
    };
    let mut errors = Vec::new();
    if let [(first, _), (second, _), ..] = providers[..] {
        errors.push(
            Diagnostic::error(
                Code::LoginBlock,
                distribution,
                format!("`{first}` and `{second}` both serve the single sign-on"),
            )
            .key("modules")
            .help("an ENT has one login: keep one SSO provider in `modules:`"),
        );
    }
    let mut clients = Vec::new();
    let mut redirects: BTreeMap<&str, &ModuleName> = BTreeMap::new();
    for (name, module) in modules {
        let Some(Login::Service(needs)) = login_of(module) else {
            continue;
        };
        let normalised = needs.redirect.trim_end_matches('/');
        if let Some(first) = redirects.insert(normalised, name) {
            errors.push(
                Diagnostic::error(
                    Code::LoginRedirectClash,
                    distribution,
                    format!(
                        "`{first}` and `{name}` both ask the SSO to send users back to `{}`",
                        needs.redirect
                    ),
                )
                .key("modules")
                .help(format!(
                    "the provider could not tell their logins apart: keep one of them in `modules:`, or give `{name}` its own `service.login.redirect`"
                )),
            );
        }
        match needs.protocols.iter().find(|p| serves.contains_key(*p)) {
            Some(protocol) => clients.push(Client {
                module: name.clone(),
                protocol,
                needs: needs.clone(),
            }),
            None => {
                let served: Vec<&str> = serves.keys().copied().collect();
                errors.push(
                    Diagnostic::error(
                        Code::LoginProtocolUnserved,
                        distribution,
                        format!(
                            "`{name}` logs users in with {}, and the SSO provider `{provider}` only serves {}",
                            needs.protocols.join(" or "),
                            if served.is_empty() { "nothing".to_owned() } else { served.join(", ") }
                        ),
                    )
                    .key("modules")
                    .help(alternatives(name, &needs.protocols, provider)),
                );
            }
        }
    }
    if errors.is_empty() {
        Ok(Some(Plan {
            provider: provider.clone(),
            serves: serves.clone(),
            clients,
        }))
    } else {
        Err(errors)
    }
}

/// The catalogue's SSO providers and what each serves (their
/// `login.serves`), for the help of E053.
const CATALOGUE_PROVIDERS: &[(&str, &[&str])] = &[
    ("openent/lemonldap", &["cas", "oidc"]),
    ("openent/sso", &["oidc", "saml"]),
    ("openent/sso-cas", &["cas"]),
];

/// What to do when the provider lacks a service's protocols: a provider of
/// the catalogue that serves one of them, or the service out.
fn alternatives(service: &ModuleName, protocols: &[&str], provider: &ModuleName) -> String {
    let instead: Vec<String> = CATALOGUE_PROVIDERS
        .iter()
        .filter(|(name, serves)| {
            *name != provider.as_str() && serves.iter().any(|p| protocols.contains(p))
        })
        .map(|(name, serves)| format!("`{name}` ({})", serves.join(", ")))
        .collect();
    let replace = if instead.is_empty() {
        format!(
            "replace `{provider}` in `modules:` by a provider that serves {}",
            protocols.join(" or ")
        )
    } else {
        format!(
            "replace `{provider}` in `modules:` by a provider that serves {}, e.g. {}",
            protocols.join(" or "),
            instead.join(" or ")
        )
    };
    format!("{replace}; or remove `{service}`")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::source::SourceFile;
    use crate::manifest::yaml;

    fn parse_text(text: &str) -> (Option<Login>, Vec<String>) {
        let source = SourceFile::new("module.yaml", text.to_owned());
        let node = yaml::parse(&source).expect("yaml");
        let mut checker = Checker::new(&source);
        let login = parse(&mut checker, &node);
        let problems = checker
            .diagnostics
            .iter()
            .map(|d| format!("{} {}", d.code.as_str(), d.message))
            .collect();
        (login, problems)
    }

    #[test]
    fn a_service_states_its_protocols_redirect_and_attributes() {
        let (login, problems) = parse_text(
            "{ protocols: [cas, oidc], redirect: /cahier-de-textes/, attributes: [uid, ENTPersonProfils] }",
        );
        assert_eq!(problems, Vec::<String>::new());
        let Some(Login::Service(needs)) = login else {
            panic!("a service")
        };
        assert_eq!(needs.protocols, ["cas", "oidc"]);
        assert_eq!(needs.redirect, "/cahier-de-textes/");
        assert_eq!(needs.attributes, ["uid", "ENTPersonProfils"]);
    }

    #[test]
    fn a_provider_states_what_it_serves() {
        let (login, problems) = parse_text("{ serves: { cas: /cas, oidc: /oidc } }");
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(
            login,
            Some(Login::Provider(BTreeMap::from([
                ("cas", "/cas".to_owned()),
                ("oidc", "/oidc".to_owned())
            ])))
        );
    }

    #[test]
    fn an_unknown_protocol_is_located_and_suggested() {
        let (_, problems) = parse_text("{ protocols: [cass], redirect: /x/ }");
        assert_eq!(
            problems,
            [
                "E051 `cass` is not a login protocol oent knows",
                "E052 `service.login.protocols` names no protocol"
            ]
        );
    }

    #[test]
    fn a_provider_block_does_not_also_log_users_in() {
        let (_, problems) = parse_text("{ serves: { oidc: /oidc }, redirect: /x/ }");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("E052 "), "{problems:?}");
    }
}

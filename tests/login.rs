//! The login contract (`service.login`, docs/formats.md "Login"): each
//! service that logs users in gets the first of its protocols the
//! distribution's SSO provider serves, and the provider renders one client
//! per service; a service none of whose protocols is served, two services on
//! one redirect path and an unknown protocol are refused. The fixture is
//! tests/fixtures/sso/login (a provider serving OIDC only).

mod support;

use std::path::Path;

use support::Test;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn fixture() -> Test {
    let test = Test::new().copy(&Path::new(ROOT).join("tests/fixtures/sso/login"), ".");
    support::registry::publish_tree(test, "registry", "openent", "modules")
}

/// The fixture's distribution with `openent/wiki` (CAS only) added.
fn with_wiki(test: Test) -> Test {
    let dist = std::fs::read_to_string(test.path().join("distribution.yaml")).unwrap();
    test.write(
        "distribution.yaml",
        &dist.replace(
            "  openent/idp: \"^1\"\n",
            "  openent/idp: \"^1\"\n  openent/wiki: \"^1\"\n",
        ),
    )
}

fn build(test: Test) -> support::Output {
    test.args(["build", ".", "-o", "out"]).run()
}

#[test]
fn each_service_gets_a_protocol_the_provider_serves_and_the_provider_one_client_each() {
    let run = build(fixture()).status(0);
    assert_eq!(
        run.read("out/conf/openent-idp/clients.json"),
        r#"{
  "provider": "openent/idp",
  "issuer": "https://ent.example.fr/idp/realms/ent",
  "clients": [
    { "id": "openent-cdt", "protocol": "oidc", "redirect": "https://ent.example.fr/cahier-de-textes/", "secret": null, "attributes": ["uid", "ENTPersonProfils"] },
    { "id": "openent-docs", "protocol": "oidc", "redirect": "https://ent.example.fr/docs/", "secret": "${DOCS_OIDC_SECRET}", "attributes": ["uid", "mail"] }
  ]
}
"#
    );
    // The cahier de textes prefers CAS; the provider serves OIDC only.
    assert_eq!(
        run.read("out/conf/openent-cdt/login.properties"),
        "\nlogin.protocol=oidc\nlogin.url=https://ent.example.fr/idp/realms/ent\nlogin.client=openent-cdt\nlogin.redirect=https://ent.example.fr/cahier-de-textes/\n"
    );
    // The client secret reaches the provider's container as well as the service's.
    let compose = run.read("out/compose/compose.yaml");
    let idp = &compose[compose.find("  openent-idp:").unwrap()..];
    let idp = &idp[..idp[1..].find("\n  openent-").map_or(idp.len(), |i| i + 1)];
    assert!(
        idp.contains("DOCS_OIDC_SECRET: \"${DOCS_OIDC_SECRET:?"),
        "{idp}"
    );
}

#[test]
fn a_service_whose_protocols_the_provider_does_not_serve_is_refused_naming_both_and_the_fix() {
    build(with_wiki(fixture()))
        .status(1)
        .stderr_contains(
            "error[E053/login-protocol-unserved]: ./distribution.yaml: `openent/wiki` logs users in with cas, and the SSO provider `openent/idp` only serves oidc\n \
             = key: `modules`\n \
             = help: replace `openent/idp` in `modules:` by a provider that serves cas, e.g. `openent/lemonldap` (cas, oidc) or `openent/sso-cas` (cas); or remove `openent/wiki`",
        );
}

#[test]
fn two_services_claiming_one_redirect_path_are_refused() {
    let test = with_wiki(fixture());
    let wiki = "modules/wiki/module.yaml";
    let text = std::fs::read_to_string(test.path().join(wiki)).unwrap();
    let test = test.write(
        wiki,
        &text.replace("version: 1.0.0", "version: 1.0.1").replace(
            "protocols: [cas], redirect: /wiki/",
            "protocols: [oidc], redirect: /cahier-de-textes",
        ),
    );
    let test = support::registry::publish_tree(test, "registry", "openent", "modules");
    build(test)
        .status(1)
        .stderr_contains(
            "error[E054/login-redirect-clash]: ./distribution.yaml: `openent/cdt` and `openent/wiki` both ask the SSO to send users back to `/cahier-de-textes`\n \
             = key: `modules`",
        );
}

#[test]
fn a_login_block_with_an_unknown_protocol_is_a_located_error() {
    let test = fixture();
    let wiki = "modules/wiki/module.yaml";
    let text = std::fs::read_to_string(test.path().join(wiki)).unwrap();
    test.write(
        wiki,
        &text.replace("protocols: [cas]", "protocols: [cas, openid]"),
    )
    .args(["lint", "modules/wiki"])
    .run()
    .status(1)
    .stdout_is(
        "
            error[E051/login-protocol]: `openid` is not a login protocol oent knows
               ┌─ modules/wiki/module.yaml:13:29
               │
            13 │   login: { protocols: [cas, openid], redirect: /wiki/ }
               │                             ^^^^^^ in `service.login.protocols[1]`
               │
               = help: the protocols are cas, oidc, saml

            oent lint: 1 error, 0 warnings in 1 file checked
            ",
    );
}

#[test]
fn a_provider_that_does_not_provide_sso_and_a_secret_that_is_no_secret_option_are_located_errors() {
    let test = fixture();
    let idp = "modules/idp/module.yaml";
    let text = std::fs::read_to_string(test.path().join(idp)).unwrap();
    let test = test.write(idp, &text.replace("provides: [sso]\n", ""));
    let docs = "modules/docs/module.yaml";
    let text = std::fs::read_to_string(test.path().join(docs)).unwrap();
    test.write(docs, &text.replace("secret: client_secret }", "secret: client_id }"))
        .args(["lint", "modules/idp", "modules/docs"])
        .run()
        .status(1)
        .stdout_contains("error[E052/login-block]: `service.login.serves` is for the SSO provider, and this module does not provide `sso`")
        .stdout_contains("= help: add `sso` to `provides:`")
        .stdout_contains("error[E052/login-block]: `service.login.secret` names `client_id`, which is not a `secret` option of `config`")
        .stdout_contains("= help: declare `client_id: { type: secret, required: true }` under `config`");
}

#[test]
fn two_sso_providers_in_one_distribution_are_refused() {
    let test = fixture();
    let other = std::fs::read_to_string(test.path().join("modules/idp/module.yaml"))
        .unwrap()
        .replace("name: openent/idp", "name: openent/idp2")
        .replace("path: /idp }", "path: /idp2 }")
        .replace("oidc: /idp/realms/ent", "oidc: /idp2");
    let test = test.write("modules/idp2/module.yaml", &other).copy(
        &Path::new(ROOT).join("tests/fixtures/sso/login/modules/idp/templates"),
        "modules/idp2/templates",
    );
    let test = support::registry::publish_tree(test, "registry", "openent", "modules");
    let dist = std::fs::read_to_string(test.path().join("distribution.yaml")).unwrap();
    build(test.write(
        "distribution.yaml",
        &dist.replace(
            "  openent/idp: \"^1\"\n",
            "  openent/idp: \"^1\"\n  openent/idp2: \"^1\"\n",
        ),
    ))
    .status(1)
    .stderr_contains(
        "error[E052/login-block]: ./distribution.yaml: `openent/idp` and `openent/idp2` both serve the single sign-on\n \
         = key: `modules`\n \
         = help: an ENT has one login: keep one SSO provider in `modules:`",
    );
}

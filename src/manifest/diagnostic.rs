//! One problem found in a file: a stable code, where it is (file, line,
//! column, key path), what is wrong and what to do. Every stage reports with
//! this type; [`render`] draws them for people, the way every command prints
//! them, and `lint/` also writes lists of them as JSON, JUnit, Code Quality.

pub mod render;

use std::fmt;
use std::path::{Path, PathBuf};

/// Byte range in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

macro_rules! codes {
    ($( $variant:ident = $code:literal, $name:literal, $severity:ident, $description:literal; )*) => {
        /// Stable diagnostic codes. Never renumber: CI configurations and
        /// suppressions refer to them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// `E001`, `W002`…
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }
            /// Kebab-case name shown beside the code.
            pub fn name(self) -> &'static str {
                match self { $( Code::$variant => $name, )* }
            }
            pub fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$severity, )* }
            }
            /// One line on what the code means.
            pub fn description(self) -> &'static str {
                match self { $( Code::$variant => $description, )* }
            }
        }
    };
}

codes! {
    YamlSyntax = "E001", "yaml-syntax", Error, "the file is not valid YAML";
    NotUtf8 = "E002", "not-utf8", Error, "the file is not UTF-8 text";
    FileTooLarge = "E003", "file-too-large", Error, "the file exceeds the size limit";
    EmptyFile = "E004", "empty-file", Error, "the file is empty";
    YamlBudget = "E005", "yaml-budget", Error, "the YAML exceeds a parsing budget (aliases, nesting, size)";
    DuplicateKey = "E006", "duplicate-key", Error, "a mapping has the same key twice";
    WrongType = "E007", "wrong-type", Error, "a value has the wrong YAML type";
    UnknownKey = "E008", "unknown-key", Error, "a key is not part of the format";
    MissingKey = "E009", "missing-key", Error, "a required key is absent";
    UnsupportedSchema = "E010", "unsupported-schema", Error, "the `schema` is not one this oent reads";
    InvalidName = "E011", "invalid-name", Error, "a module or distribution name is not `namespace/name`";
    InvalidVersion = "E012", "invalid-version", Error, "a version is not semver";
    InvalidRequirement = "E013", "invalid-requirement", Error, "a version requirement does not parse";
    InvalidLicence = "E014", "invalid-licence", Error, "a licence is not a valid SPDX expression";
    InvalidValue = "E015", "invalid-value", Error, "a value is not one of the allowed values or formats";
    InvalidOption = "E016", "invalid-option", Error, "a config option declaration is inconsistent";
    DefaultMismatch = "E017", "default-mismatch", Error, "an option's default does not match its type or bounds";
    TemplateMissing = "E018", "template-missing", Error, "a listed template file does not exist";
    TemplateTooLarge = "E019", "template-too-large", Error, "a template exceeds the size limit";
    TemplateSyntax = "E020", "template-syntax", Error, "a template does not parse with Tera";
    TemplateUndeclaredVariable = "E021", "template-undeclared-variable", Error, "a template reads a variable nothing declares";
    InvalidUai = "E022", "invalid-uai", Error, "a UAI is not 7 digits and the right check letter";
    DuplicateUai = "E023", "duplicate-uai", Error, "two établissements have the same UAI";
    InvalidEtablissement = "E024", "invalid-etablissement", Error, "an établissement has a missing or invalid field";
    ExtendsCycle = "E025", "extends-cycle", Error, "distributions extend each other in a cycle";
    ExtendsMissing = "E026", "extends-missing", Error, "the distribution named by `extends` does not exist";
    UndeclaredValue = "E027", "undeclared-value", Error, "a value is set for an option the module does not declare";
    ValueType = "E028", "value-type", Error, "a value does not match its option's type or bounds";
    CsvError = "E029", "csv-error", Error, "the établissements CSV file is malformed";
    DependencyConflict = "E030", "dependency-conflict", Error, "a module requires and conflicts with the same module, or itself";
    UnknownFeatureDependency = "E031", "unknown-feature-dependency", Error, "a feature enables a module that is not an optional dependency";
    NotEtablissementScope = "E032", "not-etablissement-scope", Error, "an établissement overrides an option that is not `scope: etablissement`";
    SecretInClear = "E033", "secret-in-clear", Error, "a secret is written in clear instead of as a reference";
    TemplateRender = "E034", "template-render", Error, "a template failed while rendering (undefined value, bad filter argument)";
    TargetOutsideBundle = "E035", "target-outside-bundle", Error, "a template's target is not inside the module's directory of the bundle";
    DuplicateTarget = "E036", "duplicate-target", Error, "two templates write the same file of the bundle";
    LicenceDenied = "E037", "licence-denied", Error, "a module's licence may not be combined under the distribution's licence policy";
    LicenceConflict = "E038", "licence-conflict", Error, "a module and a module it requires have licences that cannot be combined";
    ForkLicenceChanged = "E039", "fork-licence-changed", Error, "a fork's licence differs from its base's";
    UnreversedFork = "E040", "unreversed-fork", Error, "a fork differs from its base and the difference was never contributed (`--deny-unreversed`)";
    UnknownModule = "E041", "unknown-module", Error, "a distribution names a module or capability that no registry of the distribution publishes";
    TemplateUnbounded = "E042", "template-unbounded", Error, "nested loops over large `range`s would render without end";
    MalformedOutput = "E043", "malformed-output", Error, "a rendered file does not parse in its format (JSON, YAML, LDIF, PHP…)";
    ContractPath = "E044", "contract-path", Error, "a deployment contract's container path is not absolute, or two things are mounted at one path";
    ContractPort = "E045", "contract-port", Error, "a port that is not HTTP is routed over HTTP, two ports share a number, or the probe asks an undeclared port";
    ContractSecret = "E046", "contract-secret", Error, "`service.secrets` names something that is not a `secret` option";
    ContractFile = "E047", "contract-file", Error, "`service.files` mounts a file that no template renders";
    DatabaseNotProvided = "E048", "database-not-provided", Error, "a module needs a database engine that no module of the distribution provides";
    UaiDepartement = "E049", "uai-departement", Error, "a UAI's département prefix is not the établissement's `departement`";
    ContractEnv = "E050", "contract-env", Error, "one container's environment would get one variable twice (a `service.environment` key, a secret option, a database variable)";
    LoginProtocol = "E051", "login-protocol", Error, "a `service.login` names a protocol oent does not know (cas, oidc, saml)";
    LoginBlock = "E052", "login-block", Error, "a `service.login` is inconsistent: both `serves` and `protocols`, no protocol, `serves` without `provides: [sso]`, a `secret` that is not a `secret` option; or two modules of a distribution serve the SSO";
    LoginProtocolUnserved = "E053", "login-protocol-unserved", Error, "a service logs users in with protocols the distribution's SSO provider does not serve";
    LoginRedirectClash = "E054", "login-redirect-clash", Error, "two services ask the SSO provider to send users back to the same path";
    SsoSettingDerived = "E055", "sso-setting-derived", Error, "a distribution sets `settings.sso`, which oent derives from the SSO provider module";
    MissingRepository = "W001", "missing-repository", Warning, "a module has no `repository`: nothing can be reversed upstream";
    ByteOrderMark = "W002", "byte-order-mark", Warning, "the file starts with a byte-order mark";
    CrlfLineEndings = "W003", "crlf-line-endings", Warning, "the file uses CRLF line endings";
    ModuleNotFound = "W004", "module-not-found", Warning, "a module named by a distribution is not found locally: its values are not checked";
    ReversalDebt = "W005", "reversal-debt", Warning, "a fork differs from its base and the difference was never contributed upstream";
    UnlistedBundleFile = "W006", "unlisted-bundle-file", Warning, "a file in the previous bundle that its bundle.json does not list, deleted by `oent build --force`";
    UnfilledPlaceholder = "W007", "unfilled-placeholder", Warning, "a rendered file holds a `${VAR}` that nothing fills at deployment";
    PlaceholderImage = "W008", "placeholder-image", Warning, "a service's image is a placeholder at registry.example.org and `settings.images.registry` does not point it elsewhere";
    SecurityRoot = "E056", "security-root", Error, "a deployment contract runs its image as root without a written `run-as-root` exception";
    SecurityCapability = "E057", "security-capability", Error, "a deployment contract adds back a capability without a written `added-capabilities` exception, or one a hardened bundle never adds";
    SecurityException = "E058", "security-exception", Error, "a deployment contract's security exception gives no reason";
    SecuritySecretEnv = "E059", "security-secret-env", Error, "a deployment contract with `security` passes a secret by the environment without a written `secret-in-environment` exception";
    UnusedSecurityException = "W009", "unused-security-exception", Warning, "a deployment contract's security exception excuses a rule the contract keeps";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in a file a diagnostic points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub span: Span,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub path: PathBuf,
    pub position: Option<Position>,
    /// Dotted path of the key concerned (`config.retention_days.default`).
    pub key: Option<String>,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, path: &Path, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.severity(),
            path: path.to_path_buf(),
            position: None,
            key: None,
            message: message.into(),
            help: None,
        }
    }

    /// A diagnostic of an error code. (Same as `new`; reads better at call sites.)
    pub fn error(code: Code, path: &Path, message: impl Into<String>) -> Self {
        Self::new(code, path, message)
    }

    pub fn warning(code: Code, path: &Path, message: impl Into<String>) -> Self {
        Self::new(code, path, message)
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn line(&self) -> usize {
        self.position.as_ref().map_or(1, |p| p.line)
    }

    pub fn column(&self) -> usize {
        self.position.as_ref().map_or(1, |p| p.column)
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// One line: `path:line:column: error[E008]: message (key: …)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.position {
            Some(p) => write!(f, "{}:{}:{}: ", self.path.display(), p.line, p.column)?,
            None => write!(f, "{}: ", self.path.display())?,
        }
        write!(
            f,
            "{}[{}]: {}",
            self.severity.as_str(),
            self.code,
            self.message
        )?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

/// "Did you mean" for a misspelt name: the closest candidate within edit distance 2.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2 && *d < c.len().max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_stable() {
        let codes: HashSet<_> = Code::ALL.iter().map(|c| c.as_str()).collect();
        let names: HashSet<_> = Code::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(codes.len(), Code::ALL.len());
        assert_eq!(names.len(), Code::ALL.len());
        let table: Vec<String> = Code::ALL
            .iter()
            .map(|c| format!("{} {} {}", c.as_str(), c.name(), c.severity().as_str()))
            .collect();
        insta::assert_snapshot!(table.join("\n"));
    }

    #[test]
    fn suggests_close_names_only() {
        let keys = ["licence", "version", "requires"];
        assert_eq!(suggest("license", keys), Some("licence"));
        assert_eq!(suggest("requiers", keys), Some("requires"));
        assert_eq!(suggest("colour", keys), None);
    }
}

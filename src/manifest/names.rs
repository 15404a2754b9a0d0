//! Names and versions: `namespace/name` module names, semver versions and
//! cargo-style version requirements.

use std::fmt;
use std::str::FromStr;

/// `namespace/name`, each part lowercase letters, digits and '-', starting
/// with a letter or digit. The namespace says which forge may publish it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleName {
    full: String,
    slash: usize,
}

pub const MAX_NAME_PART: usize = 64;

impl ModuleName {
    pub fn namespace(&self) -> &str {
        &self.full[..self.slash]
    }
    pub fn short_name(&self) -> &str {
        &self.full[self.slash + 1..]
    }
    pub fn as_str(&self) -> &str {
        &self.full
    }
    /// `openent-cahier-de-textes`: usable as a file, host or Kubernetes name.
    pub fn slug(&self) -> String {
        self.full.replace('/', "-")
    }
}

impl fmt::Display for ModuleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl FromStr for ModuleName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let Some((ns, name)) = s.split_once('/') else {
            return Err(format!(
                "`{s}` is not `namespace/name` (for example `openent/{}`)",
                slug_hint(s)
            ));
        };
        check_part(ns, "namespace")?;
        check_part(name, "name")?;
        Ok(ModuleName {
            full: s.to_owned(),
            slash: ns.len(),
        })
    }
}

fn slug_hint(s: &str) -> String {
    let hint: String = s
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let hint = hint.trim_matches('-');
    if hint.is_empty() {
        "messagerie".into()
    } else {
        hint.into()
    }
}

/// A lowercase identifier part: `[a-z0-9][a-z0-9-]*`, at most 64 characters.
pub fn check_part(part: &str, what: &str) -> Result<(), String> {
    if part.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if part.len() > MAX_NAME_PART {
        return Err(format!(
            "the {what} is longer than {MAX_NAME_PART} characters"
        ));
    }
    if let Some(bad) = part
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "the {what} `{part}` contains `{bad}`: use lowercase letters, digits and '-'"
        ));
    }
    if part.starts_with('-') {
        return Err(format!("the {what} `{part}` starts with '-'"));
    }
    Ok(())
}

pub fn parse_version(s: &str) -> Result<semver::Version, String> {
    semver::Version::parse(s).map_err(|e| {
        format!("`{s}` is not a semver version ({e}); write MAJOR.MINOR.PATCH, for example `1.0.0`")
    })
}

/// A requirement with cargo's meaning: `1.2` is `^1.2`, and `^`, `~`, `*`,
/// `=`, comparisons and comma-separated lists are accepted.
pub fn parse_requirement(s: &str) -> Result<semver::VersionReq, String> {
    semver::VersionReq::parse(s).map_err(|e| {
        format!(
            "`{s}` is not a version requirement ({e}); examples: `^2.1`, `>=3.0, <4`, `~1.2.3`, `*`"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names() {
        let name: ModuleName = "openent/cahier-de-textes".parse().unwrap();
        assert_eq!(name.namespace(), "openent");
        assert_eq!(name.short_name(), "cahier-de-textes");
        assert_eq!(name.slug(), "openent-cahier-de-textes");
        for bad in [
            "openent",
            "OpenENT/x",
            "openent/",
            "/x",
            "a/b/c",
            "a/-b",
            "a/b_c",
            "a/é",
        ] {
            assert!(bad.parse::<ModuleName>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn requirements_have_cargo_meaning() {
        let req = parse_requirement("1.2").unwrap();
        assert!(req.matches(&"1.9.0".parse().unwrap()));
        assert!(!req.matches(&"2.0.0".parse().unwrap()));
        let req = parse_requirement(">=3.0, <4").unwrap();
        assert!(req.matches(&"3.5.1".parse().unwrap()));
        assert!(parse_requirement("~> 1.2").is_err());
        assert!(parse_version("2.3").is_err());
    }
}

//! The index: `index/<ns>/<name>.jsonl`, one JSON line per published version,
//! in publication order. Like cargo's index, each line carries a format
//! number `v`; readers skip lines with a `v` they do not know, so that newer
//! publishers do not break older clients. Documented in docs/registry.md.
//!
//! A line is typed when it is read: its name is a `ModuleName`, its version
//! a `semver::Version`, its checksum a [`Sha256`], each checked by its own
//! parser, so a line that reaches a reader has no malformed field left to
//! panic on or to compare as text.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::RegistryError;
use crate::manifest::Module;

/// A sha256 digest as an index line carries it: 64 lowercase hex digits,
/// checked when built. It names the cache file of the archive, so a value
/// that is not one (a short one, `../x`) never gets past the line check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256(String);

impl Sha256 {
    /// The digest of `data`.
    pub fn of(data: &[u8]) -> Self {
        Sha256(crate::package::checksum::sha256_hex(data))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 digits, for messages.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }
}

impl TryFrom<String> for Sha256 {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        match crate::package::checksum::is_sha256_hex(&value) {
            true => Ok(Sha256(value)),
            false => Err(format!(
                "sha256 `{value}` is not 64 lowercase hexadecimal digits"
            )),
        }
    }
}

impl std::str::FromStr for Sha256 {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Sha256::try_from(s.to_owned())
    }
}

impl From<Sha256> for String {
    fn from(value: Sha256) -> String {
        value.0
    }
}

impl AsRef<str> for Sha256 {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<Path> for Sha256 {
    fn as_ref(&self) -> &Path {
        Path::new(&self.0)
    }
}

impl std::fmt::Display for Sha256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Sha256 {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Sha256 {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for Sha256 {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<Sha256> for String {
    fn eq(&self, other: &Sha256) -> bool {
        *self == other.0
    }
}

/// A name or a version as the index writes it: its text, checked by the
/// type's own parser when the line is read.
mod text {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<T: Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr<Err: Display> + Kind,
        D: Deserializer<'de>,
    {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse()
            .map_err(|e| serde::de::Error::custom(format!("{} `{text}`: {e}", T::KIND)))
    }

    /// What the value is, for messages.
    pub trait Kind {
        const KIND: &'static str;
    }

    impl Kind for semver::Version {
        const KIND: &'static str = "version";
    }

    impl Kind for crate::manifest::names::ModuleName {
        const KIND: &'static str = "name";
    }
}

/// The newest index line format this oent reads and writes.
pub const INDEX_V_MAX: u32 = 1;

/// One published version as the index lists it, checked: built only by
/// [`parse_line`] (whose errors name the file and line) or from a checked
/// [`Module`] ([`IndexEntry::for_module`]), and written back only by
/// [`IndexEntry::to_json_line`]. Its fields read like a struct's
/// (`entry.name`, `entry.sha256`, through `Deref`) but cannot be set, and no
/// code outside this file can build one unchecked:
///
/// ```
/// # use oent::registry::index::IndexEntry;
/// fn describe(entry: &IndexEntry) -> String {
///     format!("{} {} ({} bytes, yanked: {})", entry.name, entry.version, entry.size, entry.yanked)
/// }
/// ```
///
/// ```compile_fail
/// # use oent::registry::index::IndexEntry;
/// fn unchecked(entry: &IndexEntry) -> IndexEntry {
///     IndexEntry { yanked: true, ..entry.clone() }
/// }
/// ```
///
/// ```compile_fail
/// # use oent::registry::index::IndexEntry;
/// let entry: IndexEntry = serde_json::from_str("{}").unwrap();
/// ```
///
/// ```compile_fail
/// # use oent::registry::index::IndexEntry;
/// fn unyank(entry: &mut IndexEntry) {
///     entry.yanked = false;
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry(raw::RawEntry);

/// The serde shape of an index line, private to this file: what the JSON
/// says, field by field, in the order the line is written.
mod raw {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Serialize};

    use super::{Sha256, text};
    use crate::manifest::names::ModuleName;

    /// `pub` fields in a private module: readable through
    /// [`super::IndexEntry`]'s `Deref`, not nameable (so not buildable)
    /// outside `index.rs`.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct RawEntry {
        /// Format of this line (since v1).
        pub v: u32,
        /// `namespace/name`, checked when the line is read.
        #[serde(with = "text")]
        pub name: ModuleName,
        /// Semver, parsed when the line is read.
        #[serde(with = "text")]
        pub version: semver::Version,
        /// Module name → requirement, as in module.yaml.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub requires: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub optional: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub conflicts: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub provides: Vec<String>,
        /// Feature → optional modules it enables.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub features: BTreeMap<String, Vec<String>>,
        /// SPDX expression.
        pub licence: String,
        /// sha256 of the archive, checked when the line is read.
        pub sha256: Sha256,
        /// Archive size in bytes.
        pub size: u64,
        /// Path of the archive, relative to the registry root.
        pub archive: String,
        #[serde(default)]
        pub yanked: bool,
        /// Name of the registry that published the version (mirrors keep it).
        pub origin: String,
        /// RFC 3339 UTC.
        pub published_at: String,
        /// The service's image when the module pins it by digest
        /// (`name@sha256:…`), for the lock (since v1, optional: absent
        /// otherwise, and from lines written before it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub image: Option<String>,
    }
}

impl std::ops::Deref for IndexEntry {
    type Target = raw::RawEntry;

    fn deref(&self) -> &raw::RawEntry {
        &self.0
    }
}

/// Written as its line says (the forge answers a publication with it); there
/// is no `Deserialize`: reading one goes through [`parse_line`].
impl Serialize for IndexEntry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl IndexEntry {
    /// The line for a module whose archive has this checksum and size.
    pub fn for_module(
        module: &Module,
        sha256: &Sha256,
        size: u64,
        archive: &str,
        origin: &str,
        published_at: &str,
    ) -> Self {
        let deps = |map: &BTreeMap<
            crate::manifest::names::ModuleName,
            crate::manifest::module::Dependency,
        >| {
            map.iter()
                .map(|(n, d)| (n.to_string(), d.req.to_string()))
                .collect()
        };
        IndexEntry(raw::RawEntry {
            v: INDEX_V_MAX,
            name: module.name.clone(),
            version: module.version.clone(),
            requires: deps(&module.requires),
            optional: deps(&module.optional),
            conflicts: deps(&module.conflicts),
            provides: module.provides.clone(),
            features: module
                .features
                .iter()
                .map(|(f, ms)| (f.clone(), ms.iter().map(ToString::to_string).collect()))
                .collect(),
            licence: module.licence.clone(),
            sha256: sha256.clone(),
            size,
            archive: archive.to_owned(),
            yanked: false,
            origin: origin.to_owned(),
            published_at: published_at.to_owned(),
            image: module
                .service
                .as_ref()
                .map(|s| s.image.clone())
                .filter(|i| i.contains("@sha256:")),
        })
    }

    /// The same line, yanked or not: the one change a published line admits.
    pub fn with_yanked(&self, yanked: bool) -> Self {
        IndexEntry(raw::RawEntry {
            yanked,
            ..self.0.clone()
        })
    }

    /// Whether this line is of `version` as a user or a peer wrote it
    /// (compared as versions: text that is not one matches nothing).
    pub fn is_version(&self, version: &str) -> bool {
        semver::Version::parse(version).is_ok_and(|v| v == self.version)
    }

    /// Whether two lines describe the same published content (ignoring
    /// publication metadata: date, yanked, origin).
    pub fn same_content(&self, other: &IndexEntry) -> bool {
        let strip = |l: &IndexEntry| raw::RawEntry {
            yanked: false,
            published_at: String::new(),
            origin: String::new(),
            ..l.0.clone()
        };
        strip(self) == strip(other)
    }

    /// The line as the index file holds it, newline included: the one way
    /// an entry is written.
    pub fn to_json_line(&self) -> String {
        let mut line = serde_json::to_string(self).expect("index lines always serialise");
        line.push('\n');
        line
    }
}

/// `index/<ns>/<name>.jsonl` for a module name.
pub fn index_path(name: &str) -> String {
    format!("index/{name}.jsonl")
}

/// Parses an index file; lines of an unknown `v` are skipped, malformed lines are errors.
pub fn parse(path: &Path, text: &str) -> Result<Vec<IndexEntry>, RegistryError> {
    let mut lines = Vec::new();
    for (number, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        if let Some(line) = parse_line(path, number + 1, raw)? {
            lines.push(line);
        }
    }
    Ok(lines)
}

/// One line of an index file (`number` counts from 1, for messages): `None`
/// for a line of an unknown `v`. Also used by readers that parse a line only
/// when they need it, so that they report a bad line in the same words.
pub fn parse_line(
    path: &Path,
    number: usize,
    raw: &str,
) -> Result<Option<IndexEntry>, RegistryError> {
    let invalid = |message: String| RegistryError::InvalidIndex {
        path: path.to_path_buf(),
        line: number,
        message,
    };
    // Fast path: a line of a format this oent knows goes straight into
    // the struct (a quarter of resolution time was spent on the detour).
    if let Ok(line) = serde_json::from_str::<raw::RawEntry>(raw)
        && line.v <= INDEX_V_MAX
    {
        return Ok(Some(IndexEntry(line)));
    }
    let value: serde_json::Value =
        serde_json::from_str(raw).map_err(|e| invalid(format!("not JSON: {e}")))?;
    let v = value
        .get("v")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| invalid("no format number `v`".into()))?;
    if v > u64::from(INDEX_V_MAX) {
        return Ok(None);
    }
    let line: raw::RawEntry =
        serde_json::from_value(value).map_err(|e| invalid(format!("invalid index line: {e}")))?;
    Ok(Some(IndexEntry(line)))
}

/// An entry for tests, built the one way entries are built (through
/// [`parse_line`]): a line of `t/x` 1.0.0 with `fields` set over it.
#[cfg(test)]
pub(crate) fn example(fields: serde_json::Value) -> IndexEntry {
    let mut line = serde_json::json!({
        "v": 1,
        "name": "t/x",
        "version": "1.0.0",
        "licence": "CECILL-2.1",
        "sha256": "ab".repeat(32),
        "size": 1,
        "archive": "archives/t/x-1.0.0.tar.gz",
        "origin": "t",
        "published_at": "2026-11-26T10:00:00Z",
    });
    let serde_json::Value::Object(fields) = fields else {
        panic!("fields are a JSON object");
    };
    line.as_object_mut().unwrap().extend(fields);
    parse_line(Path::new("example.jsonl"), 1, &line.to_string())
        .unwrap()
        .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(version: &str) -> IndexEntry {
        example(serde_json::json!({
            "name": "openent/x",
            "version": version,
            "requires": {"openent/y": "^1.2"},
            "size": 10,
            "archive": "archives/openent/x-1.0.0.tar.gz",
            "origin": "openent",
        }))
    }

    #[test]
    fn a_line_is_written_back_byte_for_byte() {
        let raw = concat!(
            r#"{"v":1,"name":"openent/x","version":"1.0.0-rc.1","requires":{"openent/y":"^1.2"},"#,
            r#""features":{"f":["openent/z"]},"licence":"CECILL-2.1","sha256":""#,
            "abababababababababababababababababababababababababababababababab",
            r#"","size":10,"archive":"archives/openent/x-1.0.0-rc.1.tar.gz","yanked":true,"#,
            r#""origin":"openent","published_at":"2026-11-26T10:00:00Z"}"#,
            "\n"
        );
        let entry = parse_line(Path::new("i.jsonl"), 1, raw).unwrap().unwrap();
        assert_eq!(entry.to_json_line(), raw);
        assert_eq!(
            entry.with_yanked(false).to_json_line(),
            raw.replace(r#""yanked":true,"#, r#""yanked":false,"#)
        );
    }

    #[test]
    fn round_trip_and_unknown_versions_are_skipped() {
        let text = format!(
            "{}{{\"v\":9,\"name\":\"openent/x\",\"new_field\":true}}\n{}",
            line("1.0.0").to_json_line(),
            line("1.1.0").to_json_line()
        );
        let parsed = parse(Path::new("i.jsonl"), &text).unwrap();
        assert_eq!(parsed, [line("1.0.0"), line("1.1.0")]);
    }

    #[test]
    fn a_sha256_that_is_not_64_lowercase_hex_digits_is_refused_with_its_line() {
        for bad in [
            "abc",
            &"AB".repeat(32),
            &"ab".repeat(33),
            "../../etc/passwd",
        ] {
            let raw = line("1.0.0").to_json_line().replace(&"ab".repeat(32), bad);
            let err = parse(Path::new("i.jsonl"), &raw).unwrap_err().to_string();
            assert!(
                err.starts_with("i.jsonl:1: invalid index line: sha256 `")
                    && err.contains("is not 64 lowercase hexadecimal digits"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_version_that_is_not_semver_is_refused_with_its_line() {
        let raw = line("1.0.0").to_json_line().replace("\"1.0.0\"", "\"one\"");
        let err = parse(Path::new("i.jsonl"), &raw).unwrap_err().to_string();
        assert!(
            err.starts_with("i.jsonl:1: invalid index line: version `one`: "),
            "{err}"
        );
        assert!(line("1.0.0").is_version("1.0.0"));
        assert!(!line("1.0.0").is_version("1.0"));
        assert!(!line("1.0.0").is_version("one"));
    }

    #[test]
    fn a_name_that_is_not_a_module_name_is_refused_with_its_line() {
        for bad in ["x", "../x", "openent/x/../../y"] {
            let raw = line("1.0.0")
                .to_json_line()
                .replace("\"openent/x\"", &format!("\"{bad}\""));
            let err = parse(Path::new("i.jsonl"), &raw).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("i.jsonl:1: invalid index line: name `{bad}`: ")),
                "{err}"
            );
        }
    }

    #[test]
    fn malformed_line_names_file_and_line() {
        let err = parse(
            Path::new("i.jsonl"),
            &format!("{}{{oops\n", line("1.0.0").to_json_line()),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("i.jsonl:2: not JSON"), "{err}");
    }
}

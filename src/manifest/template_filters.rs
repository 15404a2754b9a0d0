//! Escaping filters for the formats module templates write: a value from a
//! distribution or an établissement (`Collège "Le Phare"`, a `--set` item
//! with a backslash) must reach the software as the same string, whatever
//! it holds. Each filter returns a whole literal of its format, quotes
//! included, so that a template writes `"nom": {{ e.nom | json_string }}`
//! and never adds quotes of its own (docs/render.md, "Escaping filters").
//! They live with the template checks because `oent lint` and publishing
//! accept a template only if every filter it names exists; what a template
//! forgets to escape, render's parse-back (`render::well_formed`) refuses.

use std::borrow::Cow;

use base64::Engine as _;
use tera::{Kwargs, State, Tera, TeraResult};

/// Registers every escaping filter on `tera`.
pub fn register_escaping_filters(tera: &mut Tera) {
    tera.register_filter("json_string", filter(json_string));
    tera.register_filter("yaml_scalar", filter(yaml_scalar));
    tera.register_filter("php_string", filter(php_string));
    tera.register_filter("ldif_value", filter(ldif_value));
    tera.register_filter("properties_value", filter(properties_value));
    tera.register_filter(
        "shell_word",
        |value: Cow<'_, str>, _: Kwargs, _: &State| -> TeraResult<String> {
            shell_word(&value).map_err(tera::Error::message)
        },
    );
    // Not an escape: a `duration` option in whole seconds, for software
    // that counts in seconds (Keycloak's realm lifespans).
    tera.register_filter(
        "seconds",
        |value: Cow<'_, str>, _: Kwargs, _: &State| -> TeraResult<String> {
            crate::manifest::formats::parse_duration(&value)
                .map(|s| s.to_string())
                .map_err(tera::Error::message)
        },
    );
}

/// A filter of a string (numbers and booleans are written as text first).
fn filter(
    escape: fn(&str) -> String,
) -> impl Fn(Cow<'_, str>, Kwargs, &State) -> String + Sync + Send + 'static {
    move |value, _, _| escape(&value)
}

/// A JSON string literal, quotes included.
pub fn json_string(value: &str) -> String {
    serde_json::Value::from(value).to_string()
}

/// A double-quoted YAML scalar: safe as a key or a value, in block or flow
/// context, and never read as a number, a boolean, null, an alias or a tag.
pub fn yaml_scalar(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            // YAML folds these as line breaks, or drops the byte-order mark.
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{feff}' => out.push_str("\\ufeff"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A single-quoted PHP string: only `\` and `'` are special there (no
/// `$` interpolation, and `?>` inside a string does not close PHP).
pub fn php_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\\' || c == '\'' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// The separator and value of an LDIF attribute (RFC 2849), to write right
/// after the attribute name: `: value` for a SAFE-STRING, else `:: BASE64`
/// (non-ASCII text, a leading space, `:` or `<`, a trailing space, NUL, CR
/// or LF).
pub fn ldif_value(value: &str) -> String {
    if is_ldif_safe(value) {
        if value.is_empty() {
            ":".to_owned()
        } else {
            format!(": {value}")
        }
    } else {
        format!(
            ":: {}",
            base64::engine::general_purpose::STANDARD.encode(value)
        )
    }
}

/// RFC 2849's SAFE-STRING; a trailing space is base64 too (the RFC asks it:
/// tools strip it).
pub fn is_ldif_safe(value: &str) -> bool {
    let bytes = value.as_bytes();
    let safe_char = |b: &u8| b.is_ascii() && !matches!(b, b'\0' | b'\n' | b'\r');
    bytes.iter().all(safe_char)
        && !matches!(bytes.first(), Some(b' ' | b':' | b'<'))
        && !bytes.ends_with(b" ")
}

/// A POSIX shell word in single quotes (`'` written `'\''`). NUL cannot
/// be passed to a program: refused.
pub fn shell_word(value: &str) -> Result<String, String> {
    if value.contains('\0') {
        return Err("a shell word cannot hold a NUL character".to_owned());
    }
    Ok(format!("'{}'", value.replace('\'', r"'\''")))
}

/// The value of a Java `.properties` line: backslash escapes, a leading
/// space kept (`\ `), and everything outside ASCII as `\uXXXX`
/// (`Properties.load(InputStream)` reads ISO-8859-1).
pub fn properties_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            ' ' if i == 0 => out.push_str("\\ "),
            '=' | ':' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Values a template must carry through intact; render's parse-back
    /// tests check that the filtered literals read back as valid files too.
    pub(crate) const HOSTILE: &[&str] = &[
        "Collège \"Le Phare\"",
        r"C:\temp\new",
        "deux\nlignes\r\n",
        "nul\0byte",
        " espace",
        ": deux-points",
        "< chevron",
        "fin ",
        "${HOME} $x",
        "<?php ?> '",
        "école — 東京 😀",
        "it's",
        "- item",
        "&alias *ref !tag",
        "null",
        "",
    ];

    #[test]
    fn json_strings_round_trip() {
        for s in HOSTILE {
            let literal = json_string(s);
            let back: String = serde_json::from_str(&literal).unwrap();
            assert_eq!(&back, s, "{literal}");
        }
        assert_eq!(json_string("a\"b\\"), r#""a\"b\\""#);
    }

    #[test]
    fn yaml_scalars_round_trip_as_values_and_keys() {
        for s in HOSTILE {
            let literal = yaml_scalar(s);
            let doc = format!("k: {literal}\nlist:\n  - {literal}\n{literal}: v\n");
            let back: std::collections::BTreeMap<String, serde_json::Value> =
                serde_saphyr::from_str(&doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
            assert_eq!(back["k"], serde_json::json!(s), "{literal}");
            assert_eq!(back["list"][0], serde_json::json!(s), "{literal}");
            assert_eq!(back.get(*s), Some(&serde_json::json!("v")), "{literal}");
        }
        assert_eq!(yaml_scalar("a\"b\n"), r#""a\"b\n""#);
    }

    #[test]
    fn php_strings_escape_only_backslash_and_quote() {
        assert_eq!(php_string(r"it's C:\x"), r"'it\'s C:\\x'");
        assert_eq!(php_string("${x} ?>"), "'${x} ?>'");
    }

    #[test]
    fn ldif_values_choose_base64_when_unsafe() {
        assert_eq!(ldif_value("Lycée"), ":: THljw6ll");
        assert_eq!(ldif_value("plain text"), ": plain text");
        assert_eq!(ldif_value(""), ":");
        for unsafe_value in [" a", ":a", "<a", "a ", "a\nb", "a\rb", "a\0b", "é"] {
            assert!(
                ldif_value(unsafe_value).starts_with(":: "),
                "{unsafe_value:?}"
            );
        }
    }

    #[test]
    fn shell_words_round_trip_through_sh() {
        for s in HOSTILE.iter().filter(|s| !s.contains('\0')) {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", shell_word(s).unwrap()))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), *s);
        }
        assert!(shell_word("a\0b").is_err());
    }

    #[test]
    fn properties_values_escape_separators_and_non_ascii() {
        assert_eq!(properties_value(" a=b:c"), r"\ a\=b\:c");
        assert_eq!(properties_value("é😀\n\\"), r"\u00e9\ud83d\ude00\n\\");
    }

    #[test]
    fn seconds_turns_a_duration_into_whole_seconds_and_refuses_anything_else() {
        let mut tera = Tera::default();
        register_escaping_filters(&mut tera);
        tera.add_raw_template("t", "{{ d | seconds }}").unwrap();
        let render = |d: &str| {
            let mut context = tera::Context::new();
            context.insert("d", d);
            tera.render("t", &context)
        };
        assert_eq!(render("10h").unwrap(), "36000");
        assert_eq!(render("1h30m").unwrap(), "5400");
        assert!(render("10 heures").is_err());
    }
}

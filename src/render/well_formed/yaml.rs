//! YAML, as serde-saphyr reads it, every document of the stream (the
//! syntax only: nothing is built), within the budgets oent reads manifests
//! with.

use super::Malformed;

pub fn check(text: &str) -> Result<(), Malformed> {
    let Err(e) = serde_saphyr::from_multiple_with_options::<serde::de::IgnoredAny>(
        text,
        crate::manifest::yaml::options(),
    ) else {
        return Ok(());
    };
    let offset = e
        .location()
        .map_or(0, |location| match location.span().byte_offset() {
            Some(offset) if (offset as usize) <= text.len() => offset as usize,
            _ => crate::manifest::source::SourceFile::new("", text.to_owned())
                .offset_of(location.line() as usize, location.column() as usize),
        });
    let message = e.to_string();
    let first = message.lines().next().unwrap_or(&message);
    let message = match first.strip_prefix("line ") {
        Some(rest) => rest.split_once(": ").map_or(first, |(_, text)| text),
        None => first,
    };
    // The position is said by the diagnostic, once.
    let message = message.split(" at line ").next().unwrap_or(message);
    Err(Malformed::at(offset, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_and_bad() {
        assert_eq!(check("a: \"x\\\"y\"\nb: [1, 2]\n---\nc: d\n"), Ok(()));
        assert_eq!(check("# only a comment\n"), Ok(()));
        let e = check("nom: \"Collège \"Le Phare\"\"\n").unwrap_err();
        assert_eq!(e.offset, 16, "{e:?}");
        let e = check("a:\n  - x\n - y\n").unwrap_err();
        assert_eq!(e.offset, 10, "{e:?}");
    }
}

//! JSON, as serde_json reads it (the syntax only: nothing is built).

use super::Malformed;

pub fn check(text: &str) -> Result<(), Malformed> {
    let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) else {
        return Ok(());
    };
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = message.strip_suffix(&suffix).unwrap_or(&message);
    Err(Malformed::at(
        byte_offset(text, e.line(), e.column()),
        message,
    ))
}

/// serde_json counts lines from 1 and columns in bytes from 1 (0: before
/// the line's first byte).
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let start = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    (start + column.saturating_sub(1)).min(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_and_bad() {
        assert_eq!(check("{\"a\": [1, \"b\\\"\"]}\n"), Ok(()));
        assert_eq!(
            check("{\n  \"é\": \"a\"b\"\n}"),
            Err(Malformed::at(13, "expected `,` or `}`"))
        );
        assert_eq!(check("{\"a\": 1,}").unwrap_err().offset, 8);
        assert_eq!(
            check("\"a\nb\"").unwrap_err().message,
            "control character (\\u0000-\\u001F) found while parsing a string"
        );
    }
}

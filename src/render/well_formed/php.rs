//! PHP, as far as a configuration file needs (`php -l` is not on a user's
//! machine): it starts with `<?php`; strings (single-quoted, double-quoted
//! with escapes, heredoc and nowdoc) and comments end; brackets `()[]{}`
//! are balanced. Not checked: the code inside `{$…}` of a double-quoted
//! string, and anything beyond tokens and brackets.

use super::Malformed;

pub fn check(text: &str) -> Result<(), Malformed> {
    if !text.starts_with("<?php") {
        return Err(Malformed::at(0, "a PHP file must start with `<?php`"));
    }
    let bytes = text.as_bytes();
    let mut open: Vec<(u8, usize)> = Vec::new();
    let mut i = 5;
    while i < bytes.len() {
        let start = i;
        match bytes[i] {
            b'\'' | b'"' => {
                i = quoted(bytes, i)?;
                followed_by_operator(text, i)?;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find(text, i + 2, "*/")
                    .ok_or_else(|| Malformed::at(start, "this `/*` comment never ends"))?
                    + 2;
            }
            b'#' if bytes.get(i + 1) == Some(&b'[') => {
                // A PHP 8 attribute `#[…]`, not a comment.
                open.push((b'[', i + 1));
                i += 2;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = line_comment_end(text, i),
            b'#' => i = line_comment_end(text, i),
            b'?' if bytes.get(i + 1) == Some(&b'>') => {
                // Back to HTML until the next `<?php` or `<?=`.
                match find(text, i + 2, "<?") {
                    Some(tag) if text[tag..].starts_with("<?php") => i = tag + 5,
                    Some(tag) => i = tag + 2,
                    None => i = bytes.len(),
                }
            }
            b'<' if text[i..].starts_with("<<<") => i = heredoc(text, i)?,
            b @ (b'(' | b'[' | b'{') => {
                open.push((b, i));
                i += 1;
            }
            b @ (b')' | b']' | b'}') => {
                let expected = match b {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                match open.pop() {
                    Some((o, _)) if o == expected => {}
                    Some((o, at)) => {
                        return Err(Malformed::at(
                            i,
                            format!("`{}` closes `{}` opened at byte {at}", b as char, o as char),
                        ));
                    }
                    None => {
                        return Err(Malformed::at(i, format!("`{}` closes nothing", b as char)));
                    }
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    match open.pop() {
        Some((o, at)) => Err(Malformed::at(
            at,
            format!("this `{}` is never closed", o as char),
        )),
        None => Ok(()),
    }
}

fn find(text: &str, from: usize, needle: &str) -> Option<usize> {
    text[from..].find(needle).map(|i| from + i)
}

/// After a `//` or `#` comment: the end of the line, or a `?>` before it.
fn line_comment_end(text: &str, from: usize) -> usize {
    let line_end = find(text, from, "\n").unwrap_or(text.len());
    find(&text[..line_end], from, "?>").unwrap_or(line_end)
}

/// After a string literal comes an operator, a comma, a bracket…: never
/// a name or another string (the sign of a value that closed its quotes).
fn followed_by_operator(text: &str, end: usize) -> Result<(), Malformed> {
    let rest = text[end..].trim_start();
    let at = text.len() - rest.len();
    let word: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let keyword = ["and", "or", "xor", "instanceof", "as"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k));
    if (!word.is_empty() && !keyword) || rest.starts_with(['\'', '"']) {
        return Err(Malformed::at(
            at,
            "unexpected text right after a string (a value that closed its quotes? write it with `php_string`)",
        ));
    }
    Ok(())
}

/// The end of the string quoted at `start` (past its closing quote).
fn quoted(bytes: &[u8], start: usize) -> Result<usize, Malformed> {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err(Malformed::at(
        start,
        "this string never ends (write values with `php_string`)",
    ))
}

/// The end of the heredoc or nowdoc at `start` (`<<<ID`, `<<<"ID"`,
/// `<<<'ID'`): the first line whose first non-blank text is ID, not followed
/// by a name character (PHP 7.3's flexible closing marker).
fn heredoc(text: &str, start: usize) -> Result<usize, Malformed> {
    let line_end = find(text, start, "\n")
        .ok_or_else(|| Malformed::at(start, "a heredoc `<<<` with no line after it"))?;
    let id = text[start + 3..line_end].trim().trim_matches(['"', '\'']);
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    if id.is_empty() || !id.bytes().all(is_name) {
        return Err(Malformed::at(
            start,
            "`<<<` must be followed by a heredoc identifier",
        ));
    }
    let mut offset = line_end + 1;
    for line in text[line_end + 1..].split_inclusive('\n') {
        let body = line.trim_start_matches([' ', '\t']);
        if let Some(after) = body.strip_prefix(id)
            && !after.bytes().next().is_some_and(is_name)
        {
            return Ok(offset + (line.len() - body.len()) + id.len());
        }
        offset += line.len();
    }
    Err(Malformed::at(
        start,
        format!("this heredoc never ends: no line starts with `{id}`"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good() {
        let php = "<?php\n// a comment with ' and (\n# another \" [\n/* { */\n#[Attr(1)]\n$CONFIG = array(\n  'a' => 'it\\'s',\n  \"b\" => \"x\\\"{\",\n  'c' => <<<EOT\n  text ' \" (\n  EOT,\n  'd' => <<<'N'\nraw\nN\n);\n?>\n<html>(</html>\n<?php echo [1];\n";
        assert_eq!(check(php), Ok(()));
    }

    #[test]
    fn bad_with_positions() {
        let e = |text: &str| check(text).unwrap_err();
        assert_eq!(e("<? echo 1;").offset, 0);
        assert_eq!(e("<?php $a = 'Collège 'Le Phare'';\n").offset, 22);
        assert_eq!(e("<?php $a = 'L'Oréal';\n").offset, 14);
        assert_eq!(check("<?php $a = 'x' and 'y' or \"z\";\n"), Ok(()));
        assert_eq!(e("<?php $a = array('x' => 1;\n").offset, 16);
        assert_eq!(
            e("<?php $a = [1);\n").message,
            "`)` closes `[` opened at byte 11"
        );
        assert_eq!(e("<?php } \n").offset, 6);
        assert_eq!(e("<?php /* x").offset, 6);
        assert_eq!(e("<?php $a = <<<EOT\nx\n").offset, 11);
    }
}

//! XML well-formedness, as far as configuration files go: one root
//! element, tags that nest and match, attributes quoted once each, `<` and
//! `&` only as markup or references (`&lt;`, `&#38;`…; other entities only
//! when a DOCTYPE may declare them), comments, CDATA, processing
//! instructions. Not checked: the DOCTYPE's inside, namespaces.

use super::Malformed;

pub fn check(text: &str) -> Result<(), Malformed> {
    let text_start = text.strip_prefix('\u{feff}').map_or(0, |_| 3);
    let mut parser = Parser {
        text,
        i: text_start,
        doctype: false,
    };
    parser.document()
}

struct Parser<'a> {
    text: &'a str,
    i: usize,
    doctype: bool,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.i..]
    }

    fn error<T>(&self, at: usize, message: impl Into<String>) -> Result<T, Malformed> {
        Err(Malformed::at(at, message))
    }

    /// Skips past `end`, or fails naming what was opened at `start`.
    fn skip_past(&mut self, end: &str, start: usize, what: &str) -> Result<(), Malformed> {
        match self.rest().find(end) {
            Some(n) => {
                self.i += n + end.len();
                Ok(())
            }
            None => self.error(start, format!("this {what} never ends (`{end}`)")),
        }
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.i += rest.len() - rest.trim_start_matches([' ', '\t', '\r', '\n']).len();
    }

    fn document(&mut self) -> Result<(), Malformed> {
        let mut root = false;
        loop {
            self.skip_space();
            let start = self.i;
            let rest = self.rest();
            if rest.is_empty() {
                return if root {
                    Ok(())
                } else {
                    self.error(start, "no root element")
                };
            }
            if rest.starts_with("<?") {
                self.skip_past("?>", start, "processing instruction")?;
            } else if rest.starts_with("<!--") {
                self.comment(start)?;
            } else if rest.starts_with("<!DOCTYPE") && !root {
                self.doctype = true;
                let internal = rest
                    .find('[')
                    .filter(|&b| rest.find('>').is_some_and(|g| b < g));
                if internal.is_some() {
                    self.skip_past("]", start, "DOCTYPE")?;
                }
                self.skip_past(">", start, "DOCTYPE")?;
            } else if rest.starts_with('<') && !root {
                self.element()?;
                root = true;
            } else if root {
                return self.error(start, "text or a second element after the root element");
            } else {
                return self.error(start, "expected the root element");
            }
        }
    }

    fn comment(&mut self, start: usize) -> Result<(), Malformed> {
        self.i += 4;
        self.skip_past("-->", start, "comment")?;
        if self.text[start + 4..self.i - 3].contains("--") {
            return self.error(start, "`--` inside a comment");
        }
        Ok(())
    }

    fn name(&mut self) -> Result<&'a str, Malformed> {
        let start = self.i;
        let rest = self.rest();
        let is_start = |c: char| c.is_alphabetic() || c == '_' || c == ':';
        if !rest.chars().next().is_some_and(is_start) {
            return self.error(start, "expected a name");
        }
        let len = rest
            .find(|c: char| !(is_start(c) || c.is_alphanumeric() || c == '-' || c == '.'))
            .unwrap_or(rest.len());
        self.i += len;
        Ok(&self.text[start..start + len])
    }

    /// An element at `<`, to the end of its closing tag.
    fn element(&mut self) -> Result<(), Malformed> {
        let mut open: Vec<(&'a str, usize)> = Vec::new();
        loop {
            let start = self.i;
            let rest = self.rest();
            if rest.starts_with("<!--") {
                self.comment(start)?;
            } else if rest.starts_with("<![CDATA[") {
                self.skip_past("]]>", start, "CDATA section")?;
            } else if rest.starts_with("<?") {
                self.skip_past("?>", start, "processing instruction")?;
            } else if rest.starts_with("</") {
                self.i += 2;
                let name = self.name()?;
                self.skip_space();
                if !self.rest().starts_with('>') {
                    return self.error(self.i, "expected `>`");
                }
                self.i += 1;
                match open.pop() {
                    Some((opened, _)) if opened == name => {}
                    Some((opened, _)) => {
                        return self.error(start, format!("`</{name}>` closes `<{opened}>`"));
                    }
                    None => return self.error(start, format!("`</{name}>` closes nothing")),
                }
                if open.is_empty() {
                    return Ok(());
                }
            } else if rest.starts_with('<') {
                self.i += 1;
                let name = self.name()?;
                let empty = self.attributes()?;
                if !empty {
                    open.push((name, start));
                } else if open.is_empty() {
                    return Ok(());
                }
            } else if rest.is_empty() {
                let (name, at) = open.last().copied().unwrap_or(("", start));
                return self.error(at, format!("`<{name}>` is never closed"));
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                self.character_data(end)?;
            }
        }
    }

    /// Attributes up to `>` or `/>`; true for `/>`.
    fn attributes(&mut self) -> Result<bool, Malformed> {
        let mut seen = Vec::new();
        loop {
            let before = self.i;
            self.skip_space();
            let rest = self.rest();
            if rest.starts_with("/>") {
                self.i += 2;
                return Ok(true);
            }
            if rest.starts_with('>') {
                self.i += 1;
                return Ok(false);
            }
            if self.i == before {
                return self.error(self.i, "expected a space, `>` or `/>`");
            }
            let at = self.i;
            let name = self.name()?;
            if seen.contains(&name) {
                return self.error(at, format!("attribute `{name}` given twice"));
            }
            seen.push(name);
            self.skip_space();
            if !self.rest().starts_with('=') {
                return self.error(self.i, "expected `=` after the attribute name");
            }
            self.i += 1;
            self.skip_space();
            let quote = match self.rest().chars().next() {
                Some(q @ ('"' | '\'')) => q,
                _ => return self.error(self.i, "an attribute value must be quoted"),
            };
            let open = self.i;
            self.i += 1;
            let Some(len) = self.rest().find(quote) else {
                return self.error(open, "this attribute value never ends");
            };
            if let Some(lt) = self.rest()[..len].find('<') {
                return self.error(
                    self.i + lt,
                    "`<` inside an attribute value (write `&lt;`: `escape_xml`)",
                );
            }
            self.character_data(len)?;
            self.i += 1;
        }
    }

    /// `len` bytes of text: every `&` starts a reference; no `]]>`.
    fn character_data(&mut self, len: usize) -> Result<(), Malformed> {
        let start = self.i;
        let data = &self.text[start..start + len];
        if let Some(n) = data.find("]]>") {
            return self.error(start + n, "`]]>` outside a CDATA section");
        }
        for (n, _) in data.match_indices('&') {
            let reference = data[n + 1..].split(';').next().unwrap_or("");
            let closed = data[n + 1..].contains(';');
            let valid = closed
                && match reference.strip_prefix('#') {
                    Some(hex) if hex.starts_with('x') => u32::from_str_radix(&hex[1..], 16)
                        .ok()
                        .and_then(char::from_u32)
                        .is_some(),
                    Some(dec) => dec.parse::<u32>().ok().and_then(char::from_u32).is_some(),
                    None => {
                        matches!(reference, "lt" | "gt" | "amp" | "apos" | "quot")
                            || (self.doctype
                                && !reference.is_empty()
                                && !reference.contains([' ', '&', '<']))
                    }
                };
            if !valid {
                return self.error(
                    start + n,
                    "`&` that starts no reference (write `&amp;`: `escape_xml`)",
                );
            }
        }
        self.i += len;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good() {
        let xml = "<?xml version=\"1.0\"?>\n<!-- c -->\n<!DOCTYPE c [ <!ENTITY e \"x\"> ]>\n<c a='1' b=\"&lt;&#233;&#xe9;\">\n  <d/>text &amp; &e;<![CDATA[<&]]><?pi x?>\n  <é:f>x</é:f>\n</c>\n";
        assert_eq!(check(xml), Ok(()));
        assert_eq!(check("<a/>"), Ok(()));
    }

    #[test]
    fn bad_with_positions() {
        let e = |text: &str| check(text).unwrap_err();
        assert_eq!(e("<a>Lycée & Collège</a>").offset, 10);
        assert_eq!(e("<a n=\"Collège \"Le Phare\"\"/>").offset, 16);
        assert_eq!(e("<a><b></a>").offset, 6);
        assert_eq!(e("<a>").offset, 0);
        assert_eq!(e("<a/><b/>").offset, 4);
        assert_eq!(e("<a x='1' x='2'/>").offset, 9);
        assert_eq!(e("<a x='<'/>").offset, 6);
        assert_eq!(e("").offset, 0);
        assert_eq!(e("<a><!-- a -- b --></a>").offset, 3);
    }
}

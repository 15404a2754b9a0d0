//! READMEs rendered safely. A README comes from an uploaded archive: every
//! HTML it holds is shown as text, never passed through; links keep only
//! http(s), mailto and relative targets; images become their text (a
//! catalogue page loads nothing from elsewhere); headings are moved down
//! two levels so that they sit under the page's own `h2`.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

pub fn to_html(text: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut dropped_link = false;
    let events = Parser::new_ext(text, options).filter_map(|event| match event {
        // Raw HTML becomes text, which the writer escapes.
        Event::Html(html) | Event::InlineHtml(html) => Some(Event::Text(html)),
        Event::Start(Tag::HtmlBlock) => Some(Event::Start(Tag::Paragraph)),
        Event::End(TagEnd::HtmlBlock) => Some(Event::End(TagEnd::Paragraph)),
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            if safe_target(&dest_url) {
                Some(Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }))
            } else {
                dropped_link = true;
                None
            }
        }
        Event::End(TagEnd::Link) if dropped_link => {
            dropped_link = false;
            None
        }
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Some(Event::Start(Tag::Heading {
            level: lower(level),
            id,
            classes,
            attrs,
        })),
        Event::End(TagEnd::Heading(level)) => Some(Event::End(TagEnd::Heading(lower(level)))),
        other => Some(other),
    });
    let mut html = String::with_capacity(text.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// `# Titre` in a README is an `h3` on the page (under "README", an `h2`).
fn lower(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// http(s), mailto, anchors and relative paths; not `javascript:`, `data:`…
fn safe_target(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    match lower.find(':') {
        None => true,
        Some(colon) => {
            // A colon after a `/`, `?` or `#` is not a scheme's.
            if lower[..colon].contains(['/', '?', '#']) {
                return true;
            }
            matches!(&lower[..colon], "http" | "https" | "mailto")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_shown_as_text() {
        let html = to_html(
            "# Titre\n\n<script>alert(1)</script>\n\nTexte <img src=x onerror=alert(2)> fin\n",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(
            html.contains("&lt;img src=x onerror=alert(2)&gt;"),
            "{html}"
        );
        assert!(html.contains("<h3>Titre</h3>"), "{html}");
    }

    #[test]
    fn dangerous_links_and_images_keep_only_their_text() {
        let html = to_html(
            "[a](javascript:alert(1)) [b](https://ok.example/x) [c](docs/x.md) \
             [d]( JavaScript:alert(1)) ![e](https://tracker.example/p.png)\n",
        );
        assert!(!html.to_lowercase().contains("javascript"), "{html}");
        assert!(
            html.contains("<a href=\"https://ok.example/x\">b</a>"),
            "{html}"
        );
        assert!(html.contains("<a href=\"docs/x.md\">c</a>"), "{html}");
        assert!(!html.contains("tracker"), "{html}");
        assert!(html.contains(" e"), "{html}");
    }

    #[test]
    fn markdown_renders() {
        let html = to_html("Un **gras**, du `code` et\n\n- une\n- liste\n");
        assert!(html.contains("<strong>gras</strong>"), "{html}");
        assert!(html.contains("<code>code</code>"), "{html}");
        assert!(html.contains("<li>une</li>"), "{html}");
    }
}

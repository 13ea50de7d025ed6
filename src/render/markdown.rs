//! The author's Markdown → HTML that is safe to put in the page as it is.
//!
//! Raw HTML in the prose is escaped (shown as text, never interpreted), and links or
//! images whose address has a scheme other than http, https or mailto (`javascript:`,
//! `data:`…) lose their address and keep their text. What this module returns is the
//! only HTML the templates mark `safe`.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

/// Markdown blocks (paragraphs, lists, …) as HTML.
pub fn block(markdown: &str) -> String {
    to_html(markdown, false)
}

/// One line of Markdown (a reference, a caption) as HTML without the paragraph around it.
pub fn inline(markdown: &str) -> String {
    to_html(markdown, true).trim_end().to_owned()
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_SMART_PUNCTUATION
}

fn to_html(markdown: &str, inline: bool) -> String {
    // Whether each open link or image was kept, to drop the matching end tag.
    let mut open: Vec<bool> = Vec::new();
    let events = Parser::new_ext(markdown, options()).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph) if inline => None,
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let keep = safe_url(&dest_url);
            open.push(keep);
            keep.then_some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let keep = safe_url(&dest_url);
            open.push(keep);
            keep.then_some(Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        Event::End(end @ (TagEnd::Link | TagEnd::Image)) => {
            open.pop().unwrap_or(true).then_some(Event::End(end))
        }
        other => Some(other),
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

/// Relative addresses, fragments and http(s)/mailto links are fine; any other scheme is
/// not (a scheme is letters before a ':' that comes before any '/', '?' or '#').
/// Whether a link may keep `url`: relative, or http, https or mailto.
pub(super) fn safe_url(url: &str) -> bool {
    let url = url.trim();
    let end = url.find(['/', '?', '#']).unwrap_or(url.len());
    match url[..end].find(':') {
        None => true,
        Some(i) => {
            let scheme = url[..i].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_escaped_not_interpreted() {
        let html = block("Hello <script>alert(1)</script> *world*\n\n<div onclick=x>block</div>\n");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<div"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("<em>world</em>"), "{html}");
    }

    #[test]
    fn unsafe_link_schemes_lose_their_address() {
        let html = inline(
            "[click](javascript:alert(1)) and [ok](https://x.org) and [here](#model-5) ![i](data:image/png;base64,AAAA)",
        );
        assert!(!html.contains("javascript"), "{html}");
        assert!(!html.contains("data:"), "{html}");
        assert!(html.contains("click"), "{html}");
        assert!(html.contains(r#"<a href="https://x.org">ok</a>"#), "{html}");
        assert!(html.contains(r##"<a href="#model-5">here</a>"##), "{html}");
    }

    #[test]
    fn inline_has_no_paragraph_and_renders_autolinks() {
        let html = inline("“Pytorch Documentation”, <https://pytorch.org/docs/master/nn.html>.");
        assert_eq!(
            html,
            r#"“Pytorch Documentation”, <a href="https://pytorch.org/docs/master/nn.html">https://pytorch.org/docs/master/nn.html</a>."#
        );
    }
}

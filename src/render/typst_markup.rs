//! Text for the Typst template: plain text as Typst string literals, and the author's
//! Markdown as Typst markup.
//!
//! Typst markup gives meaning to `*`, `_`, `#`, `$`, `@`, `<`, `//` and more, so no
//! text of the context is ever pasted into markup: each run of text becomes
//! `#"…";`, a string literal (only `\` and `"` need escaping) that Typst shows as it
//! is, the `;` ending the embedded expression so that what follows stays text.

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};

use super::markdown::safe_url;

/// `text` as a Typst string literal: `"Model 9 with Adam"`.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `text` as markup that shows it exactly: `#"…";`. A unit stays on the line of its
/// number ("1.50 %", "+2.87 pp"): narrow table cells would otherwise wrap it alone.
pub fn text(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        let kept = text.replace(" %", "\u{a0}%").replace(" pp", "\u{a0}pp");
        format!("#{};", string(&kept))
    }
}

/// The author's Markdown as Typst markup: paragraphs, emphasis, strong, code, links
/// (http, https and mailto only, as on the page), lists, headings (one level below the
/// section's) and block quotes. Raw HTML is shown as text, as the page shows it.
pub fn markdown(md: &str) -> String {
    let options = pulldown_cmark::Options::ENABLE_STRIKETHROUGH
        | pulldown_cmark::Options::ENABLE_SMART_PUNCTUATION;
    let mut out = String::new();
    // For each open list: the next item's number (None: a bullet list).
    let mut lists: Vec<Option<u64>> = Vec::new();
    // The text of the code block being read, which `raw` takes as one string.
    let mut code: Option<String> = None;
    for event in Parser::new_ext(md, options) {
        match event {
            Event::Text(t) if code.is_some() => code.get_or_insert_default().push_str(&t),
            Event::Text(t) | Event::Html(t) | Event::InlineHtml(t) => out.push_str(&text(&t)),
            Event::Code(c) => out.push_str(&format!("#raw({});", string(&c))),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push_str(" \\\n"),
            Event::Rule => out.push_str("\n#line(length: 100%)\n"),
            Event::Start(tag) => match tag {
                Tag::Paragraph => {}
                Tag::Heading { level, .. } => {
                    let depth = match level {
                        HeadingLevel::H1 => 3,
                        HeadingLevel::H2 => 4,
                        _ => 5,
                    };
                    out.push_str(&format!("\n#heading(level: {depth}, outlined: false)["));
                }
                Tag::Emphasis => out.push_str("#emph["),
                Tag::Strong => out.push_str("#strong["),
                Tag::Strikethrough => out.push_str("#strike["),
                Tag::BlockQuote(_) => out.push_str("\n#quote(block: true)["),
                Tag::CodeBlock(_) => code = Some(String::new()),
                Tag::List(start) => {
                    lists.push(start);
                    out.push('\n');
                }
                Tag::Item => {
                    let indent = "  ".repeat(lists.len().saturating_sub(1));
                    match lists.last_mut() {
                        Some(Some(n)) => {
                            out.push_str(&format!("{indent}{n}. "));
                            *n += 1;
                        }
                        _ => out.push_str(&format!("{indent}- ")),
                    }
                }
                Tag::Link { dest_url, .. } if safe_url(&dest_url) => {
                    out.push_str(&format!("#link({})[", string(&dest_url)));
                }
                // An unsafe address keeps its text and loses the link.
                Tag::Link { .. } | Tag::Image { .. } => out.push_str("#["),
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph => out.push_str("\n\n"),
                TagEnd::Heading(_) => out.push_str("]\n"),
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Link
                | TagEnd::Image => out.push(']'),
                TagEnd::BlockQuote(_) => out.push_str("]\n"),
                TagEnd::CodeBlock => {
                    let body = code.take().unwrap_or_default();
                    out.push_str(&format!("\n#raw(block: true, {})\n", string(&body)));
                }
                TagEnd::List(_) => {
                    lists.pop();
                    out.push('\n');
                }
                TagEnd::Item => out.push('\n'),
                _ => {}
            },
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_only_what_a_literal_needs() {
        assert_eq!(string(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(
            text("#set page(width: 1pt) // *x*"),
            "#\"#set page(width: 1pt) // *x*\";"
        );
        assert_eq!(text(""), "");
        assert_eq!(text("1.50 % and +2 pp"), "#\"1.50\u{a0}% and +2\u{a0}pp\";");
    }

    #[test]
    fn markdown_becomes_markup_that_cannot_be_injected() {
        let t = markdown(
            "Some *prose* with **bold**, `code`, <b>raw</b> and [a link](https://e.org).\n\n- one\n- two #x\n",
        );
        assert!(t.contains("#\"Some \";#emph[#\"prose\";]"), "{t}");
        assert!(t.contains("#strong[#\"bold\";]"), "{t}");
        assert!(t.contains("#raw(\"code\");"), "{t}");
        assert!(t.contains("#\"<b>\";"), "{t}");
        assert!(t.contains("#link(\"https://e.org\")[#\"a link\";]"), "{t}");
        assert!(t.contains("\n- #\"one\";\n- #\"two #x\";\n"), "{t}");
        let unsafe_link = markdown("[x](javascript:alert(1))");
        assert!(!unsafe_link.contains("javascript"), "{unsafe_link}");
        let code = markdown("```\nlet a = \"b\";\n```\n");
        assert!(
            code.contains("#raw(block: true, \"let a = \\\"b\\\";\\n\")"),
            "{code}"
        );
    }
}

//! In-page links of the Markdown report, as GitHub and every safe-mode renderer resolve
//! them: to the slugs of headings, since raw `<a id>` tags are stripped there.
//!
//! The Markdown templates mark a link target with the report's anchor (the same names
//! the HTML page uses, so templates and prose link `#model-5` either way): a heading
//! ends with `{ #model-5 }`, and a line holding only `{ #fig-3 }` marks a target below a
//! heading (a figure, a reference), which resolves to that heading. This pass removes
//! the marks, computes each heading's GitHub slug (repeats get `-1`, `-2`, as GitHub
//! numbers them) and points every `](#anchor)` link at its slug.

use std::collections::HashMap;
use std::ops::Range;

use github_slugger::Slugger;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// `markdown` with its target marks removed and its links to them pointing at heading
/// slugs. Links to anchors nobody marked are left as they are.
pub fn resolve(markdown: &str) -> String {
    let (targets, marks) = targets(markdown);
    let mut out = String::with_capacity(markdown.len());
    let mut at = 0;
    for mark in marks {
        out.push_str(&markdown[at..mark.start]);
        at = mark.end;
    }
    out.push_str(&markdown[at..]);
    relink(&out, &targets)
}

/// Anchor → slug, and the byte ranges of the marks, in order.
fn targets(markdown: &str) -> (HashMap<String, String>, Vec<Range<usize>>) {
    let mut slugger = Slugger::default();
    let mut targets = HashMap::new();
    let mut marks = Vec::new();
    let mut last_slug: Option<String> = None;
    let mut heading: Option<(Option<String>, String)> = None;
    let mut paragraph: Option<(usize, String)> = None;
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_HEADING_ATTRIBUTES,
    );
    for (event, range) in parser.into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { id, .. }) => {
                heading = Some((id.map(|i| i.to_string()), String::new()));
                // The mark is the heading line's end: `### Title { #id }`.
                let line = &markdown[range.clone()];
                if let Some(open) = line.rfind('{').filter(|_| line.trim_end().ends_with('}')) {
                    let cut = line[..open].trim_end().len();
                    let end = range.start + line.trim_end().len();
                    marks.push(range.start + cut..end);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((id, text)) = heading.take() {
                    let slug = slugger.slug(text.trim());
                    if let Some(id) = id {
                        targets.insert(id, slug.clone());
                    }
                    last_slug = Some(slug);
                }
            }
            Event::Start(Tag::Paragraph) => paragraph = Some((range.start, String::new())),
            Event::End(TagEnd::Paragraph) => {
                if let Some((start, text)) = paragraph.take()
                    && let Some(id) = block_mark(&text)
                {
                    if let Some(slug) = &last_slug {
                        targets.insert(id.to_owned(), slug.clone());
                    }
                    marks.push(start..range.end);
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, text)) = &mut heading {
                    text.push_str(&t);
                } else if let Some((_, text)) = &mut paragraph {
                    text.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some((_, text)) = &mut paragraph {
                    text.push('\n');
                }
            }
            _ => {
                if let Some((_, text)) = &mut paragraph {
                    // Anything else in the paragraph (a link, emphasis) makes it prose.
                    text.push('\u{0}');
                }
            }
        }
    }
    (targets, marks)
}

/// `{ #id }` alone in a paragraph: its id.
fn block_mark(text: &str) -> Option<&str> {
    let id = text
        .trim()
        .strip_prefix('{')?
        .strip_suffix('}')?
        .trim()
        .strip_prefix('#')?;
    let valid = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    valid.then_some(id)
}

/// Every `](#anchor)` whose anchor is a target, pointed at its slug.
fn relink(markdown: &str, targets: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut rest = markdown;
    while let Some(at) = rest.find("](#") {
        out.push_str(&rest[..at + 3]);
        rest = &rest[at + 3..];
        let end = rest.find(')').unwrap_or(rest.len());
        match targets.get(&rest[..end]) {
            Some(slug) => out.push_str(slug),
            None => out.push_str(&rest[..end]),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_point_at_github_slugs_of_the_marked_headings() {
        let md = "\
## Explanations and Discussions { #explanations }

See [Model 9 with SGD](#model-9-sgd) and [its figure](#fig-7), [1](#ref-1), [x](#elsewhere).

### Results { #results }

#### Model 9 with SGD { #model-9-sgd }

{ #fig-7 }

![Figure 7: Accuracy](site/a.png)

### Results { #results-2 }

## References { #references }

{ #ref-1 }

- [1] A book.
";
        let out = resolve(md);
        assert!(
            out.starts_with("## Explanations and Discussions\n"),
            "{out}"
        );
        assert!(
            out.contains(
                "See [Model 9 with SGD](#model-9-with-sgd) and [its figure](#model-9-with-sgd), [1](#references), [x](#elsewhere)."
            ),
            "{out}"
        );
        assert!(
            out.contains("### Results\n\n#### Model 9 with SGD\n"),
            "{out}"
        );
        assert!(!out.contains("{ #"), "marks are gone: {out}");
        // A repeated heading gets GitHub's "-1".
        let (targets, _) = targets(md);
        assert_eq!(targets["results"], "results");
        assert_eq!(targets["results-2"], "results-1");
        assert_eq!(targets["explanations"], "explanations-and-discussions");
    }

    #[test]
    fn headings_with_links_and_code_slug_by_their_text_and_prose_braces_stay() {
        let md = "### t-SNE of [Model 9](#m9) with `lr=0.1` { #tsne-m9 }\n\n\
                  Braces {like this} and { #not a mark } stay.\n\n[t](#tsne-m9)\n";
        let out = resolve(md);
        assert!(out.contains("[t](#t-sne-of-model-9-with-lr01)"), "{out}");
        assert!(
            out.contains("Braces {like this} and { #not a mark } stay."),
            "{out}"
        );
    }
}

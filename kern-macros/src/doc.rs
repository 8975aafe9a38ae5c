//! The one doc-comment parser: a tool's description and its parameters' descriptions.
//!
//! The description is the text before the first section. A section starts with a markdown
//! heading (`# Arguments`, `# Arguments:`) or a Google-style header line (`Args:`); a heading
//! that opens the doc comment and names no known section is a title, and the text under it is
//! the description. Parameter descriptions come from an arguments section in either style:
//!
//! ```text
//! # Arguments                         Args:
//! * `command` - The command to run        command (str): The command to run
//!   (continued on the next line)              (continued, indented deeper)
//! ```
//!
//! Every other section (`# Returns`, `# Errors`, `# Examples`, `Raises:`, …) is not sent.
//!
//! Input is what rustc gives: one string per `///` line (with its leading space), per
//! `#[doc = ".."]` attribute (without), or per `/** .. */` block (several lines, maybe with
//! ` * ` decorations). Only ASCII spaces and tabs count as indentation, so no input, whatever
//! its Unicode, can make the parser slice inside a character.

use syn::{Attribute, Expr, ExprLit, Lit, Meta};

/// One documented parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocParam {
    /// The name as written (without `r#`).
    pub name: String,
    /// Its description.
    pub text: String,
    /// The index of the doc attribute the entry starts in (for error spans).
    pub attr: usize,
}

/// What a doc comment says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Docs {
    /// The text before the first section; blank when there is none.
    pub description: String,
    /// The parameters, in the order they are documented.
    pub params: Vec<DocParam>,
}

impl Docs {
    /// The description of one parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.text.as_str())
    }
}

/// The `#[doc = "..."]` attributes: their text and span, one per attribute.
pub fn doc_attrs(attrs: &[Attribute]) -> Vec<(String, proc_macro2::Span)> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some((s.value(), syn::spanned::Spanned::span(a))),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

const ARG_SECTIONS: &[&str] = &["arguments", "args", "parameters", "params"];
const GOOGLE_SECTIONS: &[&str] = &[
    "args",
    "arguments",
    "parameters",
    "params",
    "returns",
    "return",
    "yields",
    "raises",
    "errors",
    "examples",
    "example",
    "note",
    "notes",
    "panics",
    "safety",
    "see also",
];
/// Headings that are sections even when they open the doc comment.
const KNOWN_HEADINGS: &[&str] = &[
    "arguments",
    "args",
    "parameters",
    "params",
    "returns",
    "return",
    "errors",
    "examples",
    "example",
    "panics",
    "safety",
];

#[derive(PartialEq)]
enum Section {
    Description,
    Arguments,
    Other,
}

/// Leading indentation: ASCII spaces and tabs only (one byte each).
fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// Removes up to `n` bytes of ASCII indentation.
fn unindent(line: &str, n: usize) -> &str {
    let n = n.min(indent_of(line));
    &line[n..]
}

/// The lines of the doc comment, each with the index of its attribute, indentation made
/// uniform: one leading space of a `///` line removed, `/** */` blocks unindented and their
/// ` * ` decorations removed, then the indentation common to all lines removed.
fn normalize(attrs: &[String]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (i, attr) in attrs.iter().enumerate() {
        if !attr.contains('\n') {
            let line = attr.strip_prefix(' ').unwrap_or(attr);
            out.push((line.trim_end().to_owned(), i));
            continue;
        }
        // A block comment.
        let mut lines: Vec<&str> = attr.lines().collect();
        while lines.first().is_some_and(|l| l.trim().is_empty()) {
            lines.remove(0);
        }
        while lines.last().is_some_and(|l| l.trim().is_empty()) {
            lines.pop();
        }
        let decorated = !lines.is_empty()
            && lines.iter().all(|l| {
                let t = l.trim_start_matches([' ', '\t']);
                t.starts_with('*') || t.is_empty()
            });
        let lines: Vec<&str> = if decorated {
            lines
                .iter()
                .map(|l| {
                    let t = l.trim_start_matches([' ', '\t']);
                    let t = t.strip_prefix('*').unwrap_or(t);
                    t.strip_prefix(' ').unwrap_or(t)
                })
                .collect()
        } else {
            let common = lines
                .iter()
                .filter(|l| !l.trim().is_empty())
                .map(|l| indent_of(l))
                .min()
                .unwrap_or(0);
            lines.iter().map(|l| unindent(l, common)).collect()
        };
        out.extend(lines.into_iter().map(|l| (l.trim_end().to_owned(), i)));
    }
    let common = out
        .iter()
        .filter(|(l, _)| !l.trim().is_empty())
        .map(|(l, _)| indent_of(l))
        .min()
        .unwrap_or(0);
    for (line, _) in &mut out {
        *line = unindent(line, common).to_owned();
    }
    out
}

/// An open code fence: its character and length.
#[derive(Clone, Copy)]
struct Fence {
    ch: char,
    len: usize,
}

/// A fence line: three or more backticks or tildes.
fn fence_open(trimmed: &str) -> Option<Fence> {
    let ch = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = trimmed.chars().take_while(|c| *c == ch).count();
    (len >= 3).then_some(Fence { ch, len })
}

/// Whether a line closes the fence: only the fence character, at least as many.
fn fence_closes(fence: Fence, trimmed: &str) -> bool {
    let len = trimmed.chars().take_while(|c| *c == fence.ch).count();
    len >= fence.len && trimmed.chars().skip(len).all(char::is_whitespace)
}

/// Parses doc-comment text (one string per doc attribute).
pub fn parse(attrs: &[String]) -> Docs {
    let lines = normalize(attrs);

    let mut section = Section::Description;
    let mut fence: Option<Fence> = None;
    let mut description: Vec<&str> = Vec::new();
    let mut title: Option<&str> = None;
    let mut params: Vec<DocParam> = Vec::new();
    // The indentation of the section's first entry, and whether its entries are bulleted.
    let mut entry_style: Option<(usize, bool)> = None;

    for (line, attr) in &lines {
        let line = line.as_str();
        let trimmed = line.trim();
        if let Some(open) = fence {
            if fence_closes(open, trimmed) {
                fence = None;
            }
            if section == Section::Description {
                description.push(line);
            }
            continue;
        }
        if let Some(open) = fence_open(trimmed) {
            fence = Some(open);
            if section == Section::Description {
                description.push(line);
            }
            continue;
        }
        if let Some((heading, name)) = section_title(line) {
            let lower = name.to_lowercase();
            let opening = section == Section::Description
                && title.is_none()
                && description.iter().all(|l| l.trim().is_empty());
            if heading && opening && !KNOWN_HEADINGS.contains(&lower.as_str()) {
                // A title: the text under it is the description.
                title = Some(name);
                continue;
            }
            section = if ARG_SECTIONS.contains(&lower.as_str()) {
                Section::Arguments
            } else {
                Section::Other
            };
            entry_style = None;
            continue;
        }
        match section {
            Section::Description => description.push(line),
            Section::Other => {}
            Section::Arguments => {
                if trimmed.is_empty() {
                    continue;
                }
                let indent = indent_of(line);
                let entry = parse_entry(trimmed);
                let new_entry = match (entry_style, &entry) {
                    (_, None) => false,
                    (None, Some(_)) => true,
                    // Bulleted entries: a new entry is a bullet no deeper than the first.
                    (Some((first, true)), Some(e)) => e.bulleted && indent <= first,
                    // Google style: a new entry is no deeper than the first.
                    (Some((first, false)), Some(_)) => indent <= first,
                };
                match entry {
                    Some(e) if new_entry || params.is_empty() => {
                        entry_style.get_or_insert((indent, e.bulleted));
                        params.push(DocParam {
                            name: e.name,
                            text: e.text,
                            attr: *attr,
                        });
                    }
                    _ => {
                        if let Some(last) = params.last_mut() {
                            if !last.text.is_empty() {
                                last.text.push(' ');
                            }
                            last.text.push_str(trimmed);
                        }
                    }
                }
            }
        }
    }

    let mut description = tidy(&description);
    if description.is_empty()
        && let Some(title) = title
    {
        description = title.to_owned();
    }
    Docs {
        description,
        params: params
            .into_iter()
            .map(|mut p| {
                p.text = p.text.trim().to_owned();
                p
            })
            .collect(),
    }
}

/// A section header line: `# Title` or `# Title:` (any level; `true`), or a Google `Title:`
/// line (`false`); with its title.
fn section_title(line: &str) -> Option<(bool, &str)> {
    let trimmed = line.trim();
    if let Some(rest) = trimmed.strip_prefix('#') {
        let rest = rest.trim_start_matches('#');
        if rest.starts_with([' ', '\t']) {
            let title = rest.trim();
            let title = title.strip_suffix(':').unwrap_or(title).trim_end();
            if !title.is_empty() {
                return Some((true, title));
            }
        }
        return None;
    }
    // A Google header is not indented (relative to the comment) and is a known word.
    if indent_of(line) > 0 {
        return None;
    }
    let title = trimmed.strip_suffix(':')?.trim_end();
    GOOGLE_SECTIONS
        .contains(&title.to_lowercase().as_str())
        .then_some((false, title))
}

/// One argument entry of an arguments section.
struct Entry {
    name: String,
    text: String,
    bulleted: bool,
}

/// One argument entry: `` * `name` - text ``, `- name: text`, `name (type): text`, …
fn parse_entry(line: &str) -> Option<Entry> {
    let mut rest = line;
    let mut bulleted = false;
    for bullet in ["* ", "- ", "+ "] {
        if let Some(r) = rest.strip_prefix(bullet) {
            rest = r.trim_start();
            bulleted = true;
            break;
        }
    }
    let ticked = rest.starts_with('`');
    if ticked {
        rest = &rest[1..];
    }
    if let Some(r) = rest.strip_prefix("r#") {
        rest = r;
    }
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    if end == 0 {
        return None;
    }
    let name = rest[..end].to_owned();
    rest = &rest[end..];
    if ticked {
        rest = rest.strip_prefix('`')?;
    }
    rest = rest.trim_start();
    // An optional type: `(str)`, `(Option<u32>, optional)`.
    if rest.starts_with('(') {
        let mut depth = 0usize;
        let mut close = None;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = rest[close? + 1..].trim_start();
    }
    for sep in ["--", ":", "-", "\u{2013}", "\u{2014}"] {
        if let Some(text) = rest.strip_prefix(sep) {
            return Some(Entry {
                name,
                text: text.trim().to_owned(),
                bulleted,
            });
        }
    }
    None
}

/// Joins description lines: no leading/trailing blank lines, at most one blank line in a row.
fn tidy(lines: &[&str]) -> String {
    let mut out = String::new();
    let mut blank = false;
    for line in lines {
        if line.trim().is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if blank {
                out.push('\n');
            }
        }
        blank = false;
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as `///` gives them: each with its leading space.
    fn docs(text: &str) -> Docs {
        let lines: Vec<String> = text.lines().map(|l| format!(" {l}")).collect();
        parse(&lines)
    }

    #[test]
    fn empty() {
        assert_eq!(parse(&[]), Docs::default());
    }

    #[test]
    fn multi_paragraph_description() {
        let d = docs("Runs a command.\n\nIt is run by `sh`.\nSecond line.\n\n\n\nLast.");
        assert_eq!(
            d.description,
            "Runs a command.\n\nIt is run by `sh`.\nSecond line.\n\nLast."
        );
        assert!(d.params.is_empty());
    }

    #[test]
    fn rustdoc_arguments() {
        let d = docs(
            "Execute a shell command.\n\n# Arguments\n\n* `command` - The shell command\n  to execute\n* `timeout` - Seconds to wait\n\n# Returns\n\nThe output.\n\n# Errors\nWhen it fails.",
        );
        assert_eq!(d.description, "Execute a shell command.");
        assert_eq!(d.param("command"), Some("The shell command to execute"));
        assert_eq!(d.param("timeout"), Some("Seconds to wait"));
        assert_eq!(d.params.len(), 2);
    }

    #[test]
    fn rustdoc_variants() {
        let d = docs(
            "X.\n\n## Parameters\n- `a`: first\n- b - second\n* `c` (u32) - third\n* `r#type` - fourth",
        );
        assert_eq!(d.param("a"), Some("first"));
        assert_eq!(d.param("b"), Some("second"));
        assert_eq!(d.param("c"), Some("third"));
        assert_eq!(d.param("type"), Some("fourth"));
    }

    #[test]
    fn google_args() {
        let d = docs(
            "Get the weather.\n\nArgs:\n    city (str): The city.\n    days (int, optional): How many days,\n        at most 7.\n    units: metric or imperial\n\nReturns:\n    str: the forecast\nRaises:\n    ValueError: never",
        );
        assert_eq!(d.description, "Get the weather.");
        assert_eq!(d.param("city"), Some("The city."));
        assert_eq!(d.param("days"), Some("How many days, at most 7."));
        assert_eq!(d.param("units"), Some("metric or imperial"));
        assert_eq!(d.param("ValueError"), None);
        assert_eq!(d.params.len(), 3);
    }

    #[test]
    fn google_continuation_that_looks_like_an_entry() {
        let d =
            docs("X.\n\nArgs:\n  path: The path.\n    Note: relative to the root.\n  mode: r or w");
        assert_eq!(
            d.param("path"),
            Some("The path. Note: relative to the root.")
        );
        assert_eq!(d.param("mode"), Some("r or w"));
        assert_eq!(d.param("Note"), None);
    }

    #[test]
    fn code_blocks_stay_in_the_description_and_hide_headers() {
        let d = docs(
            "Query.\n\n```sql\n# not a header\nArgs:\nSELECT 1;\n```\n\nAfter.\n\n# Examples\n```\nlet x = 1;\n```",
        );
        assert_eq!(
            d.description,
            "Query.\n\n```sql\n# not a header\nArgs:\nSELECT 1;\n```\n\nAfter."
        );
        assert!(d.params.is_empty());
    }

    #[test]
    fn code_block_in_arguments_is_not_an_entry() {
        let d =
            docs("X.\n\n# Arguments\n* `a` - one\n```\n* `b` - no\n```\n# Examples\n* `c` - no");
        let names: Vec<_> = d
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.text.as_str()))
            .collect();
        assert_eq!(names, vec![("a", "one")]);
    }

    #[test]
    fn parameters_missing_from_docs() {
        let d = docs("Only a description.\n\n# Arguments\n* `a` - documented");
        assert_eq!(d.param("a"), Some("documented"));
        assert_eq!(d.param("b"), None);
    }

    #[test]
    fn odd_indentation() {
        // `/** */` blocks and uneven `///` spacing.
        let d = parse(&[
            "\n     Reads a file.\n\n       Carefully.\n     # Arguments\n     * `path` -   the path  \n".to_owned(),
        ]);
        assert_eq!(d.description, "Reads a file.\n\n  Carefully.");
        assert_eq!(d.param("path"), Some("the path"));
        let d = parse(&["Tight.".to_owned(), "   Loose.".to_owned()]);
        assert_eq!(d.description, "Tight.\n  Loose.");
    }

    #[test]
    fn returns_errors_examples_are_not_sent() {
        let d = docs("Desc.\n# Returns\nR\n# Errors\nE\n# Examples\nX\n# Panics\nP");
        assert_eq!(d.description, "Desc.");
        assert!(d.params.is_empty());
    }

    #[test]
    fn hash_without_space_is_text() {
        let d = docs("Use #hashtags.\n#notaheader");
        assert_eq!(d.description, "Use #hashtags.\n#notaheader");
    }

    #[test]
    fn prose_with_colon_is_not_a_section() {
        let d = docs("Example usage: run it.\nNote: be careful.");
        assert_eq!(d.description, "Example usage: run it.\nNote: be careful.");
        let d = docs("Desc.\nNote:\nhidden");
        assert_eq!(d.description, "Desc.");
    }

    /// A `///` line as rustc gives it.
    fn line(text: &str) -> String {
        format!(" {text}")
    }

    #[test]
    fn unicode_spaces_do_not_panic() {
        // U+00A0 and U+3000 are whitespace for `trim`, but several bytes long.
        for space in ["\u{a0}", "\u{3000}", "\u{2003}"] {
            // `///` directly followed by the space: a line of only that character (the byte
            // slicing of the indentation panicked here).
            let d = parse(&[line("Desc."), space.to_owned(), line("More.")]);
            assert_eq!(d.description, "Desc.\n\nMore.");
            let d = parse(&[line("Desc."), format!("{space}x")]);
            assert_eq!(d.description, format!("Desc.\n{space}x"));
            let d = parse(&[line("Desc."), line(space), line(&format!("{space}x"))]);
            assert_eq!(d.description, format!("Desc.\n\n{space}x"));
            let d = parse(&[format!("\n{space}a\n  b\n")]);
            assert!(d.description.contains('b'));
        }
    }

    #[test]
    fn opening_heading_is_a_title() {
        let d = docs("# Weather\n\nGets the weather.\n\n# Arguments\n* `city` - The city");
        assert_eq!(d.description, "Gets the weather.");
        assert_eq!(d.param("city"), Some("The city"));
        let d = docs("# Weather");
        assert_eq!(d.description, "Weather");
        // A known section name that opens the doc is still that section.
        let d = docs("# Arguments\n* `a` - one");
        assert_eq!(d.description, "");
        assert_eq!(d.param("a"), Some("one"));
    }

    #[test]
    fn heading_with_trailing_colon() {
        let d = docs("X.\n\n# Arguments:\n* `a` - one\n* `b` - two");
        assert_eq!(d.param("a"), Some("one"));
        assert_eq!(d.param("b"), Some("two"));
    }

    #[test]
    fn block_comment_decorations() {
        let d = parse(&[
            "*\n * Reads a file.\n *\n * # Arguments\n * * `path` - the path\n ".to_owned(),
        ]);
        assert_eq!(d.description, "Reads a file.");
        assert_eq!(d.param("path"), Some("the path"));
    }

    #[test]
    fn doc_attributes_mixed_with_line_comments() {
        let d = parse(&[
            line("X."),
            line("# Arguments"),
            "* `a` - first".to_owned(),
            line("* `b` - second"),
            "* `c` - third".to_owned(),
        ]);
        assert_eq!(d.param("a"), Some("first"));
        assert_eq!(d.param("b"), Some("second"));
        assert_eq!(d.param("c"), Some("third"));
        assert_eq!(d.params[1].attr, 3);
    }

    #[test]
    fn longer_fences_hold_shorter_ones() {
        let d = docs("Q.\n\n````md\n```\n# not a header\n```\n````\nAfter.\n# Returns\nR");
        assert_eq!(
            d.description,
            "Q.\n\n````md\n```\n# not a header\n```\n````\nAfter."
        );
        // A fence closes only with the same character.
        let d = docs("Q.\n~~~\n```\n# hidden\n~~~\nAfter.");
        assert_eq!(d.description, "Q.\n~~~\n```\n# hidden\n~~~\nAfter.");
    }

    #[test]
    fn unindented_continuation_of_a_bulleted_entry() {
        let d = docs(
            "X.\n# Arguments\n* `path` - The path.\nNote: relative to the root.\n* `mode` - r or w",
        );
        assert_eq!(
            d.param("path"),
            Some("The path. Note: relative to the root.")
        );
        assert_eq!(d.param("mode"), Some("r or w"));
        assert_eq!(d.param("Note"), None);
        // Nested bullets are part of the entry.
        let d = docs("X.\n# Arguments\n* `mode` - one of:\n  - `r`: read\n  - `w`: write");
        assert_eq!(d.param("mode"), Some("one of: - `r`: read - `w`: write"));
        assert_eq!(d.params.len(), 1);
    }

    #[test]
    fn double_dash_separator() {
        let d = docs("X.\n# Arguments\n* `a` -- text\n* b \u{2014} more");
        assert_eq!(d.param("a"), Some("text"));
        assert_eq!(d.param("b"), Some("more"));
    }

    /// A seeded xorshift generator: the same inputs on every run.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        /// A character: mostly the parser's own syntax, else any scalar value.
        fn char(&mut self) -> char {
            const SYNTAX: &[char] = &[
                ' ',
                ' ',
                '\t',
                '\n',
                '#',
                '*',
                '`',
                '~',
                '-',
                ':',
                '(',
                ')',
                '_',
                'a',
                'r',
                '/',
                '\u{a0}',
                '\u{3000}',
                '\u{200b}',
                '\u{301}',
                '\u{202e}',
                '\u{5d0}',
                '\u{1f600}',
                '\u{2014}',
                '\u{2013}',
                '\u{feff}',
            ];
            if self.below(3) > 0 {
                SYNTAX[self.below(SYNTAX.len() as u64) as usize]
            } else {
                // Any scalar value (surrogates excluded).
                loop {
                    if let Some(c) = char::from_u32(self.below(0x11_0000) as u32) {
                        return c;
                    }
                }
            }
        }
    }

    #[test]
    fn arbitrary_unicode_never_panics() {
        const WORDS: &[&str] = &[
            "# Arguments",
            "# Arguments:",
            "Args:",
            "# Returns",
            "* `a` - ",
            "```",
            "````",
            "~~~",
            "  ",
            "Note:",
            "a (int): ",
            "r#",
            "--",
            "/**",
            "*/",
        ];
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let attrs: Vec<String> = (0..rng.below(8))
                .map(|_| {
                    let mut s = String::new();
                    for _ in 0..rng.below(24) {
                        if rng.below(5) == 0 {
                            s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
                        } else {
                            s.push(rng.char());
                        }
                    }
                    s
                })
                .collect();
            let d = parse(&attrs);
            // What comes out is made of what went in.
            assert!(d.params.iter().all(|p| p.attr < attrs.len()), "{attrs:?}");
        }
    }
}

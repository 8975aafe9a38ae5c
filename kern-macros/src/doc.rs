//! The one doc-comment parser: a tool's description and its parameters' descriptions.
//!
//! The description is the text before the first section. A section starts with a markdown
//! heading (`# Arguments`) or a Google-style header line (`Args:`). Parameter descriptions come
//! from an arguments section in either style:
//!
//! ```text
//! # Arguments                         Args:
//! * `command` - The command to run        command (str): The command to run
//!   (continued on the next line)              (continued, indented deeper)
//! ```
//!
//! Every other section (`# Returns`, `# Errors`, `# Examples`, `Raises:`, …) is not sent.

use syn::{Attribute, Expr, ExprLit, Lit, Meta};

/// What a doc comment says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Docs {
    /// The text before the first section; blank when there is none.
    pub description: String,
    /// `(parameter, description)` in the order they are documented.
    pub params: Vec<(String, String)>,
}

impl Docs {
    /// The description of one parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.as_str())
    }
}

/// The text of the `#[doc = "..."]` attributes, one string per attribute.
pub fn doc_lines(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Parses the doc comment of a tool.
pub fn parse_attrs(attrs: &[Attribute]) -> Docs {
    parse(&doc_lines(attrs))
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

#[derive(PartialEq)]
enum Section {
    Description,
    Arguments,
    Other,
}

/// Parses doc-comment text (one string per `///` line or `/** */` block).
pub fn parse(lines: &[String]) -> Docs {
    let text = lines.join("\n");
    let lines: Vec<&str> = text.lines().collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let lines: Vec<&str> = lines
        .iter()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .map(str::trim_end)
        .collect();

    let mut section = Section::Description;
    let mut fence: Option<&str> = None;
    let mut description: Vec<&str> = Vec::new();
    let mut params: Vec<(String, String)> = Vec::new();
    let mut entry_indent: Option<usize> = None;

    for line in lines {
        let trimmed = line.trim_start();
        if let Some(marker) = fence {
            if trimmed.starts_with(marker) {
                fence = None;
            }
            if section == Section::Description {
                description.push(line);
            }
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(&trimmed[..3]);
            if section == Section::Description {
                description.push(line);
            }
            continue;
        }
        if let Some(title) = section_title(line) {
            let title = title.to_ascii_lowercase();
            section = if ARG_SECTIONS.contains(&title.as_str()) {
                Section::Arguments
            } else {
                Section::Other
            };
            entry_indent = None;
            continue;
        }
        match section {
            Section::Description => description.push(line),
            Section::Other => {}
            Section::Arguments => {
                if trimmed.is_empty() {
                    continue;
                }
                let indent = line.len() - trimmed.len();
                let continuation =
                    matches!(entry_indent, Some(first) if indent > first) && !params.is_empty();
                match (continuation, parse_entry(trimmed)) {
                    (false, Some((name, text))) => {
                        entry_indent.get_or_insert(indent);
                        params.push((name, text));
                    }
                    _ => {
                        if let Some((_, text)) = params.last_mut() {
                            if !text.is_empty() {
                                text.push(' ');
                            }
                            text.push_str(trimmed);
                        }
                    }
                }
            }
        }
    }

    Docs {
        description: tidy(&description),
        params: params
            .into_iter()
            .map(|(n, d)| (n, d.trim().to_owned()))
            .collect(),
    }
}

/// The title of a section header line: `# Title` (any level) or a Google `Title:` line.
fn section_title(line: &str) -> Option<&str> {
    let trimmed = line.trim();
    if let Some(rest) = trimmed.strip_prefix('#') {
        let rest = rest.trim_start_matches('#');
        if rest.starts_with(' ') && !rest.trim().is_empty() {
            return Some(rest.trim());
        }
        return None;
    }
    // A Google header is not indented (relative to the comment) and is a known word.
    if line.starts_with(char::is_whitespace) {
        return None;
    }
    let title = trimmed.strip_suffix(':')?;
    GOOGLE_SECTIONS
        .contains(&title.to_ascii_lowercase().as_str())
        .then_some(title)
}

/// One argument entry: `` * `name` - text ``, `- name: text`, `name (type): text`, …
fn parse_entry(line: &str) -> Option<(String, String)> {
    let mut rest = line;
    for bullet in ["* ", "- ", "+ "] {
        if let Some(r) = rest.strip_prefix(bullet) {
            rest = r.trim_start();
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
    for sep in [":", "-", "\u{2013}", "\u{2014}"] {
        if let Some(text) = rest.strip_prefix(sep) {
            return Some((name, text.trim().to_owned()));
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
        assert_eq!(d.params, vec![("a".to_owned(), "one".to_owned())]);
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
        assert_eq!(d.description, "Tight.\n   Loose.");
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
}

//! Markdown threat models → text units with their context and line numbers
//! (pulldown-cmark with source offsets). A table cell knows its column header
//! and its row's first cell; every unit knows the heading it sits under.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// A piece of a document that can hold claims and references: a table cell,
/// a list item, a paragraph or a heading.
#[derive(Clone, Debug, Default)]
pub struct Unit {
    pub kind: &'static str,
    pub line: u32,
    /// Headings above it, outermost first.
    pub section: Vec<String>,
    /// Table cells: the column header and the row's first cell.
    pub column: Option<String>,
    pub row: Option<String>,
    /// Plain text, inline code included (without backticks).
    pub text: String,
    /// The prose alone, without inline code: what claims are read from
    /// (a symbol named `check_permission` is not a claim about permissions).
    pub prose: String,
    /// Where the prose's pieces start: (byte offset in `prose`, 1-based line).
    pub prose_lines: Vec<(usize, u32)>,
    /// Inline code spans and link destinations, with their 1-based line and column.
    pub codes: Vec<Span>,
    pub links: Vec<Span>,
    /// A list item: the prose of the paragraph that introduces its list
    /// ("administrators must ensure that:"), when that ends with a colon.
    pub lead: Option<String>,
    /// A paragraph ending with a colon: the lines of the code block right
    /// after it ("To enable subdomains, set:" and its configuration lines).
    pub code_after: Vec<Span>,
}

#[derive(Clone, Debug)]
pub struct Span {
    pub text: String,
    pub line: u32,
    pub column: u32,
}

impl Unit {
    /// The line of the document that byte `pos` of the prose comes from.
    pub fn line_at(&self, pos: usize) -> u32 {
        let i = self.prose_lines.partition_point(|(o, _)| *o <= pos);
        if i == 0 {
            self.line
        } else {
            self.prose_lines[i - 1].1
        }
    }

    /// "Denial of service / HTTP API": the section (or column) and row a cell belongs to.
    pub fn context(&self) -> String {
        let mut parts: Vec<String> = vec![];
        if let Some(h) = self.section.last() {
            parts.push(h.clone());
        }
        if let Some(c) = &self.column {
            if self.row.as_deref() != Some(self.text.as_str()) && !is_generic_header(c) {
                parts.push(c.clone());
            }
        }
        if let Some(r) = &self.row {
            if r != &self.text {
                parts.push(r.clone());
            }
        }
        parts.join(" / ")
    }
}

fn is_generic_header(h: &str) -> bool {
    let h = h.to_lowercase();
    [
        "mitigation",
        "gap",
        "status",
        "notes",
        "description",
        "code reference",
    ]
    .iter()
    .any(|w| h.contains(w))
}

struct Lines {
    starts: Vec<usize>,
    src: String,
}

impl Lines {
    fn new(src: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Lines {
            starts,
            src: src.to_string(),
        }
    }
    fn pos(&self, offset: usize) -> (u32, u32) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let col = self
            .src
            .get(start..offset.min(self.src.len()))
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line as u32, col as u32 + 1)
    }
}

/// `t` with every `http://` or `https://` token replaced by ` ⟨url⟩ `.
fn without_urls(t: &str) -> std::borrow::Cow<'_, str> {
    if !t.contains("://") {
        return std::borrow::Cow::Borrowed(t);
    }
    let mut out = String::with_capacity(t.len());
    for (i, word) in t.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let lead = word.len() - word.trim_start_matches(['(', '[', '<', '"', '\'']).len();
        let rest = &word[lead..];
        if rest.starts_with("http://") || rest.starts_with("https://") {
            out.push_str(&word[..lead]);
            out.push_str("⟨url⟩");
        } else {
            out.push_str(word);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// MyST (Sphinx) directives whose body is prose: ```` ```{note} ````,
/// `{versionadded}`, `{important}` ... Their fence and option lines become
/// blank (same length, so every offset stays put) and their body reads as
/// Markdown. Other directives (`{code-block}`, `{mermaid}`) stay code.
const PROSE_DIRECTIVES: &[&str] = &[
    "note",
    "warning",
    "important",
    "tip",
    "caution",
    "attention",
    "danger",
    "error",
    "hint",
    "seealso",
    "admonition",
    "versionadded",
    "versionchanged",
    "deprecated",
    "dropdown",
    "topic",
];

fn unwrap_directives(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    // The open directive's fence (backticks or tildes, and their count).
    let mut open: Option<(char, usize)> = None;
    let mut options = false;
    let blank = |l: &str, out: &mut String| {
        let body = l.trim_end_matches(['\n', '\r']);
        out.extend(std::iter::repeat_n(' ', body.len()));
        out.push_str(&l[body.len()..]);
    };
    for l in src.split_inclusive('\n') {
        let t = l.trim_start();
        let fence = t.chars().next().filter(|c| *c == '`' || *c == '~');
        let run = fence
            .map(|c| t.chars().take_while(|x| *x == c).count())
            .unwrap_or(0);
        match open {
            None if run >= 3 => {
                let info = t[run..].trim_start();
                let name = info
                    .strip_prefix('{')
                    .and_then(|i| i.split_once('}'))
                    .map(|(n, _)| n.trim());
                if name.is_some_and(|n| PROSE_DIRECTIVES.contains(&n)) {
                    open = fence.map(|c| (c, run));
                    options = true;
                    blank(l, &mut out);
                    continue;
                }
                out.push_str(l);
            }
            Some((c, n)) if fence == Some(c) && run >= n && t[run..].trim().is_empty() => {
                open = None;
                blank(l, &mut out);
            }
            Some(_) if options && t.starts_with(':') => blank(l, &mut out),
            _ => {
                options = false;
                out.push_str(l);
            }
        }
    }
    out
}

/// Parse a Markdown document into units.
pub fn units(src: &str) -> Vec<Unit> {
    let unwrapped = unwrap_directives(src);
    let src = unwrapped.as_str();
    let lines = Lines::new(src);
    let mut out: Vec<Unit> = vec![];
    let mut section: Vec<(u32, String)> = vec![];
    let mut heading: Option<(u32, String)> = None;
    let mut cur: Option<Unit> = None;
    let mut header_cells: Vec<String> = vec![];
    let mut in_head = false;
    let mut cell_index = 0usize;
    let mut row_first: Option<String> = None;
    let mut item_depth = 0usize;
    let mut in_link = 0usize;
    // The lead-in of each open list (outermost first).
    let mut leads: Vec<Option<String>> = vec![];
    let mut pending_lead: Option<String> = None;
    // The unit a code block being read belongs to.
    let mut block_for: Option<usize> = None;
    let parser = Parser::new_ext(src, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    for (ev, range) in parser.into_offset_iter() {
        match ev {
            Event::Start(Tag::Heading { level, .. }) => {
                pending_lead = None;
                heading = Some((level as u32, String::new()));
                cur = Some(Unit {
                    kind: "heading",
                    line: lines.pos(range.start).0,
                    ..Default::default()
                });
            }
            Event::End(TagEnd::Heading(_)) => {
                if let (Some((level, _)), Some(u)) = (heading.take(), cur.take()) {
                    section.retain(|(l, _)| *l < level);
                    section.push((level, u.text.trim().to_string()));
                    let mut u = u;
                    u.section = section.iter().map(|(_, s)| s.clone()).collect();
                    out.push(u);
                }
            }
            Event::Start(Tag::TableHead) => {
                in_head = true;
                header_cells.clear();
                cell_index = 0;
            }
            Event::End(TagEnd::TableHead) => in_head = false,
            Event::Start(Tag::TableRow) => {
                cell_index = 0;
                row_first = None;
            }
            Event::Start(Tag::TableCell) => {
                cur = Some(Unit {
                    kind: "table_cell",
                    line: lines.pos(range.start).0,
                    section: section.iter().map(|(_, s)| s.clone()).collect(),
                    ..Default::default()
                });
            }
            Event::End(TagEnd::TableCell) => {
                if let Some(mut u) = cur.take() {
                    u.text = u.text.trim().to_string();
                    if in_head {
                        header_cells.push(u.text.clone());
                    } else {
                        if cell_index == 0 {
                            row_first = Some(u.text.clone());
                        }
                        u.column = header_cells.get(cell_index).cloned();
                        u.row = row_first.clone();
                        out.push(u);
                    }
                }
                cell_index += 1;
            }
            Event::End(TagEnd::Table) => header_cells.clear(),
            Event::Start(Tag::List(_)) => {
                // A list nested in an item: the item's text so far is a unit
                // of its own (its sub-items make their own claims), and
                // introduces the nested list when it ends with a colon.
                let mut item_lead = None;
                if item_depth >= 1 {
                    if let Some(u) = cur.take() {
                        let p = u.prose.trim();
                        item_lead = p.ends_with(':').then(|| p.to_string());
                        push_unless_empty(&mut out, u);
                    }
                }
                // The paragraph just before the list, when it ends with a
                // colon, introduces it; a nested list keeps its parent's.
                // A nested lead reads with the enclosing list's: items under
                // "admins must ensure that:" stay requirements however deep.
                let outer = leads.last().cloned().flatten();
                let lead = match (item_lead, &outer) {
                    (Some(i), Some(o)) => Some(format!("{o} {i}")),
                    (Some(i), None) => Some(i),
                    (None, _) => pending_lead.take().or(outer),
                };
                leads.push(lead);
            }
            Event::Start(Tag::CodeBlock(_)) if pending_lead.is_some() => {
                pending_lead = None;
                block_for = out.len().checked_sub(1);
            }
            Event::End(TagEnd::CodeBlock) => block_for = None,
            Event::Start(Tag::Table(_) | Tag::BlockQuote(_) | Tag::HtmlBlock) => {
                pending_lead = None;
            }
            Event::End(TagEnd::List(_)) => {
                leads.pop();
                // Text of the enclosing item after its nested list.
                if item_depth >= 1 {
                    cur = Some(list_item(
                        lines.pos(range.end).0,
                        section.iter().map(|(_, s)| s.clone()).collect(),
                        leads.last().cloned().flatten(),
                    ));
                }
            }
            Event::Start(Tag::Item) => {
                item_depth += 1;
                if let Some(u) = cur.take() {
                    push_unless_empty(&mut out, u);
                }
                cur = Some(list_item(
                    lines.pos(range.start).0,
                    section.iter().map(|(_, s)| s.clone()).collect(),
                    leads.last().cloned().flatten(),
                ));
            }
            Event::End(TagEnd::Item) => {
                item_depth = item_depth.saturating_sub(1);
                if let Some(mut u) = cur.take() {
                    u.text = u.text.trim().to_string();
                    if !u.text.is_empty() || item_depth == 0 {
                        out.push(u);
                    }
                }
            }
            Event::Start(Tag::Paragraph) if cur.is_none() => {
                pending_lead = None;
                cur = Some(Unit {
                    kind: "paragraph",
                    line: lines.pos(range.start).0,
                    section: section.iter().map(|(_, s)| s.clone()).collect(),
                    ..Default::default()
                });
            }
            Event::End(TagEnd::Paragraph)
                if cur.as_ref().is_some_and(|u| u.kind == "paragraph") =>
            {
                if let Some(mut u) = cur.take() {
                    u.text = u.text.trim().to_string();
                    let p = u.prose.trim();
                    pending_lead = p.ends_with(':').then(|| p.to_string());
                    out.push(u);
                }
            }
            Event::Text(t) if block_for.is_some() => {
                if let Some(u) = block_for.and_then(|i| out.get_mut(i)) {
                    let mut at = range.start;
                    for l in t.split_inclusive('\n') {
                        let (line, column) = lines.pos(at);
                        at += l.len();
                        if !l.trim().is_empty() {
                            u.code_after.push(Span {
                                text: l.trim().to_string(),
                                line,
                                column,
                            });
                        }
                    }
                }
            }
            Event::Text(t) => {
                if let Some(u) = cur.as_mut() {
                    // A bare GitHub blob URL in prose is a reference too.
                    if in_link == 0 {
                        for (i, _) in t.match_indices("https://github.com/") {
                            let url: String = t[i..]
                                .chars()
                                .take_while(|c| !c.is_whitespace() && !"<>()[]\"'`".contains(*c))
                                .collect();
                            let url = url.trim_end_matches(['.', ',', ';', ':', '!', '?']);
                            if url.contains("/blob/") {
                                let (line, column) = lines.pos(range.start + i);
                                u.links.push(Span {
                                    text: url.to_string(),
                                    line,
                                    column,
                                });
                            }
                        }
                    }
                    u.text.push_str(&t);
                    u.prose_lines
                        .push((u.prose.len(), lines.pos(range.start).0));
                    // A URL is not prose ("https" in it claims nothing).
                    u.prose.push_str(&without_urls(&t));
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(u) = cur.as_mut() {
                    u.text.push(' ');
                    u.prose.push(' ');
                }
            }
            Event::Code(c) => {
                if let Some(u) = cur.as_mut() {
                    u.text.push_str(&c);
                    u.prose.push_str(" … ");
                    // The span starts at the backtick; the code one column later.
                    let (line, column) = lines.pos(range.start);
                    u.codes.push(Span {
                        text: c.to_string(),
                        line,
                        column: column + 1,
                    });
                }
            }
            Event::End(TagEnd::Link) => in_link = in_link.saturating_sub(1),
            Event::Start(Tag::Link { dest_url, .. }) => {
                in_link += 1;
                if let Some(u) = cur.as_mut() {
                    let (line, column) = lines.pos(range.start);
                    u.links.push(Span {
                        text: dest_url.to_string(),
                        line,
                        column,
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// A list item's unit (or the rest of one after its nested list).
fn list_item(line: u32, section: Vec<String>, lead: Option<String>) -> Unit {
    Unit {
        kind: "list_item",
        line,
        section,
        lead,
        ..Default::default()
    }
}

/// Keep a unit, its text trimmed, unless it has none (an item whose text
/// all sits in its nested list).
fn push_unless_empty(out: &mut Vec<Unit>, mut u: Unit) {
    u.text = u.text.trim().to_string();
    if !u.text.is_empty() {
        out.push(u);
    }
}

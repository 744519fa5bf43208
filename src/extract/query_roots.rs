//! Where a rule query's matches can start, so that its tree-sitter query
//! runs only there.
//!
//! `QueryCursor` over a whole tree keeps state for every pattern at every
//! node; for one short rule query on the saleor sample that cost about 30% of
//! parsing. A top-level pattern `(assignment ...)` can only start at an
//! `assignment` node, so [`roots`] reads the node kinds that the query's
//! top-level patterns start with, and `query_hits` walks the tree once,
//! running the query with a start depth of 0 at those nodes only: the matches
//! and predicates are tree-sitter's own, only the places it looks are fewer.
//!
//! Anything whose start this reading cannot pin down to node kinds (a
//! wildcard, a supertype, a sequence of sibling patterns, a top-level
//! quantifier, text it does not follow) gives `None`: the query then runs
//! over the whole tree as before.
//!
//! [`needles`] is the prefilter semgrep and ripgrep-based tools use: when
//! every top-level pattern compares a capture's text with literals
//! (`#eq? @c "DEBUG"`, `#any-of? @c "a" "b"`), a file that contains none of
//! those literals cannot match, and the query does not run on it.

use tree_sitter::Language;

/// The node kind ids at which a match of `query` (text that tree-sitter
/// compiled for `language`) can start, sorted; `None` when that is not known.
pub fn roots(language: &Language, query: &str) -> Option<Vec<u16>> {
    let mut r = Reader {
        s: query.as_bytes(),
        at: 0,
    };
    let mut kinds = vec![];
    loop {
        r.skip_space();
        if r.at >= r.s.len() {
            break;
        }
        kinds.extend(r.item_roots(language)?);
        r.pattern_suffix()?;
    }
    if kinds.is_empty() {
        return None;
    }
    kinds.sort_unstable();
    kinds.dedup();
    Some(kinds)
}

/// Strings one of which a file must contain for `query` to match in it;
/// `None`: no such strings are known (the query runs on every file).
///
/// A pattern's text comparison binds only when its capture cannot be
/// absent, so patterns with quantifiers or alternations give `None`.
pub fn needles(query: &str) -> Option<Vec<String>> {
    let mut r = Reader {
        s: query.as_bytes(),
        at: 0,
    };
    let mut out = vec![];
    loop {
        r.skip_space();
        if r.at >= r.s.len() {
            break;
        }
        let start = r.at;
        r.skip_form()?;
        r.pattern_suffix()?;
        out.extend(pattern_needles(&query.as_bytes()[start..r.at])?);
    }
    (!out.is_empty()).then_some(out)
}

/// The literals the first `#eq?`/`#any-of?` predicate with literals in one
/// top-level pattern compares with, when the capture it tests is one this
/// pattern binds (captures are shared by the whole query: a capture bound
/// only by another pattern is absent here, and the test holds vacuously).
fn pattern_needles(pattern: &[u8]) -> Option<Vec<String>> {
    let mut r = Reader { s: pattern, at: 0 };
    let mut bound: Vec<String> = vec![];
    // (capture tested, literals), in order.
    let mut tests: Vec<(String, Vec<String>)> = vec![];
    while let Some(c) = r.peek() {
        match c {
            b'"' => {
                r.string()?;
            }
            b';' => r.skip_space(),
            b'*' | b'+' | b'?' | b'[' => return None,
            b'@' => {
                let name = r.name(1).to_string();
                bound.push(name);
            }
            b'(' if r.s.get(r.at + 1) == Some(&b'#') => {
                r.at += 1;
                let op = r.name(1).to_string();
                // Arguments: Ok(literal) or Err(capture name).
                let mut args: Vec<Result<String, String>> = vec![];
                loop {
                    r.skip_space();
                    match r.peek()? {
                        b')' => {
                            r.at += 1;
                            break;
                        }
                        b'"' => args.push(Ok(r.string()?)),
                        b'@' => {
                            let name = r.name(1).to_string();
                            args.push(Err(name));
                        }
                        _ => {
                            r.skip_form()?;
                            args.push(Err(String::new()));
                        }
                    }
                }
                let Some(Err(capture)) = args.first() else {
                    continue;
                };
                let lits: Vec<String> = match op.as_str() {
                    "eq?" if args.len() == 2 => args[1].iter().cloned().collect(),
                    "any-of?" if args.len() >= 2 && args[1..].iter().all(Result::is_ok) => {
                        args[1..].iter().flatten().cloned().collect()
                    }
                    _ => vec![],
                };
                if !lits.is_empty() && !capture.is_empty() {
                    tests.push((capture.clone(), lits));
                }
            }
            _ => r.at += 1,
        }
    }
    tests
        .into_iter()
        .find(|(capture, _)| bound.contains(capture))
        .map(|(_, lits)| lits)
}

struct Reader<'a> {
    s: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    /// Past what may follow a top-level pattern: captures of the whole
    /// pattern are fine; a quantifier (`None`) makes its start and what it
    /// binds unknown.
    fn pattern_suffix(&mut self) -> Option<()> {
        loop {
            self.skip_space();
            match self.peek() {
                Some(b'@') => {
                    self.name(1);
                }
                Some(b'*' | b'+' | b'?') => return None,
                _ => return Some(()),
            }
        }
    }

    fn skip_space(&mut self) {
        while let Some(c) = self.peek() {
            if c == b';' {
                while self.peek().is_some_and(|c| c != b'\n') {
                    self.at += 1;
                }
            } else if c.is_ascii_whitespace() {
                self.at += 1;
            } else {
                break;
            }
        }
    }

    /// Skip a name (kind, field, capture or predicate name) starting `skip`
    /// bytes ahead; returns it.
    fn name(&mut self, skip: usize) -> &str {
        self.at += skip;
        let start = self.at;
        while self.peek().is_some_and(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'?' | b'!' | b'/')
        }) {
            self.at += 1;
        }
        std::str::from_utf8(&self.s[start..self.at]).unwrap_or("")
    }

    /// A string literal's value (the reader is at its opening quote).
    fn string(&mut self) -> Option<String> {
        self.at += 1;
        let mut out = vec![];
        loop {
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return String::from_utf8(out).ok();
                }
                b'\\' => {
                    let c = *self.s.get(self.at + 1)?;
                    out.push(match c {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        b'0' => 0,
                        other => other,
                    });
                    self.at += 2;
                }
                c => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
    }

    /// Skip one balanced form: `( ... )`, `[ ... ]`, a string, or a token.
    fn skip_form(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            open @ (b'(' | b'[') => {
                let close = if open == b'(' { b')' } else { b']' };
                self.at += 1;
                loop {
                    self.skip_space();
                    match self.peek()? {
                        c if c == close => {
                            self.at += 1;
                            return Some(());
                        }
                        b')' | b']' => return None,
                        _ => self.skip_form()?,
                    }
                }
            }
            b')' | b']' => return None,
            _ => {
                let start = self.at;
                self.name(0);
                if self.at == start {
                    // `@`, `:`, `!`, `.`, quantifiers: one byte.
                    self.at += 1;
                }
            }
        }
        Some(())
    }

    /// The node kinds one top-level item can start at.
    fn item_roots(&mut self, language: &Language) -> Option<Vec<u16>> {
        match self.peek()? {
            b'"' => {
                let lit = self.string()?;
                ids(language, &lit, false)
            }
            b'[' => {
                // An alternation: any of its branches.
                self.at += 1;
                let mut out = vec![];
                loop {
                    self.skip_space();
                    match self.peek()? {
                        b']' => {
                            self.at += 1;
                            return (!out.is_empty()).then_some(out);
                        }
                        b'@' => {
                            self.name(1);
                        }
                        b'*' | b'+' | b'?' => return None,
                        _ => out.extend(self.item_roots(language)?),
                    }
                }
            }
            b'(' => {
                self.at += 1;
                self.skip_space();
                match self.peek()? {
                    // A group: one pattern (and its predicates), else a
                    // sequence of siblings, which this does not follow.
                    b'(' | b'[' | b'"' => {
                        let mut found: Option<Vec<u16>> = None;
                        loop {
                            self.skip_space();
                            match self.peek()? {
                                b')' => {
                                    self.at += 1;
                                    return found;
                                }
                                b'(' if self.s.get(self.at + 1) == Some(&b'#') => {
                                    self.skip_form()?;
                                }
                                b'@' => {
                                    self.name(1);
                                }
                                b'*' | b'+' | b'?' | b'.' => return None,
                                _ => {
                                    if found.is_some() {
                                        return None;
                                    }
                                    found = Some(self.item_roots(language)?);
                                }
                            }
                        }
                    }
                    _ => {
                        let kind = self.name(0).to_string();
                        // `_`, predicates at top level, `kind/subtype`, and
                        // the built-in ERROR and MISSING are not followed.
                        if kind.is_empty()
                            || kind == "_"
                            || kind.contains('/')
                            || kind == "ERROR"
                            || kind == "MISSING"
                        {
                            return None;
                        }
                        let kinds = ids(language, &kind, true)?;
                        // The rest of the node pattern is tree-sitter's to match.
                        loop {
                            self.skip_space();
                            match self.peek()? {
                                b')' => {
                                    self.at += 1;
                                    return Some(kinds);
                                }
                                _ => self.skip_form()?,
                            }
                        }
                    }
                }
            }
            _ => None,
        }
    }
}

/// Every kind id named `name` (aliases share a name), named or anonymous;
/// `None` for a supertype or a name the grammar lacks.
fn ids(language: &Language, name: &str, named: bool) -> Option<Vec<u16>> {
    let supertypes = language.supertypes();
    let out: Vec<u16> = (0..language.node_kind_count() as u16)
        .filter(|&id| {
            language.node_kind_for_id(id) == Some(name)
                && language.node_kind_is_named(id) == named
                && language.node_kind_is_visible(id)
        })
        .collect();
    if out.is_empty() || out.iter().any(|id| supertypes.contains(id)) {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{needles, roots};

    #[test]
    fn needles_of_text_predicates() {
        let n = |q: &str| needles(q);
        assert_eq!(
            n(
                "(assignment left: (identifier) @n right: (true) (#eq? @n \"DEBUG\")) @m\n\
               ((identifier) @x (#any-of? @x \"a\\\"b\" \"c\"))"
            ),
            Some(vec!["DEBUG".into(), "a\"b".into(), "c".into()])
        );
        // One pattern without a literal comparison: every file.
        assert_eq!(n("((identifier) @x (#eq? @x \"a\")) (call) @c"), None);
        assert_eq!(n("((identifier) @x (#eq? @x @y))"), None);
        assert_eq!(n("((identifier) @x (#match? @x \"^a\"))"), None);
        // A capture that may be absent: the comparison holds vacuously.
        assert_eq!(n("(call (identifier)? @x (#eq? @x \"a\"))"), None);
        assert_eq!(n("(call [(identifier) (string)] @x (#eq? @x \"a\"))"), None);
        assert_eq!(n("((identifier) @x (#eq? @x \"a\"))+"), None);
        // A capture only another pattern binds is absent in this one's
        // matches: its test holds vacuously, so it requires nothing.
        assert_eq!(
            n("((identifier) @x (#eq? @x \"needle\")) ((string) @m (#eq? @x \"needle\"))"),
            None
        );
        assert_eq!(
            n("((string) @m (#eq? @x \"a\") (#eq? @m \"b\"))"),
            Some(vec!["b".into()])
        );
    }
    use crate::lang::Lang;

    fn names(q: &str) -> Option<Vec<String>> {
        let g = Lang::Python.grammar();
        roots(&g, q).map(|v| {
            let mut n: Vec<String> = v
                .iter()
                .map(|&id| g.node_kind_for_id(id).unwrap_or("").to_string())
                .collect();
            n.dedup();
            n
        })
    }

    #[test]
    fn roots_of_top_level_patterns() {
        assert_eq!(
            names("(assignment left: (identifier) @n (#eq? @n \"DEBUG\")) @match ; c\n(call) @c"),
            Some(vec!["assignment".into(), "call".into()])
        );
        assert_eq!(
            names("((identifier) @x (#match? @x \"^a\"))"),
            Some(vec!["identifier".into()])
        );
        assert_eq!(
            names("[(call) (attribute)] @m"),
            Some(vec!["attribute".into(), "call".into()])
        );
        assert_eq!(names("\"lambda\" @l"), Some(vec!["lambda".into()]));
        // Not followed: the whole tree is searched.
        assert_eq!(names("(_) @any"), None);
        assert_eq!(names("(expression) @e"), None, "a supertype");
        assert_eq!(names("((comment) (function_definition))"), None, "siblings");
        assert_eq!(names("(comment)+ @c"), None, "a quantifier");
        assert_eq!(names("(no_such_kind)"), None);
        assert_eq!(names("(call"), None, "unbalanced");
    }
}

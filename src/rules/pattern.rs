//! Is a regular expression an allow-list for path names? A value that a
//! path-safe pattern matches in full cannot climb out of a directory: it
//! cannot start with a separator and holds no `..`. The check is
//! conservative: anything it does not understand (wildcards, negated
//! classes, look-arounds, back-references) makes the pattern unsafe.

/// One matchable unit of a pattern: can it match `.`, can it match a
/// separator, and may it repeat?
#[derive(Clone, Copy, Default)]
struct Atom {
    dot: bool,
    slash: bool,
    repeats: bool,
    /// First in its alternative (the pattern's start or after a `|`).
    leads: bool,
}

/// How a matching call anchors its pattern.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Anchor {
    /// `re.fullmatch`: the whole value.
    Full,
    /// `re.match`: the start; the end only with `$`.
    Start,
    /// `re.search`, `Regex::is_match`: only what `^` and `$` anchor.
    None,
    /// Not anchored at all (`re.match(P, v, re.M)`: `$` ends a line).
    Never,
}

impl Anchor {
    pub fn parse(s: &str) -> Option<Anchor> {
        match s {
            "full" => Some(Anchor::Full),
            "start" => Some(Anchor::Start),
            "none" => Some(Anchor::None),
            _ => None,
        }
    }
}

/// Does every value that `pattern` matches (anchored as `anchor` says)
/// stay a relative path with no `..` and no leading separator?
pub fn path_safe(pattern: &str, anchor: Anchor) -> bool {
    let mut p = pattern;
    let starts = p.starts_with('^') || p.starts_with("\\A");
    if starts {
        p = p
            .strip_prefix('^')
            .or_else(|| p.strip_prefix("\\A"))
            .unwrap_or(p);
    }
    let ends =
        (p.ends_with('$') && !p.ends_with("\\$")) || p.ends_with("\\Z") || p.ends_with("\\z");
    if ends {
        p = p
            .strip_suffix('$')
            .or_else(|| p.strip_suffix("\\Z"))
            .or_else(|| p.strip_suffix("\\z"))
            .unwrap_or(p);
    }
    let anchored = match anchor {
        Anchor::Full => true,
        Anchor::Start => ends,
        Anchor::None => starts && ends,
        Anchor::Never => false,
    };
    if !anchored || p.is_empty() {
        return false;
    }
    let Some(atoms) = atoms(p) else { return false };
    if atoms.is_empty() {
        return false;
    }
    atoms
        .iter()
        .all(|a| !(a.dot && a.repeats || a.slash && a.leads))
        && atoms.windows(2).all(|w| !(w[0].dot && w[1].dot))
}

/// The pattern's atoms in order, or None when it uses something this
/// check does not model.
fn atoms(p: &str) -> Option<Vec<Atom>> {
    let chars: Vec<char> = p.chars().collect();
    let mut out: Vec<Atom> = vec![];
    // Index in `out` where each open group starts.
    let mut groups: Vec<usize> = vec![];
    let mut leads = true;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let atom = match c {
            '\\' => {
                let e = *chars.get(i + 1)?;
                i += 2;
                match e {
                    'd' | 'w' | 's' => Atom::default(),
                    'D' | 'W' | 'S' => Atom {
                        dot: true,
                        slash: true,
                        ..Default::default()
                    },
                    '.' => Atom {
                        dot: true,
                        ..Default::default()
                    },
                    '/' | '\\' => Atom {
                        slash: true,
                        ..Default::default()
                    },
                    c if c.is_ascii_digit() => return None,
                    'b' | 'B' => continue,
                    'n' | 't' | 'r' | 'f' | 'v' => Atom::default(),
                    // `\x2e`, `\u002f`, `\N{..}`: any character.
                    c if c.is_ascii_alphabetic() => Atom {
                        dot: true,
                        slash: true,
                        ..Default::default()
                    },
                    _ => Atom::default(),
                }
            }
            '[' => {
                let (a, next) = class(&chars, i)?;
                i = next;
                a
            }
            '.' => {
                i += 1;
                Atom {
                    dot: true,
                    slash: true,
                    ..Default::default()
                }
            }
            '(' => {
                if chars.get(i + 1) == Some(&'?') {
                    match chars.get(i + 2) {
                        Some(':') => i += 3,
                        Some('P') if chars.get(i + 3) == Some(&'<') => {
                            let close = chars[i..].iter().position(|&c| c == '>')?;
                            i += close + 1;
                        }
                        _ => return None,
                    }
                } else {
                    i += 1;
                }
                groups.push(out.len());
                continue;
            }
            ')' => {
                let start = groups.pop()?;
                i += 1;
                if let Some(n) = quantifier(&chars, &mut i) {
                    if n {
                        for a in &mut out[start..] {
                            a.repeats = true;
                        }
                    }
                }
                continue;
            }
            '|' => {
                i += 1;
                leads = true;
                continue;
            }
            '^' | '$' => return None,
            '*' | '+' | '?' | '{' => return None,
            c => {
                i += 1;
                Atom {
                    slash: c == '/',
                    dot: false,
                    ..Default::default()
                }
            }
        };
        let mut atom = atom;
        atom.leads = leads;
        leads = false;
        if let Some(true) = quantifier(&chars, &mut i) {
            atom.repeats = true;
        }
        out.push(atom);
    }
    groups.is_empty().then_some(out)
}

/// Consume a quantifier at `i`: Some(true) when it lets the atom repeat,
/// Some(false) for `?` (zero or one), None when there is none.
fn quantifier(chars: &[char], i: &mut usize) -> Option<bool> {
    let q = match chars.get(*i)? {
        '*' | '+' => {
            *i += 1;
            true
        }
        '?' => {
            *i += 1;
            false
        }
        '{' => {
            let close = chars[*i..].iter().position(|&c| c == '}')?;
            let body: String = chars[*i + 1..*i + close].iter().collect();
            *i += close + 1;
            let max = body.rsplit(',').next().unwrap_or("");
            !(max == "0" || max == "1")
        }
        _ => return None,
    };
    // Lazy and possessive suffixes change nothing here.
    if matches!(chars.get(*i), Some('?') | Some('+')) {
        *i += 1;
    }
    Some(q)
}

/// A `[...]` class at `i`: what it can match, and the index after it.
fn class(chars: &[char], mut i: usize) -> Option<(Atom, usize)> {
    i += 1;
    if chars.get(i) == Some(&'^') {
        // A negated class matches nearly everything.
        let end = chars[i..].iter().position(|&c| c == ']')? + i;
        return Some((
            Atom {
                dot: true,
                slash: true,
                ..Default::default()
            },
            end + 1,
        ));
    }
    let mut a = Atom::default();
    let mut first = true;
    let mut prev: Option<char> = None;
    loop {
        let c = *chars.get(i)?;
        if c == ']' && !first {
            return Some((a, i + 1));
        }
        first = false;
        let lit = if c == '\\' {
            let e = *chars.get(i + 1)?;
            i += 2;
            match e {
                'D' | 'W' | 'S' => {
                    a.dot = true;
                    a.slash = true;
                    None
                }
                'd' | 'w' | 's' | 'n' | 't' | 'r' | 'f' | 'v' => None,
                // `\56`, `\x2e`, `\u002f`: an encoded character, any.
                e if e.is_ascii_alphanumeric() => {
                    a.dot = true;
                    a.slash = true;
                    None
                }
                e => Some(e),
            }
        } else if c == '-' && prev.is_some() && chars.get(i + 1).is_some_and(|&n| n != ']') {
            // A range `lo-hi`.
            let lo = prev.unwrap_or('\0');
            let mut hi = chars[i + 1];
            i += 2;
            if hi == '\\' {
                hi = *chars.get(i)?;
                i += 1;
            }
            if (lo..=hi).contains(&'.') {
                a.dot = true;
            }
            if (lo..=hi).contains(&'/') || (lo..=hi).contains(&'\\') {
                a.slash = true;
            }
            prev = None;
            continue;
        } else {
            i += 1;
            Some(c)
        };
        if let Some(l) = lit {
            a.dot |= l == '.';
            a.slash |= l == '/' || l == '\\';
        }
        prev = lit;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_that_cannot_climb() {
        for p in [
            r"^(1x1|4x3)/[a-z0-9-]+\.svg$",
            r"[A-Za-z0-9_-]+",
            r"^[a-z0-9-]+\.svg$",
            r"\w+(\.\w+)?",
            r"[0-9a-f]{32}",
        ] {
            assert!(path_safe(p, Anchor::Full), "{p}");
        }
        assert!(path_safe(r"^[a-z]+$", Anchor::None));
        assert!(path_safe(r"[a-z]+$", Anchor::Start));
    }

    #[test]
    fn patterns_that_let_a_path_out() {
        for p in [
            r"[a-z0-9._-]+", // `..` is two allowed dots
            r".+\.svg",      // wildcard
            r"[^/]+",        // negated class holds `.`
            r"/[a-z]+",      // absolute
            r"(a|/etc)",     // an alternative starts with `/`
            r"[a-z]+\.\.",   // two dots in a row
            r"\S+",          // any non-space
            r"(\.[a-z])+",   // a repeated group with a dot
            r"[+-/]x",       // a range holding `.` and `/`: `./x`, fine, but `/x` too
            r"(?=x)[a-z]+",  // look-ahead: not modelled
        ] {
            assert!(!path_safe(p, Anchor::Full), "{p}");
        }
        // Not anchored at the end, `re.match` accepts `abc/../../x`.
        assert!(!path_safe(r"[a-z]+", Anchor::Start));
        assert!(!path_safe(r"[a-z]+$", Anchor::None));
    }
}

//! Configuration settings a document names (`c.Spawner.disable_user_config = True`,
//! `internal_ssl`, `APP_ALLOW_TOKEN_IN_URL=1`) and what the production code says
//! about them: where the setting is defined and the value it has by default.
//!
//! A setting is a class-level attribute (traitlets `Bool(False).tag(config=True)`,
//! a pydantic settings field, a dataclass default), a module-level upper-case
//! constant (Django settings), or an environment variable: an upper-case string
//! literal handed to a call (`os.environ.get("X", "")`, a project's
//! `_bool_env("X", default=False)`) or used as a subscript key (`os.environ["X"]`).

use crate::extract::{DefKind, Expr};
use crate::link::Index;
use crate::scope::Scope;

use super::refs::Location;

/// A setting as the document writes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Named {
    /// `Spawner` of `Spawner.disable_user_config`.
    pub class: Option<String>,
    pub name: String,
    /// An environment variable (upper case, with an underscore).
    pub env: bool,
    /// Whether it was written as an assignment (`x = True`, `X=1`).
    pub assigned: bool,
}

/// A setting's value by default, as far as a literal says.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Default {
    On,
    Off,
    Unknown,
}

/// Where the code defines a setting, and its default.
#[derive(Clone, Debug)]
pub struct Defined {
    pub at: Location,
    pub default: Default,
    /// The default as written (`False`, `""`), when it is a literal.
    pub literal: Option<String>,
    /// `Class.name` or the variable's name, as found.
    pub what: String,
}

fn ident(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn env_shaped(s: &str) -> bool {
    s.len() >= 4
        && s.contains('_')
        && s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// A code span or code line read as a setting: `c.Class.attr = value`,
/// `Class.attr`, `attr = value`, `ENV_NAME=value`, or a bare `snake_name` /
/// `ENV_NAME`. Anything else (calls, paths, prose) is not one.
pub fn parse(code: &str) -> Option<Named> {
    let code = code.trim().trim_end_matches(';');
    let code = code.strip_prefix("export ").unwrap_or(code);
    let (lhs, assigned) = match code.split_once('=') {
        Some((l, r)) if !r.starts_with('=') && !l.ends_with(['!', '<', '>']) => (l.trim(), true),
        Some(_) => return None,
        None => (code, false),
    };
    let mut parts: Vec<&str> = lhs.split('.').collect();
    if parts.iter().any(|p| !ident(p)) {
        return None;
    }
    // `c.` is the configuration object of a traitlets config file.
    if parts.len() > 1 && parts[0] == "c" {
        parts.remove(0);
    }
    let name = parts.last()?.to_string();
    let class = (parts.len() >= 2)
        .then(|| parts[parts.len() - 2].to_string())
        .filter(|c| c.chars().next().is_some_and(|c| c.is_ascii_uppercase()));
    let env = parts.len() == 1 && env_shaped(&name);
    // A bare capitalised word is a class or a type, not a setting.
    if !assigned
        && class.is_none()
        && !env
        && name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
    {
        return None;
    }
    if parts.len() > 2 && class.is_none() {
        return None;
    }
    Some(Named {
        class,
        name,
        env,
        assigned,
    })
}

/// The truth a literal holds as a setting value.
fn truth(e: &Expr) -> Default {
    match e {
        Expr::Bool(b) => {
            if *b {
                Default::On
            } else {
                Default::Off
            }
        }
        Expr::NoneLit => Default::Off,
        // Only values that read as on or off: `1024` is a size, not a switch.
        Expr::Num(n) => match n.as_str() {
            "0" | "0.0" => Default::Off,
            "1" => Default::On,
            _ => Default::Unknown,
        },
        Expr::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" | "0" | "false" | "no" | "off" | "n" => Default::Off,
            "1" | "true" | "yes" | "on" | "y" => Default::On,
            _ => Default::Unknown,
        },
        Expr::List(v) if v.is_empty() => Default::Off,
        Expr::Dict(v) if v.is_empty() => Default::Off,
        // `_bool_env("X", default=False)`: the call's own default.
        Expr::Call(c) => c
            .args
            .iter()
            .find(|a| a.name.as_deref() == Some("default"))
            .map(|a| truth(&a.value))
            .unwrap_or(Default::Unknown),
        _ => Default::Unknown,
    }
}

/// The expression that gives a class attribute's default: the literal
/// itself, or the first argument (or `default_value=`/`default=`) of the
/// trait or field it is built with (`Bool(False, help=...).tag(config=True)`,
/// `Field(default=...)`). `Err(d)`: no such expression, the default is `d`.
fn default_expr(v: &Expr) -> Result<&Expr, Default> {
    let mut v = v;
    // `.tag(config=True)` and similar chained calls keep the inner value.
    while let Expr::Call(c) = v {
        if let Expr::Attr(a) = &c.func {
            if matches!(a.base, Expr::Call(_)) {
                v = &a.base;
                continue;
            }
        }
        break;
    }
    match v {
        Expr::Call(c) => {
            if let Some(a) = c
                .args
                .iter()
                .find(|a| matches!(a.name.as_deref(), Some("default_value" | "default")))
            {
                return Ok(&a.value);
            }
            match c.args.iter().find(|a| a.name.is_none()) {
                Some(a) => Ok(&a.value),
                // `Bool()`: traitlets' own default is falsy for every trait type.
                None if c
                    .args
                    .iter()
                    .all(|a| a.name.as_deref() != Some("default_factory")) =>
                {
                    Err(Default::Off)
                }
                None => Err(Default::Unknown),
            }
        }
        e => Ok(e),
    }
}

/// A default from its expression: its truth, and the literal as written.
fn judged(e: Result<&Expr, Default>) -> (Default, Option<String>) {
    match e {
        Ok(e) => {
            let literal = matches!(
                e,
                Expr::Bool(_) | Expr::Num(_) | Expr::Str(_) | Expr::NoneLit
            )
            .then(|| match e {
                Expr::Str(s) => format!("{s:?}"),
                Expr::Bool(true) => "True".into(),
                Expr::Bool(false) => "False".into(),
                Expr::NoneLit => "None".into(),
                other => other.display(),
            });
            (truth(e), literal)
        }
        Err(d) => (d, None),
    }
}

/// Where the production code defines `n`, and its default. A name defined
/// in several classes with different defaults (and no class named) has no
/// one default.
pub fn find(idx: &Index, n: &Named) -> Option<Defined> {
    let files = || idx.files.iter().filter(|f| f.scope == Scope::Production);
    if n.env {
        for f in files() {
            for (call, _) in f.each_call() {
                let positional: Vec<&Expr> = call
                    .args
                    .iter()
                    .filter(|a| a.name.is_none())
                    .map(|a| &a.value)
                    .collect();
                if positional.first().and_then(|e| e.as_str()) != Some(n.name.as_str()) {
                    continue;
                }
                let given = call
                    .args
                    .iter()
                    .find(|a| a.name.as_deref() == Some("default"))
                    .map(|a| &a.value)
                    .or(positional.get(1).copied());
                let (default, literal) = match given {
                    Some(e) => judged(Ok(e)),
                    None => {
                        // `os.environ.get("X")` / `os.getenv("X")`: unset is None.
                        let callee = match &call.func {
                            Expr::Name(s, _) => s.as_str(),
                            Expr::Attr(a) => a.name.as_str(),
                            _ => "",
                        };
                        if callee.ends_with("get") || callee.ends_with("getenv") {
                            (Default::Off, Some("unset".into()))
                        } else {
                            (Default::Unknown, None)
                        }
                    }
                };
                return Some(Defined {
                    at: Location {
                        file: f.path.clone(),
                        line: call.pos.line,
                    },
                    default,
                    literal,
                    what: n.name.clone(),
                });
            }
            if let Some(s) = f.subscripts.iter().find(|s| s.key == n.name) {
                return Some(Defined {
                    at: Location {
                        file: f.path.clone(),
                        line: s.pos.line,
                    },
                    default: Default::Unknown,
                    literal: None,
                    what: n.name.clone(),
                });
            }
        }
    }
    // A class attribute: in the class the document names, else in any class.
    let mut named: Option<Defined> = None;
    let mut all: Vec<Defined> = vec![];
    for f in files() {
        for d in &f.defs {
            if d.kind != DefKind::Class {
                continue;
            }
            let class = d.name.rsplit('.').next().unwrap_or(&d.name);
            for &ai in &d.attrs {
                let a = &f.assigns[ai];
                if a.target != n.name {
                    continue;
                }
                let (default, literal) = judged(default_expr(&a.value));
                let found = Defined {
                    at: Location {
                        file: f.path.clone(),
                        line: a.pos.line,
                    },
                    default,
                    literal,
                    what: format!("{class}.{}", n.name),
                };
                if n.class.as_deref() == Some(class) && named.is_none() {
                    named = Some(found.clone());
                }
                all.push(found);
            }
        }
        // A module-level constant (Django settings).
        if n.class.is_none() && n.name.chars().all(|c| !c.is_ascii_lowercase()) {
            if let Some(a) = f
                .assigns
                .iter()
                .find(|a| a.scope.get().is_none() && a.target == n.name)
            {
                let (default, literal) = judged(default_expr(&a.value));
                all.push(Defined {
                    at: Location {
                        file: f.path.clone(),
                        line: a.pos.line,
                    },
                    default,
                    literal,
                    what: n.name.clone(),
                });
            }
        }
    }
    if named.is_some() {
        return named;
    }
    // Else a keyword parameter's default (`def __init__(self, virtual_mode:
    // bool = True)`), in a function of the class the document names when it
    // names one.
    if all.is_empty() && !n.env {
        for f in files() {
            for d in f.defs.iter().filter(|d| d.kind == DefKind::Function) {
                let class = d
                    .parent
                    .map(|p| f.defs[p].name.rsplit('.').next().unwrap_or(""));
                if n.class.is_some() && class != n.class.as_deref() {
                    continue;
                }
                for p in d.params.iter().filter(|p| p.name == n.name) {
                    let Some(v) = &p.default else { continue };
                    let (default, literal) = judged(Ok(v));
                    all.push(Defined {
                        at: Location {
                            file: f.path.clone(),
                            line: d.pos.line,
                        },
                        default,
                        literal,
                        what: format!("{}({}=…)", d.name, n.name),
                    });
                }
            }
        }
    }
    let mut first = all.first()?.clone();
    if all.iter().any(|d| d.default != first.default) {
        first.default = Default::Unknown;
        first.literal = None;
        first.what = format!(
            "{} (defined in {} places with different defaults)",
            first.what,
            all.len()
        );
    }
    Some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_setting_spellings() {
        let p = parse("c.Spawner.disable_user_config = True").unwrap();
        assert_eq!(p.class.as_deref(), Some("Spawner"));
        assert_eq!(p.name, "disable_user_config");
        assert!(p.assigned && !p.env);
        let e = parse("APP_ALLOW_TOKEN_IN_URL=0").unwrap();
        assert!(e.env && e.assigned);
        assert!(parse("internal_ssl").is_some());
        assert!(parse("debug").is_some(), "a one-word setting in code");
        assert!(parse("Spawner").is_none(), "a class is not a setting");
        assert!(parse("os.path.join(a, b)").is_none());
        assert!(parse("a == b").is_none());
        assert!(parse("frame-ancestors: 'none'").is_none());
    }
}

//! The API catalogue (`rules/catalog/*.toml`, `rules/secrets.toml`), embedded in
//! the binary: which resolved names are sinks, guards, rate limiters and
//! framework objects.

use crate::lang::Lang;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize, Default, Clone)]
pub struct Safety {
    pub keyword: Option<String>,
    pub position: Option<usize>,
    /// Read the argument from the receiver's constructor call (`YAML(typ="unsafe").load`).
    #[serde(default)]
    pub constructor: bool,
    #[serde(default)]
    pub safe: Vec<String>,
    #[serde(default)]
    pub unsafe_: Vec<String>,
    #[serde(default, rename = "unsafe")]
    pub unsafe_values: Vec<String>,
    /// Verdict when the argument is absent.
    pub missing: bool,
    /// Verdict when present but in neither list (default: unsafe).
    #[serde(default)]
    pub otherwise: bool,
    #[serde(default)]
    pub missing_reason: String,
    #[serde(default)]
    pub unsafe_reason: String,
}

#[derive(Debug, Deserialize, Clone)]
pub struct SinkSpec {
    pub kind: String,
    pub apis: Vec<String>,
    pub op: Option<String>,
    #[serde(default)]
    pub flags: Vec<String>,
    pub safe: Option<bool>,
    pub reason: Option<String>,
    pub safety: Option<Safety>,
    /// The API may also be passed, uncalled, as the first argument of a
    /// factory whose keyword arguments configure it:
    /// `app.add_middleware(CORSMiddleware, allow_origins=["*"])`.
    #[serde(default)]
    pub via_argument: bool,
    /// Further argument positions that are paths too (`shutil.copy(src,
    /// dst)`, `os.rename(old, new)`): a flow rule with an `argument` checks
    /// these as well.
    #[serde(default)]
    pub also_arguments: Vec<usize>,
    /// Evidence only when the call is given this keyword argument (not
    /// `None`): `create_deep_agent(interrupt_on=...)` gates tool calls,
    /// `create_deep_agent(...)` alone does not.
    #[serde(default)]
    pub requires_keyword: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct Secrets {
    #[serde(default)]
    pub env_apis: Patterns,
    #[serde(default)]
    pub config_subscripts: bool,
    /// Logging calls: a secret-named value among their arguments is a
    /// `secret_logged` fact.
    #[serde(default)]
    pub log_apis: Patterns,
}

/// Where request input comes from and what cleans a file path, for the
/// `[types]`: what library calls return, so that methods called on the
/// result resolve to catalogued APIs (`conn = sqlite3.connect(p)` then
/// `conn.execute` is `sqlite3.Connection.execute`).
#[derive(Debug, Deserialize, Default)]
pub struct Types {
    /// API → the type of its result. A key ending in `()` is the result of
    /// calling a value of that type (`sqlalchemy.orm.sessionmaker()`: what a
    /// configured session factory returns).
    #[serde(default)]
    pub returns: BTreeMap<String, String>,
}

/// data-flow checks of `threatscan scan` (a handler's own parameters are
/// request input too).
#[derive(Debug, Deserialize, Default)]
pub struct Taint {
    /// Framework request objects (`flask.request`): anything read from them is input.
    #[serde(default)]
    pub request_objects: Patterns,
    /// Parameter annotations that cannot carry a path (`int`, `uuid.UUID`, enums).
    #[serde(default)]
    pub safe_types: Patterns,
    /// Safe as a handler's parameter only (Rocket's `PathBuf` segments guard).
    #[serde(default)]
    pub handler_safe_types: Patterns,
    /// Wrappers of application state handed to handlers (actix `web::Data<T>`,
    /// axum `State<T>`/`Extension<T>`, Rocket `&State<T>`): what they hold
    /// was built at start-up, not sent by the client.
    #[serde(default)]
    pub state_types: Patterns,
    /// Methods that change their receiver in place with their arguments
    /// (`PathBuf::set_file_name`, `list.append`): a local given request data
    /// this way carries it.
    #[serde(default)]
    pub mutators: Vec<String>,
    /// Calls whose result is a cleaned path (`os.path.basename`, `secure_filename`).
    #[serde(default)]
    pub path_sanitisers: Patterns,
    /// Calls that pass SQL text through (`sqlalchemy.text(...)`): text built
    /// from request data inside one is still built SQL. Other calls (query
    /// builders, ORM filters) bind their values.
    #[serde(default)]
    pub sql_text_wrappers: Patterns,
    /// `[from, to]` replacements that escape a value for an SQL string
    /// literal (`.replace("'", "''")`: a doubled quote stays in the literal).
    #[serde(default)]
    pub sql_literal_escapes: Vec<[String; 2]>,
    /// Database APIs whose string literals read backslash escapes (MySQL):
    /// doubled quotes do not keep a value inside them (`\'` ends it).
    #[serde(default)]
    pub backslash_escape_sql: Patterns,
    /// Record lookups (`Model.objects.get(pk=pk)`, `get_object_or_404`):
    /// the end of the callee's name. What they return is server data.
    #[serde(default)]
    pub lookups: Vec<String>,
    /// ORM query methods that look records up by field when every argument
    /// is a keyword (`manager.select_related(..).get(id=pk)`,
    /// `query.filter_by(name=n)`): `dict.get(key)` takes its key by
    /// position, so a keyword-only call is a field lookup.
    #[serde(default)]
    pub keyword_lookups: Vec<String>,
    /// Methods that look a value up in their receiver (`d.get(k)`,
    /// `session.query(M).filter(M.id == i).first()`): called on a receiver
    /// that carries no request data, they return server data whatever the
    /// key (a record selected by request data is stored data).
    #[serde(default)]
    pub lookup_methods: Vec<String>,
    /// Directory listings whose elements are entry names (`os.listdir`),
    /// and those whose elements' `entry_name_attrs` are (`Path.iterdir`:
    /// `f.name`): one name each, never `..`, never a `/`.
    #[serde(default)]
    pub entry_names: Patterns,
    #[serde(default)]
    pub entry_objects: Patterns,
    #[serde(default)]
    pub entry_name_attrs: Vec<String>,
    /// Builder methods chained on a sink call whose arguments are part of
    /// what it runs (`Command::new("sh").arg("-c").arg(cmd)`).
    #[serde(default)]
    pub builder_args: Vec<String>,
    /// Calls that ask a person before going on (`click.confirm`,
    /// LangGraph's `interrupt`): what follows them is approved.
    #[serde(default)]
    pub approval_apis: Patterns,
    /// Calls that never return (`flask.abort(404)` raises): a block that
    /// makes one leaves the function.
    #[serde(default)]
    pub exits: Patterns,
    /// Regular-expression matches that test a value (`re.fullmatch(P, v)`):
    /// inside `if` on one, or after `if not` one that leaves the function,
    /// a value matched by a path-safe pattern is confined.
    #[serde(default)]
    pub pattern_checks: Vec<PatternCheck>,
    /// Calls that compile a pattern (`re.compile(P)`), and the methods of
    /// the compiled pattern that test a value, with how they anchor it.
    #[serde(default)]
    pub pattern_compilers: Patterns,
    #[serde(default)]
    pub pattern_methods: BTreeMap<String, String>,
    /// Methods that test whether a path lies under a base
    /// (`p.startswith(base)`, `p.is_relative_to(base)`): a function that
    /// fails (raises, returns `Err`) when one does not hold confines what
    /// it is given.
    #[serde(default)]
    pub containment_methods: Vec<String>,
    /// Methods that raise by themselves when the path is not under the base
    /// (`p.relative_to(base)`).
    #[serde(default)]
    pub containment_raising: Vec<String>,
    /// Of `containment_methods`, those that compare text, not path
    /// components (`str.startswith`): the base must end with a separator.
    #[serde(default)]
    pub prefix_methods: Vec<String>,
    /// Calls and methods that resolve or clean a path (`os.path.realpath`,
    /// `Path.resolve`, `canonicalize`, `clean`): a containment test counts
    /// on their result.
    #[serde(default)]
    pub normalisers: Patterns,
    #[serde(default)]
    pub normalise_methods: Vec<String>,
}

/// A function that matches a value against a pattern.
#[derive(Debug, Deserialize, Clone)]
pub struct PatternCheck {
    pub api: String,
    /// `full`, `start` or `none` (see [`crate::rules::pattern::Anchor`]).
    pub anchor: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct Guards {
    #[serde(default)]
    pub auth: Patterns,
    #[serde(default)]
    pub wrapper_auth: Patterns,
    #[serde(default)]
    pub not_auth: Patterns,
    #[serde(default)]
    pub rate_limit: Patterns,
    #[serde(default)]
    pub containers: Patterns,
    #[serde(default)]
    pub extractor_traits: Vec<String>,
    #[serde(default)]
    pub auth_words: Vec<String>,
    #[serde(default)]
    pub limiter_words: Vec<String>,
    /// Keyword values that make a library guard optional (`auto_error=False`).
    #[serde(default)]
    pub optional_when: BTreeMap<String, toml::Value>,
    /// Set an identity but reject nothing (Starlette's AuthenticationMiddleware).
    #[serde(default)]
    pub identity_only: Patterns,
    /// Extractor traits used only for `Option<T>` parameters
    /// (`OptionalFromRequestParts`): their impls say nothing of `T` alone.
    #[serde(default)]
    pub optional_extractor_traits: Vec<String>,
    /// Rejection types of extractors that never reject (`Infallible`).
    #[serde(default)]
    pub infallible: Patterns,
    /// Keywords of a limiter decorator that name the methods it covers.
    #[serde(default)]
    pub limiter_method_keywords: Vec<String>,
    /// Class attributes that attach guards to every endpoint of the class.
    #[serde(default)]
    pub class_attrs: Vec<ClassAttr>,
    /// Framework-wide guards a settings module sets (DRF's
    /// `REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]`).
    #[serde(default)]
    pub settings_defaults: Vec<SettingsDefault>,
    /// Methods a framework calls on an attached class (middleware, mixin,
    /// permission class) before the endpoint: what such a class does.
    #[serde(default)]
    pub class_entry_methods: Vec<String>,
}

/// A framework default set in a settings module: a module-level
/// `setting = {key: ["pkg.Class", ...]}` guards every class-based view whose
/// hierarchy has a base starting with one of `bases` and that sets no
/// `attr` of its own (`permission_classes = [...]` replaces the default).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsDefault {
    pub setting: String,
    pub key: String,
    pub attr: String,
    pub via: String,
    pub bases: Vec<String>,
    /// Library views (name prefixes) that set no value of `attr` themselves:
    /// served directly (`TokenObtainPairView.as_view()`), the default applies.
    #[serde(default)]
    pub library_views: Vec<String>,
}

/// A class attribute holding guards (`permission_classes = [IsAuthenticated]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassAttr {
    pub name: String,
    /// How the guards are attached (`permission_class`, `decorator`, ...).
    pub via: String,
}

/// What a rejection means: the status class a guard answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectStatus {
    /// 401, 407: no valid credential.
    Unauthorized,
    /// 403: not allowed.
    Forbidden,
    /// 429: too many requests.
    TooMany,
    /// 405: the method is not allowed (a method-restricting wrapper).
    NotAllowed,
    /// The status is an argument of the call (`abort(403)`).
    Argument,
}

/// A catalogued call or exception that rejects a request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectSpec {
    pub status: RejectStatus,
    pub apis: Vec<String>,
}

/// Base classes whose subclasses reject by returning False from a method
/// the framework calls (DRF permissions).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionBase {
    pub apis: Patterns,
    pub methods: Vec<String>,
    pub status: RejectStatus,
}

/// What function summaries ([`crate::summary`]) read as rejecting a request,
/// checking a credential, authorizing and limiting (`[behaviour]`).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    #[serde(default)]
    pub statuses: BTreeMap<String, RejectStatus>,
    #[serde(default)]
    pub status_names: BTreeMap<String, RejectStatus>,
    #[serde(default)]
    pub status_attrs: Vec<String>,
    #[serde(default)]
    pub redirect_apis: Patterns,
    #[serde(default)]
    pub login_words: Vec<String>,
    #[serde(default)]
    pub close_methods: Vec<String>,
    #[serde(default)]
    pub close_receivers: Vec<String>,
    #[serde(default)]
    pub credential_apis: Patterns,
    /// Library views that check a submitted credential (simplejwt's
    /// `TokenObtainPairView`, DRF's `ObtainAuthToken`, Django's
    /// `LoginView`): served directly or subclassed, the route checks one.
    #[serde(default)]
    pub credential_views: Patterns,
    /// Verifiers that raise on a bad credential (`jwt.decode`): the request
    /// fails there unless the caller catches it.
    #[serde(default)]
    pub raising_verifiers: Patterns,
    /// Calls that issue a credential (`login_user`, `jwt.encode`): a handler
    /// that issues one is where credentials are presented (a login), and its
    /// own credential checks are not a guard on it.
    #[serde(default)]
    pub credential_issuers: Patterns,
    /// Name segments and literals of a credential presented in the request
    /// itself (`creds.password`): a handler checking one is a login, not a
    /// guarded endpoint.
    #[serde(default)]
    pub presented_words: Vec<String>,
    #[serde(default)]
    pub credential_sources: Patterns,
    #[serde(default)]
    pub credential_attrs: Vec<String>,
    #[serde(default)]
    pub credential_literals: Vec<String>,
    #[serde(default)]
    pub authz_attrs: Vec<String>,
    /// Error conversions whose status argument is the error returned by `?`:
    /// `.ok_or(StatusCode::UNAUTHORIZED)?`, `.map_err(|_| Status::Forbidden)?`.
    #[serde(default)]
    pub error_combinators: Vec<String>,
    /// Words in the name of an error value that say what failed
    /// (`Err(ErrorType::IncorrectLogin)`): read when no status is literal.
    #[serde(default)]
    pub error_words: BTreeMap<RejectStatus, Vec<String>>,
    #[serde(default)]
    pub reject: Vec<RejectSpec>,
    #[serde(default)]
    pub permission_base: Vec<PermissionBase>,
    /// `reject` compiled for lookup on first use.
    #[serde(skip)]
    reject_lookup: OnceLock<Lookup>,
}

impl Behaviour {
    /// The status of a catalogued rejecting call or exception.
    pub fn reject_for(&self, api: &str) -> Option<RejectStatus> {
        let l = self.reject_lookup.get_or_init(|| {
            Lookup::new(
                self.reject
                    .iter()
                    .enumerate()
                    .flat_map(|(i, r)| r.apis.iter().map(move |p| (p.as_str(), i))),
            )
        });
        l.first(api).map(|i| self.reject[i].status)
    }

    /// The status a literal stands for: `401`, `status.HTTP_403_FORBIDDEN`.
    pub fn status_of_literal(&self, e: &crate::extract::Expr) -> Option<RejectStatus> {
        use crate::extract::Expr;
        match e {
            Expr::Num(n) => self.statuses.get(n.as_str()).copied(),
            Expr::Name(n, _) => {
                let last = n.rsplit(['.', ':']).next().unwrap_or(n);
                self.status_names.get(last).copied()
            }
            Expr::Attr(a) => self.status_names.get(a.name.as_str()).copied(),
            _ => None,
        }
    }
}

/// An entry point other than a route (rules/catalog: `[[entry]]`).
#[derive(Debug, Deserialize, Clone)]
pub struct EntrySpec {
    pub kind: String,
    #[serde(default)]
    pub decorators: Vec<String>,
    #[serde(default)]
    pub calls: Vec<String>,
    /// Only when this positional argument is not a literal (dynamic imports).
    pub dynamic_arg: Option<usize>,
    /// Top-level functions with these names (Rust `fn main`).
    #[serde(default)]
    pub functions: Vec<String>,
    /// For `calls`: the entry point is the function this argument names
    /// (`StructuredTool.from_function(func=run)`: `run`), not the caller.
    /// Position and/or keyword; a call whose argument names no function of
    /// the repository registers nothing.
    pub function_arg: Option<usize>,
    pub function_keyword: Option<String>,
    /// Tool classes: these methods of a class deriving (directly or
    /// through repository classes) from one of `bases`
    /// (`class Search(BaseTool): def _run(...)`).
    #[serde(default)]
    pub bases: Vec<String>,
    #[serde(default)]
    pub methods: Vec<String>,
}

/// `[[attr_flag]]`: an assignment to an attribute of an object of one of
/// `types` (`session.verify = False` on a `requests.Session`) sets that flag
/// for every call the object makes: a fact of `kind` with the flag.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttrFlag {
    pub kind: String,
    pub types: Vec<String>,
    pub flags: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct LangCatalog {
    #[serde(default)]
    pub sink: Vec<SinkSpec>,
    /// Mitigation evidence for the threat model, matched like sinks.
    #[serde(default)]
    pub evidence: Vec<SinkSpec>,
    #[serde(default)]
    pub entry: Vec<EntrySpec>,
    #[serde(default)]
    pub secrets: Secrets,
    #[serde(default)]
    pub guards: Guards,
    #[serde(default)]
    pub frameworks: BTreeMap<String, String>,
    #[serde(default)]
    pub taint: Taint,
    #[serde(default)]
    pub behaviour: Behaviour,
    #[serde(default)]
    pub types: Types,
    /// Flags set on a client object for every call it makes
    /// (`session.verify = False`).
    #[serde(default)]
    pub attr_flag: Vec<AttrFlag>,
    /// `sink`, `sink` with `via_argument`, `evidence` and `entry` calls,
    /// compiled for lookup on first use.
    #[serde(skip)]
    lookups: OnceLock<[Lookup; 4]>,
}

#[derive(Debug, Deserialize)]
pub struct SecretWords {
    pub words: Vec<String>,
    pub except_words: Vec<String>,
    pub placeholder_values: Vec<String>,
}

pub struct Catalog {
    pub python: LangCatalog,
    pub rust: LangCatalog,
    pub secret_words: SecretWords,
}

pub const PYTHON_TOML: &str = include_str!("../rules/catalog/python.toml");
pub const RUST_TOML: &str = include_str!("../rules/catalog/rust.toml");
pub const SECRETS_TOML: &str = include_str!("../rules/secrets.toml");

impl Catalog {
    /// The built-in catalogue. The embedded files are checked by a unit test.
    pub fn builtin() -> &'static Catalog {
        static C: OnceLock<Catalog> = OnceLock::new();
        C.get_or_init(|| Catalog {
            python: toml::from_str(PYTHON_TOML).expect("rules/catalog/python.toml parses"),
            rust: toml::from_str(RUST_TOML).expect("rules/catalog/rust.toml parses"),
            secret_words: toml::from_str(SECRETS_TOML).expect("rules/secrets.toml parses"),
        })
    }

    pub fn lang(&self, l: Lang) -> &LangCatalog {
        match l {
            Lang::Python => &self.python,
            Lang::Rust => &self.rust,
        }
    }

    /// Does `name` look like a secret (`API_SECRET_KEY`, `db_password`), and not like
    /// configuration about one (`TOKEN_URL`)?
    pub fn secret_name(&self, name: &str) -> bool {
        let n = normalise(name.rsplit(['.', ':']).next().unwrap_or(name));
        self.secret_words
            .words
            .iter()
            .any(|w| n.contains(w.as_str()))
            && !self
                .secret_words
                .except_words
                .iter()
                .any(|w| n.contains(w.as_str()))
    }

    pub fn placeholder(&self, value: &str) -> bool {
        let v = value.trim().to_lowercase();
        self.secret_words.placeholder_values.contains(&v) || v.len() < 3
    }

    /// A literal assigned to a secret-named variable that is plainly not a
    /// secret: a placeholder, a URL path or a URL without credentials, or the
    /// name itself / a secret word (`PK_TOKEN = "token"`, `tokenized = "tokenized"`).
    pub fn not_a_secret_value(&self, name: &str, value: &str) -> bool {
        let v = value.trim();
        if self.placeholder(v) {
            return true;
        }
        // URL paths, prose, queries and templates (GraphQL, SQL) are not secrets.
        if v.starts_with('/') || v.contains(char::is_whitespace) {
            return true;
        }
        // A mask or filler: one character repeated (`********`, `AAAA…`).
        let mut chars = v.chars();
        if let Some(c0) = chars.next() {
            if chars.all(|c| c == c0) {
                return true;
            }
        }
        // A dotted import path (`pkg.adapter.TokenStrategy`): configuration
        // naming a class, not a secret.
        let parts: Vec<&str> = v.split('.').collect();
        if parts.len() > 1
            && parts.iter().all(|p| {
                p.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        {
            return true;
        }
        // A short word of letters only (`config`, `mealie`, `MyPassword`): a
        // label, a default or a placeholder, with no entropy to leak.
        if v.len() < 16 && v.chars().all(|c| c.is_ascii_alphabetic()) {
            return true;
        }
        // Identifiers such as error codes: `invalid_token`, `TOKEN_EXPIRED`.
        let words: Vec<&str> = v.split('_').collect();
        if words.len() > 1
            && words.iter().all(|w| {
                !w.is_empty()
                    && (w.chars().all(|c| c.is_ascii_lowercase())
                        || w.chars().all(|c| c.is_ascii_uppercase()))
            })
        {
            return true;
        }
        if let Some((_, rest)) = v.split_once("://") {
            if !rest.split('/').next().unwrap_or("").contains('@') {
                return true;
            }
        }
        let nv = normalise(v);
        nv == normalise(name.rsplit(['.', ':']).next().unwrap_or(name))
            || self.secret_words.words.contains(&nv)
    }
}

/// Lower-case with `_` and `-` removed: `API_Secret-Key` → `apisecretkey`.
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    normalise_into(name, &mut out);
    out
}

/// [`normalise`] into `out` (cleared first).
fn normalise_into(name: &str, out: &mut String) {
    out.clear();
    if name.is_ascii() {
        out.extend(
            name.bytes()
                .filter(|b| *b != b'_' && *b != b'-')
                .map(|b| b.to_ascii_lowercase() as char),
        );
    } else {
        out.extend(
            name.chars()
                .filter(|c| *c != '_' && *c != '-')
                .flat_map(char::to_lowercase),
        );
    }
}

/// Catalogue name match: exact; `a.b.*` matches one more segment (`a.b.get`,
/// not `a.b.get.read`); `a.**` matches anything below `a.`.
pub fn matches(pattern: &str, name: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix("**") {
        return name.starts_with(prefix);
    }
    match pattern.strip_suffix('*') {
        Some(prefix) => name
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && !rest.contains(['.', ':'])),
        None => pattern == name,
    }
}

/// Catalogue patterns compiled for lookup: a hash probe for exact names, one
/// for `a.b.*` (the name's parent), one per separator for `a.**`; patterns of
/// any other shape are tried one by one. Each pattern carries the index of
/// the entry it belongs to, and the lowest matching index wins, exactly as a
/// scan of the entries in order with [`matches`] would.
#[derive(Debug, Default)]
struct Lookup {
    exact: rustc_hash::FxHashMap<String, usize>,
    /// `a.b.*` by `a.b.`
    child: rustc_hash::FxHashMap<String, usize>,
    /// `a.**` by `a.`
    below: rustc_hash::FxHashMap<String, usize>,
    other: Vec<(String, usize)>,
    /// First segments (up to the first `.` or `:`) of every exact, child and
    /// below pattern: a name whose first segment is not here can only match
    /// `other`. Most names a repository calls are its own and miss here.
    heads: rustc_hash::FxHashSet<String>,
}

/// The first segment of a name: up to its first `.` or `:`.
fn head(name: &str) -> &str {
    &name[..memchr::memchr2(b'.', b':', name.as_bytes()).unwrap_or(name.len())]
}

impl Lookup {
    fn new<'p>(patterns: impl Iterator<Item = (&'p str, usize)>) -> Lookup {
        let mut l = Lookup::default();
        let ends_at_sep = |p: &str| p.ends_with(['.', ':']);
        for (p, i) in patterns {
            let (map, key) = if let Some(pre) = p.strip_suffix("**").filter(|x| ends_at_sep(x)) {
                (&mut l.below, pre)
            } else if let Some(pre) = p
                .strip_suffix('*')
                .filter(|x| ends_at_sep(x) && !x.ends_with('*'))
            {
                (&mut l.child, pre)
            } else if p.contains('*') {
                l.other.push((p.to_string(), i));
                continue;
            } else {
                (&mut l.exact, p)
            };
            l.heads.insert(head(key).to_string());
            let slot = map.entry(key.to_string()).or_insert(i);
            *slot = (*slot).min(i);
        }
        l
    }

    fn first(&self, name: &str) -> Option<usize> {
        if !self.heads.contains(head(name)) {
            return self
                .other
                .iter()
                .filter(|(p, _)| matches(p, name))
                .map(|&(_, i)| i)
                .min();
        }
        let mut best = self.exact.get(name).copied();
        let mut take = |i: Option<usize>| {
            if let Some(i) = i {
                best = Some(best.map_or(i, |b| b.min(i)));
            }
        };
        let bytes = name.as_bytes();
        if let Some(cut) = memchr::memrchr2(b'.', b':', bytes) {
            if cut + 1 < name.len() {
                take(self.child.get(&name[..=cut]).copied());
            }
        }
        if !self.below.is_empty() {
            for cut in memchr::memchr2_iter(b'.', b':', bytes) {
                take(self.below.get(&name[..=cut]).copied());
            }
        }
        for (p, i) in &self.other {
            if matches(p, name) {
                take(Some(*i));
            }
        }
        best
    }
}

pub fn any_match(patterns: &[String], name: &str) -> Option<String> {
    patterns.iter().find(|p| matches(p, name)).cloned()
}

/// A catalogue list of API name patterns, compiled into a [`Lookup`] on
/// first use: [`Patterns::first`] picks what `any_match` over the list would.
#[derive(Debug, Default, Deserialize)]
#[serde(from = "Vec<String>")]
pub struct Patterns {
    list: Vec<String>,
    lookup: OnceLock<Lookup>,
}

impl From<Vec<String>> for Patterns {
    fn from(list: Vec<String>) -> Self {
        Patterns {
            list,
            lookup: OnceLock::new(),
        }
    }
}

impl std::ops::Deref for Patterns {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.list
    }
}

impl Patterns {
    /// The first pattern in the list that matches `name`.
    pub fn first(&self, name: &str) -> Option<&str> {
        let lookup = self.lookup.get_or_init(|| {
            Lookup::new(self.list.iter().enumerate().map(|(i, p)| (p.as_str(), i)))
        });
        lookup.first(name).map(|i| self.list[i].as_str())
    }
}

impl LangCatalog {
    fn lookups(&self) -> &[Lookup; 4] {
        self.lookups.get_or_init(|| {
            let specs = |list: &[SinkSpec], pick: fn(&SinkSpec) -> bool| {
                Lookup::new(
                    list.iter()
                        .enumerate()
                        .filter(|(_, s)| pick(s))
                        .flat_map(|(i, s)| s.apis.iter().map(move |p| (p.as_str(), i))),
                )
            };
            [
                specs(&self.sink, |_| true),
                specs(&self.sink, |s| s.via_argument),
                specs(&self.evidence, |_| true),
                Lookup::new(
                    self.entry
                        .iter()
                        .enumerate()
                        .flat_map(|(i, e)| e.calls.iter().map(move |p| (p.as_str(), i))),
                ),
            ]
        })
    }

    /// The first sink (in catalogue order) with a pattern matching `api`.
    pub fn sink_for(&self, api: &str) -> Option<&SinkSpec> {
        self.lookups()[0].first(api).map(|i| &self.sink[i])
    }

    /// A sink that may be passed as a factory's first argument.
    pub fn argument_sink_for(&self, api: &str) -> Option<&SinkSpec> {
        self.lookups()[1].first(api).map(|i| &self.sink[i])
    }

    pub fn evidence_for(&self, api: &str) -> Option<&SinkSpec> {
        self.lookups()[2].first(api).map(|i| &self.evidence[i])
    }

    pub fn entry_call_for(&self, api: &str) -> Option<&EntrySpec> {
        self.lookups()[3].first(api).map(|i| &self.entry[i])
    }

    pub fn entry_decorator_for(&self, api: &str) -> Option<&EntrySpec> {
        self.entry
            .iter()
            .find(|s| s.decorators.iter().any(|p| matches(p, api)))
    }

    pub fn words_match(words: &[String], name: &str) -> Option<String> {
        // Asked for every definition: normalise into a reused buffer.
        thread_local! {
            static BUF: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        BUF.with(|buf| {
            let mut n = buf.borrow_mut();
            normalise_into(name, &mut n);
            words.iter().find(|w| n.contains(w.as_str())).cloned()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_lookup_agrees_with_matching_in_order() {
        let c = Catalog::builtin();
        let mut names = vec![];
        let mut patterns = vec![];
        for lc in [&c.python, &c.rust] {
            for s in lc.sink.iter().chain(&lc.evidence) {
                patterns.extend(s.apis.iter().cloned());
            }
            let g = &lc.guards;
            for list in [
                &g.auth,
                &g.wrapper_auth,
                &g.not_auth,
                &g.rate_limit,
                &g.containers,
                &lc.secrets.env_apis,
                &lc.secrets.log_apis,
                &lc.taint.path_sanitisers,
            ] {
                patterns.extend(list.iter().cloned());
            }
        }
        // Names of the repository's own, which no pattern's first segment covers.
        names.extend([
            "pkg.mod.func".into(),
            "crate::api::handler".into(),
            "x".into(),
        ]);
        // Odd shapes the catalogue does not use yet take the slow path.
        patterns.extend([
            "foo_*".into(),
            "x.y*z".into(),
            "a.**".into(),
            "a.b.*".into(),
        ]);
        for p in &patterns {
            let stem = p.trim_end_matches('*');
            for tail in ["", "get", "get.read", "x::y", "::new", "_bar"] {
                names.push(format!("{stem}{tail}"));
            }
            names.push(p.clone());
            if let Some((head, _)) = stem.rsplit_once(['.', ':']) {
                names.push(head.to_string());
            }
        }
        let lookup = Lookup::new(
            patterns
                .iter()
                .enumerate()
                .map(|(i, p)| (p.as_str(), i / 3)),
        );
        let mut hits = 0;
        for n in &names {
            let scan = patterns.iter().position(|p| matches(p, n)).map(|i| i / 3);
            assert_eq!(lookup.first(n), scan, "{n}");
            hits += scan.is_some() as usize;
        }
        let list = Patterns::from(patterns.clone());
        for n in &names {
            assert_eq!(list.first(n), any_match(&patterns, n).as_deref(), "{n}");
        }
        assert!(hits > names.len() / 5, "{hits} of {}", names.len());
    }

    #[test]
    fn embedded_catalogues_parse_and_are_non_empty() {
        let c = Catalog::builtin();
        assert!(c.python.sink.len() > 5 && c.rust.sink.len() > 5);
        assert!(c.python.sink_for("yaml.load").is_some());
        assert!(c.python.sink_for("requests.Session.get").is_some());
        assert!(c.python.sink_for("yaml.dump").is_none());
        assert!(c.rust.sink_for("std::process::Command::new").is_some());
    }

    #[test]
    fn secret_names() {
        let c = Catalog::builtin();
        assert!(c.secret_name("API_SECRET_KEY"));
        assert!(c.secret_name("db_password"));
        assert!(!c.secret_name("TOKEN_URL"));
        assert!(!c.secret_name("username"));
    }
}

#!/usr/bin/env python3
"""Score threatscan's routes and guards on a checkout against hand-checked truth.

    python3 tests/real-world/score.py TRUTH.json CHECKOUT [--bin PATH] [--facts FILE] [--json]

TRUTH.json follows tests/real-world/README.md. The checkout must be at the truth's
pinned commit (checked when CHECKOUT is a git work tree). threatscan is run as
`BIN facts CHECKOUT --format json` unless --facts gives its output already.

Prints routes found (by normalised pattern), found with the right method, invented
(reported in a `complete_files` file but not in the truth), and among the routes found
with the right method: auth agreement (required / optional / none) and rate-limit
agreement, listing every disagreement. Exit 0 always (it measures; it does not gate)
unless the input is unusable (exit 2).
"""

import argparse
import json
import re
import subprocess
import sys

PARAM = re.compile(
    r"\{[^{}]*\}"  # {id} {id:int} {*rest}
    r"|<[^<>]*>"  # <id> <int:id> <path..>
    r"|(?<=/):[A-Za-z_][A-Za-z0-9_]*\*?"  # :id
    r"|(?<=/)\*[A-Za-z_][A-Za-z0-9_]*"  # *rest
    r"|\(\?P<[^>]+>[^)]*\)"  # (?P<id>[0-9]+)
)


def norm_pattern(p: str) -> str:
    p = p.strip()
    if p.startswith("^"):
        p = p[1:]
    if p.endswith("$"):
        p = p[:-1]
    p = PARAM.sub("{}", p)
    if not p.startswith("/"):
        p = "/" + p
    p = re.sub(r"/+", "/", p)
    if len(p) > 1 and p.endswith("/"):
        p = p[:-1]
    return p


def variants(route: dict) -> list[str]:
    """A route's normalised pattern, and, when parts of it could not be
    evaluated (`unresolved`, shown as `{name}`), the pattern with those parts
    empty: the truth records the default configuration."""
    p = route.get("pattern", "")
    out = [norm_pattern(p)]
    # A router nobody is seen mounting has no known path at all.
    if unknown_mount(route):
        return out
    unresolved = route.get("unresolved") or []
    if unresolved:
        q = p
        for name in unresolved:
            q = q.replace("{" + name + "}", "")
        out.append(norm_pattern(q))
    return list(dict.fromkeys(out))


def unknown_mount(route: dict) -> bool:
    """threatscan says it does not know where the route's router is mounted."""
    return any(u.startswith("mount point of ") for u in route.get("unresolved") or [])


def auth_state(route: dict) -> str:
    guards = route.get("auth") or []
    if not guards:
        return "none"
    if any(g.get("required", True) for g in guards):
        return "required"
    return "optional"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("truth")
    ap.add_argument("checkout")
    ap.add_argument("--bin", default="target/release/threatscan")
    ap.add_argument("--facts", help="facts JSON already produced (skips running threatscan)")
    ap.add_argument("--json", action="store_true", help="print the scores as JSON")
    ap.add_argument("--quiet", action="store_true", help="scores only, no disagreements")
    a = ap.parse_args()

    try:
        truth = json.load(open(a.truth))
    except (OSError, ValueError) as e:
        print(f"score.py: cannot read {a.truth}: {e}", file=sys.stderr)
        return 2
    head = subprocess.run(
        ["git", "-C", a.checkout, "rev-parse", "HEAD"], capture_output=True, text=True
    )
    if head.returncode == 0 and truth.get("commit") and head.stdout.strip() != truth["commit"]:
        print(
            f"score.py: warning: checkout is at {head.stdout.strip()[:12]}, "
            f"truth at {truth['commit'][:12]}",
            file=sys.stderr,
        )
    if a.facts:
        facts = json.load(open(a.facts))
    else:
        run = subprocess.run(
            [a.bin, "facts", a.checkout, "--format", "json"], capture_output=True, text=True
        )
        if run.returncode != 0:
            print(f"score.py: threatscan failed: {run.stderr.strip()}", file=sys.stderr)
            return 2
        facts = json.loads(run.stdout)

    reported = [f for f in facts["facts"] if f["kind"] == "route"]
    by_pattern: dict[str, list[dict]] = {}
    for r in reported:
        for p in variants(r):
            by_pattern.setdefault(p, []).append(r)

    routes = truth["routes"]
    found = right_method = 0
    auth_ok = auth_n = limit_ok = limit_n = 0
    problems: list[str] = []
    matched_ids: set[int] = set()
    for t in routes:
        p = norm_pattern(t["pattern"])
        cands = by_pattern.get(p, [])
        label = f"{t['method']} {t['pattern']} ({t.get('file', '?')}:{t.get('line', '?')})"
        if not cands:
            problems.append(f"missing    {label}")
            continue
        found += 1
        want = t["method"].upper()
        hits = [r for r in cands if want in r.get("methods", []) or "ANY" in r.get("methods", [])]
        if want == "ANY":
            hits = [r for r in cands if "ANY" in r.get("methods", [])]
        if not hits:
            got = sorted({m for r in cands for m in r.get("methods", [])})
            problems.append(f"method     {label}: reported {','.join(got)}")
            continue
        right_method += 1
        for r in hits:
            matched_ids.add(id(r))
        # Several registrations of one (method, pattern): the first one served wins;
        # threatscan marks shadowed ones, else take the strictest reading.
        live = [r for r in hits if not r.get("shadowed")] or hits
        got_auth = {auth_state(r) for r in live}
        got_auth = "required" if "required" in got_auth else ("optional" if "optional" in got_auth else "none")
        auth_n += 1
        # A verdict that depends on configuration (`auth_if_configured`) is
        # right either way.
        if got_auth == t["auth"] or got_auth == t.get("auth_if_configured"):
            auth_ok += 1
        else:
            names = sorted({g.get("symbol", "?") for r in live for g in (r.get("auth") or [])})
            problems.append(
                f"auth       {label}: truth {t['auth']}, reported {got_auth}"
                + (f" [{', '.join(names)}]" if names else "")
                + (f" -- {t['why']}" if t.get("why") else "")
            )
        got_limit = any(r.get("rate_limit") for r in live)
        limit_n += 1
        if got_limit == bool(t.get("rate_limited")):
            limit_ok += 1
        else:
            problems.append(
                f"rate-limit {label}: truth {bool(t.get('rate_limited'))}, reported {got_limit}"
            )

    complete = set(truth.get("complete_files", []))
    truth_keys = {(t["method"].upper(), norm_pattern(t["pattern"])) for t in routes}
    truth_patterns = {norm_pattern(t["pattern"]) for t in routes}
    invented = 0
    in_scope = 0
    unmounted = 0
    for r in reported:
        if r["file"] not in complete or r.get("shadowed"):
            continue
        # Reported with an unknown mount point: neither a claim of a path
        # (not invented) nor a route found (the truth's path is not matched).
        if unknown_mount(r):
            unmounted += len(r.get("methods", []))
            problems.append(f"unmounted  {','.join(r.get('methods', []))} {r.get('pattern')} ({r['file']}:{r['line']})")
            continue
        for m in r.get("methods", []):
            in_scope += 1
            keys = [(m, p) for p in variants(r)]
            if any(k in truth_keys or (m == "ANY" and k[1] in truth_patterns) or ("ANY", k[1]) in truth_keys for k in keys):
                continue
            invented += 1
            problems.append(f"invented   {m} {r.get('pattern')} ({r['file']}:{r['line']})")

    n = len(routes)
    pct = lambda a, b: (100.0 * a / b) if b else 100.0
    scores = {
        "project": truth.get("project"),
        "routes": n,
        "found": found,
        "found_pct": round(pct(found, n), 1),
        "right_method": right_method,
        "right_method_pct": round(pct(right_method, n), 1),
        "invented": invented,
        "reported_in_complete_files": in_scope,
        "invented_pct": round(pct(invented, in_scope), 1) if in_scope else 0.0,
        "unknown_mount": unmounted,
        "auth_agree": auth_ok,
        "auth_checked": auth_n,
        "auth_pct": round(pct(auth_ok, auth_n), 1),
        "rate_limit_agree": limit_ok,
        "rate_limit_checked": limit_n,
        "rate_limit_pct": round(pct(limit_ok, limit_n), 1),
    }
    if a.json:
        print(json.dumps(scores, indent=2))
    else:
        print(
            f"{scores['project']}: {n} routes; found {found} ({scores['found_pct']}%), "
            f"right method {right_method} ({scores['right_method_pct']}%), "
            f"invented {invented} of {in_scope} ({scores['invented_pct']}%)"
            + (f", {unmounted} with an unknown mount point" if unmounted else "")
            + "; "
            f"auth {auth_ok}/{auth_n} ({scores['auth_pct']}%), "
            f"rate limit {limit_ok}/{limit_n} ({scores['rate_limit_pct']}%)"
        )
    if not a.quiet:
        for p in problems:
            print("  " + p)
    return 0


if __name__ == "__main__":
    sys.exit(main())

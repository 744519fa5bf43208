#!/usr/bin/env python3
"""Score threatscan verify's claim verdicts against a hand-judged threat model.

    python3 tests/real-world/claims.py TRUTH.json CODE_CHECKOUT [--doc-checkout DIR]
        [--bin PATH] [--verify FILE] [--quiet]

TRUTH.json follows tests/real-world/README.md ("Claims"). The document is read from
DOC_CHECKOUT/<document> (DOC_CHECKOUT defaults to CODE_CHECKOUT: the threat model lives
in the code's repository). threatscan runs as `BIN verify DOC --repo CODE_CHECKOUT
--format json --fail-on never` unless --verify gives its output already.

Per judged line of the truth, threatscan's verdict on that line is:
  - for a `code_reference` entry, the references on the line (a missing or
    outside-repo one: contradicted; all resolved: supported);
  - otherwise the claims on the line (of the same kind when one matches): contradicted
    when any is, else supported when any is, else unverified when any claim is there,
    else none.
A truth verdict `not_judged` (recommendations, non-claims) is right when threatscan gives
no decisive verdict on that line; `unverified` is right when threatscan gives none or
`unverified`; `supported`/`contradicted` must match. Also counted: decisive verdicts on
lines the truth does not list (extra), and decisive verdicts whose evidence is all in
non-production code (tests, examples, demos, docs, benchmarks).

Prints right / wrong / total per document and per truth verdict, with every wrong line;
also how many of threatscan's decisive verdicts (supported, contradicted) on judged lines
are right, and on how many lines the truth decides but threatscan does not (abstained).
Exit 0 always unless the input is unusable (exit 2).
"""

import argparse
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict

# Truth kinds and threatscan's mitigation names that mean the same thing.
ALIASES = {
    "safe_deserialization": {"safe_deserialisation", "safe_deserialization"},
    "rate_limiting": {"rate_limiting"},
    "authentication": {"authentication", "authorization"},
    "authorization": {"authorization", "authentication", "roles", "per_resource_authorization", "human_approval"},
    "path_confinement": {"path_normalisation"},
    "network_exposure": {"network_service"},
    "isolation": {"sandboxing"},
    "output_sanitization": {"content_sanitisation"},
    "output_filtering": {"content_sanitisation"},
}

NON_PRODUCTION = re.compile(
    r"(^|/)(tests?|testing|examples?|demos?|docs?|benches|benchmarks?|e2e|fixtures|smoke[^/]*|conftest\.py|test_[^/]*\.py|[^/]*_test\.py)(/|$)"
)


def line_verdict(claims, refs, kind):
    if kind == "code_reference":
        if not refs:
            return None
        if any(r.get("status") in ("missing", "outside-repo") for r in refs):
            return "contradicted"
        if all(r.get("status") == "resolved" for r in refs):
            return "supported"
        return "unverified"
    cands = [c for c in claims if c.get("status") in ("supported", "contradicted", "unverified")]
    same = [c for c in cands if c.get("mitigation") in ALIASES.get(kind, {kind})]
    if same:
        cands = same
    st = {c["status"] for c in cands}
    for v in ("contradicted", "supported", "unverified"):
        if v in st:
            return v
    return None


def right(truth, ours):
    if truth == "not_judged":
        return ours in (None, "unverified")
    if truth == "unverified":
        return ours in (None, "unverified")
    return ours == truth


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("truth")
    ap.add_argument("code")
    ap.add_argument("--doc-checkout")
    ap.add_argument("--bin", default="target/release/threatscan")
    ap.add_argument("--verify")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    try:
        truth = json.load(open(a.truth))
    except (OSError, ValueError) as e:
        print(f"{a.truth}: {e}", file=sys.stderr)
        return 2
    doc = os.path.join(a.doc_checkout or a.code, truth["document"])
    if a.verify:
        out = json.load(open(a.verify))
    else:
        p = subprocess.run(
            [a.bin, "verify", doc, "--repo", a.code, "--format", "json", "--fail-on", "never"],
            capture_output=True,
            text=True,
        )
        if p.returncode != 0:
            print(f"verify failed ({p.returncode}): {p.stderr.strip()}", file=sys.stderr)
            return 2
        out = json.loads(p.stdout)
    d = out["documents"][0]
    claims = defaultdict(list)
    for c in d.get("claims", []):
        # A claim covers its sentence's lines (a wrapped list item).
        first, last = c.get("sentence_lines", (c["line"], c["line"]))
        for ln in sorted({c["line"], *range(first, last + 1)}):
            claims[ln].append(c)
    refs = defaultdict(list)
    for r in d.get("references", []):
        refs[r["line"]].append(r)
    tally = Counter()
    by = defaultdict(Counter)
    wrong = []
    listed = set()
    for t in truth["claims"]:
        ln = t["line"]
        listed.add(ln)
        ours = line_verdict(claims[ln], refs[ln], t.get("kind", ""))
        ok = right(t["verdict"], ours)
        tally["right" if ok else "wrong"] += 1
        by[t["verdict"]]["right" if ok else "wrong"] += 1
        if ours in ("supported", "contradicted"):
            tally["decisive"] += 1
            tally["decisive right"] += ok
        elif t["verdict"] in ("supported", "contradicted"):
            tally["abstained"] += 1
        if not ok:
            got = [f"{c['mitigation']}:{c['polarity']}:{c['status']}" for c in claims[ln]]
            wrong.append(
                f"  line {ln}: truth {t.get('kind', '-')} {t['polarity']} {t['verdict']}, "
                f"threatscan {ours or 'nothing'} {got} — {t.get('reason', '')[:100]}"
            )
    extra = []
    for ln, cs in sorted(claims.items()):
        if ln in listed:
            continue
        dec = [c for c in cs if c["status"] in ("supported", "contradicted")]
        if dec:
            extra.append(f"  line {ln}: {[c['mitigation'] + ':' + c['status'] for c in dec]}")
    nonprod = []
    for ln, cs in sorted(claims.items()):
        for c in cs:
            ev = [e["file"] for e in c.get("evidence", [])]
            if c["status"] in ("supported", "contradicted") and ev and all(NON_PRODUCTION.search(f) for f in ev):
                nonprod.append(f"  line {ln}: {c['mitigation']} {c['status']} on {ev[:3]}")
    total = tally["right"] + tally["wrong"]
    name = os.path.basename(a.truth)[:-5]
    pct = 100.0 * tally["right"] / total if total else 0.0
    print(
        f"{name}: {tally['right']}/{total} right ({pct:.1f} %), {tally['wrong']} wrong; "
        + ", ".join(f"{k} {v['right']}/{v['right'] + v['wrong']}" for k, v in sorted(by.items()))
        + f"; decisive {tally['decisive right']}/{tally['decisive']} right, abstained on {tally['abstained']}"
        + f"; extra decisive {len(extra)}; non-production evidence {len(nonprod)}"
    )
    if not a.quiet:
        for w in wrong:
            print(w)
        if extra:
            print(" decisive verdicts on lines the truth does not list:")
            print("\n".join(extra))
        if nonprod:
            print(" decisive verdicts resting only on non-production code:")
            print("\n".join(nonprod))
    return 0


if __name__ == "__main__":
    sys.exit(main())

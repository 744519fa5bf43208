#!/usr/bin/env python3
"""Score `threatscan scan` against hand triage of real projects.

Usage: triage.py CHECKOUTS [BIN]

CHECKOUTS holds one checkout per project, named as the triage file
(`tests/real-world/triage/<project>.json`), at the commit the file pins.
For each project this runs `BIN scan <checkout> --format json --fail-on never`,
keeps findings at warning or error, and matches them to the triage by rule
and file:line. It prints, per project: findings, TP, FP, by-design,
untriaged, precision TP/(TP+FP), and the triaged true positives that are no
longer reported (lost). Exit 1 if a checkout is at another commit.
"""
import json
import pathlib
import subprocess
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    root = pathlib.Path(sys.argv[1])
    binary = sys.argv[2] if len(sys.argv) > 2 else "threatscan"
    here = pathlib.Path(__file__).resolve().parent / "triage"
    total = {"findings": 0, "TP": 0, "FP": 0, "by-design": 0, "untriaged": 0}
    # The same without workflow and manifest rules (TS6xxx): source code only.
    code = dict(total)
    bad = False
    print(f"{'project':<16} {'findings':>8} {'TP':>4} {'FP':>4} {'design':>6} {'new?':>5} {'precision':>9}")
    for f in sorted(here.glob("*.json")):
        t = json.loads(f.read_text())
        co = root / t["project"]
        if not co.is_dir():
            print(f"{t['project']:<16} (no checkout at {co})")
            continue
        head = subprocess.run(["git", "-C", str(co), "rev-parse", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        if head and head != t["commit"]:
            print(f"{t['project']:<16} checkout at {head[:12]}, triage pins {t['commit'][:12]}")
            bad = True
            continue
        out = subprocess.run([binary, "scan", str(co), "--format", "json", "--fail-on", "never"],
                             capture_output=True, text=True)
        got = json.loads(out.stdout)["findings"]
        got = [g for g in got if not g.get("suppressed") and g["level"] in ("warning", "error")]
        verdicts = {(x["rule"], x["location"]): x["verdict"] for x in t["findings"]}
        # Workflow and manifest findings (TS6xxx) are triaged apart, in
        # triage/workflows/<project>.json, when pinned to the same commit.
        wf = here / "workflows" / f.name
        if wf.is_file():
            w = json.loads(wf.read_text())
            if w["commit"] == t["commit"]:
                verdicts.update({(x["rule"], x["location"]): x["verdict"] for x in w["findings"]
                                 if x["level"] in ("warning", "error")})
        c = {"TP": 0, "FP": 0, "by-design": 0, "untriaged": 0}
        seen = set()
        for g in got:
            key = (g["rule_id"], f"{g['file']}:{g['line']}")
            seen.add(key)
            v = verdicts.get(key, "untriaged")
            c[v] += 1
            if not g["rule_id"].startswith("TS6"):
                code["findings"] += 1
                code[v] += 1
        lost = [k for k, v in verdicts.items() if v == "TP" and k not in seen]
        lost += [(x["rule"], x["location"]) for x in t.get("dropped_true_positives", [])
                 if (x["rule"], x["location"]) not in seen]
        p = c["TP"] / (c["TP"] + c["FP"]) if c["TP"] + c["FP"] else None
        print(f"{t['project']:<16} {len(got):>8} {c['TP']:>4} {c['FP']:>4} {c['by-design']:>6} "
              f"{c['untriaged']:>5} {('%.0f %%' % (100 * p)) if p is not None else '—':>9}")
        for k in lost:
            print(f"    lost true positive: {k[0]} {k[1]}")
        total["findings"] += len(got)
        for k in c:
            total[k] += c[k]
    p = total["TP"] / (total["TP"] + total["FP"]) if total["TP"] + total["FP"] else None
    print(f"{'all':<16} {total['findings']:>8} {total['TP']:>4} {total['FP']:>4} "
          f"{total['by-design']:>6} {total['untriaged']:>5} "
          f"{('%.0f %%' % (100 * p)) if p is not None else '—':>9}")
    p = code["TP"] / (code["TP"] + code["FP"]) if code["TP"] + code["FP"] else None
    print(f"{'code rules':<16} {code['findings']:>8} {code['TP']:>4} {code['FP']:>4} "
          f"{code['by-design']:>6} {code['untriaged']:>5} "
          f"{('%.0f %%' % (100 * p)) if p is not None else '—':>9}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

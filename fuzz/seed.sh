#!/usr/bin/env bash
# Seed fuzz/corpus/<target>/ from the test fixtures (the corpus is not
# committed). Usage: bash fuzz/seed.sh, then e.g.
#   cargo +nightly fuzz run python -- -max_total_time=1800 -rss_limit_mb=2048 -timeout=10
set -euo pipefail
cd "$(dirname "$0")/.."
for t in python rust markdown tm7 rules baseline workflow; do mkdir -p "fuzz/corpus/$t"; done
find tests/fixtures -name '*.py' -size -64k -exec cp -t fuzz/corpus/python {} + 2>/dev/null || true
find tests/fixtures -name '*.rs' -size -64k -exec cp -t fuzz/corpus/rust {} + 2>/dev/null || true
find tests/fixtures docs -name '*.md' -size -64k -exec cp -t fuzz/corpus/markdown {} + 2>/dev/null || true
find tests/fixtures -name '*.tm7' -size -256k -exec cp -t fuzz/corpus/tm7 {} + 2>/dev/null || true
cp rules/scan/*.toml rules/frameworks/*.toml fuzz/corpus/rules/ 2>/dev/null || true
find tests/fixtures -name '*.toml' -exec cp -t fuzz/corpus/rules {} + 2>/dev/null || true
find tests/fixtures \( -name '*.yml' -o -name '*.yaml' \) -exec cp -t fuzz/corpus/workflow {} + 2>/dev/null || true
find tests/fixtures -name '*.sarif' -exec cp -t fuzz/corpus/baseline {} + 2>/dev/null || true
# A baseline seed made by the tool itself.
if command -v threatscan >/dev/null; then
  threatscan scan tests/fixtures/scan_app --format sarif --fail-on never > fuzz/corpus/baseline/scan_app.sarif || true
fi

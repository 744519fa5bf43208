#!/usr/bin/env bash
# Score every claims truth file against checkouts in a directory.
#   tests/real-world/claims-all.sh /tmp/rw [target/release/threatscan] [--quiet]
# The code checkout is DIR/<name of code_repo>, the document's DIR/<name of
# document_repo>, each at the commit the truth file pins.
set -u
dir=${1:?usage: claims-all.sh CHECKOUTS_DIR [THREATSCAN] [--quiet]}
bin=${2:-target/release/threatscan}
quiet=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
for t in "$here"/claims/*.json; do
  read -r code docrepo < <(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); n=lambda u: u.rstrip('/').rsplit('/',1)[-1]; print(n(d['code_repo']), n(d.get('document_repo', d['code_repo'])))" "$t")
  if [ ! -d "$dir/$code" ] || [ ! -d "$dir/$docrepo" ]; then echo "$(basename "$t" .json): no checkout under $dir"; continue; fi
  python3 "$here/claims.py" "$t" "$dir/$code" --doc-checkout "$dir/$docrepo" --bin "$bin" $quiet
done

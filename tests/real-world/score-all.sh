#!/usr/bin/env bash
# Score every routes truth file against checkouts in a directory.
#   tests/real-world/score-all.sh /tmp/rw [target/release/threatscan]
# Each truth file names its repository; the checkout is DIR/<name>, where
# <name> is the repository's name (or the truth file's stem), at the pinned
# commit: git clone https://github.com/OWNER/NAME DIR/NAME && git -C DIR/NAME checkout COMMIT
set -u
dir=${1:?usage: score-all.sh CHECKOUTS_DIR [THREATSCAN]}
bin=${2:-target/release/threatscan}
here=$(cd "$(dirname "$0")" && pwd)
for t in "$here"/*.json; do
  stem=$(basename "$t" .json)
  repo=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['repo'].rstrip('/').rsplit('/',1)[-1])" "$t")
  co=""
  for c in "$dir/$repo" "$dir/$stem" "$dir/${repo,,}" "$dir/${stem,,}"; do
    [ -d "$c" ] && { co=$c; break; }
  done
  if [ -z "$co" ]; then echo "$stem: no checkout under $dir"; continue; fi
  python3 "$here/score.py" "$t" "$co" --bin "$bin" --quiet
done

#!/usr/bin/env bash
# Runs every fuzz target of the repository for FUZZTIME (a duration) each.
#
# A target fails when it finds an input that fails, which go test saves
# under the package's testdata/fuzz/TARGET/. Go before 1.27 also fails a
# target, now and then, with a bare "context deadline exceeded" when its
# -fuzztime runs out while a worker is busy, without any failing input
# (golang/go#75804, a race in the fuzzing coordinator, worst on a loaded
# machine): such a run is reported and run once more, and fails the
# target only if it happens again.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# files counts the saved inputs of a target (0 without its directory).
files() { if [ -d "$1" ]; then find "$1" -type f | wc -l; else echo 0; fi; }

for file in $(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do
  dir=$(dirname "$file")
  for name in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
    for attempt in 1 2; do
      echo "== $dir $name ($FUZZTIME)"
      corpus="$dir/testdata/fuzz/$name"
      before=$(files "$corpus")
      if "$GO" test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 5s "$dir" 2>&1 | tee "$out"; then
        break
      fi
      after=$(files "$corpus")
      if [ "$attempt" = 1 ] && [ "$after" = "$before" ] &&
        grep -q '^    context deadline exceeded$' "$out" && ! grep -q 'Failing input written' "$out"; then
        echo "== $dir $name: \"context deadline exceeded\" without a failing input (golang/go#75804): once more"
        continue
      fi
      exit 1
    done
  done
done

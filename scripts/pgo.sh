#!/bin/sh
# Refreshes cmd/govlisten/default.pgo, the CPU profile that `go build`
# uses to optimise the binary (profile-guided optimisation: hot calls
# inlined, interface calls devirtualised). The profile is of what the
# binary mostly does, `govlisten process`: three runs of `govlisten bench
# process` (500,000 mentions each, through an in-process NATS and a private
# ClickHouse), merged. Run it (make pgo) after a change to the hot path
# and commit the new file; a stale profile still helps, a little less.
set -eu
GO=${GO:-go}
BIN=${BIN:-bin/govlisten}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$BIN" bench process --n 500000 --rounds 3 --cpu-profile "$tmp/process.prof" --out "$tmp"
"$GO" tool pprof -proto "$tmp"/process.prof.* > "$tmp/default.pgo"
mv "$tmp/default.pgo" cmd/govlisten/default.pgo
echo "cmd/govlisten/default.pgo refreshed; rebuild (make build) to use it"

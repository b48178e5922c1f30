#!/usr/bin/env bash
# ci.sh keeps the benchmarks from rotting, in well under two minutes: it
# builds and vets the module, runs its tests (every peer really verifies),
# runs each Go benchmark once and every other part of run.sh at a token
# size (node, wrk and redis-server parts skipped when the tool is missing),
# including cmd/scale's quick mode (N = 10 against one redis-server and a
# 3-master Cluster), and checks that requests of known users cause no Redis
# command. It writes
# nothing outside a temporary directory: BENCHMARKS.md is left alone.
set -euo pipefail
cd "$(dirname "$0")"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build ./...
go vet ./...
go test -count=1 ./...

COUNT=1 BENCHTIME=1x \
	NODE_SECONDS=0.05 \
	WRK_THREADS=1 WRK_CONNS=4 WRK_DURATION=1s WRK_ROUNDS=1 \
	REDIS_REQUESTS=200 VIEW_USERS=500 MEM_USERS=5000 REDIS_CHECK=1 \
	NPM_INSTALL=0 SCALE_ARGS=-quick \
	RESULTS="$tmp/results" OUT="$tmp/BENCHMARKS.md" \
	PRELIMINARY="ci.sh smoke run: not a measurement" \
	./run.sh

# wrk counts failed requests instead of failing: every request must have
# been answered 2xx.
if grep -H "Non-2xx\|Socket errors" "$tmp"/results/wrk-*.txt 2>/dev/null; then
	echo "ci.sh: wrk saw failed requests" >&2
	exit 1
fi
for f in "$tmp"/results/*.skipped; do
	if [ -e "$f" ]; then echo "ci.sh: skipped $(basename "$f" .skipped): $(cat "$f")"; fi
done
echo "ci.sh: ok"

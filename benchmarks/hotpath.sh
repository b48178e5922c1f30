#!/usr/bin/env bash
# hotpath.sh pairs the hot-path benchmarks of this tree against an older
# commit, in one run: the test binaries of both are built once, then run
# in alternation, one process per benchmark, and the medians compared.
#
#   benchmarks/hotpath.sh [old-ref] [rounds]     (default 301ace0, 10)
#
# The Redis engine moved from ./revocation to ./revocation/redisstore;
# the old tree's package is taken when it has BenchmarkRevokedHit.
set -euo pipefail
old=${1:-301ace0}
rounds=${2:-10}
root=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git -C "$root" archive "$old" | tar -x -C "$work" --one-top-level=old
revpkg() { if grep -qs 'func BenchmarkRevokedHit(' "$1"/revocation/redisstore/*_test.go; then echo ./revocation/redisstore; else echo ./revocation; fi; }
for v in old new; do
  dir=$work/old
  [[ $v == new ]] && dir=$root
  (cd "$dir" && go test -c -o "$work/$v-root.test" . && go test -c -o "$work/$v-mw.test" ./middleware &&
    go test -c -o "$work/$v-rev.test" "$(revpkg "$dir")")
done

run() { # binary benchmark version
  "$work/$1" -test.run '^$' -test.bench "$2" -test.benchtime 1s -test.cpu 1 | grep ^Benchmark | sed "s/^/$3 /"
}
for _ in $(seq "$rounds"); do
  for v in old new; do
    run "$v-root.test" '^BenchmarkVerify$' "$v"
    run "$v-root.test" '^BenchmarkVerifyRedisRepeat$' "$v"
    run "$v-rev.test" '^BenchmarkRevokedHit$' "$v"
    run "$v-mw.test" '^BenchmarkMiddlewareOverhead$' "$v"
  done
done >"$work/results.txt"

echo "old $old ($(git -C "$root" rev-parse --short "$old")), new $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo '+changes'), $rounds rounds, load $(cut -d' ' -f1 /proc/loadavg)"
awk '{ ns[$2 " " $1] = ns[$2 " " $1] " " $4; names[$2] = 1 }
function median(s,   a, n, i, j, t) {
  n = split(s, a, " ")
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
  for (b in names) {
    o = median(ns[b " old"]); n = median(ns[b " new"])
    printf "%-32s old %9.1f ns  new %9.1f ns  new/old %.3f\n", b, o, n, n / o
  }
}' "$work/results.txt" | sort

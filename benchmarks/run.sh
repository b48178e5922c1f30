#!/usr/bin/env bash
# run.sh regenerates every figure of ../BENCHMARKS.md, then the file itself.
# Run it on a quiet machine: other load moves the figures by tens of percent.
#
#   ./run.sh                       # full run (about 6 minutes, and up to 10 for cmd/scale)
#   COUNT=2 BENCHTIME=200ms WRK_DURATION=3s \
#   PRELIMINARY="Preliminary, noisy machine" ./run.sh   # a short, marked run
#
# Every knob is an environment variable (see below); ci.sh runs this script
# with tiny values and RESULTS/OUT in a temporary directory.
#
# Needs: go (the toolchain of go.mod). Optional, each part skipped with a
# note in the report when missing: node + npm (aws-jwt-verify, installed on
# first use into $AWS_JWT_VERIFY_DIR, default ~/.cache/cognitoguard/aws-jwt-verify),
# wrk, redis-server (and redis-cli for cmd/scale's Cluster).
set -euo pipefail
cd "$(dirname "$0")"

COUNT=${COUNT:-6}                 # rounds of the Go benchmarks (samples per benchmark), and of node
BENCHTIME=${BENCHTIME:-1s}        # go test -benchtime
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNS=${WRK_CONNS:-32}
WRK_DURATION=${WRK_DURATION:-10s}
WRK_ROUNDS=${WRK_ROUNDS:-3}       # rounds of wrk, the routes alternating
NODE_SECONDS=${NODE_SECONDS:-1}   # seconds per node round
PRELIMINARY=${PRELIMINARY:-}     # if set, printed as a warning at the top of the report
REDIS_REQUESTS=${REDIS_REQUESTS:-1000}
VIEW_USERS=${VIEW_USERS:-20000}   # first-seen users for the local-view entry size
MEM_USERS=${MEM_USERS:-100000}    # sign-outs for the in-process record size
REDIS_CHECK=${REDIS_CHECK:-0}     # 1: fail if the requests caused Redis commands
NPM_INSTALL=${NPM_INSTALL:-1}     # 0: never install aws-jwt-verify
SCALE=${SCALE:-1}                 # 0: skip cmd/scale (the sign-out fan-out at fleet scale)
SCALE_ARGS=${SCALE_ARGS:-}        # cmd/scale flags; ci.sh passes -quick
RESULTS=${RESULTS:-results}       # raw results
OUT=${OUT:-../BENCHMARKS.md}      # the report
BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
AWS_JWT_VERIFY_VERSION=5.2.1
AWS_JWT_VERIFY_DIR=${AWS_JWT_VERIFY_DIR:-$HOME/.cache/cognitoguard/aws-jwt-verify}
export AWS_JWT_VERIFY_DIR

R=$RESULTS
mkdir -p "$R"
rm -f "$R"/*.txt "$R"/*.json "$R"/*.skipped "$R/httpbench" "$R/httpbench.log" "$R/bench.test"
: >"$R/commands.txt"
: >"$R/versions.txt"

# log records a command line for the report.
log() { printf '%s\n' "$*" >>"$R/commands.txt"; }
# run logs a command and runs it.
run() {
	log "$*"
	"$@"
}
version() { printf '%s=%s\n' "$1" "$2" >>"$R/versions.txt"; }

log "cd benchmarks"
run go run ./cmd/mkfixture -dir testdata

# 1. Go: peers and the floor. COUNT rounds of -count 1 rather than one
# -count COUNT: the samples are the same for benchstat, but -count runs each
# benchmark COUNT times in a row, minutes away from the floor's runs, while
# a round runs every benchmark back to back, so that the report can divide
# each benchmark by the floor of the same round.
run go test -c -o "$R/bench.test" .
log "for round in \$(seq $COUNT); do $R/bench.test -test.run XXX -test.bench . -test.benchmem -test.count 1 -test.benchtime $BENCHTIME; done > $R/bench.txt"
: >"$R/bench.txt"
for _ in $(seq "$COUNT"); do
	"$R/bench.test" -test.run XXX -test.bench . -test.benchmem -test.count 1 -test.benchtime "$BENCHTIME" | tee -a "$R/bench.txt"
done
log "go run $BENCHSTAT $R/bench.txt > $R/benchstat.txt"
go run "$BENCHSTAT" "$R/bench.txt" >"$R/benchstat.txt"
version "peer modules" "$(go list -m -f '{{.Path}} {{.Version}}' github.com/lestrrat-go/jwx/v3 github.com/golang-jwt/jwt/v5 github.com/MicahParks/keyfunc/v3 github.com/auth0/go-jwt-middleware/v2 github.com/coreos/go-oidc/v3 | paste -sd ',' - | sed 's/,/, /g')"

# 2. node: aws-jwt-verify on the same token.
if command -v node >/dev/null; then
	if [ ! -f "$AWS_JWT_VERIFY_DIR/node_modules/aws-jwt-verify/package.json" ] && [ "$NPM_INSTALL" = 1 ] && command -v npm >/dev/null; then
		mkdir -p "$AWS_JWT_VERIFY_DIR"
		(cd "$AWS_JWT_VERIFY_DIR" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund "aws-jwt-verify@$AWS_JWT_VERIFY_VERSION" >/dev/null) ||
			echo "run.sh: npm install aws-jwt-verify failed" >&2
	fi
	if [ -f "$AWS_JWT_VERIFY_DIR/node_modules/aws-jwt-verify/package.json" ]; then
		log "node node/bench.mjs testdata $NODE_SECONDS $COUNT > $R/node.json"
		node node/bench.mjs testdata "$NODE_SECONDS" "$COUNT" >"$R/node.json"
		cat "$R/node.json"
	else
		echo "aws-jwt-verify not installed in $AWS_JWT_VERIFY_DIR" >"$R/node.skipped"
	fi
else
	echo "node not on PATH" >"$R/node.skipped"
fi

# 3. HTTP: wrk against cmd/httpbench.
if command -v wrk >/dev/null; then
	version wrk "$(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
	run go build -o "$R/httpbench" ./cmd/httpbench
	log "$R/httpbench -testdata testdata &"
	"$R/httpbench" -testdata testdata >"$R/httpbench.log" 2>&1 &
	hb=$!
	trap 'kill "$hb" 2>/dev/null || true' EXIT
	url=
	for _ in $(seq 300); do
		url=$(awk '/^listening /{print $2}' "$R/httpbench.log")
		[ -n "$url" ] && break
		kill -0 "$hb" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$url" ]; then
		cat "$R/httpbench.log" >&2
		echo "run.sh: httpbench did not start" >&2
		exit 1
	fi
	tok=$(cat testdata/token.jwt)
	wrkargs=(-t"$WRK_THREADS" -c"$WRK_CONNS" -d"$WRK_DURATION" --latency)
	echo "wrk ${wrkargs[*]}" >"$R/wrk-args.txt"
	: >"$R/wrk-bare.txt"
	: >"$R/wrk-guarded.txt"
	: >"$R/wrk-cold.txt"
	log "for round in \$(seq $WRK_ROUNDS); do"
	log "  wrk ${wrkargs[*]} -H 'Authorization: Bearer \$(cat testdata/token.jwt)' \$URL/bare >> $R/wrk-bare.txt"
	log "  wrk ${wrkargs[*]} -H 'Authorization: Bearer \$(cat testdata/token.jwt)' \$URL/guarded >> $R/wrk-guarded.txt"
	log "  wrk ${wrkargs[*]} -s cold.lua \$URL/cold -- testdata/tokens.txt >> $R/wrk-cold.txt"
	log "done"
	for _ in $(seq "$WRK_ROUNDS"); do
		wrk "${wrkargs[@]}" -H "Authorization: Bearer $tok" "$url/bare" | tee -a "$R/wrk-bare.txt"
		wrk "${wrkargs[@]}" -H "Authorization: Bearer $tok" "$url/guarded" | tee -a "$R/wrk-guarded.txt"
		wrk "${wrkargs[@]}" -s cold.lua "$url/cold" -- testdata/tokens.txt | tee -a "$R/wrk-cold.txt"
	done
	kill "$hb"
	wait "$hb" 2>/dev/null || true
	trap - EXIT
else
	echo "wrk not on PATH (Debian: apt-get install wrk)" >"$R/wrk.skipped"
fi

# 4. Redis commands per request, and the local view's entry size.
if command -v redis-server >/dev/null; then
	rc=(-testdata testdata -requests "$REDIS_REQUESTS" -view-users "$VIEW_USERS")
	if [ "$REDIS_CHECK" = 1 ]; then rc+=(-check); fi
	log "go run ./cmd/rediscount ${rc[*]} > $R/redis.json"
	go run ./cmd/rediscount "${rc[@]}" >"$R/redis.json"
	cat "$R/redis.json"
else
	echo "redis-server not on PATH" >"$R/redis.skipped"
fi

# 5. Memory of the cache and of the in-process store.
log "go run ./cmd/memsize -testdata testdata -users $MEM_USERS > $R/memsize.json"
go run ./cmd/memsize -testdata testdata -users "$MEM_USERS" >"$R/memsize.json"
cat "$R/memsize.json"

# 6. The main module's own benchmarks (the names issue tooling reads):
# BenchmarkVerify/{cold,repeat}, BenchmarkRSAFloor, BenchmarkMiddleware and
# BenchmarkColdVsFloor, which pairs the floor and a cold Verify token by
# token and reports their ratio (x-floor), steady on a noisy machine.
log "(cd .. && go test -run '^\$' -bench 'Verify|RSAFloor|Middleware|ColdVsFloor' -benchmem -count $COUNT -benchtime $BENCHTIME .) > $R/root.txt"
(cd .. && go test -run '^$' -bench 'Verify|RSAFloor|Middleware|ColdVsFloor' -benchmem -count "$COUNT" -benchtime "$BENCHTIME" .) | tee "$R/root.txt"

# 7. The sign-out fan-out at fleet scale: N instances against one
# redis-server and a 3-master Cluster (cmd/scale starts both).
if [ "$SCALE" = 0 ]; then
	echo "SCALE=0" >"$R/scale.skipped"
elif command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
	log "go run ./cmd/scale $SCALE_ARGS -json $R/scale.json"
	# shellcheck disable=SC2086 # SCALE_ARGS is a list of flags
	go run ./cmd/scale $SCALE_ARGS -json "$R/scale.json"
else
	echo "redis-server or redis-cli not on PATH" >"$R/scale.skipped"
fi

if command -v node >/dev/null; then version node "$(node --version)"; fi
if [ -f "$R/node.json" ]; then version aws-jwt-verify "$AWS_JWT_VERIFY_VERSION"; fi
if command -v redis-server >/dev/null; then version redis-server "$(redis-server --version | awk '{print $3}' | sed 's/^v=//')"; fi
version benchstat "$BENCHSTAT"

log "go run ./cmd/report -results $R -out $OUT"
args=(-results "$R" -out "$OUT")
if [ -n "$PRELIMINARY" ]; then args+=(-preliminary "$PRELIMINARY"); fi
go run ./cmd/report "${args[@]}"

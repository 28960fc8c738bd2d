#!/usr/bin/env bash
# Issue 16's registry measurement (`make bench` runs it; alone:
# ./scripts/bench-registry.sh): push and pull of the bench bundle, 4
# incompressible files of 64 MiB (deterministic: AES-CTR of a fixed key),
# packed with -c none, against a docker-registry (distribution) on loopback,
# beside oras on the same files and the same registry:
#   push  ocibundle push                       vs oras push
#   pull  ocibundle pull (verified, fsync)     vs oras pull (files)
#                                              and oras cp --to-oci-layout
# RUNS rounds (default 5) alternating, order reversed on even rounds; each
# push goes to a new repository (nothing skipped), each pull into a new
# directory. Medians of wall time, user+sys CPU and peak RSS
# (/usr/bin/time), and the HTTP requests each command made (the
# registry's access log). OB_BASE=BINARY adds rows for another ocibundle
# binary (say, main's; OB_BASE_NAME labels them) run in the same rounds,
# for side-by-side before/after figures. Prints a table and puts it, as the section "## Registry (issue
# 16)", at the end of BENCH_OUT (default BENCHMARKS.md; an earlier such
# section is replaced, the others are kept).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
source scripts/lib-bench.sh
bench_require bench-registry docker-registry oras openssl curl /usr/bin/time
runs=${RUNS:-5}
out=${BENCH_OUT:-$repo/BENCHMARKS.md}
base=${OB_BASE:-}
base_name=${OB_BASE_NAME:-OB_BASE}
commit=$(git rev-parse --short HEAD)
work=$(mktemp -d)
reg_pid=
cleanup() {
	if [[ -n $reg_pid ]]; then kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null || true; fi # under set -e, wait's 143 (SIGTERM) would be the exit status
	rm -rf "$work"
}
trap cleanup EXIT
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
go build -o "$work/ocibundle" .
ob=$work/ocibundle

# A free loopback port: one that nothing answers on.
while :; do
	port=$((20000 + RANDOM % 40000))
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
done
addr=127.0.0.1:$port
cat >"$work/config.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: $addr
EOF
docker-registry serve "$work/config.yml" >>"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do curl -fs "http://$addr/v2/" >/dev/null && break; sleep 0.1; done

mkdir -p "$work/src"
for i in 0 1 2 3; do
	{ openssl enc -aes-256-ctr -nosalt -pass "pass:part$i" -pbkdf2 -in /dev/zero 2>/dev/null || true; } | head -c $((64 << 20)) >"$work/src/part$i.bin"
done
bytes=$((4 * (64 << 20)))
parts=(part0.bin part1.bin part2.bin part3.bin)
"$ob" pack -q -c none -o "$work/layout" -t bench "${parts[@]/#/$work/src/}" >/dev/null
"$ob" push -q --plain-http "$work/layout:bench" "$addr/bench/ob:bench" >/dev/null
(cd "$work/src" && oras push --plain-http "$addr/bench/oras:bench" "${parts[@]}" >/dev/null)

# --- commands (each gets a new repository or output directory: $n) ---------
declare -A cmd
cmd[push/ocibundle]="$ob push -q --plain-http $work/layout:bench $addr/bench/r\$n:bench"
cmd[push/oras]="cd $work/src && oras push --plain-http $addr/bench/r\$n:bench ${parts[*]}"
cmd[pull/ocibundle]="$ob pull -q --plain-http -o $work/out $addr/bench/ob:bench"
cmd[pull/oras]="oras pull --plain-http -o $work/out $addr/bench/oras:bench"
cmd[pull/oras-cp]="oras cp --from-plain-http $addr/bench/oras:bench --to-oci-layout $work/out:bench"
order=(push/ocibundle push/oras pull/ocibundle pull/oras pull/oras-cp)
if [[ -n $base ]]; then
	cmd[push/base]=${cmd[push/ocibundle]/#$ob/$base}
	cmd[pull/base]=${cmd[pull/ocibundle]/#$ob/$base}
	order=(push/ocibundle push/base push/oras pull/ocibundle pull/base pull/oras pull/oras-cp)
fi
label() {
	case $1 in
	*/ocibundle) echo ocibundle ;;
	*/base) echo "ocibundle ($base_name)" ;;
	push/oras) echo "oras push" ;;
	pull/oras) echo "oras pull (files)" ;;
	pull/oras-cp) echo "oras cp --to-oci-layout" ;;
	esac
}

declare -A times cpu rss reqs
n=0
for r in $(seq "$runs"); do
	seq_=("${order[@]}")
	if ((r % 2 == 0)); then
		seq_=()
		for ((i = ${#order[@]} - 1; i >= 0; i--)); do seq_+=("${order[i]}"); done
	fi
	for k in "${seq_[@]}"; do
		export n=$((n + 1))
		rm -rf "$work/out"
		sync # the previous command's dirty pages are not this one's to write
		logstart=$(stat -c %s "$work/registry.log")
		bench_time "$k" "${cmd[$k]}" 2>"$work/err.txt" ||
			{ cat "$work/err.txt" >&2; echo "bench-registry: $k failed" >&2; exit 1; }
		reqs[$k]=$(tail -c +$((logstart + 1)) "$work/registry.log" | grep -ac '"[A-Z]* /v2/' || true)
		echo "bench-registry: round $r $k ${e}s ${u}u ${s}s ${m}KiB ${reqs[$k]} requests" >&2
	done
done
rm -rf "$work/out"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

declare -A med medcpu medrss
bench_medians "${order[@]}"
row() { # KEY [PEER-KEY TARGET-RATIO]: a peer's row, or ocibundle's against PEER-KEY
	local k=$1 op=${1%/*} sp="" tgt="" pass=""
	if [[ -n ${2:-} ]]; then
		sp=$(bench_ratio "${med[$2]}" "${med[$k]}")
		if [[ -n ${3:-} ]]; then
			tgt="≥ $3x $(label "$2")"
			pass=$(awk -v s="${sp%x}" -v t="$3" 'BEGIN{print (s >= t) ? "PASS" : "below"}')
		fi
		sp="$sp vs $(label "$2")"
	fi
	echo "| $op | $(label "$k") | ${med[$k]} | $(awk -v b="$bytes" -v t="${med[$k]}" 'BEGIN{printf "%.0f", b / 1e6 / t}') | ${medcpu[$k]} | $(awk -v m="${medrss[$k]}" 'BEGIN{printf "%.0f", m / 1024}') | ${reqs[$k]} | $sp | $tgt | $pass |"
}
table=$(
echo "| command | tool | median s | MB/s | user+sys s (median) | peak RSS MiB (median) | HTTP requests | ocibundle speed (peer s / ocibundle s) | target | |"
echo "|---|---|---:|---:|---:|---:|---:|---|---|---|"
row push/ocibundle push/oras 1.0
[[ -n $base ]] && row push/base push/oras
row push/oras
row pull/ocibundle pull/oras 0.8
row pull/ocibundle pull/oras-cp
[[ -n $base ]] && row pull/base pull/oras
row pull/oras
row pull/oras-cp
)
echo "$table"
{
	echo "Written by \`scripts/bench-registry.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit: 4 files of 64 MiB"
	echo "(incompressible, $bytes bytes), packed with \`-c none\`, pushed to and pulled from docker-registry"
	echo "$(docker-registry --version 2>/dev/null | awk '{print $NF}') on loopback, beside oras $(oras version 2>/dev/null | awk '/^Version/ {print $2}');"
	echo "$runs rounds alternating (order reversed on even rounds), medians; each push to a new repository, each"
	echo "pull into a new directory, \`sync\` before each command. HTTP requests: the registry's access log, last"
	echo "round; user+sys is the client's CPU (the registry's is not counted). Load average at start $load_start, at the end $load_end."
	echo
	echo "$table"
	echo
	echo '```'
	for k in "${order[@]}"; do echo "$k: ${cmd[$k]}" | sed "s|$work|\$WORK|g; s|$addr|\$REGISTRY|g"; done
	echo '```'
} >"$work/section.md"
bench_section "$out" "Registry (issue 16)" "$work/section.md"
echo "bench-registry: wrote $out"

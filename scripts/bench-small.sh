#!/usr/bin/env bash
# Issue 16's small-files measurement (`make bench` runs it; alone:
# ./scripts/bench-small.sh, BENCH_SMALL_N=30000 for a quick run):
# BENCH_SMALL_N (default 300000) files of 20 B–1.5 KiB of text in N/1000
# directories, generated deterministically (math/rand seeded 16, fixed mtime)
# and kept in BENCH_WORK/small-N; then, alternating, RUNS times (default 3,
# order reversed on even rounds), medians:
#   pack     ocibundle pack            vs tar -cf - DIR | zstd -T0 -3
#   extract  ocibundle extract         vs tar -x --zstd
#   extract (tmpfs)  the same into BENCH_TMPFS (default /dev/shm; "" for none)
# with CPU time (user+sys) and peak RSS (/usr/bin/time %U %S %M). Prints a table and puts it, as the section
# "## Small files (issue 16)", at the end of BENCH_OUT (default BENCHMARKS.md;
# an earlier such section is replaced, later sections are kept).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
source scripts/lib-bench.sh
bench_require bench-small zstd tar /usr/bin/time
n=${BENCH_SMALL_N:-300000}
runs=${RUNS:-3}
out=${BENCH_OUT:-$repo/BENCHMARKS.md}
work=${BENCH_WORK:-${TMPDIR:-/tmp}/ocibundle-bench}
case $(realpath -m "$work") in "$repo"|"$repo"/*) echo "bench-small: BENCH_WORK must be outside the repository" >&2; exit 1 ;; esac
commit=$(git rev-parse --short HEAD)
data=$work/small-$n
run=$work/small-run
mkdir -p "$work"
rm -rf "$run"
mkdir -p "$run"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
go build -o "$run/ocibundle" .
ob=$run/ocibundle

# --- dataset: deterministic, built once per N --------------------------------
if [[ ! -f $data/.done ]]; then
	rm -rf "$data"
	mkdir -p "$run/gen"
	cat >"$run/gen/main.go" <<'GO'
// Command gen writes N small text files (20 B–1.5 KiB) in N/1000 directories
// under DIR, the same bytes and mtimes for the same N.
package main

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func main() {
	dir := os.Args[1]
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		panic(err)
	}
	dirs := max(n/1000, 1)
	r := rand.New(rand.NewSource(16))
	words := []string{"layer", "blob", "index", "manifest", "digest", "sha256", "config",
		"annotation", "referrer", "subject", "tar", "zstd", "gzip", "media", "type", "size"}
	mtime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	buf := make([]byte, 0, 2048)
	for d := range dirs {
		p := filepath.Join(dir, fmt.Sprintf("d%04d", d))
		if err := os.MkdirAll(p, 0o755); err != nil {
			panic(err)
		}
		for f := d; f < n; f += dirs {
			size := 20 + r.Intn(1536-20+1)
			buf = buf[:0]
			for len(buf) < size {
				buf = append(buf, words[r.Intn(len(words))]...)
				buf = strconv.AppendInt(append(buf, '='), r.Int63n(1<<20), 16)
				buf = append(buf, '\n')
			}
			name := filepath.Join(p, fmt.Sprintf("f%06d.txt", f))
			if err := os.WriteFile(name, buf[:size], 0o644); err != nil {
				panic(err)
			}
			if err := os.Chtimes(name, mtime, mtime); err != nil {
				panic(err)
			}
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			panic(err)
		}
	}
	if err := os.Chtimes(dir, mtime, mtime); err != nil {
		panic(err)
	}
}
GO
	(cd "$run/gen" && GO111MODULE=off go build -o gen main.go)
	mkdir -p "$data/tree"
	"$run/gen/gen" "$data/tree" "$n"
	touch "$data/.done"
fi
bytes=$(find "$data/tree" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
files=$(find "$data/tree" -type f | wc -l)
dirs=$(find "$data/tree" -mindepth 1 -type d | wc -l)

# --- commands ------------------------------------------------------------------
cd "$run"
"$ob" pack -q -o L -t bench "$data/tree" >/dev/null # the layout extract reads
tar -C "$data" -cf - tree | zstd -T0 -3 -q -o X.tar.zst
declare -A cmd
cmd[pack/ocibundle]="$ob pack -q -o out/L -t bench $data/tree"
cmd[pack/tar]="tar -C $data -cf - tree | zstd -T0 -3 -q -o out/x.tar.zst"
cmd[extract/ocibundle]="$ob extract -q -o out/x L:bench"
cmd[extract/tar]="mkdir out/x && tar -x --zstd -f X.tar.zst -C out/x"
label() { case $1 in */ocibundle) echo ocibundle ;; pack/tar) echo "tar -c \\| zstd -T0 -3" ;; extract*/tar) echo "tar -x --zstd" ;; esac; }
order=(pack/ocibundle pack/tar extract/ocibundle extract/tar)
# The same extracts into a tmpfs (BENCH_TMPFS, default /dev/shm; "" for
# none): file creation on the disk of a shared machine varies several
# times over from run to run (system time), a tmpfs shows the tools' own cost.
tmpfs=${BENCH_TMPFS-/dev/shm}
if [[ -n $tmpfs && -d $tmpfs ]]; then
	shm=$tmpfs/ocibundle-bench-small.$$
	cmd[extract-tmpfs/ocibundle]="$ob extract -q -o $shm/x L:bench"
	cmd[extract-tmpfs/tar]="mkdir $shm/x && tar -x --zstd -f X.tar.zst -C $shm/x"
	order+=(extract-tmpfs/ocibundle extract-tmpfs/tar)
	trap 'rm -rf "$shm"' EXIT
fi

declare -A times rss cpu
for r in $(seq "$runs"); do
	seq_=("${order[@]}")
	if ((r % 2 == 0)); then # each pair reversed
		seq_=()
		for ((i = 0; i < ${#order[@]}; i += 2)); do seq_+=("${order[i + 1]}" "${order[i]}"); done
	fi
	for k in "${seq_[@]}"; do
		rm -rf out && mkdir out
		[[ -z ${shm:-} ]] || { rm -rf "$shm" && mkdir "$shm"; }
		bench_time "$k" "${cmd[$k]}"
		echo "bench-small: round $r $k ${e}s ${m}KiB ${u}u ${s}s" >&2
	done
done
rm -rf out
[[ -z ${shm:-} ]] || rm -rf "$shm"
declare -A med medrss medcpu
bench_medians "${order[@]}"
row() { # KEY BASELINE-KEY TARGET-RATIO TARGET-MIB
	local k=$1 b=$2 op=${1%/*} sp="" tgt="" pass=""
	if [[ $k == */ocibundle ]]; then
		sp=$(bench_ratio "${med[$b]}" "${med[$k]}")
		tgt="≥ $3x, ≤ $4 MiB"
		pass=$(awk -v s="${sp%x}" -v t="$3" -v m="${medrss[$k]}" -v l="$4" 'BEGIN{print (s >= t && m / 1024 <= l) ? "PASS" : "below"}')
	fi
	echo "| ${op/-tmpfs/ (tmpfs)} | $(label "$k") | ${med[$k]} | ${medcpu[$k]} | $(awk -v b="$bytes" -v t="${med[$k]}" 'BEGIN{printf "%.0f", b / 1e6 / t}') | $sp | $(awk -v m="${medrss[$k]}" 'BEGIN{printf "%.0f", m / 1024}') | $tgt | $pass |"
}
table=$(
echo "| command | tool | median s | CPU s (user+sys, median) | MB/s | ocibundle speed vs this | peak RSS MiB (median) | target | |"
echo "|---|---|---:|---:|---:|---:|---:|---|---|"
row pack/ocibundle pack/tar 0.9 256
row pack/tar "" 
row extract/ocibundle extract/tar 0.8 128
row extract/tar ""
if [[ -n ${shm:-} ]]; then
	row extract-tmpfs/ocibundle extract-tmpfs/tar 0.8 128
	row extract-tmpfs/tar ""
fi
)
echo "$table"
{
	echo "Written by \`scripts/bench-small.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit, BENCH_SMALL_N=$n:"
	echo "$files files, $bytes bytes, in $dirs directories (20 B–1.5 KiB of text each, deterministic);"
	echo "$runs rounds alternating (order reversed on even rounds), medians; \"ocibundle speed vs this\" ="
	echo "baseline time / ocibundle time. Load average at start $load_start, at the end $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	echo "$table"
	echo
	echo '```'
	for k in "${order[@]}"; do echo "$k: ${cmd[$k]}" | sed "s|$work|\$WORK|g; s|${shm:-/nonexistent}|\$TMPFS|g"; done
	echo '```'
} >"$run/section.md"
bench_section "$out" "Small files (issue 16)" "$run/section.md"
echo "bench-small: wrote $out"

#!/usr/bin/env bash
# Issue 16's growth measurement (`make bench` runs it; alone:
# ./scripts/bench-growth.sh, GROWTH_SMALL=256M GROWTH_LARGE=1G for a quick
# run): pack, verify, verify --deep, export, import and extract on the mixed
# dataset of scripts/bench.sh (scripts/lib-bench.sh, kept in BENCH_WORK,
# default /tmp/ocibundle-bench) at GROWTH_SMALL (default 1G) and GROWTH_LARGE
# (default 4G). RUNS rounds (default 3); in each, every command runs at both
# sizes one after the other (small first on odd rounds, large first on even
# ones), so that a change of load hits both. Medians of wall time, of user+sys
# CPU time and of peak RSS (/usr/bin/time %M). Targets: per-byte time at the
# large size within 5% of the small one's (t(4G)/t(1G) in 3.8–4.2 for 4×
# the data), peak RSS at most max(16 MiB, 10%) above the small size's.
# GROWTH_OPS (default all six: "pack verify deep export import extract")
# picks commands. Prints a table and puts it, as the section
# "## Growth (issue 16)", at the end of BENCH_OUT (default BENCHMARKS.md).
# Disk: both datasets plus a layout, an archive and one output per size
# (about 5× the large size).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
source scripts/lib-bench.sh
bench_require bench-growth openssl numfmt /usr/bin/time
small=${GROWTH_SMALL:-1G}
large=${GROWTH_LARGE:-4G}
ops=(${GROWTH_OPS:-pack verify deep export import extract})
runs=${RUNS:-3}
out=${BENCH_OUT:-$repo/BENCHMARKS.md}
work=${BENCH_WORK:-${TMPDIR:-/tmp}/ocibundle-bench}
case $(realpath -m "$work") in "$repo"|"$repo"/*) echo "bench-growth: BENCH_WORK must be outside the repository" >&2; exit 1 ;; esac
commit=$(git rev-parse --short HEAD)
run=$work/growth-run
mkdir -p "$work"
rm -rf "$run"
mkdir -p "$run"
CGO_ENABLED=0 go build -trimpath -o "$run/ocibundle" .
ob=$run/ocibundle

# --- datasets and fixtures (untimed): per size a layout L and its archive A.tar
declare -A data bytes files
for s in "$small" "$large"; do
	data[$s]=$(bench_dataset "$work" "$s")
	bytes[$s]=$(find "${data[$s]}" -type f ! -name .done -printf '%s\n' | awk '{s += $1} END {printf "%.0f\n", s}')
	files[$s]=$(find "${data[$s]}" -type f ! -name .done | wc -l)
	mkdir -p "$run/$s"
	parts=("${data[$s]}"/bin "${data[$s]}"/logs "${data[$s]}"/random "${data[$s]}"/small "${data[$s]}"/src)
	"$ob" pack -q -o "$run/$s/L" -t bench "${parts[@]}" >/dev/null
	"$ob" export -q -o "$run/$s/A.tar" "$run/$s/L:bench" >/dev/null
done
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

command_of() { # OP SIZE: the shell command, run in $run/SIZE
	local d=${data[$2]:-\$DATA}
	case $1 in
	pack) echo "$ob pack -q -o out/L -t bench $d/bin $d/logs $d/random $d/small $d/src" ;;
	verify) echo "$ob verify -q L" ;;
	deep) echo "$ob verify -q --deep L" ;;
	export) echo "$ob export -q -o out/a.tar L:bench" ;;
	import) echo "$ob import -q -o out/L A.tar" ;;
	extract) echo "$ob extract -q -o out/e L:bench" ;;
	*) echo "bench-growth: unknown command $1 in GROWTH_OPS" >&2; return 1 ;;
	esac
}
label() { case $1 in deep) echo "verify --deep" ;; *) echo "$1" ;; esac; }

# Outputs of thousands of files go to trash/, emptied at the start of a round,
# not deleted just before the next run (see "once" in scripts/bench.sh: ext4
# skips recently freed inodes one by one).
results=$run/results.tsv
: >"$results"
once() { # OP SIZE
	local dir=$run/$2 cmd
	cmd=$(command_of "$1" "$2")
	if [[ -d $dir/out ]]; then
		mkdir -p "$run/trash" && mv "$dir/out" "$run/trash/o.$RANDOM$RANDOM"
	fi
	mkdir -p "$dir/out"
	sync
	if ! (cd "$dir" && /usr/bin/time -f '%e %U %S %M' -o "$run/time.txt" bash -c "$cmd" >/dev/null 2>"$run/err.txt"); then
		echo "bench-growth: $1 at $2 failed: $(cat "$run/err.txt")" >&2
		exit 1
	fi
	read -r e u sy m <"$run/time.txt"
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$e" "$(awk -v u="$u" -v s="$sy" 'BEGIN {print u + s}')" "$m" >>"$results"
	echo "bench-growth: round $r $1 $2: ${e} s, user+sys $u+$sy s, $((m / 1024)) MiB" >&2
}
for r in $(seq "$runs"); do
	rm -rf "$run/trash"
	order=("$small" "$large")
	((r % 2 == 0)) && order=("$large" "$small")
	for op in "${ops[@]}"; do
		for s in "${order[@]}"; do once "$op" "$s"; done
		rm -rf "$run/$small/out" "$run/$large/out"
	done
done
rm -rf "$run/trash" "$run/$small/out" "$run/$large/out"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- table ------------------------------------------------------------------------
med() { awk -F'\t' -v o="$1" -v s="$2" -v c="$3" '$1 == o && $2 == s {print $c}' "$results" | bench_median; }
table=$(
	echo "| command | $small s | $large s | time $large/$small | per-byte time | CPU $large/$small | MB/s $small | MB/s $large | RSS MiB $small | RSS MiB $large | time ≤ 5% off linear | RSS ≤ max(16 MiB, 10%) more |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
	for op in "${ops[@]}"; do
		awk -v op="$(label "$op")" -v ts="$(med "$op" "$small" 3)" -v tl="$(med "$op" "$large" 3)" \
			-v cs="$(med "$op" "$small" 4)" -v cl="$(med "$op" "$large" 4)" \
			-v ms="$(med "$op" "$small" 5)" -v ml="$(med "$op" "$large" 5)" \
			-v bs="${bytes[$small]}" -v bl="${bytes[$large]}" 'BEGIN {
			pb = (tl / bl) / (ts / bs)  # per-byte time, large over small
			slack = ms * 0.10 > 16384 ? ms * 0.10 : 16384
			printf "| %s | %.2f | %.2f | %.2f | %.3f | %.2f | %.0f | %.0f | %.0f | %.0f | %s | %s |\n", op, ts, tl, tl / ts, pb, cl / cs,
				bs / 1e6 / ts, bl / 1e6 / tl, ms / 1024, ml / 1024,
				(pb >= 0.95 && pb <= 1.05) ? "PASS" : (pb < 0.95 ? "sublinear" : "FAIL"),
				(ml <= ms + slack) ? "PASS" : "FAIL"
		}'
	done
)
echo "$table"
cp "$results" "$work/growth-results.tsv"
{
	echo "Written by \`scripts/bench-growth.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit: the mixed dataset of"
	echo "\`scripts/bench.sh\` at $small (${bytes[$small]} bytes, ${files[$small]} files) and $large (${bytes[$large]} bytes,"
	echo "${files[$large]} files); $runs rounds, both sizes one after the other in each (order reversed on even rounds);"
	echo "medians of wall time, user+sys CPU time and peak RSS (/usr/bin/time %M). \"per-byte time\" = (t($large) / bytes)"
	echo "/ (t($small) / bytes): 1.000 is linear growth, the target is within 5%. Load average at start $load_start,"
	echo "at the end $load_end."
	echo
	echo "$table"
	echo
	echo '```'
	for op in "${ops[@]}"; do echo "$(label "$op"): $(command_of "$op" SIZE)" | sed "s|$work|\$WORK|g"; done
	echo '```'
	echo "Run in \$WORK/growth-run/SIZE, where L is a layout packed from the five top directories of the"
	echo "dataset (five layers) and A.tar its export; out/ is empty before each run."
} >"$run/section.md"
bench_section "$out" "Growth (issue 16)" "$run/section.md"
echo "bench-growth: wrote $out"

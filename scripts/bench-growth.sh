#!/usr/bin/env bash
# Issue 16's growth measurement (`make bench` runs it; alone:
# ./scripts/bench-growth.sh, GROWTH_SMALL=256M GROWTH_LARGE=1G for a quick
# run): pack, verify, verify --deep, export, import and extract on the mixed
# dataset of scripts/bench.sh (scripts/lib-bench.sh, kept in BENCH_WORK,
# default /tmp/ocibundle-bench) at GROWTH_SMALL (default 1G) and GROWTH_LARGE
# (default 4G). RUNS rounds (default 3); in each, every command runs at both
# sizes one after the other (small first on odd rounds, large first on even
# ones), so that a change of load hits both. Medians of wall time, of user and
# of system CPU time and of peak RSS (/usr/bin/time %M). Targets: per-byte time at the
# large size within 5% of the small one's (t(4G)/t(1G) in 3.8–4.2 for 4×
# the data), peak RSS at most max(16 MiB, 10%) above the small size's.
# Each command's baseline of scripts/bench.sh (tar, zstd, openssl) is
# measured the same way (GROWTH_BASELINES=0 leaves them out): its growth is
# the machine's (page cache, disk). GROWTH_OPS (default all six: "pack
# verify deep export import extract") picks commands. Prints a table and
# puts it, as the section "## Growth (issue 16)", at the end of BENCH_OUT
# (default BENCHMARKS.md).
# Disk: both datasets plus a layout, an archive and one output per size
# (about 5× the large size).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
source scripts/lib-bench.sh
bench_require bench-growth openssl numfmt tar zstd /usr/bin/time
small=${GROWTH_SMALL:-1G}
large=${GROWTH_LARGE:-4G}
ops=(${GROWTH_OPS:-pack verify deep export import extract})
runs=${RUNS:-3}
baselines=${GROWTH_BASELINES:-1}
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

# --- datasets and fixtures (untimed): per size a layout L, its archive A.tar
# and X.tar.zst, the tar | zstd -3 of the dataset (for the baselines)
declare -A data bytes files
for s in "$small" "$large"; do
	data[$s]=$(bench_dataset "$work" "$s")
	bytes[$s]=$(find "${data[$s]}" -type f ! -name .done -printf '%s\n' | awk '{s += $1} END {printf "%.0f\n", s}')
	files[$s]=$(find "${data[$s]}" -type f ! -name .done | wc -l)
	mkdir -p "$run/$s"
	parts=("${data[$s]}"/bin "${data[$s]}"/logs "${data[$s]}"/random "${data[$s]}"/small "${data[$s]}"/src)
	"$ob" pack -q -o "$run/$s/L" -t bench "${parts[@]}" >/dev/null
	"$ob" export -q -o "$run/$s/A.tar" "$run/$s/L:bench" >/dev/null
	if ((baselines)); then
		tar -C "${data[$s]}" --exclude=.done -cf - . | zstd -T0 -3 -q -o "$run/$s/X.tar.zst"
	fi
done
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# command_of OP TOOL SIZE: the shell command, run in $run/SIZE; TOOL is
# ocibundle or base, the same work done by the tools of scripts/bench.sh.
command_of() {
	local d=${data[$3]:-\$DATA}
	case $1/$2 in
	pack/ocibundle) echo "$ob pack -q -o out/L -t bench $d/bin $d/logs $d/random $d/small $d/src" ;;
	pack/base) echo "tar -C $d --exclude=.done -cf - . | zstd -T0 -3 -q -o out/x.tar.zst" ;;
	verify/ocibundle) echo "$ob verify -q L" ;;
	verify/base) echo "openssl dgst -sha256 L/blobs/sha256/*" ;;
	deep/ocibundle) echo "$ob verify -q --deep L" ;;
	deep/base) echo "zstd -dc X.tar.zst | openssl dgst -sha256" ;;
	export/ocibundle) echo "$ob export -q -o out/a.tar L:bench" ;;
	export/base) echo "tar -C L -cf out/a.tar . && sync out/a.tar" ;;
	import/ocibundle) echo "$ob import -q -o out/L A.tar" ;;
	import/base) echo "mkdir out/L && tar -C out/L -xf A.tar && sync -f out/L" ;;
	extract/ocibundle) echo "$ob extract -q -o out/e L:bench" ;;
	extract/base) echo "mkdir out/e && tar -C out/e -x --zstd -f X.tar.zst" ;;
	*) echo "bench-growth: unknown command $1 in GROWTH_OPS" >&2; return 1 ;;
	esac
}
label() { # OP TOOL
	local op=$1 tool=ocibundle
	[[ $op == deep ]] && op="verify --deep"
	if [[ $2 == base ]]; then
		case $1 in
		pack) tool="tar -c \\| zstd -T0 -3" ;;
		verify) tool="openssl dgst -sha256" ;;
		deep) tool="zstd -dc \\| openssl" ;;
		export) tool="tar -c + sync" ;;
		import) tool="tar -x + sync" ;;
		extract) tool="tar -x --zstd" ;;
		esac
	fi
	echo "$op | $tool"
}
tools=(ocibundle)
((baselines)) && tools+=(base)

# Outputs of thousands of files go to trash/, emptied at the start of a round,
# not deleted just before the next run (see "once" in scripts/bench.sh: ext4
# skips recently freed inodes one by one).
results=$run/results.tsv
: >"$results"
once() { # OP TOOL SIZE
	local dir=$run/$3 cmd
	cmd=$(command_of "$1" "$2" "$3")
	if [[ -d $dir/out ]]; then
		mkdir -p "$run/trash" && mv "$dir/out" "$run/trash/o.$RANDOM$RANDOM"
	fi
	mkdir -p "$dir/out"
	sync
	if ! (cd "$dir" && /usr/bin/time -f '%e %U %S %M' -o "$run/time.txt" bash -c "$cmd" >/dev/null 2>"$run/err.txt"); then
		echo "bench-growth: $1 ($2) at $3 failed: $(cat "$run/err.txt")" >&2
		exit 1
	fi
	read -r e u sy m <"$run/time.txt"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$e" "$u" "$sy" "$m" >>"$results"
	echo "bench-growth: round $r $1 $2 $3: ${e} s, user+sys $u+$sy s, $((m / 1024)) MiB" >&2
}
for r in $(seq "$runs"); do
	rm -rf "$run/trash"
	order=("$small" "$large")
	((r % 2 == 0)) && order=("$large" "$small")
	for op in "${ops[@]}"; do
		for tool in "${tools[@]}"; do
			for s in "${order[@]}"; do once "$op" "$tool" "$s"; done
		done
		rm -rf "$run/$small/out" "$run/$large/out"
	done
done
rm -rf "$run/trash" "$run/$small/out" "$run/$large/out"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- table ------------------------------------------------------------------------
med() { # OP TOOL SIZE COLUMN
	awk -F'\t' -v o="$1" -v t="$2" -v s="$3" -v c="$4" '$1 == o && $2 == t && $3 == s {print $c}' "$results" | bench_median
}
table=$(
	echo "| command | tool | $small s | $large s | time $large/$small | per-byte time | per-byte user CPU | per-byte sys CPU | MB/s $small | MB/s $large | RSS MiB $small | RSS MiB $large | time ≤ 5% off linear | RSS ≤ max(16 MiB, 10%) more |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
	for op in "${ops[@]}"; do
		for tool in "${tools[@]}"; do
			awk -v label="$(label "$op" "$tool")" -v ob="$([[ $tool == ocibundle ]] && echo 1)" \
				-v ts="$(med "$op" "$tool" "$small" 4)" -v tl="$(med "$op" "$tool" "$large" 4)" \
				-v us="$(med "$op" "$tool" "$small" 5)" -v ul="$(med "$op" "$tool" "$large" 5)" \
				-v ss="$(med "$op" "$tool" "$small" 6)" -v sl="$(med "$op" "$tool" "$large" 6)" \
				-v ms="$(med "$op" "$tool" "$small" 7)" -v ml="$(med "$op" "$tool" "$large" 7)" \
				-v bs="${bytes[$small]}" -v bl="${bytes[$large]}" '
			function per(l, s) { return s > 0 ? sprintf("%.3f", (l / bl) / (s / bs)) : "-" } # per-byte, large over small
			BEGIN {
				pb = (tl / bl) / (ts / bs) # per-byte time, large over small
				slack = ms * 0.10 > 16384 ? ms * 0.10 : 16384
				tv = pb > 1.05 ? "FAIL" : (pb < 0.95 ? "sublinear" : "PASS")
				mv = ml <= ms + slack ? "PASS" : "FAIL"
				printf "| %s | %.2f | %.2f | %.2f | %.3f | %s | %s | %.0f | %.0f | %.0f | %.0f | %s | %s |\n", label, ts, tl, tl / ts, pb,
					per(ul, us), per(sl, ss), bs / 1e6 / ts, bl / 1e6 / tl, ms / 1024, ml / 1024, ob ? tv : "", ob ? mv : ""
			}'
		done
	done
)
echo "$table"
cp "$results" "$work/growth-results.tsv"
{
	echo "Written by \`scripts/bench-growth.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit: the mixed dataset of"
	echo "\`scripts/bench.sh\` at $small (${bytes[$small]} bytes, ${files[$small]} files) and $large (${bytes[$large]} bytes,"
	echo "${files[$large]} files); $runs rounds, each command at both sizes one after the other (order reversed on even"
	echo "rounds), then its baseline the same way; medians of wall time, user and system CPU time and peak RSS"
	echo "(/usr/bin/time %M). \"per-byte time\" = (t($large) / bytes) / (t($small) / bytes): 1.000 is linear growth,"
	echo "the target is within 5%; \"per-byte user CPU\" and \"sys CPU\" the same of those times. A baseline that grows as"
	echo "ocibundle does shows the machine's growth (page cache, disk), not ocibundle's. Load average at start"
	echo "$load_start, at the end $load_end."
	echo
	echo "$table"
	echo
	echo "Run in \$WORK/growth-run/SIZE, where L is a layout packed from the five top directories of the"
	echo "dataset (five layers), A.tar its export, X.tar.zst the tar | zstd -3 of the dataset; out/ is empty"
	echo "before each run."
	echo
	echo '```'
	for op in "${ops[@]}"; do
		for tool in "${tools[@]}"; do
			echo "$(label "$op" "$tool" | sed 's/\\|/|/g; s/ | / \/ /'): $(command_of "$op" "$tool" none)" | sed "s|$work|\$WORK|g"
		done
	done
	echo '```'
} >"$run/section.md"
bench_section "$out" "Growth (issue 16)" "$run/section.md"
echo "bench-growth: wrote $out"

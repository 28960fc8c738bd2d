#!/usr/bin/env bash
# The issue-6 harness: ocibundle's commands side by side with their baselines
# on one deterministic dataset of BENCH_SIZE (default 1G), in one run,
# alternating, RUNS times (default 3, medians). Prints a table and writes it
# with the machine description and the exact commands to BENCHMARKS.md.
# The dataset is kept in BENCH_WORK (default $TMPDIR/ocibundle-bench) and
# reused by later runs of the same size. Warm page cache throughout.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
source scripts/lib-bench.sh
bench_require bench zstd openssl sha256sum tar oras skopeo /usr/bin/time numfmt
size_arg=${BENCH_SIZE:-1G}
size=$(numfmt --from=iec "$size_arg")
runs=${RUNS:-3}
out=${BENCH_OUT:-$repo/BENCHMARKS.md} # where the report goes
work=${BENCH_WORK:-${TMPDIR:-/tmp}/ocibundle-bench}
case $(realpath -m "$work") in "$repo"|"$repo"/*) echo "bench: BENCH_WORK must be outside the repository" >&2; exit 1 ;; esac
run=$work/run
mkdir -p "$work"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# --- dataset: deterministic, built once per size (scripts/lib-bench.sh) -----
data=$(bench_dataset "$work" "$size_arg")
bytes=$(find "$data" -type f ! -name .done -printf '%s\n' | awk '{s+=$1} END{printf "%.0f\n", s}')
nfiles=$(find "$data" -type f ! -name .done | wc -l)

# --- binary and fixtures (untimed) ---------------------------------------------
rm -rf "$run"
mkdir -p "$run"
CGO_ENABLED=0 go build -trimpath -o "$run/ocibundle" .
ob=$run/ocibundle
parts=("$data"/bin "$data"/logs "$data"/random "$data"/small "$data"/src)
d_default=$("$ob" pack -q -o "$run/L" -t bench "${parts[@]}")
# The bytes must not depend on --jobs or on the cores (untimed).
d_jobs1=$("$ob" pack -q --jobs 1 -o "$run/Lj" -t bench "${parts[@]}")
rm -rf "$run/Lj"
d_jobs8=$(GOMAXPROCS=1 "$ob" pack -q --jobs 8 -o "$run/Lj" -t bench "${parts[@]}")
rm -rf "$run/Lj"
if [[ $d_default == "$d_jobs1" && $d_default == "$d_jobs8" ]]; then
	same_bytes="identical: $d_default for --jobs $(nproc) (the default), --jobs 1, and --jobs 8 under GOMAXPROCS=1"
else
	same_bytes="DIFFERENT: --jobs $(nproc) $d_default, --jobs 1 $d_jobs1, --jobs 8 GOMAXPROCS=1 $d_jobs8"
	echo "bench: pack output depends on --jobs or GOMAXPROCS: $same_bytes" >&2
fi
# A single-blob bundle: the whole dataset as one uncompressed tar layer.
tar -C "$data" --exclude=.done -cf "$run/one.tar" .
"$ob" pack -q -c none -o "$run/L1" -t one "$run/one.tar" >/dev/null
one_bytes=$(stat -c %s "$run/one.tar")
rm -f "$run/one.tar"
tar -C "$data" --exclude=.done -cf - . | zstd -T0 -3 -q -o "$run/X.tar.zst"
# The encoder's ceiling (issue 16): pack's own tar streams (the layer blobs of
# pack -c none, the same five layers), compressed by pack's encoder with pack's
# settings (package compress) and nothing else, as many at once as pack's --jobs.
go build -trimpath -o "$run/zstdceiling" ./internal/benchtools/zstdceiling
"$ob" pack -q -c none -o "$run/Lnone" -t none "${parts[@]}" >/dev/null
tar_blobs=()
for p in "${parts[@]}"; do
	d=$("$ob" inspect "$run/Lnone:none" | awk -v t="$(basename "$p")" '$1 == t && $NF ~ /^sha256:/ { print $NF }')
	tar_blobs+=("$run/Lnone/blobs/sha256/${d#sha256:}")
done
"$ob" export -q -o "$run/A.tar" "$run/L:bench" >/dev/null
# The layer titled small (5% of the data) and its blob, for extract --layer.
small_blob=$("$ob" inspect "$run/L:bench" | awk '$1 == "small" && $NF ~ /^sha256:/ { print $NF }')
small_blob=blobs/sha256/${small_blob#sha256:}
skopeo_ok=1
if ! skopeo copy -q "oci:$run/L:bench" "oci-archive:$run/skopeo-probe.tar" 2>"$run/skopeo.err"; then
	skopeo_ok=0
	echo "bench: skopeo refuses the layout: $(tr '\n' ' ' <"$run/skopeo.err")" >&2
fi
rm -f "$run/skopeo-probe.tar"

# --- timed commands --------------------------------------------------------------
# Each case: OP TOOL, then the shell command (run by bash -c in $run). Outputs go
# to $run/out, removed (untimed) before every run.
declare -a cases=(
	"pack|ocibundle|$ob pack -q -o out/L -t bench ${parts[*]}"
	"pack|tar -c + zstd -3|tar -C $data --exclude=.done -cf - . | zstd -T0 -3 -q -o out/x.tar.zst"
	"pack|klauspost encoder alone|$run/zstdceiling -o out ${tar_blobs[*]}"
	"verify|ocibundle|$ob verify -q L"
	"verify|openssl dgst -sha256|openssl dgst -sha256 L/blobs/sha256/* >/dev/null"
	"verify|sha256sum|sha256sum L/blobs/sha256/* >/dev/null"
	"verify (1 blob)|ocibundle|$ob verify -q L1"
	"verify (1 blob)|openssl dgst -sha256|openssl dgst -sha256 L1/blobs/sha256/* >/dev/null"
	"verify --deep|ocibundle|$ob verify -q --deep L"
	"verify --deep|zstd -dc + openssl|zstd -dc X.tar.zst | openssl dgst -sha256 >/dev/null"
	"export|ocibundle|$ob export -q -o out/a.tar L:bench"
	"export|tar -c|tar -C L -cf out/a.tar ."
	"export|tar -c + sync|tar -C L -cf out/a.tar . && sync out/a.tar"
	"import|ocibundle|$ob import -q -o out/L A.tar"
	"import|tar -x|mkdir out/L && tar -C out/L -xf A.tar"
	"import|tar -x + sync|mkdir out/L && tar -C out/L -xf A.tar && sync -f out/L"
	"extract|ocibundle|$ob extract -q -o out/e L:bench"
	"extract|tar -x --zstd|mkdir out/e && tar -C out/e -x --zstd -f X.tar.zst"
	"extract --layer (5% of an archive)|ocibundle|$ob extract -q -o out/e --layer small A.tar:bench"
	"extract --layer (5% of an archive)|tar -x member + tar -x --zstd|mkdir out/e && tar -xOf A.tar $small_blob | tar -C out/e -x --zstd"
	"files (of an archive)|ocibundle|$ob files A.tar:bench >/dev/null"
	"files (of an archive)|zstd -dc + tar -tv|zstd -dc X.tar.zst | tar -tv >/dev/null"
)
# BENCH_ORAS=0 leaves out oras push, seven times slower than pack (the
# longest part of a large run).
if [[ ${BENCH_ORAS:-1} != 0 ]]; then
	cases+=("pack|oras push --oci-layout|cd $data && oras push --oci-layout $run/out/L:bench bin logs random small src >/dev/null")
fi
if ((skopeo_ok)); then
	cases+=("export|skopeo copy oci-archive|skopeo copy -q oci:L:bench oci-archive:out/a.tar")
fi
results=$run/results.tsv
: >"$results"
# Outputs of thousands of files (extract) are not deleted just before the
# next run: on ext4 without a journal, as here, creating a file skips inodes
# freed in the last half minute one by one (recently_deleted() in the
# kernel's profile), which made the run after a deletion of 9,000 files up
# to twice as slow, whichever tool it was. They go to trash/, emptied at the
# start of each round, minutes before the next extract.
once() { # OP TOOL CMD: one timed run, appended to results
	if [[ -d $run/out/e ]]; then
		mkdir -p "$run/trash" && mv "$run/out/e" "$run/trash/e.$RANDOM$RANDOM"
	fi
	rm -rf "$run/out" && mkdir -p "$run/out"
	sync
	local tf=$run/time.txt
	if ! (cd "$run" && /usr/bin/time -f '%e %M' -o "$tf" bash -c "$3" >/dev/null 2>"$run/err.txt"); then
		echo "bench: $1 / $2 failed: $(cat "$run/err.txt")" >&2
		exit 1
	fi
	if [[ $1 == pack && $2 != oras* ]]; then
		local c
		c=$(find "$run/out" -type f -printf '%s\n' | awk '{s+=$1} END{printf "%.0f\n", s}')
		printf '%s\t%s\tsize\t%s\n' "$1" "$2" "$c" >>"$results"
	fi
	printf '%s\t%s\t%s\n' "$1" "$2" "$(tr ' ' '\t' <"$tf")" >>"$results"
}
ops=(pack verify "verify (1 blob)" "verify --deep" export import extract "extract --layer (5% of an archive)" "files (of an archive)")
for r in $(seq "$runs"); do
	echo "bench: round $r of $runs"
	rm -rf "$run/trash"
	for op in "${ops[@]}"; do
		sel=()
		for c in "${cases[@]}"; do [[ ${c%%|*} == "$op" ]] && sel+=("$c"); done
		# alternate: forward on odd rounds, reversed on even ones
		if ((r % 2 == 0)); then
			rev=()
			for ((i = ${#sel[@]} - 1; i >= 0; i--)); do rev+=("${sel[i]}"); done
			sel=("${rev[@]}")
		fi
		for c in "${sel[@]}"; do
			IFS='|' read -r o tool cmd <<<"$c"
			once "$o" "$tool" "$cmd"
		done
	done
done
rm -rf "$run/out" "$run/trash"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- table ------------------------------------------------------------------------
table=$(awk -F'\t' -v bytes="$bytes" -v one_bytes="$one_bytes" '
function median(k,   n, a, i, j, t) {
	n = split(v[k], a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1]+0 > a[j]+0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
$3 == "size" { sz[$1 SUBSEP $2] = $4; next }
{ k = $1 SUBSEP $2; if (!(k in v)) { order[++n] = k }; v[k] = v[k] " " $3; m[k] = m[k] " " $4 }
END {
	printf "| command | tool | median s | MB/s | ocibundle speed vs this | peak RSS MiB (median) | output / zstd -3 |\n"
	printf "|---|---|---:|---:|---:|---:|---:|\n"
	for (i = 1; i <= n; i++) { k = order[i]; split(k, p, SUBSEP); t[k] = median(k); if (p[2] == "ocibundle") ob[p[1]] = t[k] }
	for (i = 1; i <= n; i++) {
		k = order[i]; split(k, p, SUBSEP)
		save = v[k]; v[k] = m[k]; rss = median(k) / 1024; v[k] = save
		ratio = p[2] == "ocibundle" ? "" : sprintf("%.2fx", t[k] / ob[p[1]])
		cr = ""
		if (p[1] == "pack" && (k in sz)) cr = sprintf("%.4f", sz[k] / sz["pack" SUBSEP "tar -c + zstd -3"])
		b = p[1] == "verify (1 blob)" ? one_bytes : bytes
		printf "| %s | %s | %.2f | %.0f | %s | %.0f | %s |\n", p[1], p[2], t[k], b / 1e6 / t[k], ratio, rss, cr
	}
}' "$results")
echo
echo "$table"
cp "$results" "$work/results-$size.tsv"

# --- BENCHMARKS.md ----------------------------------------------------------------
{
	echo "# Benchmarks (issue 6)"
	echo
	echo "Written by \`scripts/bench.sh\` (\`make bench\`) on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)."
	echo "Dataset: $size_arg requested, $bytes bytes in $nfiles files (Go source text, synthetic logs,"
	echo "copies of the Go toolchain binaries, AES-CTR pseudo-random data; a few large files and many 4–8 KiB ones),"
	echo "deterministic, warm page cache. $runs rounds, each command and its baselines alternating (order reversed"
	echo "on even rounds); medians. MB/s is dataset bytes (10^6) per second for every row, so rows compare"
	echo "(for \"verify (1 blob)\", the $one_bytes bytes of its one layer)."
	echo "\"ocibundle speed vs this\" = baseline time / ocibundle time (above 1 means ocibundle is faster)."
	echo "Peak RSS is /usr/bin/time %M of the whole command (for pipelines, the largest process)."
	echo "\"output / zstd -3\" is the bytes written (for ocibundle the whole layout) over the tar.zst size."
	echo
	echo "## Machine"
	echo
	echo "- nproc: $(nproc); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "- memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); kernel: $(uname -r)"
	echo "- $(go version); zstd $(zstd -V | grep -o 'v[0-9.]*' | head -1); $(openssl version | cut -d' ' -f1-2); oras $(oras version | awk '/Version/ {print $2}'); $(skopeo --version)"
	echo "- load average (1, 5, 15 min): at start $load_start, at end $load_end"
	echo
	echo "## Results"
	echo
	echo "Pack's manifest digest (so every byte of the layers) $same_bytes."
	echo
	echo "$table"
	echo
	if ((!skopeo_ok)); then
		echo "skopeo refused the layout, so it has no row: \`$(tr '\n' ' ' <"$run/skopeo.err" | sed 's/ *$//')\`"
		echo
	fi
	echo "## Commands"
	echo
	echo "Run in the work directory; L is a layout packed from the five top directories (five layers),"
	echo "L1 a layout of one file (the tar of the dataset, packed with -c none: one layer blob of $one_bytes bytes),"
	echo "X.tar.zst the tar|zstd -3 of the dataset,"
	echo "Lnone the dataset packed with -c none (its five layer blobs are pack's uncompressed tar streams:"
	echo "\"klauspost encoder alone\" compresses them with pack's own encoder settings, nothing else, as many at once as pack's --jobs),"
	echo "A.tar ocibundle's export of L; out/ is emptied before each run. \"+ sync\" rows make the output"
	echo "durable (fsync of the file; syncfs for tar -x), as ocibundle does before it reports success."
	echo
	echo '```'
	for c in "${cases[@]}"; do
		IFS='|' read -r o tool cmd <<<"$c"
		echo "$o / $tool: ${cmd//$work/\$WORK}"
	done
	echo '```'
} >"$out.new"
mv "$out.new" "$out"
echo "bench: wrote $out"

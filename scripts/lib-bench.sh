# Shared by the bench scripts (sourced, not run): the tool check, the one
# mixed-tree dataset generator, the one writer of a report section, medians.
# Sourced from the repository root, it puts the peer tools and Go on PATH.
export PATH="$PWD/.tools/bin:/usr/local/go/bin:$PATH"

# bench_require NAME TOOL...: exits with a line naming the first TOOL not on
# PATH (NAME is the script's name for the message).
bench_require() {
	local name=$1 t
	shift
	for t in "$@"; do
		command -v "$t" >/dev/null || { echo "$name: $t is not installed (make tools)" >&2; exit 1; }
	done
}

# bench_dataset WORK SIZE_ARG: prints the directory of the deterministic
# mixed dataset of SIZE_ARG (numfmt --from=iec: 1G, 4G, 200M) bytes under
# WORK (WORK/data-BYTES), generating it once; later calls reuse it. Go source
# text 25%, synthetic logs 25%, Go toolchain binaries 25%, AES-CTR
# pseudo-random 20% in a few large files, and 5% as many 4–8 KiB files
# (3% text, 2% random); every mtime 2026-01-01.
bench_dataset() {
	local work=$1 size
	size=$(numfmt --from=iec "$2")
	local data=$work/data-$size
	if [[ ! -f $data/.done ]]; then
		echo "bench: generating $2 of data in $data" >&2
		rm -rf "$data"
		mkdir -p "$data"/{src,logs,bin,random,small}
		find /usr/local/go/src -type f -name '*.go' -size -64k -print0 | LC_ALL=C sort -z >"$work/text.list"
		find /usr/local/go/bin /usr/local/go/pkg/tool -type f -print0 | LC_ALL=C sort -z >"$work/bin.list"
		local p=$((size / 20)) # 5% units
		_bench_take $((p * 3)) "$data/src/all.go.txt" _bench_text "$work"
		_bench_take $((p * 2)) "$data/src/more.go.txt" _bench_text "$work"
		_bench_take $((p * 5)) "$data/logs/app.log" _bench_logs "$work"
		_bench_take $((p * 5)) "$data/bin/tools.bin" _bench_bin "$work"
		_bench_take $((p * 2)) "$data/random/a.bin" _bench_random "$work"
		_bench_take $((p * 2)) "$data/random/b.bin" _bench_random "$work"
		# many small files: 3% text in 8 KiB pieces, 2% random in 4 KiB pieces
		_bench_take $((size * 3 / 100)) "$work/small.txt" _bench_text "$work"
		split -a 6 -b 8k "$work/small.txt" "$data/small/t"
		_bench_take $((size * 2 / 100)) "$work/small.rnd" _bench_random "$work"
		split -a 6 -b 4k "$work/small.rnd" "$data/small/r"
		rm -f "$work/small.txt" "$work/small.rnd"
		find "$data" -exec touch -h -d '2026-01-01 00:00:00Z' {} +
		touch "$data/.done"
	fi
	echo "$data"
}

_bench_random() { openssl enc -aes-256-ctr -nosalt -pass pass:ocibundle-bench -pbkdf2 -in /dev/zero 2>/dev/null; }
# A corpus stream repeats one file list until head closes the pipe (cat then
# dies of SIGPIPE, the only way the loop ends; an unreadable file does not).
_bench_repeat() { # LIST: the files NUL-separated in LIST, again and again
	[[ -s $1 ]] || { echo "bench: $1 lists no files" >&2; return 1; }
	local rc
	while :; do
		rc=0
		xargs -0 -r cat <"$1" 2>/dev/null || rc=$?
		((rc == 125 || rc >= 128)) && return 0 # xargs: 125 = cat killed by a signal
	done
}
_bench_logs() { awk 'BEGIN{srand(6); split("INFO WARN DEBUG ERROR",l," "); for(i=0;;i++) printf "2026-11-%02d %02d:%02d:%02d.%06d %-5s worker=%d req=%08x path=/api/v1/items/%d took=%dms\n", i%28+1, i%24, i%60, (i*7)%60, i%1000000, l[int(rand()*4)+1], int(rand()*16), int(rand()*2^31), int(rand()*100000), int(rand()*900)}'; }
_bench_text() { _bench_repeat "$1/text.list"; }
_bench_bin() { _bench_repeat "$1/bin.list"; }
_bench_take() { # N FILE STREAM WORK: the first N bytes of STREAM into FILE (the stream ends by SIGPIPE)
	{ "$3" "$4" || true; } | head -c "$1" >"$2"
}

# bench_section OUT TITLE BODY-FILE: puts "## TITLE" followed by BODY-FILE's
# text at the end of the report OUT; an earlier section of that title is
# removed, the other sections are kept in their order. OUT is replaced
# whole (written beside it, then renamed).
bench_section() {
	local out=$1 title=$2 body=$3
	{
		if [[ -f $out ]]; then # without the earlier section and trailing blank lines
			awk -v h="## $title" '$0 == h {skip = 1; next} skip && /^## / {skip = 0} !skip {l[++n] = $0} END {while (n > 0 && l[n] == "") n--; for (i = 1; i <= n; i++) print l[i]}' "$out"
			echo
		fi
		echo "## $title"
		echo
		cat "$body"
	} >"$out.new"
	mv "$out.new" "$out"
}

# bench_median: the median of the numbers on stdin (one or more per line).
bench_median() {
	tr ' \t' '\n\n' | grep . | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# bench_time KEY CMD: runs CMD (bash -c, standard output dropped) under
# /usr/bin/time and adds its wall-clock seconds, user+sys CPU seconds and
# peak RSS (KiB) to the caller's associative arrays times[KEY], cpu[KEY] and
# rss[KEY] (space-separated samples); the run's own figures are left in e
# (wall s), u (user s), s (system s) and m (KiB) for the caller's log line.
# Returns CMD's status (nothing is added when it fails).
bench_time() {
	local tf
	tf=$(mktemp)
	if ! /usr/bin/time -f '%e %U %S %M' -o "$tf" bash -c "$2" >/dev/null; then
		rm -f "$tf"
		return 1
	fi
	read -r e u s m <"$tf"
	rm -f "$tf"
	times[$1]+="$e "
	cpu[$1]+="$(awk -v u="$u" -v s="$s" 'BEGIN{print u + s}') "
	rss[$1]+="$m "
}

# bench_medians KEY...: med[KEY], medcpu[KEY] and medrss[KEY] (the caller's
# associative arrays) from the samples bench_time gathered.
bench_medians() {
	local k
	for k in "$@"; do
		med[$k]=$(echo "${times[$k]}" | bench_median)
		medcpu[$k]=$(echo "${cpu[$k]}" | bench_median)
		medrss[$k]=$(echo "${rss[$k]}" | bench_median)
	done
}

# bench_ratio A B: A / B as "N.NNx" (a speed ratio: baseline time over ours).
bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2fx", a / b}'; }

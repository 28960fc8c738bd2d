# Shared by the bench scripts (sourced, not run): the one writer of a
# section of BENCHMARKS.md and the one median.

# bench_section OUT TITLE: puts stdin, as the section "## TITLE", at the end
# of OUT (created when missing); an earlier section of that title is
# replaced, every other section is kept, trailing blank lines are dropped.
bench_section() {
	local out=$1 title=$2
	{
		if [[ -f $out ]]; then
			awk -v h="## $title" '$0 == h {skip = 1; next} skip && /^## / {skip = 0} !skip {l[++n] = $0} END {while (n > 0 && l[n] == "") n--; for (i = 1; i <= n; i++) print l[i]}' "$out"
			echo
		fi
		echo "## $title"
		echo
		cat
	} >"$out.new"
	mv "$out.new" "$out"
}

# bench_median: the median of the numbers on stdin (blank- or
# newline-separated).
bench_median() {
	tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

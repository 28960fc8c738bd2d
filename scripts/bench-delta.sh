#!/usr/bin/env bash
# Issue 15's measurements of delta bundles (`make bench` runs it; alone:
# ./scripts/bench-delta.sh, DELTA_SIZE=256M for a quick run):
# 1. release 2 of a DELTA_SIZE (default 1G) bundle of five layers with one
#    layer changed: the delta archive must be at most the changed layer + 1%;
# 2. three image-like bundles sharing a DELTA_BASE (default 200M) base layer:
#    the base is shipped once in their full archive, zero times in the delta
#    of their next release;
# 3. inventory of the release-1 site (DELTA_SIZE of blobs) beside
#    `openssl dgst -sha256` of the same blobs (best of RUNS, default 3).
# The data is AES-CTR pseudo-random (incompressible), packed with -c none.
# Prints a table and puts it, as the section "## Delta bundles (issue 15)",
# at the end of BENCH_OUT (default BENCHMARKS.md, which bench.sh rewrote just
# before; an earlier such section is replaced). Exits 1 when a size check
# fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib-bench.sh
bench_require bench-delta openssl numfmt tar jq /usr/bin/time
size=$(numfmt --from=iec "${DELTA_SIZE:-1G}")
base=$(numfmt --from=iec "${DELTA_BASE:-200M}")
runs=${RUNS:-3}
out=${BENCH_OUT:-$PWD/BENCHMARKS.md}
commit=$(git rev-parse --short HEAD)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
go build -C "$OLDPWD" -o "$work/ocibundle" .
ob=$work/ocibundle
rnd() { # SEED N FILE: N pseudo-random bytes
	mkdir -p "$(dirname "$3")"
	{ openssl enc -aes-256-ctr -nosalt -pass "pass:$1" -pbkdf2 -in /dev/zero 2>/dev/null || true; } | head -c "$2" >"$3"
}
fix() { find "$@" -exec touch -h -d '2026-01-01 00:00:00Z' {} +; } # same bytes, same layer
blob() { stat -c %s "$1/blobs/sha256/${2#sha256:}"; }
check() { # OK: PASS or FAIL
	if (($1)); then echo "PASS"; else echo "FAIL"; fi
}

# 1. five layers, the third changed.
for i in 1 2 3 4 5; do rnd "layer$i" $((size / 5)) "r1/l$i/data.bin"; done
fix r1
"$ob" pack -q -c none -o L:1 r1/l1 r1/l2 r1/l3 r1/l4 r1/l5 >/dev/null
"$ob" export -q -o r1.tar L:1 >/dev/null
"$ob" import -q -o site r1.tar >/dev/null
"$ob" inventory -q -o site.inventory site >/dev/null
cp -a r1 r2
rnd "layer3-v2" $((size / 5)) r2/l3/data.bin
fix r2
changed=$("$ob" pack -c none --json -o L:2 r2/l1 r2/l2 r2/l3 r2/l4 r2/l5 | jq -r '.layers[2].size')
"$ob" export -q -o r2.tar L:2 >/dev/null
"$ob" export -q --since site.inventory -o d2.tar L:2 >/dev/null
full2=$(stat -c %s r2.tar)
delta2=$(stat -c %s d2.tar)
inv=$(stat -c %s site.inventory)
ok1=$((delta2 * 100 <= changed * 101))

# 2. three image-like bundles on one base layer, then their next release.
rnd base "$base" img/base/rootfs.bin
for rel in 1 2; do
	for app in a b c; do
		rnd "app-$app-$rel" $((base / 20)) "img/$app$rel/app.bin"
	done
done
fix img
for app in a b c; do "$ob" pack -q -c none -o I:"${app}1" img/base "img/${app}1" >/dev/null; done
for app in a b c; do "$ob" pack -q -c none -o I:"${app}2" img/base "img/${app}2" >/dev/null; done
bdigest=$("$ob" inspect --json I:a1 | jq -r '.layers[0].digest')
"$ob" export -q -o i1.tar I:a1 I:b1 I:c1 >/dev/null
"$ob" import -q -o isite i1.tar >/dev/null
"$ob" inventory -q -o isite.inventory isite >/dev/null
"$ob" export -q --since isite.inventory -o i2.tar I:a2 I:b2 I:c2 >/dev/null
in_full=$(tar -tf i1.tar | grep -c "${bdigest#sha256:}" || true)
in_delta=$(tar -tf i2.tar | grep -c "${bdigest#sha256:}" || true)
ok2=$((in_full == 1 && in_delta == 0))

# 3. inventory against openssl on the same blobs.
best() { # CMD: the best wall-clock seconds of RUNS runs
	local b="" t
	for _ in $(seq "$runs"); do
		/usr/bin/time -f %e -o t.txt bash -c "$1" >/dev/null 2>&1
		t=$(cat t.txt)
		if [[ -z $b ]] || awk -v a="$t" -v b="$b" 'BEGIN{exit !(a < b)}'; then b=$t; fi
	done
	echo "$b"
}
t_inv=$(best "$ob inventory -q -o x.inventory site")
t_ssl=$(best "openssl dgst -sha256 site/blobs/sha256/*")
blobs_bytes=$(du -cb site/blobs/sha256/* | tail -1 | cut -f1)

table=$(
echo "| measurement | value | target | |"
echo "|---|---|---|---|"
echo "| release 2, one of five layers changed: delta archive / changed layer | $delta2 / $changed bytes ($(awk -v a="$delta2" -v b="$changed" 'BEGIN{printf "%.4f", a/b}')); full archive $full2 | ≤ 1.01 | $(check $ok1) |"
echo "| inventory file of the release-1 site | $inv bytes | | |"
echo "| three bundles on one $(numfmt --to=iec "$base") base: base blob in the full archive / in the next delta | $in_full / $in_delta | 1 / 0 | $(check $ok2) |"
echo "| inventory of $(numfmt --to=iec "$blobs_bytes") of blobs vs openssl dgst -sha256 | $t_inv s vs $t_ssl s ($(awk -v a="$t_ssl" -v b="$t_inv" 'BEGIN{printf "%.2fx", a/b}')) | ≥ 1.5x | $(awk -v a="$t_ssl" -v b="$t_inv" 'BEGIN{print (a >= 1.5*b) ? "PASS" : "below"}') |"
)
echo "$table"
{
	echo "Written by \`scripts/bench-delta.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit, DELTA_SIZE=${DELTA_SIZE:-1G},"
	echo "DELTA_BASE=${DELTA_BASE:-200M}, best of $runs for times; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	echo "$table"
} >"$work/section.md"
bench_section "$out" "Delta bundles (issue 15)" "$work/section.md"
echo "bench-delta: wrote $out"
((ok1 && ok2))

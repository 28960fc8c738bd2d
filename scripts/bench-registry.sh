#!/usr/bin/env bash
# Push and pull of a benchmark bundle (4 incompressible files of 64 MiB, packed
# without compression) against a local docker-registry (distribution), beside
# `oras push` and `oras pull` of the same files to the same registry. Each run
# goes to a new repository, so that nothing is skipped. Prints the best of
# RUNS (default 3) wall-clock seconds per command.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/bin:/usr/local/go/bin:$PATH"
for t in docker-registry oras; do
	command -v "$t" >/dev/null || { echo "bench-registry: $t is not installed (make tools)" >&2; exit 1; }
done
runs=${RUNS:-3}
work=$(mktemp -d)
reg_pid=
cleanup() {
	[[ -n $reg_pid ]] && kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/ocibundle" .
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
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: $addr
EOF
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do curl -fs "http://$addr/v2/" >/dev/null && break; sleep 0.1; done

mkdir -p "$work/src"
for i in 0 1 2 3; do head -c $((64 << 20)) /dev/urandom >"$work/src/part$i.bin"; done
files=("$work"/src/part*.bin)
ob="$work/ocibundle"
"$ob" pack -q -c none -o "$work/layout" -t bench "${files[@]}" >/dev/null

best() { # label command...
	local b=
	for r in $(seq "$runs"); do
		local s e
		s=$(date +%s.%N)
		"${@:2}" >/dev/null 2>&1 || { echo "bench-registry: $1 failed" >&2; exit 1; }
		e=$(date +%s.%N)
		b=$(awk -v b="$b" -v t="$(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.2f", e-s}')" 'BEGIN{print (b=="" || t+0<b+0) ? t : b}')
		rm -rf "$work/out"
	done
	printf '%-34s %6s s\n' "$1" "$b"
}
n=0
push_ob() {
	n=$((n + 1))
	"$ob" push -q --plain-http "$work/layout:bench" "$addr/bench/r$n:bench"
}
push_oras() {
	n=$((n + 1))
	(cd "$work/src" && oras push --plain-http "$addr/bench/r$n:bench" part0.bin part1.bin part2.bin part3.bin)
}
echo "push and pull of 4 x 64 MiB to docker-registry on $addr (best of $runs)"
best "ocibundle push" push_ob
best "oras push" push_oras
"$ob" push -q --plain-http "$work/layout:bench" "$addr/bench/ob:bench" >/dev/null
(cd "$work/src" && oras push --plain-http "$addr/bench/oras:bench" part0.bin part1.bin part2.bin part3.bin >/dev/null)
best "ocibundle pull (verified, fsync)" "$ob" pull -q --plain-http -o "$work/out" "$addr/bench/ob:bench"
best "oras pull (files)" oras pull --plain-http -o "$work/out" "$addr/bench/oras:bench"
best "oras copy --to-oci-layout" oras cp --from-plain-http "$addr/bench/oras:bench" --to-oci-layout "$work/out:bench"

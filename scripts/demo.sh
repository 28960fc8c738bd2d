#!/usr/bin/env bash
# The main job on the bundled sample, as a sender and a receiving site would run it:
# pack testdata/demo into a layout, list, inspect and verify it, export it to one
# archive (and split parts), import that archive at the "site" as hostile input,
# verify it deeply against the published digest, and extract the files again.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./bin/ocibundle
out=demo-out
rm -rf "$out"
mkdir -p "$out"
export SOURCE_DATE_EPOCH=1700000000   # file times clamped: same bytes on any checkout

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
pack_args=(-t 1.0 -t latest
	-a org.opencontainers.image.version=1.0
	-a "org.opencontainers.image.description=demo release"
	testdata/demo/release testdata/demo/CHANGELOG.md)

echo "# the sender"
step $bin pack -o $out/layout "${pack_args[@]}"
digest=$($bin inspect --json $out/layout:1.0 | sed -n 's/^  "digest": "\(.*\)",$/\1/p')
step $bin ls $out/layout
step $bin inspect $out/layout:1.0
step $bin verify $out/layout:1.0
step $bin export -o $out/release.tar $out/layout:1.0
mkdir -p $out/parts
step $bin export -o $out/parts/release.tar --split 2K $out/layout:1.0
step sh -c "cd $out/parts && sha256sum -c --ignore-missing release.tar.sha256"

echo
echo "# the receiving site: check what arrived against the published digest, import, extract"
step $bin verify --deep --digest "$digest" $out/release.tar
step $bin import -o $out/site $out/parts/release.tar.sha256
step $bin verify --deep --strict $out/site:1.0
step $bin extract -o $out/files $out/site:1.0
step diff -r testdata/demo $out/files
echo "the extracted files equal testdata/demo"

echo
echo "# reproducibility: pack the same inputs again and compare every byte"
$bin pack -q -o $out/again "${pack_args[@]}" >/dev/null
diff -r $out/layout/blobs $out/again/blobs >/dev/null
cmp $out/layout/index.json $out/again/index.json
echo "identical: $(ls $out/layout/blobs/sha256 | wc -l) blobs and index.json"
echo
echo "Done: the layout is in $out/layout (a plain OCI layout: oras, skopeo, regctl read it)."

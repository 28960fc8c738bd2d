#!/usr/bin/env bash
# make release: the release binaries, built reproducibly, their SHA256SUMS, and
# the lot packed by ocibundle itself into an OCI layout (tag = the version)
# plus its export archive. Two runs on the same commit give the same bytes.
#
#   RELEASE_OUT      where it all goes (default dist; emptied first)
#   RELEASE_TARGETS  GOOS/GOARCH list (default: the six of make cross)
#   VERSION          the version stamped and tagged (default: git describe
#                    --tags of a v* tag, else a Go pseudo-version of HEAD;
#                    -dirty when the work tree has changes)
#
# What makes the bytes the same: CGO_ENABLED=0, -trimpath (no local paths),
# -buildvcs=false and -ldflags -buildid= (nothing from the checkout's state
# or the build cache), -s -w; the version, revision and commit time are
# stamped with -X. SOURCE_DATE_EPOCH is the last commit's time: pack clamps
# file times to it and writes it as the created time. The Go toolchain must be
# the same (go.mod names it; the binaries say which: ocibundle version).
#
# Output (V = the version):
#   RELEASE_OUT/ocibundle-V/ocibundle-V-OS-ARCH[.exe]  and  SHA256SUMS
#   RELEASE_OUT/oci/          an OCI layout, tag V: one gzip layer holding the
#                             directory ocibundle-V (oras pull unpacks it)
#   RELEASE_OUT/ocibundle-V.tar         the export archive of oci:V
#   RELEASE_OUT/ocibundle-V.tar.sha256  its sha256 (sha256sum -c)
#   RELEASE_OUT/MANIFEST_DIGEST         the manifest digest (verify --digest)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
# Set here, these win over the user's (environment or go env -w): only the
# flags below shape the build, for the baseline CPU of each architecture.
export GOFLAGS=-buildvcs=false GOAMD64=v1 GOARM64=v8.0
out=${RELEASE_OUT:-dist}
targets=${RELEASE_TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64}

export SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
revision=$(git rev-parse HEAD)
revision_time=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ)
dirty=
[[ -z $(git status --porcelain --untracked-files=no) ]] || dirty=-dirty
if [[ -z ${VERSION:-} ]]; then
	VERSION=$(git describe --tags --match 'v[0-9]*' --exact-match 2>/dev/null ||
		echo "v0.0.0-$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S)-${revision:0:12}")$dirty
fi
case $VERSION in
[A-Za-z0-9_]*) ;;
*) echo "release: VERSION $VERSION is not an OCI tag" >&2; exit 2 ;;
esac

rm -rf "$out"
name=ocibundle-$VERSION
files=$out/$name
mkdir -p "$files"
ldflags="-s -w -buildid= -X main.version=$VERSION -X main.revision=$revision -X main.revisionTime=$revision_time"
for t in $targets; do
	goos=${t%/*} goarch=${t#*/}
	ext=
	[[ $goos == windows ]] && ext=.exe
	echo "release: build $t"
	GOOS=$goos GOARCH=$goarch CGO_ENABLED=0 go build -trimpath -buildvcs=false \
		-ldflags "$ldflags" -o "$files/$name-$goos-$goarch$ext" .
done
(cd "$files" && LC_ALL=C sha256sum -- * >SHA256SUMS)
# pack keeps file modes: set them, so that the umask does not reach the layer.
chmod 0755 "$files" "$files"/ocibundle-*
chmod 0644 "$files/SHA256SUMS"

# Packed by this very source, built for the host.
tool=$(mktemp -d)
trap 'rm -rf "$tool"' EXIT
CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$tool/ocibundle" .
ob=$tool/ocibundle
digest=$("$ob" pack -q -o "$out/oci" -t "$VERSION" -c gzip \
	-a "org.opencontainers.image.version=$VERSION" \
	-a "org.opencontainers.image.revision=$revision" \
	-a "org.opencontainers.image.title=ocibundle" \
	"$files")
echo "$digest" >"$out/MANIFEST_DIGEST"
"$ob" export -q -o "$out/$name.tar" "$out/oci:$VERSION" >/dev/null
(cd "$out" && sha256sum -- "$name.tar" >"$name.tar.sha256")
"$ob" verify -q --deep --digest "$digest" "$out/$name.tar" >/dev/null
echo "release: $VERSION"
echo "release: manifest $digest"
echo "release: archive $(cut -d' ' -f1 "$out/$name.tar.sha256")  $out/$name.tar"

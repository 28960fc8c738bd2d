#!/usr/bin/env bash
# Installs the pinned peer tools the interop tests run against into .tools/bin
# (oras, crane, regctl, staticcheck with `go install`; notation built from
# its tools module) and, when running as root,
# skopeo, umoci, zstd, docker-registry (distribution, for the push/pull
# tests), zsh, fish, man-db and groff-base from Debian. Tools already present
# are left alone.
# It never fails the build by itself: the tests decide whether a missing tool is
# fatal (under CI=true) or a loud skip.
set -u
cd "$(dirname "$0")/.."
bin="$PWD/.tools/bin"
mkdir -p "$bin"

goinstall() { # name module@version
	if [[ ! -x "$bin/$1" ]]; then
		echo "install-peers: go install $2"
		GOBIN="$bin" go install "$2" || echo "install-peers: could not install $1" >&2
	fi
}
goinstall oras oras.land/oras/cmd/oras@v1.3.6
goinstall crane github.com/google/go-containerregistry/cmd/crane@v0.22.1
goinstall regctl github.com/regclient/regclient/cmd/regctl@v0.11.7
goinstall staticcheck honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Tools `go install module@version` cannot fetch (the module proxy refuses
# the version list it reads for deprecation notices) are built from a small
# tools module under scripts/tools/NAME that pins them (go.mod's tool line).
gotool() { # name package
	if [[ ! -x "$bin/$1" ]]; then
		echo "install-peers: go build $2 (scripts/tools/$1)"
		(cd "scripts/tools/$1" && go build -o "$bin/$1" "$2") || echo "install-peers: could not install $1" >&2
	fi
}
gotool notation github.com/notaryproject/notation/cmd/notation # v1.3.2

# Debian packages by the command the tests run: zsh, fish (the completion
# tests), man and groff (the man page test).
missing=()
for t in skopeo umoci zstd docker-registry zsh fish man:man-db groff:groff-base; do
	command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
done
if ((${#missing[@]})); then
	if [[ $(id -u) == 0 ]]; then
		echo "install-peers: apt-get install ${missing[*]}"
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null ||
			echo "install-peers: could not install ${missing[*]}" >&2
	else
		echo "install-peers: not root, cannot install ${missing[*]}" >&2
	fi
fi
exit 0

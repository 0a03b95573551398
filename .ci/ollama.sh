#!/usr/bin/env bash
# Builds the pinned Ollama server used by the live benchmark integration test
# (cmd/roofline/ollama_test.go) into a cache directory, reusing an earlier
# build when one is there, and prints the path of the binary on the last line
# of stdout.
#
#   bin=$(.ci/ollama.sh | tail -n 1)
#
# Environment:
#   ROOFLINE_CI_CACHE  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/roofline-ci)
#
# v0.6.5 is pinned: it builds from the Go module proxy with only Go and
# gcc/g++ (cgo). Later releases need headers that their module zips omit.
# Any failure exits non-zero, so CI fails rather than skipping the test.
set -euo pipefail

version=v0.6.5
cache=${ROOFLINE_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/roofline-ci}
dir=$cache/ollama-$version
bin=$dir/bin/ollama

log() { echo "ollama.sh: $*" >&2; }

if [[ -x $bin ]] && "$bin" --version >/dev/null 2>&1; then
	log "reusing $bin"
	echo "$bin"
	exit 0
fi

command -v go >/dev/null || { log "go is not installed"; exit 1; }
command -v gcc >/dev/null || { log "gcc is not installed"; exit 1; }
if ! command -v g++ >/dev/null; then
	log "g++ missing; installing it with apt-get"
	sudo=
	[[ $(id -u) -eq 0 ]] || sudo=sudo
	$sudo apt-get update
	$sudo DEBIAN_FRONTEND=noninteractive apt-get install -y g++
fi
log "$(gcc --version | head -n 1)"
log "$(g++ --version | head -n 1)"
log "$(go version)"

mkdir -p "$dir/bin"
start=$(date +%s)
log "building github.com/ollama/ollama@$version into $dir/bin (takes several minutes)"
GOFLAGS= CGO_ENABLED=1 GOBIN=$dir/bin go install "github.com/ollama/ollama@$version"
log "build took $(($(date +%s) - start)) s"

"$bin" --version >&2 || { log "built binary does not run"; exit 1; }
echo "$bin"

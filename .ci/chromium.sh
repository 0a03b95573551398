#!/usr/bin/env bash
# Installs headless Chromium (Debian package "chromium") for the HTML report test
# (report/render_test.go) when it is missing, and prints the path of the binary on the
# last line of stdout.
#
#   ROOFLINE_CHROMIUM=$(.ci/chromium.sh | tail -n 1)
#
# Uses apt-get (update first), as root or through sudo. Exits non-zero when Chromium
# cannot be installed; the test then skips with a message saying so.
set -euo pipefail

log() { echo "chromium.sh: $*" >&2; }

for b in chromium chromium-browser; do
	if p=$(command -v "$b"); then
		log "found $p"
		echo "$p"
		exit 0
	fi
done

sudo=""
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null || { log "not root and no sudo: cannot install chromium"; exit 1; }
	sudo="sudo -n"
fi
command -v apt-get >/dev/null || { log "apt-get not found: install chromium by hand"; exit 1; }
log "installing chromium with apt-get"
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-liberation >&2
command -v chromium

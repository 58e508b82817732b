#!/usr/bin/env bash
# Builds the demo service: bash testdata/demo/build.sh OUTPUT
set -euo pipefail
out=${1:?usage: build.sh OUTPUT}
command -v go >/dev/null || { echo "build.sh: go is not installed (apt-get install -y golang-go)" >&2; exit 1; }
cd "$(dirname "$0")"
GOFLAGS=-mod=mod GOPROXY=off go build -o "$out" .

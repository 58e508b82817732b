#!/usr/bin/env bash
# Builds the demo service (testdata/demo, stdlib only) into OUT:
#
#   bash testdata/demo/build.sh OUT
#
# Runnable from any directory; OUT may be relative to the current directory and
# its parent directory is created. Offline: no module proxy is consulted.
set -euo pipefail

die() { echo "build.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: bash testdata/demo/build.sh OUT"
command -v go >/dev/null 2>&1 ||
  die "'go' was not found in PATH; install Go (1.19 or later) to build the demo service"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$1"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
mkdir -p "$(dirname "$out")" || die "cannot create the directory of $out"

# Offline, reproducible build of a stdlib-only program (as ../regenerate.sh).
export GOFLAGS= GOPROXY=off GOWORK=off GO111MODULE=on CGO_ENABLED=0
# Test runners may start us without HOME, and then Go has no build cache.
case "$(go env GOCACHE 2>/dev/null)" in
  "" | off) export GOCACHE="${TMPDIR:-/tmp}/flamewright-demo-go-build" ;;
esac

(cd "$here" && go build -o "$out" .) || die "building $here failed"

#!/usr/bin/env bash
# Regenerates testdata/profiles/: real Go profiles written by runtime/pprof
# (testdata/profgen), a diff profile made by `go tool pprof -proto -base`, and
# the `go tool pprof -top` / `-traces` oracle outputs for every sample type of
# every profile. Runnable from any directory; idempotent (old outputs are
# replaced). The CPU profile (and so its oracles) differs on every run.
set -euo pipefail

die() { echo "regenerate.sh: $*" >&2; exit 1; }

command -v go >/dev/null 2>&1 ||
  die "'go' was not found in PATH; install Go (1.19 or later) to regenerate the test profiles"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/profgen"
out="$here/profiles"

# Offline, reproducible build of a stdlib-only program; UTC so the "Time:"
# header lines of the oracle outputs do not depend on the local time zone.
export GOFLAGS= GOPROXY=off GOWORK=off GO111MODULE=on CGO_ENABLED=0 TZ=UTC

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "building profgen" >&2
(cd "$src" && go build -o "$tmp/profgen" .) || die "building $src failed"

mkdir -p "$out"
rm -f "$out"/*.pb.gz "$out"/*.top.txt "$out"/*.traces.txt

echo "running profgen (about 3 s of CPU)" >&2
"$tmp/profgen" -out "$out" || die "profgen failed"

# pprof is run from the scratch directory so nothing is written next to the
# profiles by accident.
cd "$tmp"
pprof() { go tool pprof -symbolize=none "$@"; }

echo "building diff.pb.gz (heap-b minus heap-a)" >&2
pprof -proto -base "$out/heap-a.pb.gz" -output "$out/diff.pb.gz" "$out/heap-b.pb.gz" 2>"$tmp/diff.err" ||
  { cat "$tmp/diff.err" >&2; die "go tool pprof -proto -base failed"; }
# The sample lines of -raw are "   v1 v2 ...: loc ids"; require a negative value.
pprof -raw "$out/diff.pb.gz" >"$tmp/diff.raw"
grep -Eq '^ *(-?[0-9]+ +)*-[0-9]+ *:' "$tmp/diff.raw" || die "diff.pb.gz has no negative values"

# pprof -unit that prints exact integers for a sample type's unit.
unit_flag() {
  case "$1" in
    nanoseconds) echo ns ;;
    bytes) echo B ;;
    count) echo count ;;
    *) die "no exact -unit known for sample unit '$1'" ;;
  esac
}

for f in "$out"/*.pb.gz; do
  name="$(basename "$f" .pb.gz)"
  # The line after "Samples:" in -raw lists the sample types: "type/unit[dflt] ...".
  pprof -raw "$f" >"$tmp/raw.txt"
  types="$(awk '/^Samples:/ { getline; print; exit }' "$tmp/raw.txt")"
  [ -n "$types" ] || die "could not read the sample types of $f"
  n=0
  for t in $types; do
    t="${t%\[dflt\]}"
    u="$(unit_flag "${t#*/}")"
    echo "oracles: $name sample_index=$n ($t, -unit=$u)" >&2
    pprof -top -nodecount=1000000 -nodefraction=0 -edgefraction=0 \
      -sample_index="$n" -unit="$u" "$f" >"$out/$name.$n.top.txt"
    pprof -traces -sample_index="$n" -unit="$u" "$f" >"$out/$name.$n.traces.txt"
    n=$((n + 1))
  done
done

echo "done: $(ls "$out" | wc -l) files in $out ($(du -sh "$out" | cut -f1))" >&2

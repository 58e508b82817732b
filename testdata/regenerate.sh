#!/usr/bin/env bash
# Regenerates testdata/profiles/: real Go profiles written by runtime/pprof
# (testdata/profgen), a diff profile made by `go tool pprof -proto -base`, and
# the `go tool pprof -top` / `-traces` / `-tags` oracle outputs for every sample type of
# every profile, and `-top` with `-focus`/`-ignore` for the cases listed at the
# end. Runnable from any directory; idempotent (old outputs are replaced). The
# CPU profile (and so its oracles) differs on every run.
#
#   regenerate.sh                 profiles and oracles
#   regenerate.sh --oracles-only  the oracles of the committed profiles: to add an
#                                 oracle case without replacing every profile
set -euo pipefail

die() { echo "regenerate.sh: $*" >&2; exit 1; }

command -v go >/dev/null 2>&1 ||
  die "'go' was not found in PATH; install Go (1.19 or later) to regenerate the test profiles"

oracles_only=false
case "${1:-}" in
  "") ;;
  --oracles-only) oracles_only=true ;;
  *) die "unknown argument '$1' (expected nothing or --oracles-only)" ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/profgen"
out="$here/profiles"

# Offline, reproducible build of a stdlib-only program; UTC so the "Time:"
# header lines of the oracle outputs do not depend on the local time zone.
export GOFLAGS= GOPROXY=off GOWORK=off GO111MODULE=on CGO_ENABLED=0 TZ=UTC

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# pprof is run from the scratch directory so nothing is written next to the
# profiles by accident.
cd "$tmp"
pprof() { go tool pprof -symbolize=none "$@"; }

if ! $oracles_only; then
  echo "building profgen" >&2
  (cd "$src" && go build -o "$tmp/profgen" .) || die "building $src failed"

  mkdir -p "$out"
  rm -f "$out"/*.pb.gz

  echo "running profgen (about 3 s of CPU)" >&2
  "$tmp/profgen" -out "$out" || die "profgen failed"

  echo "building diff.pb.gz (heap-b minus heap-a)" >&2
  pprof -proto -base "$out/heap-a.pb.gz" -output "$out/diff.pb.gz" "$out/heap-b.pb.gz" 2>"$tmp/diff.err" ||
    { cat "$tmp/diff.err" >&2; die "go tool pprof -proto -base failed"; }
  # The sample lines of -raw are "   v1 v2 ...: loc ids"; require a negative value.
  pprof -raw "$out/diff.pb.gz" >"$tmp/diff.raw"
  grep -Eq '^ *(-?[0-9]+ +)*-[0-9]+ *:' "$tmp/diff.raw" || die "diff.pb.gz has no negative values"
fi

mkdir -p "$out/filtered"
rm -f "$out"/*.top.txt "$out"/*.traces.txt "$out"/*.tags.txt "$out"/*.peek.txt "$out"/*.lines.txt "$out"/filtered/*.top.txt

# pprof -unit that prints exact integers for a sample type's unit.
unit_flag() {
  case "$1" in
    nanoseconds) echo ns ;;
    bytes) echo B ;;
    count) echo count ;;
    *) die "no exact -unit known for sample unit '$1'" ;;
  esac
}

# The sample types of a profile, "type/unit ...": -raw lists them on the line
# after "Samples:", as "type/unit[dflt] ...". Call as types="$(sample_types F)"
# so that a failure stops the script.
sample_types() {
  pprof -raw "$1" >"$tmp/raw.txt"
  local types
  types="$(awk '/^Samples:/ { getline; print; exit }' "$tmp/raw.txt")"
  [ -n "$types" ] || die "could not read the sample types of $1"
  echo "${types//\[dflt\]/}"
}

for f in "$out"/*.pb.gz; do
  name="$(basename "$f" .pb.gz)"
  types="$(sample_types "$f")"
  n=0
  for t in $types; do
    u="$(unit_flag "${t#*/}")"
    echo "oracles: $name sample_index=$n ($t, -unit=$u)" >&2
    pprof -top -nodecount=1000000 -nodefraction=0 -edgefraction=0 \
      -sample_index="$n" -unit="$u" "$f" >"$out/$name.$n.top.txt"
    pprof -traces -sample_index="$n" -unit="$u" "$f" >"$out/$name.$n.traces.txt"
    pprof -tags -sample_index="$n" -unit="$u" "$f" >"$out/$name.$n.tags.txt"
    pprof -lines -top -nodecount=1000000 -nodefraction=0 -edgefraction=0 \
      -sample_index="$n" -unit="$u" "$f" >"$out/$name.$n.lines.txt"
    # Every function with its callers and callees; a profile without samples has no function, which pprof
    # reports as an error: its oracle keeps the header alone.
    pprof -peek '.' -sample_index="$n" -unit="$u" "$f" >"$out/$name.$n.peek.txt" 2>"$tmp/peek.err" ||
      grep -q 'no matches found' "$tmp/peek.err" || { cat "$tmp/peek.err" >&2; die "go tool pprof -peek $f failed"; }
    n=$((n + 1))
  done
done

# -top with -focus/-ignore (FilterAgreementTests), written to
# filtered/<profile>.<sample index>.<case>.top.txt. One case a line:
# profile, sample index, case name, focus, ignore ("-" for none). pprof prints
# the patterns under "Active filters:", which the tests check against theirs.
while read -r name n case focus ignore; do
  f="$out/$name.pb.gz"
  types="$(sample_types "$f")"
  read -ra types <<<"$types"
  t="${types[$n]}"
  u="$(unit_flag "${t#*/}")"
  filters=()
  [ "$focus" = - ] || filters+=(-focus="$focus")
  [ "$ignore" = - ] || filters+=(-ignore="$ignore")
  echo "oracles: $name sample_index=$n ${filters[*]}" >&2
  # pprof warns on stderr when a pattern matches nothing, which a case may mean:
  # its stderr is shown only if it fails.
  pprof -top -nodecount=1000000 -nodefraction=0 -edgefraction=0 -sample_index="$n" -unit="$u" \
    "${filters[@]}" "$f" >"$out/filtered/$name.$n.$case.top.txt" 2>"$tmp/filter.err" ||
    { cat "$tmp/filter.err" >&2; die "go tool pprof -top ${filters[*]} $f failed"; }
done <<'CASES'
cpu 1 focus-inlined-function main\.mix -
cpu 1 ignore-by-file-name - preempt_amd64\.s$
cpu 1 focus-by-binary-path profgen$ -
cpu 0 focus-and-ignore main\.cpuPhase main\.mix|Multiply
heap 1 focus-and-ignore main\.alloc main\.allocStrings
diff 3 focus-negative-values main\.alloc -
goroutine 0 focus-truncated-recursion main\.recurse -
threadcreate 0 ignore-matching-nothing - no-such-function
CASES

# -top with label filters and splits (LabelFilterAgreementTests), written as above. One case a
# line: profile, sample index, case name, then pprof's flags (-tagfocus, -tagignore, -tagroot,
# -focus), none holding a space. pprof prints the filters under "Active filters:".
while read -r name n case rest; do
  f="$out/$name.pb.gz"
  types="$(sample_types "$f")"
  read -ra types <<<"$types"
  t="${types[$n]}"
  u="$(unit_flag "${t#*/}")"
  read -ra filters <<<"$rest"
  echo "oracles: $name sample_index=$n ${filters[*]}" >&2
  pprof -top -nodecount=1000000 -nodefraction=0 -edgefraction=0 -sample_index="$n" -unit="$u" \
    "${filters[@]}" "$f" >"$out/filtered/$name.$n.$case.top.txt" 2>"$tmp/filter.err" ||
    { cat "$tmp/filter.err" >&2; die "go tool pprof -top ${filters[*]} $f failed"; }
done <<'CASES'
cpu 1 tagfocus-key-and-value -tagfocus=tenant=acme
cpu 1 tagignore-key-and-value -tagignore=job=deep
cpu 0 tagfocus-any-key -tagfocus=phase:generic
cpu 1 tagfocus-every-expression-of-a-list -tagfocus=tenant:acme,phase:generic
cpu 1 tagfocus-any-value-of-a-key -tagfocus=job=nothing,deep
cpu 1 tagfocus-and-focus -tagfocus=tenant=acme -focus=main\.cpuPhase
cpu 1 tagroot-tenant -tagroot=tenant
cpu 0 tagroot-with-tagignore -tagroot=job -tagignore=tenant=acme
heap 1 tagfocus-bytes-between -tagfocus=bytes=64kb:1mb
heap 3 tagignore-bytes-at-most -tagignore=bytes=:4kb
heap 1 tagfocus-any-number-at-least -tagfocus=64kb:
heap 1 tagfocus-exact-bytes -tagfocus=bytes=4096b
heap 1 tagfocus-number-without-unit -tagfocus=bytes=4096
heap 1 tagroot-bytes -tagroot=bytes
CASES

echo "done: $(ls "$out" | wc -l) files in $out ($(du -sh "$out" | cut -f1))" >&2

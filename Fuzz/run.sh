#!/usr/bin/env bash
# Runs each fuzz target built by Fuzz/build.sh for SECONDS (default 60) and prints one
# line per target: executions, coverage (libFuzzer's `cov`: instrumented edges reached;
# `ft`: features), corpus size. Exits 1 when a target found a crash, a sanitizer report,
# a leak, a timeout or an out-of-memory; the input that did it is in
# .build-fuzz/findings/TARGET/ (replay: .build-fuzz/fuzz-TARGET FILE).
#
# Usage: Fuzz/run.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${FUZZ_SCRATCH:-.build-fuzz}
SECONDS_EACH=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(wire plan csv)
status=0
for t in "${TARGETS[@]}"; do
    corpus=$SCRATCH/corpus/$t findings=$SCRATCH/findings/$t log=$SCRATCH/fuzz-$t.log
    mkdir -p "$corpus" "$findings"
    # New inputs go to the scratch corpus; the seeds in the repository are only read.
    # -timeout: one input taking 10 s is a finding (a hang), as is using 2 GB.
    # The plan target's inputs are kept to 2 KB (the complete example plan is 1.5 KB): a
    # plan of 26 KB takes 80 ms to load in this instrumented debug build, 2 KB some 3 ms.
    extra=()
    [ "$t" = plan ] && extra=(-max_len=2048)
    "$SCRATCH/fuzz-$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "${extra[@]}" -artifact_prefix="$findings/" "$corpus" "Fuzz/seeds/$t" > "$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
    units=$(find "$corpus" -type f | wc -l)
    if [ $rc -eq 0 ]; then verdict=clean; else verdict="FOUND SOMETHING (exit $rc; $log; inputs in $findings)"; status=1; fi
    printf 'fuzz %-5s %4s s  %9s executions  cov %5s  ft %6s  corpus %5s  %s\n' \
        "$t" "$SECONDS_EACH" "${runs:-?}" "${cov:-?}" "${ft:-?}" "$units" "$verdict"
    [ $rc -eq 0 ] || grep -E 'ERROR|Fatal error|Precondition|SUMMARY|Test unit written' "$log" | head -10
done
exit $status

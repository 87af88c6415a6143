#!/usr/bin/env bash
# The whole cargo-mutants campaign of issue 13, as N round-robin shards of each group, resumable:
# a shard whose run ended is skipped, so the campaign can be stopped and started again (or its
# shards spread over machines and their mutants.out/ directories copied together).
#
#   scripts/mutants-campaign.sh [N]      # N shards per group, default 12
#   scripts/mutants-summary.py           # the table per file, over every shard judged so far
#
# It mutates the files of this checkout in place (cargo mutants --in-place), so that every shard
# reuses one incremental build: run it in a checkout of its own with no edits in progress. An
# interrupted run can leave one mutant applied; the script refuses to start on a dirty tree.
# --baseline skip: the unmutated tree's tests are run once, by shard 0 of each group.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-12}
if ! git diff --quiet -- src; then
    echo "error: src/ has uncommitted changes (an interrupted mutant?): git diff -- src" >&2
    exit 2
fi
for ((k = 0; k < n; k++)); do
    for group in linear softmax dynamics; do
        out="mutants.out/$group/shard-$k-of-$n"
        [[ -e $out/ended ]] && continue
        baseline=(--baseline skip --timeout 90)
        ((k == 0)) && baseline=()
        rc=0
        scripts/mutants.sh "$group" --in-place --shard "$k/$n" --sharding round-robin \
            --build-timeout 600 "${baseline[@]}" || rc=$?
        # cargo-mutants: 0 all caught, 2 some missed, 3 some timed out; anything else is a
        # failure of the run itself (baseline failing, interrupted), which is not recorded.
        case $rc in
        0 | 2 | 3) echo "$rc" > "$out/ended" ;;
        *)
            echo "error: $group shard $k/$n ended with exit code $rc" >&2
            exit "$rc"
            ;;
        esac
    done
done

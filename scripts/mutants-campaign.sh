#!/usr/bin/env bash
# The whole cargo-mutants campaign of issue 13, as N round-robin shards of each group, resumable:
# each finished shard writes a small record, proofs/mutants/records/GROUP-K-of-N.json (every
# mutant's outcome and the git blob of each mutated file), meant to be committed, so the campaign
# can be stopped and resumed in a later checkout or on another machine; a shard with a record
# whose files are unchanged is skipped.
#
#   scripts/mutants-campaign.sh [N]      # N shards per group, default 48 (a shard of linear is
#                                        # about 18 mutants: little is lost when a run stops)
#   scripts/mutants-campaign.sh 48 linear   # only these groups (while another group's files are
#                                        # being edited: an edit makes that group's records stale)
#   scripts/mutants-summary.py           # the table per file, over every shard judged so far
#
# It mutates the files of this checkout in place (cargo mutants --in-place), so that every shard
# reuses one incremental build: run it in a checkout of its own with no edits in progress. An
# interrupted run can leave one mutant applied; the script refuses to start on a dirty tree.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-48}
shift || true
groups=("$@")
[[ ${#groups[@]} -gt 0 ]] || groups=(linear softmax dynamics)
if ! git diff --quiet -- src; then
    echo "error: src/ has uncommitted changes (an interrupted mutant?): git diff -- src" >&2
    exit 2
fi
# Whether every file a record names still has the blob it had when its shard was judged.
fresh() {
    python3 - "$1" << 'PY'
import json, subprocess, sys
rec = json.load(open(sys.argv[1]))
for f, b in rec["files"].items():
    now = subprocess.run(["git", "hash-object", f], capture_output=True, text=True).stdout.strip()
    if now != b:
        sys.exit(1)
PY
}
based=()
for ((k = 0; k < n; k++)); do
    for group in "${groups[@]}"; do
        out="mutants.out/$group/shard-$k-of-$n"
        rec="proofs/mutants/records/$group-$k-of-$n.json"
        # A shard is done when its record is committed (or at least written) and none of the
        # files it mutated has changed since; a changed file makes its record stale.
        [[ -e $rec ]] && fresh "$rec" && continue
        # The first shard of each group that this invocation runs also runs the unmutated tree's
        # tests (a broken baseline, e.g. a stale target dir, would make every mutant "caught").
        baseline=(--baseline skip --timeout 90)
        [[ " ${based[*]} " == *" $group "* ]] || baseline=()
        based+=("$group")
        rc=0
        scripts/mutants.sh "$group" --in-place --shard "$k/$n" --sharding round-robin \
            --build-timeout 600 "${baseline[@]}" || rc=$?
        # cargo-mutants: 0 all caught, 2 some missed, 3 some timed out; anything else is a
        # failure of the run itself (baseline failing, interrupted), which is not recorded.
        case $rc in
        0 | 2 | 3) scripts/mutants-summary.py --record "$out" "$rec" ;;
        *)
            echo "error: $group shard $k/$n ended with exit code $rc" >&2
            exit "$rc"
            ;;
        esac
    done
done

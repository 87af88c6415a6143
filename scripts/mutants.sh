#!/usr/bin/env bash
# The mutation campaign of issue 13 (`cargo mutants`, https://mutants.rs), in three groups so
# that each mutant is judged by the tests of its own family, not the whole suite: the whole
# `cargo test` takes about 11 minutes at the campaign's opt-level, the group's tests 5–20 s.
#
#   scripts/mutants.sh GROUP [cargo-mutants flags…]
#
#   GROUP   linear   rl/ (except softmax_td), construction/{sarsa,linear_td,average_reward},
#                    attention/{linear,prompt,multi_head}, mdp/batch.rs, mdp/values.rs
#           softmax  attention/softmax.rs, construction/softmax.rs, rl/softmax_td.rs
#           dynamics dynamics/loss.rs, dynamics/flow.rs
#
# Examples:
#   scripts/mutants.sh linear --list | wc -l          # how many mutants
#   scripts/mutants.sh linear --shard 0/24 --sharding round-robin  # every 24th mutant
#   scripts/mutants.sh linear -F 'in batch_sarsa'     # the mutants of one function
#   scripts/mutants-campaign.sh 12                    # the whole set, resumable
#
# Each run builds in a copy of the tree (or in place, with --in-place) with the `mutants` profile
# (Cargo.toml: opt-level 1, no debug info, incremental), one incremental rebuild per mutant. A
# CARGO_TARGET_DIR shared between checkouts at different paths keeps a stale CARGO_MANIFEST_DIR
# in the test binary (the snapshot tests then fail the baseline): give each checkout its own.
# Results land in mutants.out/GROUP/mutants.out/, or mutants.out/GROUP/shard-K-of-N/mutants.out/
# for a shard (outcomes.json, caught.txt, missed.txt, …); scripts/mutants-summary.py merges them,
# scripts/mutants-campaign.sh runs every shard. The measured
# score and every survivor's reason are in proofs/mutants.md.
set -euo pipefail
cd "$(dirname "$0")/.."
group=${1:-}
shift || true
case $group in
linear)
    files=(src/rl/sarsa.rs src/rl/td.rs src/rl/actor_critic.rs src/rl/average_reward.rs src/rl/pairing.rs
        src/construction/sarsa.rs src/construction/linear_td.rs src/construction/average_reward.rs
        src/attention/linear.rs src/attention/prompt.rs src/attention/multi_head.rs
        src/mdp/batch.rs src/mdp/values.rs)
    # Integration modules, then the unit tests of the mutated modules (names rl::…, mdp::…).
    # speed:: and field:: hold the equalities of the fast readout path (LsaReadout) and of the
    # field instantiation, which no other module exercises.
    filters=(sarsa:: linear_td:: actor_critic:: average_reward:: registry:: mdp:: reference_cases::
        speed:: field:: rl:: construction:: attention::)
    ;;
softmax)
    files=(src/attention/softmax.rs src/construction/softmax.rs src/rl/softmax_td.rs)
    # softmax_errbound::values_are_plain: the f64 builders (two_head_stack, shift_stack) against
    # their ErrBound twins, value for value; the rest of that module is slow (200 `icrl check`s).
    filters=(softmax_td:: contraction:: registry:: reference_cases:: softmax_errbound::values_are_plain
        rl:: construction:: attention::)
    ;;
dynamics)
    files=(src/dynamics/loss.rs src/dynamics/flow.rs)
    filters=(dynamics:: rates:: registry:: reference_cases::) # dynamics:: also names its unit tests
    ;;
*)
    echo "usage: scripts/mutants.sh linear|softmax|dynamics [cargo-mutants flags…]" >&2
    exit 2
    ;;
esac
command -v cargo-mutants > /dev/null || { echo "error: cargo-mutants is not installed (cargo install --locked cargo-mutants)" >&2; exit 2; }
command -v cargo-nextest > /dev/null || { echo "error: cargo-nextest is not installed (cargo install --locked cargo-nextest)" >&2; exit 2; }
# One output directory per shard, so that shards run at different times (or on different
# machines) never overwrite each other; scripts/mutants-summary.py merges them.
out="mutants.out/$group"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    if [[ ${args[i]} == --shard ]]; then
        out="$out/shard-${args[i + 1]//\//-of-}"
    elif [[ ${args[i]} == --shard=* ]]; then
        s=${args[i]#--shard=}
        out="$out/shard-${s//\//-of-}"
    fi
done
mkdir -p "$out"
fargs=()
for f in "${files[@]}"; do fargs+=(-f "$f"); done
# nextest stops at the first failing test and kills the tests still running (--max-fail
# 1:immediate; its default fail-fast waits for them, so a mutant that fails one test and hangs
# another was reported as a timeout), so a caught mutant costs its build and the time to the
# first failure, not the whole group; the filters are nextest's substring filters, the same
# strings `cargo test` takes.
# -C passes the target selection to the build as well as to the test run, so the build does not
# also compile the examples and the binary's own (empty) test harness.
exec cargo mutants --profile mutants --test-tool nextest --output "$out" --minimum-test-timeout 60 \
    -C --lib -C --test -C all "${fargs[@]}" "$@" -- --max-fail=1:immediate "${filters[@]}"

#!/usr/bin/env bash
# Hand mutations that the semantic checks must catch (issue 13, "Must show"): each mutation is
# applied by `sed` to a temporary copy of the working tree, the copy is built in release mode,
# and `icrl verify` on the theorems that must catch it has to exit 1 ("a claim failed") — not
# 0 (the mutant lives) and not 2 (a usage error). Snapshots play no part.
#
#   scripts/mutations.sh              # baseline + every mutation (one release build each)
#   scripts/mutations.sh --no-baseline
#
# Runtime: one release build of this crate per mutant (plus one for the baseline) and a few
# seconds of verify each; measured 22 min 39 s in all on 2 cores shared with other builds
# (each build 5–7 min there); at stop 22 on the idle machine, baseline and five mutants in under
# 7 minutes (56–64 s a mutant, build and verify).
#
# The copy builds in its own target directory (default `target/mutants`, override with
# MUTANTS_TARGET_DIR), seeded from `target/release` so that only this crate is recompiled.
# Exit status: 0 every mutant was caught (and the baseline held), 1 a mutant lived or the
# baseline failed, 2 the script could not run (a mutation no longer applies, a build failed).
set -uo pipefail

root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel) || exit 2
baseline=1
[ "${1:-}" = "--no-baseline" ] && baseline=0

work=$(mktemp -d "${TMPDIR:-/tmp}/icrl-mutants.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
target=${MUTANTS_TARGET_DIR:-$root/target/mutants}
if [ ! -d "$target/release" ] && [ -d "$root/target/release" ]; then
    mkdir -p "$target" && cp -a "$root/target/release" "$target/" || exit 2
fi
# The working tree as it is (tracked files, uncommitted edits included).
(cd "$root" && git ls-files -z | xargs -0 cp --parents -t "$work") || exit 2

build() {
    (cd "$work" && CARGO_TARGET_DIR="$target" cargo build --release --quiet) || { echo "error: build failed" >&2; exit 2; }
}

# verify THEOREM… -> prints the verdict lines, returns verify's exit code
run_verify() {
    local args=()
    for t in "$@"; do args+=(--theorem "$t"); done
    "$target/release/icrl" verify "${args[@]}" --seed 0 >"$work/out.txt" 2>&1
    local rc=$?
    grep -E "^(FAILED|theorem| *[a-z-]+ +\[[QDR]\])" "$work/out.txt" | sed 's/^/    /'
    return $rc
}

# The theorems each mutant must fail, and the mutations as (file, sed expression, theorems).
G_THEOREMS=(sarsa-local-convergence-rate)
ALPHA_THEOREMS=(contraction-decay-rate contraction-decay)
MARGIN_THEOREMS=(contraction-assumption contraction-decay-rate)
PAIRING_THEOREMS=(sarsa-equivalence sarsa-stacking actor-critic-equivalence)

lived=0
if [ $baseline = 1 ]; then
    echo "== baseline (no mutation): every theorem below must hold"
    build
    # shellcheck disable=SC2046 # one word per theorem id
    run_verify $(printf '%s\n' "${G_THEOREMS[@]}" "${ALPHA_THEOREMS[@]}" "${MARGIN_THEOREMS[@]}" "${PAIRING_THEOREMS[@]}" | sort -u)
    rc=$?
    if [ $rc -ne 0 ]; then echo "baseline FAILED (exit $rc): fix the checks before judging mutants"; exit 1; fi
fi

mutate() { # name file sed-expr theorems…
    local name=$1 file=$2 expr=$3
    shift 3
    echo "== mutant: $name ($file)"
    cp "$work/$file" "$work/$file.orig"
    sed -i -e "$expr" "$work/$file"
    if cmp -s "$work/$file" "$work/$file.orig"; then
        echo "error: mutation '$name' no longer applies to $file (update scripts/mutations.sh)" >&2
        exit 2
    fi
    local start=$SECONDS
    build
    run_verify "$@"
    local rc=$?
    if [ $rc -eq 1 ]; then
        echo "   caught: verify exit 1 ($((SECONDS - start)) s)"
    else
        echo "   LIVED: verify exit $rc"
        lived=$((lived + 1))
    fi
    mv "$work/$file.orig" "$work/$file"
}

# G × 1.08: the Gauss–Newton matrix whose λ⁺_min is the predicted rate of Thm 3.2.
mutate "G x 1.08" src/dynamics/loss.rs \
    's|        gmat / self.prompts.len() as f64|        gmat * 1.08 / self.prompts.len() as f64|' \
    "${G_THEOREMS[@]}"

# α/2: the decay of Thm 2 run at half the step it is stated for (the f64 iterates of the decay
# curves, and the bounded iterates of contraction-decay-rate's per-layer bound).
mutate "alpha/2 in the decay" src/theorem/contraction.rs \
    's|let next = ss.step(v, alpha);|let next = ss.step(v, alpha / 2.0);|; s|let vs_b = ssb.iterates(&vec!\[alpha; DECAY_LAYERS\]);|let vs_b = ssb.iterates(\&vec![alpha / 2.0; DECAY_LAYERS]);|' \
    "${ALPHA_THEOREMS[@]}"

# (1+γ²)/2: Assumption 5.1's margin misread.
mutate "(1+gamma^2)/2 margin" src/rl/softmax_td.rs \
    's|    min_diag - (T::one() + T::from_f64(gamma)) / T::from_f64(2.0)|    min_diag - (T::one() + T::from_f64(gamma * gamma)) / T::from_f64(2.0)|' \
    "${MARGIN_THEOREMS[@]}"

# a_i for a_{i+1} in the transition pairing (φ⁺ from the current action instead of the recorded
# next one), on each side alone: the prompt builder's reading, then the reference's own
# (`rl/pairing.rs`, issue 13 item 1). Also a test: `registry::a_mutated_pairing_on_either_side_fails_verify`.
for f in src/attention/prompt.rs src/rl/pairing.rs; do
    mutate "a_i for a_{i+1} in $f" "$f" \
        's|    (traj.states\[i + 1\], traj.actions\[i + 1\])|    (traj.states[i + 1], traj.actions[i])|' \
        "${PAIRING_THEOREMS[@]}"
done

if [ $lived -gt 0 ]; then
    echo "$lived mutant(s) lived"
    exit 1
fi
echo "every mutant was caught"

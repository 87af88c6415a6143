#!/usr/bin/env bash
# Negative controls for the formal proofs: a copy of proofs/coq with one sign of P_star
# flipped, and a copy with one entry block of Q^TD flipped, must each FAIL to build (in the
# file that holds the construction). A proof that still built would not be about the
# construction. Exit 0 only if both broken copies fail where expected.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# control NAME FILE MARKER SED-EXPRESSION
control() {
  local name=$1 file=$2 marker=$3 expr=$4 dir="$tmp/$1"
  mkdir -p "$dir"
  cp "$here"/_CoqProject "$here"/Makefile "$here"/*.v "$dir"/
  sed -i "/$marker/$expr" "$dir/$file"
  if cmp -s "$here/$file" "$dir/$file"; then
    echo "negative-control: $name: the edit did not change $file (marker $marker)" >&2
    exit 1
  fi
  echo "negative-control: $name: $(diff "$here/$file" "$dir/$file" | grep '^>' | sed 's/^> *//')"
  if make -C "$dir" -s > "$dir/build.log" 2>&1; then
    echo "negative-control: $name: the broken copy BUILT; the proofs do not depend on it" >&2
    exit 1
  fi
  if ! grep -q "File \"\\./$file\"" "$dir/build.log"; then
    echo "negative-control: $name: the build failed, but not in $file:" >&2
    cat "$dir/build.log" >&2
    exit 1
  fi
  echo "negative-control: $name: build fails in $file, as it must"
}

# P12_star: the block acting on phi_i is -I; make it +I.
control p-star-sign Sarsa.v 'NEGCTL:P_star' 's/(row_mx 0 (- 1%:M))/(row_mx 0 1%:M)/'
# Q^TD: the top-left block is -C^T; make it +C^T.
control q-td-entry LinearTD.v 'NEGCTL:Q_TD' 's/block_mx (- C^T) C^T 0 0/block_mx C^T C^T 0 0/'
echo "negative-control: both broken constructions are rejected"

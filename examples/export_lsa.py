#!/usr/bin/env python3
"""Export an [LL] linear-self-attention block's P, V and ask `icrl probe` what it implements.

Standard library only (runs anywhere): writes the block (c P*, V*(alpha) / c) of
arXiv:2605.05755 Thm 3.1 for feature dimension d as JSON, optionally perturbed, and runs

    icrl probe FILE --family sarsa --json

With --npz it also writes the same arrays as a float32 .npz (numpy.savez) and probes that,
when numpy is importable (skipped with a message otherwise). Replace `block()` by your
trained weights (e.g. `model.P.detach().cpu().numpy().tolist()` from PyTorch).

    python3 examples/export_lsa.py --icrl target/release/icrl --d 3 --c -2 --alpha 0.2
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile


def block(d, c, alpha, noise, seed):
    """(c P*, V*(alpha)/c) as lists of rows, D = 3d + 2, plus uniform noise in [-noise, noise]."""
    D, t = 3 * d + 2, 2 * d + 1
    P = [[0.0] * D for _ in range(D)]
    V = [[0.0] * D for _ in range(D)]
    for k in range(d):
        P[k][t + 1 + k] = -c  # rows acting on phi_i
        P[d + k][t + 1 + k] = c  # rows acting on gamma phi+_i
        V[t + 1 + k][k] = alpha / c  # writes alpha phi_i into the w rows
    P[2 * d][t] = c  # the reward row meets the constant 1
    rng = random.Random(seed)
    for M in (P, V):
        for row in M:
            for j in range(D):
                row[j] += rng.uniform(-noise, noise)
    return P, V


def probe(icrl, path):
    out = subprocess.run(icrl + [path, "--family", "sarsa", "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        sys.exit(out.returncode)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--icrl", default=os.environ.get("ICRL", "icrl"), help="path of the icrl binary")
    ap.add_argument("--d", type=int, default=2)
    ap.add_argument("--c", type=float, default=-2.0)
    ap.add_argument("--alpha", type=float, default=0.3)
    ap.add_argument("--noise", type=float, default=1e-7)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--npz", action="store_true", help="also write and probe a float32 .npz (needs numpy)")
    ap.add_argument("--out", default=None, help="directory for the files (default: a temporary one)")
    a = ap.parse_args()
    icrl = [a.icrl, "probe"]
    out = a.out or tempfile.mkdtemp(prefix="export_lsa-")
    os.makedirs(out, exist_ok=True)
    P, V = block(a.d, a.c, a.alpha, a.noise, a.seed)
    path = os.path.join(out, "lsa.json")
    with open(path, "w") as f:
        json.dump({"P": P, "V": V}, f)
    r = probe(icrl, path)
    print(f"json: c = {r['c']:.6g} (wrote {a.c}), alpha = {r['alpha']:.6g} (wrote {a.alpha}), "
          f"manifold_distance = {r['manifold_distance']:.3e}, sarsa_error = {r['sarsa_error']:.3e}")
    ok = abs(r["c"] - a.c) <= 1e-4 * abs(a.c) and abs(r["alpha"] - a.alpha) <= 1e-4 * abs(a.alpha)
    if a.npz:
        try:
            import numpy as np
        except ImportError:
            print("npz: skipped (numpy is not importable)")
        else:
            npz = os.path.join(out, "lsa.npz")
            np.savez(npz, P=np.asarray(P, dtype=np.float32), V=np.asarray(V, dtype=np.float32))
            r = probe(icrl, npz)
            print(f"npz (float32): c = {r['c']:.6g}, alpha = {r['alpha']:.6g}, sarsa_error = {r['sarsa_error']:.3e}")
            ok = ok and abs(r["c"] - a.c) <= 1e-4 * abs(a.c)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

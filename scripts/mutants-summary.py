#!/usr/bin/env python3
"""The cargo-mutants campaign's result so far: every shard under mutants.out/ merged, one row per
mutated file (caught / missed / timeout / unviable), the total, and every survivor by name.

    scripts/mutants-summary.py [--population] [mutants.out]

A mutant judged in several shard directories (a re-run) counts once, with its latest outcome.
--population also counts the mutants of each group not judged yet (runs `cargo mutants --list`).
"""
import json
import subprocess
import sys
from pathlib import Path

OUTCOME = {
    "CaughtMutant": "caught",
    "MissedMutant": "missed",
    "Timeout": "timeout",
    "Unviable": "unviable",
}


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    root = Path(args[0] if args else "mutants.out")
    if not root.is_dir():
        print(f"error: {root} is not a directory (run scripts/mutants-campaign.sh first)", file=sys.stderr)
        return 2
    latest = {}  # mutant name -> (end time of its run, file, outcome)
    for path in sorted(root.glob("**/mutants.out/outcomes.json")):
        run = json.loads(path.read_text())
        for o in run["outcomes"]:
            m = o["scenario"].get("Mutant") if isinstance(o["scenario"], dict) else None
            if m is None or o["summary"] not in OUTCOME:
                continue
            when = run.get("end_time") or run.get("start_time") or ""
            if m["name"] not in latest or when >= latest[m["name"]][0]:
                latest[m["name"]] = (when, m["file"], OUTCOME[o["summary"]])
    kinds = ["caught", "missed", "timeout", "unviable"]
    per_file = {}
    for _, file, kind in latest.values():
        per_file.setdefault(file, dict.fromkeys(kinds, 0))[kind] += 1
    print("| file | caught | missed | timeout | unviable |")
    print("|---|---|---|---|---|")
    total = dict.fromkeys(kinds, 0)
    for file in sorted(per_file):
        row = per_file[file]
        print(f"| `{file.removeprefix('src/')}` | " + " | ".join(str(row[k]) for k in kinds) + " |")
        for k in kinds:
            total[k] += row[k]
    print("| **all** | " + " | ".join(f"**{total[k]}**" for k in kinds) + " |")
    viable = total["caught"] + total["missed"] + total["timeout"]
    if viable:
        print(f"\n{sum(total.values())} mutants judged, {viable} viable: "
              f"{100 * total['caught'] / viable:.1f} % caught outright, "
              f"{100 * (total['caught'] + total['timeout']) / viable:.1f} % counting a timeout as caught.")
    survivors = sorted(n for n, (_, _, k) in latest.items() if k in ("missed", "timeout"))
    if survivors:
        print("\nNot caught:")
        for name in survivors:
            print(f"- {latest[name][2]}: `{name}`")
    if "--population" in sys.argv:
        print()
        for group in ["linear", "softmax", "dynamics"]:
            listed = subprocess.run(["scripts/mutants.sh", group, "--list"], capture_output=True,
                                    text=True, check=True).stdout.splitlines()
            judged = sum(1 for name in listed if name in latest)
            print(f"{group}: {judged} of {len(listed)} mutants judged")
    return 0


if __name__ == "__main__":
    sys.exit(main())

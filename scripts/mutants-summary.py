#!/usr/bin/env python3
"""The cargo-mutants campaign's result so far, one row per mutated file (caught / missed / timeout
/ unviable), the total, and every survivor by name.

    scripts/mutants-summary.py [--population] [--stale]
    scripts/mutants-summary.py --record SHARD_DIR RECORD.json

It reads the committed records under proofs/mutants/records/ (one per finished shard: what each
mutant's outcome was, and the git blob of every mutated file at the time) and any shard directory
under mutants.out/ not recorded yet. A mutant whose file has changed since it was judged is stale:
it is not counted, only reported as stale (--stale lists them), because its name (line:column)
and its meaning may no longer match the file. A mutant judged more than once counts once, with
its latest outcome.

--record writes the record of one finished shard (the campaign calls it at the end of each
shard); --population also counts each group's mutants not judged yet (`cargo mutants --list`).
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
RECORDS = Path("proofs/mutants/records")
KINDS = ["caught", "missed", "timeout", "unviable"]


def blob(path):
    """The git blob id of a file as it is on disk (what `git hash-object` prints)."""
    return subprocess.run(["git", "hash-object", path], capture_output=True, text=True,
                          check=True).stdout.strip()


def outcomes_of(shard_dir):
    """(end time, [(name, file, outcome)]) of the run in a shard directory. Only its own
    mutants.out/outcomes.json: an unsharded run's directory (mutants.out/GROUP) holds the shard
    directories too, whose outcomes are not that run's."""
    runs = []
    for path in sorted(Path(shard_dir).glob("mutants.out/outcomes.json")):
        run = json.loads(path.read_text())
        when = run.get("end_time") or run.get("start_time") or ""
        rows = []
        for o in run["outcomes"]:
            m = o["scenario"].get("Mutant") if isinstance(o["scenario"], dict) else None
            if m is None or o["summary"] not in OUTCOME:
                continue
            rows.append((m["name"], m["file"], OUTCOME[o["summary"]]))
        runs.append((when, rows))
    return runs


def record(shard_dir, out):
    runs = outcomes_of(shard_dir)
    if not runs:
        print(f"error: no outcomes.json under {shard_dir}", file=sys.stderr)
        return 2
    when = max(w for w, _ in runs)
    rows = sorted({r for _, rs in runs for r in rs})
    files = sorted({f for _, f, _ in rows})
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    rec = {
        "shard": str(shard_dir),
        "end_time": when,
        "commit": head,
        "files": {f: blob(f) for f in files},
        "mutants": [list(r) for r in rows],
    }
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(str(out) + ".tmp")
    tmp.write_text(json.dumps(rec, indent=0) + "\n")
    tmp.replace(out)
    return 0


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == ["--record"]:
        if len(argv) != 3:
            print("usage: scripts/mutants-summary.py --record SHARD_DIR RECORD.json", file=sys.stderr)
            return 2
        return record(argv[1], argv[2])
    latest = {}  # mutant name -> (when, file, outcome)
    stale = {}
    current = {}

    def take(when, rows, blobs):
        for name, file, kind in rows:
            if blobs is not None:
                if file not in current:
                    current[file] = blob(file) if Path(file).exists() else None
                if blobs.get(file) != current[file]:
                    stale[name] = (when, file, kind)
                    continue
            if name not in latest or when >= latest[name][0]:
                latest[name] = (when, file, kind)

    for path in sorted(RECORDS.glob("*.json")):
        rec = json.loads(path.read_text())
        take(rec["end_time"], [tuple(m) for m in rec["mutants"]], rec["files"])
    recorded = {json.loads(p.read_text())["shard"] for p in RECORDS.glob("*.json")}
    for shard in sorted(Path("mutants.out").glob("*/shard-*")):
        if str(shard) in recorded:
            continue
        for when, rows in outcomes_of(shard):
            # Not recorded yet: judged on this tree's files (a running or interrupted shard).
            take(when, rows, None)
    per_file = {}
    for _, file, kind in latest.values():
        per_file.setdefault(file, dict.fromkeys(KINDS, 0))[kind] += 1
    print("| file | caught | missed | timeout | unviable | caught of viable |")
    print("|---|---|---|---|---|---|")
    total = dict.fromkeys(KINDS, 0)
    for file in sorted(per_file):
        row = per_file[file]
        viable = row["caught"] + row["missed"] + row["timeout"]
        pct = f"{100 * row['caught'] / viable:.1f} %" if viable else "–"
        print(f"| `{file.removeprefix('src/')}` | " + " | ".join(str(row[k]) for k in KINDS) + f" | {pct} |")
        for k in KINDS:
            total[k] += row[k]
    viable = total["caught"] + total["missed"] + total["timeout"]
    pct = f"{100 * total['caught'] / viable:.1f} %" if viable else "–"
    print("| **all** | " + " | ".join(f"**{total[k]}**" for k in KINDS) + f" | **{pct}** |")
    if viable:
        print(f"\n{sum(total.values())} mutants judged, {viable} viable: "
              f"{100 * total['caught'] / viable:.1f} % caught outright, "
              f"{100 * (total['caught'] + total['timeout']) / viable:.1f} % counting a timeout as caught.")
    stale_only = {n: v for n, v in stale.items() if n not in latest}
    if stale_only:
        print(f"\n{len(stale_only)} recorded mutants are stale (their file changed since) and not counted.")
        if "--stale" in argv:
            for name in sorted(stale_only):
                print(f"- stale {stale_only[name][2]}: `{name}`")
    survivors = sorted(n for n, (_, _, k) in latest.items() if k in ("missed", "timeout"))
    if survivors:
        print("\nNot caught:")
        for name in survivors:
            print(f"- {latest[name][2]}: `{name}`")
    if "--population" in argv:
        print()
        for group in ["linear", "softmax", "dynamics"]:
            listed = subprocess.run(["scripts/mutants.sh", group, "--list"], capture_output=True,
                                    text=True, check=True).stdout.splitlines()
            judged = sum(1 for name in listed if name in latest)
            print(f"{group}: {judged} of {len(listed)} mutants judged")
    return 0


if __name__ == "__main__":
    sys.exit(main())

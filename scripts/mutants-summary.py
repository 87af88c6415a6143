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

One exception to staleness (since stop 28): a mutant inside a function whose text is the same,
byte for byte, in the file as judged and in the file now (found by name: `fn NAME` up to the `}`
at its indentation, rustfmt's layout), or on a line outside every function that lies in a run
of lines unchanged between the two (difflib), is carried over under its new line number: the
same edit at the same place of the same function. This is the assumption the per-file rule
already makes across files (a change elsewhere does not re-judge a mutant). --stale also lists
what was carried.

--record writes the record of one finished shard (the campaign calls it at the end of each
shard); --population also counts each group's mutants not judged yet (`cargo mutants --list`).
"""
import difflib
import json
import re
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


FN = re.compile(r"^(\s*)(?:pub(?:\([\w:]+\))? )?(?:const )?(?:unsafe )?fn (\w+)")
NAME = re.compile(r"^([^:]+):(\d+):(\d+): (.*)$")


def functions(lines):
    """name -> [(start, end)] (0-based, inclusive) of every `fn` in rustfmt-formatted lines."""
    spans = {}
    for i, line in enumerate(lines):
        m = FN.match(line)
        if not m or line.rstrip().endswith(";"):
            continue
        close = m.group(1) + "}"
        end = next((j for j in range(i, len(lines)) if lines[j].rstrip() == close), None)
        if end is not None:
            spans.setdefault(m.group(2), []).append((i, end))
    return spans


_carry_cache = {}


def carried(name, file, old_blob, new_lines):
    """The mutant's name in the current file if it carries over (see the module text), else None."""
    m = NAME.match(name)
    if not m or m.group(1) != file:
        return None
    line, col, rest = int(m.group(2)) - 1, m.group(3), m.group(4)
    key = (old_blob, file)
    if key not in _carry_cache:
        old = subprocess.run(["git", "cat-file", "-p", old_blob], capture_output=True, text=True)
        if old.returncode != 0:
            _carry_cache[key] = None
        else:
            old_lines = old.stdout.splitlines()
            sm = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
            equal = {}
            for tag, i1, i2, j1, _ in sm.get_opcodes():
                if tag == "equal":
                    for k in range(i2 - i1):
                        equal[i1 + k] = j1 + k
            _carry_cache[key] = (old_lines, functions(old_lines), functions(new_lines), equal)
    cache = _carry_cache[key]
    if cache is None:
        return None
    old_lines, old_fns, new_fns, equal = cache
    inside = [(n, s, e) for n, spans in old_fns.items() for s, e in spans if s <= line <= e]
    if inside:
        fname, s, e = max(inside, key=lambda x: x[1])  # the innermost
        if len(old_fns[fname]) != 1 or len(new_fns.get(fname, [])) != 1:
            return None
        ns, ne = new_fns[fname][0]
        if old_lines[s:e + 1] != new_lines[ns:ne + 1]:
            return None
        new_line = ns + (line - s)
    elif line in equal:
        new_line = equal[line]
    else:
        return None
    return f"{file}:{new_line + 1}:{col}: {rest}"


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
    carried_over = {}
    current = {}
    texts = {}

    def take(when, rows, blobs):
        for name, file, kind in rows:
            if blobs is not None:
                if file not in current:
                    current[file] = blob(file) if Path(file).exists() else None
                if blobs.get(file) != current[file]:
                    new = None
                    if current[file] is not None and blobs.get(file):
                        if file not in texts:
                            texts[file] = Path(file).read_text().splitlines()
                        new = carried(name, file, blobs[file], texts[file])
                    if new is None:
                        stale[name] = (when, file, kind)
                        continue
                    carried_over[new] = name
                    name = new
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
    if carried_over:
        print(f"\n{len(carried_over)} mutants judged on an earlier version of their file are carried over "
              "(their function unchanged).")
        if "--stale" in argv:
            for new in sorted(carried_over):
                print(f"- carried: `{carried_over[new]}` as `{new}`")
    stale_only = {n: v for n, v in stale.items() if n not in latest and n not in carried_over.values()}
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

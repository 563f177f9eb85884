"""Turns bench/run.sh's tab-separated results into the markdown report.

    report.py RESULTS_TSV

Lines of RESULTS_TSV (tab-separated):
    startup  TARGET  MEDIAN_MS|-  DETAIL
    op       TARGET  OPERATION  RPS  P50_US  P99_US  ERRORS  STATUS  NOTE
STATUS is "ok" or "FAIL"; a failed row prints its note and takes no part in ratios.
Run metadata comes from BENCH_* environment variables set by run.sh.
"""

import os
import sys

OPERATIONS = ["GetItem", "PutItem", "Query", "BatchWriteItem"]
TARGET_NAMES = {
    "cruddur": "cruddur (--in-memory)",
    "cruddur-disk": "cruddur (--data-dir)",
    "cruddur-sync": "cruddur (--data-dir --sync)",
    "dynamodb-local": "DynamoDB Local",
    "dynalite": "dynalite",
}
# The goals: req/s multiple over DynamoDB Local and over dynalite (None: no goal).
GOALS = {
    "GetItem": (5, None),
    "PutItem": (5, 3),
    "Query": (5, 3),
    "BatchWriteItem": (5, 3),
}
STARTUP_GOAL_MS = 50


def name(target):
    return TARGET_NAMES.get(target, target)


def ms(us):
    return f"{int(us) / 1000:.2f}"


def load(path):
    startups, ops = {}, {}
    with open(path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if fields[0] == "startup":
                startups[fields[1]] = (fields[2], fields[3])
            elif fields[0] == "op":
                target, op, rps, p50, p99, errors, status, note = fields[1:9]
                ops[(target, op)] = dict(rps=rps, p50=p50, p99=p99, errors=errors,
                                         status=status, note=note)
    return startups, ops


def ratio_cell(ops, op, peer, goal):
    mine, theirs = ops.get(("cruddur", op)), ops.get((peer, op))
    if not mine or not theirs or mine["status"] != "ok" or theirs["status"] != "ok":
        return "not measured"
    r = float(mine["rps"]) / float(theirs["rps"])
    if goal is None:
        return f"{r:.2f}x"
    return f"{r:.2f}x (goal {goal}x: {'met' if r >= goal else 'NOT met'})"


def main():
    startups, ops = load(sys.argv[1])
    targets = os.environ.get("BENCH_TARGETS", "").split()
    env = os.environ.get
    out = []
    out.append(f"# Benchmark results ({env('BENCH_DATE', '?')})")
    out.append("")
    out.append(f"- machine: {env('BENCH_CPUS', '?')} cores ({env('BENCH_CPU_MODEL', '?')}), "
               "shared by the server and wrk; load average (1/5/15 min) "
               f"{env('BENCH_LOAD_START', '?')} at the start, "
               f"{env('BENCH_LOAD_END', '?')} at the end")
    out.append(f"- wrk: `-t{env('BENCH_THREADS')} -c{env('BENCH_CONNECTIONS')} "
               f"-d{env('BENCH_DURATION')}s --latency` per operation after a "
               f"{env('BENCH_WARMUP')} s warm-up with the same script")
    out.append(f"- versions: cruddur {env('BENCH_CRUDDUR_REV', '?')}, "
               f"{env('BENCH_DDBLOCAL_VERSION', '?')}, "
               f"dynalite {env('BENCH_DYNALITE_VERSION', '?')}")
    out.append("")
    out.append("## Throughput and latency")
    out.append("")
    out.append("| target | operation | requests/s | p50 (ms) | p99 (ms) | errors |")
    out.append("|---|---|---:|---:|---:|---:|")
    for target in targets:
        for op in OPERATIONS:
            row = ops.get((target, op))
            if row is None:
                continue
            if row["status"] == "ok":
                out.append(f"| {name(target)} | {op} | {float(row['rps']):.0f} | "
                           f"{ms(row['p50'])} | {ms(row['p99'])} | 0 |")
            elif row["rps"] != "-":
                out.append(f"| {name(target)} | {op} | FAIL ({float(row['rps']):.0f}) | "
                           f"{ms(row['p50'])} | {ms(row['p99'])} | {row['errors']} |")
            else:
                out.append(f"| {name(target)} | {op} | FAIL: {row['note']} | - | - | - |")
    out.append("")
    out.append("## Start-up to the first ListTables answer")
    out.append("")
    out.append("| target | median (ms) | runs (ms) |")
    out.append("|---|---:|---|")
    for target in targets:
        if target in startups:
            median, detail = startups[target]
            out.append(f"| {name(target)} | {median} | {detail} |")
    out.append("")
    out.append("## cruddur against the peers (requests/s ratio)")
    out.append("")
    out.append("| operation | cruddur / DynamoDB Local | cruddur / dynalite |")
    out.append("|---|---|---|")
    for op in OPERATIONS:
        vs_local, vs_dynalite = GOALS[op]
        out.append(f"| {op} | {ratio_cell(ops, op, 'dynamodb-local', vs_local)} | "
                   f"{ratio_cell(ops, op, 'dynalite', vs_dynalite)} |")
    mine = startups.get("cruddur")
    if mine and mine[0] != "-":
        met = "met" if float(mine[0]) < STARTUP_GOAL_MS else "NOT met"
        out.append(f"| start-up | {mine[0]} ms (goal < {STARTUP_GOAL_MS} ms: {met}) | |")
    else:
        out.append("| start-up | not measured | |")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Compares the quick runs of the throughput benchmark kept by scripts/bench-ab.

    python3 scripts/bench-compare.py DIR RUNS

DIR holds bench-base-<n>.txt and bench-head-<n>.txt for n in 1..RUNS. Prints, per emit row,
the median of each side and the ratio head / base; the geometric mean of those ratios;
the same ratios normalized by the naive pipeline of each run (hand-written Redis commands
that neither commit changes: dividing by it removes most of the noise of a shared
machine); and the fan-out latencies.
"""

import math
import re
import statistics
import sys

EMIT_ROW = re.compile(
    r"\|\s*(\d+)\s*\|\s*([\d,]+)\s*\|\s*([\d,]+)\s*\|\s*([\d,]+) \(\d+%\)\s*\|\s*([\d,]+)\s*\|"
    r".*?\|\s*([\d.]+) \+ ([\d.]+)\s*\|\s*([\d.]+) \+ ([\d.]+)\s*\|\s*([\d.]+) \+ ([\d.]+)\s*\|"
)
FANOUT_ROW = re.compile(r"\| (memory|redis) \|.*\| ([\d.]+) ms \| ([\d.]+) ms \| ([\d.]+) ms \|")
OTHERS = re.compile(r"other processes: ([\d.]+) cores")
FIELDS = ["naive", "script", "group", "cpu_naive", "cpu_script", "cpu_group"]
NORMALIZED = [("script", "naive"), ("group", "naive"), ("cpu_script", "cpu_naive"), ("cpu_group", "cpu_naive")]


def number(text):
    return float(text.replace(",", ""))


def parse(path):
    rows, fanout, others = {}, {}, []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if m := EMIT_ROW.match(line):
                rows[(m[1], m[2])] = {
                    "naive": number(m[3]),
                    "script": number(m[4]),
                    "group": number(m[5]),
                    "cpu_naive": number(m[6]),
                    "cpu_script": number(m[8]),
                    "cpu_group": number(m[10]),
                }
            elif m := FANOUT_ROW.match(line):
                fanout[m[1]] = (number(m[2]), number(m[3]))
            elif m := OTHERS.search(line):
                others.append(number(m[1]))
    return rows, fanout, statistics.mean(others) if others else float("nan")


def geomean(values):
    return math.exp(sum(map(math.log, values)) / len(values))


def main(folder, runs):
    sides = {
        side: [parse(f"{folder}/bench-{side}-{n}.txt") for n in range(1, runs + 1)]
        for side in ("base", "head")
    }
    keys = list(sides["base"][0][0])
    print("| channels | emitters | " + " | ".join(f"{f}: base -> head (ratio)" for f in FIELDS) + " |")
    print("|---" * (len(FIELDS) + 2) + "|")
    ratios = {f: [] for f in FIELDS}
    for key in keys:
        cells = []
        for field in FIELDS:
            base = statistics.median(run[0][key][field] for run in sides["base"])
            head = statistics.median(run[0][key][field] for run in sides["head"])
            ratios[field].append(head / base)
            cells.append(f"{base:g} -> {head:g} ({head / base:.2f})")
        print(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    print("geometric mean of the ratios:", {f: round(geomean(v), 3) for f, v in ratios.items()})
    normalized = {f: [] for f, _ in NORMALIZED}
    for key in keys:
        for field, control in NORMALIZED:
            base = statistics.median(r[0][key][field] / r[0][key][control] for r in sides["base"])
            head = statistics.median(r[0][key][field] / r[0][key][control] for r in sides["head"])
            normalized[field].append(head / base)
    print("normalized by the naive pipeline of the same run, geometric mean (per row):")
    for field, values in normalized.items():
        print(f"  {field}: {geomean(values):.3f} ({', '.join(f'{v:.2f}' for v in values)})")
    for side, results in sides.items():
        print(
            f"{side}: fan-out p50 memory {statistics.median(r[1]['memory'][0] for r in results)} ms,"
            f" redis {statistics.median(r[1]['redis'][0] for r in results)} ms;"
            f" p99 memory {statistics.median(r[1]['memory'][1] for r in results)} ms,"
            f" redis {statistics.median(r[1]['redis'][1] for r in results)} ms;"
            f" other processes (cores, per run): {[round(r[2], 2) for r in results]}"
        )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))

"""Statistics over the JSON lines the floor scripts collect (one line per run); see floor-lib.sh.

  floor-stats.py median FILE KEY                    the median of KEY over FILE's lines
  floor-stats.py ratio NUM_FILE NUM_KEY DEN_FILE DEN_KEY
                                                    the median and quartiles of line-by-line NUM/DEN
                                                    (pairs whose DEN is 0 left out; none left: nan)
  floor-stats.py merge FILE                         one JSON line: the median of every numeric key

KEY is a dotted path (runs.0.p50_ns); a * takes, within one line, the median over a list's items
(runs.*.p50_ns: the measured runs of one replay).
"""
import json
import statistics
import sys


def get(o, parts):
    for i, part in enumerate(parts):
        if part == "*":
            vals = [v for v in (get(x, parts[i + 1:]) for x in o) if v is not None]
            return statistics.median(vals) if vals else None
        o = o[int(part)] if isinstance(o, list) else o.get(part)
        if o is None:
            return None
    return o


def column(path, key):
    with open(path) as f:
        return [get(json.loads(line), key.split(".")) for line in f if line.strip()]


def main(mode, *args):
    if mode == "median":
        print(statistics.median(column(*args)))
    elif mode == "ratio":
        nf, nk, df, dk = args
        # a round whose denominator is 0 or missing has no ratio (a migration that finished before any
        # vCPU blocked): left out, and with none left the answer is nan
        r = sorted(n / d for n, d in zip(column(nf, nk), column(df, dk)) if n is not None and d)
        if not r:
            print("nan nan nan")
            return
        q = statistics.quantiles(r, n=4, method="inclusive") if len(r) > 1 else [r[0]] * 3
        print(f"{statistics.median(r):.3f} {q[0]:.3f} {q[2]:.3f}")
    elif mode == "merge":
        (path,) = args
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
        keys = [k for k, v in rows[0].items() if isinstance(v, (int, float))]
        print(json.dumps({k: statistics.median(r[k] for r in rows) for k in keys}))
    else:
        sys.exit(f"floor-stats.py: unknown mode {mode}")


if __name__ == "__main__":
    main(*sys.argv[1:])

#!/usr/bin/env python3
"""Run by run, is a tracker better than a baseline on the same runs? Reads the per-frame CSVs of
`fluoro evaluate --per-frame FILE --baseline still` (one per tracker) and prints, per file, a
Markdown row: the tracker's and the baseline's error averaged per run (frames after the first, all
landmarks) and then over runs, on how many runs the tracker's is lower, the mean per-run
difference and its 95% bootstrap interval over runs (10,000 resamples, seed 0): the runs are the
independent units, not the frames. Standard library only.

    python3 launch/paired_report.py [--baseline still] [--method hift] FILE.csv...
"""
import argparse, collections, csv, random


def per_run_means(path, method):
    errors = collections.defaultdict(list)
    with open(path) as f:
        for row in csv.DictReader(f):
            if row["method"] == method and int(row["frame"]) > 0 and row["error_px"]:
                errors[row["run"]].append(float(row["error_px"]))
    return {run: sum(e) / len(e) for run, e in errors.items()}


def bootstrap(differences, resamples=10000, seed=0):
    rng = random.Random(seed)
    n = len(differences)
    means = sorted(sum(rng.choice(differences) for _ in range(n)) / n for _ in range(resamples))
    return means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--baseline", default="still")
    parser.add_argument("--method", default="hift")
    args = parser.parse_args()
    print(f"| per-frame file | runs | {args.method} mean px | {args.baseline} mean px | {args.method} better on | "
          f"mean per-run difference px | 95% bootstrap interval |")
    print("|---|---|---|---|---|---|---|")
    for path in args.files:
        tracker, baseline = per_run_means(path, args.method), per_run_means(path, args.baseline)
        runs = sorted(set(tracker) & set(baseline))
        if not runs:
            raise SystemExit(f"{path}: no run has both '{args.method}' and '{args.baseline}' rows")
        differences = [tracker[r] - baseline[r] for r in runs]
        low, high = bootstrap(differences)
        wins = sum(d < 0 for d in differences)
        mean = lambda values: sum(values) / len(values)
        print(f"| {path} | {len(runs)} | {mean([tracker[r] for r in runs]):.2f} | {mean([baseline[r] for r in runs]):.2f} | "
              f"{wins}/{len(runs)} | {mean(differences):+.2f} | [{low:+.2f}, {high:+.2f}] |")


if __name__ == "__main__":
    main()

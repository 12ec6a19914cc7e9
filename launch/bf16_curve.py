#!/usr/bin/env python3
"""Compares two pretraining loss curves (metrics.jsonl of an fp32 and a bf16 run from the same seed).

Prints the per-step relative gap |bf16 - fp32| / fp32 (median, worst), the gap of W-step running means
at checkpoints through the run, and PASS when every running-mean gap is inside --band."""
import argparse, json, statistics

def losses(path):
    out = {}
    for line in open(path):
        r = json.loads(line)
        if "loss" in r and "step" in r: out[r["step"]] = r["loss"]
    return out

p = argparse.ArgumentParser()
p.add_argument("fp32"); p.add_argument("bf16")
p.add_argument("--band", type=float, default=0.01); p.add_argument("--window", type=int, default=20)
a = p.parse_args()
f, b = losses(a.fp32), losses(a.bf16)
steps = sorted(set(f) & set(b))
gaps = [abs(b[s] - f[s]) / abs(f[s]) for s in steps]
w = a.window
mean = lambda d, i: statistics.fmean(d[s] for s in steps[max(0, i - w + 1):i + 1])
running = [(steps[i], mean(f, i), mean(b, i)) for i in range(len(steps))]
rgaps = [abs(y - x) / abs(x) for _, x, y in running]
print(f"steps compared: {len(steps)} ({steps[0]}..{steps[-1]})")
print(f"per-step gap |bf16-fp32|/fp32: median {statistics.median(gaps):.2e}, worst {max(gaps):.2e} (step {steps[gaps.index(max(gaps))]})")
print(f"{w}-step running mean:  step   fp32     bf16     gap")
for i in sorted(set([w - 1] + list(range(len(steps) // 6, len(steps), max(1, len(steps) // 6))) + [len(steps) - 1])):
    s, x, y = running[i]
    print(f"                      {s:5d}  {x:.5f}  {y:.5f}  {(y - x) / x:+.2e}")
worst = max(rgaps[w - 1:]) if len(rgaps) >= w else max(rgaps)
print(f"worst {w}-step running-mean gap (from step {steps[min(w, len(steps)) - 1]}): {worst:.2e}; band {a.band}: {'PASS' if worst <= a.band else 'FAIL'}")
raise SystemExit(0 if worst <= a.band else 1)

#!/usr/bin/env python3
"""Times `fluoro pack` of the same inputs with several builds, alternated (docs/BENCHMARKS.md,
"Clinical ingest"): wall time and the CPU time of fluoro and its children (the decoding process),
N rounds, medians and ranges. Each build is a directory holding `fluoro` (and, for GDCM builds,
`fluoro-dicom-decoder`).
    python3 launch/bench-pack.py --runs 10 --inputs /work/shared/data/real old=/path/a new=/path/b
"""
import argparse, os, resource, shutil, statistics, subprocess, sys, tempfile, time

def once(binary, inputs, out):
    shutil.rmtree(out, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([binary, "pack", "--out", out] + inputs, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--inputs", nargs="+", required=True)
    p.add_argument("builds", nargs="+", help="name=directory")
    a = p.parse_args()
    builds = [b.split("=", 1) for b in a.builds]
    env_note = os.environ.get("OPENBLAS_CORETYPE", "unset")
    times = {name: [] for name, _ in builds}
    with tempfile.TemporaryDirectory() as tmp:
        for name, d in builds:  # one warm-up each (page cache, dynamic loader)
            once(os.path.join(d, "fluoro"), a.inputs, os.path.join(tmp, name))
        for r in range(a.runs):
            order = builds if r % 2 == 0 else builds[::-1]
            for name, d in order:
                times[name].append(once(os.path.join(d, "fluoro"), a.inputs, os.path.join(tmp, name)))
    print(f"fluoro pack {' '.join(a.inputs)}: {a.runs} runs per build, alternated; load {os.getloadavg()[0]:.2f}; OPENBLAS_CORETYPE {env_note}")
    for name, _ in builds:
        wall = [w for w, _ in times[name]]; cpu = [c for _, c in times[name]]
        print(f"  {name:10s} wall median {statistics.median(wall):.3f} s ({min(wall):.3f}-{max(wall):.3f}), "
              f"CPU median {statistics.median(cpu):.3f} s ({min(cpu):.3f}-{max(cpu):.3f})")

if __name__ == "__main__":
    sys.exit(main())

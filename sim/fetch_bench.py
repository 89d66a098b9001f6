"""Fetch latency by tier, with and without prefetch, in the Verilator model of the die.

    python -m sim.fetch_bench [--steps 512] [--dim 8] [--seed 1] [--keep DIR] [--model Vkv1_die]

The workload is the main job's decode part (golden.workload.decode_replay: the DECODE_SIM trace,
seed 1, hot watermarks 16/12) with its blocks carrying data: each append a KV_APPEND of 32 tokens
(CQ-4 at D = --dim), each access a KV_FETCH, at the default tier timing of the `sim` set. It runs
twice through the `sim` target's model: as the runtime drives it (PREFETCH hints, and the threshold
prefetch at its reset threshold), and with no prefetch (no hints, HEPC_THRESHOLD 65535). Each run
is checked against golden as it goes (the model stops at the first mismatch). Reported per tier:
fetches and their mean latency, FETCH_STALL_<tier> / FETCH_<tier> (cycles from the descriptor to
the first word streamed: the whole slot is read first); then the overall mean, the prefetches,
their hits, accuracy and coverage (docs/data_plane.md), and the run's cycles.
"""
import argparse
import re
import subprocess
import tempfile
import time
from pathlib import Path

from golden import kv1_regs as R
from golden.workload import Workload, decode_replay, DECODE_SIM
from hdl import params as param_sets
from sim.benchmark import build_model, machine

TIERS = tuple(R.TIER_NAMES[code] for code in sorted(R.TIER_NAMES))


def run(exe, workload):
    """-> (counters at the last snapshot, cycles) of one golden-checked Verilator run."""
    r = subprocess.run([str(exe), f"+workload={workload}"], capture_output=True, text=True)
    m = re.search(r"PASS golden parity: (\d+) operations, (\d+) cycles", r.stdout)
    if r.returncode != 0 or not m:
        raise RuntimeError(f"Verilator run of {workload} failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    counters = {name: int(value) for name, value in re.findall(r"^  (\w+) +(\d+)$", r.stdout, re.M)}
    return counters, int(m.group(2))


def report(c):
    """-> {tier: (fetches, mean latency)}, overall mean, accuracy, coverage."""
    tiers = {t: (c[f"FETCH_{t}"], c[f"FETCH_STALL_{t}"] / c[f"FETCH_{t}"] if c[f"FETCH_{t}"] else None)
             for t in TIERS}
    fetches = sum(c[f"FETCH_{t}"] for t in TIERS)
    mean = sum(c[f"FETCH_STALL_{t}"] for t in TIERS) / fetches if fetches else None
    hits = c["PREFETCH_HITS"]
    accuracy = hits / c["PREFETCH_TRANSFERS"] if c["PREFETCH_TRANSFERS"] else None
    misses = hits + c["FETCH_WARM"] + c["FETCH_COLD"]
    coverage = hits / misses if misses else None
    return tiers, mean, accuracy, coverage


def fmt(x, digits=1):
    return "-" if x is None else f"{x:,.{digits}f}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=512, help="decode steps of the trace (default 512)")
    ap.add_argument("--dim", type=int, default=8, help="head dimension D of the blocks (default 8)")
    ap.add_argument("--seed", type=int, default=1, help="the workload's seed (values, delays)")
    ap.add_argument("--keep", type=Path, help="write the two workloads here instead of a temporary folder")
    ap.add_argument("--model", type=Path, help="a `sim` target model already built (default: build one)")
    args = ap.parse_args(argv)
    params = param_sets.get("sim")
    if args.steps < 1 or args.dim < params.cq_lanes or args.dim % params.cq_lanes or args.dim > params.cq_dim:
        ap.error(f"--steps must be positive and --dim a multiple of {params.cq_lanes} up to {params.cq_dim}")
    print(f"machine: {machine()}")
    print(f"workload: the first {args.steps} steps of the DECODE_SIM trace ({DECODE_SIM.sessions} sessions), blocks "
          f"of 32 tokens CQ-4 D = {args.dim}, seed {args.seed}, set sim at {params.clock_mhz:.0f} MHz")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        exe = args.model
        if exe is None:
            print("building the Verilator model through `fusesoc run --build --target=sim` ...", flush=True)
            exe = build_model(Path(tmp) / "build")
        elif not exe.is_file():
            ap.error(f"no model {exe}")
        results = {}
        for name, prefetch in (("with prefetch", True), ("no prefetch", False)):
            start = time.time()
            w = Workload(params, seed=args.seed)
            decode_replay(w, args.steps, dim=args.dim, prefetch=prefetch)
            path = folder / f"fetch_{'prefetch' if prefetch else 'none'}.wl"
            path.write_text(w.text())
            built = time.time() - start
            if name == "with prefetch":
                print("tiers: " + ", ".join(f"{t} latency {lat}, interval {iv} cycles" for t, (lat, iv) in w.tiers.items()))
            counters, cycles = run(exe, path)
            results[name] = (counters, cycles)
            print(f"{name}: {len(w.lines):,} workload lines (golden: {built:.0f} s), {cycles:,} cycles in "
                  f"Verilator, PASS golden parity", flush=True)
    print()
    print("| run | " + " | ".join(f"{t.lower()} fetches | {t.lower()} latency" for t in TIERS)
          + " | mean latency | prefetches | hits | accuracy | coverage | cycles |")
    print("|---" * (2 + 2 * len(TIERS) + 5) + "|")
    for name, (c, cycles) in results.items():
        tiers, mean, accuracy, coverage = report(c)
        cells = [f"{n:,} | {fmt(lat)}" for n, lat in tiers.values()]
        print(f"| {name} | " + " | ".join(cells) + f" | {fmt(mean)} | {c['PREFETCH_TRANSFERS']:,} | "
              f"{c['PREFETCH_HITS']:,} | {fmt(accuracy, 3)} | {fmt(coverage, 3)} | {cycles:,} |")
    print("latency: cycles from a fetch's descriptor to its first word streamed (FETCH_STALL_<tier> / FETCH_<tier>)")
    return results


if __name__ == "__main__":
    main()

"""Fetch latency by tier, with and without prefetch, in the Verilator model of the die.

    python -m sim.fetch_bench [--steps 512] [--dim 8] [--seed 1] [--keep DIR] [--model Vkv1_die]

The workload is the main job's decode part (golden.workload.scenarios.hepc.decode_replay: the DECODE_SIM trace,
seed 1, hot watermarks 16/12) with its blocks carrying data: each append a KV_APPEND of 32 tokens
(CQ-4 at D = --dim), each access a KV_FETCH, at the default tier timing of the `sim` set. It runs
twice through the `sim` target's model: as the runtime drives it (PREFETCH hints, and the threshold
prefetch at its reset threshold), and with no prefetch (no hints, HEPC_THRESHOLD 65535). Each run
is checked against golden as it goes (the model stops at the first mismatch). Reported per tier:
fetches and their mean latency, FETCH_STALL_<tier> / FETCH_<tier> (cycles from the descriptor to
the first word streamed: the whole slot is read first); then the overall mean, the prefetches,
their hits, accuracy and coverage (docs/data_plane.md), and the run's cycles.

Then a span's cost: --span-blocks blocks appended hot, fetched --span-repeats times as one
BLOCK_FETCH and as that many KV_FETCHes, in three runs (the appends alone, with the spans, with the
single fetches). Cycles per block fetched = (run - appends alone) / (repeats x blocks); they include
the bench's doorbell and completion traffic (no random host delays), which a span pays once.
"""
import argparse
import re
import subprocess
import tempfile
import time
from pathlib import Path

from golden import kv1_regs as R
from golden.data_plane import MAX_SPAN_BLOCKS
from golden.channelquant import MODES
from golden.kvpath import kv_values
from golden.policy_engine import BLOCK_TOKENS
from golden.workload.driver import Workload, block_fetch, configure_codec, ensure_open, kv_append, kv_fetch
from golden.workload.scenarios.hepc import decode_replay, DECODE_SIM
from golden import params as param_sets
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


def span_cost(exe, folder, params, dim, seed, blocks, repeats):
    """-> {way: cycles per block fetched} for "span" (BLOCK_FETCH) and "single" (KV_FETCH)."""
    cycles = {}
    for way in ("appends", "span", "single"):
        w = Workload(params, seed=seed, delays=False)
        ensure_open(w, 1)
        configure_codec(w, MODES.index("CQ4"), dim)
        for b in range(blocks):
            kv_append(w, (1, 0, 0, b), kv_values(w.rng, BLOCK_TOKENS, dim))
            if w.model.policy.dir.lookup(1, 0, 0, b) is None:
                raise ValueError(f"block {b} of the span finds its directory set full: fewer --span-blocks")
        for _ in range(repeats if way != "appends" else 0):
            if way == "span":
                block_fetch(w, 1, 0, 0, 0, blocks * BLOCK_TOKENS)
            else:
                for b in range(blocks):
                    kv_fetch(w, (1, 0, 0, b))
        path = folder / f"span_{way}.wl"
        path.write_text(w.text())
        cycles[way] = run(exe, path)[1]
    return {way: (cycles[way] - cycles["appends"]) / (repeats * blocks) for way in ("span", "single")}


def fmt(x, digits=1):
    return "-" if x is None else f"{x:,.{digits}f}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=512, help="decode steps of the trace (default 512)")
    ap.add_argument("--dim", type=int, default=8, help="head dimension D of the blocks (default 8)")
    ap.add_argument("--seed", type=int, default=1, help="the workload's seed (values, delays)")
    ap.add_argument("--keep", type=Path, help="write the two workloads here instead of a temporary folder")
    ap.add_argument("--model", type=Path, help="a `sim` target model already built (default: build one)")
    ap.add_argument("--span-blocks", type=int, default=8, help="blocks of the span comparison (default 8)")
    ap.add_argument("--span-repeats", type=int, default=16, help="its fetches of each kind (default 16)")
    args = ap.parse_args(argv)
    params = param_sets.get("sim")
    if args.steps < 1 or args.dim < params.cq_lanes or args.dim % params.cq_lanes or args.dim > params.cq_dim:
        ap.error(f"--steps must be positive and --dim a multiple of {params.cq_lanes} up to {params.cq_dim}")
    if not 1 <= args.span_blocks <= MAX_SPAN_BLOCKS or args.span_repeats < 1:
        ap.error(f"--span-blocks must be 1 to {MAX_SPAN_BLOCKS} and --span-repeats positive")
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
        per_block = span_cost(exe, folder, params, args.dim, args.seed, args.span_blocks, args.span_repeats)
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
    print()
    print(f"span: {args.span_blocks} hot blocks fetched {args.span_repeats} times, golden-checked in Verilator: "
          f"{per_block['span']:,.1f} cycles per block as one BLOCK_FETCH, {per_block['single']:,.1f} as "
          f"{args.span_blocks} KV_FETCHes (ratio {per_block['single'] / per_block['span']:.2f})")
    results["span cycles per block"] = per_block
    return results


if __name__ == "__main__":
    main()

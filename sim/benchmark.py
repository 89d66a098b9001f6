"""Simulation speed benchmark: Verilator (the `sim` target's model) and MyHDL, `sim` set.

    python -m sim.benchmark [--ops 20000] [--myhdl-ops 300] [--repeat 3]

Prints the machine, the tools, the parameters and cycles per second of each simulator on
frame workloads (median of --repeat runs), against DESIGN §11: Verilator >= 1 M cycles/s,
MyHDL >= 1 k cycles/s. Timing here is noisy; compare figures taken in the same run.
"""
import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from golden.workload.kinds import build
from golden import params as param_sets
from sim import bench

ROOT = Path(__file__).resolve().parents[1]
VERILATOR_TARGET = 1e6
MYHDL_TARGET = 1e3


def machine():
    cpu = "unknown cpu"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                   if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{platform.node()}: {cpu}, {os.cpu_count()} cores, Linux {platform.release()}, Python {platform.python_version()}"


def build_model(build_root):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    r = subprocess.run([str(Path(sys.executable).parent / "fusesoc"), "--cores-root", str(ROOT), "run",
                        f"--build-root={build_root}", "--build", "--target=sim", "kv1:kv1:die"],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"fusesoc build failed:\n{r.stderr[-2000:]}")
    return next(p for p in Path(build_root).rglob("Vkv1_die") if p.is_file())


def verilator_rate(exe, workload):
    r = subprocess.run([str(exe), f"+workload={workload}", "+quiet"], capture_output=True, text=True)
    m = re.search(r"PASS golden parity: (\d+) operations, (\d+) cycles, ([\d.]+) M cycles/s", r.stdout)
    if r.returncode != 0 or not m:
        raise RuntimeError(f"Verilator run failed: {r.stdout[-1000:]} {r.stderr[-1000:]}")
    return int(m.group(2)), float(m.group(3)) * 1e6


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ops", type=int, default=20000, help="random operations of the Verilator workload")
    ap.add_argument("--myhdl-ops", type=int, default=300, help="random operations of the MyHDL workload")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    params = param_sets.get("sim")
    print(f"machine: {machine()}")
    print(f"tools: {subprocess.run(['verilator', '--version'], capture_output=True, text=True).stdout.strip()}, "
          f"MyHDL {__import__('myhdl').__version__}")
    print(f"parameters: set sim {params.as_dict()}")
    with tempfile.TemporaryDirectory() as tmp:
        print("building the Verilator model through `fusesoc run --build --target=sim` ...", flush=True)
        exe = build_model(Path(tmp) / "build")
        wl = Path(tmp) / "bench.wl"
        wl.write_text(build("frame", params, args.ops, args.seed).text())
        runs = [verilator_rate(exe, wl) for _ in range(args.repeat)]
        cycles, vl = runs[0][0], statistics.median(r for _, r in runs)
        print(f"Verilator: frame workload, {args.ops} random operations, {cycles} cycles: "
              f"{vl / 1e6:.2f} M cycles/s (median of {args.repeat}; target >= {VERILATOR_TARGET / 1e6:.0f} M)")
        text = build("frame", params, args.myhdl_ops, args.seed).text()
        rates = []
        for _ in range(args.repeat):
            rp, rate = bench.run(text, "myhdl")
            if rp.error:
                raise RuntimeError(rp.error)
            rates.append(rate)
        mh = statistics.median(rates)
        print(f"MyHDL: frame workload, {args.myhdl_ops} random operations, {rp.cycle} cycles: "
              f"{mh / 1e3:.2f} k cycles/s (median of {args.repeat}; target >= {MYHDL_TARGET / 1e3:.0f} k)")
        print(f"ratio Verilator / MyHDL: {vl / mh:.0f}x")
    ok = vl >= VERILATOR_TARGET and mh >= MYHDL_TARGET
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

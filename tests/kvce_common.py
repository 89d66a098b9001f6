"""What the kvce tests share: the vector sets, seeded random work, the configuration-hold bench
(the converted blocks and their benches are fixtures in conftest.py)."""
import glob
import random
import re
from pathlib import Path

import numpy as np
import pytest
from myhdl import block, always, instance, delay, StopSimulation

from golden.cq_vectors import OUT_DIR as OUR_VECTORS, PUBLISHED_DIR, REAL_DIR
from golden import params as param_sets
from sim.kvce_bench import Job

SIM = param_sets.get("sim")
ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = sorted(glob.glob(str(PUBLISHED_DIR / "*.npz")))
L = SIM.cq_lanes
# every vector with tokens to code (the dequant_ ones are hand-made code streams for the decoder)
OURS = sorted(p for p in glob.glob(str(ROOT / OUR_VECTORS / "*.npz")) if not Path(p).name.startswith("dequant_"))
REAL = sorted(glob.glob(str(REAL_DIR / "*.npz")))       # SmolLM2-135M keys and values
VECTORS = PUBLISHED + OURS + REAL
DEQUANT = sorted(glob.glob(str(ROOT / OUR_VECTORS / "dequant_*.npz")))
SWEEP_VALUES = 48 * 64     # a vector of more values than this is only in the full run (marker sweep)


def vector_cases(paths):
    """pytest parameters of the vector files, the large ones marked sweep (not in make test-fast)."""
    def values(path):
        d, t = (int(v) for v in re.search(r"d(\d+)_T(\d+)", Path(path).stem).groups())
        return d * t
    return [pytest.param(p, id=Path(p).stem, marks=[pytest.mark.sweep] if values(p) > SWEEP_VALUES else [])
            for p in paths]


def random_jobs(seed, count=6):
    """Seeded jobs over the engine's whole configuration space: D any multiple of the lanes,
    G up to the build limit, every mode and kind, k 0..KMAX, values from zeros to fp16's max."""
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    jobs = []
    for n in range(count):
        D = SIM.cq_lanes * rng.randint(1, SIM.cq_dim // SIM.cq_lanes)
        G = rng.choice([1, 2, 3, rng.randint(1, SIM.cq_group), SIM.cq_group])
        T = rng.randint(1, 2 * G + 1) if G < 40 else rng.randint(1, G + 5)
        mode = rng.choice(["CQ8", "CQ4", "CQ4plus"])
        k = rng.randint(0, min(SIM.cq_outliers, D - 1))
        outliers = tuple(sorted(rng.sample(range(D), k))) if mode == "CQ4plus" else ()
        scale = 10.0 ** rng.uniform(-9, 4.5)
        x = (nprng.standard_normal((T, D)) * scale).clip(-65504, 65504).astype(np.float16)
        x[nprng.random((T, D)) < 0.05] = 0
        jobs.append(Job(f"random{seed}.{n}", rng.choice(["key", "value"]), mode, x, G, outliers))
    return jobs


def hold_cases(block_fn, sigs, cases):
    """Drive each case for three cycles with the input valid; -> (cfg_err_o, s_axis_tready, busy_o)
    after each."""
    seen = []

    @block
    def tb():
        dut = block_fn(SIM, **sigs)

        @always(delay(5))
        def clock():
            sigs["clk_i"].next = not sigs["clk_i"]

        @instance
        def run():
            yield delay(20)
            sigs["rst_ni"].next = 1
            sigs["s_axis_tvalid"].next = 1
            for case in cases:
                for name, value in {**dict(mask_ok_i=1, s_axis_tuser=0), **case}.items():
                    sigs[name].next = value
                for _ in range(3):
                    yield sigs["clk_i"].posedge
                seen.append((bool(sigs["cfg_err_o"]), bool(sigs["s_axis_tready"]), bool(sigs["busy_o"])))
            raise StopSimulation()

        return dut, clock, run

    t = tb()
    t.run_sim(quiet=1)
    t.quit_sim()
    return seen

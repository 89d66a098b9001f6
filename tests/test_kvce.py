"""kvce, the ChannelQuant engine: golden <-> MyHDL <-> converted Verilog (Icarus, Verilator)."""
import functools
import glob
import random
import subprocess
from pathlib import Path

import numpy as np
import pytest

from golden.cq_vectors import OUT_DIR as OUR_VECTORS
from hdl import params as param_sets
from hdl.kvce import kvce_enc as enc
from sim import cq_lanes_check
from sim.kvce_bench import Job, vector_jobs, run_myhdl, build_verilog, run_verilog, compare, port_signals

SIM = param_sets.get("sim")
ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = sorted(glob.glob(str(ROOT.parent / "shared/vectors/channelquant/*.npz")))
# every vector with tokens to code (the dequant_ ones are hand-made code streams for the decoder)
OURS = sorted(p for p in glob.glob(str(ROOT / OUR_VECTORS / "*.npz")) if not Path(p).name.startswith("dequant_"))
VECTORS = PUBLISHED + OURS


@functools.lru_cache(maxsize=None)
def myhdl_run(path):
    jobs = vector_jobs(path)
    images, drv = run_myhdl(SIM, jobs)
    return jobs, images, drv.out


def test_vector_sets_are_there():
    assert len(PUBLISHED) == 9 and len(OURS) == 20


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: Path(p).stem)
def test_myhdl_engine_codes_every_vector_like_golden(path):
    jobs, images, _ = myhdl_run(path)
    assert compare(jobs, images) == []


@pytest.fixture(scope="module")
def rtl(tmp_path_factory):
    return enc.generate("sim", tmp_path_factory.mktemp("kvce_rtl"))


@pytest.fixture(scope="module")
def bench(rtl, tmp_path_factory):
    """tool -> (run command, folder): each simulator's bench is built once for the module."""
    built = {}

    def get(tool):
        if tool not in built:
            folder = tmp_path_factory.mktemp(tool)
            built[tool] = (build_verilog(tool, SIM, [rtl], folder), folder)
        return built[tool]

    return get


@pytest.mark.parametrize("tool", ["icarus", "verilator"])
def test_converted_engine_matches_golden_and_myhdl_cycle_for_cycle(tool, bench):
    run, folder = bench(tool)
    for path in VECTORS:
        jobs, _, myhdl_beats = myhdl_run(path)
        images, beats, _ = run_verilog(run, SIM, jobs, folder)
        assert compare(jobs, images) == [], Path(path).stem
        assert beats == myhdl_beats, f"{Path(path).stem}: {tool} output differs from MyHDL"


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


@pytest.mark.parametrize("seed", [1, 2])
def test_random_configurations_match_golden_in_myhdl_and_verilator(seed, bench):
    jobs = random_jobs(seed)
    images, drv = run_myhdl(SIM, jobs, seed=seed)
    assert compare(jobs, images) == []
    run, folder = bench("verilator")
    v_images, beats, _ = run_verilog(run, SIM, jobs, folder, seed=seed)
    assert compare(jobs, v_images) == []
    assert beats == drv.out


def test_bench_reports_a_corrupted_image():
    jobs = vector_jobs(PUBLISHED[0])
    _, images, _ = myhdl_run(PUBLISHED[0])
    bad = [images[0][:10] + bytes([images[0][10] ^ 1]) + images[0][11:]] + images[1:]
    assert any("first difference at byte 10" in e for e in compare(jobs, bad))


def test_a_configuration_it_cannot_code_holds_the_stream():
    """mode 3, D not a multiple of the lanes, G above the build limit, a CQ-4+ key group whose
    ROM mask is not k channels: tready stays low and cfg_err_o says why nothing moves."""
    from myhdl import block, always, instance, delay, StopSimulation
    sigs = port_signals(SIM)
    seen = []
    cases = [dict(mode_i=3, dim_i=64, group_i=8), dict(mode_i=1, dim_i=60, group_i=8),
             dict(mode_i=1, dim_i=64, group_i=SIM.cq_group + 1), dict(mode_i=1, dim_i=0, group_i=8),
             dict(mode_i=2, dim_i=64, group_i=8, mask_ok_i=0),
             dict(mode_i=2, dim_i=64, group_i=8, mask_ok_i=0, s_axis_tuser=1)]  # values: no mask

    @block
    def tb():
        dut = enc.kvce_enc(SIM, **sigs)

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
    assert seen[:5] == [(True, False, False)] * 5
    assert seen[5] == (False, True, True)   # a value group ignores the key mask and starts


def test_every_lane_result_equals_golden_exhaustively(tmp_path):
    errors, counts = cq_lanes_check.check("verilator", tmp_path)
    assert errors == []
    assert counts[0] == 2 * 0x7C00 and counts[1] > 7_000_000


def test_converted_engine_is_lint_clean_but_for_the_justified_waiver(rtl):
    vlt = ROOT / "hdl/kvce/kvce_lint.vlt"
    r = subprocess.run(["verilator", "--lint-only", "-Wall", str(vlt), str(rtl)], capture_output=True, text=True)
    assert r.returncode == 0 and "%Warning" not in r.stderr, r.stderr[-3000:]
    r = subprocess.run(["verilator", "--lint-only", "-Wall", str(rtl)], capture_output=True, text=True)
    assert "%Warning-WIDTH" in r.stderr and "%Warning-UNUSED" not in r.stderr  # the waiver is needed, and only it


def test_generation_is_deterministic_whatever_the_hash_seed(tmp_path, monkeypatch):
    """MyHDL orders some statements by iterating sets: the generator pins the hash seed."""
    outputs = []
    for seed in ("1", "2"):
        monkeypatch.setenv("PYTHONHASHSEED", seed)
        outputs.append(enc.generate("sim", tmp_path / seed).read_bytes())
    assert outputs[0] == outputs[1]

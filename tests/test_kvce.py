"""kvce_enc, the ChannelQuant compressor: golden <-> MyHDL <-> converted Verilog (Icarus,
Verilator); the lane units exhaustively; lint and generation of both kvce blocks."""
import functools
import subprocess
from pathlib import Path

import pytest

from hdl.kvce import generate, kvce_enc as enc
from sim import cq_lanes_check
from sim.kvce_bench import vector_jobs, enc_plan, run_myhdl, run_verilog, compare, images_from_beats, ENC
from tests.kvce_common import (SIM, L, ROOT, PUBLISHED, OURS, REAL, VECTORS, DEQUANT, random_jobs, vector_cases,
                               hold_cases)


@functools.lru_cache(maxsize=None)
def myhdl_run(path):
    jobs = vector_jobs(path)
    drv = run_myhdl(SIM, enc_plan(jobs, L))
    return jobs, images_from_beats(drv.out, L), drv.out


def test_vector_sets_are_there():
    assert len(PUBLISHED) == 9 and len(OURS) == 20 and len(DEQUANT) == 2 and len(REAL) == 3


@pytest.mark.parametrize("path", vector_cases(VECTORS))
def test_myhdl_engine_codes_every_vector_like_golden(path):
    jobs, images, _ = myhdl_run(path)
    assert compare(jobs, images) == []


@pytest.mark.parametrize("tool", ["icarus", "verilator"])
def test_converted_engine_matches_golden_and_myhdl_cycle_for_cycle(tool, kvce_bench):
    run, folder = kvce_bench(ENC, tool)
    for path in VECTORS:
        jobs, _, myhdl_beats = myhdl_run(path)
        beats, _ = run_verilog(run, SIM, enc_plan(jobs, L), folder)
        assert compare(jobs, images_from_beats(beats, L)) == [], Path(path).stem
        assert beats == myhdl_beats, f"{Path(path).stem}: {tool} output differs from MyHDL"


@pytest.mark.parametrize("seed", [1, 2])
def test_random_configurations_match_golden_in_myhdl_and_verilator(seed, kvce_bench):
    jobs = random_jobs(seed)
    out = run_myhdl(SIM, enc_plan(jobs, L), seed=seed).out
    assert compare(jobs, images_from_beats(out, L)) == []
    run, folder = kvce_bench(ENC, "verilator")
    beats, _ = run_verilog(run, SIM, enc_plan(jobs, L), folder, seed=seed)
    assert compare(jobs, images_from_beats(beats, L)) == []
    assert beats == out


def test_bench_reports_a_corrupted_image():
    jobs = vector_jobs(PUBLISHED[0])
    _, images, _ = myhdl_run(PUBLISHED[0])
    bad = [images[0][:10] + bytes([images[0][10] ^ 1]) + images[0][11:]] + images[1:]
    assert any("first difference at byte 10" in e for e in compare(jobs, bad))


def test_a_configuration_it_cannot_code_holds_the_stream():
    """mode 3, D not a multiple of the lanes, G above the build limit, a CQ-4+ key group whose
    ROM mask is not k channels: tready stays low and cfg_err_o says why nothing moves."""
    cases = [dict(mode_i=3, dim_i=64, group_i=8), dict(mode_i=1, dim_i=60, group_i=8),
             dict(mode_i=1, dim_i=64, group_i=SIM.cq_group + 1), dict(mode_i=1, dim_i=0, group_i=8),
             dict(mode_i=2, dim_i=64, group_i=8, mask_ok_i=0),
             dict(mode_i=2, dim_i=64, group_i=8, mask_ok_i=0, s_axis_tuser=1)]  # values: no mask
    seen = hold_cases(enc.kvce_enc, enc.enc_port_signals(SIM), cases)
    assert seen[:5] == [(True, False, False)] * 5
    assert seen[5] == (False, True, True)   # a value group ignores the key mask and starts


@pytest.mark.sweep
def test_every_lane_result_equals_golden_exhaustively(tmp_path):
    errors, counts = cq_lanes_check.check("verilator", tmp_path)
    assert errors == []
    assert counts[0] == 2 * 0x7C00 and counts[1] > 7_000_000


@pytest.mark.parametrize("top", ["kvce_enc", "kvce_dec"])
def test_converted_engine_is_lint_clean_but_for_the_justified_waiver(top, kvce_rtl):
    vlt = ROOT / "hdl/kvce/kvce_lint.vlt"
    r = subprocess.run(["verilator", "--lint-only", "-Wall", str(vlt), str(kvce_rtl[top])], capture_output=True, text=True)
    assert r.returncode == 0 and "%Warning" not in r.stderr, r.stderr[-3000:]
    r = subprocess.run(["verilator", "--lint-only", "-Wall", str(kvce_rtl[top])], capture_output=True, text=True)
    warnings = {line.split(":")[0] for line in r.stderr.splitlines() if line.startswith("%Warning")}
    assert warnings == {"%Warning-WIDTH"}   # the waiver is needed, and only it


def test_generation_is_deterministic_whatever_the_hash_seed(tmp_path, monkeypatch):
    """MyHDL orders some statements by iterating sets: the generator pins the hash seed."""
    outputs = []
    for seed in ("1", "2"):
        monkeypatch.setenv("PYTHONHASHSEED", seed)
        outputs.append([generate("sim", top, tmp_path / seed).read_bytes() for top in ("kvce_enc", "kvce_dec")])
    assert outputs[0] == outputs[1]

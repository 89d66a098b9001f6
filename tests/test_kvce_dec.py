"""kvce_dec, the ChannelQuant decompressor: block images cut from every vector's contract arrays
(published, ours incl. the hand-made code streams, real SmolLM2 K/V) decode to the vector's own
fp32 reconstruction in MyHDL and the converted Verilog (Icarus, Verilator), bit for bit."""
import functools
from pathlib import Path

import pytest

from golden import channelquant as cq
from hdl.kvce import kvce_dec as dec
from sim.kvce_bench import (vector_images, job_images, dec_plan, run_myhdl, run_verilog, compare_decoded,
                            blocks_from_beats, DEC)
from tests.kvce_common import SIM, L, VECTORS, DEQUANT, random_jobs, hold_cases, vector_cases


@functools.lru_cache(maxsize=None)
def myhdl_decode(path):
    images = vector_images(path, SIM.cq_group)
    return images, run_myhdl(SIM, dec_plan(images, L)).out


@pytest.mark.parametrize("path", vector_cases(VECTORS + DEQUANT))
def test_myhdl_decompressor_reconstructs_every_vector_bit_for_bit(path):
    images, out = myhdl_decode(path)
    assert compare_decoded(images, blocks_from_beats(out, L)) == []


@pytest.mark.parametrize("tool", ["icarus", "verilator"])
def test_converted_decompressor_matches_vectors_and_myhdl_cycle_for_cycle(tool, kvce_bench):
    run, folder = kvce_bench(DEC, tool)
    for path in VECTORS + DEQUANT:
        images, myhdl_beats = myhdl_decode(path)
        beats, _ = run_verilog(run, SIM, dec_plan(images, L), folder)
        assert compare_decoded(images, blocks_from_beats(beats, L)) == [], Path(path).stem
        assert beats == myhdl_beats, f"{Path(path).stem}: {tool} output differs from MyHDL"


@pytest.mark.parametrize("seed", [3, 4])
def test_random_images_decode_like_golden_in_myhdl_and_verilator(seed, kvce_bench):
    images = job_images(random_jobs(seed))
    out = run_myhdl(SIM, dec_plan(images, L), seed=seed).out
    assert compare_decoded(images, blocks_from_beats(out, L)) == []
    run, folder = kvce_bench(DEC, "verilator")
    beats, _ = run_verilog(run, SIM, dec_plan(images, L), folder, seed=seed)
    assert beats == out


def test_an_image_it_cannot_decode_holds_the_stream():
    """The same for the decompressor: bad mode, D, token count (0, above G), a CQ-4+ key mask
    the ROM flags or k above the build limit."""
    cases = [dict(mode_i=3, dim_i=64, tokens_i=8), dict(mode_i=1, dim_i=60, tokens_i=8),
             dict(mode_i=1, dim_i=64, tokens_i=SIM.cq_group + 1), dict(mode_i=1, dim_i=64, tokens_i=0),
             dict(mode_i=2, dim_i=64, tokens_i=8, outliers_i=2, mask_ok_i=0),
             dict(mode_i=2, dim_i=64, tokens_i=8, outliers_i=SIM.cq_outliers + 1),
             dict(mode_i=2, dim_i=64, tokens_i=8, outliers_i=2, mask_ok_i=0, s_axis_tuser=1)]
    seen = hold_cases(dec.kvce_dec, dec.dec_port_signals(SIM), cases)
    assert seen[:6] == [(True, False, False)] * 6
    assert seen[6] == (False, True, True)


def test_a_malformed_image_is_flagged_and_the_next_one_decodes():
    """An image whose tlast comes 3 bytes early decodes as if those bytes were zero; one with a
    beat and 3 bytes too many ignores them; each pulses image_err_o once, always g x D values
    come out, and the images around them decode exactly."""
    jobs = random_jobs(5, count=4)
    good = job_images(jobs)[:4]
    short, long_ = good[1], good[2]
    fmt_args = lambda img: (img.tokens, img.dim, img.kind, img.mode, img.outliers)
    cut = short.data[:-3]
    short = type(short)(short.name + ":short", short.kind, short.mode, short.dim, cut,
                        cq.decode_group(cq.parse_image(cut + bytes(3), *fmt_args(short))), short.outliers)
    long_ = type(long_)(long_.name + ":long", long_.kind, long_.mode, long_.dim,
                        long_.data + bytes(range(1, L + 4)), long_.expected, long_.outliers)
    images = [good[0], short, long_, good[3]]
    drv = run_myhdl(SIM, dec_plan(images, L), seed=5)
    assert compare_decoded(images, blocks_from_beats(drv.out, L)) == []
    assert [n for _, n in drv.flags] == ["image_err_o"] * 2

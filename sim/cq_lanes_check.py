"""Exhaustive checks of the converted ChannelQuant lanes against golden (DESIGN §5).

    python -m sim.cq_lanes_check [--tool verilator|icarus] [--out build/cq_lanes]

scale unit    every finite fp16 amax magnitude (31,744) x INT4 and INT8, and its reciprocal
quantiser     every finite fp16 x (63,488) x a spread of scales x INT4 and INT8
dequantiser   every code (256) x a spread of scales, and raw (sidecar) mode on every finite fp16
The Verilog bench walks the inputs itself and writes one result per line; numpy compares.
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from myhdl import Signal, intbv

from golden import channelquant as cq
from hdl.kvce.cq_lanes import scale_unit, quant_lane, dequant_lane, RECIP_BITS, RECIPROCAL
from sim.kvce_bench import build_bench

FINITE_MAGNITUDES = 0x7C00              # |amax| of a finite fp16: 0 .. 0x7BFF
FINITE = np.array([v for v in range(1 << 16) if (v >> 10) & 0x1F != 0x1F], np.uint32)


def scale_spread():
    """Quantiser scales: the smallest (0x0400), every binade's 1.0 and a few fractions, the
    largest, and seeded random ones (positive normal fp16, as scale_unit makes them)."""
    rng = np.random.default_rng(5)
    s = {0x0400, 0x7BFF, 0x3C00, 0x3C01, 0x3FFF}
    s |= {(e << 10) | f for e in range(1, 31, 3) for f in (0, 0x155, 0x3FF)}
    s |= set(rng.integers(0x0400, 0x7C00, 24).tolist())
    return np.array(sorted(s), np.uint32)


def dequant_scales():
    """Every exponent with three fractions, both signs, plus subnormals and zeros."""
    s = {(sg << 15) | (e << 10) | f for sg in (0, 1) for e in range(31) for f in (0, 1, 0x2AA, 0x3FF)}
    return np.array(sorted(s), np.uint32)


def _convert(out):
    a15, wide, s15, rc = Signal(intbv(0)[15:]), Signal(bool(0)), Signal(intbv(0)[15:]), Signal(intbv(0)[RECIP_BITS:])
    scale_unit(a15, wide, s15, rc).convert(hdl="Verilog", path=str(out), name="cq_scale_unit", no_myhdl_header=True)
    x, sc, q = Signal(intbv(0)[16:]), Signal(intbv(0)[15:]), Signal(intbv(0)[8:])
    quant_lane(x, sc, Signal(intbv(0)[RECIP_BITS:]), Signal(bool(0)), q).convert(
        hdl="Verilog", path=str(out), name="cq_quant_lane", no_myhdl_header=True)
    code, s16, raw, y = Signal(intbv(0)[8:]), Signal(intbv(0)[16:]), Signal(bool(0)), Signal(intbv(0)[32:])
    dequant_lane(code, s16, raw, y).convert(hdl="Verilog", path=str(out), name="cq_dequant_lane",
                                            no_myhdl_header=True)


def _hex(path, values):
    Path(path).write_text("".join(f"{int(v):x}\n" for v in values))


def _read(path, cols=1):
    words = Path(path).read_text().split()
    return np.array([int(w, 16) for w in words], np.int64).reshape(-1, cols) if cols > 1 else \
        np.array([int(w, 16) for w in words], np.int64)


def check(tool="verilator", out="build/cq_lanes"):
    """-> list of failure messages (empty: every lane result equals golden)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _convert(out)
    qscales, dscales = scale_spread(), dequant_scales()
    _hex(out / "qscales.hex", qscales)
    _hex(out / "qrecips.hex", [RECIPROCAL[int(v) & 0x3FF] for v in qscales])
    _hex(out / "dscales.hex", dscales)
    _hex(out / "finite.hex", FINITE)
    srcs = ["cq_scale_unit.v", "cq_quant_lane.v", "cq_dequant_lane.v", str(Path(__file__).with_name("tb_cq_lanes.v"))]
    sizes = dict(N_Q=len(qscales), N_D=len(dscales), N_F=len(FINITE), MAGNITUDES=FINITE_MAGNITUDES, RB=RECIP_BITS)
    run = build_bench(tool, "tb_cq_lanes", srcs, out, sizes)
    r = subprocess.run(run, cwd=out, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{run[0]} failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    errors = []
    # scale unit
    got = _read(out / "scale.txt", 2)
    amax = np.arange(FINITE_MAGNITUDES, dtype=np.uint16).view(np.float16)
    for w, qmax in enumerate((7, 127)):
        want = cq.scale_of(amax, qmax).view(np.uint16).astype(np.int64)
        g = got[w * FINITE_MAGNITUDES:(w + 1) * FINITE_MAGNITUDES]
        bad = np.flatnonzero(g[:, 0] != want)
        if bad.size:
            errors.append(f"scale_unit qmax {qmax}: {bad.size} wrong, first amax 0x{bad[0]:04x}: "
                          f"0x{g[bad[0], 0]:04x} vs 0x{want[bad[0]]:04x}")
        m_s = 1024 + (want & 0x3FF)
        bad = np.flatnonzero(g[:, 1] != (1 << 20) // m_s)
        if bad.size:
            errors.append(f"scale_unit qmax {qmax}: {bad.size} wrong reciprocals")
    # quantiser
    got = _read(out / "quant.txt")
    x = FINITE.astype(np.uint16).view(np.float16)
    at = 0
    for bits in (4, 8):
        fmt = cq.Format(bits, False)
        for s in qscales:
            want = cq.quantise(x, np.uint16(s).view(np.float16), fmt).view(np.uint8).astype(np.int64)
            g = got[at:at + x.size]
            at += x.size
            bad = np.flatnonzero(g != want)
            if bad.size:
                errors.append(f"quant_lane INT{bits} scale 0x{s:04x}: {bad.size} wrong, first x "
                              f"0x{FINITE[bad[0]]:04x}: {g[bad[0]]} vs {want[bad[0]]}")
    # dequantiser
    got = _read(out / "dequant.txt")
    codes = np.arange(256, dtype=np.uint8).view(np.int8)
    for j, s in enumerate(dscales):
        want = cq.dequantise(codes, np.uint16(s).view(np.float16)).view(np.uint32).astype(np.int64)
        g = got[256 * j:256 * (j + 1)]
        bad = np.flatnonzero(g != want)
        if bad.size:
            errors.append(f"dequant_lane scale 0x{s:04x}: {bad.size} wrong, first code {codes[bad[0]]}")
    g = got[256 * len(dscales):]
    want = x.astype(np.float32).view(np.uint32).astype(np.int64)
    bad = np.flatnonzero(g != want)
    if bad.size:
        errors.append(f"dequant_lane raw: {bad.size} wrong, first 0x{FINITE[bad[0]]:04x}")
    counts = (2 * FINITE_MAGNITUDES, 2 * len(qscales) * x.size, 256 * len(dscales) + x.size)
    return errors, counts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tool", choices=("verilator", "icarus"), default="verilator")
    ap.add_argument("--out", default="build/cq_lanes")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    errors, (n_s, n_q, n_d) = check(args.tool, args.out)
    print(f"{args.tool}: scale_unit {n_s:,} cases, quant_lane {n_q:,}, dequant_lane {n_d:,} "
          f"({time.perf_counter() - t:.0f} s)")
    for e in errors:
        print("MISMATCH", e)
    print("PASS: every lane result equals golden" if not errors else f"FAIL: {len(errors)} groups wrong")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

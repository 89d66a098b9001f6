"""Stream benches of the ChannelQuant engine against golden.

kvce_enc: a job is one tensor (keys or values) of one vector coded in one mode; its tokens stream
in group after group (a flush closes a final partial group) and every group's image must equal
golden's Group.image() byte for byte. kvce_dec: block images stream in and every group's fp32
reconstruction must equal golden's (the published arrays' where a vector gives them) bit for bit.
Valid gaps on the input and back-pressure on the output come from a seeded generator, so every
run is reproducible; one Driver serves MyHDL and its Verilog twin (tb_<block>.v), so the three
simulators see identical stimulus cycle by cycle.
"""
import argparse
import os
import platform
import random
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from myhdl import block, always, instance, delay, StopSimulation

from golden import channelquant as cq
from golden import params as param_sets
from hdl.common.instance import block_ports
from hdl.kvce import generate, kvce_enc as enc, kvce_dec as dec
from hdl.kvce.kvce_enc import MODE_CODE


class _Coding:
    """The codec configuration of a piece of work (kind, mode, outliers) as the blocks take it."""

    @property
    def mask(self):
        """The CQ-4+ outlier mask (keys only)."""
        return sum(1 << c for c in self.outliers) if self.kind == "key" and self.mode == "CQ4plus" else 0

    @property
    def k(self):
        return len(self.outliers) if self.mode == "CQ4plus" else 0


@dataclass
class Job(_Coding):
    """Encoder work: the tokens of one tensor, coded group after group."""
    name: str
    kind: str                 # "key" or "value"
    mode: str
    tokens: np.ndarray        # fp16 [T][D]
    group: int
    outliers: tuple = ()      # CQ-4+ outlier channels

    @property
    def dim(self):
        return self.tokens.shape[1]

    def groups(self):
        T = self.tokens.shape[0]
        return [self.tokens[t:t + self.group] for t in range(0, T, self.group)]

    def coded(self):
        outl = self.outliers if self.kind == "key" else ()
        return [cq.encode_group(g, self.kind, self.mode, outl) for g in self.groups()]

    def expected(self):
        """Golden images, one per group."""
        return [g.image() for g in self.coded()]


@dataclass
class Image(_Coding):
    """Decoder work: one block image and the reconstruction it must give."""
    name: str
    kind: str
    mode: str
    dim: int
    data: bytes
    expected: np.ndarray      # fp32 [g][D]
    outliers: tuple = ()

    @property
    def tokens(self):
        return self.expected.shape[0]


def _vector_name(path):
    """-> (stem, mode, G or None) of a vector file named {...}_G{G}__{mode}.npz."""
    stem = Path(path).stem
    head, mode = stem.split("__")
    return stem, mode, int(head.split("_G")[1]) if "_G" in head else None


def vector_jobs(path):
    """The key and value jobs of one vector file (published or ours)."""
    stem, mode, G = _vector_name(path)
    with np.load(path) as z:
        K, V, out = z["input_K"], z["input_V"], tuple(int(c) for c in z["outlier_idx"])
    return [Job(f"{stem}:K", "key", mode, K, G, out), Job(f"{stem}:V", "value", mode, V, G, out)]


def vector_images(path, group_limit):
    """Block images cut from a vector file's contract arrays (payload, scales, sidecar), each
    with the vector's own expected reconstruction: keys group by group, values in groups of at
    most `group_limit` tokens (their scales are per token, so any cut is a valid image)."""
    stem, mode, G = _vector_name(path)
    images = []
    with np.load(path) as z:
        arrays = {n: z[n] for n in z.files}
    value_fmt = cq.format_of("value", mode)
    V_hat = arrays["expected_V_hat"]
    T, D = V_hat.shape
    step = min(G or T, group_limit)
    row_bytes = D * value_fmt.bits // 8
    for t in range(0, T, step):
        g = min(step, T - t)
        data = (arrays["val_scales"][t:t + g].astype("<f2").tobytes()
                + arrays["val_payload"][t * row_bytes:(t + g) * row_bytes].tobytes())
        images.append(Image(f"{stem}:V@{t}", "value", mode, D, data, V_hat[t:t + g]))
    if "expected_K_hat" not in arrays:
        return images
    key_fmt = cq.format_of("key", mode)
    out = tuple(int(c) for c in arrays["outlier_idx"]) if mode == "CQ4plus" else ()
    k = len(out)
    scales = D - k if key_fmt.per_channel else None
    at_s = at_p = 0
    for t in range(0, T, G):
        g = min(G, T - t)
        n_s = scales or g
        n_p = (g * (D - k) * key_fmt.bits + 7) // 8
        data = (arrays["key_scales"][at_s:at_s + n_s].astype("<f2").tobytes()
                + arrays["sidecar"][t:t + g].astype("<f2").tobytes()
                + arrays["key_payload"][at_p:at_p + n_p].tobytes())
        images.append(Image(f"{stem}:K@{t}", "key", mode, D, data, arrays["expected_K_hat"][t:t + g], out))
        at_s, at_p = at_s + n_s, at_p + n_p
    return images


def job_images(jobs):
    """The images golden codes from encoder jobs, each with golden's reconstruction."""
    return [Image(f"{job.name}#{i}", job.kind, job.mode, job.dim, grp.image(), cq.decode_group(grp),
                  job.outliers if job.kind == "key" else ())
            for job in jobs for i, grp in enumerate(job.coded())]


# ------------------------------------------------------------------ stream plans
@dataclass(frozen=True)
class Bench:
    """How a bench drives one block: ports set per input beat, ports pulsed for one cycle after
    a beat is taken, output ports logged per output beat (tlast counts the images)."""
    top: str
    block: object
    port_signals: object       # params -> {port: signal}
    beat_ports: tuple
    pulse_ports: tuple
    out_ports: tuple
    flag_ports: tuple = ()     # outputs whose every high cycle the MyHDL driver records


CONFIG = ("s_axis_tuser", "mode_i", "dim_i", "outliers_i", "mask_i", "mask_ok_i")
ENC = Bench("kvce_enc", enc.kvce_enc, enc.enc_port_signals, ("s_axis_tdata", "group_i") + CONFIG,
            ("flush_i",), ("m_axis_tdata", "m_axis_tkeep", "m_axis_tlast"))
DEC = Bench("kvce_dec", dec.kvce_dec, dec.dec_port_signals,
            ("s_axis_tdata", "s_axis_tkeep", "s_axis_tlast", "tokens_i") + CONFIG, (),
            ("m_axis_tdata", "m_axis_tlast"), ("image_err_o",))


@dataclass
class StreamPlan:
    """Everything a simulator needs, cycle-independent: per input beat, its port values and
    the pulses that follow it; the number of output images (tlasts) to wait for."""
    bench: Bench
    beats: list = field(default_factory=list)
    pulses: list = field(default_factory=list)
    images: int = 0
    out_beats: int = 0


def _config(work, lanes):
    """The configuration ports of a piece of work, the same on each of its beats."""
    if work.dim % lanes:
        raise ValueError(f"{work.name}: D = {work.dim} is not a multiple of {lanes} lanes")
    return {"s_axis_tuser": int(work.kind == "value"), "mode_i": MODE_CODE[work.mode], "dim_i": work.dim,
            "outliers_i": work.k, "mask_i": work.mask, "mask_ok_i": 1}


def token_beats(tokens, lanes):
    """Input beats (ints, lane 0 in the low bits) of fp16 tokens."""
    raw = np.ascontiguousarray(tokens, np.float16).view(np.uint16).reshape(-1, lanes)
    return [int.from_bytes(row.astype("<u2").tobytes(), "little") for row in raw]


def enc_plan(jobs, lanes):
    p = StreamPlan(ENC)
    for job in jobs:
        cfg = {**_config(job, lanes), "group_i": job.group}
        beats = token_beats(job.tokens, lanes)
        p.beats += [{**cfg, "s_axis_tdata": b} for b in beats]
        partial = job.tokens.shape[0] % job.group != 0
        p.pulses += [{"flush_i": 0}] * (len(beats) - 1) + [{"flush_i": int(partial)}]
        images = job.expected()
        p.images += len(images)
        p.out_beats += sum(-(-len(i) // lanes) for i in images)
    if not p.beats:
        raise ValueError("no tokens to code")
    return p


def dec_plan(images, lanes):
    p = StreamPlan(DEC)
    for img in images:
        cfg = {**_config(img, lanes), "tokens_i": img.tokens}
        chunks = [img.data[i:i + lanes] for i in range(0, len(img.data), lanes)]
        p.beats += [{**cfg, "s_axis_tdata": int.from_bytes(c, "little"), "s_axis_tkeep": (1 << len(c)) - 1,
                     "s_axis_tlast": int(n == len(chunks) - 1)} for n, c in enumerate(chunks)]
        p.pulses += [{}] * len(chunks)
        p.images += 1
        p.out_beats += img.tokens * img.dim // lanes
    if not p.beats:
        raise ValueError("no images to decode")
    return p


def patterns(cycles, seed, in_gap=0.2, out_stall=0.2):
    """Per cycle: bit 0 = the input may be valid, bit 1 = the output is ready (seeded)."""
    rng = random.Random(seed)
    return [int(rng.random() >= in_gap) | int(rng.random() >= out_stall) << 1 for _ in range(cycles)]


def cycle_limit(p):
    """Cycles after which a run counts as hung: four per beat in or out, plus slack."""
    return 4 * (len(p.beats) + p.out_beats) + 64 * p.images + 1000


class Driver:
    """The bench's per-edge state machine; tb_<block>.v (testbench()) is the same machine."""

    def __init__(self, p, pattern):
        self.p, self.pattern = p, pattern
        self.next_beat = 0
        self.pulse = {n: 0 for n in p.bench.pulse_ports}
        self.out = []                   # (cycle, *out_ports)
        self.flags = []                 # (cycle, flag port)
        self.cycle = 0
        self.valid, self.ready = False, False

    def edge(self, s):
        """s: tready (input) and the output ports sampled at this edge."""
        self.pulse = {n: 0 for n in self.p.bench.pulse_ports}
        if self.valid and s["s_axis_tready"]:
            self.next_beat += 1
            self.pulse.update(self.p.pulses[self.next_beat - 1])
        if self.ready and s["m_axis_tvalid"]:
            self.out.append((self.cycle,) + tuple(s[n] for n in self.p.bench.out_ports))
        self.flags += [(self.cycle, n) for n in self.p.bench.flag_ports if s[n]]
        pat = self.pattern[self.cycle % len(self.pattern)]
        self.valid = self.next_beat < len(self.p.beats) and bool(pat & 1)
        self.ready = bool(pat & 2)
        self.cycle += 1

    def drive(self):
        beat = self.p.beats[min(self.next_beat, len(self.p.beats) - 1)]
        return {**beat, **self.pulse, "s_axis_tvalid": int(self.valid), "m_axis_tready": int(self.ready)}

    def images_out(self):
        return sum(1 for b in self.out if b[-1])


RESET_CYCLES = 2


def run_myhdl(params, p, seed=1, vcd=None):
    """Run a plan through the MyHDL block; -> the Driver (its .out: the output beats)."""
    limit = cycle_limit(p)
    drv = Driver(p, patterns(limit, seed))
    sigs = p.bench.port_signals(params)
    sampled = ("s_axis_tready", "m_axis_tvalid") + p.bench.out_ports + p.bench.flag_ports

    @block
    def tb():
        dut = p.bench.block(params, **sigs)
        clk, rst = sigs["clk_i"], sigs["rst_ni"]

        @always(delay(5))
        def clock():
            clk.next = not clk

        @instance
        def run():
            for _ in range(RESET_CYCLES):
                yield clk.posedge
            rst.next = 1
            while drv.images_out() < p.images and drv.cycle < limit:
                yield clk.posedge
                drv.edge({n: int(sigs[n].val) for n in sampled})
                for n, v in drv.drive().items():
                    sigs[n].next = v
            raise StopSimulation()

        return dut, clock, run

    t = tb()
    if vcd:
        t.config_sim(trace=True, tracebackup=False, name=Path(vcd).stem, directory=str(Path(vcd).parent))
    t.run_sim(quiet=1)
    t.quit_sim()
    return drv


# ------------------------------------------------------------------ results
def images_from_beats(beats, width):
    """Split encoder output beats (cycle, data, keep, last) of `width` bytes into images."""
    images, cur = [], bytearray()
    for _, data, keep, last in beats:
        raw = data.to_bytes(width, "little")
        cur += bytes(raw[i] for i in range(width) if keep >> i & 1)
        if last:
            images.append(bytes(cur))
            cur = bytearray()
    if cur:
        raise AssertionError(f"{len(cur)} output bytes after the last tlast")
    return images


def compare(jobs, images):
    """-> list of mismatch messages (empty when every image is golden's)."""
    want = [(job.name, g, img) for job in jobs for g, img in enumerate(job.expected())]
    errors = []
    if len(images) != len(want):
        errors.append(f"{len(images)} images out, golden has {len(want)}")
    for (name, g, exp), got in zip(want, images):
        if got != exp:
            first = next((i for i, (a, b) in enumerate(zip(got, exp)) if a != b), min(len(got), len(exp)))
            errors.append(f"{name} group {g}: {len(got)} bytes vs golden {len(exp)}, first difference "
                          f"at byte {first}")
    return errors


def blocks_from_beats(beats, lanes):
    """Split decoder output beats (cycle, data, last) into per-image fp32 bit patterns (uint32)."""
    blocks, cur = [], []
    for _, data, last in beats:
        cur.append(np.frombuffer(data.to_bytes(4 * lanes, "little"), "<u4"))
        if last:
            blocks.append(np.concatenate(cur))
            cur = []
    if cur:
        raise AssertionError(f"{len(cur)} output beats after the last tlast")
    return blocks


def compare_decoded(images, blocks):
    """-> list of mismatch messages (empty when every reconstruction is bit for bit the expected)."""
    errors = []
    if len(blocks) != len(images):
        errors.append(f"{len(blocks)} blocks out, {len(images)} images in")
    for img, got in zip(images, blocks):
        want = np.ascontiguousarray(img.expected, np.float32).view(np.uint32).ravel()
        if got.size != want.size:
            errors.append(f"{img.name}: {got.size} values out, {want.size} expected")
        elif not np.array_equal(got, want):
            i = int(np.argmax(got != want))
            errors.append(f"{img.name}: value [{i // img.dim}][{i % img.dim}] is {got[i]:#010x}, "
                          f"expected {want[i]:#010x}")
    return errors


# ------------------------------------------------------------------ converted Verilog
MAX_BEATS = 1 << 16                    # the bench's stimulus capacity
MAX_CYCLES = 1 << 18


def _layout(params, bench):
    """Port -> (lsb, width) in a stimulus word: the beat ports, then the pulse ports."""
    sigs = bench.port_signals(params)
    layout, at = {}, 0
    for n in bench.beat_ports + bench.pulse_ports:
        layout[n] = (at, len(sigs[n]))
        at += len(sigs[n])
    return layout


def testbench(params, bench):
    """tb_<block>.v: the Driver in Verilog. It reads beats.hex and pattern.hex (+beats=,
    +cycles=, +images= give their sizes) and logs every output beat as `cycle port...` (hex)
    in out.txt."""
    sigs = bench.port_signals(params)
    layout = _layout(params, bench)
    word_bits = sum(w for _, w in layout.values())
    ports = block_ports(bench.block)
    inputs = [n for n in ports if n not in ("clk_i", "rst_ni") and not n.endswith("_o")
              and n not in ("s_axis_tready", "m_axis_tvalid") and not (n.startswith("m_axis") and n != "m_axis_tready")]
    outputs = [n for n in ports if n not in inputs and n not in ("clk_i", "rst_ni")]

    def decl(kind, name):
        w = len(sigs[name])
        return f"{kind} {'[%d:0] ' % (w - 1) if w > 1 else ''}{name}{' = 0' if kind == 'reg' else ''};"

    def part(name):
        lsb, width = layout[name]
        return f"word[{lsb + width - 1}:{lsb}]" if width > 1 else f"word[{lsb}]"

    top = f"tb_{bench.top}"
    log = " ".join(["%0d"] + ["%h"] * len(bench.out_ports))
    lines = [f"// {bench.top} stream bench. Generated by sim/kvce_bench.py; do not edit.",
             "`timescale 1ns/1ps", f"module {top};", "reg clk_i = 0;", "reg rst_ni = 0;"]
    lines += [decl("reg", n) for n in inputs] + [decl("wire", n) for n in outputs]
    lines += [
        f"reg [{word_bits - 1}:0] beat_mem [0:{MAX_BEATS - 1}];",
        f"reg [{word_bits - 1}:0] word;",
        f"reg [1:0] pattern [0:{MAX_CYCLES - 1}];",
        "integer cycle = 0, next_beat = 0, images = 0, at = 0, fo, nb = 0, nc = 0, want = 0;",
        "reg valid = 0, ready = 0;"]
    lines += [decl("reg", n).replace(f" {n}", f" {n}_next") for n in bench.pulse_ports]
    lines += [
        f"{bench.top} dut (", ",\n".join(f"  .{n}({n})" for n in ports), ");",
        "initial begin",
        '  if (!$value$plusargs("beats=%d", nb) || !$value$plusargs("cycles=%d", nc)',
        '      || !$value$plusargs("images=%d", want)) begin',
        f'    $display("{top}: give +beats=N +cycles=N +images=N"); $fatal(1);',
        "  end",
        f"  if (nb > {MAX_BEATS} || nc > {MAX_CYCLES}) begin",
        f'    $display("{top}: stimulus larger than the bench"); $fatal(1);',
        "  end",
        '  $readmemh("beats.hex", beat_mem);',
        '  $readmemh("pattern.hex", pattern);',
        '  fo = $fopen("out.txt", "w");',
        "  // sample just before each rising edge, drive just after it: no race with the DUT",
        f"  repeat ({RESET_CYCLES}) begin #5 clk_i = 1; #5 clk_i = 0; end",
        "  #1 rst_ni = 1;",
        "  #4;",
        "  while (images < want && cycle < nc) begin"]
    lines += [f"    {n}_next = 0;" for n in bench.pulse_ports]
    lines += [
        "    if (valid && s_axis_tready) begin",
        "      next_beat = next_beat + 1;",
        "      word = beat_mem[next_beat - 1];"]
    lines += [f"      {n}_next = {part(n)};" for n in bench.pulse_ports]
    lines += [
        "    end",
        "    if (ready && m_axis_tvalid) begin",
        f'      $fwrite(fo, "{log}\\n", cycle, {", ".join(bench.out_ports)});',
        "      if (m_axis_tlast) images = images + 1;",
        "    end",
        "    valid = next_beat < nb && pattern[cycle % nc][0];",
        "    ready = pattern[cycle % nc][1];",
        "    cycle = cycle + 1;",
        "    clk_i = 1;",
        "    #1;",
        "    at = next_beat < nb ? next_beat : nb - 1;",
        "    word = beat_mem[at];",
        "    s_axis_tvalid <= valid;",
        "    m_axis_tready <= ready;"]
    lines += [f"    {n} <= {part(n)};" for n in bench.beat_ports]
    lines += [f"    {n} <= {n}_next;" for n in bench.pulse_ports]
    lines += [
        "    #4 clk_i = 0;",
        "    #5;",
        "  end",
        '  $fwrite(fo, "end %0d\\n", cycle);',
        "  $fclose(fo);",
        "  $finish;",
        "end",
        "endmodule", ""]
    return "\n".join(lines)


def read_log(path):
    """out.txt -> (beats [(cycle, port values...)], cycles)."""
    beats, cycles = [], None
    for line in Path(path).read_text().splitlines():
        w = line.split()
        if w[0] == "end":
            cycles = int(w[1])
        else:
            beats.append((int(w[0]),) + tuple(int(v, 16) for v in w[1:]))
    if cycles is None:
        raise RuntimeError(f"{path}: the bench did not finish")
    return beats, cycles


def build_verilog(tool, params, bench, rtl, folder):
    """Compile a converted block (rtl: its Verilog files) with its bench in `tool` ("icarus"
    or "verilator"); -> the command that runs it in `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tb = f"tb_{bench.top}.v"
    (folder / tb).write_text(testbench(params, bench))
    return build_bench(tool, f"tb_{bench.top}", [str(Path(f).resolve()) for f in rtl] + [tb], folder)


def build_bench(tool, top, srcs, folder, parameters=None):
    """Compile a self-checking Verilog bench (`top` in srcs, paths from `folder`; `parameters`
    overrides its parameters) with Icarus or Verilator (--binary --timing); -> the command that
    runs it in `folder`."""
    parameters = parameters or {}
    if tool == "icarus":
        build = ["iverilog", "-g2012", "-o", "tb.vvp", "-s", top,
                 *(f"-P{top}.{k}={v}" for k, v in parameters.items()), *srcs]
        run = ["vvp", "-n", "tb.vvp"]
    elif tool == "verilator":
        # benches are behavioural (delays, files): lint is the lint target's job, not this build's
        build = ["verilator", "--binary", "--timing", "-Wno-fatal", "-Wno-lint", "-Wno-style",
                 "-O2", "--top-module", top, "-Mdir", "obj", *(f"-G{k}={v}" for k, v in parameters.items()), *srcs]
        run = [f"./obj/V{top}"]
    else:
        raise ValueError(f"unknown simulator {tool!r}")
    r = subprocess.run(build, cwd=folder, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{tool} build failed ({r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return run


def run_verilog(run, params, p, folder, seed=1, in_gap=0.2, out_stall=0.2):
    """Run a built bench on a plan; -> (output beats, cycles)."""
    folder = Path(folder)
    pattern = patterns(cycle_limit(p), seed, in_gap, out_stall)
    if len(p.beats) > MAX_BEATS or len(pattern) > MAX_CYCLES:
        raise ValueError(f"{len(p.beats)} beats / {len(pattern)} cycles: more than the Verilog bench holds "
                         f"({MAX_BEATS} / {MAX_CYCLES})")
    layout = _layout(params, p.bench)
    words = [sum({**b, **u}.get(n, 0) << lsb for n, (lsb, _) in layout.items())
             for b, u in zip(p.beats, p.pulses)]
    (folder / "beats.hex").write_text("".join(f"{w:x}\n" for w in words))
    (folder / "pattern.hex").write_text("".join(f"{c:x}\n" for c in pattern))
    cmd = run + [f"+beats={len(p.beats)}", f"+cycles={len(pattern)}", f"+images={p.images}"]
    r = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return read_log(folder / "out.txt")


def throughput(set_name, groups=6, tool="verilator", folder=None):
    """Values per cycle of the converted compressor and decompressor with no input gaps and no
    back-pressure: `groups` full groups (D and G at the build limits) of seeded tokens per mode
    and kind, checked against golden. -> [(block, mode, kind, values, cycles)]"""
    params = param_sets.get(set_name)
    folder = Path(folder or f"build/kvce/{set_name}")
    runs = {}
    for bench in (ENC, DEC):
        rtl = generate(set_name, bench.top, (folder / "rtl").resolve())
        runs[bench.top] = build_verilog(tool, params, bench, [rtl], folder / tool / bench.top)
    rng = np.random.default_rng(11)
    D, G, L = params.cq_dim, params.cq_group, params.cq_lanes
    rows = []
    for mode in ("CQ8", "CQ4", "CQ4plus"):
        for kind in ("key", "value"):
            x = (rng.standard_normal((groups * G, D)) * 3).astype(np.float16)
            job = Job(f"{mode}:{kind}", kind, mode, x, G, (3, 77) if D > 77 else (3,))
            beats, _ = run_verilog(runs["kvce_enc"], params, enc_plan([job], L), folder / tool / "kvce_enc",
                                   in_gap=0, out_stall=0)
            errors = compare([job], images_from_beats(beats, L))
            # from the first input beat to the last output beat
            rows.append(("kvce_enc", mode, kind, x.size, beats[-1][0] + 1 - RESET_CYCLES))
            images = job_images([job])
            beats, _ = run_verilog(runs["kvce_dec"], params, dec_plan(images, L), folder / tool / "kvce_dec",
                                   in_gap=0, out_stall=0)
            errors += compare_decoded(images, blocks_from_beats(beats, L))
            if errors:
                raise AssertionError(f"{job.name}: {errors[0]}")
            rows.append(("kvce_dec", mode, kind, x.size, beats[-1][0] + 1 - RESET_CYCLES))
    return sorted(rows, key=lambda r: r[0] != "kvce_enc")


def main(argv=None):
    ap = argparse.ArgumentParser(description="kvce_enc / kvce_dec throughput in converted Verilog")
    ap.add_argument("--set", default="fpga")
    ap.add_argument("--groups", type=int, default=6)
    ap.add_argument("--tool", default="verilator", choices=("verilator", "icarus"))
    args = ap.parse_args(argv)
    prm = param_sets.get(args.set)
    print(f"kvce throughput: set {args.set} (lanes {prm.cq_lanes}, D {prm.cq_dim}, G {prm.cq_group}), "
          f"{args.groups} groups per row, no gaps or stalls, {args.tool}; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print(f"{'block':9} {'mode':8} {'kind':6} {'values':>8} {'cycles':>8} {'values/cycle':>13}")
    for top, mode, kind, values, cycles in throughput(args.set, args.groups, args.tool):
        print(f"{top:9} {mode:8} {kind:6} {values:8d} {cycles:8d} {values / cycles:13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

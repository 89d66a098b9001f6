"""Stream bench of the ChannelQuant engine: jobs of tokens in, block images out, against golden.

A job is one tensor (keys or values) of one vector coded in one mode: its tokens stream in
group after group (a flush closes a final partial group) and every group's image must equal
golden's Group.image() byte for byte. Valid gaps on the input and back-pressure on the output
come from a seeded generator, so every run is reproducible.
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
from hdl import params as param_sets
from hdl.common.instance import block_ports
from hdl.kvce.kvce_enc import kvce_enc, generate, MODE_CODE, enc_port_signals as port_signals



@dataclass
class Job:
    name: str
    kind: str                 # "key" or "value"
    mode: str
    tokens: np.ndarray        # fp16 [T][D]
    group: int
    outliers: tuple = ()      # CQ-4+ outlier channels

    @property
    def dim(self):
        return self.tokens.shape[1]

    @property
    def mask(self):
        return sum(1 << c for c in self.outliers) if self.kind == "key" and self.mode == "CQ4plus" else 0

    @property
    def k(self):
        return len(self.outliers) if self.mode == "CQ4plus" else 0

    def groups(self):
        T = self.tokens.shape[0]
        return [self.tokens[t:t + self.group] for t in range(0, T, self.group)]

    def expected(self):
        """Golden images, one per group."""
        outl = self.outliers if self.kind == "key" else ()
        return [cq.encode_group(g, self.kind, self.mode, outl).image() for g in self.groups()]


def vector_jobs(path):
    """The key and value jobs of one vector file (published or ours)."""
    path = Path(path)
    with np.load(path) as z:
        K, V, out = z["input_K"], z["input_V"], tuple(int(c) for c in z["outlier_idx"])
    stem = path.stem
    mode = stem.split("__")[1]
    G = int(stem.split("__")[0].split("_G")[1])
    return [Job(f"{stem}:K", "key", mode, K, G, out), Job(f"{stem}:V", "value", mode, V, G, out)]


def token_beats(tokens, lanes):
    """Input beats (ints, lane 0 in the low bits) of fp16 tokens."""
    raw = np.ascontiguousarray(tokens, np.float16).view(np.uint16).reshape(-1, lanes)
    return [int.from_bytes(row.astype("<u2").tobytes(), "little") for row in raw]


@dataclass
class StreamPlan:
    """Everything a simulator needs, cycle-independent: per beat, its data and the job's
    configuration; per job, whether to flush after its last beat."""
    beats: list = field(default_factory=list)        # (data, job index)
    flush_after: list = field(default_factory=list)  # flush once this beat is in
    jobs: list = field(default_factory=list)

    @property
    def images(self):
        return sum(len(j.groups()) for j in self.jobs)


def plan(jobs, lanes):
    p = StreamPlan(jobs=list(jobs))
    for j, job in enumerate(jobs):
        if job.dim % lanes:
            raise ValueError(f"{job.name}: D = {job.dim} is not a multiple of {lanes} lanes")
        beats = token_beats(job.tokens, lanes)
        p.beats += [(b, j) for b in beats]
        partial = job.tokens.shape[0] % job.group != 0
        p.flush_after += [False] * (len(beats) - 1) + [partial]
    if not p.beats:
        raise ValueError("no tokens to code")
    return p


def images_from_beats(beats, width):
    """Split output beats (cycle, data, keep, last) of `width` bytes into images."""
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


def patterns(cycles, seed, in_gap=0.2, out_stall=0.2):
    """Per cycle: bit 0 = the input may be valid, bit 1 = the output is ready (seeded)."""
    rng = random.Random(seed)
    return [int(rng.random() >= in_gap) | int(rng.random() >= out_stall) << 1 for _ in range(cycles)]


class Driver:
    """The bench's per-edge state machine; tb_kvce_enc.v (written by verilog_bench) is the
    same machine, so MyHDL, Icarus and Verilator see identical stimulus cycle by cycle."""

    def __init__(self, p, pattern):
        self.p, self.pattern = p, pattern
        self.next_beat = 0
        self.flush = False
        self.out = []                   # (cycle, data, keep, last)
        self.cycle = 0
        self.valid, self.ready = False, False

    def edge(self, s):
        """s: tready (input), tvalid/tdata/tkeep/tlast (output) sampled at this edge."""
        self.flush = False
        if self.valid and s["s_axis_tready"]:
            self.next_beat += 1
            self.flush = self.p.flush_after[self.next_beat - 1]
        if self.ready and s["m_axis_tvalid"]:
            self.out.append((self.cycle, s["m_axis_tdata"], s["m_axis_tkeep"], s["m_axis_tlast"]))
        pat = self.pattern[self.cycle % len(self.pattern)]
        self.valid = self.next_beat < len(self.p.beats) and bool(pat & 1)
        self.ready = bool(pat & 2)
        self.cycle += 1

    def drive(self):
        at = min(self.next_beat, len(self.p.beats) - 1)
        data, j = self.p.beats[at]
        job = self.p.jobs[j]
        return {
            "s_axis_tvalid": int(self.valid), "s_axis_tdata": data,
            "s_axis_tuser": int(job.kind == "value"),
            "m_axis_tready": int(self.ready), "flush_i": int(self.flush),
            "mode_i": MODE_CODE[job.mode], "dim_i": job.dim, "group_i": job.group,
            "outliers_i": job.k, "mask_i": job.mask, "mask_ok_i": 1,
        }

    def images_out(self):
        return sum(1 for b in self.out if b[3])


SAMPLED = ("s_axis_tready", "m_axis_tvalid", "m_axis_tdata", "m_axis_tkeep", "m_axis_tlast")


def run_myhdl(params, jobs, seed=1, vcd=None):
    """-> (images, driver) from the MyHDL engine."""
    p = plan(jobs, params.cq_lanes)
    limit = cycle_limit(p)
    drv = Driver(p, patterns(limit, seed))
    sigs = port_signals(params)

    @block
    def tb():
        dut = kvce_enc(params, **sigs)
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
                drv.edge({n: int(sigs[n].val) for n in SAMPLED})
                for n, v in drv.drive().items():
                    sigs[n].next = v
            raise StopSimulation()

        return dut, clock, run

    t = tb()
    if vcd:
        t.config_sim(trace=True, tracebackup=False, name=Path(vcd).stem, directory=str(Path(vcd).parent))
    t.run_sim(quiet=1)
    t.quit_sim()
    return images_from_beats(drv.out, params.cq_lanes), drv


RESET_CYCLES = 2


def cycle_limit(p):
    """Cycles after which a run counts as hung: four per input beat, plus slack."""
    return 4 * len(p.beats) + 64 * p.images + 1000


# ------------------------------------------------------------------ converted Verilog
CFG_FIELDS = ("tuser", "mode", "dim", "group", "outliers", "mask", "flush")


def _cfg_layout(params):
    """Field -> (lsb, width) in a stimulus configuration word, CFG_FIELDS from bit 0."""
    sigs = port_signals(params)
    widths = {"tuser": len(sigs["s_axis_tuser"]), "mode": len(sigs["mode_i"]), "dim": len(sigs["dim_i"]),
              "group": len(sigs["group_i"]), "outliers": len(sigs["outliers_i"]), "mask": params.cq_dim,
              "flush": 1}
    layout, at = {}, 0
    for f in CFG_FIELDS:
        layout[f] = (at, widths[f])
        at += widths[f]
    return layout


def write_stimulus(params, p, pattern, folder):
    """beats.hex, cfg.hex and pattern.hex for tb_kvce_enc."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    layout = _cfg_layout(params)
    cfgs = []
    for (_, j), flush in zip(p.beats, p.flush_after):
        job = p.jobs[j]
        values = {"tuser": int(job.kind == "value"), "mode": MODE_CODE[job.mode], "dim": job.dim,
                  "group": job.group, "outliers": job.k, "mask": job.mask, "flush": int(flush)}
        cfgs.append(sum(values[f] << lsb for f, (lsb, _) in layout.items()))
    (folder / "beats.hex").write_text("".join(f"{d:x}\n" for d, _ in p.beats))
    (folder / "cfg.hex").write_text("".join(f"{c:x}\n" for c in cfgs))
    (folder / "pattern.hex").write_text("".join(f"{c:x}\n" for c in pattern))


MAX_BEATS = 1 << 16                    # the bench's stimulus capacity
MAX_CYCLES = 1 << 18


def testbench(params):
    """tb_kvce_enc.v: the Driver in Verilog. It reads the stimulus files (+beats=, +cycles=,
    +images= give their sizes) and logs every output beat as `cycle data keep last` in
    kvce_out.txt."""
    sigs = port_signals(params)
    layout = _cfg_layout(params)
    cfg_bits = sum(w for _, w in layout.values())

    def decl(kind, name):
        w = len(sigs[name])
        return f"{kind} {'[%d:0] ' % (w - 1) if w > 1 else ''}{name}{' = 0' if kind == 'reg' else ''};"

    inputs = ["mode_i", "dim_i", "group_i", "outliers_i", "flush_i", "s_axis_tvalid", "s_axis_tdata",
              "s_axis_tuser", "mask_i", "mask_ok_i", "m_axis_tready"]
    outputs = ["s_axis_tready", "m_axis_tvalid", "m_axis_tdata", "m_axis_tkeep", "m_axis_tlast",
               "cfg_err_o", "busy_o"]

    def cfg(f):
        lsb, width = layout[f]
        return f"cfg_word[{lsb + width - 1}:{lsb}]" if width > 1 else f"cfg_word[{lsb}]"

    lines = ["// kvce_enc stream bench. Generated by sim/kvce_bench.py; do not edit.",
             "`timescale 1ns/1ps", "module tb_kvce_enc;",
             "reg clk_i = 0;", "reg rst_ni = 0;"]
    lines += [decl("reg", n) for n in inputs] + [decl("wire", n) for n in outputs]
    lines += [
        f"reg [{16 * params.cq_lanes - 1}:0] beat_data [0:{MAX_BEATS - 1}];",
        f"reg [{cfg_bits - 1}:0] beat_cfg [0:{MAX_BEATS - 1}];",
        f"reg [{cfg_bits - 1}:0] cfg_word;",
        f"reg [1:0] pattern [0:{MAX_CYCLES - 1}];",
        "integer cycle = 0, next_beat = 0, images = 0, at = 0, fo, nb = 0, nc = 0, want = 0;",
        "reg valid = 0, ready = 0, flush = 0;",
        "kvce_enc dut (", ",\n".join(f"  .{n}({n})" for n in block_ports(kvce_enc)), ");",
        "initial begin",
        '  if (!$value$plusargs("beats=%d", nb) || !$value$plusargs("cycles=%d", nc)',
        '      || !$value$plusargs("images=%d", want)) begin',
        '    $display("tb_kvce_enc: give +beats=N +cycles=N +images=N"); $fatal(1);',
        "  end",
        f"  if (nb > {MAX_BEATS} || nc > {MAX_CYCLES}) begin",
        '    $display("tb_kvce_enc: stimulus larger than the bench"); $fatal(1);',
        "  end",
        '  $readmemh("beats.hex", beat_data);',
        '  $readmemh("cfg.hex", beat_cfg);',
        '  $readmemh("pattern.hex", pattern);',
        '  fo = $fopen("kvce_out.txt", "w");',
        "  // sample just before each rising edge, drive just after it: no race with the DUT",
        f"  repeat ({RESET_CYCLES}) begin #5 clk_i = 1; #5 clk_i = 0; end",
        "  #1 rst_ni = 1;",
        "  #4;",
        "  while (images < want && cycle < nc) begin",
        "    flush = 0;",
        "    if (valid && s_axis_tready) begin",
        "      next_beat = next_beat + 1;",
        "      cfg_word = beat_cfg[next_beat - 1];",
        f"      flush = {cfg('flush')};",
        "    end",
        "    if (ready && m_axis_tvalid) begin",
        '      $fwrite(fo, "%0d %h %h %0d\\n", cycle, m_axis_tdata, m_axis_tkeep, m_axis_tlast);',
        "      if (m_axis_tlast) images = images + 1;",
        "    end",
        "    valid = next_beat < nb && pattern[cycle % nc][0];",
        "    ready = pattern[cycle % nc][1];",
        "    cycle = cycle + 1;",
        "    clk_i = 1;",
        "    #1;",
        "    at = next_beat < nb ? next_beat : nb - 1;",
        "    cfg_word = beat_cfg[at];",
        "    s_axis_tvalid <= valid;",
        "    s_axis_tdata <= beat_data[at];",
        f"    s_axis_tuser <= {cfg('tuser')};",
        f"    mode_i <= {cfg('mode')};",
        f"    dim_i <= {cfg('dim')};",
        f"    group_i <= {cfg('group')};",
        f"    outliers_i <= {cfg('outliers')};",
        f"    mask_i <= {cfg('mask')};",
        "    mask_ok_i <= 1;",
        "    m_axis_tready <= ready;",
        "    flush_i <= flush;",
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
    """kvce_out.txt -> (beats [(cycle, data, keep, last)], cycles)."""
    beats, cycles = [], None
    for line in Path(path).read_text().splitlines():
        w = line.split()
        if w[0] == "end":
            cycles = int(w[1])
        else:
            beats.append((int(w[0]), int(w[1], 16), int(w[2], 16), int(w[3])))
    if cycles is None:
        raise RuntimeError(f"{path}: the bench did not finish")
    return beats, cycles


def build_verilog(tool, params, rtl, folder):
    """Compile the converted engine (rtl: its Verilog files) with the bench in `tool`
    ("icarus" or "verilator"); -> the command that runs it in `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tb_kvce_enc.v").write_text(testbench(params))
    return build_bench(tool, "tb_kvce_enc", [str(Path(f).resolve()) for f in rtl] + ["tb_kvce_enc.v"], folder)


def build_bench(tool, top, srcs, folder):
    """Compile a self-checking Verilog bench (`top` in srcs, paths from `folder`) with Icarus or
    Verilator (--binary --timing); -> the command that runs it in `folder`."""
    if tool == "icarus":
        build = ["iverilog", "-g2012", "-o", "tb.vvp", "-s", top, *srcs]
        run = ["vvp", "-n", "tb.vvp"]
    elif tool == "verilator":
        # benches are behavioural (delays, files): lint is the lint target's job, not this build's
        build = ["verilator", "--binary", "--timing", "-Wno-fatal", "-Wno-lint", "-Wno-style",
                 "-O2", "--top-module", top, "-Mdir", "obj", *srcs]
        run = [f"./obj/V{top}"]
    else:
        raise ValueError(f"unknown simulator {tool!r}")
    r = subprocess.run(build, cwd=folder, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{tool} build failed ({r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return run


def run_verilog(run, params, jobs, folder, seed=1, in_gap=0.2, out_stall=0.2):
    """Run a built bench on the jobs; -> (images, beats, cycles)."""
    folder = Path(folder)
    p = plan(jobs, params.cq_lanes)
    pattern = patterns(cycle_limit(p), seed, in_gap, out_stall)
    if len(p.beats) > MAX_BEATS or len(pattern) > MAX_CYCLES:
        raise ValueError(f"{len(p.beats)} beats is more than the Verilog bench holds ({MAX_BEATS})")
    write_stimulus(params, p, pattern, folder)
    cmd = run + [f"+beats={len(p.beats)}", f"+cycles={len(pattern)}", f"+images={p.images}"]
    r = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    beats, cycles = read_log(folder / "kvce_out.txt")
    return images_from_beats(beats, params.cq_lanes), beats, cycles


def throughput(set_name, groups=6, tool="verilator", folder=None):
    """Values per cycle of the converted engine with no input gaps and no back-pressure:
    `groups` full groups (D and G at the build limits) of seeded tokens per mode and kind,
    checked against golden. -> [(mode, kind, values, cycles)]"""
    params = param_sets.get(set_name)
    folder = Path(folder or f"build/kvce/{set_name}")
    rtl = generate(set_name, (folder / "rtl").resolve())
    run = build_verilog(tool, params, [rtl], folder / tool)
    rng = np.random.default_rng(11)
    D, G = params.cq_dim, params.cq_group
    rows = []
    for mode in ("CQ8", "CQ4", "CQ4plus"):
        for kind in ("key", "value"):
            x = (rng.standard_normal((groups * G, D)) * 3).astype(np.float16)
            job = Job(f"{mode}:{kind}", kind, mode, x, G, (3, 77) if D > 77 else (3,))
            images, beats, cycles = run_verilog(run, params, [job], folder / tool, in_gap=0, out_stall=0)
            errors = compare([job], images)
            if errors:
                raise AssertionError(f"{job.name}: {errors[0]}")
            # from the first input beat to the last output beat
            rows.append((mode, kind, x.size, beats[-1][0] + 1 - RESET_CYCLES))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description="kvce_enc throughput in converted Verilog")
    ap.add_argument("--set", default="fpga")
    ap.add_argument("--groups", type=int, default=6)
    ap.add_argument("--tool", default="verilator", choices=("verilator", "icarus"))
    args = ap.parse_args(argv)
    prm = param_sets.get(args.set)
    print(f"kvce_enc throughput: set {args.set} (lanes {prm.cq_lanes}, D {prm.cq_dim}, G {prm.cq_group}), "
          f"{args.groups} groups per row, no gaps or stalls, {args.tool}; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print(f"{'mode':8} {'kind':6} {'values':>8} {'cycles':>8} {'values/cycle':>13}")
    for mode, kind, values, cycles in throughput(args.set, args.groups, args.tool):
        print(f"{mode:8} {kind:6} {values:8d} {cycles:8d} {values / cycles:13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""dma test bench: the block (MyHDL, or its converted Verilog co-simulated in Icarus) between
three tier memories, against golden/dma.py.

    python -m sim.dma_bench [--seed N] [--descriptors N] [--cosim]

Each channel's descriptors are offered in order (with random gaps), the fetch stream is taken
with random stalls, and every tier is a TierMemory (sim/replay.py) with its own latency and
interval that also acknowledges writes and has silent slots (requests taken, never answered).
A run passes when every channel's completions, the fetched words and the final memories equal
golden's.
"""
import argparse
import random
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from myhdl import block, always, instance, delay, Cosimulation, StopSimulation

from golden import dma as golden
from golden.kv_path import slot_shift
from hdl import params as param_sets
from hdl.common.instance import block_ports
from hdl.dma.dma import dma, dma_port_signals, TIERS
from hdl.gen import vpi_top
from hdl.kvce import generate
from sim.cosim import PROJECT_VPI
from sim.replay import TierMemory, RESET_CYCLES

HALF_PERIOD = 5
CHANNEL_PORTS = dict(zip(golden.CHANNELS, ("fetch", "evict", "prefetch")))
DEFAULT_TIMING = {"hot": (10, 1), "warm": (37, 3), "cold": (23, 2)}


class SlotMemory(TierMemory):
    """A tier memory that acknowledges each write `latency` cycles after taking it, in order, and
    whose silent slots take requests and never answer them (nothing written, nothing read)."""

    def __init__(self, latency, interval, slot_shift_, silent=()):
        super().__init__(latency, interval)
        self.shift, self.silent = slot_shift_, set(silent)
        self.acks = deque()

    def accept(self, n, write, read):
        quiet_write = write is not None and write[0] >> self.shift in self.silent
        quiet_read = read is not None and read >> self.shift in self.silent
        super().accept(n, None if quiet_write else write, None if quiet_read else read)
        if write is not None:
            self.write_free = n + self.interval
            if not quiet_write:
                self.acks.append(n + self.latency - 1)
        if read is not None:
            self.read_free = n + self.interval

    def ack(self, n):
        """Write acknowledge for the cycle after edge n."""
        if self.acks and self.acks[0] == n:
            self.acks.popleft()
            return 1
        return 0


@dataclass
class Run:
    done: dict = field(default_factory=lambda: {ch: [] for ch in golden.CHANNELS})
    fetched: list = field(default_factory=list)
    cycles: int = 0
    overlap: int = 0          # cycles with two or more tier ports taking a request
    trace: list = field(default_factory=list)   # (cycle, what): completions and tier requests taken
    error: str = None


class Driver:
    """Per-edge bench state: sample the outputs, advance, drive the inputs."""

    def __init__(self, params, queues, memories, silent, timing, seed, watchdog, gaps, max_cycles):
        self.params, self.queues, self.watchdog = params, queues, watchdog
        shift = slot_shift(params)
        self.mem = {}
        for code, name in enumerate(TIERS):
            self.mem[name] = SlotMemory(*timing[name], shift, {e for t, e in silent if t == code})
            self.mem[name].words.update(memories[code])
        self.rng = random.Random(seed)
        self.gaps, self.max_cycles = gaps, max_cycles
        self.next = {ch: 0 for ch in golden.CHANNELS}
        self.words = []
        self.drive = {}
        self.run = Run()
        self.finished = False

    def edge(self, s, d):
        """One rising edge: `s` the sampled outputs, `d` what was driven (ints by port name)."""
        r = self.run
        n = r.cycles
        r.cycles += 1
        self.drive = {"rst_ni": int(n >= RESET_CYCLES - 1), "watchdog_i": self.watchdog}
        if n < RESET_CYCLES:
            return
        for ch, port in CHANNEL_PORTS.items():
            if d[f"{port}_valid_i"] and s[f"{port}_ready_o"]:
                self.next[ch] += 1
            if s[f"{port}_done_o"]:
                r.done[ch].append(golden.Done(s[f"{port}_done_entry_o"], s[f"{port}_done_tier_o"],
                                              s[f"{port}_done_words_o"], bool(s[f"{port}_done_timeout_o"])))
                r.trace.append((n, ch, r.done[ch][-1]))
        if s["fetch_data_valid_o"] and d["fetch_data_ready_i"]:
            self.words.append(s["fetch_data_o"])
            if s["fetch_data_last_o"]:
                r.fetched.append(self.words)
                self.words = []
        busy = 0
        for name, m in self.mem.items():
            wr = s[f"{name}_wr_valid_o"] and d[f"{name}_wr_ready_i"]
            rd = s[f"{name}_rd_valid_o"] and d[f"{name}_rd_ready_i"]
            busy += wr or rd
            if wr:
                r.trace.append((n, name, "write", s[f"{name}_wr_addr_o"], s[f"{name}_wr_data_o"]))
            if rd:
                r.trace.append((n, name, "read", s[f"{name}_rd_addr_o"]))
            m.accept(n, (s[f"{name}_wr_addr_o"], s[f"{name}_wr_data_o"]) if wr else None,
                     s[f"{name}_rd_addr_o"] if rd else None)
        r.overlap += busy >= 2
        total = sum(len(q) for q in self.queues.values())
        if sum(len(v) for v in r.done.values()) == total:
            self.finished = True
        elif n >= self.max_cycles:
            r.error = f"cycle {n}: {total - sum(len(v) for v in r.done.values())} transfers never completed"
            self.finished = True
        for ch, port in CHANNEL_PORTS.items():
            q, i = self.queues.get(ch, []), self.next[ch]
            offer = i < len(q) and self.rng.random() >= self.gaps
            desc = q[min(i, len(q) - 1)] if q else golden.Descriptor(0, 0, None, 0)
            self.drive.update({f"{port}_valid_i": int(offer), f"{port}_entry_i": desc.entry,
                               f"{port}_src_i": desc.source, f"{port}_words_i": desc.words})
            if port != "fetch":
                self.drive[f"{port}_dst_i"] = desc.dest or 0
        self.drive["fetch_data_ready_i"] = int(self.rng.random() >= self.gaps)
        for name, m in self.mem.items():
            wr_ready, rd_ready, rsp_valid, rsp_data = m.drive(n)
            self.drive.update({f"{name}_wr_ready_i": wr_ready, f"{name}_rd_ready_i": rd_ready,
                               f"{name}_rsp_valid_i": rsp_valid, f"{name}_rsp_data_i": rsp_data,
                               f"{name}_wr_ack_i": m.ack(n)})

    def memories(self):
        return {code: dict(self.mem[name].words) for code, name in enumerate(TIERS)}


@block
def _bench(params, driver, sigs, cosim_cmd):
    dut = Cosimulation(cosim_cmd, **sigs) if cosim_cmd else dma(params, **sigs)
    clk = sigs["clk_i"]
    inputs = [n for n in sigs if n != "clk_i" and not n.endswith("_o")]
    outputs = [n for n in sigs if n.endswith("_o")]

    @always(delay(HALF_PERIOD))
    def clock():
        clk.next = not clk

    @instance
    def drive():
        while True:
            yield clk.posedge
            driver.edge({n: int(sigs[n].val) for n in outputs}, {n: int(sigs[n].val) for n in inputs})
            for n, v in driver.drive.items():
                sigs[n].next = v
            if driver.finished:
                raise StopSimulation()

    return dut, clock, drive


def simulate(params, queues, memories, silent=(), timing=None, seed=1, watchdog=64, gaps=0.2,
             max_cycles=200_000, cosim_cmd=None):
    """Run the dma on `queues` ({channel: [Descriptor]}) over `memories` ({tier: {word address:
    word}}); -> (Run, final memories)."""
    driver = Driver(params, queues, memories, silent, timing or DEFAULT_TIMING, seed, watchdog, gaps,
                    max_cycles)
    tb = _bench(params, driver, dma_port_signals(params), cosim_cmd)
    tb.run_sim(quiet=1)
    if not cosim_cmd:     # quit_sim() after a co-simulation ended raises EBADF (MyHDL 0.11)
        tb.quit_sim()
    return driver.run, driver.memories()


def build_cosim(params, folder):
    """Generate dma.v (hdl.gen --block dma) and compile it under a myhdl.vpi top with Icarus;
    -> the vvp command."""
    folder = Path(folder)
    rtl = generate(params.name, "dma", folder)
    (folder / "tb_dma.v").write_text(vpi_top("dma", dma_port_signals(params), block_ports(dma)))
    image = folder / "dma.vvp"
    r = subprocess.run(["iverilog", "-g2012", "-o", str(image), "-s", "tb_dma", str(rtl), str(folder / "tb_dma.v")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"iverilog failed:\n{r.stderr[-2000:]}")
    return f"vvp -m {PROJECT_VPI} {image}"


def random_case(params, seed, descriptors=40, max_words=48, silent_slots=3):
    """Seeded descriptors for the three channels over disjoint entries (so channels never touch
    one slot), random slot contents in every tier, a few silent slots and image-less transfers. -> (queues, memories, silent)."""
    rng = random.Random(seed)
    shift = slot_shift(params)
    entries = list(range(params.dir_entries))
    rng.shuffle(entries)
    own = {ch: entries[k::3] for k, ch in enumerate(golden.CHANNELS)}
    width = 8 * params.cq_lanes
    memories = {t: {} for t in range(3)}
    for e in range(params.dir_entries):
        for t in range(3):
            for k in range(max_words):
                memories[t][e << shift | k] = rng.getrandbits(width)
    queues = {ch: [] for ch in golden.CHANNELS}
    for _ in range(descriptors):
        ch = rng.choice(golden.CHANNELS)
        e, src = rng.choice(own[ch][:6]), rng.randrange(3)
        r = rng.random()
        words = 0 if r < 0.1 else rng.randint(1, max_words)
        dest = None if ch == golden.FETCH else rng.choice([t for t in range(3) if t != src])
        queues[ch].append(golden.Descriptor(e, src, dest, words))
    silent = {(rng.randrange(3), rng.choice(own[ch][:6])) for ch in golden.CHANNELS for _ in range(silent_slots // 3 + 1)}
    return queues, memories, silent


def check(params, queues, memories, silent, **kw):
    """Run the bench and golden on one case; -> (Run, [differences])."""
    want_mem = {t: dict(m) for t, m in memories.items()}
    want_done, want_fetched = golden.run(slot_shift(params), queues, want_mem, silent)
    run, got_mem = simulate(params, queues, memories, silent, **kw)
    errors = [run.error] if run.error else []
    for ch in golden.CHANNELS:
        if run.done[ch] != want_done[ch]:
            first = next((i for i, (a, b) in enumerate(zip(run.done[ch], want_done[ch])) if a != b),
                         min(len(run.done[ch]), len(want_done[ch])))
            errors.append(f"{ch} completion {first}: got {run.done[ch][first:first + 1]}, "
                          f"golden {want_done[ch][first:first + 1]}")
    if run.fetched != want_fetched:
        errors.append(f"fetched blocks differ ({len(run.fetched)} streamed, golden {len(want_fetched)})")
    for t in range(3):
        if got_mem[t] != want_mem[t]:
            bad = sorted(a for a in set(got_mem[t]) | set(want_mem[t]) if got_mem[t].get(a) != want_mem[t].get(a))
            errors.append(f"{TIERS[t]} memory differs at {len(bad)} words, first {bad[0]:#x}")
    return run, errors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="sim", choices=sorted(param_sets.PARAM_SETS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--descriptors", type=int, default=40)
    ap.add_argument("--cosim", action="store_true", help="the converted Verilog in Icarus instead of MyHDL")
    ap.add_argument("--build", default="build/dma_cosim", help="folder for the co-simulation image")
    a = ap.parse_args(argv)
    params = param_sets.get(a.set)
    cmd = None
    if a.cosim:
        Path(a.build).mkdir(parents=True, exist_ok=True)
        cmd = build_cosim(params, a.build)
    queues, memories, silent = random_case(params, a.seed, a.descriptors)
    start = time.perf_counter()
    run, errors = check(params, queues, memories, silent, seed=a.seed, cosim_cmd=cmd)
    took = time.perf_counter() - start
    moved = sum(d.words for v in run.done.values() for d in v)
    timeouts = sum(d.timeout for v in run.done.values() for d in v)
    print(f"dma {'Icarus co-simulation' if a.cosim else 'MyHDL'}: set {a.set}, seed {a.seed}, "
          f"{sum(map(len, queues.values()))} descriptors, {moved} words moved, {timeouts} timeouts, "
          f"{run.cycles} cycles ({run.cycles / took:.0f} cycles/s), {run.overlap} cycles with two ports busy")
    for e in errors:
        print("  " + e)
    print("PASS" if not errors else "FAIL")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())

"""dma test bench: the dma's transfer engine (hdl/dma/transfers.py: MyHDL, or its converted Verilog
co-simulated in Icarus or built with Verilator and sim/verilator/tb_dma.cpp) between three tier
memories, against golden/dma.py.

    python -m sim.dma_bench [--seed N] [--descriptors N] [--cosim | --verilator]
    python -m sim.dma_bench --latency [--dim D --mode CQ4]   a full block from and to each tier

Each channel's descriptors are offered in order (with random gaps), the fetch stream is taken
with random stalls, and every tier is a TierMemory (sim/replay.py) with its own latency and
interval, whose silent slots take requests and never answer them.
A run passes when every channel's completions, the fetched words and the final memories equal
golden's.
"""
import argparse
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from myhdl import block, always, instance, delay, Cosimulation, StopSimulation

from golden import channelquant as cq
from golden import dma as golden
from golden.kvpath import image_words, slot_shift
from golden.policy_engine import BLOCK_TOKENS
from golden.workload.format import tier_timing
from golden import params as param_sets
from golden.dma import TIERS
from hdl.dma.transfers import transfers, transfer_port_signals, CHANNEL_EVENTS
from hdl.kvce import generate
from sim.cosim import block_image
from sim.benchmark import machine
from sim.replay import TierMemory, RESET_CYCLES

HALF_PERIOD = 5
CHANNEL_PORTS = dict(zip(golden.CHANNELS, ("fetch", "evict", "prefetch")))
DEFAULT_TIMING = {"hot": (10, 1), "warm": (37, 3), "cold": (23, 2)}


@dataclass
class Run:
    done: dict = field(default_factory=lambda: {ch: [] for ch in golden.CHANNELS})
    fetched: list = field(default_factory=list)
    cycles: int = 0
    trace: list = field(default_factory=list)   # lines: completions, words streamed, tier requests taken
    error: str = None


PATTERN_CYCLES = 4096      # the gap pattern repeats after this many cycles


def gap_pattern(seed, gaps):
    """Per cycle, 4 bits: may FETCH, EVICT, PREFETCH offer a descriptor (bits 0-2), does the
    fetch stream's consumer take a word (bit 3); each bit is 0 with probability `gaps`."""
    rng = random.Random(seed)
    return [sum((rng.random() >= gaps) << b for b in range(4)) for _ in range(PATTERN_CYCLES)]


class Driver:
    """Per-edge bench state: sample the outputs, advance, drive the inputs. The same machine,
    line for line, is sim/verilator/tb_dma.cpp."""

    def __init__(self, params, queues, memories, silent, timing, pattern, watchdog, max_cycles):
        self.queues, self.watchdog = queues, watchdog
        shift = slot_shift(params)
        self.mem = {}
        for code, name in enumerate(TIERS):
            self.mem[name] = TierMemory(*timing[name], shift, {e for t, e in silent if t == code})
            self.mem[name].words.update(memories[code])
        self.pattern, self.max_cycles = pattern, max_cycles
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
        watchdog = self.watchdog(n) if callable(self.watchdog) else self.watchdog   # a schedule: by cycle
        self.drive = {"rst_ni": int(n >= RESET_CYCLES - 1), "watchdog_i": watchdog}
        if n < RESET_CYCLES:
            return
        for ch, port in CHANNEL_PORTS.items():
            if d[f"{port}_valid_i"] and s[f"{port}_ready_o"]:
                self.next[ch] += 1
            if s[f"{port}_done_o"]:
                r.done[ch].append(golden.Done(s[f"{port}_done_entry_o"], s[f"{port}_done_tier_o"],
                                              s[f"{port}_done_words_o"], bool(s[f"{port}_done_timeout_o"])))
                d_ = r.done[ch][-1]
                r.trace.append(f"{n} {ch} done {d_.entry} {d_.tier} {d_.words} {int(d_.timeout)}")
            if s[f"{port}_events_o"]:
                r.trace.append(f"{n} {ch} events {s[f'{port}_events_o']:x}")
        if s["fetch_data_valid_o"] and d["fetch_data_ready_i"]:
            self.words.append(s["fetch_data_o"])
            r.trace.append(f"{n} fetch word {s['fetch_data_o']:x} {s['fetch_data_last_o']}")
            if s["fetch_data_last_o"]:
                r.fetched.append(self.words)
                self.words = []
        for name, m in self.mem.items():
            wr = s[f"{name}_wr_valid_o"] and d[f"{name}_wr_ready_i"]
            rd = s[f"{name}_rd_valid_o"] and d[f"{name}_rd_ready_i"]
            if wr:
                r.trace.append(f"{n} {name} write {s[f'{name}_wr_addr_o']:x} {s[f'{name}_wr_data_o']:x}")
            if rd:
                r.trace.append(f"{n} {name} read {s[f'{name}_rd_addr_o']:x}")
            m.accept(n, (s[f"{name}_wr_addr_o"], s[f"{name}_wr_data_o"], s[f"{name}_wr_tag_o"]) if wr else None,
                     (s[f"{name}_rd_addr_o"], s[f"{name}_rd_tag_o"]) if rd else None)
        total = sum(len(q) for q in self.queues.values())
        if sum(len(v) for v in r.done.values()) == total:
            self.finished = True
        elif n >= self.max_cycles:
            r.error = f"cycle {n}: {total - sum(len(v) for v in r.done.values())} transfers never completed"
            self.finished = True
        bits = self.pattern[n % len(self.pattern)]
        for k, (ch, port) in enumerate(CHANNEL_PORTS.items()):
            q, i = self.queues.get(ch, []), self.next[ch]
            desc = q[min(i, len(q) - 1)] if q else golden.Descriptor(0, 0, None, 0)
            self.drive.update({f"{port}_valid_i": int(i < len(q) and bits >> k & 1), f"{port}_entry_i": desc.entry,
                               f"{port}_src_i": desc.source, f"{port}_words_i": desc.words})
            if port != "fetch":
                self.drive[f"{port}_dst_i"] = desc.dest or 0
        self.drive["fetch_data_ready_i"] = bits >> 3 & 1
        for name, m in self.mem.items():
            wr_ready, rd_ready, rsp_valid, rsp_tag, rsp_data, ack, ack_tag = m.drive(n)
            self.drive.update({f"{name}_wr_ready_i": wr_ready, f"{name}_rd_ready_i": rd_ready,
                               f"{name}_rsp_valid_i": rsp_valid, f"{name}_rsp_tag_i": rsp_tag,
                               f"{name}_rsp_data_i": rsp_data, f"{name}_wr_ack_i": ack,
                               f"{name}_wr_ack_tag_i": ack_tag})

    def memories(self):
        return {code: dict(self.mem[name].words) for code, name in enumerate(TIERS)}


@block
def _bench(params, driver, sigs, cosim_cmd):
    dut = Cosimulation(cosim_cmd, **sigs) if cosim_cmd else transfers(params, **sigs)
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
    driver = Driver(params, queues, memories, silent, timing or DEFAULT_TIMING, gap_pattern(seed, gaps),
                    watchdog, max_cycles)
    tb = _bench(params, driver, transfer_port_signals(params), cosim_cmd)
    tb.run_sim(quiet=1)
    if not cosim_cmd:     # quit_sim() after a co-simulation ended raises EBADF (MyHDL 0.11)
        tb.quit_sim()
    return driver.run, driver.memories()


def build_cosim(params, folder):
    """transfers.v under a myhdl.vpi top in Icarus; -> the vvp command."""
    return block_image(params, "transfers", transfers, transfer_port_signals(params), folder)


VERILATOR_DIR = Path(__file__).resolve().parent / "verilator"


def build_verilator(params, folder):
    """Generate transfers.v and build it with sim/verilator/tb_dma.cpp; -> the binary."""
    if params.cq_lanes > 8:
        raise ValueError(f"the Verilator dma bench drives 64-bit words: set {params.name} has "
                         f"{8 * params.cq_lanes}-bit words (use the sim set)")
    folder = Path(folder)
    rtl = generate(params.name, "transfers", folder)
    cmd = ["verilator", "--cc", "--exe", "--build", "-j", "2", "-Wall", "--top-module", "transfers",
           "-Mdir", str(folder / "obj"), "-CFLAGS", "-O2", "-CFLAGS", f"-I{VERILATOR_DIR}",
           str(Path(__file__).resolve().parents[1] / "hdl/dma/dma_lint.vlt"), str(rtl),
           str(VERILATOR_DIR / "tb_dma.cpp")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"Verilator build failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return folder / "obj" / "Vtransfers"


def run_verilator(binary, params, queues, memories, silent=(), timing=None, seed=1, watchdog=64, gaps=0.2,
                  max_cycles=200_000, folder=None):
    """simulate() in the Verilator model; -> (Run, final memories)."""
    folder = Path(folder or Path(binary).parent)
    timing = timing or DEFAULT_TIMING
    lines = [f"timing {code} {timing[t][0]} {timing[t][1]}" for code, t in enumerate(TIERS)]
    lines += [f"slot_shift {slot_shift(params)}", f"watchdog {watchdog}", f"max_cycles {max_cycles}"]
    lines += [f"silent {t} {e}" for t, e in sorted(silent)]
    lines += [f"mem {t} {a:x} {w:x}" for t in range(3) for a, w in sorted(memories[t].items())]
    lines += [f"desc {k} {d.entry} {d.source} {d.dest or 0} {d.words}"
              for k, ch in enumerate(golden.CHANNELS) for d in queues.get(ch, ())]
    lines += [f"pattern {b}" for b in gap_pattern(seed, gaps)]
    (folder / "case.txt").write_text("\n".join(lines) + "\n")
    r = subprocess.run([str(binary), f"+case={folder / 'case.txt'}", f"+out={folder / 'out.txt'}"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{binary} failed ({r.returncode}): {r.stderr[-2000:]}")
    run, mem, words = Run(), {t: {} for t in range(3)}, []
    for line in (folder / "out.txt").read_text().splitlines():
        w = line.split()
        if w[0] == "end":
            run.cycles = int(w[1])
            if w[2] != "0":
                run.error = f"cycle {run.cycles - 1}: transfers never completed"
        elif w[0] == "mem":
            mem[int(w[1])][int(w[2], 16)] = int(w[3], 16)
        else:
            run.trace.append(line)
            if w[2] == "done":
                run.done[w[1]].append(golden.Done(*(int(v) for v in w[3:6]), w[6] == "1"))
            elif w[2] == "word":
                words.append(int(w[3], 16))
                if w[4] == "1":
                    run.fetched.append(words)
                    words = []
    return run, mem


def random_case(params, seed, descriptors=40, max_words=48, silent_slots=3):
    """Seeded descriptors for the three channels over disjoint entries (so channels never touch
    one slot), random slot contents in every tier, a few silent slots and image-less transfers.
    -> (queues, memories, silent)."""
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


def overlap(run):
    """Cycles in which two or more tier ports took a request."""
    ports = {}
    for line in run.trace:
        n, what, kind = line.split()[:3]
        if kind in ("read", "write"):
            ports.setdefault(n, set()).add(what)
    return sum(len(p) >= 2 for p in ports.values())


def event_counts(run):
    """{channel: {event: count}} from the trace's event lines (dma.CHANNEL_EVENTS)."""
    counts = {ch: dict.fromkeys(CHANNEL_EVENTS, 0) for ch in golden.CHANNELS}
    for w in (line.split() for line in run.trace):
        if w[2] == "events":
            for k, name in enumerate(CHANNEL_EVENTS):
                counts[w[1]][name] += int(w[3], 16) >> k & 1
    return counts


def golden_event_counts(done):
    """The counts the completions imply: by tier for OK, words of OK transfers, timeouts (a
    silent slot answers nothing, so a timed-out move has no acknowledged words)."""
    counts = {}
    for ch, dones in done.items():
        c = counts[ch] = dict.fromkeys((e for e in CHANNEL_EVENTS if e != "STALL_CYCLES"), 0)   # a cycle count
        for d in dones:
            if d.timeout:
                c["TIMEOUTS"] += 1
            else:
                c[CHANNEL_EVENTS[d.tier]] += 1
                c["WORDS"] += d.words
    return counts


def completions(run):
    """(cycle, channel) of each completion, in order."""
    return [(int(w[0]), w[1]) for w in (line.split() for line in run.trace) if w[2] == "done"]


def check(params, queues, memories, silent, verilator=None, **kw):
    """Run the bench (MyHDL, Icarus with cosim_cmd, or the Verilator binary `verilator`) and
    golden on one case; -> (Run, [differences])."""
    want_mem = {t: dict(m) for t, m in memories.items()}
    want_done, want_fetched = golden.run(slot_shift(params), queues, want_mem, silent)
    if verilator:
        run, got_mem = run_verilator(verilator, params, queues, memories, silent, **kw)
    else:
        run, got_mem = simulate(params, queues, memories, silent, **kw)
    errors = [run.error] if run.error else []
    for ch in golden.CHANNELS:
        if run.done[ch] != want_done[ch]:
            first = next((i for i, (a, b) in enumerate(zip(run.done[ch], want_done[ch])) if a != b),
                         min(len(run.done[ch]), len(want_done[ch])))
            errors.append(f"{ch} completion {first}: got {run.done[ch][first:first + 1]}, "
                          f"golden {want_done[ch][first:first + 1]}")
    got = event_counts(run)
    for ch, want in golden_event_counts(want_done).items():
        if {k: got[ch][k] for k in want} != want:
            errors.append(f"{ch} events {got[ch]}, golden {want}")
    if run.fetched != want_fetched:
        errors.append(f"fetched blocks differ ({len(run.fetched)} streamed, golden {len(want_fetched)})")
    for t in range(3):
        if got_mem[t] != want_mem[t]:
            bad = sorted(a for a in set(got_mem[t]) | set(want_mem[t]) if got_mem[t].get(a) != want_mem[t].get(a))
            errors.append(f"{TIERS[t]} memory differs at {len(bad)} words, first {bad[0]:#x}")
    return run, errors


def block_words(params, dim, mode):
    """Tier-port words of a full block's slot (32 tokens at D = dim, no outliers)."""
    return image_words(*(cq.image_bytes(BLOCK_TOKENS, dim, kind, mode) for kind in ("key", "value")), params)


def latency(params, dim=128, mode="CQ4", timing=None):
    """Cycles a lone transfer of one full block's slot takes in the dma, each tier's memory at
    `timing` (default: golden.workload.format.TIER_MEMORY at the set's clock): from the descriptor
    offered to the last word streamed (fetch) or acknowledged (move). -> (words, {label: cycles})."""
    words = block_words(params, dim, mode)
    timing = timing or {t: tier_timing(params, t) for t in TIERS}
    jobs = {f"fetch from {t}": {golden.FETCH: [golden.Descriptor(1, code, None, words)]}
            for code, t in enumerate(TIERS)}
    jobs.update({f"move {TIERS[a]} -> {TIERS[b]}": {golden.EVICT: [golden.Descriptor(1, a, b, words)]}
                 for a, b in ((0, 1), (0, 2), (1, 2), (1, 0), (2, 0))})
    shift = slot_shift(params)
    memories = {t: {1 << shift | k: k for k in range(words)} for t in range(3)}
    table = {}
    for label, queues in jobs.items():
        run, errors = check(params, queues, memories, set(), timing=timing, gaps=0, watchdog=0,
                            max_cycles=10 * max(lat for lat, _ in timing.values()) + 100 * words)
        if errors:
            raise RuntimeError(f"{label}: {errors}")
        end = completions(run)[0][0]
        table[label] = end - RESET_CYCLES
    return words, table


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="sim", choices=sorted(param_sets.PARAM_SETS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--descriptors", type=int, default=40)
    tool = ap.add_mutually_exclusive_group()
    tool.add_argument("--cosim", action="store_true", help="the converted Verilog in Icarus instead of MyHDL")
    tool.add_argument("--verilator", action="store_true", help="the converted Verilog in Verilator instead of MyHDL")
    ap.add_argument("--build", default="build/dma", help="folder for the Icarus image or the Verilator model")
    ap.add_argument("--latency", action="store_true",
                    help="instead: one full block's transfer from and to each tier at the default memory timing")
    ap.add_argument("--dim", type=int, default=128, help="--latency: the block's D (default 128)")
    ap.add_argument("--mode", default="CQ4", choices=cq.MODES, help="--latency: its codec mode (default CQ4)")
    a = ap.parse_args(argv)
    params = param_sets.get(a.set)
    if a.latency:
        print(f"machine: {machine()}")
        words, table = latency(params, a.dim, a.mode)
        print(f"dma transfer latency, MyHDL: set {a.set} ({params.clock_mhz:g} MHz, {params.cq_lanes}-byte words), "
              f"one {a.mode} block at D = {a.dim}: {words} words; memories (latency, interval) in cycles: "
              + ", ".join(f"{t} {tier_timing(params, t)}" for t in TIERS))
        for label, cycles in table.items():
            print(f"  {label:18s} {cycles:7d} cycles  {cycles / params.clock_mhz:9.2f} us")
        return 0
    if a.cosim or a.verilator:
        Path(a.build).mkdir(parents=True, exist_ok=True)
    tool = {"cosim_cmd": build_cosim(params, a.build)} if a.cosim else \
        {"verilator": build_verilator(params, a.build)} if a.verilator else {}
    queues, memories, silent = random_case(params, a.seed, a.descriptors)
    start = time.perf_counter()
    run, errors = check(params, queues, memories, silent, seed=a.seed, **tool)
    took = time.perf_counter() - start
    moved = sum(d.words for v in run.done.values() for d in v)
    timeouts = sum(d.timeout for v in run.done.values() for d in v)
    name = "Icarus co-simulation" if a.cosim else "Verilator" if a.verilator else "MyHDL"
    print(f"dma {name}: set {a.set}, seed {a.seed}, {sum(map(len, queues.values()))} descriptors, {moved} words "
          f"moved, {timeouts} timeouts, {run.cycles} cycles ({run.cycles / took:.0f} cycles/s), "
          f"{overlap(run)} cycles with two ports busy")
    for e in errors:
        print("  " + e)
    print("PASS" if not errors else "FAIL")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())

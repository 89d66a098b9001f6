"""Workload files: what the `sim` target, the MyHDL bench and the co-simulation replay.

A workload is a text file, one operation a line, with its expected results computed
by the golden model as the file is written:

    kv1-workload 1
    set <param set>
    tier <name> latency interval                      the memory behind a tier port (before the
                                                      operations): a read is answered `latency`
                                                      cycles after its request is accepted, and
                                                      each direction accepts one word per
                                                      `interval` cycles. Without the line: 1 1
    silent <name> addr                                a word of that memory that never answers
                                                      (before the operations): a read of it is
                                                      taken and never answered, a write dropped
    W addr data strb resp aw_delay w_delay b_delay    AXI4-Lite write, expect resp
    R addr data mask resp ar_delay r_delay            read, expect (rdata & mask) == data
    P addr data mask max_reads                        read until (rdata & mask) == data
    S data last delay                                 queue a beat for s_axis, offered `delay`
                                                      cycles after it reaches the head
    E data last delay                                 expect a beat on m_axis; tready rises
                                                      `delay` cycles after it reaches the head
    Q max_cycles                                      wait until all S beats are taken and all
                                                      E beats have arrived
    I level                                           expect irq_o == level
    C cycles                                          idle
    F tier addr                                       from now on, word addr of the memory behind
                                                      tier port `tier` (its TIER code) never
                                                      answers, like a silent line
    end operations checksum                           the last line: the number of operation
                                                      lines (W R P S E Q I C F) and the CRC-32
                                                      (hex) of every byte before this line. A
                                                      bench refuses a file without it, or whose
                                                      count or checksum is not the file's (cut
                                                      short, or edited: `seal` writes it anew)

Numbers are hexadecimal for addr/data/mask/strb and F's fields, decimal otherwise. S and E lines take
no time; they feed stream engines that run beside the register operations. Every field has a
range (sim/replay.py: field_ranges): addresses within the BAR, data and masks 32 bits, beats the
set's stream width, delays up to 65,535 cycles, waits (Q, C) and poll reads up to 10^9. The
benches also stop a replay that runs past their cycle limit (10^9 by default), or whose streams
have not drained 4,096 cycles after its last operation (E beats that never come). Both benches
refuse a malformed file with the same one-line message and exit code 2 (docs/workloads.md).

    python -m golden.workload --kind frame --ops 2000 --seed 1 --out build/frame.wl
"""
import math
import os
import random
import sys
import zlib
from pathlib import Path

import numpy as np

from golden import kv1_regs as R
from golden.channelquant import MODES
from golden.dma import TIERS
from golden.frame import FrameModel, RESP_OKAY, RESP_SLVERR, FULL_STROBE, ECHO_MAX_BEATS, register_resets
from golden.kv_path import in_time_watchdog, kv_values, slot_shift, to_beats
from golden.policy_engine import BLOCK_TOKENS
from golden.traces import DecodeSpec, decode_trace, mooncake_trace
from hdl import params as param_sets
from hdl.common.fusesoc_gen import command_line, generator

MAGIC = "kv1-workload 1"
END = "end"
OPERATIONS = tuple("WRPSEQICF")   # the kinds of operation line (the rest are header lines)


def end_line(body):
    """The end line of a workload whose lines before it are `body` (text ending in a newline)."""
    count = sum(1 for line in body.splitlines() if line.split("#", 1)[0].split()[:1] in [[k] for k in OPERATIONS])
    return f"{END} {count} {zlib.crc32(body.encode()):08x}"


def seal(text):
    """`text` with its end line written anew (dropped first if it has one): for a file edited on
    purpose, as the tests that break a workload do."""
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if lines and lines[-1].split()[:1] == [END]:
        lines.pop()
    body = "\n".join(lines) + "\n"
    return body + end_line(body) + "\n"


# The memory behind each tier port (DESIGN §1, issue 5): access latency in seconds and bandwidth
# in bytes/s. HBM class; CXL DRAM (about 2 us, a x16 link); NVMe (about 100 us, a Gen4 x4 drive).
TIER_MEMORY = {"hot": (100e-9, 400e9), "warm": (2e-6, 64e9), "cold": (100e-6, 7e9)}
# the die's tier ports are the dma's (docs/data_plane.md); a workload header gives each memory's timing
DIE_TIERS = TIERS


def tier_timing(params, tier):
    """(latency, interval) of `tier`'s memory in cycles of the set's clock, one port word
    (cq_lanes bytes) per interval."""
    latency_s, bytes_per_s = TIER_MEMORY[tier]
    hz = params.clock_mhz * 1e6
    return (max(1, math.ceil(latency_s * hz - 1e-6)),
            max(1, math.ceil(params.cq_lanes * hz / bytes_per_s - 1e-6)))
# short tier latencies for MyHDL and Icarus runs, which check the ports' protocol, not the
# timing (a cold move at the default timing alone is 10,000 cycles at the sim clock)
QUICK_TIERS = {"hot": (4, 1), "warm": (16, 1), "cold": (40, 2)}
POLL_LIMIT = 4096
QUIESCE_LIMIT = 100000


class WorkloadError(ValueError):
    pass


class Workload:
    """Builds a workload and its expectations together, through the golden model."""

    def __init__(self, params, seed=0, delays=True, tiers=None):
        """`tiers` maps a tier name to its memory's (latency, interval); default tier_timing."""
        self.params = params
        self.model = FrameModel(params)
        self.rng = random.Random(seed)
        self.delays = delays
        tiers = tiers or {name: tier_timing(params, name) for name in DIE_TIERS}
        self.tiers = tiers
        # golden decides from the memories' timing whether a transfer's answers come after the watchdog
        self.model.kv.timing = {DIE_TIERS.index(name): timing for name, timing in tiers.items()}
        self.lines = [MAGIC, f"set {params.name}"] + [f"tier {n} {lat} {iv}" for n, (lat, iv) in tiers.items()]
        self.header_lines = len(self.lines)
        self.pending_out = 0  # E lines the golden model has produced beats for
        self.transfers_waited = 0   # tier transfers the polls so far have allowed time for
        self.store_timeouts_waited = 0   # ... and timed-out appends
        self.unsettled = 0    # commands submitted since the die last settled (the model ran them at once)

    # ---------------------------------------------------------------- timing
    def _delay(self):
        if not self.delays:
            return 0
        r = self.rng.random()
        return 0 if r < 0.5 else self.rng.randint(1, 3) if r < 0.9 else self.rng.randint(4, 12)

    # --------------------------------------------------------------- raw ops
    # ------------------------------------------------- what the model can time
    # The model runs a command the moment it is submitted; the die takes cycles. So that every
    # expected value is right whatever those cycles are, an access whose outcome a command in
    # flight could change settles the die first: any read of a register a command can change,
    # any write but a command's own (its arguments, the doorbell, STEP_ADVANCE; a write sampled by
    # a command that has not started yet would reach it in the die and not in the model), and a
    # doorbell that could find the die's queue full while the model's has room.
    COMMAND_WRITES = (R.CMD_ARG0, R.CMD_ARG1, R.CMD_ARG2, R.CMD_DOORBELL, R.STEP_ADVANCE)

    def _settle_before_write(self, addr):
        if not self.unsettled:
            return
        if addr not in self.COMMAND_WRITES or (addr in (R.CMD_DOORBELL, R.STEP_ADVANCE) and
                                               self.unsettled + len(self.model.cmdq) >= self.params.cmdq_depth):
            self.settle()

    def _settle_before_read(self, addr):
        reg = R.BY_OFFSET.get(addr)
        host_only = reg is None or all(f.access in ("rw", "wo") or f.const is not None or f.param is not None
                                       for f in reg.fields)
        if self.unsettled and not host_only:
            self.settle()

    def write(self, addr, data, strb=FULL_STROBE):
        self._settle_before_write(addr)
        resp = self.model.write(addr, data, strb)
        self.lines.append(f"W {addr:x} {data:x} {strb:x} {resp} {self._delay()} {self._delay()} {self._delay()}")
        if addr in (R.CMD_DOORBELL, R.STEP_ADVANCE) and resp == RESP_OKAY:
            self.unsettled += 1
        self._emit_outputs()
        return resp

    def read(self, addr):
        self._settle_before_read(addr)
        data, mask, resp = self.model.read(addr)
        self.lines.append(f"R {addr:x} {data:x} {mask:x} {resp} {self._delay()} {self._delay()}")
        return data, mask, resp

    def poll(self, addr, field_mask, value):
        data, mask, resp = self.model.read(addr)
        if resp != RESP_OKAY or (data & field_mask) != value or (mask & field_mask) != field_mask:
            raise WorkloadError(f"poll of {addr:#x} for {value:#x} would never end (golden reads {data:#x})")
        self.model.polled()
        self.lines.append(f"P {addr:x} {value:x} {field_mask:x} {POLL_LIMIT + self._transfer_reads()}")

    def _transfer_reads(self):
        """Reads a poll may take beyond POLL_LIMIT: at least the cycles of the tier transfers
        since the last poll (a read takes more than one cycle), a timed-out one's watchdog wait
        included. A cold memory's latency alone is thousands of cycles."""
        log = self.model.plane.log
        cycles = 0
        for t in log[self.transfers_waited:]:
            ends = [DIE_TIERS[t.source]] + ([] if t.dest is None else [DIE_TIERS[t.dest]])
            timing = [self.tiers.get(e, (1, 1)) for e in ends]     # the benches' default: 1 and 1
            cycles += sum(latency + t.words * interval for latency, interval in timing)
            if t.status == R.STATUS.TIMEOUT:
                cycles += self.model.stored[("DMA_WATCHDOG", "CYCLES")]
        self.transfers_waited = len(log)
        kv = self.model.kv            # an append that timed out waited the watchdog too
        cycles += (kv.store_timeouts - self.store_timeouts_waited) * self.model.stored[("DMA_WATCHDOG", "CYCLES")]
        self.store_timeouts_waited = kv.store_timeouts
        return cycles

    def offer(self, data, last):
        self.model.offer(data, last)
        self.lines.append(f"S {data:x} {int(last)} {self._delay()}")
        self._emit_outputs()

    def quiesce(self):
        if len(self.model.rx) > self.params.axis_fifo_depth:
            raise WorkloadError("quiesce with more beats offered than the ingress queue holds")
        self.lines.append(f"Q {QUIESCE_LIMIT}")

    def silence(self, tier, addr):
        """Make word `addr` of `tier`'s memory silent from the start (a header line)."""
        if tier not in DIE_TIERS:
            raise WorkloadError(f"no tier {tier!r}: the die has {', '.join(DIE_TIERS)}")
        code = DIE_TIERS.index(tier)
        if (code, addr >> slot_shift(self.params)) in self.model.kv.touched:
            raise WorkloadError(f"{tier} word {addr:#x}: a transfer has already used its slot")
        self.model.kv.silent.add((code, addr))
        self.lines.insert(self.header_lines, f"silent {tier} {addr:x}")
        self.header_lines += 1

    def fault(self, tier, addr):
        """From now on, word `addr` of `tier`'s memory never answers (an F line): a memory that
        fails while the die runs. The die settles first, so no transfer is in flight."""
        if tier not in DIE_TIERS:
            raise WorkloadError(f"no tier {tier!r}: the die has {', '.join(DIE_TIERS)}")
        self.settle()
        code = DIE_TIERS.index(tier)
        self.model.kv.silent.add((code, addr))
        self.lines.append(f"F {code:x} {addr:x}")

    def watchdog_margin(self, *tiers):
        """A DMA_WATCHDOG setting that no answering memory of `tiers` (default: every tier of the
        workload) reaches: well beyond their latency and interval (docs/data_plane.md: a memory
        answers within the limit)."""
        return max(in_time_watchdog(*self.tiers.get(t, (1, 1))) for t in tiers or self.tiers)   # benches: 1 and 1

    def check_irq(self):
        if self.unsettled:
            self.settle()
        self.lines.append(f"I {int(self.model.irq_level())}")

    def idle(self, cycles):
        self.lines.append(f"C {cycles}")

    def _emit_outputs(self):
        while self.pending_out < len(self.model.tx_out):
            beat = self.model.tx_out[self.pending_out]
            self.lines.append(f"E {beat.data:x} {int(beat.last)} {self._delay()}")
            self.pending_out += 1

    # -------------------------------------------------- driver-level helpers
    def field(self, reg, field, value):
        f = next(f for f in R.BY_NAME[reg].fields if f.name == field)
        return (value & ((1 << f.width) - 1)) << f.lsb

    def mask_of(self, reg, field):
        f = next(f for f in R.BY_NAME[reg].fields if f.name == field)
        return ((1 << f.width) - 1) << f.lsb

    def submit(self, opcode, session=0, arg0=None, arg1=None, arg2=None):
        """Doorbell, after writing the arguments that differ from what the registers hold."""
        for reg, value in ((R.CMD_ARG0, arg0), (R.CMD_ARG1, arg1), (R.CMD_ARG2, arg2)):
            if value is not None and self._arg_register(reg) != value:
                self.write(reg, value)
        return self.write(R.CMD_DOORBELL, self.field("CMD_DOORBELL", "OPCODE", opcode)
                          | self.field("CMD_DOORBELL", "SESSION", session))

    def settle(self):
        """Wait, by polling, until the die has done all it can (no timing-dependent state left):
        every completion posted (a command's moves are part of it)."""
        self.poll(R.CPL_STATUS, self.mask_of("CPL_STATUS", "COUNT"), len(self.model.cplq))
        self.poll(R.CMD_STATUS, self.mask_of("CMD_STATUS", "LEVEL"), len(self.model.cmdq))
        self.quiesce()
        if self.model.kv.late_wait:    # the answers of transfers that timed out still come: wait for them
            self.idle(self.model.kv.late_wait)
            self.model.kv.late_wait = 0
        self.unsettled = 0

    def pop_all(self):
        """Read and retire every completion, as a driver's completion handler would."""
        while self.model.cplq:
            for reg in ("CPL_HEAD", "CPL_BYTES", "CPL_SESSION"):
                self.read(getattr(R, reg))
            self.write(R.CPL_POP, self.rng.getrandbits(32))
            self.settle()

    def _arg_register(self, offset):
        reg = R.BY_OFFSET[offset]
        return sum(self.model.stored[(reg.name, f.name)] << f.lsb for f in reg.fields)

    def block_command(self, opcode, key, arg2=None):
        """A directory or policy command on block key (session, layer, kv_head, block index)."""
        session, layer, head, index = key
        return self.submit(opcode, session, arg0=index, arg1=layer | head << 8, arg2=arg2)

    def read_window(self, index):
        self.write(R.DIR_WIN_INDEX, index)
        for k in range(8):
            self.read(getattr(R, f"DIR_WIN_DATA{k}"))

    def dump(self):
        """Read every readable register (the 'changes nothing' check after a refused access)."""
        for reg in R.REGISTERS:
            if not all(f.access == "wo" for f in reg.fields) and reg.fields:
                self.read(reg.offset)

    def stream(self, beats, framing_ok=True):
        for i in range(beats):
            last = (i == beats - 1) if framing_ok else (i == beats - 2)
            self.offer(self.rng.getrandbits(8 * self.params.axis_bytes), last)

    def text(self):
        body = "\n".join(self.lines) + "\n"
        return body + end_line(body) + "\n"


# ------------------------------------------------------------------- scenarios
def directed(w):
    """Every frame feature once, each on purpose: identity, scratch, commands, IRQs,
    queue limits, stream framing, perf snapshot/clear."""
    p = w.params
    w.read(R.ID)
    w.read(R.PARAMS)
    for v in (0xFFFFFFFF, 0, 0xA5A55A5A, 0x12345678):
        w.write(R.SCRATCH, v)
        w.read(R.SCRATCH)
    # perf: a clean window from a clear, counted exactly
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "CLEAR", 1))
    w.write(R.IRQ_ENABLE, 0x3)
    w.check_irq()
    w.submit(R.OPCODE.NOP, session=7)
    w.settle()
    w.check_irq()
    w.pop_all()
    w.write(R.IRQ_STATUS, 0x1)
    w.check_irq()
    # an unknown opcode completes with BAD_ARG and raises ERR
    w.submit(0xEE, session=3)
    w.settle()
    w.check_irq()
    w.pop_all()
    w.write(R.IRQ_STATUS, 0x3)
    w.check_irq()
    # ECHO: in range, zero length (BAD_ARG, nothing moved), out of range, framing error
    w.submit(R.OPCODE.ECHO, session=1, arg0=5)
    w.stream(5)
    w.settle()
    w.pop_all()
    w.submit(R.OPCODE.ECHO, session=1, arg0=0)
    w.submit(R.OPCODE.ECHO, session=1, arg0=ECHO_MAX_BEATS + 1)
    w.settle()
    w.pop_all()
    w.submit(R.OPCODE.ECHO, session=2, arg0=4)
    w.stream(4, framing_ok=False)
    w.settle()
    w.pop_all()
    # the command queue fills behind an ECHO that waits for data: the next doorbell is refused
    w.submit(R.OPCODE.ECHO, session=4, arg0=3)
    for _ in range(p.cmdq_depth):
        w.submit(R.OPCODE.NOP, session=4)
    w.settle()
    if w.submit(R.OPCODE.NOP, session=4) != RESP_SLVERR:
        raise WorkloadError("expected a full command queue")
    w.dump()
    w.stream(3)
    w.settle()
    w.pop_all()
    # the completion queue fills: the engine stalls, nothing is lost
    for _ in range(p.cplq_depth + 2):
        w.submit(R.OPCODE.NOP, session=5)
    w.settle()
    w.read(R.CPL_STATUS)
    w.read(R.CMD_STATUS)
    w.pop_all()
    if w.write(R.CPL_POP, 0) != RESP_SLVERR:
        raise WorkloadError("expected an empty completion queue")
    # irq test bits, and an idle gap: the line holds
    w.write(R.IRQ_TEST, 0x2)
    w.check_irq()
    w.idle(25)
    w.check_irq()
    w.write(R.IRQ_STATUS, 0x3)
    w.write(R.IRQ_ENABLE, 0)
    w.check_irq()
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    w.dump()


def random_accesses(w, count):
    """Seeded random register traffic, good and bad; every refused access is followed by a
    full register dump, so a refused access that changed anything shows up as a mismatch."""
    rng = w.rng
    mapped = [r.offset for r in R.REGISTERS]
    unmapped = [a for a in range(0, 1 << R.ADDR_WIDTH, 4) if a not in R.BY_OFFSET]
    read_only = [r.offset for r in R.REGISTERS if not r.writable]
    partial_strobes = list(range(FULL_STROBE))  # every strobe but 0xF
    ops = 0
    while ops < count:
        kind = rng.random()
        if kind < 0.25:   # a refused access, then a dump to prove it changed nothing
            choice = rng.randrange(6)
            if choice == 0:
                resp = w.write(rng.choice(unmapped), rng.getrandbits(32))
            elif choice == 1:
                resp = w.read(rng.choice(unmapped))[2]
            elif choice == 2:
                addr = rng.choice(mapped) + rng.randint(1, 3)
                resp = w.write(addr, rng.getrandbits(32)) if rng.random() < 0.5 else w.read(addr)[2]
            elif choice == 3:
                resp = w.write(rng.choice(mapped), rng.getrandbits(32), rng.choice(partial_strobes))
            elif choice == 4:
                resp = w.write(rng.choice(read_only), rng.getrandbits(32))
            else:
                w.pop_all()
                resp = w.write(R.CPL_POP, rng.getrandbits(32))
            if resp != RESP_SLVERR:
                raise WorkloadError("a refused access was accepted by the golden model")
            w.dump()
        elif kind < 0.45:
            reg = rng.choice(["SCRATCH", "CMD_ARG0", "IRQ_ENABLE", "IRQ_STATUS", "IRQ_TEST"])
            w.write(getattr(R, reg), rng.getrandbits(32))
            w.check_irq()
        elif kind < 0.6:
            w.read(rng.choice(mapped))
        elif kind < 0.8:  # a command, with its stream data when it is an ECHO
            op = rng.choice([R.OPCODE.NOP, R.OPCODE.ECHO, R.OPCODE.ECHO, rng.randrange(2, 256)])
            beats = rng.randint(1, 3 * w.params.axis_fifo_depth)
            if len(w.model.cplq) == w.params.cplq_depth:
                w.pop_all()
            w.submit(op, session=rng.getrandbits(16), arg0=beats)
            if op == R.OPCODE.ECHO:
                w.stream(beats, framing_ok=rng.random() < 0.9)
            w.settle()
        elif kind < 0.9:
            w.pop_all()
        else:  # snapshots only: the directed phase clears, so the last snapshot covers the run
            w.settle()
            w.write(R.PERF_CTRL, rng.getrandbits(1))
            w.read(rng.choice([r.offset for r in R.REGISTERS if r.name.startswith("PERF_")]))
        ops += 1
    w.settle()
    w.pop_all()
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    w.dump()


def policy_directed(w):
    """Every policy path and guard once, on purpose, in the default registers' scale: eviction
    with a selection pass and tied priorities, stalls on a full queue, the pin, prefix and DECODE
    guards, hint and threshold prefetch (with selection), hint slots and DECODE slots full,
    every refused argument."""
    OP, ST = R.OPCODE, R.STATUS
    p = w.params
    model = w.model.policy

    def expect(status):
        w.settle()
        got = w.model.cplq[-1].status if w.model.cplq else None
        if got != status:
            raise WorkloadError(f"directed policy scenario: expected status {status}, golden says {got}")
        w.pop_all()

    def command(opcode, key, arg2=None, status=ST.OK):
        w.block_command(opcode, key, arg2)
        expect(status)

    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "CLEAR", 1))
    for state in (R.SESSION_STATE.DECODE, 9):
        w.submit(OP.SESSION_SET_STATE, 3, arg0=state)
        expect(ST.OK if state == R.SESSION_STATE.DECODE else ST.BAD_ARG)
    # 20 hot blocks of session 1 (two sets fill: DIR_FULL), frequencies in pairs: tied priorities
    hot = []
    for b in range(64):
        if len(hot) == 20:
            break
        key = (1, b % 2, 0, b)
        w.block_command(OP.DIR_INSERT, key, arg2=R.TIER.HOT)
        w.settle()
        if w.model.cplq[-1].status == ST.OK:
            hot.append(key)
        w.pop_all()
    if len(hot) < 20:
        raise WorkloadError("directed policy scenario: the directory took fewer than 20 blocks")
    command(OP.DIR_INSERT, hot[0], R.TIER.HOT, status=ST.BAD_ARG)           # already present
    command(OP.DIR_INSERT, (1, 0, 0, 1 << 24), R.TIER.HOT, status=ST.BAD_ARG)  # index too wide
    command(OP.DIR_INSERT, (1, 0, 0, 500), 3, status=ST.BAD_ARG)          # no tier 3
    for n, key in enumerate(hot):
        for _ in range(n // 2):
            command(OP.DIR_ACCESS, key)
    command(OP.DIR_ACCESS, (1, 7, 7, 7), status=ST.NOT_FOUND)
    command(OP.MARK_HOT, hot[0])                                     # pin guard
    command(OP.SHARE_PREFIX, hot[1])                                 # prefix guard
    command(OP.EVICT, hot[1], R.TIER.WARM, status=ST.BAD_STATE)
    command(OP.EVICT, hot[2], 3, status=ST.BAD_ARG)                  # no tier 3 to evict to
    decode_key = (3, 0, 0, 0)
    command(OP.DIR_INSERT, decode_key, R.TIER.HOT)                   # DECODE guard
    # step 1: 21 hot > 12; the 14 lowest-P unprotected go (more candidates than that: a
    # selection pass), 13 > the queue's depth: the scan stalls until the EVICT channel drains it
    w.write(R.STEP_ADVANCE, 1)
    w.settle()
    w.dump()
    # hints: one within the horizon, one beyond it, one on a hot block, then the slots fill
    warm = [k for k in hot if model.dir.tier[model.dir.lookup(*k)] != R.TIER.HOT]
    command(OP.PREFETCH, warm[0], 3)
    command(OP.PREFETCH, warm[1], 9)
    command(OP.PREFETCH, hot[0], 2)
    command(OP.PREFETCH, warm[1], 0, status=ST.BAD_ARG)             # target passed: the held hint stays
    for k in warm[3:3 + p.hint_slots - 3]:
        command(OP.PREFETCH, k, 30)
    command(OP.PREFETCH, warm[-1], 30, status=ST.DIR_FULL)
    command(OP.PREFETCH, warm[0], 2)                                 # a held hint moves
    # threshold prefetch with more candidates than room: low threshold, high watermark 16
    w.write(R.HEPC_THRESHOLD, 100)
    w.write(R.HEPC_WATERMARKS, 16 | 4 << 16)
    for t in (2, 9):
        w.write(R.STEP_ADVANCE, t)
        w.settle()
        w.read(R.HEPC_STATUS)   # hot count, hints held, sessions in DECODE
    w.submit(OP.STEP_ADVANCE, 0, arg0=8)                             # backwards
    expect(ST.BAD_ARG)
    # EVICT of a hot block pushes it; RELEASE and SHARE limits; DELETE drops its hint
    command(OP.RELEASE, hot[1])
    command(OP.RELEASE, hot[1], status=ST.BAD_ARG)
    command(OP.EVICT, hot[1], R.TIER.COLD)                           # hot to cold
    command(OP.DIR_DELETE, warm[1])
    command(OP.DIR_DELETE, warm[1], status=ST.NOT_FOUND)
    for s in range(4, 4 + p.decode_slots):
        w.submit(OP.SESSION_SET_STATE, s, arg0=R.SESSION_STATE.DECODE)
        w.settle()
        w.pop_all()
    for state in (R.SESSION_STATE.IDLE, R.SESSION_STATE.DECODE):
        w.submit(OP.SESSION_SET_STATE, 3, arg0=state)
        expect(ST.OK)
    w.submit(OP.SESSION_SET_STATE, 99, arg0=R.SESSION_STATE.DECODE)
    expect(ST.DIR_FULL)
    w.write(R.HEPC_WATERMARKS, 12 | 8 << 16)
    w.write(R.HEPC_THRESHOLD, 48000)
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    for index in range(p.dir_entries):
        w.read_window(index)
    w.dump()


def policy_commands(w, count):
    """Seeded random directory and policy commands on a key space larger than the directory
    (so sets fill: DIR_FULL), with steps, hints, guards, configuration changes, refused
    arguments and window reads, and now and then any other opcode (KV_APPEND, KV_FETCH,
    BLOCK_FETCH, NOP, ECHO, unknown); every completion is checked."""
    rng = w.rng
    OP = R.OPCODE
    keys = [(s, layer, head, b) for s in range(1, 5) for layer in range(2) for head in range(2) for b in range(8)]
    keys += [(0, 0, 0, b) for b in range(4)]  # shared prefix blocks (session 0)
    present = []

    def key():
        return rng.choice(present) if present and rng.random() < 0.8 else rng.choice(keys)

    for _ in range(count):
        x = rng.random()
        step = w.model.policy.hepc.step
        if x < 0.22:
            k = rng.choice(keys)
            tier = rng.choice([R.TIER.HOT] * 3 + [R.TIER.WARM, R.TIER.COLD])
            if rng.random() < 0.03:
                tier = rng.randint(3, 2**32 - 1)          # no such tier: BAD_ARG
            if rng.random() < 0.03:
                k = k[:3] + (rng.randint(1 << 24, 2**32 - 1),)   # block index beyond 24 bits
            w.block_command(OP.DIR_INSERT, k, arg2=tier)
            if k not in present and k in keys:
                present.append(k)
        elif x < 0.44:
            w.block_command(OP.DIR_ACCESS, key())
        elif x < 0.46:
            k = key()
            w.block_command(OP.DIR_DELETE, k)
            if k in present:
                present.remove(k)
        elif x < 0.60:
            t = step + rng.randint(0, 3)
            if rng.random() < 0.1:
                w.submit(OP.STEP_ADVANCE, 0, arg0=max(step - rng.randint(1, 2), 0) if step else 0)
            else:
                w.write(R.STEP_ADVANCE, t)
        elif x < 0.62:
            w.block_command(OP.MARK_HOT, key())
        elif x < 0.70:
            w.block_command(OP.EVICT, key(), arg2=rng.choice((0, R.TIER.WARM, R.TIER.COLD, 3)))
        elif x < 0.76:
            w.block_command(OP.PREFETCH, key(), arg2=max(step + rng.randint(-1, 8), 0))
        elif x < 0.81:
            w.block_command(OP.SHARE_PREFIX, key())
        elif x < 0.85:
            w.block_command(OP.RELEASE, key())
        elif x < 0.89:
            w.submit(OP.SESSION_SET_STATE, rng.randint(1, 6), arg0=rng.choice([0, 1, 1, 2, 3, 4, 5]))
        elif x < 0.90:
            w.settle()
            w.read_window(rng.choice(range(w.params.dir_entries + 2)))
        elif x < 0.93:      # the KV path's and the frame's opcodes between the policy's
            k = key()
            kv_command(w, k) if rng.random() < 0.5 else frame_command(w, k[0])
        elif x < 0.96:
            w.settle()
        else:
            w.settle()
            reg = rng.choice(["HEPC_WEIGHTS", "HEPC_CTRL", "HEPC_WATERMARKS", "HEPC_THRESHOLD"])
            value = {"HEPC_WEIGHTS": rng.getrandbits(32),
                     "HEPC_CTRL": rng.randint(0, 16) | rng.randint(0, 8) << 8,
                     "HEPC_WATERMARKS": rng.randint(4, 24) | rng.randint(0, 20) << 16,
                     "HEPC_THRESHOLD": rng.choice([0, 20000, 48000, 65535])}[reg]
            w.write(getattr(R, reg), value)
        w.settle()
        w.read(R.HEPC_STATUS)
        w.pop_all()
    w.settle()
    w.pop_all()
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    w.read(R.HEPC_STATUS)
    for index in range(w.params.dir_entries):
        w.read_window(index)
    w.dump()


# the main job's decode workload: sized for the sim set's 64-entry directory, hot tier of 16
DECODE_SIM = DecodeSpec(sessions=4, steps=1024, system_prompt_blocks=2, prompt_blocks=(2, 6), recent_blocks=2,
                        lookback_period=8, lookback_blocks=2, hint_lead=3, lifetime=(48, 160), layers=1)
DECODE_HOT_HIGH, DECODE_HOT_LOW = 16, 12


def trace_replay(w, trace, hot_high, hot_low, dim=None, prefetch=True):
    """A block trace (golden/traces.py) as the runtime would drive the chip: per step, session
    state changes, appends (DIR_INSERT), prefix references (SHARE_PREFIX), accesses (DIR_ACCESS),
    PREFETCH hints, releases, then STEP_ADVANCE (whose moves the dma carries out), and every block
    is deleted after its last use. Commands go in batches the queues hold; every completion is
    checked against golden.

    With `dim`, the blocks carry data: an append is a KV_APPEND of 32 tokens (CQ-4 at D = dim,
    seeded values), an access a KV_FETCH whose fp32 stream is checked, each waited for on its own.
    Without `prefetch`, the hints are left out and HEPC_THRESHOLD is 65535, so nothing is
    prefetched (the baseline of sim.fetch_bench)."""
    OP = R.OPCODE
    last_use = {}
    for k, st in enumerate(trace):
        for b in st.appends + st.accesses + [b for b, _ in st.hints]:
            last_use[b] = k
    batch = min(w.params.cmdq_depth, w.params.cplq_depth)
    pending = []

    def command(opcode, *args, **kw):
        if len(pending) == batch:
            w.settle()
            w.pop_all()
            pending.clear()
        pending.append(opcode)
        if opcode == OP.SESSION_SET_STATE:
            w.submit(opcode, args[0], arg0=args[1])
        else:
            w.block_command(opcode, *args, **kw)

    def flush():
        w.settle()
        w.pop_all()
        pending.clear()

    w.write(R.HEPC_WATERMARKS, hot_high | hot_low << 16)
    if not prefetch:
        w.write(R.HEPC_THRESHOLD, 0xFFFF)
    if dim:
        configure_codec(w, MODES.index("CQ4"), dim, outliers=0)
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "CLEAR", 1))
    decoding = set()
    for k, st in enumerate(trace):
        for s in sorted(st.decode_sessions - decoding):
            command(OP.SESSION_SET_STATE, s, R.SESSION_STATE.DECODE)
        for s in sorted(decoding - st.decode_sessions):
            command(OP.SESSION_SET_STATE, s, R.SESSION_STATE.CLOSED)
        decoding = set(st.decode_sessions)
        for b in st.appends:
            if dim:
                flush()
                kv_append(w, b, kv_values(w.rng, 32, dim, specials=False))
            else:
                command(OP.DIR_INSERT, b, arg2=R.TIER.HOT)
        for b in st.shared:
            command(OP.SHARE_PREFIX, b)
        for b in st.accesses:
            if dim:
                flush()
                kv_fetch(w, b)
            else:
                command(OP.DIR_ACCESS, b)
        for b, target in st.hints if prefetch else ():
            command(OP.PREFETCH, b, arg2=target)
        for b in st.shared:
            command(OP.RELEASE, b)
        for b in sorted(b for b, last in last_use.items() if last == k):
            command(OP.DIR_DELETE, b)
        flush()
        w.write(R.STEP_ADVANCE, k + 1)
        w.settle()
        w.pop_all()
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    w.read(R.HEPC_STATUS)
    w.dump()


def decode_replay(w, steps, spec=DECODE_SIM, seed=1, dim=None, prefetch=True):
    """The synthetic decode workload, `steps` steps of it (trace_replay: `dim` for blocks that
    carry data, `prefetch` False for none)."""
    trace_replay(w, decode_trace(spec, seed=seed)[:steps], DECODE_HOT_HIGH, DECODE_HOT_LOW, dim, prefetch)


def mooncake_replay(w, requests):
    """The first `requests` requests of the Mooncake conversation trace (golden/data), one
    step each. At the sim set's 64 entries the live blocks overflow some sets: those inserts
    complete with DIR_FULL, as golden says."""
    trace = mooncake_trace(limit=requests)
    if len(trace) < requests:
        raise WorkloadError(f"the Mooncake trace has {len(trace)} requests, not {requests}")
    trace_replay(w, trace, DECODE_HOT_HIGH, DECODE_HOT_LOW)


# ------------------------------------------------------------------ KV path and codec
def configure_codec(w, mode, dim, outliers=None, head_bits=None):
    f = w.field
    cur = {fl.name: w.model.stored[("CQ_CTRL", fl.name)] for fl in R.BY_NAME["CQ_CTRL"].fields}
    cur.update(MODE=mode, DIM=dim)
    if outliers is not None:
        cur["OUTLIERS"] = outliers
    if head_bits is not None:
        cur["HEAD_BITS"] = head_bits
    w.write(R.CQ_CTRL, sum(f("CQ_CTRL", name, v) for name, v in cur.items()))


def write_rom(w, index, channels):
    w.write(R.CQ_ROM_INDEX, index)
    w.write(R.CQ_ROM_WRITE, sum(c << (8 * i) for i, c in enumerate(channels)))
    w.read(R.CQ_ROM_DATA)


def kv_append(w, key, x, framing_ok=True, tokens=None):
    """KV_APPEND of K/V x ([2][n][D] fp16) for block key; `tokens` overrides the count."""
    n = x.shape[1] if tokens is None else tokens
    w.block_command(R.OPCODE.KV_APPEND, key, arg2=n)
    if w.model.kv.append_beats(n, w.model.stored) is not None:   # else refused, nothing to send
        beats = to_beats(x.astype("<f2").tobytes(), w.params.axis_bytes)
        for i, b in enumerate(beats):
            w.offer(b, i == len(beats) - (1 if framing_ok else 2))
    kv_check(w)


def kv_fetch(w, key):
    w.block_command(R.OPCODE.KV_FETCH, key)
    kv_check(w)


def block_fetch(w, session, layer, kv_head, first_token, tokens, heads=1):
    """BLOCK_FETCH of `tokens` tokens from `first_token` on, kv_heads kv_head .. + heads - 1.
    -> its completion status (golden's)."""
    w.submit(R.OPCODE.BLOCK_FETCH, session, arg0=first_token, arg1=layer | kv_head << 8 | heads << 16,
             arg2=tokens)
    w.settle()
    status = w.model.cplq[-1].status
    w.pop_all()
    return status


def kv_check(w):
    """Wait for the command, check and retire its completion."""
    w.settle()
    w.pop_all()


def codec_directed(w):
    """Every KV path feature once, each on purpose: the codec registers and the outlier ROM,
    appends and fetches in each mode (full and partial blocks, k = 0 / 2 / 4), every refusal,
    the data-less directory entry, an evicted block, delete and re-append, the byte counters."""
    rng, OP = w.rng, R.OPCODE
    CQ8, CQ4, CQ4P = (MODES.index(m) for m in ("CQ8", "CQ4", "CQ4plus"))
    for reg in ("CQ_CTRL", "CQ_ROM_INDEX", "CQ_ROM_DATA"):
        w.read(getattr(R, reg))
    w.write(R.CQ_ROM_INDEX, w.params.cq_rom_entries)          # beyond the ROM: SLVERR, no change
    w.write(R.CQ_ROM_WRITE, 0x01020304)
    w.read(R.CQ_ROM_DATA)
    write_rom(w, 1 << 2 | 2, (3, 11, 0, 0))                    # layer 1, kv_head 2 (HEAD_BITS 2)
    write_rom(w, 0, (0, 5, 9, 15))
    write_rom(w, 1, (7, 7, 0, 0))                              # not ascending: refused in CQ-4+
    # each mode, full and partial blocks
    configure_codec(w, CQ8, 16)
    kv_append(w, (1, 0, 0, 0), kv_values(rng, 32, 16))
    kv_fetch(w, (1, 0, 0, 0))
    configure_codec(w, CQ4, 16)
    kv_append(w, (1, 0, 0, 1), kv_values(rng, 5, 16))
    kv_append(w, (1, 0, 0, 2), kv_values(rng, 1, 16))
    kv_fetch(w, (1, 0, 0, 1))
    kv_fetch(w, (1, 0, 0, 2))
    configure_codec(w, CQ4P, 16, outliers=2)
    kv_append(w, (1, 1, 2, 0), kv_values(rng, 32, 16))
    kv_append(w, (1, 1, 2, 1), kv_values(rng, 31, 16))
    configure_codec(w, CQ4P, 16, outliers=4)
    kv_append(w, (2, 0, 0, 0), kv_values(rng, 7, 16))
    configure_codec(w, CQ4P, 24, outliers=0)
    kv_append(w, (2, 0, 1, 0), kv_values(rng, 32, 24))
    for key in ((1, 1, 2, 0), (1, 1, 2, 1), (2, 0, 0, 0), (2, 0, 1, 0)):
        kv_fetch(w, key)
    # refusals: token count, configuration, ROM entry, head bits, present block, framing, values
    configure_codec(w, CQ4, 16)
    kv_append(w, (3, 0, 0, 0), kv_values(rng, 1, 16), tokens=0)
    kv_append(w, (3, 0, 0, 0), kv_values(rng, 1, 16), tokens=33)
    for mode, dim in ((3, 16), (CQ4, 12), (CQ4, 0), (CQ4, w.params.cq_dim + 8)):
        configure_codec(w, mode, dim)
        kv_append(w, (3, 0, 0, 0), kv_values(rng, 2, dim if dim else 8)[:, :, :dim])
    configure_codec(w, CQ4P, 16, outliers=2)
    kv_append(w, (3, 0, 1, 0), kv_values(rng, 2, 16))                 # ROM entry 1: channels 7, 7
    kv_append(w, (3, 0, 4, 0), kv_values(rng, 2, 16))                 # kv_head 4 needs 3 head bits
    configure_codec(w, CQ4P, 16, outliers=w.params.cq_outliers + 1)
    kv_append(w, (3, 1, 2, 0), kv_values(rng, 2, 16))
    configure_codec(w, CQ4, 16)
    kv_append(w, (1, 0, 0, 0), kv_values(rng, 3, 16))                 # already present
    kv_append(w, (3, 0, 0, 1), kv_values(rng, 4, 16), framing_ok=False)
    bad = kv_values(rng, 4, 16)
    bad[1, 2, 3] = np.inf
    kv_append(w, (3, 0, 0, 2), bad)
    # a full set: DIR_FULL, beats discarded
    d = w.model.policy.dir
    same_set = [k for k in ((4, 0, 0, b) for b in range(4096)) if d.set_of(*k) == d.set_of(4, 0, 0, 0)]
    for key in same_set[:w.params.dir_ways + 1]:
        kv_append(w, key, kv_values(rng, 1, 16))
    # fetch refusals (zero blocks), a data-less entry, an evicted block, delete and re-append
    configure_codec(w, CQ4, 8)
    kv_fetch(w, (9, 9, 9, 9))
    kv_fetch(w, (1, 0, 0, 1 << 24))
    w.block_command(OP.DIR_INSERT, (5, 0, 0, 0), arg2=R.TIER.HOT)
    kv_fetch(w, (5, 0, 0, 0))
    w.block_command(OP.EVICT, (1, 0, 0, 1), arg2=R.TIER.WARM)
    kv_fetch(w, (1, 0, 0, 1))                                   # from the warm tier
    w.block_command(OP.EVICT, (1, 0, 0, 1), arg2=R.TIER.COLD)
    kv_fetch(w, (1, 0, 0, 1))                                   # from the cold tier
    w.block_command(OP.DIR_DELETE, (1, 0, 0, 2))
    kv_fetch(w, (1, 0, 0, 2))
    kv_append(w, (1, 0, 0, 2), kv_values(rng, 9, 8))
    kv_fetch(w, (1, 0, 0, 2))
    fetch_timeout(w, free_key(w, 6, 0, 0))
    prefetch_hit(w, free_key(w, 6, 0, 2))
    image_forgotten(w, free_key(w, 6, 0, 3))
    move_timeouts(w, 6, 0, 1)
    append_timeout(w, free_key(w, 6, 1, 0))
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    for index in range(w.params.dir_entries):
        w.read_window(index)
    w.dump()


def span_layer(w, keys_of):
    """The first layer whose keys (keys_of(layer): block keys) are all absent and fit in the
    free ways of their directory sets."""
    d = w.model.policy.dir
    for layer in range(256):
        keys = keys_of(layer)
        need = {}
        for key in keys:
            s = d.set_of(*key)
            need[s] = need.get(s, 0) + 1
        if (all(d.lookup(*key) is None for key in keys)
                and all(n <= d.free_ways(s).size for s, n in need.items())):
            return layer
    raise WorkloadError("no layer whose span keys fit in the directory")


def block_fetch_directed(w, session=8):
    """BLOCK_FETCH, each path on purpose: a span of two heads x three blocks in the hot, warm and
    cold tiers with a partial block, a block borrowed from the shared prefix session 0 once it is
    referenced (ISOLATION before), NOT_FOUND, BAD_STATE and every BAD_ARG span, and a span whose
    middle block's warm slot stops answering (TIMEOUT: a zero block there, the rest streamed).
    DMA_WATCHDOG is left at a margin over every tier's timing (as move_timeouts leaves it): the
    failed slot's entry may be taken again later."""
    OP, ST, rng, T = R.OPCODE, R.STATUS, w.rng, BLOCK_TOKENS

    def span(want, first, tokens, head=0, heads=1):
        got = block_fetch(w, session, layer, head, first, tokens, heads)
        if got != want:
            raise WorkloadError(f"BLOCK_FETCH of {tokens} tokens from {first}, heads {head}+{heads}: "
                                f"golden answers status {got}, the scenario meant {want}")

    configure_codec(w, MODES.index("CQ4"), 8)
    layer = span_layer(w, lambda layer: [(session, layer, h, b) for h in (0, 1) for b in range(3)]
                       + [(0, layer, 0, 3), (session, layer, 1, 3)])
    for h in (0, 1):
        for b in range(3):
            kv_append(w, (session, layer, h, b), kv_values(rng, 32 if (h, b) != (1, 2) else 7, 8))
    w.block_command(OP.EVICT, (session, layer, 0, 1), arg2=R.TIER.WARM)
    w.block_command(OP.EVICT, (session, layer, 1, 2), arg2=R.TIER.COLD)
    kv_check(w)
    span(ST.OK, 0, 3 * T - 25, heads=2)           # all six, head by head, from all three tiers
    # the shared prefix: session 0's block 3 is borrowed only once it has a reference
    kv_append(w, (0, layer, 0, 3), kv_values(rng, 32, 8))
    span(ST.ISOLATION, 2 * T, 2 * T)
    expect_command(w, OP.DIR_ACCESS, (session, layer, 1, 0), ST.OK)
    w.block_command(OP.SHARE_PREFIX, (0, layer, 0, 3))
    span(ST.OK, 2 * T, 2 * T)                     # its own block 2, then the borrowed block 3
    span(ST.NOT_FOUND, 0, 5 * T)                  # block 4 is nobody's: session 0's refuses too
    # a refused fallback leaves nothing behind: the next DIR_ACCESS of any session is its own
    expect_command(w, OP.DIR_ACCESS, (session, layer, 0, 0), ST.OK)
    w.block_command(OP.RELEASE, (0, layer, 0, 3))
    w.block_command(OP.DIR_INSERT, (session, layer, 1, 3), arg2=R.TIER.WARM)
    span(ST.BAD_STATE, 2 * T, 2 * T, head=1)      # block 3 of head 1 holds no image
    for first, tokens, head, heads in ((5, T, 0, 1), (0, 0, 0, 1), (0, T, 0, 0), (0, 65 * T, 0, 1),
                                       (0, 33 * T, 0, 2), (0, T, 255, 2), (((1 << 24) - 1) * T, 2 * T, 0, 1)):
        span(ST.BAD_ARG, first, tokens, head, heads)
    # the middle block's warm slot stops answering
    entry = w.model.policy.dir.lookup(session, layer, 0, 1)
    w.write(R.DMA_WATCHDOG, w.watchdog_margin("hot", "warm", "cold"))
    w.fault("warm", entry << slot_shift(w.params) | 2)
    span(ST.TIMEOUT, 0, 3 * T)
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    w.dump()
    for key in [(session, layer, h, b) for h in (0, 1) for b in range(4)] + [(0, layer, 0, 3)]:
        entry = w.model.policy.dir.lookup(*key)     # accessed only by the fetches that read them
        if entry is not None:
            w.read_window(entry)


def expect_command(w, opcode, key, want):
    """A block command the scenario means to answer `want`; checked against golden when written."""
    w.block_command(opcode, key)
    w.settle()
    got = w.model.cplq[-1].status
    if got != want:
        raise WorkloadError(f"{R.OPCODE_NAMES[opcode]} of {key}: golden answers status {got}, the scenario meant {want}")
    w.pop_all()


def fetch_timeout(w, key):
    """A block whose hot slot stops answering once it is stored: its fetch completes TIMEOUT with
    a zero block once DMA_WATCHDOG gives up. The limit is set from the hot tier's timing (the only
    transfer while it holds is the fetch from hot; a cold memory's timing would make the wait
    thousands of cycles), then put back to its reset value."""
    rng = w.rng
    kv_append(w, key, kv_values(rng, 4, w.model.stored[("CQ_CTRL", "DIM")]))
    entry = w.model.policy.dir.lookup(*key)
    w.fault("hot", entry << slot_shift(w.params) | 1)         # the slot's second word
    w.write(R.DMA_WATCHDOG, w.watchdog_margin("hot"))
    w.read(R.DMA_WATCHDOG)
    kv_fetch(w, key)
    restore_watchdog(w)


def append_timeout(w, key):
    """A KV_APPEND of block `key` into a hot slot whose first word has stopped answering (an F
    line): it completes TIMEOUT once DMA_WATCHDOG gives up on the acknowledge, with nothing
    entered (STORE_TIMEOUTS), so the block's fetch answers NOT_FOUND. The watchdog must be at a
    margin over the hot memory's timing (move_timeouts leaves it so); the slot stays silent, so a
    later append into the same way times out too, as golden says."""
    d, ST = w.model.policy.dir, R.STATUS
    s = d.set_of(*key)
    entry = s * d.ways + int(d.free_ways(s)[0])       # the way the append takes
    w.fault("hot", entry << slot_shift(w.params))
    timeouts = R.PERF_EVENTS.index("STORE_TIMEOUTS")
    before = w.model.live[timeouts]
    kv_append(w, key, kv_values(w.rng, 32, w.model.stored[("CQ_CTRL", "DIM")]))
    if w.model.live[timeouts] != before + 1 or d.lookup(*key) is not None:
        raise WorkloadError("append_timeout: golden does not time the append out")
    expect_command(w, R.OPCODE.KV_FETCH, key, ST.NOT_FOUND)


def late_answers(w, session=10):
    """Issue 19's late answers: a block of each of two sessions in the slowest tier (cold at the
    default timing), then DMA_WATCHDOG below that memory's latency and above the hot one's.
    Session `session`'s fetch of its block A times out; its answers still come, and the host
    sends session `session` + 1's fetch of its own block B so that B waits on the same port
    when they do (half B's wait before they come). B must not take them: it times out too
    (before the dma's tags B completed OK with A's data). Both fetches' answers are counted
    (LATE_ANSWERS). With the watchdog above every memory's timing again (where it is left) each
    session reads its own block."""
    OP, ST, rng = R.OPCODE, R.STATUS, w.rng
    dim = w.model.stored[("CQ_CTRL", "DIM")]
    slow = max(("warm", "cold"), key=lambda t: w.tiers.get(t, (1, 1))[0])
    latency, interval = w.tiers.get(slow, (1, 1))
    keys = [free_key(w, s, 0, 0) for s in (session, session + 1)]
    for key in keys:
        kv_append(w, key, kv_values(rng, 32, dim))
        w.block_command(OP.EVICT, key, arg2=DIE_TIERS.index(slow))
        kv_check(w)
    watchdog = w.watchdog_margin("hot")                      # the hot memory answers within it
    words = w.model.plane.words(DIE_TIERS.index(slow), w.model.policy.dir.lookup(*keys[0]))
    if not latency > watchdog + words * interval + 16:
        raise WorkloadError(f"late_answers needs a warm or cold memory slower than {watchdog + words * interval + 16} "
                            f"cycles; this workload's slowest answers in {latency}")
    w.write(R.DMA_WATCHDOG, watchdog)
    w.block_command(OP.KV_FETCH, keys[0])
    w.idle(max(1, latency - (words * interval + watchdog) // 2))
    w.block_command(OP.KV_FETCH, keys[1])
    w.settle()
    if [c.status for c in list(w.model.cplq)[-2:]] != [ST.TIMEOUT, ST.TIMEOUT]:
        raise WorkloadError("late_answers: golden does not time both fetches out")
    w.pop_all()
    # above every memory's timing again (not the reset value: move_timeouts' failed slots may be met again)
    w.write(R.DMA_WATCHDOG, w.watchdog_margin())
    for key in keys:
        expect_command(w, OP.KV_FETCH, key, ST.OK)
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    w.dump()
    return keys


def restore_watchdog(w):
    w.write(R.DMA_WATCHDOG, w.field("DMA_WATCHDOG", "CYCLES", register_resets()[("DMA_WATCHDOG", "CYCLES")]))
    w.read(R.DMA_WATCHDOG)


def promote(w, key):
    """A PREFETCH hint for the next step, then that STEP_ADVANCE, with the watermarks lifted so
    the hot tier has room: the hint's prefetch brings the block hot. The watermarks are put back."""
    OP = R.OPCODE
    stored = w.model.stored
    watermarks = stored[("HEPC_WATERMARKS", "HIGH")] | stored[("HEPC_WATERMARKS", "LOW")] << 16
    w.write(R.HEPC_WATERMARKS, w.params.dir_entries | (w.params.dir_entries - 1) << 16)
    step = w.model.policy.hepc.step
    w.block_command(OP.PREFETCH, key, arg2=step + 1)
    w.write(R.STEP_ADVANCE, step + 1)
    w.settle()
    w.pop_all()
    w.write(R.HEPC_WATERMARKS, watermarks)


def free_key(w, session, layer, kv_head):
    """The first block key of (session, layer, kv_head) that is absent and whose directory set has
    a free way with a hot slot that answers: an append there is stored (the scenarios below need
    their blocks to exist)."""
    d, words = w.model.policy.dir, 1 << slot_shift(w.params)
    for block in range(1 << 16):
        s = d.set_of(session, layer, kv_head, block)
        free = d.free_ways(s)
        if (d.lookup(session, layer, kv_head, block) is None and free.size
                and not w.model.kv.meets_silence((R.TIER.HOT,), s * d.ways + int(free[0]), words)):
            return session, layer, kv_head, block
    raise WorkloadError(f"no free directory way for a block of session {session}, layer {layer}, head {kv_head}")


def image_forgotten(w, key):
    """A block appended and deleted, then its key inserted again without an image (DIR_INSERT
    takes the same entry) and evicted: the move carries no words, whatever the entry held before."""
    OP = R.OPCODE
    kv_append(w, key, kv_values(w.rng, 32, w.model.stored[("CQ_CTRL", "DIM")]))
    entry = w.model.policy.dir.lookup(*key)
    w.block_command(OP.DIR_DELETE, key)
    w.block_command(OP.DIR_INSERT, key, arg2=R.TIER.HOT)
    kv_check(w)
    if w.model.policy.dir.lookup(*key) != entry:
        raise WorkloadError("the re-inserted block should take the deleted block's entry")
    w.block_command(OP.EVICT, key, arg2=R.TIER.WARM)
    kv_check(w)


def prefetch_hit(w, key):
    """A block evicted to warm and brought back by a hint's prefetch: its first fetch finds it
    hot (PREFETCH_HITS), its second does not count again."""
    kv_append(w, key, kv_values(w.rng, 32, w.model.stored[("CQ_CTRL", "DIM")]))
    w.block_command(R.OPCODE.EVICT, key, arg2=R.TIER.WARM)
    promote(w, key)
    kv_fetch(w, key)
    kv_fetch(w, key)


def move_timeouts(w, session, layer, kv_head):
    """Moves the watchdog gives up on leave their block, and its directory entry, where it was:
    an EVICT into a warm slot that has stopped answering (the block stays hot), then a hint's
    prefetch out of a cold slot that has (the block stays cold and the hot count does not
    change). Two blocks appended (of session, layer, kv_head). DMA_WATCHDOG stays at a margin over every
    tier's timing: a later scan that picks the first block again meets its failed warm slot again,
    and each such timeout then costs that margin, not the reset value's 2^21 cycles."""
    OP, rng, ss = R.OPCODE, w.rng, slot_shift(w.params)
    dim = w.model.stored[("CQ_CTRL", "DIM")]
    keys = []
    for _ in range(2):
        keys.append(free_key(w, session, layer, kv_head))
        kv_append(w, keys[-1], kv_values(rng, 32, dim))
    first, second = (w.model.policy.dir.lookup(*key) for key in keys)
    w.write(R.DMA_WATCHDOG, w.watchdog_margin("hot", "warm", "cold"))
    w.fault("warm", first << ss)
    w.block_command(OP.EVICT, keys[0], arg2=R.TIER.WARM)
    w.block_command(OP.EVICT, keys[1], arg2=R.TIER.COLD)
    w.settle()
    w.pop_all()
    w.read(R.HEPC_STATUS)         # the hot count: the first block is still hot
    w.fault("cold", second << ss | 2)
    promote(w, keys[1])
    for entry in (first, second):
        w.read_window(entry)
    w.read(R.HEPC_STATUS)
    kv_fetch(w, keys[0])          # from hot, where it stayed
    kv_fetch(w, keys[1])          # from its cold slot, which no longer answers: TIMEOUT
    return keys


def codec_commands(w, count):
    """Seeded random KV traffic: appends in random modes, sizes and outlier settings (with the
    occasional refusal), fetches and span fetches of present and absent blocks, deletes,
    evictions to warm and cold, directory inserts, MARK_HOT and PREFETCH hints and step advances,
    and the rest of the opcodes between them (directory accesses, shared prefixes, session
    states, NOP, ECHO, unknown opcodes): the workload form of golden.data_plane.random_mix, with
    every opcode in the mix. Every completion and fetched value checked."""
    rng, OP, p = w.rng, R.OPCODE, w.params
    dims = [d for d in range(p.cq_lanes, min(p.cq_dim, 32) + 1, p.cq_lanes)]
    # sessions 1 and 2 and the shared prefix session 0 (whose blocks the spans may borrow)
    keys = [(s, layer, head, b) for s in (0, 1, 2) for layer in range(2) for head in range(3) for b in range(4)]
    for index in range(min(p.cq_rom_entries, 8)):
        write_rom(w, index, sorted(rng.sample(range(8), 4)))
    for _ in range(count):
        x = rng.random()
        key = rng.choice(keys)
        if x < 0.34:
            mode, dim = rng.randrange(3), rng.choice(dims)
            configure_codec(w, mode, dim, outliers=rng.choice([0, 1, 2, 2, 3, 4]), head_bits=2)
            tokens = rng.choice([32, 32, rng.randint(1, 31)])
            kv_append(w, key, kv_values(rng, tokens, dim), framing_ok=rng.random() > 0.05)
        elif x < 0.62:
            configure_codec(w, rng.randrange(3), rng.choice(dims[:2]))
            kv_fetch(w, key)
        elif x < 0.75:      # a span, most often from a stored block: one to three blocks of one or two heads
            stored = [k for k in keys if w.model.policy.dir.lookup(*k) is not None]
            session, layer, head, block = rng.choice(stored) if stored and rng.random() < 0.8 else key
            blocks = rng.choice((1, 1, 2, 3))
            block_fetch(w, session, layer, head, block * BLOCK_TOKENS,
                        rng.randint((blocks - 1) * BLOCK_TOKENS + 1, blocks * BLOCK_TOKENS), rng.choice((1, 1, 2)))
        elif x < 0.82:
            w.block_command(OP.DIR_DELETE, key)
        elif x < 0.88:
            w.block_command(OP.EVICT, key, arg2=rng.choice((0, R.TIER.WARM, R.TIER.COLD)))
        elif x < 0.91:
            w.block_command(OP.DIR_INSERT, key, arg2=R.TIER.HOT)
        elif x < 0.92:      # pinned: the scans leave it hot until an EVICT unpins it
            w.block_command(OP.MARK_HOT, key)
        elif x < 0.96:      # a hint: the next steps' scans may bring the block back hot
            w.block_command(OP.PREFETCH, key, arg2=w.model.policy.hepc.step + rng.randint(0, 4))
        elif x < 0.97:
            w.write(R.STEP_ADVANCE, w.model.policy.hepc.step + rng.randint(0, 2))
        else:
            other_command(w, key)
        kv_check(w)
        if rng.random() < 0.2:       # between the KV commands, the host's own traffic
            other_command(w, rng.choice(keys))
            kv_check(w)
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    w.dump()


def kv_command(w, key):
    """A KV path command on block key: an append of a few tokens (any mode, D = one codec beat:
    short in MyHDL), a fetch or a one-block span (refused where the key holds no image)."""
    rng = w.rng
    x = rng.random()
    if x < 0.4:
        configure_codec(w, rng.randrange(3), w.params.cq_lanes, outliers=0)
        kv_append(w, key, kv_values(rng, rng.randint(1, 8), w.params.cq_lanes))
    elif x < 0.7:
        kv_fetch(w, key)
    else:
        session, layer, head, block = key
        block_fetch(w, session, layer, head, (block % (1 << 24)) * BLOCK_TOKENS, BLOCK_TOKENS)


def frame_command(w, session):
    """NOP, ECHO (with its beats) or an opcode the die does not know (BAD_ARG)."""
    rng, OP = w.rng, R.OPCODE
    op = rng.choice((OP.NOP, OP.ECHO, rng.randrange(len(R.OPCODE_NAMES), 256)))
    if op == OP.ECHO:
        beats = rng.randint(1, 3)
        w.submit(op, session, arg0=beats)
        w.stream(beats)
    else:
        w.submit(op, session)


def other_command(w, key):
    """One of the opcodes the KV traffic does not send itself, on block key or its session."""
    rng, OP = w.rng, R.OPCODE
    op = rng.choice((OP.DIR_ACCESS, OP.DIR_ACCESS, OP.SHARE_PREFIX, OP.RELEASE, OP.SESSION_SET_STATE,
                     OP.STEP_ADVANCE, OP.NOP, OP.NOP))         # the second NOP: frame_command's share
    if op == OP.SESSION_SET_STATE:
        w.submit(op, key[0], arg0=rng.choice((0, 1, 1, 2, 3, 4, 5)))
    elif op == OP.STEP_ADVANCE:
        w.submit(op, 0, arg0=w.model.policy.hepc.step + rng.randint(0, 1))
    elif op == OP.NOP:
        frame_command(w, key[0])
    else:
        w.block_command(op, key)


KINDS = ("frame", "directed", "random", "policy", "decode", "mooncake", "codec", "main", "all")
MAIN_CODEC_COMMANDS = 100
# frame: directed + random; policy: policy_directed + policy_commands; decode: decode_replay
# (ops = steps); mooncake: mooncake_replay (ops = requests); codec: codec_directed,
# block_fetch_directed and codec_commands; main (the main job): decode_replay (ops = steps), then
# codec_directed, block_fetch_directed and MAIN_CODEC_COMMANDS codec_commands; all: every scenario (ops each, decode 32 steps)


def build(kind, params, ops, seed, delays=True, tiers=None):
    w = Workload(params, seed=seed, delays=delays, tiers=tiers)
    if kind not in KINDS:
        raise WorkloadError(f"unknown workload kind {kind!r}; choose one of {', '.join(KINDS)}")
    if kind in ("decode", "main") and ops > DECODE_SIM.steps:
        raise WorkloadError(f"the decode trace has {DECODE_SIM.steps} steps; kind {kind} replays ops = {ops} of them")
    if kind in ("frame", "directed", "all"):
        directed(w)
    if kind in ("frame", "random", "all"):
        random_accesses(w, ops)
    if kind in ("policy", "all"):
        policy_directed(w)
        policy_commands(w, ops)
    if kind in ("decode", "main"):
        decode_replay(w, ops)
    if kind == "main":
        codec_directed(w)
        block_fetch_directed(w)
        late_answers(w)
        codec_commands(w, MAIN_CODEC_COMMANDS)
    if kind == "mooncake":
        mooncake_replay(w, ops)
    if kind in ("codec", "all"):
        codec_directed(w)
        block_fetch_directed(w)
        codec_commands(w, ops)
    if kind == "all":
        decode_replay(w, 32)
    return w


DEFAULT_OPS = 20000  # the main job's random register operations
DEFAULT_SEED = 1


def fusesoc_generator():
    """FuseSoC generator entry: writes default.wl (parameters kind, ops, seed, set) and makes
    it the `workload` plusarg of the target."""
    gen = generator()
    cfg = gen.config or {}
    params = param_sets.get(cfg.get("set", "sim"))
    w = build(cfg.get("kind", "frame"), params, int(cfg.get("ops", DEFAULT_OPS)), int(cfg.get("seed", DEFAULT_SEED)))
    Path("default.wl").write_text(w.text())
    gen.add_files([{"default.wl": {"file_type": "user"}}], fileset="workload")
    gen.add_parameter("workload", {"datatype": "str", "paramtype": "plusarg",
                                   "default": os.path.abspath("default.wl"),
                                   "description": "workload file to replay"})
    gen.write()


def main(argv=None):
    ap = command_line(__doc__, argv, fusesoc_generator)
    if ap is None:
        return 0
    ap.add_argument("--kind", choices=KINDS, default="frame")
    ap.add_argument("--set", default="sim", choices=sorted(param_sets.PARAM_SETS))
    ap.add_argument("--ops", type=int, default=DEFAULT_OPS, help=f"random register operations (default {DEFAULT_OPS})")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--no-delays", action="store_true", help="drive every AXI channel without waits")
    ap.add_argument("--tier", action="append", default=[], metavar="NAME=LATENCY,INTERVAL",
                    help="the memory behind a tier port, in cycles (default: "
                    + ", ".join(f"{n} from {TIER_MEMORY[n][0] * 1e9:g} ns, {TIER_MEMORY[n][1] / 1e9:g} GB/s" for n in DIE_TIERS)
                    + " at the set's clock)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    if args.ops < 0:
        ap.error("--ops must be >= 0")

    params = param_sets.get(args.set)
    tiers = {n: tier_timing(params, n) for n in DIE_TIERS}
    for spec in args.tier:
        name, _, timing = spec.partition("=")
        try:
            latency, interval = (int(v) for v in timing.split(","))
        except ValueError:
            ap.error(f"--tier {spec!r}: expected NAME=LATENCY,INTERVAL")
        if name not in DIE_TIERS:
            ap.error(f"--tier {spec!r}: the die's tier ports are {', '.join(DIE_TIERS)}")
        if latency < 1 or interval < 1:
            ap.error(f"--tier {spec!r}: latency and interval are at least 1 cycle")
        tiers[name] = (latency, interval)
    try:
        w = build(args.kind, params, args.ops, args.seed, delays=not args.no_delays, tiers=tiers)
    except (WorkloadError, FileNotFoundError) as e:
        ap.error(str(e))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(w.text())
    print(f"{args.out}: {len(w.lines) - w.header_lines} operations ({args.kind}, set {args.set}, seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Workload files: what the `sim` target, the MyHDL bench and the co-simulation replay.

A workload is a text file, one operation a line, with its expected results computed
by the golden model as the file is written:

    kv1-workload 1
    set <param set>
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

Numbers are hexadecimal for addr/data/mask/strb, decimal otherwise. S and E lines take
no time; they feed stream engines that run beside the register operations.

    python -m golden.workload --kind frame --ops 2000 --seed 1 --out build/frame.wl
"""
import os
import random
import sys
from pathlib import Path

from golden import kv1_regs as R
from golden.frame import FrameModel, RESP_OKAY, RESP_SLVERR, FULL_STROBE, ECHO_MAX_BEATS
from hdl import params as param_sets
from hdl.common.fusesoc_gen import command_line, generator

MAGIC = "kv1-workload 1"
POLL_LIMIT = 4096
QUIESCE_LIMIT = 100000


class WorkloadError(ValueError):
    pass


class Workload:
    """Builds a workload and its expectations together, through the golden model."""

    def __init__(self, params, seed=0, delays=True):
        self.params = params
        self.model = FrameModel(params)
        self.rng = random.Random(seed)
        self.delays = delays
        self.lines = [MAGIC, f"set {params.name}"]
        self.pending_out = 0  # E lines the golden model has produced beats for

    # ---------------------------------------------------------------- timing
    def _delay(self):
        if not self.delays:
            return 0
        r = self.rng.random()
        return 0 if r < 0.5 else self.rng.randint(1, 3) if r < 0.9 else self.rng.randint(4, 12)

    # --------------------------------------------------------------- raw ops
    def write(self, addr, data, strb=FULL_STROBE):
        resp = self.model.write(addr, data, strb)
        self.lines.append(f"W {addr:x} {data:x} {strb:x} {resp} {self._delay()} {self._delay()} {self._delay()}")
        self._emit_outputs()
        return resp

    def read(self, addr):
        data, mask, resp = self.model.read(addr)
        self.lines.append(f"R {addr:x} {data:x} {mask:x} {resp} {self._delay()} {self._delay()}")
        return data, mask, resp

    def poll(self, addr, field_mask, value):
        data, mask, resp = self.model.read(addr)
        if resp != RESP_OKAY or (data & field_mask) != value or (mask & field_mask) != field_mask:
            raise WorkloadError(f"poll of {addr:#x} for {value:#x} would never end (golden reads {data:#x})")
        self.model.polled()
        self.lines.append(f"P {addr:x} {value:x} {field_mask:x} {POLL_LIMIT}")

    def offer(self, data, last):
        self.model.offer(data, last)
        self.lines.append(f"S {data:x} {int(last)} {self._delay()}")
        self._emit_outputs()

    def quiesce(self):
        if len(self.model.rx) > self.params.axis_fifo_depth:
            raise WorkloadError("quiesce with more beats offered than the ingress queue holds")
        self.lines.append(f"Q {QUIESCE_LIMIT}")

    def check_irq(self):
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

    def submit(self, opcode, session=0, arg0=None):
        if arg0 is not None:
            self.write(R.CMD_ARG0, arg0)
        return self.write(R.CMD_DOORBELL, self.field("CMD_DOORBELL", "OPCODE", opcode)
                          | self.field("CMD_DOORBELL", "SESSION", session))

    def settle(self):
        """Wait, by polling, until the die has done all it can (no timing-dependent state left)."""
        self.poll(R.CPL_STATUS, self.mask_of("CPL_STATUS", "COUNT"), len(self.model.cplq))
        self.poll(R.CMD_STATUS, self.mask_of("CMD_STATUS", "LEVEL"), len(self.model.cmdq))
        self.quiesce()

    def pop_all(self):
        """Read and retire every completion, as a driver's completion handler would."""
        while self.model.cplq:
            for reg in ("CPL_HEAD", "CPL_BYTES", "CPL_SESSION"):
                self.read(getattr(R, reg))
            self.write(R.CPL_POP, self.rng.getrandbits(32))
            self.settle()

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
        return "\n".join(self.lines) + "\n"


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


KINDS = ("frame", "directed", "random")


def build(kind, params, ops, seed, delays=True):
    w = Workload(params, seed=seed, delays=delays)
    if kind in ("frame", "directed"):
        directed(w)
    if kind in ("frame", "random"):
        random_accesses(w, ops)
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
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    if args.ops < 0:
        ap.error("--ops must be >= 0")
    w = build(args.kind, param_sets.get(args.set), args.ops, args.seed, delays=not args.no_delays)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(w.text())
    print(f"{args.out}: {len(w.lines) - 2} operations ({args.kind}, set {args.set}, seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

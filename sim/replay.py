"""Workload replayer: the test bench's per-clock-edge state machine.

The same machine, line for line, is sim/verilator/tb_kv1_die.cpp, so MyHDL, Icarus
co-simulation and Verilator drive the die identically and write identical logs. The C++ bench
parses nothing: it has `python -m sim.replay` read and check the workload (the one reader,
golden/workload/format.py) and write the checked operation stream it replays (checked_stream):

    <cycle> op <index> <kind> <value> <value>   a register/wait operation completed
    <cycle> in <beat>                           s_axis beat accepted
    <cycle> out <beat> <data> <last>            m_axis beat received
    <cycle> end <operations>

At each rising edge the bench (1) takes the handshakes from the values it drove and
the die's outputs sampled just before the edge, (2) advances the input stream, then
the output stream, the tier memories (hot, warm, cold), then the register operation, fetching
the next operations, and (3) computes what to drive for the next cycle.

The memory behind each of the die's tier ports (TierMemory): words read as zero until
written; each direction accepts one word per `interval` cycles; each read is answered, and each
write acknowledged, `latency` cycles after its request was accepted, in order, with the request's
tag. The workload's
`tier` line for the tier sets both (default 1 and 1). A silent slot (2^slot_shift words; the dma
bench uses them, the die's workloads name single words in `silent` lines, or in F lines from
that point on) takes its requests and never answers: nothing written, nothing read, nothing
acknowledged.
"""
import argparse
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from golden.workload.format import DIE_TIERS, Op, WorkloadFormatError, parse

RESET_CYCLES = 4
OP_TIMEOUT = 1000          # cycles a W/R (or one poll read) may wait for its response
MAX_CYCLES = 10**9         # the benches' default limit on a whole replay (a bench option raises it)
END_DRAIN_LIMIT = 4096     # cycles the streams may take to drain after the last operation
DRIVEN = ("rst_ni", "s_axil_awvalid", "s_axil_awaddr", "s_axil_awuser", "s_axil_wvalid", "s_axil_wdata", "s_axil_wstrb",
          "s_axil_bready", "s_axil_arvalid", "s_axil_araddr", "s_axil_aruser", "s_axil_rready",
          "s_axis_tvalid", "s_axis_tdata", "s_axis_tlast", "s_axis_tuser", "m_axis_tready") + tuple(
          f"{t}_{n}" for t in DIE_TIERS for n in ("wr_ready_i", "rd_ready_i", "rsp_valid_i", "rsp_tag_i", "rsp_data_i",
                                                   "wr_ack_i", "wr_ack_tag_i"))
SAMPLED = ("s_axil_awready", "s_axil_wready", "s_axil_bvalid", "s_axil_bresp", "s_axil_arready",
           "s_axil_rvalid", "s_axil_rdata", "s_axil_rresp", "s_axis_tready",
           "m_axis_tvalid", "m_axis_tdata", "m_axis_tlast", "irq_o") + tuple(
           f"{t}_{n}" for t in DIE_TIERS for n in ("wr_valid_o", "wr_addr_o", "wr_data_o", "wr_tag_o", "rd_valid_o",
                                                   "rd_addr_o", "rd_tag_o"))


@dataclass
class Beat:
    data: int
    last: int
    delay: int
    domain: int = 0        # s_axis_tuser: the requester domain of the U line before the S line
    wait: int = 0


class TierMemory:
    """A tier's memory as the bench attaches it (the module docstring)."""

    def __init__(self, latency=1, interval=1, slot_shift=0, silent=()):
        self.latency, self.interval = latency, interval
        self.slot_shift, self.silent = slot_shift, set(silent)
        self.words = {}
        self.responses = deque()   # (edge to drive it after, word, tag)
        self.acks = deque()        # (edge to drive a write acknowledge after, tag)
        self.write_free = self.read_free = 0   # first edge each direction accepts again

    def accept(self, n, write, read):
        """Edge n: the write (address, word, tag) and read (address, tag) accepted, or None."""
        if write is not None:
            if write[0] >> self.slot_shift not in self.silent:
                self.words[write[0]] = write[1]
                self.acks.append((n + self.latency - 1, write[2]))
            self.write_free = n + self.interval
        if read is not None:
            if read[0] >> self.slot_shift not in self.silent:
                self.responses.append((n + self.latency - 1, self.words.get(read[0], 0), read[1]))
            self.read_free = n + self.interval

    def drive(self, n):
        """-> (write ready, read ready, response valid, response tag, response word, write
        acknowledge, its tag) for the cycle after edge n."""
        valid, tag, word, ack, ack_tag = 0, 0, 0, 0, 0
        if self.responses and self.responses[0][0] == n:
            _, word, tag = self.responses.popleft()
            valid = 1
        if self.acks and self.acks[0][0] == n:
            ack, ack_tag = 1, self.acks.popleft()[1]
        return int(n + 1 >= self.write_free), int(n + 1 >= self.read_free), valid, tag, word, ack, ack_tag


@dataclass
class Replayer:
    ops: list
    tiers: dict = field(default_factory=dict)
    silent: dict = field(default_factory=dict)
    drive: dict = field(default_factory=lambda: {n: 0 for n in DRIVEN})
    log: list = field(default_factory=list)
    error: str = None
    done: bool = False
    cycle: int = 0
    pc: int = 0
    op: Op = None
    k: int = 0
    a_done: bool = False   # AW (or AR) accepted
    w_done: bool = False
    reads: int = 0
    beats_in: int = 0
    beats_out: int = 0
    max_cycles: int = MAX_CYCLES
    drain: int = 0         # cycles waited for the streams after the last operation

    def __post_init__(self):
        self.in_q, self.out_q = [], []
        self.domain = 0             # the requester domain W, R and P lines carry (U lines)
        self.memories = {t: TierMemory(*self.tiers.get(t, (1, 1)), silent=self.silent.get(t, ()))
                         for t in DIE_TIERS}

    def _fail(self, msg):
        where = f"line {self.op.line}: " if self.op else ""
        self.error = f"cycle {self.cycle}: {where}{msg}"
        self.done = True

    def _complete(self, a=0, b=0):
        self.log.append(f"{self.cycle} op {self.pc - 1} {self.op.kind} {a:x} {b:x}")
        self.op = None

    def edge(self, s):
        """One rising edge; `s` holds the SAMPLED outputs as ints."""
        n = self.cycle
        d = self.drive
        if n >= self.max_cycles:
            return self._fail(f"the replay reached its limit of {self.max_cycles} cycles")
        if n < RESET_CYCLES:
            d["rst_ni"] = int(n == RESET_CYCLES - 1)
            self.cycle += 1
            return
        aw = d["s_axil_awvalid"] and s["s_axil_awready"]
        w = d["s_axil_wvalid"] and s["s_axil_wready"]
        b = s["s_axil_bvalid"] and d["s_axil_bready"]
        ar = d["s_axil_arvalid"] and s["s_axil_arready"]
        r = s["s_axil_rvalid"] and d["s_axil_rready"]
        si = d["s_axis_tvalid"] and s["s_axis_tready"]
        mo = s["m_axis_tvalid"] and d["m_axis_tready"]

        if si:
            self.log.append(f"{n} in {self.beats_in}")
            self.beats_in += 1
            self.in_q.pop(0)
        elif self.in_q:
            self.in_q[0].wait += 1
        if mo:
            exp = self.out_q.pop(0)
            self.log.append(f"{n} out {self.beats_out} {s['m_axis_tdata']:x} {s['m_axis_tlast']}")
            self.beats_out += 1
            if s["m_axis_tdata"] != exp.data or s["m_axis_tlast"] != exp.last:
                return self._fail(f"m_axis beat {self.beats_out - 1}: got {s['m_axis_tdata']:x}/{s['m_axis_tlast']}, "
                                  f"expected {exp.data:x}/{exp.last}")
        elif self.out_q:
            self.out_q[0].wait += 1
        for t, memory in self.memories.items():
            wr = s[f"{t}_wr_valid_o"] and d[f"{t}_wr_ready_i"]
            rd = s[f"{t}_rd_valid_o"] and d[f"{t}_rd_ready_i"]
            memory.accept(n, (s[f"{t}_wr_addr_o"], s[f"{t}_wr_data_o"], s[f"{t}_wr_tag_o"]) if wr else None,
                          (s[f"{t}_rd_addr_o"], s[f"{t}_rd_tag_o"]) if rd else None)

        if self.op is not None:
            self._step(s, aw, w, b, ar, r)
            if self.error:
                return
        while self.op is None and self.pc < len(self.ops):
            op = self.ops[self.pc]
            self.pc += 1
            if op.kind == "S":
                self.in_q.append(Beat(*op.args, domain=self.domain))
            elif op.kind == "E":
                self.out_q.append(Beat(*op.args))
            elif op.kind == "F":
                self.memories[DIE_TIERS[op.args[0]]].silent.add(op.args[1])
            elif op.kind == "U":
                self.domain = op.args[0]
            else:
                self.op, self.k, self.a_done, self.w_done, self.reads = op, 0, False, False, 0
        if self.op is None and self.pc >= len(self.ops):
            if s["m_axis_tvalid"] and not self.out_q:
                return self._fail("m_axis offers a beat that no E line expects")
            if not self.in_q and not self.out_q:
                self.log.append(f"{n} end {len(self.ops)}")
                self.done = True
            elif self.drain == END_DRAIN_LIMIT:
                return self._fail(f"the workload ended, and in {END_DRAIN_LIMIT} cycles {len(self.out_q)} expected "
                                  f"m_axis beats did not come and {len(self.in_q)} s_axis beats were not taken")
            else:
                self.drain += 1
        self._drive()
        self.cycle += 1

    def _step(self, s, aw, w, b, ar, r):
        op, k = self.op, self.k
        a = op.args
        if op.kind == "W":
            self.a_done |= bool(aw)
            self.w_done |= bool(w)
            if b:
                if not (self.a_done and self.w_done):
                    return self._fail("write response before address and data were accepted")
                if s["s_axil_bresp"] != a[3]:
                    return self._fail(f"write {a[0]:x}: bresp {s['s_axil_bresp']}, expected {a[3]}")
                return self._complete(s["s_axil_bresp"])
            if k >= OP_TIMEOUT:
                return self._fail(f"write {a[0]:x}: no response")
        elif op.kind == "R":
            self.a_done |= bool(ar)
            if r:
                got, resp = s["s_axil_rdata"], s["s_axil_rresp"]
                if (got & a[2]) != a[1] or resp != a[3]:
                    return self._fail(f"read {a[0]:x}: got {got:x}/resp {resp}, expected {a[1]:x} "
                                      f"(mask {a[2]:x})/resp {a[3]}")
                return self._complete(got, resp)
            if k >= OP_TIMEOUT:
                return self._fail(f"read {a[0]:x}: no response")
        elif op.kind == "P":
            self.a_done |= bool(ar)
            if r:
                self.reads += 1
                got = s["s_axil_rdata"]
                if s["s_axil_rresp"] == 0 and (got & a[2]) == a[1]:
                    return self._complete(got, self.reads)
                if self.reads >= a[3]:
                    return self._fail(f"poll {a[0]:x}: {self.reads} reads, last {got:x}, waiting for {a[1]:x}")
                self.a_done, self.k = False, 0
                return
            if k >= OP_TIMEOUT:
                return self._fail(f"poll {a[0]:x}: no response")
        elif op.kind == "Q":
            if not self.in_q and not self.out_q:
                return self._complete()
            if k >= a[0]:
                return self._fail(f"streams did not drain: {len(self.in_q)} beats unsent, "
                                  f"{len(self.out_q)} expected beats missing")
        elif op.kind == "I":
            if s["irq_o"] != a[0]:
                return self._fail(f"irq_o is {s['irq_o']}, expected {a[0]}")
            return self._complete(s["irq_o"])
        elif op.kind == "C":
            if k + 1 >= a[0]:
                return self._complete()
        self.k += 1

    def _drive(self):
        d, op, k = self.drive, self.op, self.k
        for n in DRIVEN[1:]:
            d[n] = 0
        if op is not None:
            a = op.args
            if op.kind == "W":
                d["s_axil_awvalid"] = int(not self.a_done and k >= a[4])
                d["s_axil_awaddr"] = a[0]
                d["s_axil_awuser"] = self.domain
                d["s_axil_wvalid"] = int(not self.w_done and k >= a[5])
                d["s_axil_wdata"] = a[1]
                d["s_axil_wstrb"] = a[2]
                d["s_axil_bready"] = int(k >= a[6])
            elif op.kind == "R":
                d["s_axil_arvalid"] = int(not self.a_done and k >= a[4])
                d["s_axil_araddr"] = a[0]
                d["s_axil_aruser"] = self.domain
                d["s_axil_rready"] = int(k >= a[5])
            elif op.kind == "P":
                d["s_axil_arvalid"] = int(not self.a_done)
                d["s_axil_araddr"] = a[0]
                d["s_axil_aruser"] = self.domain
                d["s_axil_rready"] = 1
        if self.in_q:
            head = self.in_q[0]
            d["s_axis_tvalid"] = int(head.wait >= head.delay)
            d["s_axis_tdata"] = head.data
            d["s_axis_tlast"] = head.last
            d["s_axis_tuser"] = head.domain
        if self.out_q:
            head = self.out_q[0]
            d["m_axis_tready"] = int(head.wait >= head.delay)
        for t, memory in self.memories.items():
            (d[f"{t}_wr_ready_i"], d[f"{t}_rd_ready_i"], d[f"{t}_rsp_valid_i"], d[f"{t}_rsp_tag_i"],
             d[f"{t}_rsp_data_i"], d[f"{t}_wr_ack_i"], d[f"{t}_wr_ack_tag_i"]) = memory.drive(self.cycle)


CHECKED = "kv1-checked 1"


def checked_stream(text, model_set=None):
    """Workload `text`, read and checked (parse, refused for a model built for another set), as
    the operation stream the Verilator bench replays: the set, each tier's timing and silent words,
    then one line per operation (its kind, its line number and its fields), numbers in hex."""
    set_name, ops, tiers, silent = parse(text, model_set)
    lines = [CHECKED, f"set {set_name}"]
    for code, name in enumerate(DIE_TIERS):
        latency, interval = tiers.get(name, (1, 1))
        lines.append(f"tier {code} {latency:x} {interval:x}")
        lines += [f"silent {code} {addr:x}" for addr in sorted(silent.get(name, ()))]
    lines += [" ".join([op.kind, f"{op.line:x}", *(f"{a:x}" for a in op.args)]) for op in ops]
    return "\n".join(lines + ["end"]) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description="Read and check a workload; write its checked operation stream "
                                 "(the Verilator bench's input)")
    ap.add_argument("workload")
    ap.add_argument("--out", required=True, help="the checked stream")
    ap.add_argument("--model-set", help="refuse a workload for another parameter set")
    ap.add_argument("--prog", default="sim.replay", help="the name its messages start with")
    args = ap.parse_args(argv)
    try:
        text = Path(args.workload).read_text()
    except (OSError, UnicodeDecodeError) as e:
        print(f"{args.prog}: cannot read workload {args.workload}: {e.strerror if isinstance(e, OSError) else e}",
              file=sys.stderr)
        return 2
    try:
        stream = checked_stream(text, args.model_set)
    except WorkloadFormatError as e:
        print(f"{args.prog}: {args.workload}: {e}", file=sys.stderr)
        return 2
    Path(args.out).write_text(stream)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

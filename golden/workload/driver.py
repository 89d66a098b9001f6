"""The host-driver model of a workload: every register access, stream beat and wait a driver
makes, written as a workload line with its expected result from the golden model (golden.frame),
and the driver-level helpers the scenarios share (codec set-up, appends, fetches, checks)."""
import random

from golden import kv1_regs as R
from golden.frame import FrameModel, RESP_OKAY, FULL_STROBE, register_resets
from golden.kvpath import in_time_watchdog, slot_shift, to_beats
from golden.workload.format import MAGIC, DIE_TIERS, end_line, tier_timing


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
        self.stream_wait = 0  # cycles of stream timeouts the next poll allows for
        self.unsettled = 0    # commands submitted since the die last settled (the model ran them at once)
        self.domain = 0       # the requester domain the accesses carry (s_axil_awuser/aruser; U lines)
        self.completions = []  # the status of every completion pop_all retired, in order

    # ---------------------------------------------------------------- timing
    def _delay(self):
        if not self.delays:
            return 0
        r = self.rng.random()
        return 0 if r < 0.5 else self.rng.randint(1, 3) if r < 0.9 else self.rng.randint(4, 12)

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

    def as_domain(self, domain):
        """From now on the reads and writes carry requester domain `domain` (a U line)."""
        if domain != self.domain:
            self.domain = domain
            self.lines.append(f"U {domain}")

    def write(self, addr, data, strb=FULL_STROBE):
        self._settle_before_write(addr)
        resp = self.model.write(addr, data, strb, self.domain)
        self.lines.append(f"W {addr:x} {data:x} {strb:x} {resp} {self._delay()} {self._delay()} {self._delay()}")
        if addr in (R.CMD_DOORBELL, R.STEP_ADVANCE) and resp == RESP_OKAY:
            self.unsettled += 1
        self._emit_outputs()
        return resp

    def read(self, addr):
        self._settle_before_read(addr)
        data, mask, resp = self.model.read(addr, self.domain)
        self.lines.append(f"R {addr:x} {data:x} {mask:x} {resp} {self._delay()} {self._delay()}")
        return data, mask, resp

    def poll(self, addr, field_mask, value):
        data, mask, resp = self.model.read(addr, self.domain)
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
        cycles += self.stream_wait
        self.stream_wait = 0
        return cycles

    def offer(self, data, last):
        """A beat on s_axis, of the current requester domain (s_axis_tuser)."""
        self.model.offer(data, last, self.domain)
        self.lines.append(f"S {data:x} {int(last)} {self._delay()}")
        self._emit_outputs()

    def stream_timeout(self):
        """The stream command in flight gets no beat of its own: it times out after STREAM_TIMEOUT
        cycles (the next poll waits for them)."""
        self.model.stream_timeout()
        self.stream_wait += self.model.stored[("STREAM_TIMEOUT", "CYCLES")]
        self.unsettled += 1
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
            if value is not None and self.stored_value(reg) != value:
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
            self.completions.append(self.model.cplq[0].status)
            for reg in ("CPL_HEAD", "CPL_BYTES", "CPL_SESSION"):
                self.read(getattr(R, reg))
            self.write(R.CPL_POP, self.rng.getrandbits(32))
            self.settle()

    def stored_value(self, offset):
        """The value golden holds in the writable register at `offset` (its fields packed)."""
        reg = R.BY_OFFSET[offset]
        return sum(self.model.stored[(reg.name, f.name)] << f.lsb for f in reg.fields)

    def block_command(self, opcode, key, arg2=None):
        """A directory or policy command on block key (session, layer, kv_head, block index)."""
        session, layer, head, index = key
        return self.submit(opcode, session, arg0=index, arg1=layer | head << 8, arg2=arg2)

    def read_window(self, index):
        """-> the eight words of the slot the window shows this domain."""
        self.write(R.DIR_WIN_INDEX, index)
        return [self.read(getattr(R, f"DIR_WIN_DATA{k}"))[0] for k in range(8)]

    def read_qos_window(self, index):
        """-> QOS_WIN_SESSION .. QOS_WIN_STALL of session table entry `index`, as this domain sees them."""
        self.write(R.QOS_WIN_INDEX, index)
        return [self.read(getattr(R, f"QOS_WIN_{k}"))[0] for k in ("SESSION", "TOKENS", "BYTES", "COMMANDS", "STALL")]

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


def append_beats(w, x):
    """The s_axis beats that carry K/V x ([2][n][D] fp16) to a KV_APPEND."""
    return to_beats(x.astype("<f2").tobytes(), w.params.axis_bytes)


def send_append(w, key, x, framing_ok=True, tokens=None):
    """KV_APPEND of K/V x ([2][n][D] fp16) for block key, and its beats; `tokens` overrides the
    count. Its completion is left in the queue."""
    n = x.shape[1] if tokens is None else tokens
    w.block_command(R.OPCODE.KV_APPEND, key, arg2=n)
    if w.model.kv.append_beats(n, w.model.stored) is not None:   # else refused, nothing to send
        beats = append_beats(w, x)
        for i, b in enumerate(beats):
            w.offer(b, i == len(beats) - (1 if framing_ok else 2))


def kv_append(w, key, x, framing_ok=True, tokens=None):
    """send_append, then its completion checked and retired."""
    send_append(w, key, x, framing_ok, tokens)
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


def open_session(w, session, budget=0, priority=0, profile=0, version=0, want=R.STATUS.OK):
    """SESSION_OPEN for the workload's current domain, answered `want` (checked when written)."""
    arg2 = priority | profile << 8 | version << 16
    w.submit(R.OPCODE.SESSION_OPEN, session, arg0=budget, arg2=arg2)
    expect_status(w, want, f"SESSION_OPEN of session {session}")


def ensure_open(w, *sessions):
    """Open each of `sessions` that is not open yet (as the current domain)."""
    for s in sessions:
        if s and w.model.plane.sessions.get(s) is None:
            open_session(w, s)


def session_command(w, opcode, session, arg0=None, want=R.STATUS.OK):
    """SESSION_SET_STATE (state arg0) or SESSION_CLOSE, answered `want`."""
    w.submit(opcode, session, arg0=arg0)
    expect_status(w, want, f"{R.OPCODE_NAMES[opcode]} of session {session}")


def expect_status(w, want, what):
    expect_statuses(w, [want], what)


def expect_statuses(w, wants, what):
    """Settle, check the last len(wants) completions' statuses against `wants`, retire them all."""
    w.settle()
    got = [c.status for c in list(w.model.cplq)[-len(wants):]]
    if got != list(wants):
        shown = (got[0], wants[0]) if len(wants) == len(got) == 1 else (got, wants)
        raise WorkloadError(f"{what}: golden answers status {shown[0]}, the scenario meant {shown[1]}")
    w.pop_all()


def kv_check(w):
    """Wait for the command, check and retire its completion."""
    w.settle()
    w.pop_all()


def expect_command(w, opcode, key, want):
    """A block command the scenario means to answer `want`; checked against golden when written."""
    w.block_command(opcode, key)
    expect_status(w, want, f"{R.OPCODE_NAMES[opcode]} of {key}")


def restore_watchdog(w):
    w.write(R.DMA_WATCHDOG, w.field("DMA_WATCHDOG", "CYCLES", register_resets()[("DMA_WATCHDOG", "CYCLES")]))
    w.read(R.DMA_WATCHDOG)

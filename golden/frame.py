"""Golden model of the KV-1 frame: register map, command queue, completions, IRQ, perf.

Transaction level and settled: after every access the model runs the command engine
as far as it can go, which is the state the die reaches once it has nothing left to
do. A workload may only observe state that does not depend on timing (see
golden.workload.driver, which polls before it looks); values the model cannot know — the
cycle counter, or read counts after a poll whose length depends on timing — come
back with a zero compare mask. The commands themselves run in golden.data_plane: a command's
moves between tiers are part of it (its completion waits for them).
"""
from collections import deque
from dataclasses import dataclass

from golden import kv1_regs as R
from golden.data_plane import DataPlane, TABLE_OPCODES, register_resets
from golden.kvpath import to_beats
from golden.policy_engine import POLICY_OPCODES
from golden.rtbd import SLOT_BYTES, Entry
from golden.session import MANAGEMENT_DOMAIN, QOS_WINDOW

# the commands that take s_axis beats
STREAM_OPCODES = (R.OPCODE.ECHO, R.OPCODE.KV_APPEND)

RESP_OKAY = 0
RESP_SLVERR = 2
FULL_STROBE = (1 << (R.DATA_WIDTH // 8)) - 1
ECHO_MAX_BEATS = 2**16 - 1
WORD_MASK = 2**R.DATA_WIDTH - 1
COUNTER_MAX = 2**32 - 1


@dataclass
class Command:
    opcode: int
    session: int
    fence: int
    domain: int
    arg0: int
    arg1: int = 0
    arg2: int = 0
    status: int = R.STATUS.OK
    nbytes: int = 0
    remaining: int = 0
    framing_err: bool = False
    ready: bool = False  # finished, waiting to post its completion
    timed_out: bool = False   # a stream command whose beats STREAM_TIMEOUT gave up on
    beats: list = None   # KV_APPEND: the beats consumed so far


@dataclass(frozen=True)
class Beat:
    data: int
    last: bool
    domain: int = 0      # an s_axis beat's requester domain (s_axis_tuser); m_axis beats carry none


class FrameModel:
    def __init__(self, params):
        self.params = params
        self.beat_bytes = params.axis_bytes
        self.stored = register_resets()
        self.cmdq = deque()
        self.inflight = None
        self.cplq = deque()
        self.next_fence = 0
        self.rx = deque()        # beats offered on s_axis and not yet consumed (queue + host side)
        self.tx_out = []         # beats the die has produced on m_axis, in order
        self.rx_entered = 0      # beats that have entered the die's ingress queue
        self.rx_consumed = 0
        n = len(R.PERF_EVENTS)
        self.live = [0] * n
        self.live_known = [True] * n
        self.shadow = [0] * n
        self.shadow_known = [True] * n
        # a cycle count: no transaction model knows it
        self.timing_events = {R.PERF_EVENTS.index(e) for e in R.PERF_EVENTS
                              if e == "HEPC_SCAN_CYCLES" or e.startswith("FETCH_STALL_")}
        self.plane = DataPlane(params, self.stored)
        self.policy = self.plane.policy
        self.kv = self.plane.kv

    # ------------------------------------------------------------------ helpers
    def _rom_index(self):
        return self._field("CQ_ROM_INDEX", "INDEX")

    def _count(self, event, n=1):
        i = R.PERF_EVENTS.index(event)
        self.live[i] = min(self.live[i] + n, COUNTER_MAX)

    def _field(self, reg, field):
        return self.stored[(reg, field)]

    def _busy(self, reg):
        if reg == "CMD_DOORBELL":
            return len(self.cmdq) >= self.params.cmdq_depth
        if reg == "CPL_POP":
            return not self.cplq
        if reg == "STEP_ADVANCE":
            return len(self.cmdq) >= self.params.cmdq_depth
        if reg == "CQ_ROM_WRITE":
            return self._rom_index() >= len(self.kv.rom)
        raise KeyError(reg)

    def _hw_value(self, reg, field):
        """Value of a read-only field driven by hardware."""
        head = self.cplq[0] if self.cplq else None
        table = {
            ("CMD_STATUS", "LEVEL"): len(self.cmdq),
            ("CMD_STATUS", "NEXT_FENCE"): self.next_fence,
            ("STREAM_STATUS", "RX_LEVEL"): min(len(self.rx), self.params.axis_fifo_depth),
            ("STREAM_STATUS", "TX_LEVEL"): 0,  # observed only once m_axis has drained
            ("CPL_SESSION", "SESSION"): head.session if head else 0,
            ("CPL_STATUS", "COUNT"): len(self.cplq),
            ("CPL_HEAD", "FENCE"): head.fence if head else 0,
            ("CPL_HEAD", "STATUS"): head.status if head else 0,
            ("CPL_HEAD", "OPCODE"): head.opcode if head else 0,
            ("CPL_BYTES", "BYTES"): head.nbytes if head else 0,
            ("HEPC_STEP", "STEP"): self.policy.hepc.step,
            ("HEPC_STATUS", "HOT"): self.policy.hot_count(),
            ("HEPC_STATUS", "HINTS"): len(self.policy.hepc.hints),
            ("HEPC_STATUS", "DECODE"): len(self.plane.sessions.decoding),
            ("CQ_ROM_DATA", "CHANNELS"): (self.kv.rom[self._rom_index()]
                                          if self._rom_index() < len(self.kv.rom) else 0),
        }
        return table[(reg, field)]

    def irq_level(self):
        return bool((self._field("IRQ_STATUS", "CPL") and self._field("IRQ_ENABLE", "CPL"))
                    or (self._field("IRQ_STATUS", "ERR") and self._field("IRQ_ENABLE", "ERR")))

    # ------------------------------------------------------------ bus accesses
    def read(self, addr, user=0):
        """-> (data, compare mask, resp); `user` is the read's s_axil_aruser, its requester domain
        (the directory window shows it only what it may see)."""
        reg = R.BY_OFFSET.get(addr)
        self._count("BUS_READS")
        if reg is None:
            self._count("BUS_ERRORS")
            return 0, WORD_MASK, RESP_SLVERR
        data, mask = 0, WORD_MASK
        for f in reg.fields:
            if f.access == "wo":
                continue
            if f.access in ("rw", "w1c"):
                v = self._field(reg.name, f.name)
            elif f.const is not None:
                v = f.const
            elif f.param is not None:
                v = getattr(self.params, f.param)
            elif f.port == "perf_cycle_i":
                v = 0
                mask &= ~(((1 << f.width) - 1) << f.lsb)
            elif f.port == "perf_count_i":
                i = f.port_lsb // 32
                v = self.shadow[i]
                if not self.shadow_known[i] or i in self.timing_events:
                    mask &= ~(((1 << f.width) - 1) << f.lsb)
            elif f.port == "dir_window_i":
                assert reg.guard == "dir_window_visible_i"
                v = (self._window(user) >> f.port_lsb) & ((1 << f.width) - 1)
            elif f.port == "qos_window_i":
                assert reg.guard == "qos_window_visible_i"
                words, owner = self.plane.sessions.qos_window(self._field("QOS_WIN_INDEX", "INDEX"))
                v = words[f.port_lsb // 32] if user in (MANAGEMENT_DOMAIN, owner) else 0
                if QOS_WINDOW[f.port_lsb // 32] == "stall":      # cycles
                    mask &= ~(((1 << f.width) - 1) << f.lsb)
            else:
                v = self._hw_value(reg.name, f.name)
            data |= (v & ((1 << f.width) - 1)) << f.lsb
        return data & mask, mask, RESP_OKAY

    def _window(self, reader):
        """The slot DIR_WIN_DATA0..7 show requester domain `reader`: zero where it may not look."""
        slot = self.policy.window(self._field("DIR_WIN_INDEX", "INDEX"))
        entry = Entry.unpack(slot.to_bytes(SLOT_BYTES, "little"))
        return slot if self.plane.sessions.sees(reader, entry.session, entry.valid) else 0

    def polled(self):
        """A poll loop read the bus an unknown number of times."""
        self.live_known[R.PERF_EVENTS.index("BUS_READS")] = False

    def write(self, addr, data, strb=FULL_STROBE, user=0):
        """-> resp; `user` is the write's s_axil_awuser, the requester domain of a doorbell. A
        refused write changes nothing but the bus counters."""
        reg = R.BY_OFFSET.get(addr)
        err = (strb != FULL_STROBE or reg is None or not reg.writable
               or (reg.busy and self._busy(reg.name))
               or (reg.privileged and user != MANAGEMENT_DOMAIN)
               or any(0 < (data >> f.lsb) & ((1 << f.width) - 1) < f.min for f in reg.fields))
        events = ["BUS_WRITES"] + (["BUS_ERRORS"] if err else [])
        clear = False
        if not err:
            clear = self._apply_write(reg, data, events, user)
        if not clear:
            for e in events:
                self._count(e)
        self.settle()
        return RESP_SLVERR if err else RESP_OKAY

    def _apply_write(self, reg, data, events, user):
        """Apply an accepted write; True when it cleared the perf counters."""
        def fld(name):
            f = next(f for f in reg.fields if f.name == name)
            return (data >> f.lsb) & ((1 << f.width) - 1)

        for f in reg.fields:
            if f.access == "rw":
                self.stored[(reg.name, f.name)] = fld(f.name)
            elif f.access == "w1c" and fld(f.name):
                self.stored[(reg.name, f.name)] = 0
        if reg.name in ("CMD_DOORBELL", "STEP_ADVANCE"):
            if reg.name == "CMD_DOORBELL":
                cmd = Command(fld("OPCODE"), fld("SESSION"), self.next_fence, user, self._field("CMD_ARG0", "VALUE"),
                              self._field("CMD_ARG1", "LAYER") | self._field("CMD_ARG1", "KV_HEAD") << 8
                              | self._field("CMD_ARG1", "HEADS") << 16,
                              self._field("CMD_ARG2", "VALUE"))
            else:
                cmd = Command(R.OPCODE.STEP_ADVANCE, 0, self.next_fence, user, fld("STEP"))
            self.cmdq.append(cmd)
            self.next_fence = (self.next_fence + 1) % 2**16
            events.append("CMD_SUBMITTED")
        elif reg.name == "CPL_POP":
            self.cplq.popleft()
        elif reg.name == "CQ_ROM_WRITE":
            self.kv.rom[self._rom_index()] = data
        elif reg.name == "IRQ_TEST":
            for name in ("CPL", "ERR"):
                if fld(name):
                    self.stored[("IRQ_STATUS", name)] = 1
        elif reg.name == "PERF_CTRL":
            if fld("SNAPSHOT"):
                self.shadow = list(self.live)
                self.shadow_known = list(self.live_known)
            if fld("CLEAR"):
                self.live = [0] * len(self.live)
                self.live_known = [True] * len(self.live)
                return True
        return False

    # ------------------------------------------------------------------ streams
    def offer(self, data, last, domain=0):
        """Requester domain `domain` offers a beat on s_axis (it waits on the host side while the
        queue is full)."""
        self.rx.append(Beat(data, bool(last), domain))
        self.settle()

    def _own_beat(self, cmd):
        """A stream command takes the beat heading the ingress queue only when it is its own
        domain's: another's waits for its own command."""
        return bool(self.rx) and self.rx[0].domain == cmd.domain

    def waiting_for_data(self):
        """The command in flight is a stream command ready for a beat that is not there: the
        die's STREAM_TIMEOUT counts."""
        cmd = self.inflight
        return (cmd is not None and not cmd.ready and cmd.opcode in STREAM_OPCODES
                and cmd.remaining and not self._own_beat(cmd))

    def stream_timeout(self):
        """STREAM_TIMEOUT's cycles pass with the stream command in flight waiting for a beat of its
        own: the chip supplies its missing beats as zero beats with tlast clear (an ECHO's packet is
        completed, a KV_APPEND refused as a framing error) and it completes TIMEOUT."""
        if not self.waiting_for_data():
            raise ValueError("no stream command is waiting for its data")
        if not self._field("STREAM_TIMEOUT", "CYCLES"):
            raise ValueError("a stream command waits for its data with STREAM_TIMEOUT off")
        cmd = self.inflight
        cmd.timed_out = True
        while cmd.remaining:
            self._take(cmd, Beat(0, False, cmd.domain))
        self.settle()

    def _take(self, cmd, beat):
        """Stream command `cmd` takes `beat`: an ECHO sends it on, a KV_APPEND keeps it; after
        its last one the command is done."""
        cmd.remaining -= 1
        last = cmd.remaining == 0
        cmd.framing_err |= beat.last != last
        if cmd.opcode == R.OPCODE.ECHO:
            self.tx_out.append(Beat(beat.data, last))
            self._count("AXIS_OUT_BEATS")
            cmd.nbytes += self.beat_bytes
        else:
            cmd.beats.append(beat.data)
        if not last:
            return
        cmd.ready = True
        if cmd.opcode == R.OPCODE.ECHO:
            cmd.status = R.STATUS.BAD_ARG if cmd.framing_err else R.STATUS.OK
        else:
            cpl = self.plane.execute(cmd.opcode, cmd.session, cmd.arg0, cmd.arg1, cmd.arg2,
                                     cmd.beats, cmd.framing_err, cmd.domain)
            cmd.status, cmd.nbytes = cpl.status, cpl.nbytes
            self._count_all(cpl.events)
        if cmd.timed_out:
            cmd.status = R.STATUS.TIMEOUT

    # ------------------------------------------------------------ command engine
    def settle(self):
        while True:
            if self.inflight is None and self.cmdq:
                self.inflight = self._start(self.cmdq.popleft())
            cmd = self.inflight
            if cmd is None:
                break
            if cmd.opcode in STREAM_OPCODES and not cmd.ready:
                while cmd.remaining and self._own_beat(cmd):
                    self.rx_consumed += 1
                    self._take(cmd, self.rx.popleft())
            if not cmd.ready or len(self.cplq) >= self.params.cplq_depth:
                break
            self.cplq.append(cmd)
            self.plane.account(cmd.opcode, cmd.session, cmd.domain, cmd.nbytes)
            self.inflight = None
            self._count("CMD_COMPLETED")
            self.stored[("IRQ_STATUS", "CPL")] = 1
            if cmd.status != R.STATUS.OK:
                self._count("CMD_ERRORS")
                self.stored[("IRQ_STATUS", "ERR")] = 1
        entered = self.rx_consumed + min(len(self.rx), self.params.axis_fifo_depth)
        self._count("AXIS_IN_BEATS", entered - self.rx_entered)
        self.rx_entered = entered

    def _count_all(self, events):
        for name, n in events:
            if name in R.PERF_EVENTS:
                self._count(name, n)

    def _start(self, cmd):
        if cmd.opcode in POLICY_OPCODES + TABLE_OPCODES:
            cpl = self.plane.execute(cmd.opcode, cmd.session, cmd.arg0, cmd.arg1, cmd.arg2, domain=cmd.domain)
            cmd.status = cpl.status
            self._count_all(cpl.events)
            cmd.ready = True
        elif cmd.opcode == R.OPCODE.NOP:
            cmd.ready = True
        elif cmd.opcode == R.OPCODE.KV_APPEND and self.kv.append_beats(cmd.arg2, self.stored):
            cmd.remaining = self.kv.append_beats(cmd.arg2, self.stored)
            cmd.beats = []
        elif cmd.opcode in (R.OPCODE.KV_FETCH, R.OPCODE.BLOCK_FETCH):
            cpl = self.plane.execute(cmd.opcode, cmd.session, cmd.arg0, cmd.arg1, cmd.arg2, domain=cmd.domain)
            cmd.status, out = cpl.status, cpl.out
            self._count_all(cpl.events)
            beats = to_beats(out, self.beat_bytes)
            self.tx_out += [Beat(b, i == len(beats) - 1) for i, b in enumerate(beats)]
            self._count("AXIS_OUT_BEATS", len(beats))
            cmd.nbytes = len(out)
            cmd.ready = True
        elif cmd.opcode == R.OPCODE.ECHO and 0 < cmd.arg0 <= ECHO_MAX_BEATS:
            cmd.remaining = cmd.arg0
        else:
            cmd.status = R.STATUS.BAD_ARG
            cmd.ready = True
        return cmd

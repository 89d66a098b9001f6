"""Golden model of the die's policy engine (rtbd + hepc) at the command level.

What the directory and policy commands do to the directory, the hint table,
the evict and prefetch queues and the counters, with the status each one completes with
(golden/kv1_regs.py OPCODE docs). The policy itself is golden/hepc.py; this layer decodes
the command arguments, keeps the tables the hardware keeps, and lists the queue pushes a
command makes, in the hardware's order, so that the frame model can post them as room
frees up (a full queue stalls the command, it never drops an entry). The sessions in DECODE,
which the scan's guard protects, are the session table's (golden/session.py): whoever owns the
engine sets `hepc.decode_sessions` (the data plane to its table's set, a trace replay per step).
"""
from collections import deque

from golden import kv1_regs as R
from golden.rtbd import Directory, DirectoryError, Entry
from golden.hepc import Hepc, PolicyConfig
from golden.session import SHARED_SESSION

BLOCK_TOKENS = 32          # DESIGN §3 default B; the key's block index is token_start / B
BLOCK_INDEX_BITS = 24
TIERS = (R.TIER.HOT, R.TIER.WARM, R.TIER.COLD)
POLICY_OPCODES = (R.OPCODE.DIR_INSERT, R.OPCODE.DIR_ACCESS, R.OPCODE.DIR_DELETE, R.OPCODE.STEP_ADVANCE,
                  R.OPCODE.MARK_HOT, R.OPCODE.EVICT, R.OPCODE.PREFETCH, R.OPCODE.SHARE_PREFIX,
                  R.OPCODE.RELEASE)
REFERENCE_OPCODES = (R.OPCODE.SHARE_PREFIX, R.OPCODE.RELEASE)
EVICTQ, PFQ = "evict", "prefetch"


def policy_config(stored, hint_slots):
    """The policy registers as the scan samples them; `stored` maps (reg, field) -> value."""
    return PolicyConfig(
        w_r=stored[("HEPC_WEIGHTS", "W_R")], w_f=stored[("HEPC_WEIGHTS", "W_F")],
        w_s=stored[("HEPC_WEIGHTS", "W_S")], w_d=stored[("HEPC_WEIGHTS", "W_D")],
        window=stored[("HEPC_CTRL", "WINDOW")], horizon=stored[("HEPC_CTRL", "HORIZON")],
        hot_high=stored[("HEPC_WATERMARKS", "HIGH")], hot_low=stored[("HEPC_WATERMARKS", "LOW")],
        prefetch_threshold=stored[("HEPC_THRESHOLD", "PREFETCH")], hint_slots=hint_slots)


class PolicyEngine:
    def __init__(self, params):
        self.params = params
        self.dir = Directory(params.dir_entries, params.dir_ways, BLOCK_TOKENS)
        self.hepc = Hepc(self.dir, PolicyConfig(hint_slots=params.hint_slots))
        self.queues = {EVICTQ: deque(), PFQ: deque()}

    # ------------------------------------------------------------ observation
    def hot_count(self):
        return self.hepc.hot_occupancy()

    def window(self, index):
        """The 256-bit slot DIR_WIN_DATA0..7 show for DIR_WIN_INDEX (zero beyond the directory)."""
        return int.from_bytes(self.dir.slot(index), "little") if index < self.dir.size else 0

    # --------------------------------------------------------------- commands
    def execute(self, opcode, session, arg0, arg1, arg2, stored):
        """Run one command. -> (status, pushes, events): pushes are (queue, entry index) in
        hardware order; events name the perf counters it bumps at once."""
        try:
            return self._execute(opcode, session, arg0, arg1, arg2, stored)
        except DirectoryError as e:
            return e.status, [], []

    def _execute(self, opcode, session, arg0, arg1, arg2, stored):
        h, d = self.hepc, self.dir
        OP = R.OPCODE
        if opcode == OP.STEP_ADVANCE:
            h.cfg = policy_config(stored, self.params.hint_slots)
            res = h.step_advance(arg0)
            return R.STATUS.OK, [(EVICTQ, i) for i in res.evicted] + [(PFQ, i) for i in res.prefetched], []
        if arg0 >> BLOCK_INDEX_BITS:
            raise DirectoryError(R.STATUS.BAD_ARG, f"block index {arg0:#x} exceeds {BLOCK_INDEX_BITS} bits")
        layer, kv_head = arg1 & 0xFF, (arg1 >> 8) & 0xFF
        if opcode == OP.DIR_INSERT:
            if arg2 not in TIERS:
                raise DirectoryError(R.STATUS.BAD_ARG, f"tier {arg2} does not exist")
            start = arg0 * BLOCK_TOKENS
            i = d.insert(Entry(session=session, layer=layer, kv_head=kv_head, token_start=start,
                               token_end=start + BLOCK_TOKENS - 1, tier=arg2))
            h.access(i)
            return R.STATUS.OK, [], []
        # a tenant session's SHARE_PREFIX and RELEASE name the shared block (session 0's) of the
        # key: it takes or drops its own reference (an entry under its key) on a block the
        # management domain published, never marks a block of its own (which would make it
        # unevictable)
        on_behalf = opcode in REFERENCE_OPCODES and session != SHARED_SESSION
        i = d.lookup(SHARED_SESSION if on_behalf else session, layer, kv_head, arg0)
        if i is None:
            raise DirectoryError(R.STATUS.NOT_FOUND, "no such block")
        if on_behalf and not d.prefix[i]:
            raise DirectoryError(R.STATUS.ISOLATION, f"entry {i} is not a published prefix block")
        pushes, events = [], []
        if opcode == OP.DIR_ACCESS:
            events.append("DIR_HITS" if d.tier[i] == R.TIER.HOT else "DIR_MISSES")
            h.access(i)
        elif opcode == OP.DIR_DELETE:
            h.delete(i)
        elif opcode == OP.MARK_HOT:
            h.mark_hot(i)
        elif opcode == OP.EVICT:
            if h.evict(i):
                pushes.append((EVICTQ, i))
        elif opcode == OP.PREFETCH:
            h.prefetch(i, arg2)
        elif opcode == OP.SHARE_PREFIX:
            h.take_reference(session, i) if on_behalf else h.share_prefix(i)
        elif opcode == OP.RELEASE:
            h.drop_reference(session, i) if on_behalf else h.release(i)
        else:
            raise AssertionError(opcode)
        return R.STATUS.OK, pushes, events

"""Golden model of the data plane (DESIGN §1–§2): tiers, DMA channels, BLOCK_FETCH.

Transaction level and settled, like golden/frame.py: after every command the channels run
until their queues are empty. The contract, in full in docs/data_plane.md:

- Every directory entry owns one slot in each tier (hot, warm, cold), at the same byte address
  in each (DataPlane.slot_address). A slot holds the block's header and its two ChannelQuant
  images (golden/kvpath.py); an entry made by DIR_INSERT holds no image.
- Three DMA channels with their own queues: FETCH (BLOCK_FETCH reads), EVICT (the HEPC scan's
  victims and EVICT hints), PREFETCH (the scan's promotions). A move copies the slot from its
  source tier to its destination, then one directory write sets tier and address together.
  The HEPC decides at the scan (golden/hepc.py); the data follows through the channels.
- EVICT's ARG2 picks the destination: 0 or WARM for warm, COLD for cold (a warm block may be
  sent to cold too); anything else is BAD_ARG.
- BLOCK_FETCH(session, layer, kv_heads, token span) first resolves every block of the span,
  head by head, block by block (the session's own block, or session 0's where the session's
  entry of the key is its reference to it): NOT_FOUND (absent), ISOLATION (a referenced shared
  block with no reference left), BAD_STATE (no stored image) complete with
  the first such code, one zero block, and nothing else changed. Otherwise each block in turn is
  fetched as KV_FETCH fetches it (with the session that resolved it): accessed (DESIGN §4), read
  from the tier that holds it, decoded and streamed out, K then V of its stored tokens, fp32.
- Watchdog: a tier that never answers a channel's request, or answers after DMA_WATCHDOG quiet
  cycles, is given up on; answers that come after that are discarded and counted (LATE_ANSWERS).
  A fetch streams a zero block (32 x D K and V values) for that block (accessed all the same, as
  KV_FETCH's is), goes on with the rest and completes with TIMEOUT. A move is abandoned: the
  block stays where it was, in the directory too (nothing is lost), quarantined (no scan moves it
  again until MARK_HOT or EVICT clears it), the channel's TIMEOUTS counter counts it and the
  command completes TIMEOUT (the rest of what it did stands).
- Counters: per-tier fetch hits, prefetch hits (a fetch that finds a block in the hot tier that
  a prefetch brought there and no fetch has read since), per-channel transfers, words and
  timeouts. Prefetch accuracy = PREFETCH_HITS / PREFETCH_TRANSFERS, coverage =
  PREFETCH_HITS / (PREFETCH_HITS + FETCH_WARM + FETCH_COLD).

- Sessions (golden/session.py, DESIGN §6): STEP_ADVANCE moves every session's decode step, so
  only the management domain (0) may write it: another domain's completes ISOLATION, the step
  unchanged. Every command but NOP, ECHO and STEP_ADVANCE is checked against the session table
  first, with the requester domain of its doorbell: a session that is not open answers
  BAD_SESSION, another domain's ISOLATION, a fetch of an ARCHIVED session BAD_STATE; the
  command then changes nothing (a fetch streams its zero block, an append's beats were consumed
  and are discarded). SESSION_OPEN, SESSION_SET_STATE and
  SESSION_CLOSE act on the table (HEPC's DECODE guard reads the table's DECODE sessions); a
  close (SESSION_CLOSE, or SESSION_SET_STATE to CLOSED) also deletes every directory entry of
  the session, with its hint and its tier slots, so that a session opened again under the same
  id finds nothing of the closed one's. IDLE -> ARCHIVED parks the session's blocks (but its
  references) in cold, as EVICT to cold does, through the EVICT channel; the warm-up ARCHIVED ->
  IDLE moves its cold blocks (not the quarantined) to warm through the PREFETCH channel; either
  completes once its moves have (TIMEOUT if one timed out). A block's header keeps the codec profile id and version
  of the session that appended it (CQ_PROFILE's for session 0); a fetch for a session of another
  profile or version reads the slot but streams a zero block and completes BAD_STATE.

Each tier transfer is logged (channel, entry, source, destination, words, status): per channel
the order is the hardware's, so a bench's tier-port log compares with it channel by channel.
"""
import argparse
import random
from dataclasses import dataclass, field

import numpy as np

from golden import channelquant as cq
from golden import kv1_regs as R
from golden.dma import CHANNELS, FETCH, EVICT, PREFETCH
from golden.kvpath import KvPath, kv_values, slot_shift, slot_words, to_beats, zero_block
from golden.policy_engine import PolicyEngine, BLOCK_TOKENS, BLOCK_INDEX_BITS, EVICTQ, PFQ
from golden import params as param_sets
from golden.session import MANAGEMENT_DOMAIN, SHARED_SESSION, SessionTable, quota

TIER_NAMES = {R.TIER.HOT: "HOT", R.TIER.WARM: "WARM", R.TIER.COLD: "COLD"}
MAX_SPAN_BLOCKS = 64         # blocks one BLOCK_FETCH may name (heads x blocks)
SESSIONLESS = (R.OPCODE.NOP, R.OPCODE.ECHO, R.OPCODE.STEP_ADVANCE)   # chip-wide: no session check
# the session table's own commands
TABLE_OPCODES = (R.OPCODE.SESSION_OPEN, R.OPCODE.SESSION_SET_STATE, R.OPCODE.SESSION_CLOSE)
FETCHES = (R.OPCODE.KV_FETCH, R.OPCODE.BLOCK_FETCH)
# SESSION_OPEN's ARG2: priority class [1:0], codec profile [15:8], its version [23:16]
OPEN_FIELDS = {"priority": (0, 2), "profile": (8, 8), "version": (16, 8)}
OPEN_ARG2_MASK = sum(((1 << w) - 1) << lsb for lsb, w in OPEN_FIELDS.values())


def names_session(opcode):
    """Does the command act for its session (and is it checked against the table)?"""
    return opcode in R.OPCODE_NAMES and opcode not in SESSIONLESS


@dataclass(frozen=True)
class Transfer:
    channel: str
    entry: int
    source: int              # tier read
    dest: int                # tier written; None for a fetch (to the decompressor)
    words: int               # tier-port words (cq_lanes bytes each)
    status: int


@dataclass
class Completion:
    status: int
    nbytes: int = 0
    out: bytes = b""
    events: list = field(default_factory=list)   # (perf event, amount) the command caused


def register_resets():
    """(register, field) -> reset value of every field software writes."""
    return {(r.name, f.name): f.reset for r in R.REGISTERS for f in r.fields if f.access in ("rw", "w1c")}


def counter_names():
    names = ["FETCH_HOT", "FETCH_WARM", "FETCH_COLD", "PREFETCH_HITS"]
    return names + [f"{ch}_{what}" for ch in CHANNELS for what in ("TRANSFERS", "WORDS", "TIMEOUTS")]


class DataPlane:
    """The die's command engine below the register map: policy, codec path, tiers, channels.

    `stored` maps (register, field) to the value software wrote (register_resets()).
    A command that moves blocks (STEP_ADVANCE, EVICT) completes once its moves have."""

    def __init__(self, params, stored):
        self.params = params
        self.stored = stored
        self.policy = PolicyEngine(params)
        self.sessions = SessionTable(params.sessions, decode_slots=params.decode_slots)
        self.policy.hepc.decode_sessions = self.sessions.decoding   # the DECODE guard reads the table
        self.kv = KvPath(params, self.policy)
        self.tiers = self.kv.tiers  # images by tier: KV_APPEND writes the hot one
        self.prefetched = set()     # entries a prefetch brought hot that no fetch has read since
        self.counters = dict.fromkeys(counter_names(), 0)
        self.events = []            # the running command's (perf event, amount)
        self.log = []

    def slot_address(self, index):
        """Byte address of entry `index`'s slot, the same in every tier."""
        return index << (slot_shift(self.params) + (self.params.cq_lanes - 1).bit_length())

    def words(self, tier, index):
        """Tier-port words a transfer of the entry's slot in `tier` moves (0: no image)."""
        blk = self.tiers[tier].get(index)
        return 0 if blk is None else slot_words(blk, self.params)

    def _count(self, name, n=1):
        if name in self.counters:
            self.counters[name] += n
        self.events.append((name, n))

    # ------------------------------------------------------------------ faults
    def _slot_words(self, tier, index):
        base = index << slot_shift(self.params)
        return {(tier, a) for a in range(base, base + (1 << slot_shift(self.params)))}

    def hang(self, tier, index):
        """The tier's memory stops answering requests for entry `index`'s slot."""
        self.kv.silent |= self._slot_words(tier, index)

    def unhang(self, tier, index):
        self.kv.silent -= self._slot_words(tier, index)

    # ---------------------------------------------------------------- commands
    def execute(self, opcode, session, arg0, arg1=0, arg2=0, beats=(), framing_err=False, domain=0):
        """One command of requester `domain`, its moves included. -> Completion."""
        self.events = []
        q = quota(self.stored)       # each command reads SESSION_QUOTA as it checks
        self.sessions.quota = self.policy.dir.quota = self.policy.hepc.quota = q
        if names_session(opcode):
            cpl = self._session_gate(opcode, session, domain, arg0, arg2)
        elif opcode == R.OPCODE.STEP_ADVANCE and domain != MANAGEMENT_DOMAIN:
            cpl = Completion(R.STATUS.ISOLATION)     # the decode step is every session's clock
        else:
            cpl = None
            if opcode == R.OPCODE.STEP_ADVANCE:
                self.sessions.refill()               # a step is the QoS window
        if cpl is None:
            cpl = self._execute(opcode, session, arg0, arg1, arg2, beats, framing_err)
        cpl.events = self.events
        return cpl

    def account(self, opcode, session, domain, nbytes):
        """A command posts its completion (`nbytes` its BYTES): charged to its session when the
        table let it through (a LOOKUP answered OK for an open session; not the table's own
        commands, not the shared session 0, which has no bucket)."""
        if (names_session(opcode) and opcode not in TABLE_OPCODES and session != SHARED_SESSION
                and self.sessions.check(session, domain) == R.STATUS.OK):
            self.sessions.charge(session, nbytes)

    def _session_gate(self, opcode, session, domain, arg0, arg2):
        """The session table's part of a command: -> its Completion when the table ends it (a
        refusal, or a command of the table's own), None when the command goes on."""
        t, OP, S = self.sessions, R.OPCODE, R.SESSION_STATE
        if opcode == OP.SESSION_OPEN:
            if arg2 & ~OPEN_ARG2_MASK:
                return Completion(R.STATUS.BAD_ARG)
            fields = {name: (arg2 >> lsb) & ((1 << w) - 1) for name, (lsb, w) in OPEN_FIELDS.items()}
            return Completion(t.open(session, domain, budget=arg0, **fields))
        if opcode in (OP.SESSION_SET_STATE, OP.SESSION_CLOSE):
            entry = t.get(session)
            left = entry.state if entry is not None else None
            status = t.close(session, domain) if opcode == OP.SESSION_CLOSE else t.enter(session, domain, arg0)
            if status != R.STATUS.OK:
                return Completion(status)
            if opcode == OP.SESSION_CLOSE or arg0 == S.CLOSED:
                self._sweep(session)
            elif arg0 == S.ARCHIVED:
                status = self._session_moves(EVICTQ, self.policy.hepc.park, session)
            elif arg0 == S.IDLE and left == S.ARCHIVED:
                status = self._session_moves(PFQ, self.policy.hepc.warm_up, session)
            return Completion(status)
        status = t.check(session, domain)
        if status == R.STATUS.OK and opcode in FETCHES and session and t.get(session).state == S.ARCHIVED:
            status = R.STATUS.BAD_STATE
        if status == R.STATUS.OK:
            return None
        out = zero_block(self.stored) if opcode in FETCHES else b""
        return Completion(status, len(out), out)

    def _execute(self, opcode, session, arg0, arg1, arg2, beats, framing_err):
        if opcode == R.OPCODE.BLOCK_FETCH:
            return self._block_fetch(session, arg0, arg1, arg2)
        if opcode == R.OPCODE.KV_APPEND:
            if self.kv.append_beats(arg2, self.stored) is None:
                return Completion(R.STATUS.BAD_ARG)
            status, nbytes, events = self.kv.append(session, arg0, arg1 & 0xFF, (arg1 >> 8) & 0xFF, arg2,
                                                    list(beats), framing_err, self.stored, self.profile(session))
            for name, n in events:
                self._count(name, n)
            return Completion(status, nbytes)
        if opcode == R.OPCODE.KV_FETCH:
            owner = session
            if not arg0 >> BLOCK_INDEX_BITS:
                status, owner = self.resolve(session, arg1 & 0xFF, (arg1 >> 8) & 0xFF, arg0)
                if status == R.STATUS.ISOLATION:
                    zero = zero_block(self.stored)
                    return Completion(status, len(zero), zero)
            return self._kv_fetch(owner, arg0, arg1, self.profile(session))
        if opcode == R.OPCODE.EVICT:
            return self._evict(session, arg0, arg1, arg2)
        d = self.policy.dir
        before = d.tier.copy()
        deleted = self._key_index(session, arg0, arg1) if opcode == R.OPCODE.DIR_DELETE else None
        status, pushes, events = self.policy.execute(opcode, session, arg0, arg1, arg2, self.stored)
        for name in events:
            self._count(name)
        if status == R.STATUS.OK and deleted is not None:
            self._forget(deleted)
        return Completion(self._moved(status, pushes, before))

    def _forget(self, index):
        """A deleted entry's tier slots hold no image any more, and no prefetch brought it."""
        for tier in self.tiers.values():
            tier.pop(index, None)
        self.prefetched.discard(index)

    def _sweep(self, session):
        """SESSION_CLOSE's sweep, in index order: every directory entry of the closed session goes
        with its hint and its tier slots; each reference it held is dropped (Hepc.forget_session).
        None of them is a referenced prefix block: only session 0's are."""
        for index in self.policy.hepc.forget_session(session):
            self._forget(index)

    def _session_moves(self, queue, decide, session):
        """An archive's parking (EVICT channel, to cold) or a warm-up's (PREFETCH channel, cold to
        warm): hepc's `decide` moves the session's blocks, the command waits for the moves.
        -> its status (TIMEOUT when one timed out: that block stays where it was, quarantined)."""
        before = self.policy.dir.tier.copy()
        return self._moved(R.STATUS.OK, [(queue, i) for i in decide(session)], before)

    def _key_index(self, session, arg0, arg1):
        if arg0 >> BLOCK_INDEX_BITS:
            return None
        return self.policy.dir.lookup(session, arg1 & 0xFF, (arg1 >> 8) & 0xFF, arg0)

    def profile(self, session):
        """(codec profile id, version) of an open session: SESSION_OPEN's, or CQ_PROFILE's for
        the shared prefix session 0."""
        if session == SHARED_SESSION:
            return self.stored[("CQ_PROFILE", "PROFILE")], self.stored[("CQ_PROFILE", "VERSION")]
        s = self.sessions.get(session)
        return s.profile, s.version

    def _kv_fetch(self, session, arg0, arg1, profile):
        """A fetch of `session`'s block for a reader of codec `profile` (the requester's: a
        borrowed shared block is checked against the borrower's)."""
        i = self._key_index(session, arg0, arg1)
        tier = None if i is None else int(self.policy.dir.tier[i])
        status, out, events, words = self.kv.fetch(session, arg0, arg1 & 0xFF, (arg1 >> 8) & 0xFF, self.stored,
                                                   profile)
        for name, n in events:      # the slot read's words and timeout among them
            self._count(name, n)
        if words:                   # the slot was read, decoded or not (another profile's)
            self.counters["FETCH_TRANSFERS"] += 1
            self.log.append(Transfer(FETCH, i, tier, None, words, R.STATUS.OK))
            self._fetched(i, tier == R.TIER.HOT)
        elif status == R.STATUS.TIMEOUT:
            self.log.append(Transfer(FETCH, i, tier, None, 0, status))
        return Completion(status, len(out), out)

    def _fetched(self, index, hot):
        """A fetch read the entry's block: a prefetch hit when a prefetch brought it hot."""
        if hot and index in self.prefetched:
            self._count("PREFETCH_HITS")
        self.prefetched.discard(index)

    def _evict(self, session, arg0, arg1, arg2):
        if arg2 not in (0, R.TIER.WARM, R.TIER.COLD):
            return Completion(R.STATUS.BAD_ARG)
        d = self.policy.dir
        before = d.tier.copy()
        index = self._key_index(session, arg0, arg1)
        status, pushes, _ = self.policy.execute(R.OPCODE.EVICT, session, arg0, arg1, arg2, self.stored)
        if status == R.STATUS.OK and arg2 == R.TIER.COLD and before[index] != R.TIER.COLD:
            d.tier[index] = R.TIER.COLD
            pushes = [(EVICTQ, index)]
        return Completion(self._moved(status, pushes, before))

    # ------------------------------------------------------------------- moves
    def _moved(self, status, pushes, before):
        """Carry out a command's moves; -> its status: TIMEOUT when one of them timed out."""
        timed_out = self._run_moves(pushes, before)
        return R.STATUS.TIMEOUT if timed_out and status == R.STATUS.OK else status

    def _run_moves(self, pushes, before):
        """Carry out the queue pushes a policy command made; `before` is the tier of every entry
        before the command (the policy model decides at once, the hardware at completion).
        -> how many moves timed out (each leaves its block where it was, quarantined)."""
        d = self.policy.dir
        timed_out = 0
        for queue, index in pushes:
            self._count("HEPC_EVICTS" if queue == EVICTQ else "HEPC_PREFETCHES")
        for queue, index in pushes:
            channel = EVICT if queue == EVICTQ else PREFETCH
            source, dest = int(before[index]), int(d.tier[index])
            words = self.words(source, index)
            late = self.kv.late_answers((source, dest), index, words, self.stored)
            if late:
                self._count("LATE_ANSWERS", late)
            if late or self.kv.meets_silence((source, dest), index, words):
                if not self.stored[("DMA_WATCHDOG", "CYCLES")]:
                    raise ValueError(f"a move of entry {index} meets a silent slot with the watchdog off")
                self.complete_move(index, source, timed_out=True)
                self._transfer(channel, index, source, dest, 0, R.STATUS.TIMEOUT)
                timed_out += 1
                continue
            self.kv.touch((source, dest), index, words)
            blk = self.tiers[source].pop(index, None)
            if blk is not None:
                self.tiers[dest][index] = blk
            self.complete_move(index, dest, timed_out=False)
            self._transfer(channel, index, source, dest, words, R.STATUS.OK)
            if channel == PREFETCH:
                self.prefetched.add(index)
            else:
                self.prefetched.discard(index)
        return timed_out

    def complete_move(self, index, tier, timed_out):
        """What a move's completion writes into entry `index` (hepc's completion writer): the tier
        it ended in; a move that arrived records its slot's address, one that timed out is back in
        its source tier (nothing is lost) and quarantined (the scans leave it there)."""
        d = self.policy.dir
        d.tier[index] = tier
        if timed_out:
            d.quarantined[index] = 1
        else:
            d.addr[index] = self.slot_address(index)

    def _transfer(self, channel, index, source, dest, words, status):
        self.log.append(Transfer(channel, index, source, dest, words, status))
        if status == R.STATUS.TIMEOUT:
            self._count(f"{channel}_TIMEOUTS")
        else:
            self._count(f"{channel}_TRANSFERS")
            self._count(f"{channel}_WORDS", words)

    # ------------------------------------------------------------- BLOCK_FETCH
    def span(self, arg0, arg1, arg2):
        """(layer, heads, first block, blocks) of a BLOCK_FETCH, or None when its arguments are
        refused: ARG0 the first token (block-aligned), ARG1 layer / first kv_head / head count,
        ARG2 the token count."""
        layer, head, heads = arg1 & 0xFF, (arg1 >> 8) & 0xFF, (arg1 >> 16) & 0xFF
        if arg0 % BLOCK_TOKENS or arg2 == 0 or heads == 0 or head + heads > 256:
            return None
        first = arg0 // BLOCK_TOKENS
        blocks = -(-arg2 // BLOCK_TOKENS)
        if heads * blocks > MAX_SPAN_BLOCKS or (first + blocks - 1) >> BLOCK_INDEX_BITS:
            return None
        return layer, range(head, head + heads), first, blocks

    def resolve(self, session, layer, kv_head, block):
        """-> (status, the session whose block it is) of one block as `session` sees it: its
        own, or session 0's shared block when its own entry of the key is a reference to it."""
        d = self.policy.dir
        owner = session
        i = d.lookup(session, layer, kv_head, block)
        if i is not None and self.policy.hepc.is_reference(i):
            owner = SHARED_SESSION
            i = d.lookup(SHARED_SESSION, layer, kv_head, block)
            if i is not None and not (d.prefix[i] and d.ref_count[i] > 0):
                return R.STATUS.ISOLATION, owner
        if i is None:
            return R.STATUS.NOT_FOUND, owner
        if not d.codec_tier[i]:
            return R.STATUS.BAD_STATE, owner
        return R.STATUS.OK, owner

    def _block_fetch(self, session, arg0, arg1, arg2):
        zero = zero_block(self.stored)
        span = self.span(arg0, arg1, arg2)
        if span is None:
            return Completion(R.STATUS.BAD_ARG, len(zero), zero)
        layer, heads, first, blocks = span
        owners = []
        for head in heads:
            for block in range(first, first + blocks):
                status, owner = self.resolve(session, layer, head, block)
                if status != R.STATUS.OK:
                    return Completion(status, len(zero), zero)
                owners.append((owner, head, block))
        status, out = R.STATUS.OK, b""
        for owner, head, block in owners:
            cpl = self._kv_fetch(owner, block, block_args(layer, head), self.profile(session))
            if cpl.status != R.STATUS.OK:
                status = cpl.status
            out += cpl.out
        return Completion(status, len(out), out)

    # -------------------------------------------------------------- reporting
    def prefetch_accuracy(self):
        c = self.counters
        return c["PREFETCH_HITS"] / c["PREFETCH_TRANSFERS"] if c["PREFETCH_TRANSFERS"] else None

    def prefetch_coverage(self):
        c = self.counters
        misses = c["PREFETCH_HITS"] + c["FETCH_WARM"] + c["FETCH_COLD"]
        return c["PREFETCH_HITS"] / misses if misses else None


# ------------------------------------------------------------------ seeded random mixes
MIX_SESSIONS = tuple(range(1, 13))   # the sessions the seeded mixes and the golden tests name


def configured(params, dim=16, hot_high=12, hot_low=8, mode="CQ4", sessions=MIX_SESSIONS):
    """A data plane with D, the codec mode (no outliers) and the hot watermarks set, and
    `sessions` open for the management domain (0)."""
    stored = register_resets()
    stored.update({("CQ_CTRL", "DIM"): dim, ("CQ_CTRL", "MODE"): cq.MODES.index(mode),
                   ("CQ_CTRL", "OUTLIERS"): 0, ("HEPC_WATERMARKS", "HIGH"): hot_high,
                   ("HEPC_WATERMARKS", "LOW"): hot_low})
    dp = DataPlane(params, stored)
    for s in sessions:
        if dp.sessions.open(s, domain=0) != R.STATUS.OK:
            raise ValueError(f"session {s} does not fit the {params.name} set's session table")
    return dp


def block_args(layer, kv_head, heads=1):
    return layer | kv_head << 8 | heads << 16


def append_block(dp, session, layer, kv_head, block, x):
    """KV_APPEND of fp16 K/V x ([2][n][D]) as block `block`."""
    beats = to_beats(x.astype("<f2").tobytes(), dp.params.axis_bytes)
    return dp.execute(R.OPCODE.KV_APPEND, session, block, block_args(layer, kv_head), x.shape[1], beats)


def reconstruction(x, mode):
    """The fp32 bytes a fetch of the block appended from x streams."""
    y = np.concatenate([cq.decode_group(cq.encode_group(x[0], "key", mode)),
                        cq.decode_group(cq.encode_group(x[1], "value", mode))])
    return y.astype("<f4").tobytes()


MIX_OPS = ("append", "append", "fetch", "fetch", "step", "evict", "prefetch", "mark", "delete", "insert")


def random_mix(params, seed, commands=1500, dim=16, hot_high=6, hot_low=3, observe=None):
    """Seeded appends, span fetches, step advances, EVICT (warm or cold), PREFETCH and MARK_HOT
    hints, deletes and image-less inserts over 2 sessions x 2 layers x 2 heads x 8 blocks, with
    a small hot tier so that every channel works. `observe(dp, fetch)` runs after every command;
    `fetch` is (block keys, completion, reference) for a BLOCK_FETCH, None otherwise, where
    reference maps each key appended and not deleted to its reconstruction. -> the DataPlane."""
    rng = random.Random(seed)
    dp = configured(params, dim, hot_high, hot_low)
    mode = cq.MODES[dp.stored[("CQ_CTRL", "MODE")]]
    reference, step = {}, 0
    for _ in range(commands):
        session, layer, head, block = rng.choice((1, 2)), rng.randrange(2), rng.randrange(2), rng.randrange(8)
        op = rng.choice(MIX_OPS)
        a1 = block_args(layer, head)
        seen = None
        if op == "append":
            x = kv_values(rng, rng.choice((32, 32, 5)), dim)
            if append_block(dp, session, layer, head, block, x).status == R.STATUS.OK:
                reference[session, layer, head, block] = reconstruction(x, mode)
        elif op == "fetch":
            if reference and rng.random() < 0.8:
                session, layer, head, block = rng.choice(sorted(reference))
            blocks, heads = rng.choice((1, 1, 2, 3)), rng.choice((1, 1, 2))
            cpl = dp.execute(R.OPCODE.BLOCK_FETCH, session, block * BLOCK_TOKENS, block_args(layer, head, heads),
                             blocks * BLOCK_TOKENS)
            keys = [(session, layer, h, b) for h in range(head, head + heads) for b in range(block, block + blocks)]
            seen = (keys, cpl, reference)
        elif op == "step":
            step += rng.randint(0, 3)
            dp.execute(R.OPCODE.STEP_ADVANCE, 0, step)
        elif op == "evict":
            dp.execute(R.OPCODE.EVICT, session, block, a1, rng.choice((0, R.TIER.WARM, R.TIER.COLD)))
        elif op == "prefetch":
            dp.execute(R.OPCODE.PREFETCH, session, block, a1, step + rng.randint(0, 5))
        elif op == "insert":    # an entry without an image: its moves carry no words
            dp.execute(R.OPCODE.DIR_INSERT, session, block, a1, rng.choice((R.TIER.WARM, R.TIER.COLD)))
        elif op == "mark":
            dp.execute(R.OPCODE.MARK_HOT, session, block, a1)
        elif dp.execute(R.OPCODE.DIR_DELETE, session, block, a1).status == R.STATUS.OK:
            reference.pop((session, layer, head, block), None)
        if observe:
            observe(dp, seen)
    return dp


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run a seeded random data-plane mix through the golden "
                                 "model and print its counters.")
    ap.add_argument("--set", default="sim", choices=sorted(param_sets.PARAM_SETS))
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--commands", type=int, default=1500)
    a = ap.parse_args(argv)
    dp = random_mix(param_sets.get(a.set), a.seed, a.commands)
    print(f"data-plane mix: set {a.set}, seed {a.seed}, {a.commands} commands")
    for name, value in dp.counters.items():
        print(f"  {name:20s} {value}")
    acc, cov = dp.prefetch_accuracy(), dp.prefetch_coverage()
    print(f"prefetch accuracy {acc:.3f}, coverage {cov:.3f}" if acc is not None and cov is not None
          else "no prefetch or no fetch outside the hot tier")


if __name__ == "__main__":
    main()

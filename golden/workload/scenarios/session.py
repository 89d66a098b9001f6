"""Scenarios of the session table (DESIGN §6): opening, the lifecycle, requester domains and the
check every command meets before it runs."""
from collections import Counter

from golden import kv1_regs as R
from golden.kvpath import kv_values, slot_shift
from golden.session import session_set
from golden.workload.driver import (configure_codec, kv_append, kv_fetch, block_fetch, expect_command,
                                    open_session, session_command, expect_status)
from golden.channelquant import MODES
from golden.policy_engine import BLOCK_TOKENS
from golden.workload.scenarios.hepc import free_key


def openable(w, start, n):
    """n session ids from `start` on that are not open and whose sets have room for them all."""
    table, picked = w.model.plane.sessions, []
    room = [ways.count(None) for ways in table.slots]
    for s in range(start, 1 << 16):
        k = session_set(s, table.sets)
        if table.get(s) is None and room[k]:
            room[k] -= 1
            picked.append(s)
            if len(picked) == n:
                return picked
    raise ValueError(f"the session table has no room for {n} more sessions")


def session_directed(w, first=40):
    """Every session path once, on purpose, from session `first` on: SESSION_OPEN and each of its
    refusals (open already, session 0, reserved ARG2 bits, a full set), every lifecycle move and
    the refused ones, a fetch of an ARCHIVED session, DECODE full, another requester domain's
    session named by this one (ISOLATION for every kind of command, an append's beats
    discarded, a fetch's zero block), another domain's STEP_ADVANCE (ISOLATION), the directory
    window as each domain sees it, the management domain's close, and a closed session's
    commands (BAD_SESSION)."""
    OP, ST, S, rng = R.OPCODE, R.STATUS, R.SESSION_STATE, w.rng
    D = w.params.cq_lanes
    configure_codec(w, MODES.index("CQ4"), D)
    sets = w.params.sessions // 4
    mine, theirs = first, first + 1
    open_session(w, mine, budget=1 << 20, priority=2, profile=7, version=1)
    open_session(w, mine, want=ST.BAD_STATE)
    open_session(w, 0, want=ST.BAD_STATE)
    w.submit(OP.SESSION_OPEN, first + 2, arg2=1 << 2)              # a reserved ARG2 bit
    expect_status(w, ST.BAD_ARG, "SESSION_OPEN with a reserved ARG2 bit")
    # a full set: its free ways' sessions, then one more
    table = w.model.plane.sessions
    crowd = [s for s in range(first + 2, first + 4000)
             if session_set(s, sets) == session_set(first + 2, sets) and table.get(s) is None]
    free = table.slots[session_set(first + 2, sets)].count(None)
    for s in crowd[:free]:
        open_session(w, s)
    open_session(w, crowd[free], want=ST.DIR_FULL)
    for s in crowd[:free]:
        session_command(w, OP.SESSION_CLOSE, s)
    # the lifecycle, with a stored block: refused moves change nothing
    key = free_key(w, mine, 0, 0)                 # a way whose append is stored
    kv_append(w, key, kv_values(rng, 32, D))
    for state, want in ((S.IDLE, ST.BAD_STATE), (S.ARCHIVED, ST.BAD_STATE), (5, ST.BAD_ARG), (9, ST.BAD_ARG),
                        (S.DECODE, ST.OK), (S.PREFILL, ST.BAD_STATE), (S.ARCHIVED, ST.BAD_STATE), (S.IDLE, ST.OK),
                        (S.ARCHIVED, ST.OK), (S.DECODE, ST.BAD_STATE)):
        session_command(w, OP.SESSION_SET_STATE, mine, arg0=state, want=want)
    expect_command(w, OP.KV_FETCH, key, ST.BAD_STATE)              # archived: a zero block
    if block_fetch(w, mine, 0, 0, key[3] * BLOCK_TOKENS, BLOCK_TOKENS) != ST.BAD_STATE:
        raise AssertionError("a span of an ARCHIVED session is not BAD_STATE")
    expect_command(w, OP.DIR_ACCESS, key, ST.OK)                    # the directory is still its own
    session_command(w, OP.SESSION_SET_STATE, mine, arg0=S.IDLE)     # warmed up
    kv_fetch(w, key)
    session_command(w, OP.SESSION_SET_STATE, 0, arg0=S.DECODE, want=ST.BAD_STATE)
    # DECODE holds decode_slots sessions: one more is DIR_FULL
    deciders = openable(w, first + 100, w.params.decode_slots + 1)
    in_decode = len(w.model.plane.sessions.decoding)
    for n, s in enumerate(deciders):
        open_session(w, s)
        want = ST.OK if in_decode + n < w.params.decode_slots else ST.DIR_FULL
        session_command(w, OP.SESSION_SET_STATE, s, arg0=S.DECODE, want=want)
        if want == ST.DIR_FULL:
            break
    w.read(R.HEPC_STATUS)
    for s in deciders[:n + 1]:
        session_command(w, OP.SESSION_CLOSE, s)
    # domain 1's session: this domain (0) may not name it, nor may domain 2; domain 0 may close it
    w.as_domain(1)
    open_session(w, theirs)
    theirs_key = free_key(w, theirs, 0, 0)
    kv_append(w, theirs_key, kv_values(rng, 8, D))
    expect_command(w, OP.DIR_ACCESS, (0, 0, 0, 0), ST.ISOLATION)    # session 0 is management's
    step = w.model.policy.hepc.step
    w.write(R.STEP_ADVANCE, 0xFFFFFFFF)            # the step is every session's: a tenant may not freeze it
    expect_status(w, ST.ISOLATION, "STEP_ADVANCE of domain 1")
    w.read(R.HEPC_STEP)
    if w.model.policy.hepc.step != step:
        raise AssertionError("a tenant's STEP_ADVANCE moved the step")
    # the directory window: domain 1 sees its own entry, not session 0's, another's or a free slot
    d = w.model.policy.dir
    mine_index, theirs_index = d.lookup(*key), d.lookup(*theirs_key)
    free_slot = next(i for i in range(d.size) if not d.entry(i).valid)
    for index, sees in ((theirs_index, True), (mine_index, False), (free_slot, False)):
        if any(w.read_window(index)) != sees:
            raise AssertionError(f"domain 1's window of entry {index} is not {'the slot' if sees else 'zeros'}")
    w.as_domain(0)
    kv_append(w, (theirs, 0, 0, theirs_key[3] + 1), kv_values(rng, 8, D))   # beats discarded
    for op in (OP.KV_FETCH, OP.DIR_ACCESS, OP.DIR_DELETE, OP.EVICT, OP.SHARE_PREFIX):
        expect_command(w, op, theirs_key, ST.ISOLATION)
    if block_fetch(w, theirs, 0, 0, theirs_key[3] * BLOCK_TOKENS, BLOCK_TOKENS) != ST.ISOLATION:
        raise AssertionError("another domain's span is not ISOLATION")
    session_command(w, OP.SESSION_SET_STATE, theirs, arg0=S.DECODE, want=ST.ISOLATION)
    w.as_domain(2)
    session_command(w, OP.SESSION_CLOSE, theirs, want=ST.ISOLATION)
    w.read_window(theirs_index)                                     # zeros for domain 2
    w.as_domain(1)
    kv_fetch(w, theirs_key)                                          # still its own, unchanged
    w.as_domain(0)
    w.read_window(theirs_index)                                     # management sees every slot
    session_command(w, OP.SESSION_CLOSE, theirs)                     # revocation
    w.as_domain(1)
    w.read_window(theirs_index)                                     # a closed session's: zeros
    w.as_domain(0)
    # a closed session: every command BAD_SESSION, nothing changed
    session_command(w, OP.SESSION_CLOSE, mine)
    kv_append(w, (mine, 0, 0, key[3] + 1), kv_values(rng, 4, D))
    for op in (OP.KV_FETCH, OP.DIR_ACCESS, OP.DIR_INSERT, OP.MARK_HOT, OP.PREFETCH, OP.RELEASE):
        expect_command(w, op, key, ST.BAD_SESSION)
    session_command(w, OP.SESSION_SET_STATE, mine, arg0=S.DECODE, want=ST.BAD_SESSION)
    session_command(w, OP.SESSION_CLOSE, mine, want=ST.BAD_SESSION)
    w.dump()


def close_sweep(w, session=60, domain=3):
    """A close leaves the chip as if the session had never existed: a session of `domain` stores
    blocks, enters image-less ones, holds a hint and a pin, sends blocks to warm and cold through
    the evict channel, reads one back and enters DECODE; then SESSION_SET_STATE closes it. Every
    directory slot reads back through the window exactly as before it opened, HEPC_STATUS too
    (hot count, hints, DECODE), and its id opened again finds none of its blocks."""
    OP, ST, S, TIER, rng = R.OPCODE, R.STATUS, R.SESSION_STATE, R.TIER, w.rng
    D = w.params.cq_lanes
    configure_codec(w, MODES.index("CQ4"), D)
    d = w.model.policy.dir

    def chip():
        return [w.read_window(i) for i in range(d.size)] + [w.read(R.HEPC_STATUS)[0]]

    before = chip()
    w.as_domain(domain)
    open_session(w, session)
    stored = []
    for n in range(4):
        stored.append(free_key(w, session, n % 2, n // 2))
        kv_append(w, stored[-1], kv_values(rng, rng.choice((32, 11)), D))
    bare = []
    for tier in (TIER.WARM, TIER.COLD):
        bare.append(free_key(w, session, 2, 0))
        w.block_command(OP.DIR_INSERT, bare[-1], arg2=tier)
        expect_status(w, ST.OK, f"DIR_INSERT of {bare[-1]}")
    w.block_command(OP.PREFETCH, bare[0], arg2=w.model.policy.hepc.step + 3)
    expect_status(w, ST.OK, "a PREFETCH hint of the closing session")
    expect_command(w, OP.MARK_HOT, stored[0], ST.OK)
    for key, tier in ((stored[1], TIER.COLD), (stored[2], TIER.WARM)):
        w.block_command(OP.EVICT, key, arg2=tier)
        expect_status(w, ST.OK, f"EVICT of {key}")
    kv_fetch(w, stored[1])                                           # from cold
    session_command(w, OP.SESSION_SET_STATE, session, arg0=S.DECODE)
    w.read(R.HEPC_STATUS)
    mine = [i for i in range(d.size) if d.valid[i] and d.session[i] == session]
    if len(mine) != len(stored) + len(bare) or not w.model.policy.hepc.hints:
        raise AssertionError("the closing session does not hold what the scenario gave it")
    session_command(w, OP.SESSION_SET_STATE, session, arg0=S.CLOSED)
    w.as_domain(0)
    if chip() != before:
        raise AssertionError("a closed session left something in the directory or in HEPC_STATUS")
    w.as_domain(domain + 1)                                           # a new owner of the id
    open_session(w, session)
    for key in stored + bare:
        if d.lookup(0, *key[1:]) is None:                           # (else the shared block's answer)
            expect_command(w, OP.KV_FETCH, key, ST.NOT_FOUND)
    session_command(w, OP.SESSION_CLOSE, session)
    w.as_domain(0)


def shared_key(w, layer, readers):
    """The first block key of session 0 at (`layer`, kv_head 0) that is absent for session 0 and
    every one of `readers`, with room for all their entries in their directory sets and a hot
    slot that answers for session 0's append."""
    d, words = w.model.policy.dir, 1 << slot_shift(w.params)
    for block in range(1 << 16):
        keys = [(s, layer, 0, block) for s in (0,) + tuple(readers)]
        if any(d.lookup(*key) is not None for key in keys):
            continue
        need = Counter(d.set_of(*key) for key in keys)
        if all(d.free_ways(s).size >= n for s, n in need.items()):
            home = d.set_of(*keys[0])
            if not w.model.kv.meets_silence((R.TIER.HOT,), home * d.ways + int(d.free_ways(home)[0]), words):
                return keys[0]
    raise AssertionError(f"no shared block of layer {layer} fits beside its readers' references")


def codec_profiles(w, first=70, layer=6):
    """A block is decoded only for a session of the codec profile it was written under: the
    management domain publishes a shared block of `layer` under CQ_PROFILE (3, 1); tenants of
    (3, 1), (3, 2) and (0, 0) take references to it, the first reads it, the others read a zero
    block with BAD_STATE, the second its own block; a version bump makes session 0's own old
    block BAD_STATE and its new one readable, and a span over both gives each tenant one block and
    one zero block; the closes drop the references, and everything is put back."""
    OP, ST, rng = R.OPCODE, R.STATUS, w.rng
    D = w.params.cq_lanes
    configure_codec(w, MODES.index("CQ4"), D)
    same, newer, plain = openable(w, first, 3)

    def cq_profile(profile, version):
        w.write(R.CQ_PROFILE, w.field("CQ_PROFILE", "PROFILE", profile) | w.field("CQ_PROFILE", "VERSION", version))
        w.read(R.CQ_PROFILE)

    def publish(readers):
        key = shared_key(w, layer, readers)
        kv_append(w, key, kv_values(rng, 32, D))
        for s in (0,) + readers:
            expect_command(w, OP.SHARE_PREFIX, (s,) + key[1:], ST.OK)
        return key

    cq_profile(3, 1)
    for s, profile, version in ((same, 3, 1), (newer, 3, 2), (plain, 0, 0)):
        open_session(w, s, profile=profile, version=version)
    old = publish((same, newer, plain))
    own = free_key(w, newer, layer + 1, 0)                       # (not a key the spans read)
    kv_append(w, own, kv_values(rng, 32, D))
    expect_command(w, OP.KV_FETCH, own, ST.OK)                    # its own block: its own profile
    for s, want in ((same, ST.OK), (newer, ST.BAD_STATE), (plain, ST.BAD_STATE)):
        if block_fetch(w, s, layer, 0, old[3] * BLOCK_TOKENS, BLOCK_TOKENS) != want:
            raise AssertionError(f"session {s} reading shared block {old}: golden does not answer {want}")
    cq_profile(3, 2)                                              # a version bump
    bumped = publish((same, newer))
    expect_command(w, OP.KV_FETCH, old, ST.BAD_STATE)             # session 0's old block
    expect_command(w, OP.KV_FETCH, bumped, ST.OK)
    lo, hi = sorted((old[3], bumped[3]))
    for s in (same, newer):                                       # a span over both (and what lies between)
        block_fetch(w, s, layer, 0, lo * BLOCK_TOKENS, (hi - lo + 1) * BLOCK_TOKENS)
    for s in (same, newer, plain):                                # the closes drop their references
        session_command(w, OP.SESSION_CLOSE, s)
    for key in (old, bumped):
        expect_command(w, OP.RELEASE, key, ST.OK)
        expect_command(w, OP.DIR_DELETE, key, ST.OK)
    cq_profile(0, 0)

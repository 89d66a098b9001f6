"""Scenarios of the session table (DESIGN §6): opening, the lifecycle, requester domains and the
check every command meets before it runs."""
from collections import Counter

from golden import kv1_regs as R
from golden.kvpath import kv_values, slot_shift
from golden.session import session_set
from golden.workload.driver import (configure_codec, kv_append, kv_fetch, block_fetch, expect_command,
                                    open_session, session_command, expect_status, expect_statuses,
                                    append_beats, send_append)
from golden.data_plane import register_resets
from golden.frame import RESP_SLVERR
from golden.channelquant import MODES
from golden.policy_engine import BLOCK_TOKENS
from golden.workload.scenarios.hepc import free_key, next_step_with_room


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


def golden_chip(w, ignore=()):
    """What a close or a refused attack must leave as it found it, in the golden model: every
    directory slot, the PREFETCH hints, the hot count, the DECODE set and the data plane's event
    counters (not the commands', the bus's or the streams', nor cycle counts, nor those `ignore`
    names)."""
    m = w.model
    events = [n for i, n in enumerate(m.live) if i not in m.timing_events and R.PERF_EVENTS[i] not in ignore
              and not R.PERF_EVENTS[i].startswith(("CMD_", "BUS_", "AXIS_"))]
    return ([m.policy.window(i) for i in range(m.policy.dir.size)], dict(m.policy.hepc.hints),
            m.policy.hot_count(), set(m.plane.sessions.decoding), events)


# a refused append's beats go through the compressor as they come (KV_BYTES_IN's doc)
CODEC_BYTES = ("KV_BYTES_IN", "KV_BYTES_STORED")


def read_sets(w, keys):
    """As the management domain, read every way of the directory sets of `keys` through the window
    and HEPC_STATUS (the die's answers are checked against golden's)."""
    d = w.model.policy.dir
    w.as_domain(0)
    for s in sorted({d.set_of(*key) for key in keys}):
        for index in range(s * d.ways, (s + 1) * d.ways):
            w.read_window(index)
    w.read(R.HEPC_STATUS)


def close_sweep(w, session=60, domain=3):
    """A close leaves the chip as if the session had never existed: a session of `domain` stores
    blocks, enters image-less ones, holds a hint and a pin, sends blocks to warm and cold through
    the evict channel, reads one back and enters DECODE; then SESSION_SET_STATE closes it. The
    sets it used read back through the window as golden's, HEPC_STATUS too, and golden's whole
    directory, hints, hot count and DECODE set are as before it opened; its id opened again finds
    none of its blocks."""
    OP, ST, S, TIER, rng = R.OPCODE, R.STATUS, R.SESSION_STATE, R.TIER, w.rng
    D = w.params.cq_lanes
    configure_codec(w, MODES.index("CQ4"), D)
    d = w.model.policy.dir
    w.settle()
    before = golden_chip(w)
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
    mine = [i for i in range(d.size) if d.valid[i] and d.session[i] == session]
    if len(mine) != len(stored) + len(bare) or not w.model.policy.hepc.hints:
        raise AssertionError("the closing session does not hold what the scenario gave it")
    read_sets(w, stored + bare)                                      # its entries, as the die holds them
    w.as_domain(domain)
    session_command(w, OP.SESSION_SET_STATE, session, arg0=S.CLOSED)
    read_sets(w, stored + bare)
    w.settle()
    if golden_chip(w)[:4] != before[:4]:
        raise AssertionError("a closed session left something in the directory or in HEPC_STATUS")
    w.as_domain(domain + 1)                                           # a new owner of the id
    open_session(w, session)
    for key in stored + bare:
        expect_command(w, OP.KV_FETCH, key, ST.NOT_FOUND)
    session_command(w, OP.SESSION_CLOSE, session)
    w.as_domain(0)


def archive_warm_up(w, session=100, domain=3, layer=9):
    """IDLE -> ARCHIVED parks a session's blocks in cold and ARCHIVED -> IDLE warms them up: a
    session of `domain` holds hot, pinned, warm and cold blocks, an image-less entry with a hint
    and a reference to a published block. Archived, every entry of its own is cold, unpinned and
    without its hint (moved through the EVICT channel), its reference untouched, its fetches
    BAD_STATE with a zero block. The warm-up moves every cold block of its own that is not
    quarantined to warm (the PREFETCH channel); a move DECODE -> IDLE moves nothing. Then one
    block's cold slot stops answering, so the next park times out on it (TIMEOUT, the block stays
    where it was, quarantined), and a parked block whose hinted prefetch timed out (cold,
    quarantined) stays cold through the warm-up. DMA_WATCHDOG stays at its margin (as
    dma.move_timeouts leaves it): the silent slots stay silent, and a later move into one costs the
    margin, not 2^21 cycles. The sets, HEPC_STATUS and the move counters read as golden's
    after each step."""
    OP, ST, S, TIER, rng = R.OPCODE, R.STATUS, R.SESSION_STATE, R.TIER, w.rng
    D = w.params.cq_lanes
    d, hepc = w.model.policy.dir, w.model.policy.hepc
    configure_codec(w, MODES.index("CQ4"), D)
    published = shared_key(w, layer, (session,))
    kv_append(w, published, kv_values(rng, BLOCK_TOKENS, D))
    expect_command(w, OP.SHARE_PREFIX, published, ST.OK)
    w.as_domain(domain)
    open_session(w, session)
    expect_command(w, OP.SHARE_PREFIX, (session,) + published[1:], ST.OK)   # before its blocks fill the set
    stored = []
    for n in range(4):
        stored.append(free_key(w, session, layer + 1, n))
        kv_append(w, stored[-1], kv_values(rng, rng.choice((BLOCK_TOKENS, 9)), D))
    bare = free_key(w, session, layer + 1, 4)
    w.block_command(OP.DIR_INSERT, bare, arg2=TIER.WARM)
    expect_status(w, ST.OK, f"DIR_INSERT of {bare}")
    w.block_command(OP.PREFETCH, bare, arg2=hepc.step + 3)
    expect_status(w, ST.OK, "a PREFETCH hint of the session")
    expect_command(w, OP.MARK_HOT, stored[0], ST.OK)
    for key, tier in ((stored[1], TIER.WARM), (stored[2], TIER.COLD)):
        w.block_command(OP.EVICT, key, arg2=tier)
        expect_status(w, ST.OK, f"EVICT of {key}")
    keys = stored + [bare, (session,) + published[1:]]
    entries = [d.lookup(*key) for key in keys]

    def counters():
        w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
        for reg in (R.PERF_HEPC_EVICTS, R.PERF_HEPC_PREFETCHES, R.PERF_EVICT_TRANSFERS, R.PERF_EVICT_TIMEOUTS,
                    R.PERF_PREFETCH_TRANSFERS, R.PERF_EVICT_WORDS, R.PERF_PREFETCH_WORDS):
            w.read(reg)

    def check(step):
        read_sets(w, keys)
        counters()
        w.as_domain(domain)
        tiers = [int(d.tier[i]) for i in entries[:-1]]
        if step == "parked" and (set(tiers) != {TIER.COLD} or any(d.pinned[i] for i in entries)
                                 or entries[4] in hepc.hints):
            raise AssertionError(f"an archived session's own entries are not all cold and unpinned: {tiers}")
        if step == "warm" and tiers != [TIER.WARM] * 5:
            raise AssertionError(f"the warm-up left a block of the session out of warm: {tiers}")

    for state in (S.DECODE, S.IDLE, S.ARCHIVED):
        session_command(w, OP.SESSION_SET_STATE, session, arg0=state)
    check("parked")
    if block_fetch(w, session, layer + 1, 0, stored[0][3] * BLOCK_TOKENS, BLOCK_TOKENS) != ST.BAD_STATE:
        raise AssertionError("an archived session's span was read")
    expect_command(w, OP.KV_FETCH, stored[0], ST.BAD_STATE)
    w.block_command(OP.PREFETCH, stored[3], arg2=hepc.step + 50)      # a hint the warm-up keeps
    expect_status(w, ST.OK, "a PREFETCH hint of an archived session")
    session_command(w, OP.SESSION_SET_STATE, session, arg0=S.IDLE)    # the warm-up
    check("warm")
    if entries[3] not in hepc.hints:
        raise AssertionError("the warm-up dropped a hint")
    kv_fetch(w, stored[0])                                            # from warm
    w.block_command(OP.EVICT, stored[1], arg2=TIER.COLD)
    expect_status(w, ST.OK, f"EVICT of {stored[1]}")
    session_command(w, OP.SESSION_SET_STATE, session, arg0=S.DECODE)
    session_command(w, OP.SESSION_SET_STATE, session, arg0=S.IDLE)    # from DECODE: nothing moves
    check("idle")
    if d.tier[entries[1]] != TIER.COLD:
        raise AssertionError("a move DECODE -> IDLE warmed a block up")
    # moves that time out: a park meets a cold slot that stopped answering (that block stays
    # warm, quarantined); a hint's prefetch of a parked block meets a silent hot slot (it stays
    # cold, quarantined), and the warm-up leaves it there
    w.as_domain(0)
    w.write(R.DMA_WATCHDOG, w.watchdog_margin("hot", "warm", "cold"))
    w.fault("cold", entries[3] << slot_shift(w.params))
    w.as_domain(domain)
    session_command(w, OP.SESSION_SET_STATE, session, arg0=S.ARCHIVED, want=ST.TIMEOUT)
    if d.tier[entries[3]] != TIER.WARM or not d.quarantined[entries[3]]:
        raise AssertionError("a park that timed out moved its block, or left it out of quarantine")
    w.fault("hot", entries[2] << slot_shift(w.params))
    w.block_command(OP.PREFETCH, stored[2], arg2=hepc.step + 1)
    expect_status(w, ST.OK, "a PREFETCH hint of an archived session")
    w.as_domain(0)
    next_step_with_room(w)                                            # the step's scan acts on it
    w.as_domain(domain)
    if d.tier[entries[2]] != TIER.COLD or not d.quarantined[entries[2]]:
        raise AssertionError("the prefetch of a parked block did not time out")
    session_command(w, OP.SESSION_SET_STATE, session, arg0=S.IDLE)    # warms up all but those two
    if d.tier[entries[2]] != TIER.COLD or d.tier[entries[0]] != TIER.WARM:
        raise AssertionError("the warm-up moved a quarantined block, or left one out")
    read_sets(w, keys)
    counters()
    # a park of more blocks than the evict queue holds: the sweep waits for room, taking the
    # moves' completions meanwhile (the block whose cold slot is silent times out again)
    w.as_domain(domain)
    many = []
    for n in range(w.params.policy_queue_depth + 4):
        many.append(free_key(w, session, layer + 2, n % 4))
        kv_append(w, many[-1], kv_values(rng, 1, D))
    for state in (S.DECODE, S.IDLE, S.ARCHIVED):
        session_command(w, OP.SESSION_SET_STATE, session, arg0=state, want=ST.TIMEOUT if state == S.ARCHIVED else ST.OK)
    read_sets(w, many)
    counters()
    w.as_domain(domain)
    session_command(w, OP.SESSION_CLOSE, session)
    w.as_domain(0)
    expect_command(w, OP.RELEASE, published, ST.OK)
    expect_command(w, OP.DIR_DELETE, published, ST.OK)


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


def reference_attacks(w, first=80, layer=7):
    """Issue 21's attacks on shared blocks, as hostile tenants would try them: tenant A (domain 3)
    holds a reference to a published block, tenant B (domain 4) does not. B's spans and KV_FETCH
    of the key are NOT_FOUND, its RELEASE of the key BAD_ARG (A's reference is not B's); A's
    second SHARE_PREFIX is BAD_ARG; A's DIR_DELETE, EVICT, MARK_HOT and PREFETCH of its reference
    entry are BAD_STATE; the directory, hints, hot count and event counters are golden's as
    before, and the die's slots of the sets involved, HEPC_STATUS and fetch and hit counters read
    as golden's. Then B takes its own reference and reads, A releases and reads nothing,
    and B's close gives its reference back: the block's count is the management domain's alone."""
    OP, ST, rng = R.OPCODE, R.STATUS, w.rng
    D = w.params.cq_lanes
    configure_codec(w, MODES.index("CQ4"), D)
    a, b = openable(w, first, 2)
    d = w.model.policy.dir
    key = shared_key(w, layer, (a, b))
    kv_append(w, key, kv_values(rng, 32, D))
    expect_command(w, OP.SHARE_PREFIX, key, ST.OK)                   # published
    for tenant, domain in ((a, 3), (b, 4)):
        w.as_domain(domain)
        open_session(w, tenant)
    w.as_domain(3)
    expect_command(w, OP.SHARE_PREFIX, (a,) + key[1:], ST.OK)

    mine, ref = (b,) + key[1:], (a,) + key[1:]
    w.settle()
    before = golden_chip(w)
    w.as_domain(4)
    if block_fetch(w, b, layer, 0, key[3] * BLOCK_TOKENS, BLOCK_TOKENS) != ST.NOT_FOUND:
        raise AssertionError("a session without a reference reads the shared block")
    expect_command(w, OP.KV_FETCH, mine, ST.NOT_FOUND)
    expect_command(w, OP.RELEASE, mine, ST.BAD_ARG)                   # A's reference is not B's
    w.as_domain(3)
    expect_command(w, OP.SHARE_PREFIX, ref, ST.BAD_ARG)               # held already
    for op, arg2 in ((OP.DIR_DELETE, None), (OP.EVICT, R.TIER.COLD), (OP.MARK_HOT, None),
                     (OP.PREFETCH, w.model.policy.hepc.step + 1)):
        w.block_command(op, ref, arg2=arg2)
        expect_status(w, ST.BAD_STATE, f"{R.OPCODE_NAMES[op]} of a reference entry")
    read_sets(w, (key, ref, mine))                                   # the die's slots, checked against golden's
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    for reg in (R.PERF_FETCH_HOT, R.PERF_DIR_HITS, R.PERF_DIR_MISSES):
        w.read(reg)
    w.settle()
    if golden_chip(w) != before:
        raise AssertionError("a refused attack on a reference changed the chip")
    w.as_domain(4)
    expect_command(w, OP.SHARE_PREFIX, mine, ST.OK)
    expect_command(w, OP.KV_FETCH, mine, ST.OK)
    w.as_domain(3)
    expect_command(w, OP.RELEASE, ref, ST.OK)
    expect_command(w, OP.KV_FETCH, ref, ST.NOT_FOUND)
    session_command(w, OP.SESSION_CLOSE, a)
    w.as_domain(4)
    session_command(w, OP.SESSION_CLOSE, b)
    w.as_domain(0)
    if d.ref_count[d.lookup(*key)] != 1:
        raise AssertionError("the closes did not give the tenants' references back")
    expect_command(w, OP.RELEASE, key, ST.OK)
    expect_command(w, OP.DIR_DELETE, key, ST.OK)


SCENARIO_STREAM_TIMEOUT = 300   # STREAM_TIMEOUT while a scenario starves stream commands on purpose


def stream_ownership(w, first=90, layer=8):
    """Issue 21's stream attacks, as hostile tenants would try them, with STREAM_TIMEOUT low:
    tenant A (domain 3) queues an ECHO ahead of tenant B's (domain 4) KV_APPEND and sends nothing:
    the ECHO does not take B's beats, times out and echoes four zero beats, and B's block is stored
    and reads back; A's KV_APPEND whose data never comes, and one whose data stops half way, time
    out with nothing stored (the directory, hints, hot count and event counters as before) and B's
    commands queued behind go on; an ECHO whose data stops half way completes its packet with zero
    beats; a beat of domain 5 sent for no command holds the ingress queue until domain 5's own
    ECHO takes it, each stream command of another domain queued meanwhile timing out (one shared
    ingress queue: docs/programming.md)."""
    OP, ST, rng = R.OPCODE, R.STATUS, w.rng
    D = w.params.cq_lanes
    configure_codec(w, MODES.index("CQ4"), D)
    w.as_domain(0)
    w.write(R.STREAM_TIMEOUT, SCENARIO_STREAM_TIMEOUT)
    w.read(R.STREAM_TIMEOUT)
    a, b = openable(w, first, 2)
    w.as_domain(3)
    open_session(w, a)
    w.as_domain(4)
    open_session(w, b)

    def append_of(session, domain):      # a block of `session` whose append will be stored
        key = free_key(w, session, layer, 0)
        x = kv_values(rng, BLOCK_TOKENS, D)
        w.as_domain(domain)
        w.block_command(OP.KV_APPEND, key, arg2=BLOCK_TOKENS)
        return key, append_beats(w, x)

    def send(beats, whole=True):
        for i, beat in enumerate(beats):
            w.offer(beat, whole and i == len(beats) - 1)

    # A's ECHO ahead of B's append
    w.as_domain(3)
    w.submit(OP.ECHO, a, arg0=4)
    echoed = len(w.model.tx_out)
    key, beats = append_of(b, 4)
    send(beats)
    if len(w.model.tx_out) != echoed:
        raise AssertionError("an ECHO took another domain's beats")
    w.stream_timeout()
    if [beat.data for beat in w.model.tx_out[echoed:]] != [0] * 4:
        raise AssertionError("a timed-out ECHO did not complete its packet with zero beats")
    expect_statuses(w, [ST.TIMEOUT, ST.OK], "an ECHO without data ahead of another domain's append")
    expect_command(w, OP.KV_FETCH, key, ST.OK)
    # A's appends whose data never comes, or stops half way, with B's commands queued behind
    for sent in (0, 1):
        w.settle()
        before = golden_chip(w, CODEC_BYTES)
        _, beats = append_of(a, 3)
        send(beats[:len(beats) // 2 * sent], whole=False)
        w.as_domain(4)
        w.submit(OP.ECHO, b, arg0=2)
        send([rng.getrandbits(8 * w.params.axis_bytes) for _ in range(2)])
        w.stream_timeout()
        expect_statuses(w, [ST.TIMEOUT, ST.OK], "an append whose data stops, then another domain's ECHO")
        if golden_chip(w, CODEC_BYTES) != before:
            raise AssertionError("a timed-out append changed the chip")
    # an ECHO whose data stops half way
    w.as_domain(3)
    w.submit(OP.ECHO, a, arg0=4)
    send([rng.getrandbits(8 * w.params.axis_bytes) for _ in range(2)], whole=False)
    w.stream_timeout()
    expect_statuses(w, [ST.TIMEOUT], "an ECHO whose data stops half way")
    # a beat for no command heads the queue until its own domain's command takes it
    w.as_domain(5)
    send([rng.getrandbits(8 * w.params.axis_bytes)])
    w.as_domain(4)
    w.submit(OP.ECHO, b, arg0=1)
    send([rng.getrandbits(8 * w.params.axis_bytes)])
    w.stream_timeout()
    w.as_domain(5)
    w.submit(OP.ECHO, 0, arg0=1)
    w.as_domain(4)
    w.submit(OP.ECHO, b, arg0=1)
    expect_statuses(w, [ST.TIMEOUT, ST.OK, ST.OK], "a beat for no command, then its domain's ECHO")
    w.read(R.STREAM_STATUS)
    session_command(w, OP.SESSION_CLOSE, b)
    w.as_domain(3)
    session_command(w, OP.SESSION_CLOSE, a)
    w.as_domain(0)
    w.write(R.STREAM_TIMEOUT, register_resets()[("STREAM_TIMEOUT", "CYCLES")])


def quota_word(w, dir_ways=0, decode=0, hints=0):
    """A SESSION_QUOTA value (0 in a field: no quota)."""
    return (w.field("SESSION_QUOTA", "DIR_WAYS", dir_ways) | w.field("SESSION_QUOTA", "DECODE", decode)
            | w.field("SESSION_QUOTA", "HINTS", hints))


def keys_in_set(w, session, layer, s, n):
    """n absent block keys of (session, layer, kv_head 0) in directory set s."""
    d = w.model.policy.dir
    keys = [(session, layer, 0, b) for b in range(1 << 16)
            if d.set_of(session, layer, 0, b) == s and d.lookup(session, layer, 0, b) is None]
    return keys[:n]


def quota_attacks(w, first=120, layer=10):
    """Issue 21's table attacks, as a hostile tenant (domain 6) would try them against a victim
    (domain 7), under SESSION_QUOTA (2 directory ways a set, 1 DECODE session a domain, 2 hints a
    session): the tenant's writes to every privileged register answer SLVERR and change nothing;
    filling the victim's directory set stops at 2 ways (DIR_INSERT, KV_APPEND with its beats
    discarded, and a reference to a published block are refused DIR_FULL) and the victim's append
    there is stored; its second session's DECODE is refused while the victim's is not; its third
    hint is refused (a held one is retargeted) while the victim's is held. Each refusal leaves
    the chip as it was (golden_chip); with the quotas lifted (0) the same commands pass."""
    OP, ST, S, TIER, rng = R.OPCODE, R.STATUS, R.SESSION_STATE, R.TIER, w.rng
    D = w.params.cq_lanes
    d, hepc, sessions = w.model.policy.dir, w.model.policy.hepc, w.model.plane.sessions
    configure_codec(w, MODES.index("CQ4"), D)
    hog, hog2, victim = openable(w, first, 3)
    w.as_domain(6)
    for name in (r.name for r in R.REGISTERS if r.privileged):
        before = w.read(getattr(R, name))[0]
        if w.write(getattr(R, name), quota_word(w, 1, 1, 1)) != RESP_SLVERR or w.read(getattr(R, name))[0] != before:
            raise AssertionError(f"a tenant's write changed privileged register {name}")
    open_session(w, hog)
    open_session(w, hog2)
    w.as_domain(7)
    open_session(w, victim)
    w.as_domain(0)
    w.settle()
    w.write(R.SESSION_QUOTA, quota_word(w, dir_ways=2, decode=1, hints=2))
    w.read(R.SESSION_QUOTA)

    def refused(domain, command, what):
        """`command` of `domain` is DIR_FULL and changes nothing."""
        w.settle()
        before = golden_chip(w, CODEC_BYTES)
        w.as_domain(domain)
        command()
        expect_status(w, ST.DIR_FULL, what)
        if golden_chip(w, CODEC_BYTES) != before:
            raise AssertionError(f"{what}: the refusal changed the chip")

    # the victim's set (three free ways, the third's hot slot answering): the tenant takes 2 of
    # them and is refused a third by each way in; the victim's append takes the third
    mine = free_key(w, victim, layer, 0, later=2)
    target = d.set_of(*mine)
    taken = keys_in_set(w, hog, layer, target, 4)
    w.as_domain(6)
    for key in taken[:2]:
        w.block_command(OP.DIR_INSERT, key, arg2=TIER.WARM)
        expect_status(w, ST.OK, f"DIR_INSERT of {key}")
    refused(6, lambda: w.block_command(OP.DIR_INSERT, taken[2], arg2=TIER.WARM), "a third way of one set")
    refused(6, lambda: send_append(w, taken[2], kv_values(rng, BLOCK_TOKENS, D)),
            "a third way by KV_APPEND (its beats discarded)")
    w.as_domain(0)                          # a block published under a key whose reference would be the third
    published = (0,) + taken[3][1:]
    kv_append(w, published, kv_values(rng, BLOCK_TOKENS, D))
    expect_command(w, OP.SHARE_PREFIX, published, ST.OK)
    refused(6, lambda: w.block_command(OP.SHARE_PREFIX, taken[3]), "a third way by a reference")
    w.as_domain(7)
    kv_append(w, mine, kv_values(rng, BLOCK_TOKENS, D))
    expect_command(w, OP.KV_FETCH, mine, ST.OK)
    # DECODE: one session of domain 6 at a time; domain 7's is another domain's slot
    w.as_domain(6)
    session_command(w, OP.SESSION_SET_STATE, hog, arg0=S.DECODE)
    if len(sessions.decoding) >= w.params.decode_slots:
        raise AssertionError("DECODE is full before the quota is tried")
    refused(6, lambda: w.submit(OP.SESSION_SET_STATE, hog2, arg0=S.DECODE), "a domain's second DECODE session")
    w.as_domain(7)
    session_command(w, OP.SESSION_SET_STATE, victim, arg0=S.DECODE)
    # hints: two of the tenant's blocks hold hints, a third is refused, a held one retargeted
    step = hepc.step
    w.as_domain(6)
    for key in taken[:2]:
        w.block_command(OP.PREFETCH, key, arg2=step + 8)
        expect_status(w, ST.OK, f"a hint on {key}")
    other = next((hog, layer + 1, 0, b) for b in range(1 << 16)        # an image-less block elsewhere
                 if d.lookup(hog, layer + 1, 0, b) is None and d.has_room(d.set_of(hog, layer + 1, 0, b), hog))
    w.block_command(OP.DIR_INSERT, other, arg2=TIER.COLD)
    expect_status(w, ST.OK, f"DIR_INSERT of {other}")
    refused(6, lambda: w.block_command(OP.PREFETCH, other, arg2=step + 8), "a session's third hint")
    w.block_command(OP.PREFETCH, taken[0], arg2=step + 9)
    expect_status(w, ST.OK, "a held hint retargeted at the quota")
    w.as_domain(7)
    w.block_command(OP.PREFETCH, mine, arg2=step + 8)
    expect_status(w, ST.OK, "another session's hint")
    # quotas lifted: the same commands pass
    w.as_domain(0)
    w.settle()
    w.write(R.SESSION_QUOTA, 0)
    w.as_domain(6)
    w.block_command(OP.DIR_INSERT, taken[2], arg2=TIER.WARM)
    w.block_command(OP.PREFETCH, other, arg2=step + 8)
    w.submit(OP.SESSION_SET_STATE, hog2, arg0=S.DECODE)
    expect_statuses(w, [ST.OK] * 3, "the refused commands with the quotas lifted")
    read_sets(w, taken + [mine, other])
    w.read(R.HEPC_STATUS)
    for session, domain in ((hog, 6), (hog2, 6), (victim, 7)):
        w.as_domain(domain)
        session_command(w, OP.SESSION_CLOSE, session)
    w.as_domain(0)
    expect_command(w, OP.RELEASE, published, ST.OK)
    expect_command(w, OP.DIR_DELETE, published, ST.OK)


def qos_accounting(w, first=160, layer=12):
    """The QoS records (issue 21, accounting): two tenants' sessions (domain 4 with a budget of
    about two fetches, domain 5 with none) append and fetch; the QoS window shows each record to
    its own domain and the management domain, zeros to the other tenant and beyond the table; the
    budgeted bucket empties (a command takes its completion's BYTES, down to 0) and a decode step
    (STEP_ADVANCE) refills it; the counters count bytes and commands, refused ones too (a
    NOT_FOUND fetch); after a close the window shows the entry as zeros."""
    OP, ST, rng = R.OPCODE, R.STATUS, w.rng
    D = w.params.cq_lanes
    sessions = w.model.plane.sessions
    configure_codec(w, MODES.index("CQ4"), D)
    budgeted, free = openable(w, first, 2)
    block_bytes = 2 * BLOCK_TOKENS * D * 4          # a fetch streams K and V in fp32
    budget = 2 * block_bytes - block_bytes // 2
    w.as_domain(4)
    open_session(w, budgeted, budget=budget, priority=2)
    w.as_domain(5)
    open_session(w, free, priority=1)
    mine, theirs = sessions.index(budgeted), sessions.index(free)
    beyond = w.params.sessions + 1

    def record(index, domain):
        w.as_domain(domain)
        return w.read_qos_window(index)

    keys = {}
    for session, domain in ((budgeted, 4), (free, 5)):
        w.as_domain(domain)
        keys[session] = [free_key(w, session, layer, 0), free_key(w, session, layer, 1)]
        for key in keys[session]:
            kv_append(w, key, kv_values(rng, BLOCK_TOKENS, D))
    for k in range(3):
        for session, domain in ((budgeted, 4), (free, 5)):
            w.as_domain(domain)
            expect_command(w, OP.KV_FETCH, keys[session][k % 2], ST.OK)
    w.as_domain(4)
    absent = free_key(w, budgeted, layer, 2)
    expect_command(w, OP.KV_FETCH, absent, ST.NOT_FOUND)
    for index in (mine, theirs, beyond):
        for domain in (0, 4, 5):
            record(index, domain)
    b = sessions.get(budgeted)
    if b.tokens or b.commands != 6 or b.moved < 3 * block_bytes or sessions.get(free).tokens:
        raise AssertionError(f"the budgeted session's record is not what the scenario needs: {b}")
    w.as_domain(0)
    next_step_with_room(w)
    if sessions.get(budgeted).tokens != budget:
        raise AssertionError("a decode step did not refill the bucket")
    record(mine, 4)
    w.as_domain(4)
    expect_command(w, OP.KV_FETCH, keys[budgeted][0], ST.OK)
    record(mine, 4)
    for session, domain in ((budgeted, 4), (free, 5)):
        w.as_domain(domain)
        session_command(w, OP.SESSION_CLOSE, session)
    record(mine, 0)
    record(theirs, 0)
    w.as_domain(0)

"""The data plane's golden model (golden/data_plane.py): moves between tiers lose nothing,
BLOCK_FETCH returns what was appended from whichever tier holds it, every refusal changes
nothing, the watchdog gives up on a silent tier without losing a block, and the prefetch
counters count what they say."""
import itertools
import random
from functools import partial

import numpy as np
import pytest

from golden import kv1_regs as R
from golden.data_plane import (EVICT, FETCH, PREFETCH, MAX_SPAN_BLOCKS, Transfer,
                               append_block as append, block_args as args, configured, random_mix)
from golden.data_plane import reconstruction as decoded
from golden.rtbd import ENTRY_LAYOUT
from golden.kvpath import header_field, header_words, kv_values, slot_image, slot_words, to_beats
from golden.policy_engine import BLOCK_TOKENS
from golden import params as param_sets

SIM = param_sets.get("sim")
OP, ST, TIER = R.OPCODE, R.STATUS, R.TIER
DIM = 16
plane = partial(configured, SIM, DIM)
reconstruction = partial(decoded, mode="CQ4")


def fetch(dp, session, layer, head, first_block, blocks, heads=1):
    return dp.execute(R.OPCODE.BLOCK_FETCH, session, first_block * BLOCK_TOKENS, args(layer, head, heads),
                      blocks * BLOCK_TOKENS)


def snapshot(dp):
    d = dp.policy.dir
    return ([getattr(d, name).copy() for name, _ in ENTRY_LAYOUT],
            {t: dict(s) for t, s in dp.tiers.items()}, dict(dp.counters), set(dp.prefetched),
            len(dp.log))


def appended(seed, blocks):
    """A data plane holding blocks 0.. of (session 1, layer 0, head 0); -> (plane, their K/V)."""
    dp, rng = plane(), random.Random(seed)
    xs = [kv_values(rng, 32, DIM) for _ in range(blocks)]
    for block, x in enumerate(xs):
        append(dp, 1, 0, 0, block, x)
    return dp, xs


def same(a, b):
    return (all(np.array_equal(x, y) for x, y in zip(a[0], b[0])) and a[1:] == b[1:])


def test_a_span_streams_head_by_head_block_by_block_from_every_tier():
    dp = plane()
    rng = random.Random(1)
    data = {}
    for head in (0, 1):
        for block in (4, 5, 6):
            x = kv_values(rng, 32 if block < 6 else 7, DIM)
            assert append(dp, 3, 2, head, block, x).status == ST.OK
            data[head, block] = x
    assert dp.execute(OP.EVICT, 3, 5, args(2, 0)).status == ST.OK
    assert dp.execute(OP.EVICT, 3, 4, args(2, 1), TIER.COLD).status == ST.OK
    d = dp.policy.dir
    assert d.tier[d.lookup(3, 2, 0, 5)] == TIER.WARM and d.tier[d.lookup(3, 2, 1, 4)] == TIER.COLD
    cpl = fetch(dp, 3, 2, 0, 4, 3, heads=2)
    want = b"".join(reconstruction(data[h, b]) for h in (0, 1) for b in (4, 5, 6))
    assert cpl.status == ST.OK and cpl.out == want and cpl.nbytes == len(want)
    c = dp.counters
    assert (c["FETCH_HOT"], c["FETCH_WARM"], c["FETCH_COLD"]) == (4, 1, 1)
    fetched = [t for t in dp.log if t.channel == FETCH]
    assert [t.entry for t in fetched] == [d.lookup(3, 2, h, b) for h in (0, 1) for b in (4, 5, 6)]
    assert all(t.words == slot_words(dp.tiers[t.source][t.entry], SIM) for t in fetched)


def test_a_span_that_is_not_whole_blocks_counts_its_last_partial_block():
    dp, xs = appended(2, 2)
    cpl = dp.execute(R.OPCODE.BLOCK_FETCH, 1, 0, args(0, 0), 33)   # tokens 0..32: both blocks
    assert cpl.status == ST.OK and cpl.out == b"".join(map(reconstruction, xs))


def test_moves_carry_the_image_and_set_tier_and_address_together():
    dp = plane()
    x = kv_values(random.Random(3), 32, DIM)
    append(dp, 1, 0, 0, 9, x)
    i = dp.policy.dir.lookup(1, 0, 0, 9)
    blk = dp.tiers[TIER.HOT][i]
    dp.execute(OP.EVICT, 1, 9, args(0, 0), TIER.WARM)
    dp.execute(OP.EVICT, 1, 9, args(0, 0), TIER.COLD)     # warm to cold
    assert dp.tiers[TIER.COLD][i] is blk and i not in dp.tiers[TIER.HOT] and i not in dp.tiers[TIER.WARM]
    assert dp.policy.dir.addr[i] == dp.slot_address(i) and dp.slot_address(i) > 0 or i == 0
    assert [(t.channel, t.source, t.dest) for t in dp.log] == [(EVICT, TIER.HOT, TIER.WARM),
                                                              (EVICT, TIER.WARM, TIER.COLD)]
    dp.execute(OP.PREFETCH, 1, 9, args(0, 0), 2)
    dp.execute(OP.STEP_ADVANCE, 0, 1)
    assert dp.log[-1] == Transfer(PREFETCH, i, TIER.COLD, TIER.HOT, slot_words(blk, SIM), ST.OK)
    assert dp.tiers[TIER.HOT][i] is blk and fetch(dp, 1, 0, 0, 9, 1).out == reconstruction(x)


def test_the_scan_s_victims_and_promotions_drain_through_their_channels():
    dp = plane(hot_high=4, hot_low=2)
    rng = random.Random(4)
    for block in range(6):
        append(dp, 1, 0, 0, block, kv_values(rng, 32, DIM))
    dp.execute(OP.STEP_ADVANCE, 0, 20)        # 6 hot > 4: demote to below 2
    evicted = [t for t in dp.log if t.channel == EVICT]
    assert len(evicted) == 5 and all(t.status == ST.OK for t in evicted)
    assert dp.counters["EVICT_TRANSFERS"] == 5 and dp.policy.hot_count() == 1
    warm = [t.entry for t in evicted]
    dp.execute(OP.PREFETCH, 1, int(dp.policy.dir.token_start[warm[0]]) // BLOCK_TOKENS, args(0, 0), 21)
    dp.execute(OP.STEP_ADVANCE, 0, 21)
    assert dp.log[-1].channel == PREFETCH and dp.log[-1].entry == warm[0]
    assert dp.counters["PREFETCH_TRANSFERS"] == 1


def test_a_prefetch_hit_counts_once_and_a_warm_read_is_a_miss():
    dp = plane()
    rng = random.Random(5)
    for block in range(3):
        append(dp, 1, 0, 0, block, kv_values(rng, 32, DIM))
        dp.execute(OP.EVICT, 1, block, args(0, 0))
    dp.execute(OP.PREFETCH, 1, 0, args(0, 0), 1)
    dp.execute(OP.STEP_ADVANCE, 0, 1)
    fetch(dp, 1, 0, 0, 0, 2)     # block 0 prefetched (hit), block 1 still warm (miss)
    fetch(dp, 1, 0, 0, 0, 1)     # read again: hot, but no longer a prefetch hit
    c = dp.counters
    assert (c["PREFETCH_HITS"], c["FETCH_HOT"], c["FETCH_WARM"]) == (1, 2, 1)
    assert dp.prefetch_accuracy() == 1.0 and dp.prefetch_coverage() == 0.5


@pytest.mark.parametrize("case, status", [
    ("absent", ST.NOT_FOUND), ("shared, no reference", ST.NOT_FOUND), ("released reference", ST.ISOLATION),
    ("no image", ST.BAD_STATE),
    ("misaligned", ST.BAD_ARG), ("no tokens", ST.BAD_ARG), ("no heads", ST.BAD_ARG),
    ("too long", ST.BAD_ARG)])
def test_a_refused_fetch_streams_one_zero_block_and_changes_nothing(case, status):
    dp = plane()
    rng = random.Random(6)
    for block in (0, 1, 3):
        append(dp, 2, 1, 0, block, kv_values(rng, 32, DIM))
    append(dp, 0, 1, 0, 2, kv_values(rng, 32, DIM))                 # shared prefix block, unreferenced
    dp.execute(OP.DIR_INSERT, 2, 4, args(1, 0), TIER.WARM)        # an entry without an image
    dp.execute(OP.EVICT, 2, 1, args(1, 0))
    if case == "released reference":   # the management domain released what session 2 holds too
        append(dp, 0, 1, 0, 5, kv_values(rng, 32, DIM))
        for session, op in ((0, OP.SHARE_PREFIX), (2, OP.SHARE_PREFIX), (0, OP.RELEASE), (0, OP.RELEASE)):
            assert dp.execute(op, session, 5, args(1, 0)).status == ST.OK
    before = snapshot(dp)
    first, tokens, a1 = {
        "absent": (0, 2 * 32, args(1, 0, heads=2)), "shared, no reference": (0, 3 * 32, args(1, 0)),
        "released reference": (5 * 32, 32, args(1, 0)),
        "no image": (3 * 32, 2 * 32, args(1, 0)), "misaligned": (5, 32, args(1, 0)),
        "no tokens": (0, 0, args(1, 0)), "no heads": (0, 32, args(1, 0, heads=0)),
        "too long": (0, (MAX_SPAN_BLOCKS + 1) * 32, args(1, 0))}[case]
    cpl = dp.execute(R.OPCODE.BLOCK_FETCH, 2, first, a1, tokens)
    zero = bytes(8 * BLOCK_TOKENS * DIM)
    assert (cpl.status, cpl.nbytes, cpl.out) == (status, len(zero), zero)
    assert same(snapshot(dp), before)


def test_a_shared_block_resolves_only_for_a_session_that_holds_a_reference():
    """Issue 21: published and referenced by another session is not enough; KV_FETCH and
    BLOCK_FETCH follow the session's own reference."""
    dp = plane()
    x = kv_values(random.Random(7), 32, DIM)
    append(dp, 0, 1, 0, 2, x)
    assert fetch(dp, 9, 1, 0, 2, 1).status == ST.NOT_FOUND
    assert dp.execute(OP.SHARE_PREFIX, 0, 2, args(1, 0)).status == ST.OK         # published
    assert dp.execute(OP.SHARE_PREFIX, 8, 2, args(1, 0)).status == ST.OK         # session 8 holds it
    for reader in (9, 8):
        cpl = fetch(dp, reader, 1, 0, 2, 1)
        single = dp.execute(OP.KV_FETCH, reader, 2, args(1, 0))
        want = (ST.OK, reconstruction(x)) if reader == 8 else (ST.NOT_FOUND, bytes(8 * BLOCK_TOKENS * DIM))
        assert (cpl.status, cpl.out) == (single.status, single.out) == want


def test_a_tenant_takes_references_on_published_shared_blocks_only_and_marks_none_of_its_own():
    """SHARE_PREFIX on a private block made it unevictable; now a tenant session's SHARE_PREFIX
    and RELEASE name session 0's block of the key, refused (nothing changed) until the management
    domain published it."""
    dp = plane()
    x = kv_values(random.Random(8), 32, DIM)
    append(dp, 0, 1, 0, 2, x)                          # a shared block, not published
    append(dp, 4, 1, 0, 3, x)                          # session 4's own block
    d = dp.policy.dir
    shared, own = d.lookup(0, 1, 0, 2), d.lookup(4, 1, 0, 3)
    before = snapshot(dp)
    for op in (OP.SHARE_PREFIX, OP.RELEASE):
        assert dp.execute(op, 4, 2, args(1, 0)).status == ST.ISOLATION      # unpublished
        assert dp.execute(op, 4, 3, args(1, 0)).status == ST.NOT_FOUND      # its own: no shared block there
    assert same(snapshot(dp), before) and d.prefix[own] == 0 and d.ref_count[own] == 0
    assert dp.execute(OP.SHARE_PREFIX, 0, 2, args(1, 0)).status == ST.OK    # published, one reference
    assert dp.execute(OP.SHARE_PREFIX, 4, 2, args(1, 0)).status == ST.OK
    assert (d.prefix[shared], d.ref_count[shared]) == (1, 2)
    assert fetch(dp, 4, 1, 0, 2, 1).out == reconstruction(x)
    assert dp.execute(OP.RELEASE, 4, 2, args(1, 0)).status == ST.OK and d.ref_count[shared] == 1
    assert fetch(dp, 4, 1, 0, 2, 1).status == ST.NOT_FOUND                 # no reference, no read
    # the tenant's own block stays an ordinary candidate: EVICT moves it
    assert dp.execute(OP.EVICT, 4, 3, args(1, 0)).status == ST.OK and d.tier[own] == TIER.WARM


def test_the_fetch_watchdog_zeroes_the_silent_block_and_streams_the_rest():
    dp, xs = appended(8, 3)
    dp.execute(OP.EVICT, 1, 1, args(0, 0))
    silent = dp.policy.dir.lookup(1, 0, 0, 1)
    dp.hang(TIER.WARM, silent)
    f_before = int(dp.policy.dir.f[silent])
    cpl = fetch(dp, 1, 0, 0, 0, 3)
    zero = bytes(8 * BLOCK_TOKENS * DIM)
    assert cpl.status == ST.TIMEOUT
    assert cpl.out == reconstruction(xs[0]) + zero + reconstruction(xs[2]) and cpl.nbytes == len(cpl.out)
    assert int(dp.policy.dir.f[silent]) == f_before + 1     # accessed, as KV_FETCH's would be
    assert dp.counters["FETCH_TIMEOUTS"] == 1 and dp.counters["FETCH_WARM"] == 0
    dp.unhang(TIER.WARM, silent)
    assert fetch(dp, 1, 0, 0, 1, 1).out == reconstruction(xs[1])


@pytest.mark.parametrize("silent_tier, channel", [(TIER.WARM, EVICT), (TIER.HOT, EVICT),
                                                  (TIER.WARM, PREFETCH), (TIER.HOT, PREFETCH)])
def test_a_move_to_or_from_a_silent_tier_is_abandoned_and_loses_nothing(silent_tier, channel):
    """The move times out: its command completes TIMEOUT, the block stays where it was, quarantined
    (the next scans do not try it again), and it reads back once the tier answers again."""
    dp = plane()
    x = kv_values(random.Random(9), 32, DIM)
    append(dp, 1, 0, 0, 0, x)
    i = dp.policy.dir.lookup(1, 0, 0, 0)
    if channel == PREFETCH:
        dp.execute(OP.EVICT, 1, 0, args(0, 0))
    home = int(dp.policy.dir.tier[i])
    dp.hang(silent_tier, i)
    if channel == EVICT:
        assert dp.execute(OP.EVICT, 1, 0, args(0, 0)).status == ST.TIMEOUT
    else:
        assert dp.execute(OP.PREFETCH, 1, 0, args(0, 0), 1).status == ST.OK    # the hint itself
        assert dp.execute(OP.STEP_ADVANCE, 0, 1).status == ST.TIMEOUT
    assert dp.log[-1].channel == channel and dp.log[-1].status == ST.TIMEOUT
    assert dp.counters[f"{channel}_TIMEOUTS"] == 1 and dp.counters[f"{channel}_TRANSFERS"] == 0
    assert dp.policy.dir.tier[i] == home and i in dp.tiers[home] and dp.policy.dir.quarantined[i] == 1
    moves = len(dp.log)
    dp.execute(OP.PREFETCH, 1, 0, args(0, 0), 3)
    for step in (2, 3):                                   # quarantined: no scan moves it again
        assert dp.execute(OP.STEP_ADVANCE, 0, step).status == ST.OK
    assert len(dp.log) == moves
    dp.unhang(silent_tier, i)
    assert fetch(dp, 1, 0, 0, 0, 1).out == reconstruction(x)
    assert dp.execute(OP.MARK_HOT, 1, 0, args(0, 0)).status == ST.OK     # software lifts it
    assert dp.policy.dir.quarantined[i] == 0


def test_evict_refuses_a_tier_that_does_not_exist():
    dp = plane()
    append(dp, 1, 0, 0, 0, kv_values(random.Random(10), 32, DIM))
    before = snapshot(dp)
    assert dp.execute(OP.EVICT, 1, 0, args(0, 0), 3).status == ST.BAD_ARG
    assert same(snapshot(dp), before)


def checked_mix(seed):
    """golden.data_plane.random_mix, checked after every command: each image is in exactly the
    tier its entry names, and every fetch returns what was appended or the right refusal."""
    def observe(dp, fetch):
        d = dp.policy.dir
        for i in range(d.size):
            holders = [t for t, s in dp.tiers.items() if i in s]
            assert holders == ([int(d.tier[i])] if d.valid[i] and d.codec_tier[i] else [])
        if fetch:
            keys, cpl, reference = fetch
            missing = [k for k in keys if k not in reference]
            if not missing:
                assert cpl.status == ST.OK and cpl.out == b"".join(reference[k] for k in keys)
            else:   # the first block that is not there, or there without an image
                assert cpl.status == (ST.NOT_FOUND if d.lookup(*missing[0]) is None else ST.BAD_STATE)
    dp = random_mix(SIM, seed, observe=observe)
    return dp.log, dp.counters


def test_a_random_mix_loses_nothing_and_replays_identically():
    log, counters = checked_mix(11)
    assert counters["EVICT_TRANSFERS"] and counters["PREFETCH_TRANSFERS"] and counters["FETCH_COLD"]
    assert counters["PREFETCH_HITS"] and any(t.words == 0 for t in log)
    assert checked_mix(11) == (log, counters)
    assert checked_mix(12)[0] != log


def test_a_memory_slower_than_the_watchdog_times_transfers_out_and_counts_their_late_answers():
    """Issue 19, defect 1, in golden: with the warm memory 2,000 cycles away and DMA_WATCHDOG 200,
    every fetch from warm times out with a zero block (the next one too: it never takes the first
    one's answers) and each slot's words come late; a watchdog too close to the latency to tell
    is refused; above it, each fetch reads its own block."""
    dp, xs = appended(21, 2)
    for block in (0, 1):
        assert dp.execute(OP.EVICT, 1, block, args(0, 0)).status == ST.OK
    dp.kv.timing = {TIER.WARM: (2000, 1)}
    dp.stored[("DMA_WATCHDOG", "CYCLES")] = 200
    words = [slot_words(dp.tiers[TIER.WARM][dp.policy.dir.lookup(1, 0, 0, b)], SIM) for b in (0, 1)]
    zero = bytes(8 * BLOCK_TOKENS * DIM)
    for block in (0, 1):
        cpl = dp.execute(OP.KV_FETCH, 1, block, args(0, 0))
        assert (cpl.status, cpl.out) == (ST.TIMEOUT, zero)
    assert dp.counters["FETCH_TIMEOUTS"] == 2 and ("LATE_ANSWERS", words[1]) in cpl.events
    assert dp.kv.late_wait >= 2000
    dp.stored[("DMA_WATCHDOG", "CYCLES")] = 1990
    with pytest.raises(ValueError, match="too close to the warm memory"):
        dp.execute(OP.KV_FETCH, 1, 0, args(0, 0))
    dp.stored[("DMA_WATCHDOG", "CYCLES")] = 4 * 2000 + 64
    for block in (0, 1):
        assert dp.execute(OP.KV_FETCH, 1, block, args(0, 0)).out == reconstruction(xs[block])


def test_a_refused_fallback_leaves_the_next_access_its_own():
    """Issue 19, defect 2, in golden: a span whose session-0 fallback is refused (NOT_FOUND, then
    ISOLATION: a reference the management domain released under it) changes nothing; the next
    DIR_ACCESS of another session answers for that session."""
    dp, _ = appended(22, 1)
    append(dp, 0, 0, 0, 3, kv_values(random.Random(23), 32, DIM))
    for session, op in ((0, OP.SHARE_PREFIX), (2, OP.SHARE_PREFIX), (0, OP.RELEASE), (0, OP.RELEASE)):
        assert dp.execute(op, session, 3, args(0, 0)).status == ST.OK
    assert fetch(dp, 2, 0, 0, 4, 1).status == ST.NOT_FOUND
    assert dp.execute(OP.DIR_ACCESS, 1, 0, args(0, 0)).status == ST.OK
    assert fetch(dp, 2, 0, 0, 3, 1).status == ST.ISOLATION
    assert dp.execute(OP.DIR_ACCESS, 1, 0, args(0, 0)).status == ST.OK


def test_an_append_whose_slot_never_acknowledges_completes_timeout_and_enters_nothing():
    """Issue 19: KV_APPEND completes only once every word is durable."""
    dp = plane()
    s = dp.policy.dir.set_of(1, 0, 0, 0)
    dp.hang(TIER.HOT, s * dp.policy.dir.ways)               # the way the append takes
    cpl = append(dp, 1, 0, 0, 0, kv_values(random.Random(24), 32, DIM))
    assert cpl.status == ST.TIMEOUT and cpl.nbytes == 0 and ("STORE_TIMEOUTS", 1) in cpl.events
    assert dp.policy.dir.lookup(1, 0, 0, 0) is None and not dp.tiers[TIER.HOT]


@pytest.mark.parametrize("fault", ["framing", "nonfinite"])
def test_a_refused_append_into_a_silent_slot_waits_the_watchdog_out(fault):
    """The die writes a refused append's images all the same and waits for their acknowledges:
    with a silent word among them it completes BAD_ARG only after DMA_WATCHDOG, which the golden
    model counts for the benches' polls (a random codec mix in Verilator timed out on it); with
    the watchdog off it would never end, and golden refuses to model that."""
    dp = plane()
    x = kv_values(random.Random(25), 32, DIM)
    if fault == "nonfinite":
        x[1, 31, DIM - 1] = np.inf
    s = dp.policy.dir.set_of(1, 0, 0, 0)
    dp.hang(TIER.HOT, s * dp.policy.dir.ways)
    beats = to_beats(x.astype("<f2").tobytes(), SIM.axis_bytes)
    cpl = dp.execute(OP.KV_APPEND, 1, 0, args(0, 0), 32, beats, framing_err=fault == "framing")
    assert (cpl.status, cpl.nbytes, dp.kv.store_timeouts) == (ST.BAD_ARG, 0, 1)
    assert "STORE_TIMEOUTS" not in [name for name, _ in cpl.events]      # counted only for a good append
    assert dp.policy.dir.lookup(1, 0, 0, 0) is None
    dp.stored[("DMA_WATCHDOG", "CYCLES")] = 0
    with pytest.raises(ValueError, match="never ends"):
        dp.execute(OP.KV_APPEND, 1, 0, args(0, 0), 32, beats, framing_err=fault == "framing")


# ---------------------------------------------------------------- sessions (DESIGN §6)
def test_every_session_command_is_checked_first_and_a_refusal_changes_nothing():
    dp = plane(sessions=())
    assert dp.execute(OP.SESSION_OPEN, 1, 4096, arg2=2 | 7 << 8 | 1 << 16).status == ST.OK
    x = kv_values(random.Random(3), 32, DIM)
    assert append(dp, 1, 0, 0, 0, x).status == ST.OK
    before, table = snapshot(dp), dp.sessions.words()
    zero = 2 * BLOCK_TOKENS * DIM * 4
    for session, domain, want in ((2, 0, ST.BAD_SESSION), (1, 1, ST.ISOLATION), (0, 1, ST.ISOLATION)):
        for op in (OP.DIR_INSERT, OP.DIR_ACCESS, OP.DIR_DELETE, OP.MARK_HOT, OP.EVICT, OP.PREFETCH, OP.SHARE_PREFIX,
                   OP.RELEASE, OP.KV_FETCH, OP.BLOCK_FETCH, OP.KV_APPEND):
            cpl = dp.execute(op, session, 0, args(0, 0), BLOCK_TOKENS, domain=domain)
            fetches = op in (OP.KV_FETCH, OP.BLOCK_FETCH)
            assert (cpl.status, cpl.nbytes, cpl.out == bytes(zero) if fetches else cpl.out) == \
                (want, zero if fetches else 0, True if fetches else b""), (op, session, domain)
        assert dp.execute(OP.SESSION_SET_STATE, session, R.SESSION_STATE.DECODE, domain=domain).status in (
            want, ST.BAD_STATE)
    assert same(snapshot(dp), before) and dp.sessions.words() == table
    # the chip-wide commands name no session
    assert dp.execute(OP.STEP_ADVANCE, 77, 1, domain=0).status == ST.OK


def test_only_the_management_domain_moves_the_decode_step():
    """STEP_ADVANCE(0xFFFFFFFF) of a tenant would freeze every session's step until reset."""
    dp = plane()
    assert dp.execute(OP.STEP_ADVANCE, 0, 3).status == ST.OK
    before = snapshot(dp)
    for domain in (1, 0xFF):
        for step in (4, 0xFFFFFFFF):
            assert dp.execute(OP.STEP_ADVANCE, 0, step, domain=domain).status == ST.ISOLATION
    assert dp.policy.hepc.step == 3 and same(snapshot(dp), before)
    assert dp.execute(OP.STEP_ADVANCE, 0, 4, domain=0).status == ST.OK and dp.policy.hepc.step == 4


def test_open_takes_its_fields_from_the_arguments_and_refuses_reserved_bits():
    dp = plane(sessions=())
    assert dp.execute(OP.SESSION_OPEN, 5, 1 << 20, arg2=1 << 7).status == ST.BAD_ARG
    assert dp.execute(OP.SESSION_OPEN, 5, 1 << 20, arg2=1 << 24).status == ST.BAD_ARG
    assert dp.sessions.get(5) is None
    assert dp.execute(OP.SESSION_OPEN, 5, 1 << 20, arg2=3 | 0x42 << 8 | 0x17 << 16, domain=9).status == ST.OK
    s = dp.sessions.get(5)
    assert (s.domain, s.state, s.priority, s.budget, s.profile, s.version) == (9, R.SESSION_STATE.PREFILL, 3, 1 << 20,
                                                                              0x42, 0x17)
    assert dp.execute(OP.SESSION_OPEN, 5, 0, domain=9).status == ST.BAD_STATE
    assert dp.execute(OP.SESSION_CLOSE, 5, 0, domain=3).status == ST.ISOLATION
    assert dp.execute(OP.SESSION_CLOSE, 5, 0, domain=0).status == ST.OK      # management revokes


def test_an_archived_session_fetches_nothing_until_it_is_warmed_up():
    dp = plane()
    S = R.SESSION_STATE
    x = kv_values(random.Random(4), 32, DIM)
    append(dp, 3, 0, 0, 1, x)
    for state in (S.DECODE, S.IDLE, S.ARCHIVED):
        assert dp.execute(OP.SESSION_SET_STATE, 3, state).status == ST.OK
    before = snapshot(dp)
    assert dp.execute(OP.KV_FETCH, 3, 1, args(0, 0)).status == ST.BAD_STATE
    assert fetch(dp, 3, 0, 0, 1, 1).status == ST.BAD_STATE
    assert same(snapshot(dp), before)
    assert dp.execute(OP.SESSION_SET_STATE, 3, S.IDLE).status == ST.OK
    assert dp.execute(OP.KV_FETCH, 3, 1, args(0, 0)).out == reconstruction(x)


def test_hepc_s_decode_guard_reads_the_table_through_random_moves():
    """The guard has no copy of its own: it is the table's set, which holds exactly the sessions in
    DECODE after every move, never more than decode_slots of them."""
    rng, dp = random.Random(5), plane(sessions=())
    assert dp.policy.hepc.decode_sessions is dp.sessions.decoding
    seen = 0
    for _ in range(3000):
        s, domain = rng.randrange(1, 12), rng.choice((0, 0, 1))
        op = rng.choice((OP.SESSION_OPEN, OP.SESSION_SET_STATE, OP.SESSION_SET_STATE, OP.SESSION_CLOSE))
        dp.execute(op, s, rng.choice((0, 1, 1, 2, 3, 4, 5)), domain=domain)
        assert dp.sessions.decoding == set(dp.sessions.in_state(R.SESSION_STATE.DECODE))
        assert len(dp.sessions.decoding) <= SIM.decode_slots
        seen = max(seen, len(dp.sessions.decoding))
    assert seen == SIM.decode_slots


def placement(dp):
    """What a closed session must leave as it found it: every directory field, the tier slots'
    images, the prefetch marks, the hints and the session table (not the counters or the log)."""
    d = dp.policy.dir
    images = {t: {i: (b.tokens, b.key.image(), b.value.image()) for i, b in s.items()} for t, s in dp.tiers.items()}
    return ([getattr(d, name).copy() for name, _ in ENTRY_LAYOUT], images, set(dp.prefetched),
            dict(dp.policy.hepc.hints), dp.sessions.words(), set(dp.sessions.decoding))


def others_work(dp, rng, n):
    """Seeded appends, fetches, steps, hints and moves of sessions 1 and 2."""
    for _ in range(n):
        s, layer, head, block = rng.choice((1, 2)), rng.randrange(2), rng.randrange(2), rng.randrange(6)
        op = rng.choice(("append", "fetch", "step", "evict", "prefetch", "insert"))
        if op == "append":
            append(dp, s, layer, head, block, kv_values(rng, rng.choice((32, 9)), DIM))
        elif op == "fetch":
            fetch(dp, s, layer, head, block, 1)
        elif op == "step":
            dp.execute(OP.STEP_ADVANCE, 0, dp.policy.hepc.step + rng.randint(0, 2))
        elif op == "evict":
            dp.execute(OP.EVICT, s, block, args(layer, head), rng.choice((TIER.WARM, TIER.COLD)))
        elif op == "prefetch":
            dp.execute(OP.PREFETCH, s, block, args(layer, head), dp.policy.hepc.step + rng.randint(0, 4))
        else:
            dp.execute(OP.DIR_INSERT, s, block, args(layer, head), TIER.WARM)


@pytest.mark.parametrize("close", ["SESSION_CLOSE", "SET_STATE_CLOSED", "revoked"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_closed_session_leaves_the_chip_as_if_it_had_never_existed(seed, close):
    """Issue 21: after a close, the directory, the slot allocation and the hints are exactly those of
    a chip on which the session never existed, and a session opened again under its id finds
    nothing of the closed one's."""
    rng = random.Random(seed)
    gone, kept = plane(hot_high=6, hot_low=3), plane(hot_high=6, hot_low=3)
    for dp in (gone, kept):
        others_work(dp, random.Random(seed), 150)
    X, domain = 9, 0 if close == "revoked" else 4
    for dp in (gone, kept):
        dp.execute(OP.SESSION_CLOSE, X, 0)                   # plane() opened it for domain 0
    assert gone.execute(OP.SESSION_OPEN, X, 0, domain=domain).status == ST.OK
    mine = []
    for _ in range(40):            # X's life: stored blocks, image-less entries, hints, pins, moves
        layer, head, block = rng.randrange(2), rng.randrange(2), rng.randrange(8)
        op = rng.choice(("append", "append", "insert", "prefetch", "mark", "evict", "fetch"))
        a1 = args(layer, head)
        if op == "append":
            beats = to_beats(kv_values(rng, 32, DIM).astype("<f2").tobytes(), SIM.axis_bytes)
            cpl = gone.execute(OP.KV_APPEND, X, block, a1, 32, beats, domain=domain)
        elif op == "insert":
            cpl = gone.execute(OP.DIR_INSERT, X, block, a1, rng.choice((TIER.HOT, TIER.WARM, TIER.COLD)),
                               domain=domain)
        elif op == "prefetch":
            cpl = gone.execute(OP.PREFETCH, X, block, a1, gone.policy.hepc.step + 2, domain=domain)
        elif op == "mark":
            cpl = gone.execute(OP.MARK_HOT, X, block, a1, domain=domain)
        elif op == "evict":
            cpl = gone.execute(OP.EVICT, X, block, a1, rng.choice((TIER.WARM, TIER.COLD)), domain=domain)
        else:
            cpl = gone.execute(OP.KV_FETCH, X, block, a1, domain=domain)
        mine.append(cpl.status)
    d = gone.policy.dir
    held = np.flatnonzero((d.valid == 1) & (d.session == X))
    assert len(held) >= 4 and any(gone.tiers[t].keys() & set(held.tolist()) for t in gone.tiers)
    assert any(i in gone.policy.hepc.hints for i in held) and ST.OK in mine
    assert not same_placement(placement(gone), placement(kept))
    if close == "SET_STATE_CLOSED":
        assert gone.execute(OP.SESSION_SET_STATE, X, R.SESSION_STATE.CLOSED, domain=domain).status == ST.OK
    else:
        assert gone.execute(OP.SESSION_CLOSE, X, 0, domain=0 if close == "revoked" else domain).status == ST.OK
    assert same_placement(placement(gone), placement(kept))
    assert gone.policy.hot_count() == kept.policy.hot_count()
    # no residue: the same work from here on gives the same chip, and X's id finds nothing
    for dp in (gone, kept):
        assert dp.execute(OP.SESSION_OPEN, X, 0, domain=5).status == ST.OK
        others_work(dp, random.Random(seed + 100), 100)
    assert same_placement(placement(gone), placement(kept))
    for layer, head, block in itertools.product(range(2), range(2), range(8)):
        assert gone.execute(OP.KV_FETCH, X, block, args(layer, head), domain=5).status == ST.NOT_FOUND


def same_placement(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a[0], b[0])) and a[1:] == b[1:]


def test_a_block_is_decoded_only_for_a_reader_of_the_codec_profile_that_wrote_it():
    """Issue 21: the profile id and version a session registered are in the header of every block
    it appends (CQ_PROFILE's for session 0), and a fetch by a session of another profile or
    version reads the slot but streams a zero block and completes BAD_STATE."""
    dp = plane(sessions=())
    rng = random.Random(11)
    zero = bytes(8 * BLOCK_TOKENS * DIM)
    for s, profile, version in ((5, 3, 1), (6, 3, 2), (7, 0, 0)):
        arg2 = profile << 8 | version << 16
        assert dp.execute(OP.SESSION_OPEN, s, 0, 0, arg2).status == ST.OK
    own, shared = kv_values(rng, 32, DIM), kv_values(rng, 32, DIM)
    assert append(dp, 5, 0, 0, 1, own).status == ST.OK
    # a tenant's block carries its profile; the management domain's CQ_PROFILE (reset: 0, 0)
    dp.stored[("CQ_PROFILE", "PROFILE")], dp.stored[("CQ_PROFILE", "VERSION")] = 3, 1
    assert append(dp, 0, 0, 0, 2, shared).status == ST.OK
    d = dp.policy.dir
    for key, want in (((5, 0, 0, 1), (3, 1)), ((0, 0, 0, 2), (3, 1))):
        words = slot_image(dp.tiers[TIER.HOT][d.lookup(*key)], SIM)[:header_words(SIM)]
        header = sum(word << 8 * SIM.cq_lanes * n for n, word in enumerate(words))
        got = tuple((header >> header_field(f)[1]) & 0xFF for f in ("profile", "version"))
        assert got == want
    for s in (0, 5, 6, 7):                                   # published, and each tenant's reference
        assert dp.execute(OP.SHARE_PREFIX, s, 2, args(0, 0)).status == ST.OK
    # own block, and the shared one for the tenant of the same profile and version
    cpl = dp.execute(OP.KV_FETCH, 5, 1, args(0, 0))
    assert cpl.status == ST.OK and cpl.out == reconstruction(own)
    assert dp.execute(OP.BLOCK_FETCH, 5, 2 * BLOCK_TOKENS, args(0, 0), 32).out == reconstruction(shared)
    # another version, another profile: read (accessed, the slot's words counted), not decoded
    for s in (6, 7):
        before = dict(dp.counters)
        cpl = dp.execute(OP.BLOCK_FETCH, s, 2 * BLOCK_TOKENS, args(0, 0), 32)
        assert (cpl.status, cpl.out) == (ST.BAD_STATE, zero)
        assert dp.counters["FETCH_HOT"] == before["FETCH_HOT"] + 1
        assert dp.counters["FETCH_TRANSFERS"] == before["FETCH_TRANSFERS"] + 1
        names = [name for name, _ in cpl.events]
        assert "DIR_HITS" in names and "FETCH_BYTES_READ" not in names and "FETCH_BYTES_OUT" not in names
    # a span goes on past the block of another profile and ends with its status
    assert append(dp, 0, 0, 0, 3, kv_values(rng, 32, DIM)).status == ST.OK
    dp.stored[("CQ_PROFILE", "VERSION")] = 2                 # a version bump: blocks from now on are (3, 2)
    fresh = kv_values(rng, 32, DIM)
    assert append(dp, 0, 0, 0, 4, fresh).status == ST.OK
    for block in (3, 4):
        for s in (0, 6):
            assert dp.execute(OP.SHARE_PREFIX, s, block, args(0, 0)).status == ST.OK
    cpl = dp.execute(OP.BLOCK_FETCH, 6, 3 * BLOCK_TOKENS, args(0, 0), 64)
    assert (cpl.status, cpl.out) == (ST.BAD_STATE, zero + reconstruction(fresh))
    # session 0 checks its own blocks against CQ_PROFILE as it is now
    assert dp.execute(OP.KV_FETCH, 0, 2, args(0, 0)).status == ST.BAD_STATE
    assert dp.execute(OP.KV_FETCH, 0, 4, args(0, 0)).out == reconstruction(fresh)


def test_references_are_per_session_and_a_close_drops_them():
    """Issue 21's attacks on shared blocks fail: a session reads a shared block only while it
    holds its own reference, RELEASE drops only the caller's, a second SHARE_PREFIX of the same key
    is refused, a reference entry is neither moved nor pinned nor deleted by the tenant, and a
    close gives back every reference it held (the counts as if it had never existed)."""
    dp, kept = plane(hot_high=6, hot_low=3), plane(hot_high=6, hot_low=3)
    rng = random.Random(12)
    x = [kv_values(rng, 32, DIM) for _ in range(3)]
    for p in (dp, kept):
        for block in range(3):
            append(p, 0, 2, 1, block, x[block])
            assert p.execute(OP.SHARE_PREFIX, 0, block, args(2, 1)).status == ST.OK
        assert p.execute(OP.SHARE_PREFIX, 5, 0, args(2, 1)).status == ST.OK    # session 5 holds block 0
    d = dp.policy.dir
    shared = [d.lookup(0, 2, 1, b) for b in range(3)]
    ref = d.lookup(5, 2, 1, 0)
    assert [int(d.ref_count[i]) for i in shared] == [2, 1, 1]
    assert (d.prefix[ref], d.ref_count[ref], d.quarantined[ref], d.codec_tier[ref], d.tier[ref]) == (1, 1, 1, 0, TIER.COLD)
    before = snapshot(dp)
    assert dp.execute(OP.RELEASE, 6, 0, args(2, 1)).status == ST.BAD_ARG          # not 6's reference
    assert dp.execute(OP.SHARE_PREFIX, 5, 0, args(2, 1)).status == ST.BAD_ARG     # held already
    for op in (OP.DIR_DELETE, OP.EVICT, OP.MARK_HOT, OP.PREFETCH):
        assert dp.execute(op, 5, 0, args(2, 1), dp.policy.hepc.step + 1).status == ST.BAD_STATE
    assert fetch(dp, 6, 2, 1, 0, 1).status == ST.NOT_FOUND
    assert same(snapshot(dp), before)
    # session 6 takes two, session 5 one more; the scans never move a reference entry
    for session, block in ((6, 0), (6, 1), (5, 2)):
        assert dp.execute(OP.SHARE_PREFIX, session, block, args(2, 1)).status == ST.OK
    assert [int(d.ref_count[i]) for i in shared] == [3, 2, 2]
    hot = dp.policy.hot_count()
    for step in range(1, 6):
        dp.execute(OP.STEP_ADVANCE, 0, step)
    refs = [d.lookup(s, 2, 1, b) for s, b in ((5, 0), (6, 0), (6, 1), (5, 2))]
    assert all(d.tier[i] == TIER.COLD for i in refs) and dp.policy.hot_count() <= hot
    cpl = fetch(dp, 6, 2, 1, 0, 2)
    assert (cpl.status, cpl.out) == (ST.OK, reconstruction(x[0]) + reconstruction(x[1]))
    assert fetch(dp, 6, 2, 1, 0, 3).status == ST.NOT_FOUND                        # block 2 is 5's
    assert dp.execute(OP.RELEASE, 6, 1, args(2, 1)).status == ST.OK
    assert d.lookup(6, 2, 1, 1) is None and int(d.ref_count[shared[1]]) == 1
    assert fetch(dp, 6, 2, 1, 1, 1).status == ST.NOT_FOUND
    # closes: every reference back; the directory's counts are those of a chip without 5 and 6
    for session in (5, 6):
        assert dp.execute(OP.SESSION_CLOSE, session, 0).status == ST.OK
    assert [int(d.ref_count[i]) for i in shared] == [1, 1, 1]
    assert dp.execute(OP.SESSION_CLOSE, 5, 0, domain=0).status == ST.BAD_SESSION
    kd = kept.policy.dir
    kept.execute(OP.RELEASE, 5, 0, args(2, 1))
    for name in ("valid", "session", "ref_count", "prefix", "tier"):
        assert np.array_equal(getattr(d, name), getattr(kd, name)), name


def test_session_quota_bounds_what_one_session_or_domain_holds_and_a_refusal_changes_nothing():
    """SESSION_QUOTA (2 ways of a set, 1 DECODE session a domain, 2 hints a session): a session
    fills one set to 2 ways (DIR_INSERT, KV_APPEND, a tenant's reference), another session still
    enters it; a domain's second DECODE session and a session's third hint are refused while
    another domain's and another session's pass; 0 lifts each quota."""
    dp = plane(sessions=())
    for session, domain in ((1, 1), (2, 1), (3, 2)):
        assert dp.execute(OP.SESSION_OPEN, session, 0, domain=domain).status == ST.OK
    dp.stored[("SESSION_QUOTA", "DIR_WAYS")] = 2
    dp.stored[("SESSION_QUOTA", "DECODE")] = 1
    dp.stored[("SESSION_QUOTA", "HINTS")] = 2
    d = dp.policy.dir
    home = d.set_of(3, 0, 0, 0)
    hogs = [b for b in range(4096) if d.set_of(1, 0, 0, b) == home][:4]
    for b in hogs[:2]:
        assert dp.execute(OP.DIR_INSERT, 1, b, args(0, 0), TIER.WARM, domain=1).status == ST.OK
    before = snapshot(dp)
    assert dp.execute(OP.DIR_INSERT, 1, hogs[2], args(0, 0), TIER.WARM, domain=1).status == ST.DIR_FULL
    x = kv_values(random.Random(5), 32, DIM)
    beats = to_beats(x.astype("<f2").tobytes(), SIM.axis_bytes)
    assert dp.execute(OP.KV_APPEND, 1, hogs[2], args(0, 0), 32, beats, domain=1).status == ST.DIR_FULL
    assert same(snapshot(dp), before)
    assert append(dp, 0, 0, 0, hogs[3], x).status == ST.OK            # published, and the reference refused
    assert dp.execute(OP.SHARE_PREFIX, 0, hogs[3], args(0, 0)).status == ST.OK
    mid = snapshot(dp)
    assert dp.execute(OP.SHARE_PREFIX, 1, hogs[3], args(0, 0), domain=1).status == ST.DIR_FULL
    assert same(snapshot(dp), mid)
    assert dp.execute(OP.DIR_INSERT, 3, 0, args(0, 0), TIER.WARM, domain=2).status == ST.OK
    S = R.SESSION_STATE
    assert dp.execute(OP.SESSION_SET_STATE, 1, S.DECODE, domain=1).status == ST.OK
    assert dp.execute(OP.SESSION_SET_STATE, 2, S.DECODE, domain=1).status == ST.DIR_FULL
    assert dp.execute(OP.SESSION_SET_STATE, 3, S.DECODE, domain=2).status == ST.OK
    assert dp.sessions.decoding == {1, 3}
    step = dp.policy.hepc.step
    for b in hogs[:2]:
        assert dp.execute(OP.PREFETCH, 1, b, args(0, 0), step + 5, domain=1).status == ST.OK
    assert dp.execute(OP.DIR_INSERT, 1, 7, args(1, 0), TIER.COLD, domain=1).status == ST.OK
    assert dp.execute(OP.PREFETCH, 1, 7, args(1, 0), step + 5, domain=1).status == ST.DIR_FULL
    assert dp.execute(OP.PREFETCH, 1, hogs[0], args(0, 0), step + 6, domain=1).status == ST.OK   # retarget
    assert dp.execute(OP.PREFETCH, 3, 0, args(0, 0), step + 5, domain=2).status == ST.OK
    for f in ("DIR_WAYS", "DECODE", "HINTS"):
        dp.stored[("SESSION_QUOTA", f)] = 0
    assert dp.execute(OP.DIR_INSERT, 1, hogs[2], args(0, 0), TIER.WARM, domain=1).status == ST.OK
    assert dp.execute(OP.SESSION_SET_STATE, 2, S.DECODE, domain=1).status == ST.OK
    assert dp.execute(OP.PREFETCH, 1, 7, args(1, 0), step + 5, domain=1).status == ST.OK

"""Scenarios of the dma and the tier memories: timeouts, late answers, moves and prefetch hits."""
from golden import kv1_regs as R
from golden.kvpath import kv_values, slot_shift
from golden.workload.format import DIE_TIERS
from golden.workload.driver import (WorkloadError, kv_append, kv_fetch, kv_check, expect_command, restore_watchdog,
                                    ensure_open)
from golden.workload.scenarios.hepc import promote, free_key


def fetch_timeout(w, key):
    """A block whose hot slot stops answering once it is stored: its fetch completes TIMEOUT with
    a zero block once DMA_WATCHDOG gives up. The limit is set from the hot tier's timing (the only
    transfer while it holds is the fetch from hot; a cold memory's timing would make the wait
    thousands of cycles), then put back to its reset value."""
    ensure_open(w, key[0])
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
    ensure_open(w, key[0])
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
    ensure_open(w, session, session + 1)
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


def image_forgotten(w, key):
    """A block appended and deleted, then its key inserted again without an image (DIR_INSERT
    takes the same entry) and evicted: the move carries no words, whatever the entry held before."""
    ensure_open(w, key[0])
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
    ensure_open(w, key[0])
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
    ensure_open(w, session)
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

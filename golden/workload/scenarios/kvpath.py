"""Scenarios of the KV path (kvpath, kvce): appends, fetches and spans through the codec."""

import numpy as np

from golden import kv1_regs as R
from golden.channelquant import MODES
from golden.kvpath import kv_values, slot_shift
from golden.policy_engine import BLOCK_TOKENS
from golden.workload.driver import (WorkloadError, configure_codec, write_rom, kv_append, kv_fetch, block_fetch,
                                    kv_check, expect_command, ensure_open)
from golden.workload.scenarios.commands import other_command
from golden.workload.scenarios.hepc import free_key
from golden.workload.scenarios.dma import fetch_timeout, append_timeout, image_forgotten, prefetch_hit, move_timeouts


def codec_directed(w):
    """Every KV path feature once, each on purpose: the codec registers and the outlier ROM,
    appends and fetches in each mode (full and partial blocks, k = 0 / 2 / 4), every refusal,
    the data-less directory entry, an evicted block, delete and re-append, the byte counters."""
    rng, OP = w.rng, R.OPCODE
    # D in codec beats: the sim set's 8 lanes give D = 8, 16 and 24, wider sets their multiples
    d1, d2, d3 = (k * w.params.cq_lanes for k in (1, 2, 3))
    CQ8, CQ4, CQ4P = (MODES.index(m) for m in ("CQ8", "CQ4", "CQ4plus"))
    ensure_open(w, *range(1, 7))      # session 9 stays closed: its fetch answers BAD_SESSION
    for reg in ("CQ_CTRL", "CQ_ROM_INDEX", "CQ_ROM_DATA"):
        w.read(getattr(R, reg))
    w.write(R.CQ_ROM_INDEX, w.params.cq_rom_entries)          # beyond the ROM: SLVERR, no change
    w.write(R.CQ_ROM_WRITE, 0x01020304)
    w.read(R.CQ_ROM_DATA)
    write_rom(w, 1 << 2 | 2, (3, 11, 0, 0))                    # layer 1, kv_head 2 (HEAD_BITS 2)
    write_rom(w, 0, (0, 5, 9, 15))
    write_rom(w, 1, (7, 7, 0, 0))                              # not ascending: refused in CQ-4+
    # each mode, full and partial blocks
    configure_codec(w, CQ8, d2)
    kv_append(w, (1, 0, 0, 0), kv_values(rng, 32, d2))
    kv_fetch(w, (1, 0, 0, 0))
    configure_codec(w, CQ4, d2)
    kv_append(w, (1, 0, 0, 1), kv_values(rng, 5, d2))
    kv_append(w, (1, 0, 0, 2), kv_values(rng, 1, d2))
    kv_fetch(w, (1, 0, 0, 1))
    kv_fetch(w, (1, 0, 0, 2))
    configure_codec(w, CQ4P, d2, outliers=2)
    kv_append(w, (1, 1, 2, 0), kv_values(rng, 32, d2))
    kv_append(w, (1, 1, 2, 1), kv_values(rng, 31, d2))
    configure_codec(w, CQ4P, d2, outliers=4)
    kv_append(w, (2, 0, 0, 0), kv_values(rng, 7, d2))
    configure_codec(w, CQ4P, d3, outliers=0)
    kv_append(w, (2, 0, 1, 0), kv_values(rng, 32, d3))
    for key in ((1, 1, 2, 0), (1, 1, 2, 1), (2, 0, 0, 0), (2, 0, 1, 0)):
        kv_fetch(w, key)
    # refusals: token count, configuration, ROM entry, head bits, present block, framing, values
    configure_codec(w, CQ4, d2)
    kv_append(w, (3, 0, 0, 0), kv_values(rng, 1, d2), tokens=0)
    kv_append(w, (3, 0, 0, 0), kv_values(rng, 1, d2), tokens=33)
    for mode, dim in ((3, d2), (CQ4, 12), (CQ4, 0), (CQ4, w.params.cq_dim + 8)):
        configure_codec(w, mode, dim)
        kv_append(w, (3, 0, 0, 0), kv_values(rng, 2, dim if dim else 8)[:, :, :dim])
    configure_codec(w, CQ4P, d2, outliers=2)
    kv_append(w, (3, 0, 1, 0), kv_values(rng, 2, d2))                 # ROM entry 1: channels 7, 7
    kv_append(w, (3, 0, 4, 0), kv_values(rng, 2, d2))                 # kv_head 4 needs 3 head bits
    configure_codec(w, CQ4P, d2, outliers=w.params.cq_outliers + 1)
    kv_append(w, (3, 1, 2, 0), kv_values(rng, 2, d2))
    configure_codec(w, CQ4, d2)
    kv_append(w, (1, 0, 0, 0), kv_values(rng, 3, d2))                 # already present
    kv_append(w, (3, 0, 0, 1), kv_values(rng, 4, d2), framing_ok=False)
    bad = kv_values(rng, 4, d2)
    bad[1, 2, 3] = np.inf
    kv_append(w, (3, 0, 0, 2), bad)
    # a full set: DIR_FULL, beats discarded
    d = w.model.policy.dir
    same_set = [k for k in ((4, 0, 0, b) for b in range(4096)) if d.set_of(*k) == d.set_of(4, 0, 0, 0)]
    for key in same_set[:w.params.dir_ways + 1]:
        kv_append(w, key, kv_values(rng, 1, d2))
    # fetch refusals (zero blocks), a data-less entry, an evicted block, delete and re-append
    configure_codec(w, CQ4, d1)
    kv_fetch(w, (9, 9, 9, 9))
    kv_fetch(w, (1, 0, 0, 1 << 24))
    w.block_command(OP.DIR_INSERT, (5, 0, 0, 0), arg2=R.TIER.HOT)
    kv_fetch(w, (5, 0, 0, 0))
    w.block_command(OP.EVICT, (1, 0, 0, 1), arg2=R.TIER.WARM)
    kv_fetch(w, (1, 0, 0, 1))                                   # from the warm tier
    w.block_command(OP.EVICT, (1, 0, 0, 1), arg2=R.TIER.COLD)
    kv_fetch(w, (1, 0, 0, 1))                                   # from the cold tier
    w.block_command(OP.DIR_DELETE, (1, 0, 0, 2))
    kv_fetch(w, (1, 0, 0, 2))
    kv_append(w, (1, 0, 0, 2), kv_values(rng, 9, d1))
    kv_fetch(w, (1, 0, 0, 2))
    fetch_timeout(w, free_key(w, 6, 0, 0))
    prefetch_hit(w, free_key(w, 6, 0, 2))
    image_forgotten(w, free_key(w, 6, 0, 3))
    move_timeouts(w, 6, 0, 1)
    append_timeout(w, free_key(w, 6, 1, 0))
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    for index in range(w.params.dir_entries):
        w.read_window(index)
    w.dump()


def span_layer(w, keys_of):
    """The first layer whose keys (keys_of(layer): block keys) are all absent and fit in the
    free ways of their directory sets."""
    d = w.model.policy.dir
    for layer in range(256):
        keys = keys_of(layer)
        need = {}
        for key in keys:
            s = d.set_of(*key)
            need[s] = need.get(s, 0) + 1
        if (all(d.lookup(*key) is None for key in keys)
                and all(n <= d.free_ways(s).size for s, n in need.items())):
            return layer
    raise WorkloadError("no layer whose span keys fit in the directory")


def block_fetch_directed(w, session=8):
    """BLOCK_FETCH, each path on purpose: a span of two heads x three blocks in the hot, warm and
    cold tiers with a partial block, a block borrowed from the shared prefix session 0 once the
    session holds a reference to it (NOT_FOUND before, published or not; ISOLATION once the
    management domain released it under the session), NOT_FOUND, BAD_STATE and every BAD_ARG span, and a span whose
    middle block's warm slot stops answering (TIMEOUT: a zero block there, the rest streamed).
    DMA_WATCHDOG is left at a margin over every tier's timing (as move_timeouts leaves it): the
    failed slot's entry may be taken again later."""
    OP, ST, rng, T = R.OPCODE, R.STATUS, w.rng, BLOCK_TOKENS
    D = w.params.cq_lanes                          # one codec beat per token

    def span(want, first, tokens, head=0, heads=1):
        got = block_fetch(w, session, layer, head, first, tokens, heads)
        if got != want:
            raise WorkloadError(f"BLOCK_FETCH of {tokens} tokens from {first}, heads {head}+{heads}: "
                                f"golden answers status {got}, the scenario meant {want}")

    ensure_open(w, session)
    configure_codec(w, MODES.index("CQ4"), D)
    layer = span_layer(w, lambda layer: [(session, layer, h, b) for h in (0, 1) for b in range(3)]
                       + [(0, layer, 0, 3), (session, layer, 1, 3)])
    for h in (0, 1):
        for b in range(3):
            kv_append(w, (session, layer, h, b), kv_values(rng, 32 if (h, b) != (1, 2) else 7, D))
    w.block_command(OP.EVICT, (session, layer, 0, 1), arg2=R.TIER.WARM)
    w.block_command(OP.EVICT, (session, layer, 1, 2), arg2=R.TIER.COLD)
    kv_check(w)
    span(ST.OK, 0, 3 * T - 25, heads=2)           # all six, head by head, from all three tiers
    # the shared prefix: session 0's block 3 is borrowed only while the session holds a reference
    shared = (0, layer, 0, 3)
    kv_append(w, shared, kv_values(rng, 32, D))
    span(ST.NOT_FOUND, 2 * T, 2 * T)
    expect_command(w, OP.SHARE_PREFIX, shared, ST.OK)                 # published
    span(ST.NOT_FOUND, 2 * T, 2 * T)                                  # ... but not this session's
    expect_command(w, OP.DIR_ACCESS, (session, layer, 1, 0), ST.OK)
    expect_command(w, OP.SHARE_PREFIX, (session,) + shared[1:], ST.OK)   # its reference
    span(ST.OK, 2 * T, 2 * T)                     # its own block 2, then the borrowed block 3
    span(ST.NOT_FOUND, 0, 5 * T)                  # block 4 is nobody's
    expect_command(w, OP.DIR_ACCESS, (session, layer, 0, 0), ST.OK)
    # the management domain releases its reference and the session's: the fallback is refused
    # and leaves nothing behind (the next DIR_ACCESS of any session is its own)
    for _ in range(2):
        expect_command(w, OP.RELEASE, shared, ST.OK)
    span(ST.ISOLATION, 2 * T, 2 * T)
    expect_command(w, OP.DIR_ACCESS, (session, layer, 1, 0), ST.OK)
    expect_command(w, OP.RELEASE, (session,) + shared[1:], ST.BAD_ARG)  # nothing left to drop
    w.block_command(OP.DIR_INSERT, (session, layer, 1, 3), arg2=R.TIER.WARM)
    span(ST.BAD_STATE, 2 * T, 2 * T, head=1)      # block 3 of head 1 holds no image
    for first, tokens, head, heads in ((5, T, 0, 1), (0, 0, 0, 1), (0, T, 0, 0), (0, 65 * T, 0, 1),
                                       (0, 33 * T, 0, 2), (0, T, 255, 2), (((1 << 24) - 1) * T, 2 * T, 0, 1)):
        span(ST.BAD_ARG, first, tokens, head, heads)
    # the middle block's warm slot stops answering
    entry = w.model.policy.dir.lookup(session, layer, 0, 1)
    w.write(R.DMA_WATCHDOG, w.watchdog_margin("hot", "warm", "cold"))
    w.fault("warm", entry << slot_shift(w.params) | 2)
    span(ST.TIMEOUT, 0, 3 * T)
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    w.dump()
    for key in [(session, layer, h, b) for h in (0, 1) for b in range(4)] + [(0, layer, 0, 3)]:
        entry = w.model.policy.dir.lookup(*key)     # accessed only by the fetches that read them
        if entry is not None:
            w.read_window(entry)


def codec_commands(w, count):
    """Seeded random KV traffic: appends in random modes, sizes and outlier settings (with the
    occasional refusal), fetches and span fetches of present and absent blocks, deletes,
    evictions to warm and cold, directory inserts, MARK_HOT and PREFETCH hints and step advances,
    and the rest of the opcodes between them (directory accesses, shared prefixes, session
    states, NOP, ECHO, unknown opcodes): the workload form of golden.data_plane.random_mix, with
    every opcode in the mix. Every completion and fetched value checked."""
    rng, OP, p = w.rng, R.OPCODE, w.params
    dims = [d for d in range(p.cq_lanes, min(p.cq_dim, 32) + 1, p.cq_lanes)]
    # sessions 1 and 2 and the shared prefix session 0 (whose blocks the spans may borrow)
    ensure_open(w, 1, 2)
    keys = [(s, layer, head, b) for s in (0, 1, 2) for layer in range(2) for head in range(3) for b in range(4)]
    for index in range(min(p.cq_rom_entries, 8)):
        write_rom(w, index, sorted(rng.sample(range(8), 4)))
    for _ in range(count):
        x = rng.random()
        key = rng.choice(keys)
        if x < 0.34:
            mode, dim = rng.randrange(3), rng.choice(dims)
            configure_codec(w, mode, dim, outliers=rng.choice([0, 1, 2, 2, 3, 4]), head_bits=2)
            tokens = rng.choice([32, 32, rng.randint(1, 31)])
            kv_append(w, key, kv_values(rng, tokens, dim), framing_ok=rng.random() > 0.05)
        elif x < 0.62:
            configure_codec(w, rng.randrange(3), rng.choice(dims[:2]))
            kv_fetch(w, key)
        elif x < 0.75:      # a span, most often from a stored block: one to three blocks of one or two heads
            stored = [k for k in keys if w.model.policy.dir.lookup(*k) is not None]
            session, layer, head, block = rng.choice(stored) if stored and rng.random() < 0.8 else key
            blocks = rng.choice((1, 1, 2, 3))
            block_fetch(w, session, layer, head, block * BLOCK_TOKENS,
                        rng.randint((blocks - 1) * BLOCK_TOKENS + 1, blocks * BLOCK_TOKENS), rng.choice((1, 1, 2)))
        elif x < 0.82:
            w.block_command(OP.DIR_DELETE, key)
        elif x < 0.88:
            w.block_command(OP.EVICT, key, arg2=rng.choice((0, R.TIER.WARM, R.TIER.COLD)))
        elif x < 0.91:
            w.block_command(OP.DIR_INSERT, key, arg2=R.TIER.HOT)
        elif x < 0.92:      # pinned: the scans leave it hot until an EVICT unpins it
            w.block_command(OP.MARK_HOT, key)
        elif x < 0.96:      # a hint: the next steps' scans may bring the block back hot
            w.block_command(OP.PREFETCH, key, arg2=w.model.policy.hepc.step + rng.randint(0, 4))
        elif x < 0.97:
            w.write(R.STEP_ADVANCE, w.model.policy.hepc.step + rng.randint(0, 2))
        else:
            other_command(w, key)
        kv_check(w)
        if rng.random() < 0.2:       # between the KV commands, the host's own traffic
            other_command(w, rng.choice(keys))
            kv_check(w)
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    w.dump()



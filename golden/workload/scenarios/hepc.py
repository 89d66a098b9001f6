"""Scenarios of the directory and policy engine (rtbd, hepc): commands, guards, scans, and
the replays of decode and Mooncake traces."""

from golden import kv1_regs as R
from golden.channelquant import MODES
from golden.frame import TABLE_OPCODES
from golden.kvpath import kv_values, slot_shift
from golden.traces import DecodeSpec, decode_trace, mooncake_trace
from golden.workload.driver import WorkloadError, configure_codec, kv_append, kv_fetch, ensure_open
from golden.workload.scenarios.commands import frame_command, kv_command, session_mix_command


def policy_directed(w):
    """Every policy path and guard once, on purpose, in the default registers' scale: eviction
    with a selection pass and tied priorities, stalls on a full queue, the pin, prefix and DECODE
    guards, hint and threshold prefetch (with selection), hint slots and DECODE slots full,
    every refused argument."""
    OP, ST = R.OPCODE, R.STATUS
    p = w.params
    model = w.model.policy

    def expect(status):
        w.settle()
        got = w.model.cplq[-1].status if w.model.cplq else None
        if got != status:
            raise WorkloadError(f"directed policy scenario: expected status {status}, golden says {got}")
        w.pop_all()

    def command(opcode, key, arg2=None, status=ST.OK):
        w.block_command(opcode, key, arg2)
        expect(status)

    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "CLEAR", 1))
    sessions = [1, 3, 99, *range(4, 4 + p.decode_slots)]
    ensure_open(w, *sessions)
    for state in (R.SESSION_STATE.DECODE, 9):
        w.submit(OP.SESSION_SET_STATE, 3, arg0=state)
        expect(ST.OK if state == R.SESSION_STATE.DECODE else ST.BAD_ARG)
    # 20 hot blocks of session 1 (two sets fill: DIR_FULL), frequencies in pairs: tied priorities;
    # the second is a shared block (session 0's), for the prefix guard and the references
    hot = []
    for b in range(64):
        if len(hot) == 20:
            break
        key = (0 if len(hot) == 1 else 1, b % 2, 0, b)
        w.block_command(OP.DIR_INSERT, key, arg2=R.TIER.HOT)
        w.settle()
        if w.model.cplq[-1].status == ST.OK:
            hot.append(key)
        w.pop_all()
    if len(hot) < 20:
        raise WorkloadError("directed policy scenario: the directory took fewer than 20 blocks")
    command(OP.DIR_INSERT, hot[0], R.TIER.HOT, status=ST.BAD_ARG)           # already present
    command(OP.DIR_INSERT, (1, 0, 0, 1 << 24), R.TIER.HOT, status=ST.BAD_ARG)  # index too wide
    command(OP.DIR_INSERT, (1, 0, 0, 500), 3, status=ST.BAD_ARG)          # no tier 3
    for n, key in enumerate(hot):
        for _ in range(n // 2):
            command(OP.DIR_ACCESS, key)
    command(OP.DIR_ACCESS, (1, 7, 7, 7), status=ST.NOT_FOUND)
    command(OP.MARK_HOT, hot[0])                                     # pin guard
    # references: a tenant's SHARE_PREFIX and RELEASE name the shared block of their key, and
    # only once the management domain has published it; none marks a block of its own
    by_tenant = (1,) + hot[1][1:]
    command(OP.SHARE_PREFIX, by_tenant, status=ST.ISOLATION)         # not published yet
    command(OP.RELEASE, by_tenant, status=ST.ISOLATION)
    command(OP.SHARE_PREFIX, hot[2], status=ST.NOT_FOUND)            # session 0 has no block there
    command(OP.SHARE_PREFIX, hot[1])                                 # published: the prefix guard
    command(OP.SHARE_PREFIX, by_tenant)
    command(OP.RELEASE, by_tenant)
    command(OP.EVICT, hot[1], R.TIER.WARM, status=ST.BAD_STATE)
    command(OP.DIR_DELETE, hot[1], status=ST.BAD_STATE)              # not under its readers
    command(OP.EVICT, hot[2], 3, status=ST.BAD_ARG)                  # no tier 3 to evict to
    decode_key = (3, 0, 0, 0)
    command(OP.DIR_INSERT, decode_key, R.TIER.HOT)                   # DECODE guard
    # step 1: 21 hot > 12; the 14 lowest-P unprotected go (more candidates than that: a
    # selection pass), 13 > the queue's depth: the scan stalls until the EVICT channel drains it
    w.write(R.STEP_ADVANCE, 1)
    w.settle()
    w.dump()
    # hints: one within the horizon, one beyond it, one on a hot block, then the slots fill
    warm = [k for k in hot if model.dir.tier[model.dir.lookup(*k)] != R.TIER.HOT]
    command(OP.PREFETCH, warm[0], 3)
    command(OP.PREFETCH, warm[1], 9)
    command(OP.PREFETCH, hot[0], 2)
    command(OP.PREFETCH, warm[1], 0, status=ST.BAD_ARG)             # target passed: the held hint stays
    for k in warm[3:3 + p.hint_slots - 3]:
        command(OP.PREFETCH, k, 30)
    command(OP.PREFETCH, warm[-1], 30, status=ST.DIR_FULL)
    command(OP.PREFETCH, warm[0], 2)                                 # a held hint moves
    # threshold prefetch with more candidates than room: low threshold, high watermark 16
    w.write(R.HEPC_THRESHOLD, 100)
    w.write(R.HEPC_WATERMARKS, 16 | 4 << 16)
    for t in (2, 9):
        w.write(R.STEP_ADVANCE, t)
        w.settle()
        w.read(R.HEPC_STATUS)   # hot count, hints held, sessions in DECODE
    w.submit(OP.STEP_ADVANCE, 0, arg0=8)                             # backwards
    expect(ST.BAD_ARG)
    # EVICT of a hot block pushes it; RELEASE and SHARE limits; DELETE drops its hint
    command(OP.RELEASE, hot[1])
    command(OP.RELEASE, hot[1], status=ST.BAD_ARG)
    command(OP.EVICT, hot[1], R.TIER.COLD)                           # hot to cold
    command(OP.DIR_DELETE, warm[1])
    command(OP.DIR_DELETE, warm[1], status=ST.NOT_FOUND)
    for s in range(4, 4 + p.decode_slots):
        w.submit(OP.SESSION_SET_STATE, s, arg0=R.SESSION_STATE.DECODE)
        w.settle()
        w.pop_all()
    for state in (R.SESSION_STATE.IDLE, R.SESSION_STATE.DECODE):
        w.submit(OP.SESSION_SET_STATE, 3, arg0=state)
        expect(ST.OK)
    w.submit(OP.SESSION_SET_STATE, 99, arg0=R.SESSION_STATE.DECODE)
    expect(ST.DIR_FULL)
    w.write(R.HEPC_WATERMARKS, 12 | 8 << 16)
    w.write(R.HEPC_THRESHOLD, 48000)
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    for index in range(p.dir_entries):
        w.read_window(index)
    w.dump()
    close_all(w, sessions)


def close_all(w, sessions):
    """SESSION_CLOSE, as the management domain, of those of `sessions` that are open: a scenario
    leaves the table (and the DECODE guard) as it found them."""
    w.as_domain(0)
    for s in sessions:
        if w.model.plane.sessions.get(s) is not None:
            w.submit(R.OPCODE.SESSION_CLOSE, s)
            w.settle()
            w.pop_all()


MIX_CONFIGURATION = ("HEPC_WEIGHTS", "HEPC_CTRL", "HEPC_WATERMARKS", "HEPC_THRESHOLD", "SESSION_QUOTA")


def policy_commands(w, count):
    """Seeded random directory and policy commands on a key space larger than the directory
    (so sets fill: DIR_FULL), with steps, hints, guards, configuration changes (SESSION_QUOTA
    among them; now and then a tenant's write, refused), refused arguments and window reads, and
    now and then any other opcode (KV_APPEND, KV_FETCH, BLOCK_FETCH, NOP, ECHO, unknown); every
    completion is checked. The configuration is put back at the end."""
    rng = w.rng
    OP = R.OPCODE
    configuration = {reg: w.stored_value(getattr(R, reg)) for reg in MIX_CONFIGURATION}
    keys = [(s, layer, head, b) for s in range(1, 5) for layer in range(2) for head in range(2) for b in range(8)]
    shared = [(0, 0, 0, b) for b in range(4)]  # shared prefix blocks (session 0)
    keys += shared
    present = []
    ensure_open(w, *range(1, 5))
    for k in shared:          # published up front, so that tenants' references have blocks to name
        w.block_command(OP.DIR_INSERT, k, arg2=R.TIER.HOT)
        w.block_command(OP.SHARE_PREFIX, k)
        if w.model.policy.dir.lookup(*k) is not None:
            present.append(k)

    def key():
        return rng.choice(present) if present and rng.random() < 0.8 else rng.choice(keys)

    def reference_key():
        """Half the time a tenant session naming a shared block's key (its reference to it)."""
        return (rng.randint(1, 4),) + rng.choice(shared)[1:] if rng.random() < 0.5 else key()

    for _ in range(count):
        x = rng.random()
        step = w.model.policy.hepc.step
        if x < 0.22:
            k = rng.choice(keys)
            tier = rng.choice([R.TIER.HOT] * 3 + [R.TIER.WARM, R.TIER.COLD])
            if rng.random() < 0.03:
                tier = rng.randint(3, 2**32 - 1)          # no such tier: BAD_ARG
            if rng.random() < 0.03:
                k = k[:3] + (rng.randint(1 << 24, 2**32 - 1),)   # block index beyond 24 bits
            w.block_command(OP.DIR_INSERT, k, arg2=tier)
            if k not in present and k in keys:
                present.append(k)
        elif x < 0.44:
            w.block_command(OP.DIR_ACCESS, key())
        elif x < 0.46:
            k = key()
            w.block_command(OP.DIR_DELETE, k)
            if k in present:
                present.remove(k)
        elif x < 0.60:
            t = step + rng.randint(0, 3)
            if rng.random() < 0.1:
                w.submit(OP.STEP_ADVANCE, 0, arg0=max(step - rng.randint(1, 2), 0) if step else 0)
            else:
                w.write(R.STEP_ADVANCE, t)
        elif x < 0.62:
            w.block_command(OP.MARK_HOT, key())
        elif x < 0.70:
            w.block_command(OP.EVICT, key(), arg2=rng.choice((0, R.TIER.WARM, R.TIER.COLD, 3)))
        elif x < 0.76:
            w.block_command(OP.PREFETCH, key(), arg2=max(step + rng.randint(-1, 8), 0))
        elif x < 0.81:
            w.block_command(OP.SHARE_PREFIX, reference_key())
        elif x < 0.85:
            w.block_command(OP.RELEASE, reference_key())
        elif x < 0.875:
            w.submit(OP.SESSION_SET_STATE, rng.randint(1, 6), arg0=rng.choice([0, 1, 1, 2, 2, 3, 4, 5]))
        elif x < 0.89:
            session_mix_command(w, rng.randint(1, 6))
        elif x < 0.90:      # the window as the manager or as domain 1 (its own sessions' slots only)
            w.settle()
            w.as_domain(rng.choice((0, 0, 1)))
            w.read_window(rng.choice(range(w.params.dir_entries + 2)))
            w.as_domain(0)
        elif x < 0.93:      # the KV path's and the frame's opcodes between the policy's
            k = key()
            kv_command(w, k) if rng.random() < 0.5 else frame_command(w, k[0])
        elif x < 0.96:
            w.settle()
        else:
            w.settle()
            reg = rng.choice(MIX_CONFIGURATION)
            value = {"HEPC_WEIGHTS": rng.getrandbits(32),
                     "HEPC_CTRL": rng.randint(0, 16) | rng.randint(0, 8) << 8,
                     "HEPC_WATERMARKS": rng.randint(4, 24) | rng.randint(0, 20) << 16,
                     "HEPC_THRESHOLD": rng.choice([0, 20000, 48000, 65535]),
                     "SESSION_QUOTA": rng.randint(0, 3) | rng.randint(0, 2) << 8 | rng.randint(0, 3) << 16}[reg]
            w.as_domain(rng.choice((0, 0, 0, 1)))     # now and then a tenant's: refused (privileged)
            w.write(getattr(R, reg), value)
            w.as_domain(0)
        w.settle()
        w.read(R.HEPC_STATUS)
        w.pop_all()
    w.settle()
    w.pop_all()
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    w.read(R.HEPC_STATUS)
    for index in range(w.params.dir_entries):
        w.read_window(index)
    w.dump()
    close_all(w, range(1, 7))
    for reg, value in configuration.items():      # the scenarios after the mix meet the chip as it was
        w.write(getattr(R, reg), value)


# the main job's decode workload: sized for the sim set's 64-entry directory, hot tier of 16
DECODE_SIM = DecodeSpec(sessions=4, steps=1024, system_prompt_blocks=2, prompt_blocks=(2, 6), recent_blocks=2,
                        lookback_period=8, lookback_blocks=2, hint_lead=3, lifetime=(48, 160), layers=1)


DECODE_HOT_HIGH, DECODE_HOT_LOW = 16, 12


def trace_replay(w, trace, hot_high, hot_low, dim=None, prefetch=True):
    """A block trace (golden/traces.py) as the runtime would drive the chip: per step, sessions
    opened before their first use, state changes (DECODE while the trace decodes them, IDLE
    between), appends (DIR_INSERT), prefix references (SHARE_PREFIX), accesses (DIR_ACCESS),
    PREFETCH hints, releases, then STEP_ADVANCE (whose moves the dma carries out); every block
    is deleted after its last use and every session closed after its last step (and one an
    earlier scenario left open closed before the first). Commands go in batches the queues hold;
    every completion is checked against golden.

    With `dim`, the blocks carry data: an append is a KV_APPEND of 32 tokens (CQ-4 at D = dim,
    seeded values), an access a KV_FETCH whose fp32 stream is checked, each waited for on its own.
    Without `prefetch`, the hints are left out and HEPC_THRESHOLD is 65535, so nothing is
    prefetched (the baseline of sim.fetch_bench)."""
    OP = R.OPCODE
    last_use = {}
    first_use, session_end = {}, {}
    for k, st in enumerate(trace):
        for b in st.appends + st.accesses + [b for b, _ in st.hints]:
            last_use[b] = k
        for s in {b[0] for b in st.appends + st.accesses + st.shared} | st.decode_sessions:
            first_use.setdefault(s, k)
            session_end[s] = k
    batch = min(w.params.cmdq_depth, w.params.cplq_depth)
    pending = []

    def command(opcode, *args, **kw):
        if len(pending) == batch:
            flush()
        pending.append(opcode)
        if opcode == OP.SESSION_OPEN:       # every argument written: the registers hold the last command's
            w.submit(opcode, args[0], arg0=0, arg2=0)
        elif opcode == OP.SESSION_CLOSE:
            w.submit(opcode, args[0])
        elif opcode == OP.SESSION_SET_STATE:
            w.submit(opcode, args[0], arg0=args[1])
        else:
            w.block_command(opcode, *args, **kw)

    def flush():
        """Retire the batch; a session command that golden refuses is the scenario's mistake."""
        w.settle()
        done = len(w.completions)
        w.pop_all()
        for opcode, status in zip(pending, w.completions[done:]):
            if opcode in TABLE_OPCODES and status != R.STATUS.OK:
                raise WorkloadError(f"{R.OPCODE_NAMES[opcode]} answered status {status} in the trace replay")
        pending.clear()

    # a session an earlier scenario of the same workload left open is closed first (the
    # management domain may revoke any), so that the trace opens each of its own afresh
    w.settle()
    w.pop_all()
    for s in sorted(s for s in first_use if s and w.model.plane.sessions.get(s) is not None):
        command(OP.SESSION_CLOSE, s)
    flush()
    w.write(R.HEPC_WATERMARKS, hot_high | hot_low << 16)
    if not prefetch:
        w.write(R.HEPC_THRESHOLD, 0xFFFF)
    if dim:
        configure_codec(w, MODES.index("CQ4"), dim, outliers=0)
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "CLEAR", 1))
    decoding = set()
    for k, st in enumerate(trace):
        for s in sorted(s for s, first in first_use.items() if first == k and s):
            command(OP.SESSION_OPEN, s)
        for s in sorted(decoding - st.decode_sessions):
            command(OP.SESSION_SET_STATE, s, R.SESSION_STATE.IDLE)
        for s in sorted(st.decode_sessions - decoding):
            command(OP.SESSION_SET_STATE, s, R.SESSION_STATE.DECODE)
        decoding = set(st.decode_sessions)
        for b in st.appends:
            if dim:
                flush()
                kv_append(w, b, kv_values(w.rng, 32, dim, specials=False))
            else:
                command(OP.DIR_INSERT, b, arg2=R.TIER.HOT)
        for b in st.shared:
            command(OP.SHARE_PREFIX, b)
        for b in st.accesses:
            if dim:
                flush()
                kv_fetch(w, b)
            else:
                command(OP.DIR_ACCESS, b)
        for b, target in st.hints if prefetch else ():
            command(OP.PREFETCH, b, arg2=target)
        for b in st.shared:
            command(OP.RELEASE, b)
        for b in sorted(b for b, last in last_use.items() if last == k):
            command(OP.DIR_DELETE, b)
        for s in sorted(s for s, end in session_end.items() if end == k and s):
            command(OP.SESSION_CLOSE, s)
            decoding.discard(s)
        flush()
        w.write(R.STEP_ADVANCE, k + 1)
        w.settle()
        w.pop_all()
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    w.read(R.HEPC_STATUS)
    w.dump()


def decode_replay(w, steps, spec=DECODE_SIM, seed=1, dim=None, prefetch=True):
    """The synthetic decode workload, `steps` steps of it (trace_replay: `dim` for blocks that
    carry data, `prefetch` False for none)."""
    trace_replay(w, decode_trace(spec, seed=seed)[:steps], DECODE_HOT_HIGH, DECODE_HOT_LOW, dim, prefetch)


def mooncake_replay(w, requests):
    """The first `requests` requests of the Mooncake conversation trace (golden/data), one
    step each. At the sim set's 64 entries the live blocks overflow some sets: those inserts
    complete with DIR_FULL, as golden says."""
    trace = mooncake_trace(limit=requests)
    if len(trace) < requests:
        raise WorkloadError(f"the Mooncake trace has {len(trace)} requests, not {requests}")
    trace_replay(w, trace, DECODE_HOT_HIGH, DECODE_HOT_LOW)


def promote(w, key):
    """A PREFETCH hint for the next step, then that step (next_step_with_room): the hint's
    prefetch brings the block hot."""
    w.block_command(R.OPCODE.PREFETCH, key, arg2=w.model.policy.hepc.step + 1)
    next_step_with_room(w)


def next_step_with_room(w):
    """STEP_ADVANCE to the next step with the watermarks lifted so the hot tier has room for the
    hints' prefetches; the watermarks are put back."""
    watermarks = w.stored_value(R.HEPC_WATERMARKS)
    w.write(R.HEPC_WATERMARKS, w.params.dir_entries | (w.params.dir_entries - 1) << 16)
    w.write(R.STEP_ADVANCE, w.model.policy.hepc.step + 1)
    w.settle()
    w.pop_all()
    w.write(R.HEPC_WATERMARKS, watermarks)


def free_key(w, session, layer, kv_head, later=0):
    """The first block key of (session, layer, kv_head) that is absent and whose directory set has
    a free way with a hot slot that answers: an append there is stored (the scenarios below need
    their blocks to exist). With `later` = n, n more free ways come first in that set (the block
    is stored after n other inserts into it)."""
    d, words = w.model.policy.dir, 1 << slot_shift(w.params)
    for block in range(1 << 16):
        s = d.set_of(session, layer, kv_head, block)
        free = d.free_ways(s)
        if (d.lookup(session, layer, kv_head, block) is None and free.size > later
                and not w.model.kv.meets_silence((R.TIER.HOT,), s * d.ways + int(free[later]), words)):
            return session, layer, kv_head, block
    raise WorkloadError(f"no free directory way for a block of session {session}, layer {layer}, head {kv_head}")



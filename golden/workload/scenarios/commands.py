"""One random command of each block, for the random mixes, which draw from every opcode."""
from golden import kv1_regs as R
from golden.kvpath import kv_values
from golden.policy_engine import BLOCK_TOKENS
from golden.workload.driver import configure_codec, kv_append, kv_fetch, block_fetch


def other_command(w, key):
    """One of the opcodes the KV traffic does not send itself, on block key or its session."""
    rng, OP = w.rng, R.OPCODE
    op = rng.choice((OP.DIR_ACCESS, OP.DIR_ACCESS, OP.SHARE_PREFIX, OP.RELEASE, OP.SESSION_SET_STATE,
                     OP.SESSION_OPEN, OP.STEP_ADVANCE, OP.NOP, OP.NOP))   # the second NOP: frame_command's share
    if op == OP.SESSION_SET_STATE:
        w.submit(op, key[0], arg0=rng.choice((0, 1, 1, 2, 2, 3, 4, 5)))
    elif op == OP.SESSION_OPEN:     # a closed session opens again; an open one is refused
        session_mix_command(w, key[0])
    elif op == OP.STEP_ADVANCE:     # now and then a tenant's, which may not move it (ISOLATION)
        w.as_domain(rng.choice((0, 0, 0, 1)))
        w.submit(op, 0, arg0=w.model.policy.hepc.step + rng.randint(0, 1))
        w.as_domain(0)
    elif op == OP.NOP:
        frame_command(w, key[0])
    else:
        w.block_command(op, key)


def session_mix_command(w, session):
    """SESSION_OPEN (ARG2 reserved bits set now and then: BAD_ARG), or now and then
    SESSION_CLOSE, of `session`; sometimes as requester domain 1, whose session the others may
    not name (ISOLATION) until it closes (domain 0 may close it)."""
    rng, OP = w.rng, R.OPCODE
    w.as_domain(rng.choice((0, 0, 0, 1)))
    if rng.random() < 0.25:
        w.submit(OP.SESSION_CLOSE, session)
    else:
        arg2 = rng.randrange(4) | rng.getrandbits(8) << 8 | rng.getrandbits(8) << 16
        if rng.random() < 0.1:
            arg2 |= 1 << rng.choice((2, 7, 24, 31))
        w.submit(OP.SESSION_OPEN, session, arg0=rng.getrandbits(32), arg2=arg2)
    w.as_domain(0)


def kv_command(w, key):
    """A KV path command on block key: an append of a few tokens (any mode, D = one codec beat:
    short in MyHDL), a fetch or a one-block span (refused where the key holds no image)."""
    rng = w.rng
    x = rng.random()
    if x < 0.4:
        configure_codec(w, rng.randrange(3), w.params.cq_lanes, outliers=0)
        kv_append(w, key, kv_values(rng, rng.randint(1, 8), w.params.cq_lanes))
    elif x < 0.7:
        kv_fetch(w, key)
    else:
        session, layer, head, block = key
        block_fetch(w, session, layer, head, (block % (1 << 24)) * BLOCK_TOKENS, BLOCK_TOKENS)


MIX_STREAM_TIMEOUT = 512    # STREAM_TIMEOUT once a mix starves an ECHO: legit beats come far sooner


def frame_command(w, session):
    """NOP, ECHO (with its beats) or an opcode the die does not know (BAD_ARG). The ECHO is now
    and then requester domain 1's (its beats too), and now and then its data stops short: it waits
    out STREAM_TIMEOUT (set to MIX_STREAM_TIMEOUT the first time) and completes TIMEOUT."""
    rng, OP = w.rng, R.OPCODE
    op = rng.choice((OP.NOP, OP.ECHO, rng.randrange(len(R.OPCODE_NAMES), 256)))
    if op == OP.ECHO:
        beats = rng.randint(1, 3)
        short = rng.random() < 0.15
        if short and w.model.stored[("STREAM_TIMEOUT", "CYCLES")] != MIX_STREAM_TIMEOUT:
            w.write(R.STREAM_TIMEOUT, MIX_STREAM_TIMEOUT)
        w.as_domain(rng.choice((0, 0, 1)))
        w.submit(op, session, arg0=beats)
        if short:
            w.stream(rng.randrange(beats), framing_ok=False)
            w.stream_timeout()
        else:
            w.stream(beats)
        w.as_domain(0)
    else:
        w.submit(op, session)

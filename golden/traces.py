"""Block-access traces for policy studies: the synthetic decode generator and the Mooncake replayer.

A trace is a list of decode steps. Each Step says which blocks are appended (new, they
enter the hot tier), which are accessed, which PREFETCH hints the runtime gives (block,
target step), and which blocks are shared prefix blocks the step's requests hold a
reference to (SHARE_PREFIX before the step, RELEASE after it). Blocks are directory keys
(session, layer, kv_head, block index).
"""
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

SHARED_SESSION = 0  # DESIGN §3: session 0 tags shared prefix blocks
TRACES = Path(__file__).resolve().parent / "data"        # provenance and licence: data/README.md


@dataclass
class Step:
    appends: list = field(default_factory=list)
    accesses: list = field(default_factory=list)
    hints: list = field(default_factory=list)      # (block, target step)
    shared: list = field(default_factory=list)     # prefix blocks referenced during this step
    decode_sessions: set = field(default_factory=set)


@dataclass(frozen=True)
class DecodeSpec:
    """The synthetic decode workload (DESIGN §10): sessions sharing a system prompt, attention
    sinks, a recent window and periodic look-backs announced by PREFETCH hints."""
    sessions: int = 12
    steps: int = 1536
    block_tokens: int = 32
    system_prompt_blocks: int = 4
    prompt_blocks: tuple = (4, 24)      # own prompt length range, blocks
    sink_blocks: int = 1
    recent_blocks: int = 2
    lookback_period: int = 16           # steps between look-backs of a session
    lookback_blocks: int = 4
    hint_lead: int = 3                  # steps ahead the runtime announces a look-back
    lifetime: tuple = (256, 1024)       # decode steps per session
    layers: int = 2


def decode_trace(spec: DecodeSpec = DecodeSpec(), seed=1):
    """-> [Step]. Sessions start staggered and are replaced when they finish."""
    rng = random.Random(seed)
    steps = [Step() for _ in range(spec.steps)]
    system = [(SHARED_SESSION, layer, 0, b) for layer in range(spec.layers) for b in range(spec.system_prompt_blocks)]
    steps[0].appends += system
    next_session = 1
    slots = []  # (session, start step, end step, own prompt blocks)
    for k in range(spec.sessions):
        start = k * spec.steps // (4 * spec.sessions)
        slots.append([next_session, start, start + rng.randint(*spec.lifetime), rng.randint(*spec.prompt_blocks)])
        next_session += 1
    for slot in slots:
        while slot[1] < spec.steps:
            session, start, end, prompt = slot
            blocks = prompt
            steps[start].appends += [(session, layer, 0, b) for layer in range(spec.layers) for b in range(prompt)]
            phase = rng.randrange(spec.lookback_period)
            for t in range(start, min(end, spec.steps)):
                step = steps[t]
                step.decode_sessions.add(session)
                if (t - start) and (t - start) % spec.block_tokens == 0:
                    step.appends += [(session, layer, 0, blocks) for layer in range(spec.layers)]
                    blocks += 1
                own = list(range(min(spec.sink_blocks, blocks))) + list(range(max(blocks - spec.recent_blocks, 0), blocks))
                if (t - start) % spec.lookback_period == phase and blocks > spec.sink_blocks + spec.recent_blocks:
                    older = range(spec.sink_blocks, blocks - spec.recent_blocks)
                    look = rng.sample(older, min(spec.lookback_blocks, len(older)))
                    own += look
                    announce = t - spec.hint_lead
                    if announce >= start:
                        steps[announce].hints += [((session, layer, 0, b), t) for layer in range(spec.layers)
                                                  for b in look]
                for layer in range(spec.layers):
                    step.accesses += [(SHARED_SESSION, layer, 0, b) for b in range(spec.system_prompt_blocks)]
                    step.accesses += [(session, layer, 0, b) for b in sorted(set(own))]
                step.shared += [blk for blk in system]
            # the slot is reused by a new session after a short gap
            gap = rng.randint(1, 16)
            slot[:] = [next_session, end + gap, end + gap + rng.randint(*spec.lifetime), rng.randint(*spec.prompt_blocks)]
            next_session += 1
    for step in steps:
        step.shared = sorted(set(step.shared))
    return steps


def mooncake_trace(path=None, limit=None):
    """Replay of the Mooncake conversation trace: one step per request, in arrival order. A request
    accesses its chained 512-token prefix blocks; a block seen for the first time is appended, and
    a block that an earlier request already used is a shared prefix block for this request."""
    path = Path(path) if path else TRACES / "mooncake_conversation_trace.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"Mooncake trace not found: {path}")
    seen = set()
    steps = []
    with path.open() as f:
        for n, line in enumerate(f):
            if limit is not None and n >= limit:
                break
            row = json.loads(line)
            blocks = [(SHARED_SESSION, 0, 0, h) for h in row["hash_ids"]]
            step = Step()
            step.appends = [b for b in blocks if b not in seen]
            step.accesses = [b for b in blocks if b in seen]
            step.shared = [b for b in blocks if b in seen]
            seen.update(blocks)
            steps.append(step)
    return steps

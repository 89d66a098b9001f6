"""Golden model of the dma block (hdl/dma): three channels moving directory slots between tiers.

The transfer-level contract of one dma, the part of golden/data_plane.py below the directory:

- A descriptor names an entry, the tier to read its slot from, the tier to write it to (moves;
  None for a fetch, whose words go to the decompressor) and the slot's length in tier-port words.
  The slot of entry e starts at word address e << slot_shift in every tier.
- Each channel (FETCH, EVICT, PREFETCH) completes its own descriptors in order; channels do not
  order against each other (the die never gives two channels the same entry at once).
- A move copies the source slot's words to the destination slot and completes OK once the
  destination has acknowledged every word: the block now lives at the destination. A fetch
  streams the slot's words, all of them after the last has arrived (so a fetch that times out
  has streamed nothing), and completes OK after the last one.
- A silent slot (a memory that accepts requests for it and never answers) makes a transfer
  with words to move time out: TIMEOUT, nothing written to the destination, nothing streamed,
  the block still where it was. A transfer of no words (an entry with no image) touches no
  memory and completes OK at once.
- Tags: every read request and every write carries its transfer's tag, and the memory returns
  it with the answer (read data, write acknowledge). A transfer takes only the answers with its
  own tag; an answer that comes after its transfer gave up (a memory slower than DMA_WATCHDOG,
  or its tail latency) is discarded and counted (LATE_ANSWERS), never taken for a later
  transfer's. A tag is the channel's code in its low bits (FETCH 1, EVICT 2, PREFETCH 3; 0 is
  kvpath's hot writes) over a count of that channel's transfers: an answer is recognised as late
  as long as fewer than 2^(TAG_BITS - 2) transfers of its channel started after its own.
"""
from dataclasses import dataclass

from golden import kv1_regs as R

# the tier ports, named after the register map's TIER codes, in code order (a port's index is its code)
TIERS = tuple(R.TIER_NAMES[code].lower() for code in sorted(R.TIER_NAMES))
FETCH, EVICT, PREFETCH = "FETCH", "EVICT", "PREFETCH"
CHANNELS = (FETCH, EVICT, PREFETCH)
TAG_BITS = 10                 # 2 bits of channel code, 8 of transfer count
TAG_CHANNEL_BITS = 2
KV_TAG = 0                    # the tag of kvpath's own hot writes (KV_APPEND)
CHANNEL_CODE = {FETCH: 1, EVICT: 2, PREFETCH: 3}


@dataclass(frozen=True)
class Descriptor:
    entry: int
    source: int
    dest: object            # a tier for a move, None for a fetch
    words: int


@dataclass(frozen=True)
class Done:
    entry: int
    tier: int               # where the block lives now
    words: int              # words moved (0 on TIMEOUT)
    timeout: bool


def times_out(words, tiers, entry, hung):
    """A transfer of `words` words touching `tiers` for `entry` meets a silent slot."""
    return words > 0 and any((t, entry) in hung for t in tiers if t is not None)


def run(slot_shift, queues, memories, hung=frozenset()):
    """Carry out every channel's descriptors. `queues` maps a channel to its descriptors,
    `memories` a tier to {word address: word} (changed in place), `hung` holds (tier, entry)
    silent slots. -> ({channel: [Done]}, [the word lists the fetches streamed])."""
    done = {ch: [] for ch in CHANNELS}
    fetched = []
    for ch in CHANNELS:
        for d in queues.get(ch, ()):
            if (ch == FETCH) != (d.dest is None):
                raise ValueError(f"{ch} descriptor {d}: a fetch has no destination, a move has one")
            if not 0 <= d.words <= 1 << slot_shift:
                raise ValueError(f"{ch} descriptor {d}: a slot holds at most {1 << slot_shift} words")
            base = d.entry << slot_shift
            if times_out(d.words, (d.source, d.dest), d.entry, hung):
                done[ch].append(Done(d.entry, d.source, 0, True))
                continue
            words = [memories[d.source].get(base + k, 0) for k in range(d.words)]
            if d.dest is None:
                if words:
                    fetched.append(words)
                done[ch].append(Done(d.entry, d.source, d.words, False))
            else:
                memories[d.dest].update((base + k, w) for k, w in enumerate(words))
                done[ch].append(Done(d.entry, d.dest, d.words, False))
    return done, fetched

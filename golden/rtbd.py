"""Golden model of the request-tagged block directory (RTBD, DESIGN §3), in numpy.

One entry per KV block of B tokens of one (session, layer, kv_head): 241 bits packed
LSB-first in the field order below, in a 32-byte slot. The directory is hashed and
set-associative: a block's set is CRC-32 of its key (session, layer, kv_head, block
index) modulo the number of sets; insertion takes the lowest free way, so placement is
deterministic, and a full set answers DIR_FULL. Entry index = set * ways + way.
Fields are kept as one numpy array each (structure of arrays) so that policy scans over
65,536 entries are vector operations.
"""
import zlib
from dataclasses import dataclass, fields as dc_fields

import numpy as np

from golden import kv1_regs as R
from golden.session import Quota, under

SLOT_BYTES = 32
# (name, bits), packed from bit 0 upwards
ENTRY_LAYOUT = (
    ("session", 16), ("layer", 8), ("kv_head", 8), ("token_start", 32), ("token_end", 32),
    ("tier", 2), ("addr", 64), ("priority", 16), ("access_step", 32), ("ref_count", 8),
    ("prefix", 1), ("dirty", 1), ("r", 8), ("f", 8), ("valid", 1), ("codec_tier", 2), ("pinned", 1),
    ("quarantined", 1),     # a move of the block timed out: the scans leave it where it is (golden/hepc.py)
)
ENTRY_BITS = sum(w for _, w in ENTRY_LAYOUT)
assert ENTRY_BITS == 241 and ENTRY_BITS <= 8 * SLOT_BYTES

TIER_HOT, TIER_WARM, TIER_COLD = 0, 1, 2


@dataclass
class Entry:
    session: int = 0
    layer: int = 0
    kv_head: int = 0
    token_start: int = 0
    token_end: int = 0
    tier: int = TIER_HOT
    addr: int = 0
    priority: int = 0
    access_step: int = 0
    ref_count: int = 0
    prefix: int = 0
    dirty: int = 0
    r: int = 0
    f: int = 0
    valid: int = 0
    codec_tier: int = 0
    pinned: int = 0
    quarantined: int = 0

    def pack(self) -> bytes:
        word, shift = 0, 0
        for name, width in ENTRY_LAYOUT:
            value = int(getattr(self, name))
            if not 0 <= value < 1 << width:
                raise ValueError(f"entry field {name}={value} does not fit {width} bits")
            word |= value << shift
            shift += width
        return word.to_bytes(SLOT_BYTES, "little")

    @classmethod
    def unpack(cls, slot: bytes) -> "Entry":
        if len(slot) != SLOT_BYTES:
            raise ValueError(f"a directory slot is {SLOT_BYTES} bytes, got {len(slot)}")
        word, shift, values = int.from_bytes(slot, "little"), 0, {}
        if word >> ENTRY_BITS:
            raise ValueError(f"bits above the {ENTRY_BITS}-bit entry are set")
        for name, width in ENTRY_LAYOUT:
            values[name] = (word >> shift) & ((1 << width) - 1)
            shift += width
        return cls(**values)


assert [f.name for f in dc_fields(Entry)] == [n for n, _ in ENTRY_LAYOUT]


def block_key(session, layer, kv_head, block_index):
    """The 7-byte lookup key: session 16, layer 8, kv_head 8, block index 24 (little-endian)."""
    if not (0 <= session < 1 << 16 and 0 <= layer < 1 << 8 and 0 <= kv_head < 1 << 8
            and 0 <= block_index < 1 << 24):
        raise ValueError(f"key out of range: {(session, layer, kv_head, block_index)}")
    return (session | layer << 16 | kv_head << 24 | block_index << 32).to_bytes(7, "little")


class DirectoryError(Exception):
    def __init__(self, status, msg):
        super().__init__(msg)
        self.status = status


class Directory:
    """Entries as arrays: `d.tier[i]`, `d.r[i]`, ... (int64, wide enough for every field)."""

    def __init__(self, entries, ways, block_tokens):
        sets = entries // ways
        if entries % ways or sets & (sets - 1):
            raise ValueError(f"{entries} entries in {ways} ways must give a power-of-two set count")
        self.ways, self.sets, self.block_tokens = ways, sets, block_tokens
        self.size = entries
        for name, width in ENTRY_LAYOUT:
            setattr(self, name, np.zeros(entries, dtype=np.uint64 if width == 64 else np.int64))
        self._where = {}  # key -> index: the model's shortcut; the hardware compares the set's ways
        self.quota = Quota()   # SESSION_QUOTA.DIR_WAYS: ways of a set one session may hold

    def set_of(self, session, layer, kv_head, block_index):
        return zlib.crc32(block_key(session, layer, kv_head, block_index)) % self.sets

    def free_ways(self, set_index):
        """-> the ways of set `set_index` that hold no entry, in way order."""
        return np.flatnonzero(self.valid[set_index * self.ways:(set_index + 1) * self.ways] == 0)

    def has_room(self, set_index, session):
        """May `session` enter one more block into set `set_index`: a free way, and fewer of the
        set's ways than its quota hold its entries?"""
        ways = slice(set_index * self.ways, (set_index + 1) * self.ways)
        held = int(np.count_nonzero((self.valid[ways] != 0) & (self.session[ways] == session)))
        return self.free_ways(set_index).size > 0 and under(self.quota.dir_ways, held)

    def lookup(self, session, layer, kv_head, block_index):
        """-> entry index, or None."""
        return self._where.get((session, layer, kv_head, block_index))

    def entry(self, index) -> Entry:
        return Entry(**{name: int(getattr(self, name)[index]) for name, _ in ENTRY_LAYOUT})

    def slot(self, index) -> bytes:
        """The raw 32-byte slot, as the BAR2 window shows it."""
        return self.entry(index).pack()

    def insert(self, entry: Entry):
        """Enter a block; -> its index. DIR_FULL when its set is full or the session holds its
        quota of the set's ways, BAD_ARG when the block is already present or does not start on a
        block boundary. A refused insert changes nothing."""
        entry.pack()  # range-checks every field
        if entry.token_start % self.block_tokens:
            raise DirectoryError(R.STATUS.BAD_ARG, f"token_start {entry.token_start} is not block-aligned")
        key = (entry.session, entry.layer, entry.kv_head, entry.token_start // self.block_tokens)
        if key in self._where:
            raise DirectoryError(R.STATUS.BAD_ARG, f"block {key} is already in the directory")
        s = self.set_of(*key)
        if not self.has_room(s, entry.session):
            raise DirectoryError(R.STATUS.DIR_FULL, f"set {s} is full, or session {entry.session}'s quota of it")
        index = s * self.ways + int(self.free_ways(s)[0])
        entry.valid = 1
        for name, _ in ENTRY_LAYOUT:
            getattr(self, name)[index] = getattr(entry, name)
        self._where[key] = index
        return index

    def key(self, index):
        """(session, layer, kv_head, block index) of entry `index`."""
        return (int(self.session[index]), int(self.layer[index]), int(self.kv_head[index]),
                int(self.token_start[index]) // self.block_tokens)

    def delete(self, index):
        if not self.valid[index]:
            raise DirectoryError(R.STATUS.NOT_FOUND, f"no valid entry {index}")
        del self._where[self.key(index)]
        for name, _ in ENTRY_LAYOUT:
            getattr(self, name)[index] = 0

    def valid_indices(self):
        return np.flatnonzero(self.valid)

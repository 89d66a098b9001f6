"""Golden model of the session block (DESIGN §6): the session table, the lifecycle and the
requester domains.

The table is hashed and set-associative, like the directory (golden/rtbd.py): a session's set
is CRC-32 of its 16-bit id modulo the number of sets, SESSION_OPEN takes the lowest free way,
and a full set answers DIR_FULL. So the hardware finds a session in one read of one set, and
which opens are refused is the same in golden and RTL.

Session 0 is the shared prefix session. It is always open, in no state, and belongs to the
management domain (0). Domain 0 may also close any session (revocation) and read any
session's directory entries through the window (another domain reads only its own sessions'),
and only domain 0 moves the decode step (STEP_ADVANCE); it may not fetch another domain's data
nor move another domain's session through its states.

QoS accounting: each open session has a token bucket of its DMA byte budget (0: no budget),
refilled at every decode step (the window: each STEP_ADVANCE the management domain runs), and
counters of the bytes and commands it moved; every command the table let through (a LOOKUP
answered OK) takes its completion's BYTES out of the bucket (down to 0) and adds them and itself
to the counters. The QoS window shows them by entry index (qos_window); the stall counter beside
them counts cycles, which no transaction model knows.
"""
import zlib
from dataclasses import dataclass

from golden import kv1_regs as R

SHARED_SESSION = 0
MANAGEMENT_DOMAIN = 0
SESSION_WAYS = 4
COUNTER_MAX = 2**32 - 1
# the QoS window's 32-bit words (QOS_WIN_SESSION .. QOS_WIN_STALL), least significant first;
# IDENT is the session id, its domain above it and the valid bit above that
QOS_WINDOW = ("ident", "tokens", "bytes", "commands", "stall")

# one table entry, least significant field first: the RTL's word and the window's view
SESSION_LAYOUT = (("session", 16), ("domain", 8), ("state", 3), ("priority", 2), ("budget", 32),
                  ("profile", 8), ("version", 8), ("valid", 1))
WIDTH = dict(SESSION_LAYOUT)
ENTRY_BITS = sum(WIDTH.values())

S = R.SESSION_STATE
# the valid moves (DESIGN §6); any open state may also go to CLOSED
NEXT_STATES = {
    S.PREFILL: {S.DECODE},
    S.DECODE: {S.IDLE},
    S.IDLE: {S.DECODE, S.ARCHIVED},
    S.ARCHIVED: {S.IDLE},       # through the warm-up only: the data plane runs it
}


@dataclass(frozen=True)
class Quota:
    """SESSION_QUOTA: what one session (dir_ways, hints) or one requester domain (decode) may
    hold of the shared tables; 0 is no quota."""
    dir_ways: int = 0       # ways of one directory set
    decode: int = 0         # sessions in DECODE
    hints: int = 0          # PREFETCH hint slots


def quota(stored):
    """The quotas the register holds; `stored` maps (register, field) to its value."""
    return Quota(*(stored[("SESSION_QUOTA", f)] for f in ("DIR_WAYS", "DECODE", "HINTS")))


def under(limit, held):
    """May one more be taken under quota `limit` (0: none) with `held` taken already?"""
    return not limit or held < limit


def session_set(session, sets):
    """The table set that holds `session` (CRC-32 of its id, two bytes little-endian)."""
    return zlib.crc32(int(session).to_bytes(2, "little")) % sets


@dataclass
class Session:
    domain: int
    state: int
    priority: int          # QoS class
    budget: int            # DMA bytes per window
    profile: int           # codec profile id
    version: int           # codec profile version
    tokens: int = 0        # the bucket: budget bytes left in this window
    moved: int = 0         # bytes its commands moved (saturating)
    commands: int = 0      # commands of it the table let through (saturating)


def pack(session, s):
    """The table word of open session `session` (SESSION_LAYOUT)."""
    values = dict(vars(s), session=session, valid=1)
    word, lsb = 0, 0
    for name, width in SESSION_LAYOUT:
        word |= values[name] << lsb
        lsb += width
    return word


class SessionTable:
    """The open sessions, way by way. Every method returns a STATUS code and changes nothing
    when it refuses."""

    def __init__(self, entries, ways=SESSION_WAYS, decode_slots=None):
        """`decode_slots`: how many sessions may be in DECODE at once (HEPC's DECODE guard
        holds that many); None for no limit."""
        if entries % ways or entries < ways:
            raise ValueError(f"a session table of {entries} entries in {ways} ways")
        self.ways, self.sets = ways, entries // ways
        self.decode_slots = entries if decode_slots is None else decode_slots
        self.slots = [[None] * ways for _ in range(self.sets)]   # (session id, Session) or None
        self.decoding = set()      # the sessions in DECODE: what HEPC's DECODE guard reads
        self.quota = Quota()       # the owner sets it from SESSION_QUOTA

    def _find(self, session):
        for way, slot in enumerate(self.slots[session_set(session, self.sets)]):
            if slot is not None and slot[0] == session:
                return way
        return None

    def get(self, session):
        """The open session `session` (None when it is not open)."""
        way = self._find(session)
        return None if way is None else self.slots[session_set(session, self.sets)][way][1]

    def index(self, session):
        """Entry index (set * ways + way) of an open session, None when it is not open."""
        way = self._find(session)
        return None if way is None else session_set(session, self.sets) * self.ways + way

    def words(self):
        """Every entry's word in index order (0 for a free way)."""
        return [0 if slot is None else pack(*slot) for ways in self.slots for slot in ways]

    def __len__(self):
        return sum(slot is not None for ways in self.slots for slot in ways)

    def check(self, session, domain):
        """May `domain` act for `session`? OK, BAD_SESSION (not open) or ISOLATION (another
        domain's). Session 0 is the management domain's."""
        if session == SHARED_SESSION:
            return R.STATUS.OK if domain == MANAGEMENT_DOMAIN else R.STATUS.ISOLATION
        s = self.get(session)
        if s is None:
            return R.STATUS.BAD_SESSION
        return R.STATUS.OK if s.domain == domain else R.STATUS.ISOLATION

    def sees(self, reader, session, used):
        """May requester domain `reader` see a directory entry of `session` (the directory
        window)? The management domain sees every slot; any other domain only a slot in use
        (`used`) by one of its own open sessions."""
        return reader == MANAGEMENT_DOMAIN or (bool(used) and self.check(session, reader) == R.STATUS.OK)

    def open(self, session, domain, priority=0, budget=0, profile=0, version=0):
        """SESSION_OPEN: the session starts in PREFILL, bound to `domain`."""
        for name, value in (("domain", domain), ("priority", priority), ("budget", budget),
                            ("profile", profile), ("version", version)):
            if not 0 <= value < 1 << WIDTH[name]:
                raise ValueError(f"session {name} {value} does not fit {WIDTH[name]} bits")
        if session == SHARED_SESSION or self.get(session) is not None:
            return R.STATUS.BAD_STATE
        ways = self.slots[session_set(session, self.sets)]
        if None not in ways:
            return R.STATUS.DIR_FULL
        ways[ways.index(None)] = (session, Session(domain, S.PREFILL, priority, budget, profile, version,
                                                   tokens=budget))
        return R.STATUS.OK

    def charge(self, session, nbytes):
        """A command of open session `session` moved `nbytes` (its completion's BYTES)."""
        s = self.get(session)
        s.tokens = max(0, s.tokens - nbytes)
        s.moved = min(s.moved + nbytes, COUNTER_MAX)
        s.commands = min(s.commands + 1, COUNTER_MAX)

    def refill(self):
        """A new window: every bucket holds its budget again."""
        for ways in self.slots:
            for slot in ways:
                if slot is not None:
                    slot[1].tokens = slot[1].budget

    def qos_window(self, index):
        """The QoS window's words of entry `index` (QOS_WINDOW order; zeros for a free way or
        an index beyond the table), and the domain that owns it (None when free)."""
        set_, way = divmod(index, self.ways)
        slot = self.slots[set_][way] if set_ < self.sets else None
        if slot is None:
            return [0] * len(QOS_WINDOW), None
        session, s = slot
        ident = session | s.domain << WIDTH["session"] | 1 << WIDTH["session"] + WIDTH["domain"]
        return [ident, s.tokens, s.moved, s.commands, 0], s.domain

    def may_enter(self, session, domain, state):
        """Is SESSION_SET_STATE(state) allowed now? OK, BAD_ARG (no such state), BAD_SESSION,
        ISOLATION, BAD_STATE (not a valid move; session 0 has no state) or DIR_FULL (a move into
        DECODE while `decode_slots` sessions, or quota.decode of the session's domain, are in
        DECODE)."""
        if state not in R.SESSION_STATE_NAMES:
            return R.STATUS.BAD_ARG
        status = self.check(session, domain)
        if status != R.STATUS.OK:
            return status
        if session == SHARED_SESSION:
            return R.STATUS.BAD_STATE
        if state != S.CLOSED and state not in NEXT_STATES[self.get(session).state]:
            return R.STATUS.BAD_STATE
        if state == S.DECODE and len(self.decoding) >= self.decode_slots:
            return R.STATUS.DIR_FULL
        if state == S.DECODE and not under(self.quota.decode, sum(self.get(d).domain == domain
                                                                 for d in self.decoding)):
            return R.STATUS.DIR_FULL
        return R.STATUS.OK

    def enter(self, session, domain, state):
        """SESSION_SET_STATE: the move, once may_enter allowed it (CLOSED frees the way)."""
        status = self.may_enter(session, domain, state)
        if status != R.STATUS.OK:
            return status
        if state == S.CLOSED:
            return self.close(session, domain)
        self.get(session).state = state
        if state == S.DECODE:
            self.decoding.add(session)
        else:
            self.decoding.discard(session)
        return R.STATUS.OK

    def close(self, session, domain):
        """SESSION_CLOSE: the way is free again. The management domain may close any session."""
        s = self.get(session)
        if session == SHARED_SESSION:
            return R.STATUS.BAD_STATE if domain == MANAGEMENT_DOMAIN else R.STATUS.ISOLATION
        if s is None:
            return R.STATUS.BAD_SESSION
        if s.domain != domain and domain != MANAGEMENT_DOMAIN:
            return R.STATUS.ISOLATION
        ways = self.slots[session_set(session, self.sets)]
        ways[self._find(session)] = None
        self.decoding.discard(session)
        return R.STATUS.OK

    def in_state(self, state):
        """The open sessions in `state`, in table order."""
        return [slot[0] for ways in self.slots for slot in ways if slot is not None and slot[1].state == state]

"""Golden model of the HEPC eviction and prefetch policy (DESIGN §4), vectorised over the directory.

On an access (fetch, score, append): R := 255, F := min(F + 1, 255), access_step := t.
STEP_ADVANCE(t) updates every valid entry (the hardware scans them in index order):
    R := max(R - 1, 0)
    S := W - (t - access_step) if t - access_step < W else 0
    D := 255 if prefix else 0
    P := min(wR*R + wF*F + wS*S + wD*D, 0xFFFF), and 0xFFFF for a pinned entry
then
    evict:    while hot occupancy > high watermark, demote (to warm) the lowest-P unprotected
              hot entry (ties: lowest index) until occupancy < low watermark;
    prefetch: promote warm/cold entries that hold a PREFETCH hint whose target step is within
              the horizon (earliest target first), then entries with P > threshold (highest P
              first), ties lowest index, while occupancy < high watermark; nothing demoted in
              this step is promoted in it.
The result lists victims in index order, and promotions hint by hint, then in index order:
the order in which the hardware's passes push them to the evict and prefetch queues.
Protected (never evicted): prefix with ref count > 0, pinned, and entries of a session in
DECODE accessed within the window. A prefix block with references is neither EVICTed nor
deleted (DIR_DELETE): BAD_STATE, nothing changed. Hints expire once their target step has passed.
Quarantined entries (a move of theirs timed out: golden/data_plane.py) are neither evicted nor
promoted by a scan, hint or threshold, so a slot that stopped answering costs the watchdog once,
not at every step. MARK_HOT and EVICT clear the quarantine (software names the tier it wants,
and the move is tried again); DIR_DELETE removes it with the entry.

References are per session (DESIGN §6). A tenant session's SHARE_PREFIX of a published shared
block (session 0's, prefix bit set) enters a reference entry under the tenant's own key: prefix
bit set, a reference count of 1, cold, quarantined, no image, so the scans never move it, it
never counts as hot, and DIR_DELETE and EVICT refuse it as a referenced prefix block; MARK_HOT
and PREFETCH refuse it too (BAD_STATE). The shared block's count goes up by one. The tenant's
fetches follow the reference to the shared block, and only while it holds it; its RELEASE
deletes its reference entry and takes the count down again, and a close does the same for every
reference the session holds. A session 0 SHARE_PREFIX publishes the block and takes a reference
of the management domain's, counted alike.
"""
from dataclasses import dataclass, field

import numpy as np

from golden import kv1_regs as R
from golden.rtbd import Directory, DirectoryError, Entry, TIER_HOT, TIER_WARM, TIER_COLD
from golden.session import Quota, under

P_MAX = 0xFFFF
U8_MAX = 255


def lowest_first(indices, keys):
    """The entries `indices` ordered by key, ties by the lowest index: the order the scan selects
    in (hepc's kth_key and apply pass). Evicting keys by P, prefetching by 0xFFFF - P."""
    indices = np.asarray(indices)
    return indices[np.lexsort((indices, keys[indices]))]


def evict_candidates(d, protected):
    """Hot entries the scan may demote: valid, not protected, not quarantined."""
    return (d.valid == 1) & (d.tier == TIER_HOT) & ~protected & (d.quarantined == 0)


def promote_candidates(d):
    """Entries a hint or the threshold may promote: valid, warm or cold, not quarantined."""
    return (d.valid == 1) & (d.tier != TIER_HOT) & (d.quarantined == 0)


@dataclass
class PolicyConfig:
    """The policy registers. Weights and window were tuned on the decode workload
    (`python -m golden.policy_eval`, docs/results.md); they keep every path reachable: a fresh,
    frequent prefix block saturates P (255 * (128+16+128) + 128 * 8 > 0xFFFF)."""
    w_r: int = 128
    w_f: int = 16
    w_s: int = 128
    w_d: int = 128
    window: int = 8          # steps: recency term S and the DECODE guard
    hot_high: int = 12       # hot-tier occupancy (blocks) above which the scan evicts
    hot_low: int = 8         # ... down to below this
    prefetch_threshold: int = 48000
    horizon: int = 4         # steps ahead a PREFETCH hint is acted on
    hint_slots: int = 8


@dataclass
class StepResult:
    evicted: list = field(default_factory=list)     # entry indices demoted, in order
    prefetched: list = field(default_factory=list)  # entry indices promoted, in order


class Hepc:
    def __init__(self, directory: Directory, config: PolicyConfig = None):
        self.dir = directory
        self.cfg = config or PolicyConfig()
        self.step = 0
        self.hints = {}               # entry index -> target step
        self.quota = Quota()          # SESSION_QUOTA.HINTS: hint slots one session's blocks may hold
        self.decode_sessions = set()  # sessions in DECODE: the session table's (golden/session.py)

    # ---------------------------------------------------------------- metadata
    def access(self, index):
        d = self.dir
        d.r[index] = U8_MAX
        d.f[index] = min(int(d.f[index]) + 1, U8_MAX)
        d.access_step[index] = self.step

    def priorities(self, t):
        """P of every entry at step t (entries not valid included; callers mask them)."""
        d, c = self.dir, self.cfg
        age = t - d.access_step
        s = np.where(age < c.window, c.window - age, 0)
        p = c.w_r * d.r + c.w_f * d.f + c.w_s * s + c.w_d * (U8_MAX * d.prefix)
        return np.where(d.pinned == 1, P_MAX, np.minimum(p, P_MAX))

    def protected(self, t):
        d = self.dir
        decode = np.isin(d.session, list(self.decode_sessions)) & (t - d.access_step < self.cfg.window)
        return ((d.prefix == 1) & (d.ref_count > 0)) | (d.pinned == 1) | decode

    def hot_occupancy(self):
        d = self.dir
        return int(np.count_nonzero((d.valid == 1) & (d.tier == TIER_HOT)))

    # -------------------------------------------------------------------- scan
    def step_advance(self, t):
        if t < self.step:
            raise DirectoryError(R.STATUS.BAD_ARG, f"step {t} is before the current step {self.step}")
        d, c = self.dir, self.cfg
        self.step = t
        valid = d.valid == 1
        d.r[:] = np.where(valid, np.maximum(d.r - 1, 0), d.r)
        d.priority[:] = np.where(valid, self.priorities(t), d.priority)
        self.hints = {i: tgt for i, tgt in self.hints.items() if tgt >= t and d.valid[i]}
        result = StepResult()
        hot = valid & (d.tier == TIER_HOT)
        occ = int(np.count_nonzero(hot))
        if occ > c.hot_high:
            idx = np.flatnonzero(evict_candidates(d, self.protected(t)))
            victims = lowest_first(idx, d.priority)[:max(occ - c.hot_low + 1, 0)]
            d.tier[victims] = TIER_WARM
            result.evicted = sorted(int(i) for i in victims)
            occ -= len(victims)
        candidates = promote_candidates(d)
        candidates[result.evicted] = False
        hinted = sorted((tgt, i) for i, tgt in self.hints.items() if candidates[i] and tgt - t <= c.horizon)
        hinted_set = {i for _, i in hinted}
        above = np.flatnonzero(candidates & (d.priority > c.prefetch_threshold))
        above = [int(i) for i in lowest_first(above, P_MAX - d.priority) if int(i) not in hinted_set]
        room = max(c.hot_high - occ, 0)
        by_hint = [i for _, i in hinted][:room]
        chosen = by_hint + sorted(above[:room - len(by_hint)])
        d.tier[chosen] = TIER_HOT
        for i in chosen:
            self.hints.pop(i, None)
        result.prefetched = chosen
        return result

    def delete(self, index):
        """Remove an entry and any hint on it. A shared prefix block still referenced answers
        BAD_STATE: its readers hold it."""
        self._refuse_referenced(index)
        self._remove(index)

    def _remove(self, index):
        self.dir.delete(index)
        self.hints.pop(index, None)

    # ------------------------------------------------------------------- hints
    def _check(self, index):
        if not (0 <= index < self.dir.size) or not self.dir.valid[index]:
            raise DirectoryError(R.STATUS.NOT_FOUND, f"no valid entry {index}")

    def _refuse_referenced(self, index):
        if self.dir.prefix[index] and self.dir.ref_count[index] > 0:
            raise DirectoryError(R.STATUS.BAD_STATE, f"entry {index} is a referenced prefix block")

    def is_reference(self, index):
        """A tenant's reference entry (the prefix bit on an entry of a session other than 0)."""
        return bool(self.dir.prefix[index]) and int(self.dir.session[index]) != 0

    def _refuse_reference(self, index):
        if self.is_reference(index):
            raise DirectoryError(R.STATUS.BAD_STATE, f"entry {index} is a reference to a shared block")

    def mark_hot(self, index):
        """Pin: never evicted, P = 0xFFFF, so a pinned warm block is promoted at the next step."""
        self._check(index)
        self._refuse_reference(index)
        self.dir.pinned[index] = 1
        self.dir.quarantined[index] = 0

    def evict(self, index):
        """Demote now and unpin; -> True when the block left the hot tier. A shared prefix block
        still referenced answers BAD_STATE."""
        self._check(index)
        self._refuse_referenced(index)
        d = self.dir
        d.pinned[index] = 0
        d.quarantined[index] = 0
        self.hints.pop(index, None)
        if d.tier[index] == TIER_HOT:
            d.tier[index] = TIER_WARM
            return True
        return False

    def prefetch(self, index, target_step):
        self._check(index)
        self._refuse_reference(index)
        if target_step < self.step:
            raise DirectoryError(R.STATUS.BAD_ARG, f"target step {target_step} has passed")
        if index not in self.hints:           # a new hint takes a slot; a held one is retargeted
            if len(self.hints) >= self.cfg.hint_slots:
                raise DirectoryError(R.STATUS.DIR_FULL, "no free PREFETCH hint slot")
            session = self.dir.session[index]
            if not under(self.quota.hints, sum(self.dir.session[i] == session for i in self.hints)):
                raise DirectoryError(R.STATUS.DIR_FULL, f"session {session} holds its quota of hint slots")
        self.hints[index] = target_step

    def share_prefix(self, index):
        self._check(index)
        d = self.dir
        if d.ref_count[index] == U8_MAX:
            raise DirectoryError(R.STATUS.BAD_ARG, f"entry {index} reference count is at its limit")
        d.prefix[index] = 1
        d.ref_count[index] += 1

    def release(self, index):
        self._check(index)
        if self.dir.ref_count[index] == 0:
            raise DirectoryError(R.STATUS.BAD_ARG, f"entry {index} has no reference to release")
        self.dir.ref_count[index] -= 1

    def take_reference(self, session, shared):
        """A tenant `session`'s SHARE_PREFIX of published shared block `shared`: its reference
        entry under its own key, then one more reference on the block. BAD_ARG when the block's
        count is at its limit or the tenant has an entry of that key already (a reference or a
        block of its own), DIR_FULL when its set is full; nothing changed then."""
        d = self.dir
        if d.ref_count[shared] == U8_MAX:
            raise DirectoryError(R.STATUS.BAD_ARG, f"entry {shared} reference count is at its limit")
        _, layer, kv_head, block = d.key(shared)
        start = block * d.block_tokens
        d.insert(Entry(session=session, layer=layer, kv_head=kv_head, token_start=start,
                       token_end=start + d.block_tokens - 1, tier=TIER_COLD, ref_count=1, prefix=1,
                       quarantined=1))
        d.ref_count[shared] += 1

    def drop_reference(self, session, shared):
        """A tenant's RELEASE: BAD_ARG unless it holds a reference to `shared` (its own entry of
        the key is a reference entry); then the entry goes and the block's count goes down."""
        d = self.dir
        own = d.lookup(session, *d.key(shared)[1:])
        if d.ref_count[shared] == 0 or own is None or not self.is_reference(own):
            raise DirectoryError(R.STATUS.BAD_ARG, f"session {session} holds no reference to entry {shared}")
        d.delete(own)
        d.ref_count[shared] -= 1

    def park(self, session):
        """IDLE -> ARCHIVED: every entry of `session` but its references, in index order, as
        EVICT to the cold tier does (unpinned, out of quarantine, its hint dropped). -> the
        indices that leave the hot or warm tier for cold (each a move on the EVICT channel)."""
        d = self.dir
        moved = []
        for index in self._own_entries(session):
            leaves = d.tier[index] != TIER_COLD
            self.evict(index)
            if leaves:
                d.tier[index] = TIER_COLD
                moved.append(index)
        return moved

    def warm_up(self, session):
        """ARCHIVED -> IDLE: every cold entry of `session` but its references and the
        quarantined, in index order, to the warm tier. -> their indices (each a move on the
        PREFETCH channel)."""
        d = self.dir
        moved = [i for i in self._own_entries(session) if d.tier[i] == TIER_COLD and not d.quarantined[i]]
        for index in moved:
            d.tier[index] = TIER_WARM
        return moved

    def _own_entries(self, session):
        """The valid entries of `session` but its reference entries, in index order."""
        d = self.dir
        return [int(i) for i in np.flatnonzero((d.valid == 1) & (d.session == session) & (d.prefix == 0))]

    def forget_session(self, session):
        """A close's sweep, in index order: every entry of `session` goes with its hint; each of
        its references takes its shared block's count down (when that block is still a
        published one with references: the management domain may have released them). -> the
        indices deleted."""
        d = self.dir
        gone = [int(i) for i in np.flatnonzero((d.valid == 1) & (d.session == session))]
        for index in gone:
            if self.is_reference(index):
                shared = d.lookup(0, *d.key(index)[1:])
                if shared is not None and d.prefix[shared] and d.ref_count[shared] > 0:
                    d.ref_count[shared] -= 1
            self._remove(index)
        return gone

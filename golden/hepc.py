"""Golden model of the HEPC eviction and prefetch policy (DESIGN §4) over the directory.

On an access (fetch, score, append): R := 255, F := min(F + 1, 255), access_step := t.
STEP_ADVANCE(t) scans the valid entries in index order:
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
Protected (never evicted): prefix with ref count > 0, pinned, and entries of a session in
DECODE accessed within the window. Hints expire once their target step has passed.
"""
from dataclasses import dataclass, field

from golden import kv1_regs as R
from golden.directory import Directory, DirectoryError, TIER_HOT, TIER_WARM

P_MAX = 0xFFFF
U8_MAX = 255


@dataclass
class PolicyConfig:
    """The policy registers. Defaults make every path reachable (tests prove it):
    a hot, fresh, frequent prefix block saturates P (255 * (64+32+64+128) > 0xFFFF)."""
    w_r: int = 64
    w_f: int = 32
    w_s: int = 64
    w_d: int = 128
    window: int = 255
    hot_high: int = 12       # hot-tier occupancy (blocks) above which the scan evicts
    hot_low: int = 8         # ... down to below this
    prefetch_threshold: int = 24000
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
        self.hints = {}            # entry index -> target step
        self.decode_sessions = set()  # sessions in DECODE (set by the session lifecycle)

    # ---------------------------------------------------------------- metadata
    def access(self, index):
        e = self.dir.slots[index]
        e.r = U8_MAX
        e.f = min(e.f + 1, U8_MAX)
        e.access_step = self.step

    def priority(self, e, t):
        if e.pinned:
            return P_MAX
        age = t - e.access_step
        s = self.cfg.window - age if age < self.cfg.window else 0
        d = U8_MAX if e.prefix else 0
        c = self.cfg
        return min(c.w_r * e.r + c.w_f * e.f + c.w_s * s + c.w_d * d, P_MAX)

    def protected(self, e, t):
        return bool((e.prefix and e.ref_count > 0) or e.pinned
                    or (e.session in self.decode_sessions and t - e.access_step < self.cfg.window))

    def hot_occupancy(self):
        return sum(1 for e in self.dir.slots if e.valid and e.tier == TIER_HOT)

    # -------------------------------------------------------------------- scan
    def step_advance(self, t):
        if t < self.step:
            raise DirectoryError(R.STATUS.BAD_ARG, f"step {t} is before the current step {self.step}")
        self.step = t
        for i in self.dir.valid_indices():
            e = self.dir.slots[i]
            e.r = max(e.r - 1, 0)
            e.priority = self.priority(e, t)
        self.hints = {i: target for i, target in self.hints.items() if target >= t and self.dir.slots[i].valid}
        result = StepResult()
        occ = self.hot_occupancy()
        if occ > self.cfg.hot_high:
            victims = sorted((e.priority, i) for i, e in enumerate(self.dir.slots)
                             if e.valid and e.tier == TIER_HOT and not self.protected(e, t))
            for _, i in victims:
                if occ < self.cfg.hot_low:
                    break
                self.dir.slots[i].tier = TIER_WARM
                result.evicted.append(i)
                occ -= 1
        cold = [(i, e) for i, e in enumerate(self.dir.slots)
                if e.valid and e.tier != TIER_HOT and i not in result.evicted]
        hinted = sorted((self.hints[i], i) for i, _ in cold if i in self.hints and self.hints[i] - t <= self.cfg.horizon)
        scored = sorted((-e.priority, i) for i, e in cold
                        if e.priority > self.cfg.prefetch_threshold and i not in {j for _, j in hinted})
        for _, i in hinted + scored:
            if occ >= self.cfg.hot_high:
                break
            self.dir.slots[i].tier = TIER_HOT
            self.hints.pop(i, None)
            result.prefetched.append(i)
            occ += 1
        return result

    # ------------------------------------------------------------------- hints
    def _entry(self, index):
        if not (0 <= index < len(self.dir.slots)) or not self.dir.slots[index].valid:
            raise DirectoryError(R.STATUS.NOT_FOUND, f"no valid entry {index}")
        return self.dir.slots[index]

    def mark_hot(self, index):
        """Pin: never evicted, P = 0xFFFF, so a pinned warm block is promoted at the next step."""
        self._entry(index).pinned = 1

    def evict(self, index):
        """Demote now and unpin. A shared prefix block still referenced answers BAD_STATE."""
        e = self._entry(index)
        if e.prefix and e.ref_count > 0:
            raise DirectoryError(R.STATUS.BAD_STATE, f"entry {index} is a referenced prefix block")
        e.pinned = 0
        e.tier = TIER_WARM if e.tier == TIER_HOT else e.tier
        self.hints.pop(index, None)

    def prefetch(self, index, target_step):
        self._entry(index)
        if target_step < self.step:
            raise DirectoryError(R.STATUS.BAD_ARG, f"target step {target_step} has passed")
        if index not in self.hints and len(self.hints) >= self.cfg.hint_slots:
            raise DirectoryError(R.STATUS.DIR_FULL, "no free PREFETCH hint slot")
        self.hints[index] = target_step

    def share_prefix(self, index):
        e = self._entry(index)
        if e.ref_count == U8_MAX:
            raise DirectoryError(R.STATUS.BAD_ARG, f"entry {index} reference count is at its limit")
        e.prefix = 1
        e.ref_count += 1

    def release(self, index):
        e = self._entry(index)
        if e.ref_count == 0:
            raise DirectoryError(R.STATUS.BAD_ARG, f"entry {index} has no reference to release")
        e.ref_count -= 1

"""The directory and HEPC golden contract (DESIGN §3, §4): packing, placement, every policy path;
hepc's DECODE table in MyHDL against it."""
import random

import numpy as np
import pytest
from myhdl import Signal, ResetSignal

from golden import kv1_regs as R
from golden import params as param_sets
from golden.rtbd import Directory, DirectoryError, Entry, ENTRY_LAYOUT, SLOT_BYTES, TIER_HOT, TIER_WARM
from golden.hepc import Hepc, PolicyConfig, P_MAX
from golden.policy_engine import PolicyEngine
from hdl.hepc.decode_table import decode_table
from tests.blocks import sig, simulate

B = 32
SIM = param_sets.get("sim")


def test_entry_packs_241_bits_lsb_first_and_round_trips():
    rng = random.Random(1)
    for _ in range(200):
        e = Entry(**{n: rng.getrandbits(w) for n, w in ENTRY_LAYOUT})
        slot = e.pack()
        assert len(slot) == SLOT_BYTES and slot[31:] == b"\0" and slot[30] >> 1 == 0
        assert Entry.unpack(slot) == e
    # field positions: session at bit 0, pinned at bit 239, quarantined at bit 240
    assert Entry(session=0xBEEF).pack()[:2] == b"\xef\xbe"
    assert int.from_bytes(Entry(pinned=1).pack(), "little") == 1 << 239
    assert int.from_bytes(Entry(quarantined=1).pack(), "little") == 1 << 240


def test_entry_refuses_out_of_range_fields():
    with pytest.raises(ValueError, match="tier"):
        Entry(tier=4).pack()
    with pytest.raises(ValueError):
        Entry.unpack(b"\xff" * SLOT_BYTES)


def fill(directory, n, session=1, layer=0, head=0, tier=TIER_HOT):
    return [directory.insert(Entry(session=session, layer=layer, kv_head=head, token_start=b * B,
                                   token_end=b * B + B - 1, tier=tier)) for b in range(n)]


def test_placement_is_deterministic_and_full_set_is_dir_full():
    d1, d2 = Directory(64, 4, B), Directory(64, 4, B)
    assert fill(d1, 40) == fill(d2, 40)
    for i in d1.valid_indices():
        e = d1.entry(i)
        assert d1.lookup(e.session, e.layer, e.kv_head, e.token_start // B) == i
        assert i // 4 == d1.set_of(e.session, e.layer, e.kv_head, e.token_start // B)
        assert Entry.unpack(d1.slot(i)) == e
    # keep inserting until the block's set is full: DIR_FULL, and the refused insert changed nothing
    d = Directory(16, 2, B)
    for b in range(64):
        before = [d.slot(i) for i in range(d.size)]
        try:
            d.insert(Entry(session=2, token_start=b * B))
        except DirectoryError as err:
            assert err.status == R.STATUS.DIR_FULL
            s = d.set_of(2, 0, 0, b)
            assert all(d.valid[s * 2 + w] for w in range(2))
            assert [d.slot(i) for i in range(d.size)] == before
            break
    else:
        pytest.fail("64 blocks fitted in 16 entries")


def test_insert_refuses_duplicates_and_misaligned_blocks_and_delete_frees():
    d = Directory(16, 4, B)
    [i] = fill(d, 1)
    with pytest.raises(DirectoryError) as dup:
        fill(d, 1)
    assert dup.value.status == R.STATUS.BAD_ARG
    with pytest.raises(DirectoryError):
        d.insert(Entry(session=1, token_start=5))
    d.delete(i)
    assert d.lookup(1, 0, 0, 0) is None and fill(d, 1) == [i]
    with pytest.raises(DirectoryError) as gone:
        d.delete(15)
    assert gone.value.status == R.STATUS.NOT_FOUND


def test_priority_saturates_and_pinned_is_max():
    h = Hepc(Directory(16, 4, B))
    [i] = fill(h.dir, 1)
    d = h.dir
    d.prefix[i], d.f[i] = 1, 255
    h.access(i)
    c = h.cfg
    h.step_advance(1)
    wide = c.w_r * 254 + c.w_f * 255 + c.w_s * (c.window - 1) + c.w_d * 255
    assert wide > 0xFFFF and d.priority[i] == P_MAX  # saturated, not wrapped modulo 2^16
    d.prefix[i] = 0
    h.step_advance(2)
    assert d.priority[i] == c.w_r * 253 + c.w_f * 255 + c.w_s * (c.window - 2)
    h.step_advance(2 + c.window)  # age = window: S = 0
    assert d.priority[i] == c.w_r * 252 + c.w_f * 255  # R decays once per STEP_ADVANCE, not per step elapsed
    h.mark_hot(i)
    h.step_advance(303)
    assert d.priority[i] == P_MAX


def test_watermark_eviction_lowest_priority_first_and_guards():
    """With the default registers: 14 hot blocks > 12, so demote down to below 8."""
    h = Hepc(Directory(64, 4, B))
    idx = fill(h.dir, 14)
    for k, i in enumerate(idx):
        h.dir.f[i] = k * 10  # increasing frequency: increasing P
    protected_pin, protected_prefix, protected_decode = idx[0], idx[1], idx[2]
    h.mark_hot(protected_pin)
    h.share_prefix(protected_prefix)
    h.dir.session[protected_decode] = 9
    h.decode_sessions = {9}
    h.access(protected_decode)
    res = h.step_advance(1)
    # 14 hot > 12: the seven lowest-P unprotected blocks go (lowest F first), leaving 7 < 8
    assert res.evicted == sorted(idx[3:10])
    assert h.hot_occupancy() == 7
    assert all(h.dir.tier[i] == TIER_HOT for i in (protected_pin, protected_prefix, protected_decode))


def test_prefetch_by_threshold_and_by_hint_within_horizon():
    """With the default registers (threshold 48000, horizon 4)."""
    h = Hepc(Directory(64, 4, B))
    idx = fill(h.dir, 4, tier=TIER_WARM)
    h.dir.prefix[idx[0]] = 1
    h.access(idx[0])               # a fresh prefix block: 128*254 + 16 + 128*7 + 128*255 > 48000
    h.access(idx[3])               # fresh but not prefix: 33424, under the threshold
    h.prefetch(idx[1], target_step=7)
    h.prefetch(idx[2], target_step=2)
    res = h.step_advance(1)
    assert res.prefetched == [idx[2], idx[0]]   # hint within horizon first, then by threshold
    res = h.step_advance(3)
    assert res.prefetched == [idx[1]]           # target 7 is now within 4 steps
    assert h.dir.tier[idx[3]] == TIER_WARM


def test_quarantined_blocks_are_neither_evicted_nor_promoted_until_software_names_them():
    """A block whose move timed out (golden/data_plane.py sets `quarantined`) is skipped by the
    eviction (the next lowest-P block goes instead), by the hint and by the threshold; MARK_HOT
    lifts it (and pins: promoted at the next step), EVICT lifts it too."""
    h = Hepc(Directory(64, 4, B))
    idx = fill(h.dir, 14)
    for k, i in enumerate(idx):
        h.dir.f[i] = k * 10
    h.dir.quarantined[idx[0]] = 1                  # the lowest P
    res = h.step_advance(1)
    assert res.evicted == sorted(idx[1:8]) and h.dir.tier[idx[0]] == TIER_HOT
    warm = fill(h.dir, 2, session=2, tier=TIER_WARM)
    h.dir.prefix[warm[1]] = 1
    h.access(warm[1])                              # above the threshold
    h.prefetch(warm[0], target_step=2)
    h.dir.quarantined[warm] = 1
    assert h.step_advance(2).prefetched == []
    h.mark_hot(warm[0])
    assert h.dir.quarantined[warm[0]] == 0 and h.step_advance(3).prefetched == [warm[0]]
    assert h.evict(warm[1]) is False and h.dir.quarantined[warm[1]] == 0


def test_hints_expire_and_have_limited_slots():
    h = Hepc(Directory(64, 4, B), PolicyConfig(hint_slots=2))
    idx = fill(h.dir, 3, tier=TIER_WARM)
    h.prefetch(idx[0], 10)
    h.prefetch(idx[1], 10)
    with pytest.raises(DirectoryError) as full:
        h.prefetch(idx[2], 10)
    assert full.value.status == R.STATUS.DIR_FULL
    h.step_advance(11)
    assert h.hints == {}
    with pytest.raises(DirectoryError):
        h.prefetch(idx[0], 3)  # in the past


def test_mark_hot_evict_share_release_limits():
    h = Hepc(Directory(16, 4, B))
    [i] = fill(h.dir, 1)
    h.share_prefix(i)
    with pytest.raises(DirectoryError) as busy:
        h.evict(i)
    assert busy.value.status == R.STATUS.BAD_STATE
    h.release(i)
    with pytest.raises(DirectoryError) as none:
        h.release(i)
    assert none.value.status == R.STATUS.BAD_ARG
    for _ in range(255):
        h.share_prefix(i)
    with pytest.raises(DirectoryError):
        h.share_prefix(i)
    assert h.dir.ref_count[i] == 255
    with pytest.raises(DirectoryError) as missing:
        h.mark_hot(15)
    assert missing.value.status == R.STATUS.NOT_FOUND
    for _ in range(255):
        h.release(i)
    h.mark_hot(i)
    h.evict(i)
    assert h.dir.tier[i] == TIER_WARM and not h.dir.pinned[i]


def test_directed_die_scenario_takes_every_path(monkeypatch):
    """golden.workload.scenarios.hepc.policy_directed (which the RTL replays bit for bit in test_die) fires each
    policy path on purpose: eviction through a selection pass (more unprotected candidates than
    victims, tied priorities), more evictions than the evict queue holds (the RTL's scan stalls
    and takes move completions mid-pass), every guard held, a hint promotion and threshold
    prefetches that fill the room."""
    from golden.workload.kinds import build
    from golden import params as param_sets
    steps = []
    step_advance = Hepc.step_advance

    def spy_step(self, t):
        occ, prot = self.hot_occupancy(), self.protected(t)
        hot = (self.dir.valid == 1) & (self.dir.tier == TIER_HOT)
        guarded = [int(i) for i in np.flatnonzero(hot & prot)]
        hints = dict(self.hints)
        res = step_advance(self, t)
        steps.append(dict(t=t, occ=occ, candidates=int((hot & ~prot).sum()), guarded=guarded,
                          evicted=res.evicted, prefetched=res.prefetched, hints=hints, cfg=self.cfg))
        return res

    monkeypatch.setattr(Hepc, "step_advance", spy_step)
    params = param_sets.get("sim")
    w = build("policy", params, 0, seed=1)
    first = steps[0]
    k = first["occ"] - first["cfg"].hot_low + 1
    assert first["occ"] > first["cfg"].hot_high and len(first["evicted"]) == k < first["candidates"]
    assert len(first["guarded"]) >= 3                         # pinned, referenced prefix, DECODE
    assert not set(first["guarded"]) & set(first["evicted"])
    assert k > params.policy_queue_depth                      # the scan waits for the EVICT channel
    second = steps[1]
    by_hint = [i for i in second["prefetched"] if i in second["hints"]]
    by_threshold = [i for i in second["prefetched"] if i not in second["hints"]]
    assert by_hint and by_threshold
    room = second["cfg"].hot_high - second["occ"]
    assert len(second["prefetched"]) == room                 # the room is filled
    live = dict(zip(R.PERF_EVENTS, w.model.live))
    assert live["HEPC_EVICTS"] == k + 1 and live["HEPC_PREFETCHES"] == room   # + one EVICT command


@pytest.mark.block
def test_decode_table_holds_golden_s_decode_sessions():
    """hdl/hepc/decode_table.py in MyHDL against the golden policy engine's SESSION_SET_STATE:
    600 random commands (sessions from a pool larger than the table, every state and invalid ones)
    answer the same status (BAD_ARG, DIR_FULL, OK from member_o and full_o as hepc derives it),
    and after each the table holds exactly golden's DECODE sessions, looked up through the scan's
    lanes and counted."""
    rng = random.Random(22)
    p = SIM
    ways = p.dir_ways
    pool = list(range(1, 3 * p.decode_slots))
    commands = [(rng.choice(pool), rng.choice(list(range(len(R.SESSION_STATE_NAMES))) + [R.SESSION_STATE.DECODE] * 3
                                              + [len(R.SESSION_STATE_NAMES) + 3])) for _ in range(600)]
    lane_sessions, lane_flags = [sig(16) for _ in range(ways)], [sig(1) for _ in range(ways)]
    ports = dict(set_i=sig(1), session_i=sig(16), state_i=sig(32), member_o=sig(1), full_o=sig(1),
                 lane_sessions=lane_sessions, lane_flags=lane_flags, count_o=sig(8))
    golden = PolicyEngine(p)
    errors, probe = [], []

    def step(n):
        # four cycles a command: drive it; read hepc's status and set; the table updates at the
        # next edge; check the lanes and the count against golden's set
        c, phase = divmod(n, 4)
        if c >= len(commands):
            return
        session, state = commands[c]
        ports["set_i"].next = False
        if phase == 0:
            ports["session_i"].next, ports["state_i"].next = session, state
        elif phase == 1:
            if state > R.SESSION_STATE.CLOSED:
                status = R.STATUS.BAD_ARG
            elif state == R.SESSION_STATE.DECODE and not ports["member_o"] and ports["full_o"]:
                status = R.STATUS.DIR_FULL
            else:
                status = R.STATUS.OK
            if status != golden._set_state(session, state):
                errors.append((c, "status", session, state))
            ports["set_i"].next = True
            probe[:] = [rng.choice(pool + sorted(golden.hepc.decode_sessions)) for _ in range(ways)]
            for lane, v in zip(lane_sessions, probe):
                lane.next = v
        elif phase == 3:
            want = [v in golden.hepc.decode_sessions for v in probe]
            got = [bool(f) for f in lane_flags]
            if got != want or int(ports["count_o"]) != len(golden.hepc.decode_sessions):
                errors.append((c, got, want, int(ports["count_o"])))

    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    simulate(decode_table, (p, clk, rst), ports, clk, rst, step, 4 * len(commands))
    assert errors == []
    assert 0 < len(golden.hepc.decode_sessions) and any(c[1] == R.SESSION_STATE.DECODE for c in commands)

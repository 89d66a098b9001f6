"""The directory and HEPC golden contract (DESIGN §3, §4): packing, placement, every policy path;
hepc's sub-blocks in MyHDL against it (the DECODE set the guard reads is the session block's:
tests/test_session.py)."""
import random

import numpy as np
import pytest
from myhdl import Signal, ResetSignal

from golden import kv1_regs as R
from golden import params as param_sets
from golden.rtbd import Directory, DirectoryError, Entry, ENTRY_BITS, ENTRY_LAYOUT, SLOT_BYTES, TIER_HOT, TIER_WARM
from golden.hepc import Hepc, PolicyConfig, P_MAX, evict_candidates, lowest_first, promote_candidates
from golden.session import Quota
from golden.data_plane import configured
from golden.workload.kinds import build
from hdl.hepc.completion import completion
from hdl.hepc.hint_table import hint_table
from hdl.hepc.kth_key import kth_key
from hdl.hepc.scan_lane import LANE_OPS, scan_lane
from hdl.rtbd.rtbd import WORD_BITS
from tests.blocks import drive, sig, simulate

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
    [i] = fill(h.dir, 1, session=0)             # a shared block (session 0's: a tenant's is a reference)
    h.share_prefix(i)
    h.prefetch(i, 5)
    for refused in (h.evict, h.delete):        # its readers hold it
        with pytest.raises(DirectoryError) as busy:
            refused(i)
        assert busy.value.status == R.STATUS.BAD_STATE
    assert h.dir.valid[i] and h.hints == {i: 5}
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
    h.share_prefix(i)
    h.release(i)
    h.delete(i)                                # no reference left: an ordinary delete
    assert not h.dir.valid[i]


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


@pytest.mark.parametrize("kind, ops, refused", [("decode", 96, set()), ("mooncake", 12, {R.STATUS.DIR_FULL, R.STATUS.NOT_FOUND})])
def test_trace_replays_run_inside_open_sessions(kind, ops, refused):
    """A trace replay opens each session before its first command and closes it after its last: no
    command answers BAD_SESSION (a replay that left a session closed would measure refusals), and
    the only refusals are the ones the directory's capacity causes (an insert to a full set, then its
    block's accesses)."""
    w = build(kind, SIM, ops, seed=1)
    assert set(w.completions) - {R.STATUS.OK} <= refused
    assert R.STATUS.OK in w.completions


@pytest.mark.block
def test_hint_table_holds_golden_s_hints_and_walks_them_in_golden_s_order():
    """hdl/hepc/hint_table.py in MyHDL against golden's Hepc: 400 random PREFETCH hints (held ones
    retargeted, a full table refused, a session at its SESSION_QUOTA.HINTS refused, past targets
    refused), drops (the entry deleted, evicted or
    promoted) and STEP_ADVANCEs; each step's hint pass, walked as hepc walks it (search, visit,
    promote and drop, search again), names the hints in the order golden's scan promotes them."""
    rng = random.Random(24)
    p = SIM
    ports = dict(step_i=sig(32), horizon_i=sig(8), expire_i=sig(1), expire_step_i=sig(32), drop_i=sig(1),
                 drop_index_i=sig(16), hint_i=sig(1), hint_index_i=sig(16), hint_target_i=sig(32),
                 hint_session_i=sig(16), quota_i=sig(8), held_o=sig(1), full_o=sig(1), at_quota_o=sig(1), restart_i=sig(1), unvisit_i=sig(1), walk_i=sig(1),
                 walk_last_o=sig(1), best_found_o=sig(1), best_index_o=sig(16), visit_i=sig(1), count_o=sig(8))
    # every entry valid and warm, a threshold no P exceeds and room for every hint: golden's
    # step_advance then only expires hints and promotes the hinted entries within the horizon
    d = Directory(p.dir_entries, p.dir_ways, B)
    d.valid[:] = 1
    d.tier[:] = TIER_WARM
    d.session[:] = np.arange(p.dir_entries) % 3 + 1      # three sessions' blocks, for the hint quota
    golden = Hepc(d, PolicyConfig(hint_slots=p.hint_slots, horizon=3, hot_high=10_000, hot_low=0,
                                  prefetch_threshold=P_MAX))
    errors, checked = [], dict(ok=0, full=0, quota=0, past=0, passes=0, longest=0)

    def strobe(name, value=True):
        ports[name].next = value

    def script():
        ports["horizon_i"].next = golden.cfg.horizon
        yield
        for n in range(400):
            action = rng.random()
            if action < 0.6:                      # PREFETCH(index, target)
                index = rng.randrange(24)
                target = golden.step + rng.randrange(-1, 8)
                golden.quota = Quota(hints=rng.choice((0, 0, 2, 3)))     # SESSION_QUOTA.HINTS
                ports["hint_index_i"].next, ports["hint_target_i"].next = index, max(target, 0)
                ports["hint_session_i"].next, ports["quota_i"].next = int(d.session[index]), golden.quota.hints
                yield
                if target < golden.step:
                    status = R.STATUS.BAD_ARG
                elif not ports["held_o"] and (ports["full_o"] or ports["at_quota_o"]):
                    status = R.STATUS.DIR_FULL
                    checked["quota"] += not ports["full_o"]
                else:
                    status = R.STATUS.OK
                try:
                    golden.prefetch(index, target)
                    want = R.STATUS.OK
                except DirectoryError as err:
                    want = err.status
                if status != want:
                    errors.append((n, "prefetch", index, target, status, want))
                checked[{R.STATUS.OK: "ok", R.STATUS.DIR_FULL: "full", R.STATUS.BAD_ARG: "past"}[want]] += 1
                strobe("hint_i", status == R.STATUS.OK)
                yield
                strobe("hint_i", False)
            elif action < 0.75:                   # the entry leaves: its hint goes
                index = rng.randrange(24)
                golden.hints.pop(index, None)
                ports["drop_index_i"].next = index
                strobe("drop_i")
                yield
                strobe("drop_i", False)
            else:                                 # STEP_ADVANCE(t) and its hint pass
                t = golden.step + rng.randrange(0, 4)
                order = golden.step_advance(t).prefetched
                d.tier[:] = TIER_WARM
                ports["expire_step_i"].next = t
                strobe("expire_i")
                yield
                strobe("expire_i", False)
                ports["step_i"].next = t
                strobe("restart_i")
                strobe("unvisit_i")
                yield
                strobe("restart_i", False)
                strobe("unvisit_i", False)
                walked = []
                while True:
                    strobe("walk_i")
                    yield
                    while not ports["walk_last_o"]:
                        yield
                    strobe("walk_i", False)
                    yield
                    if not ports["best_found_o"]:
                        break
                    best = int(ports["best_index_o"])
                    walked.append(best)
                    strobe("visit_i")                 # HINT_FIND
                    yield
                    strobe("visit_i", False)
                    ports["drop_index_i"].next = best    # HINT_CHECK: promoted, its hint goes
                    strobe("drop_i")
                    strobe("restart_i")
                    yield
                    strobe("drop_i", False)
                    strobe("restart_i", False)
                if walked != order:
                    errors.append((n, "pass", t, walked, order))
                checked["passes"] += 1
                checked["longest"] = max(checked["longest"], len(order))
            yield
            if int(ports["count_o"]) != len(golden.hints):
                errors.append((n, "count", int(ports["count_o"]), len(golden.hints)))

    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    simulate(hint_table, (p, clk, rst), ports, clk, rst, drive(script()), 40_000)
    assert errors == []
    assert all(checked.values()) and checked["longest"] >= 4, checked     # an order to get wrong


@pytest.mark.block
def test_completion_writer_names_golden_s_fields_and_corrects_the_hot_count():
    """hdl/hepc/completion.py in MyHDL against golden's DataPlane.complete_move: 300 completions
    (random sets; an arrived move names the tier the decision wrote, a timed-out one any source
    tier) enable the entry's way only and name golden's slot address for an arrived move (the
    scan lanes place it, or the quarantine, with the tier: test_scan_lane_...); between two settles, the hot
    occupancy correction (hot_back - hot_gone) and the failed flag are golden's."""
    rng = random.Random(25)
    p = SIM
    ways = p.dir_ways
    golden = configured(p)
    d = golden.policy.dir
    tiers = [sig(2) for _ in range(ways)]
    ports = dict(cpl_entry_i=sig((p.dir_entries - 1).bit_length()), cpl_tier_i=sig(2), cpl_timeout_i=sig(1),
                 way_tiers=tiers, we_o=sig(ways), addr_o=sig(64), take_i=sig(1),
                 settle_i=sig(1), failed_o=sig(1), hot_back_o=sig(17), hot_gone_o=sig(17))
    errors, seen = [], set()

    def script():
        hot_change, failed = 0, False
        for n in range(300):
            if n % 6 == 0:                        # a command's moves begin
                ports["settle_i"].next = True
                yield
                ports["settle_i"].next = False
                hot_change, failed = 0, False
            s = rng.randrange(d.sets)
            indices = range(s * ways, (s + 1) * ways)
            for w, i in enumerate(indices):       # the set as the decision left it
                d.valid[i], d.tier[i], d.addr[i] = 1, rng.randrange(3), rng.getrandbits(64)
                d.quarantined[i] = 0
                tiers[w].next = int(d.tier[i])
            index = rng.choice(indices)
            timed_out = rng.random() < 0.5
            tier = rng.randrange(3) if timed_out else int(d.tier[index])
            ports["cpl_entry_i"].next, ports["cpl_tier_i"].next, ports["cpl_timeout_i"].next = index, tier, timed_out
            seen.add((timed_out, tier == TIER_HOT, d.tier[index] == TIER_HOT))
            addr_before = int(d.addr[index])
            before = golden.policy.hepc.hot_occupancy()
            golden.complete_move(index, tier, timed_out)
            hot_change += golden.policy.hepc.hot_occupancy() - before
            failed |= timed_out
            ports["take_i"].next = True
            yield
            ports["take_i"].next = False
            written_addr = addr_before if timed_out else int(ports["addr_o"])
            if int(ports["we_o"]) != 1 << (index - s * ways) or written_addr != d.addr[index]:
                errors.append((n, "fields", index, tier, timed_out))
            yield
            fix = int(ports["hot_back_o"]) - int(ports["hot_gone_o"])
            if fix != hot_change or bool(ports["failed_o"]) != failed:
                errors.append((n, "hot", fix, hot_change, failed))

    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    simulate(completion, (p, clk, rst), ports, clk, rst, drive(script()), 1_200)
    assert errors == []
    assert len(seen) == 6, seen      # arrived (hot or not), timed out from and to hot or not


def random_directory(rng, p, t, sessions):
    """Every field of every entry random (in range), accesses within a dozen steps before t."""
    d = Directory(p.dir_entries, p.dir_ways, B)
    for i in range(d.size):
        for name, width in ENTRY_LAYOUT:
            getattr(d, name)[i] = rng.getrandbits(width)
        d.tier[i] = rng.randrange(3)
        d.session[i] = rng.choice(sessions)
        d.access_step[i] = max(t - rng.randrange(13), 0)
        d.ref_count[i] *= rng.random() < 0.5
        for flag in ("valid", "prefix", "pinned", "quarantined"):
            getattr(d, flag)[i] = rng.random() < {"valid": 0.85}.get(flag, 0.2)
    return d


def word_of(d, i, ev=0, pf=0, demoted=0):
    flags = int(ev) | int(pf) << 1 | int(demoted) << 2    # the scan's marks above the entry (hdl.rtbd.rtbd.FIELD)
    return int.from_bytes(d.slot(i), "little") | flags << ENTRY_BITS


@pytest.mark.block
def test_scan_lane_computes_golden_s_update_candidates_keys_and_moves():
    """hdl/hepc/scan_lane.py in MyHDL against golden's Hepc.step_advance (R and P), Hepc.protected,
    evict_candidates, promote_candidates and lowest_first's keys: 12 random directories of every
    field, weights, window and threshold, each entry through the update (the word written back and
    its evict and prefetch marks), select (keys against a random bound, both modes), the hint
    check and the demote, promote and completion (DataPlane.complete_move) writes."""
    rng = random.Random(26)
    p = SIM
    sessions = [1, 2, 3, 7]
    ins = dict(word_i=sig(WORD_BITS), in_decode_i=sig(1), step_i=sig(32), w_r_i=sig(8), w_f_i=sig(8), w_s_i=sig(8),
               w_d_i=sig(8), window_i=sig(8), threshold_i=sig(16), mode_pf_i=sig(1), bound_i=sig(17),
               op_i=Signal(LANE_OPS.UPDATE), cmd_word_i=sig(WORD_BITS), cpl_tier_i=sig(2), cpl_quarantine_i=sig(1),
               cpl_addr_i=sig(64))
    outs = dict(word_o=sig(WORD_BITS), ev_o=sig(1), pf_o=sig(1), below_o=sig(1), equal_o=sig(1), hint_ok_o=sig(1))
    errors, seen = [], set()

    def show(**values):
        for name, v in values.items():
            ins[name].next = v
        yield

    def script():
        for n in range(12):
            t = rng.randrange(20, 1 << 20)
            cfg = PolicyConfig(w_r=rng.getrandbits(8), w_f=rng.getrandbits(8), w_s=rng.getrandbits(8),
                               w_d=rng.getrandbits(8), window=rng.randrange(1, 16), hot_high=10 ** 6,
                               prefetch_threshold=rng.getrandbits(16))
            if n % 3 == 0:
                cfg.w_r = cfg.w_s = 255           # saturating P
            d = random_directory(rng, p, t, sessions)
            before = Directory(p.dir_entries, p.dir_ways, B)
            for name, _ in ENTRY_LAYOUT:
                getattr(before, name)[:] = getattr(d, name)
            golden = Hepc(d, cfg)
            golden.decode_sessions = set(rng.sample(sessions, 2))
            golden.step = t - rng.randrange(3)
            golden.step_advance(t)
            d.tier[:] = before.tier                # the update pass moves nothing
            if n % 2:                              # P equal to the threshold: not a candidate
                cfg.prefetch_threshold = int(rng.choice(d.priority[promote_candidates(d)]))
            ev = evict_candidates(d, golden.protected(t))
            pf = promote_candidates(d) & (d.priority > cfg.prefetch_threshold)
            yield from show(word_i=0, step_i=t, w_r_i=cfg.w_r, w_f_i=cfg.w_f, w_s_i=cfg.w_s, w_d_i=cfg.w_d,
                            window_i=cfg.window, threshold_i=cfg.prefetch_threshold)
            for i in range(d.size):
                demoted = rng.random() < 0.3
                yield from show(word_i=word_of(before, i, demoted=demoted), op_i=LANE_OPS.UPDATE,
                                in_decode_i=int(d.session[i]) in golden.decode_sessions)
                yield
                marked = word_of(d, i, ev[i], pf[i])
                if d.valid[i] and int(outs["word_o"]) != marked:
                    errors.append((n, i, "update"))
                if (bool(outs["ev_o"]), bool(outs["pf_o"])) != (bool(ev[i]), bool(pf[i])):
                    errors.append((n, i, "marks", bool(outs["ev_o"]), bool(ev[i]), bool(outs["pf_o"]), bool(pf[i])))
                if bool(outs["hint_ok_o"]) != bool(promote_candidates(d)[i] and not demoted):
                    errors.append((n, i, "hint"))
                seen.add(("ev", bool(ev[i])))
                seen.add(("pf", bool(pf[i])))
                seen.add(("guard", bool(d.valid[i] and d.tier[i] == TIER_HOT and not ev[i])))
                # the select and apply passes read a marked word (any marks: a prefetch candidate
                # that became hot since is not one)
                for mode_pf in (False, True):
                    key = P_MAX - int(d.priority[i]) if mode_pf else int(d.priority[i])
                    bound = rng.choice([key, key + 1, rng.randrange(1 << 17)])
                    ev_mark, pf_mark = (rng.random() < 0.5 for _ in range(2))
                    yield from show(word_i=word_of(d, i, ev_mark, pf_mark), mode_pf_i=mode_pf, bound_i=bound)
                    yield
                    cand = pf_mark and d.tier[i] != TIER_HOT if mode_pf else ev_mark
                    if (bool(outs["below_o"]), bool(outs["equal_o"])) != (cand and key < bound, cand and key == bound):
                        errors.append((n, i, "select", mode_pf))
                    seen.add(("below", cand and key < bound))
                    seen.add(("equal", cand and key == bound))
                # COMPLETE: golden's completion of the entry (DataPlane.complete_move), placed
                done_dp = configured(p)
                for name, _ in ENTRY_LAYOUT:
                    getattr(done_dp.policy.dir, name)[i] = getattr(d, name)[i]
                tier, timed_out = rng.randrange(3), rng.random() < 0.5
                done_dp.complete_move(i, tier, timed_out)
                addr = done_dp.slot_address(i)
                yield from show(word_i=marked, op_i=LANE_OPS.COMPLETE, cpl_tier_i=tier, cpl_quarantine_i=timed_out,
                                cpl_addr_i=addr)
                yield
                if int(outs["word_o"]) != word_of(done_dp.policy.dir, i, ev[i], pf[i]):
                    errors.append((n, i, "complete", tier, timed_out))
                for op, tier, flags in ((LANE_OPS.DEMOTE, TIER_WARM, (0, pf[i], 1)),
                                        (LANE_OPS.PROMOTE, TIER_HOT, (ev[i], 0, 0))):
                    yield from show(word_i=marked, op_i=op)
                    yield
                    saved = int(d.tier[i])
                    d.tier[i] = tier
                    if int(outs["word_o"]) != word_of(d, i, *flags):
                        errors.append((n, i, str(op)))
                    d.tier[i] = saved

    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    simulate(scan_lane, (), dict(ins, **outs), clk, rst, drive(script()), 12 * 64 * 14 + 100)
    assert errors == [], errors[:5]
    assert len(seen) == 10, seen


@pytest.mark.block
def test_kth_key_selects_what_golden_s_lowest_first_selects():
    """hdl/hepc/kth_key.py in MyHDL against golden's lowest_first: 150 random candidate sets
    (keys from narrow and full ranges, many ties, k from 1 to all) over the sim set's ways and
    sets, searched as hepc's select passes do; the entries below the bound plus the first
    equal_left of those equal to it, in index order, are golden's first k."""
    rng = random.Random(27)
    p = SIM
    ways, sets = p.dir_ways, p.dir_sets
    ports = dict(all_i=sig(1), search_i=sig(1), want_i=sig(17), tally_i=sig(1), below_i=sig(ways), pass_end_i=sig(1),
                 took_equal_i=sig(1), bound_o=sig(17), equal_left_o=sig(17), last_o=sig(1))
    errors, passes = [], []

    def script():
        for n in range(150):
            span = rng.choice([4, 64, 1 << 16])
            keys = np.array([rng.randrange(span) for _ in range(ways * sets)])
            cands = np.flatnonzero([rng.random() < 0.6 for _ in keys])
            k = rng.randrange(1, len(cands) + 1)
            want = set(int(i) for i in lowest_first(cands, keys)[:k])
            ports["want_i"].next = k
            ports["search_i"].next = True
            yield
            ports["search_i"].next = False
            yield
            count = 0
            while True:
                count += 1
                for s in range(sets):
                    bound = int(ports["bound_o"])
                    below = 0
                    for w in range(ways):
                        i = s * ways + w
                        below |= int(i in cands and keys[i] < bound) << w
                    ports["below_i"].next = below
                    ports["tally_i"].next = True
                    ports["pass_end_i"].next = s == sets - 1
                    yield
                last = bool(ports["last_o"])
                ports["tally_i"].next = ports["pass_end_i"].next = False
                yield
                if last:
                    break
            bound, equal_left = int(ports["bound_o"]), int(ports["equal_left_o"])
            equal = [int(i) for i in cands if keys[i] == bound]
            got = set(int(i) for i in cands if keys[i] < bound) | set(equal[:equal_left])
            if got != want or equal_left > len(equal):
                errors.append((n, span, k, bound, equal_left))
            passes.append(count)

    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    simulate(kth_key, (clk, rst), ports, clk, rst, drive(script()), 150 * 20 * (p.dir_sets + 2))
    assert errors == [], errors[:5]
    assert set(passes) == {16}, set(passes)      # one pass per key bit, whatever the keys

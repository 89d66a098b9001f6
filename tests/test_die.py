"""The die against golden in MyHDL and in Icarus co-simulation, bit and cycle exact (Verilator:
tests/test_die_verilator.py)."""
import re
from pathlib import Path

import numpy as np
import pytest

from golden import kv1_regs as R
from golden.channelquant import MODES
from golden.kvpath import kv_values, slot_shift
from golden.data_plane import MIX_SESSIONS
from golden.workload.driver import (configure_codec, ensure_open, kv_append, kv_check, kv_fetch, Workload,
                                    WorkloadError)
from golden.workload.format import QUICK_TIERS, seal
from golden.workload.kinds import build
from golden.workload.scenarios.dma import fetch_timeout, late_answers, move_timeouts
from golden.workload.scenarios.hepc import free_key, promote
from golden.workload.scenarios.session import (session_directed, close_sweep, codec_profiles, reference_attacks,
                                              stream_ownership, archive_warm_up, quota_attacks,
                                              qos_accounting)
from golden import params as param_sets
from sim import bench
from golden.workload.format import parse, WorkloadFormatError
from tests.flows import fusesoc

SIM = param_sets.get("sim")
ROOT = Path(__file__).resolve().parents[1]


def replay(text):
    rp, _ = bench.run(text, "myhdl")
    return rp


def test_directed_scenario_matches_golden():
    rp = replay(build("directed", SIM, 0, seed=1).text())
    assert rp.error is None
    assert rp.pc == len(rp.ops) and rp.log[-1].endswith(f"end {len(rp.ops)}")


@pytest.mark.parametrize("seed", [2, 3])
def test_random_register_traffic_matches_golden(seed):
    """Seeded, bounded random accesses (good and refused, each refusal followed by a full dump)."""
    rp = replay(build("random", SIM, 150, seed=seed).text())
    assert rp.error is None


def test_fpga_set_die_matches_golden():
    """The fpga set's 512-bit streams and deeper queues, through the same scenario."""
    rp = replay(build("directed", param_sets.get("fpga"), 0, seed=6).text())
    assert rp.error is None


def test_no_delay_timing_matches_golden():
    rp = replay(build("frame", SIM, 60, seed=4, delays=False).text())
    assert rp.error is None


@pytest.mark.parametrize("old, new, expect", [
    ("R 8 a5a55a5a ffffffff 0", "R 8 a5a55a5b ffffffff 0", "read 8"),        # register value
    ("R 0 4b563101 ffffffff 0", "R 0 4b563101 ffffffff 2", "read 0"),        # response code
    ("I 1", "I 0", "irq_o"),                                                    # interrupt line
])
def test_bench_reports_the_first_mismatch(old, new, expect):
    text = build("directed", SIM, 0, seed=1).text()
    assert old in text
    rp = replay(seal(text.replace(old, new, 1)))
    assert rp.error and expect in rp.error


def test_bench_reports_a_wrong_stream_beat():
    text = build("directed", SIM, 0, seed=1).text()
    lines = text.splitlines()
    i = next(i for i, l in enumerate(lines) if l.startswith("E "))
    f = lines[i].split()
    f[1] = format(int(f[1], 16) ^ 1, "x")
    lines[i] = " ".join(f)
    rp = replay(seal("\n".join(lines) + "\n"))
    assert rp.error and "m_axis beat 0" in rp.error


# `tier` lines both benches refuse, with the words they both use
BAD_TIER_LINES = [
    ("tier hot 10", "'tier' takes a name, a latency and an interval"),
    ("tier lukewarm 200 1", "the die has no 'lukewarm' tier port (it has hot, warm, cold)"),
    ("C 1\ntier hot 10 1", "'tier' lines come before the operations"),
    ("tier hot 10 1\ntier hot 10 1", "tier hot given twice"),
    ("tier cold 10 1\ntier warm 10 1\ntier cold 9 1", "tier cold given twice"),
    ("tier hot 0 1", "whole cycles, 1 to 1000000000"),
    ("tier hot 10 -1", "whole cycles"),
    ("tier hot 10 1000000001", "whole cycles"),
    ("silent hot", "'silent' takes a tier name and a word address"),
    ("silent tepid 5", "the die has no 'tepid' tier port"),
    ("C 1\nsilent hot 5", "'silent' lines come before the operations"),
    ("silent hot 5g", "bad word address '5g'"),
    ("silent hot -5", "bad word address '-5'"),
    ("silent hot 100000000", "word address 100000000 beyond 32 bits"),
]


@pytest.mark.parametrize("text, msg", [
    ("bogus\n", "line 1"),
    ("kv1-workload 1\nset sim\nW 8 1 f 0 0 0\n", "line 3: W takes 7 fields"),
    ("kv1-workload 1\nset sim\nX 1\n", "line 3: unknown operation"),
    ("kv1-workload 1\nset sim\nR zz 0 0 0 0 0\n", "line 3: bad number"),
    ("kv1-workload 1\nR 0 0 0 0 0 0\n", "line 2: the 'set' line comes before the operations"),
    ("kv1-workload 1\nset sim\n", "no 'end' line: the file is cut short"),
] + [(f"kv1-workload 1\nset sim\n{line}\n", msg) for line, msg in BAD_TIER_LINES])
def test_bad_workload_is_refused_with_its_line(text, msg):
    with pytest.raises(WorkloadFormatError, match=re.escape(msg)):
        parse(text)


def test_refused_doorbell_changes_nothing():
    """A doorbell to a full command queue answers SLVERR and the queue, fence and completions
    are what they were (the dump after it is checked register by register)."""
    w = Workload(SIM, seed=5)
    ensure_open(w, *MIX_SESSIONS)
    w.submit(R.OPCODE.ECHO, session=9, arg0=2)       # waits for stream data
    for _ in range(SIM.cmdq_depth):
        w.submit(R.OPCODE.NOP, session=9)
    w.settle()
    before = [w.read(r.offset) for r in R.REGISTERS if r.name.startswith("CMD_")]
    assert w.submit(R.OPCODE.NOP, session=9) == 2
    w.dump()
    after = [w.read(r.offset) for r in R.REGISTERS if r.name.startswith("CMD_")]
    assert [b[0] for b in before] == [a[0] for a in after]  # golden: unchanged; the replay holds the die to it
    w.stream(2)
    w.settle()
    w.pop_all()
    assert replay(w.text()).error is None


def test_policy_directed_scenario_matches_golden():
    """Every policy path and guard (golden.workload.scenarios.hepc.policy_directed) in the MyHDL die."""
    rp = replay(build("policy", SIM, 0, seed=1).text())
    assert rp.error is None, rp.error


@pytest.mark.parametrize("seed", [2, 3])
def test_random_policy_commands_match_golden(seed):
    rp = replay(build("policy", SIM, 120, seed=seed).text())
    assert rp.error is None, rp.error


def test_decode_replay_matches_golden():
    rp = replay(build("decode", SIM, 40, seed=1).text())
    assert rp.error is None, rp.error


def test_mooncake_replay_matches_golden():
    rp = replay(build("mooncake", SIM, 4, seed=1).text())
    assert rp.error is None, rp.error


def test_codec_directed_scenario_matches_golden():
    """Every KV path feature and refusal (golden.workload.scenarios.kvpath.codec_directed) in the MyHDL die: the
    fetched fp32 values, statuses, byte counts and counters are golden's, bit for bit."""
    rp = replay(build("codec", SIM, 0, seed=1, tiers=QUICK_TIERS).text())
    assert rp.error is None, rp.error
    assert sum(line.split()[1] == "out" for line in rp.log) > 1000     # fetched blocks were compared


@pytest.mark.parametrize("delays", [True, False])
def test_session_directed_scenario_matches_golden(delays):
    """Every session path (golden.workload.scenarios.session.session_directed) in the MyHDL die:
    opens and their refusals, every lifecycle move, DECODE full, an ARCHIVED session's fetches,
    another requester domain's session (ISOLATION, an append's beats discarded) and STEP_ADVANCE,
    the directory window as each domain sees it, revocation, a closed session's commands, a
    close's sweep (every directory slot and HEPC_STATUS as before the session opened), blocks
    read by sessions of another codec profile (zero blocks, BAD_STATE), the attacks on another
    session's references and the stream attacks (another domain's beats left alone, stream
    commands whose data never comes timing out), an archive's parking and warm-up (with moves
    that time out and more than a queue of them) and the quota attacks (a tenant's privileged
    register writes, a set, DECODE and the hint slots filled past SESSION_QUOTA), each refused with nothing changed, and
    the QoS records (buckets emptied and refilled by a step, counters, the window as each domain
    sees it, a close clearing one): statuses,
    zero blocks, echoed beats, the directory's slots and every register after, golden's. Without handshake delays each
    window read comes as soon as the bus allows after its index write (the guard's latency)."""
    w = Workload(SIM, seed=3, tiers=QUICK_TIERS, delays=delays)
    session_directed(w)
    close_sweep(w)
    codec_profiles(w)
    reference_attacks(w)
    stream_ownership(w)
    archive_warm_up(w)
    quota_attacks(w)
    qos_accounting(w)
    ST = R.STATUS
    assert set(w.completions) >= {ST.OK, ST.BAD_SESSION, ST.ISOLATION, ST.BAD_STATE, ST.DIR_FULL, ST.BAD_ARG,
                                  ST.TIMEOUT}
    assert {line for line in w.lines if line.startswith("U ")} == {f"U {d}" for d in range(8)}
    rp = replay(w.text())
    assert rp.error is None, rp.error


def timeout_workload(watchdog=None):
    """A block appended, then its hot slot's second word silent, DMA_WATCHDOG set, the block
    fetched."""
    w = Workload(SIM, seed=4)
    ensure_open(w, *MIX_SESSIONS)
    configure_codec(w, MODES.index("CQ4"), 16)
    fetch_timeout(w, (6, 0, 0, 0))
    if watchdog is not None:
        w.write(R.DMA_WATCHDOG, watchdog)
        kv_fetch(w, (6, 0, 0, 0))
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    w.dump()          # FETCH_TIMEOUTS, FETCH_WORDS and the rest against golden
    return w


def test_fetch_from_a_silent_hot_slot_times_out_with_a_zero_block():
    """The dma's watchdog gives up on a hot slot that stops answering: the KV_FETCH completes
    TIMEOUT with a zero block, after at least DMA_WATCHDOG quiet cycles; the die goes on."""
    w = timeout_workload()
    text = w.text()
    word = w.model.policy.dir.lookup(6, 0, 0, 0) << slot_shift(SIM) | 1
    silent = f"F {R.TIER.HOT:x} {word:x}"
    assert [l for l in text.splitlines() if l.startswith("F ")] == [silent]
    cpl = (R.OPCODE.KV_FETCH << 24) | (R.STATUS.TIMEOUT << 16)
    assert any(l.startswith("R 34 ") and int(l.split()[2], 16) & 0xFFFF0000 == cpl for l in text.splitlines())
    rp = replay(text)
    assert rp.error is None, rp.error
    assert rp.cycle > w.watchdog_margin("hot")
    assert w.model.shadow[R.PERF_EVENTS.index("FETCH_TIMEOUTS")] == 1
    # the same workload against a memory that answers: the die streams the block, not zeros
    rp = replay(seal(text.replace(silent + "\n", "")))
    assert rp.error and "m_axis beat" in rp.error


def test_moves_the_watchdog_gives_up_on_leave_their_block_where_it_was():
    """golden.workload.scenarios.dma.move_timeouts in the MyHDL die: an EVICT into a warm slot that stopped
    answering and a prefetch out of a cold one time out; the blocks, their directory entries
    (tier, address), the hot count and the counters are golden's, and the blocks still read back
    (the hot one) or time out (the cold one). Without the faults the die moves both blocks and
    the same expectations fail."""
    w = Workload(SIM, seed=5, tiers=QUICK_TIERS)
    ensure_open(w, *MIX_SESSIONS)
    configure_codec(w, MODES.index("CQ4"), 16)
    keys = move_timeouts(w, 6, 0, 1)
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    w.dump()
    d, log = w.model.policy.dir, w.model.plane.log
    first, second = (d.lookup(*k) for k in keys)
    assert [(t.channel, t.entry) for t in log if t.status == R.STATUS.TIMEOUT] == [
        ("EVICT", first), ("PREFETCH", second), ("FETCH", second)]
    assert (d.tier[first], d.addr[first], d.tier[second]) == (R.TIER.HOT, 0, R.TIER.COLD)
    text = w.text()
    rp = replay(text)
    assert rp.error is None, rp.error
    faults = [line for line in text.splitlines() if line.startswith("F ")]
    assert len(faults) == 2
    for line in faults:
        text = text.replace(line + "\n", "")
    assert replay(seal(text)).error is not None


def test_an_append_whose_word_is_never_acknowledged_times_out_and_stores_nothing():
    """KV_APPEND completes only once the hot memory has acknowledged every word of the slot. An
    append into a hot slot whose first word never answers completes TIMEOUT after DMA_WATCHDOG
    quiet cycles with nothing entered (STORE_TIMEOUTS; before, it completed OK and the loss showed
    at the next fetch); the acknowledge that never came does not hold up the hot write side: a
    later prefetch into hot completes and its block fetches back."""
    w = Workload(SIM, seed=6, tiers=QUICK_TIERS)
    ensure_open(w, *MIX_SESSIONS)
    configure_codec(w, MODES.index("CQ4"), 16)
    w.write(R.DMA_WATCHDOG, w.watchdog_margin())
    d = w.model.policy.dir
    lost = free_key(w, 7, 0, 0)
    s = d.set_of(*lost)
    entry = s * d.ways + int(np.flatnonzero(d.valid[s * d.ways:(s + 1) * d.ways] == 0)[0])   # the way it takes
    w.silence("hot", entry << slot_shift(SIM))
    kv_append(w, lost, kv_values(w.rng, 32, 16))
    assert d.lookup(*lost) is None
    kv_fetch(w, lost)                                           # NOT_FOUND: nothing was entered
    back = free_key(w, 7, 0, 1)
    kv_append(w, back, kv_values(w.rng, 32, 16))
    w.block_command(R.OPCODE.EVICT, back, arg2=R.TIER.WARM)
    kv_check(w)
    promote(w, back)
    kv_fetch(w, back)
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    w.dump()
    assert w.model.shadow[R.PERF_EVENTS.index("STORE_TIMEOUTS")] == 1
    statuses = [l for l in w.text().splitlines() if l.startswith("R 34 ")]
    cpl = (R.OPCODE.KV_APPEND << 24) | (R.STATUS.TIMEOUT << 16)
    assert any(int(l.split()[2], 16) & 0xFFFF0000 == cpl for l in statuses)
    moves = [(t.channel, t.status) for t in w.model.plane.log if t.channel != "FETCH"]
    assert moves == [("EVICT", R.STATUS.OK), ("PREFETCH", R.STATUS.OK)]
    rp = replay(w.text())
    assert rp.error is None, rp.error


def test_a_late_answer_is_never_taken_for_the_next_fetch():
    """Issue 19, defect 1, in the MyHDL die: golden.workload.scenarios.dma.late_answers behind a cold memory
    1,000 cycles away and a watchdog of 80. Session 10's fetch times out; its answers arrive
    while session 11's fetch waits on the cold port. Golden: both TIMEOUT with zero blocks, 88
    late answers, then each session's own block. (Before the tags the converted die streamed
    session 10's block to session 11 with OK: the main job's Verilator model built at bcfa7a6
    fails this workload at the second fetch's first beat.)"""
    w = Workload(SIM, seed=7, tiers=dict(QUICK_TIERS, cold=(1000, 1)))
    ensure_open(w, *MIX_SESSIONS)
    configure_codec(w, MODES.index("CQ4"), 8)
    late_answers(w)
    assert w.model.shadow[R.PERF_EVENTS.index("LATE_ANSWERS")] == 2 * 44
    rp = replay(w.text())
    assert rp.error is None, rp.error


def test_a_watchdog_below_its_floor_is_refused_and_changes_nothing():
    """DMA_WATCHDOG takes 0 (off) or 64 and more: 1 to 63 answer SLVERR and leave the value."""
    w = Workload(SIM, seed=8)
    ensure_open(w, *MIX_SESSIONS)
    floor = next(f for f in R.BY_NAME["DMA_WATCHDOG"].fields if f.name == "CYCLES").min
    assert floor == 64
    for value, resp in ((1, 2), (floor - 1, 2), (floor, 0), (0, 0), (floor + 1, 0), (floor - 1, 2)):
        assert w.write(R.DMA_WATCHDOG, value) == resp
        w.read(R.DMA_WATCHDOG)
    assert w.model.stored[("DMA_WATCHDOG", "CYCLES")] == floor + 1
    rp = replay(w.text())
    assert rp.error is None, rp.error


def _steps_workload(read_at_once):
    """A scan's hot count read at once, then nine STEP_ADVANCE writes back to back (the queues
    hold four commands and four completions), with blocks to scan and evict: what the model
    cannot time by itself."""
    w = Workload(SIM, seed=9, delays=False)
    ensure_open(w, *MIX_SESSIONS)
    for b in range(24):
        w.block_command(R.OPCODE.DIR_INSERT, (1, 0, 0, b), arg2=R.TIER.HOT)
        w.settle()
        w.pop_all()
    w.write(R.STEP_ADVANCE, 1)
    if read_at_once:
        w.read(R.HEPC_STATUS)
    w.settle()
    w.pop_all()
    for step in range(2, 11):
        w.write(R.STEP_ADVANCE, step)
    w.settle()
    w.pop_all()
    w.dump()
    return w


@pytest.mark.parametrize("read_at_once", [True, False])
def test_the_workload_api_settles_what_the_model_cannot_time(read_at_once, monkeypatch):
    """The die matches golden on _steps_workload because the Workload API settles before the read
    and before a doorbell that could find the die's queue full; without those settles the same
    calls write a file the die fails (the hot count read before the scan ended; a STEP_ADVANCE
    the die refuses as its queue is full where the model, which ran the scans at once, has room)."""
    assert replay(_steps_workload(read_at_once).text()).error is None
    monkeypatch.setattr(Workload, "_settle_before_write", lambda self, addr: None)
    monkeypatch.setattr(Workload, "_settle_before_read", lambda self, addr: None)
    rp = replay(_steps_workload(read_at_once).text())
    assert rp.error is not None
    assert ("read 58" if read_at_once else "write 50") in rp.error


def test_golden_refuses_a_watchdog_too_close_to_a_memory_to_tell():
    """Between 'answers in time' and 'answers late' the outcome depends on cycles golden does not
    know: building such a workload is refused, not written with a guess."""
    w = Workload(SIM, seed=7, tiers=dict(QUICK_TIERS, warm=(120, 1)))
    ensure_open(w, *MIX_SESSIONS)
    configure_codec(w, MODES.index("CQ4"), 8)
    key = free_key(w, 3, 0, 0)
    kv_append(w, key, kv_values(w.rng, 32, 8))
    w.block_command(R.OPCODE.EVICT, key, arg2=R.TIER.WARM)
    kv_check(w)
    w.write(R.DMA_WATCHDOG, 100)
    with pytest.raises(ValueError, match="too close to the warm memory"):
        kv_fetch(w, key)


def test_golden_refuses_a_silent_slot_it_cannot_model():
    with pytest.raises(ValueError, match="watchdog off never ends"):
        timeout_workload(watchdog=0)
    w = Workload(SIM, seed=4)
    ensure_open(w, *MIX_SESSIONS)
    configure_codec(w, MODES.index("CQ4"), 16)
    kv_append(w, (1, 0, 0, 0), kv_values(w.rng, 4, 16))
    kv_fetch(w, (1, 0, 0, 0))
    entry = w.model.policy.dir.lookup(1, 0, 0, 0)
    with pytest.raises(WorkloadError, match="already used its slot"):   # the bench's memory is silent from the start
        w.silence("hot", entry << slot_shift(SIM))
    with pytest.raises(WorkloadError, match="no tier 'tepid'"):
        w.fault("tepid", 0)


def test_policy_workload_catches_a_wrapping_priority(monkeypatch):
    """The proposal's bug (P wraps mod 2^16 instead of saturating) must not pass: a die whose
    saturation bound is wrong fails the directed policy scenario."""
    import hdl.hepc.scan_lane as scan_lane
    monkeypatch.setattr(scan_lane, "P_MAX", 0x7FFF)
    rp = replay(build("policy", SIM, 0, seed=1).text())
    assert rp.error is not None


def test_cosim_target_is_cycle_identical_to_myhdl(tmp_path):
    r = fusesoc("cosim", build_root=tmp_path / "b")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "cycle-identical to MyHDL" in r.stdout
    assert "standalone boot check PASS" in r.stdout

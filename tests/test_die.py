"""The die against golden: MyHDL, Icarus co-simulation and Verilator, bit and cycle exact."""
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from golden import kv1_regs as R
from golden.channelquant import MODES
from golden.kvpath import kv_values, slot_shift
from golden.policy_engine import BLOCK_TOKENS
from golden.data_plane import MIX_SESSIONS
from golden.workload.driver import (block_fetch, configure_codec, ensure_open, kv_append, kv_check, kv_fetch, write_rom,
                                    Workload, WorkloadError)
from golden.workload.format import QUICK_TIERS, seal
from golden.workload.kinds import build
from golden.workload.scenarios.dma import fetch_timeout, late_answers, move_timeouts
from golden.workload.scenarios.hepc import free_key, promote
from golden.workload.scenarios.session import session_directed
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
    the directory window as each domain sees it, revocation and a closed session's commands:
    statuses, zero blocks and every register after, golden's. Without handshake delays each
    window read comes as soon as the bus allows after its index write (the guard's latency)."""
    w = Workload(SIM, seed=3, tiers=QUICK_TIERS, delays=delays)
    session_directed(w)
    ST = R.STATUS
    assert set(w.completions) >= {ST.OK, ST.BAD_SESSION, ST.ISOLATION, ST.BAD_STATE, ST.DIR_FULL, ST.BAD_ARG}
    assert {line for line in w.lines if line.startswith("U ")} == {"U 0", "U 1", "U 2"}
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


@pytest.fixture(scope="module")
def parity_workload(tmp_path_factory):
    d = tmp_path_factory.mktemp("parity")
    text = build("all", SIM, 40, seed=7, tiers={"hot": (5, 2)}).text()   # a hot memory that refuses words
    (d / "w.wl").write_text(text)
    ref = replay(text)
    assert ref.error is None
    return d, ref


def test_verilator_sim_target_is_cycle_identical_to_myhdl(parity_workload, verilator_model, tmp_path):
    """`fusesoc run --run --target=sim` with a workload and a log, in the build the fixture's full
    `fusesoc run` made: the run stage takes the new options without rebuilding the model."""
    d, ref = parity_workload
    log = tmp_path / "vl.log"
    build_root = next(p for p in verilator_model.parents if p.name == "b")
    built = verilator_model.stat().st_mtime_ns
    r = fusesoc("sim", f"--workload={d / 'w.wl'}", f"--log={log}", build_root=build_root, stages=["--run"])
    assert verilator_model.stat().st_mtime_ns == built
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "PASS golden parity" in r.stdout
    assert log.read_text().splitlines() == ref.log


def test_verilator_model_fails_on_mismatch(parity_workload, verilator_model, tmp_path):
    d, _ = parity_workload
    bad = tmp_path / "bad.wl"
    bad.write_text(seal((d / "w.wl").read_text().replace("R 0 4b563101", "R 0 4b563102", 1)))
    r = subprocess.run([str(verilator_model), f"+workload={bad}"], capture_output=True, text=True)
    assert r.returncode != 0
    assert "MISMATCH" in r.stdout and "read 0" in r.stdout


def test_cosim_target_is_cycle_identical_to_myhdl(tmp_path):
    r = fusesoc("cosim", build_root=tmp_path / "b")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "cycle-identical to MyHDL" in r.stdout
    assert "standalone boot check PASS" in r.stdout


@pytest.fixture(scope="module")
def verilator_model(tmp_path_factory):
    """The sim target's Verilator model, built once through FuseSoC (default workload, quiet)."""
    root = tmp_path_factory.mktemp("vl")
    r = fusesoc("sim", "--quiet", build_root=root / "b")
    assert r.returncode == 0, r.stderr[-2000:]
    return next((root / "b").rglob("Vkv1_die"))


@pytest.fixture(scope="module")
def verilator_fpga_model(tmp_path_factory):
    """The fpga set's die in Verilator (the sim_fpga target: 512-bit beats, 256-bit tier words)."""
    root = tmp_path_factory.mktemp("vl_fpga")
    r = fusesoc("sim_fpga", "--quiet", build_root=root / "b")
    assert r.returncode == 0 and "PASS golden parity" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]
    return next((root / "b").rglob("Vkv1_die"))


def test_fpga_set_die_replays_in_verilator(verilator_fpga_model, tmp_path):
    """The fpga set's die in Verilator, against golden: the frame's directed and random traffic
    (512-bit beats), then KV blocks in every mode appended, fetched, evicted to warm and to cold
    and fetched back from there (256-bit tier words through all three ports), and a span; bounded
    (about 40,000 cycles)."""
    fpga = param_sets.get("fpga")
    w = build("frame", fpga, 150, seed=7)
    ensure_open(w, 1)
    keys = [(1, 0, h, b) for h in range(2) for b in range(2)]
    for index in range(4):                  # CQ-4+'s outlier channels, for every (layer, kv_head) used
        write_rom(w, index, [1, 5, 9, 20])
    for mode, key in zip((0, 1, 2, 1), keys):
        configure_codec(w, mode, fpga.cq_lanes, outliers=2 if mode == 2 else None)
        kv_append(w, key, kv_values(w.rng, 32 - 5 * keys.index(key), fpga.cq_lanes))
        kv_fetch(w, key)
    for key, tier in zip(keys, (R.TIER.WARM, R.TIER.COLD, R.TIER.WARM, R.TIER.COLD)):
        w.block_command(R.OPCODE.EVICT, key, arg2=tier)
        kv_check(w)
        kv_fetch(w, key)
    block_fetch(w, 1, 0, 0, 0, 2 * BLOCK_TOKENS, heads=2)
    kv_check(w)
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    w.dump()
    wl = tmp_path / "fpga.wl"
    wl.write_text(w.text())
    r = subprocess.run([str(verilator_fpga_model), f"+workload={wl}"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and "PASS golden parity" in r.stdout, r.stdout[-3000:] + r.stderr[-2000:]
    counters = dict(re.findall(r"^  (\w+) +(\d+)$", r.stdout, re.M))
    # four fetches from hot after the appends, two each from warm and cold after the evictions,
    # and the span's four blocks from where they live now
    fetched = [int(counters[f"FETCH_{t}"]) for t in ("HOT", "WARM", "COLD")]
    assert fetched == [4, 4, 4] and int(counters["EVICT_TRANSFERS"]) == 4, counters


def test_fpga_set_die_replays_the_codec_kind_in_verilator(verilator_fpga_model, tmp_path):
    """The codec kind built for the fpga set (every KV path feature and refusal, span fetches,
    20 random KV commands; D in multiples of its 32 lanes) replays in Verilator against golden,
    every operation of it (about a million cycles)."""
    w = build("codec", param_sets.get("fpga"), 20, seed=1)
    wl = tmp_path / "codec.wl"
    wl.write_text(w.text())
    r = subprocess.run([str(verilator_fpga_model), f"+workload={wl}", "+quiet"], capture_output=True, text=True,
                       timeout=900)
    ops = len(w.lines) - w.header_lines
    assert r.returncode == 0 and f"PASS golden parity: {ops} operations" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]


def test_issue_19_defects_are_gone_in_verilator(verilator_model, tmp_path):
    """Both defects of issue 19 in the converted die, at the main job's tier timing: the late
    answers of a cold fetch that timed out are not taken by the next session's fetch (both
    TIMEOUT, 88 LATE_ANSWERS), and a DIR_ACCESS after BLOCK_FETCHes whose session-0 fallback was
    refused answers for its own session (block_fetch_directed's checks). The model built at
    bcfa7a6 fails this workload at the second fetch's first beat."""
    from golden.workload.scenarios.kvpath import block_fetch_directed
    w = Workload(SIM, seed=10)
    ensure_open(w, *MIX_SESSIONS)
    configure_codec(w, MODES.index("CQ4"), 8)
    late_answers(w)
    block_fetch_directed(w)
    wl = tmp_path / "issue19.wl"
    wl.write_text(w.text())
    out = subprocess.run([str(verilator_model), f"+workload={wl}"], capture_output=True, text=True)
    assert out.returncode == 0 and "PASS golden parity" in out.stdout, out.stdout[-2000:]
    counters = dict(line.split() for line in out.stdout.splitlines() if line.startswith("  "))
    assert int(counters["LATE_ANSWERS"]) == 88 and int(counters["FETCH_TIMEOUTS"]) == 3


@pytest.mark.parametrize("seed", [1, 2])
def test_random_codec_traffic_matches_golden_in_verilator(verilator_model, seed, tmp_path):
    """Seeded random KV_APPEND / KV_FETCH / BLOCK_FETCH traffic (300 commands: every mode, D, k,
    partial blocks, spans, refusals, deletes, evictions, hints, steps) after the directed KV and
    span scenarios, in the converted die: every fetched value, status and counter is golden's."""
    wl = tmp_path / "codec.wl"
    wl.write_text(build("codec", SIM, 300, seed=seed).text())
    out = subprocess.run([str(verilator_model), f"+workload={wl}"], capture_output=True, text=True)
    assert out.returncode == 0 and "PASS golden parity" in out.stdout, out.stdout[-2000:]
    counters = dict(line.split() for line in out.stdout.splitlines() if line.startswith("  "))
    assert int(counters["KV_BYTES_IN"]) > 0 and int(counters["FETCH_BYTES_OUT"]) > 0
    assert int(counters["FETCH_HOT"]) > 0 and int(counters["FETCH_WORDS"]) > 0
    # codec_directed's two and block_fetch_directed's one
    assert int(counters["FETCH_TIMEOUTS"]) == 3 and int(counters["FETCH_STALL_HOT"]) > 0
    assert int(counters["FETCH_WARM"]) > 0 and int(counters["FETCH_COLD"]) > 0 and int(counters["FETCH_STALL_COLD"]) > 0
    assert int(counters["EVICT_TRANSFERS"]) > 0 and int(counters["PREFETCH_HITS"]) > 0
    # the report's prefetch ratios are the counters' (docs/data_plane.md)
    m = re.search(r"^prefetch accuracy ([\d.]+) \((\d+) hits / (\d+) prefetches\), coverage ([\d.]+) "
                  r"\((\d+) hits / (\d+):", out.stdout, re.M)
    hits, prefetches = int(counters["PREFETCH_HITS"]), int(counters["PREFETCH_TRANSFERS"])
    misses = hits + int(counters["FETCH_WARM"]) + int(counters["FETCH_COLD"])
    assert m and (int(m[2]), int(m[3]), int(m[5]), int(m[6])) == (hits, prefetches, hits, misses)
    assert float(m[1]) == pytest.approx(hits / prefetches, abs=5e-4)
    assert float(m[4]) == pytest.approx(hits / misses, abs=5e-4)


def test_fetch_bench_prefetch_turns_warm_fetches_into_hot_ones(verilator_model):
    """sim.fetch_bench at 256 decode steps (both runs golden-checked in Verilator): with the hints
    and the threshold prefetch, prefetches hit and fewer fetches go to warm than with none; a warm
    fetch waits longer than a hot one. Its span comparison (cycle counts, golden-checked): a
    BLOCK_FETCH of 8 blocks costs fewer cycles per block than 8 KV_FETCHes."""
    from sim import fetch_bench
    results = fetch_bench.main(["--steps", "256", "--model", str(verilator_model)])
    (with_pf, _), (without, _) = results["with prefetch"], results["no prefetch"]
    assert without["PREFETCH_TRANSFERS"] == 0 and with_pf["PREFETCH_HITS"] > 0
    assert with_pf["FETCH_WARM"] < without["FETCH_WARM"]
    tiers, mean, _, _ = fetch_bench.report(without)
    assert tiers["WARM"][1] > tiers["HOT"][1] + 150         # the warm memory's 200-cycle latency
    assert fetch_bench.report(with_pf)[1] < mean
    per_block = results["span cycles per block"]
    assert 0 < per_block["span"] < per_block["single"]


def _small_workload():
    return build("directed", SIM, 0, seed=1).text()


def _edit(old, new):
    """A workload with its first `old` line prefix replaced, end line written anew."""
    def make(text):
        assert "\n" + old in text
        return seal(text.replace("\n" + old, "\n" + new, 1))
    return make


def _last_line_number(text):
    return len(text.splitlines())


# every malformed workload the issue names, and the message both benches give (after "<bench>: <file>: ")
MALFORMED = [
    ("cut at a line boundary", lambda t: "".join(t.splitlines(True)[:200]), "no 'end' line: the file is cut short"),
    ("cut inside its last number", lambda t: t[:-3],
     "line {last}: 'end' takes the operation count and an 8-digit hex checksum"),
    ("a line changed", lambda t: t.replace("\nR 0 4b563101", "\nR 0 4b563102", 1), "the file was changed"),
    ("a line dropped", lambda t: t.replace(t.splitlines(True)[5], "", 1), "operations, the file has"),
    ("a line after the end", lambda t: t + "C 5\n", "nothing may follow the 'end' line"),
    ("an idle of 2^64 - 1 cycles", _edit("C ", "C 18446744073709551615 #"),
     "C cycles 18446744073709551615 out of range (0 to 1000000000)"),
    ("a poll of 10^12 reads", lambda t: seal(re.sub(r"\nP (\S+) (\S+) (\S+) \d+", r"\nP \1 \2 \3 1000000000000", t, 1)),
     "P max_reads 1000000000000 out of range (1 to 1000000000)"),
    ("an address beyond the BAR", _edit("R 0 ", "R 1000 "), "R addr 1000 out of range (0 to fff)"),
    ("a stream beat wider than the set's", _edit("S ", "S 10000000000000000 0 0 #"),
     "S data 10000000000000000 out of range (0 to ffffffffffffffff)"),
    ("an interrupt level of 2", _edit("I ", "I 2 #"), "I level 2 out of range (0 to 1)"),
    ("a delay beyond 65535", _edit("W ", "W 8 0 f 0 0 70000 0 #"), "W w_delay 70000 out of range (0 to 65535)"),
    ("an unknown parameter set", _edit("set sim", "set nosuch"), "no parameter set 'nosuch' (the sets are asic, fpga, sim)"),
    ("a second set line", _edit("set sim", "set sim\nset sim"), "one 'set' line, before the operations"),
    ("a fault on a tier the die lacks", _edit("C ", "F 3 0\nC "), "F tier 3 out of range (0 to 2)"),
    ("a domain beyond awuser's 8 bits", _edit("C ", "U 256\nC "), "U domain 256 out of range (0 to 255)"),
]


def _python_bench(args, capsys):
    code = bench.main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("what, edit, msg", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_both_benches_refuse_a_malformed_workload_alike(what, edit, msg, verilator_model, tmp_path, capsys):
    """Each malformed input: exit code 2 and the same one-line message from the MyHDL bench and the
    Verilator bench, before any cycle runs."""
    text = edit(_small_workload())
    msg = msg.format(last=_last_line_number(text))
    wl = tmp_path / "bad.wl"
    wl.write_text(text)
    code, out, err = _python_bench([str(wl)], capsys)
    vl = subprocess.run([str(verilator_model), f"+workload={wl}"], capture_output=True, text=True)
    assert (code, vl.returncode) == (2, 2), (err, vl.stderr)
    assert err.count("\n") == 1 and vl.stderr.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"bench: {wl}: ") and vl.stderr.startswith(f"tb_kv1_die: {wl}: ")
    assert err.split(": ", 1)[1] == vl.stderr.split(": ", 1)[1], (err, vl.stderr)
    assert msg in err, err


def test_both_benches_refuse_what_they_cannot_run_alike(verilator_model, tmp_path, capsys):
    """A missing workload, a log that cannot be written, a cycle limit: exit code 2 and the same
    message; nothing is run or written. The Verilator model refuses a workload of another set."""
    wl = tmp_path / "w.wl"
    wl.write_text(_small_workload())
    cases = [([str(tmp_path / "missing.wl")], [f"+workload={tmp_path / 'missing.wl'}"],
              f"cannot read workload {tmp_path / 'missing.wl'}: No such file or directory"),
             ([str(wl), "--log", str(tmp_path / "no" / "x.log")],
              [f"+workload={wl}", f"+log={tmp_path / 'no' / 'x.log'}"],
              f"cannot write log {tmp_path / 'no' / 'x.log'}: No such file or directory")]
    for py_args, vl_args, msg in cases:
        code, _, err = _python_bench(py_args, capsys)
        vl = subprocess.run([str(verilator_model)] + vl_args, capture_output=True, text=True)
        assert (code, vl.returncode) == (2, 2) and err == f"bench: {msg}\n" and vl.stderr == f"tb_kv1_die: {msg}\n"
    other = tmp_path / "fpga.wl"
    other.write_text(seal(_small_workload().replace("\nset sim\n", "\nset fpga\n", 1)))
    vl = subprocess.run([str(verilator_model), f"+workload={other}"], capture_output=True, text=True)
    assert vl.returncode == 2 and "line 2: set fpga: this model is built for set sim" in vl.stderr


def test_both_benches_stop_at_the_cycle_limit_and_at_beats_that_never_come(verilator_model, tmp_path, capsys):
    """Runtime refusals, a mismatch each (exit code 1, the same MISMATCH line): the replay's cycle
    limit, and a file that ends with expected output beats the die never sends."""
    wl = tmp_path / "w.wl"
    wl.write_text(_small_workload())
    code, out, _ = _python_bench([str(wl), "--max-cycles", "50"], capsys)
    vl = subprocess.run([str(verilator_model), f"+workload={wl}", "+max_cycles=50", "+quiet"],
                        capture_output=True, text=True)
    assert (code, vl.returncode) == (1, 1)
    assert out.strip() == vl.stdout.strip()
    assert re.fullmatch(r"MISMATCH cycle 50: line \d+: the replay reached its limit of 50 cycles", out.strip())
    beats = tmp_path / "beats.wl"
    text = _small_workload()
    beats.write_text(seal(text[:text.rindex("\nend ") + 1] + "E 1234 1 0\n"))
    code, out, _ = _python_bench([str(beats)], capsys)
    vl = subprocess.run([str(verilator_model), f"+workload={beats}", "+quiet"], capture_output=True, text=True)
    assert (code, vl.returncode) == (1, 1) and out.strip() == vl.stdout.strip()
    assert "in 4096 cycles 1 expected m_axis beats did not come and 0 s_axis beats were not taken" in out


def test_both_benches_take_a_tier_and_silent_line_for_every_port(verilator_model, tmp_path):
    """warm and cold are tier ports like hot: their lines parse alike in both benches, and the
    Verilator model replays a workload that states them (no transfer reaches them yet)."""
    header = "tier warm 3 2\ntier cold 9 1\nsilent cold 1f\nsilent warm 2\n"
    assert parse(seal(f"kv1-workload 1\nset sim\n{header}"))[2:] == (
        {"warm": (3, 2), "cold": (9, 1)}, {"cold": {0x1F}, "warm": {2}})
    text = build("directed", SIM, 0, seed=1, tiers={"hot": (4, 1)}).text()
    wl = tmp_path / "d.wl"
    wl.write_text(seal(text.replace("tier hot 4 1\n", "tier hot 4 1\n" + header, 1)))
    out = subprocess.run([str(verilator_model), f"+workload={wl}"], capture_output=True, text=True)
    assert out.returncode == 0 and "PASS golden parity" in out.stdout, out.stdout[-2000:] + out.stderr
    assert "hot tier: latency 4, interval 1; warm tier: latency 3, interval 2; cold tier: latency 9" in out.stdout


@pytest.mark.parametrize("latency, interval", [(1, 1), (37, 3)])
def test_codec_traffic_matches_golden_behind_any_hot_memory(verilator_model, latency, interval, tmp_path):
    """The die's hot-tier port keeps its contract whatever the memory's latency and however often
    it refuses a word (interval > 1 drops ready): random codec traffic still matches golden."""
    wl = tmp_path / "codec.wl"
    wl.write_text(build("codec", SIM, 150, seed=5, tiers={"hot": (latency, interval)}).text())
    out = subprocess.run([str(verilator_model), f"+workload={wl}"], capture_output=True, text=True)
    assert out.returncode == 0 and "PASS golden parity" in out.stdout, out.stdout[-2000:]
    assert f"hot tier: latency {latency}, interval {interval}" in out.stdout
    # the warm and cold ports have their memories too: 1 and 1 where the workload names only hot
    assert "warm tier: latency 1, interval 1; cold tier: latency 1, interval 1" in out.stdout


def test_scan_bench_matches_golden_and_scans_a_set_per_cycle():
    """sim.scan_bench on the sim set: the RTL inserts and evicts what golden does (it raises
    otherwise), the scan starts within 4 cycles and the update pass reads one set per cycle."""
    from sim import scan_bench
    params, inserted, r, _ = scan_bench.measure("sim", 0.5, seed=1)
    assert inserted > 0 and r["evicts2"] > 0
    assert r["start1"] <= 4
    assert r["step1"] - params.dir_sets <= 8   # one set per cycle plus a fixed hand-off, fill and wind-down


def test_sim_waves_target_writes_a_waveform_and_sim_refuses_one(verilator_model, tmp_path):
    """`make sim WAVES=1` uses the sim_waves target (tracing compiled in); the main job's model,
    built without it, refuses +trace with a clear message instead of ignoring it."""
    wl = tmp_path / "d.wl"
    wl.write_text(build("directed", SIM, 0, seed=1).text())
    fst = tmp_path / "w.fst"
    r = fusesoc("sim_waves", f"--workload={wl}", f"--trace={fst}", build_root=tmp_path / "b")
    assert r.returncode == 0 and "PASS golden parity" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]
    assert fst.is_file() and fst.stat().st_size > 1000
    # the FST header (big-endian after its block type and length): end time, then the timescale
    # exponent; a cycle of the sim set's 100 MHz clock shows as 10 ns
    head = fst.read_bytes()[:74]
    end_time, exponent = int.from_bytes(head[17:25], "big"), int.from_bytes(head[73:74], "big", signed=True)
    cycles = int(re.search(r"(\d+) cycles", r.stdout).group(1))
    assert abs(end_time * 10.0 ** exponent - cycles * 1e3 / SIM.clock_mhz * 1e-9) <= 2e-8, (end_time, exponent, cycles)
    out = subprocess.run([str(verilator_model), f"+workload={wl}", f"+trace={tmp_path / 'x.fst'}"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "make sim WAVES=1" in out.stderr


@pytest.mark.parametrize("spec, msg", [("lukewarm=200,1", "tier ports are hot, warm, cold"), ("hot=10", "NAME=LATENCY,INTERVAL"),
                                       ("hot=0,1", "at least 1 cycle")])
def test_workload_command_refuses_a_bad_tier(spec, msg, tmp_path, capsys):
    from sim.workload import main
    with pytest.raises(SystemExit):
        main(["--kind", "directed", "--tier", spec, "--out", str(tmp_path / "w.wl")])
    assert msg in capsys.readouterr().err and not (tmp_path / "w.wl").exists()


@pytest.mark.parametrize("args, msg", [
    (["--kind", "decode", "--ops", "5000"], "the decode trace has 1024 steps; kind decode replays ops = 5000"),
    (["--kind", "main", "--ops", "1025"], "the decode trace has 1024 steps"),
    (["--kind", "directed", "--ops", "-1"], "--ops must be >= 0"),
])
def test_workload_command_refuses_what_it_cannot_write(args, msg, tmp_path, capsys):
    """At once, with a message, and nothing written (a decode workload of more steps than the
    trace has was written short without a word)."""
    from sim.workload import main
    with pytest.raises(SystemExit) as e:
        main(args + ["--out", str(tmp_path / "w.wl")])
    assert e.value.code == 2 and msg in capsys.readouterr().err and not (tmp_path / "w.wl").exists()


def test_make_sim_refuses_a_missing_workload_at_once(tmp_path):
    """Before any set-up, conversion or build: the Makefile checks WORKLOAD= first."""
    r = subprocess.run(["make", "-s", "sim", f"WORKLOAD={tmp_path / 'missing.wl'}"], cwd=ROOT,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and f"WORKLOAD={tmp_path / 'missing.wl'}: no such file" in r.stderr
    assert "setup:" not in r.stdout + r.stderr


def test_workload_command_writes_the_tier_it_is_given(tmp_path):
    from sim.workload import main
    main(["--kind", "directed", "--tier", "hot=37,3", "--out", str(tmp_path / "w.wl")])
    assert parse((tmp_path / "w.wl").read_text())[2] == {"hot": (37, 3), "warm": (200, 1), "cold": (10000, 1)}
    main(["--kind", "directed", "--tier", "cold=5,2", "--tier", "warm=4,3", "--out", str(tmp_path / "c.wl")])
    assert parse((tmp_path / "c.wl").read_text())[2] == {"hot": (10, 1), "warm": (4, 3), "cold": (5, 2)}
    main(["--kind", "directed", "--out", str(tmp_path / "d.wl")])
    # 100 ns, 2 us and 100 us at 100 MHz; one 8-byte word per cycle is below each tier's bandwidth
    assert parse((tmp_path / "d.wl").read_text())[2] == {"hot": (10, 1), "warm": (200, 1), "cold": (10000, 1)}

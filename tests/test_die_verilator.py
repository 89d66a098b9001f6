"""The die in Verilator against golden: the FuseSoC sim targets, the model's refusals, the fpga
set, the benches (sim/bench.py's Python and C++ halves refuse alike), waveforms and the workload
command. The MyHDL and Icarus parity is tests/test_die.py."""
import re
import subprocess
from pathlib import Path

import pytest

from golden import kv1_regs as R
from golden.channelquant import MODES
from golden.kvpath import kv_values
from golden.policy_engine import BLOCK_TOKENS
from golden.data_plane import MIX_SESSIONS
from golden.workload.driver import (block_fetch, configure_codec, ensure_open, kv_append, kv_check, kv_fetch, write_rom,
                                    Workload)
from golden.workload.format import parse, seal
from golden.workload.kinds import build
from golden.workload.scenarios.dma import late_answers
from golden import params as param_sets
from sim import bench
from tests.flows import fusesoc

SIM = param_sets.get("sim")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def parity_workload(tmp_path_factory):
    d = tmp_path_factory.mktemp("parity")
    text = build("all", SIM, 40, seed=1, tiers={"hot": (5, 2)}).text()   # a hot memory that refuses words
    (d / "w.wl").write_text(text)
    ref, _ = bench.run(text, "myhdl")     # the MyHDL die's log: what Verilator must print
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


def test_qos_bench_shows_the_neighbour_ahead_of_the_high_priority_fetch(verilator_model):
    """sim.qos_bench at 8 rounds (both runs golden-checked in Verilator), read from the die's QoS
    records: each session's bytes are its fetches' (the neighbour three a round); with the
    neighbour's burst ahead of it in the queue the high-priority fetch waits for the burst's three
    fetches (commands run in order: the budget and the class are counted, not enforced), without it
    it is taken at once; Jain's index drops with the neighbour."""
    from sim import qos_bench
    rows = qos_bench.main(["--rounds", "8", "--model", str(verilator_model)])
    noisy, quiet = rows["with the neighbour"], rows["without it"]
    block = 2 * BLOCK_TOKENS * SIM.cq_lanes * 4
    assert noisy["moved"] == [8 * block] * 3 + [8 * 3 * block] and quiet["moved"] == [8 * block] * 3 + [0]
    assert max(quiet["stall"]) < 16 and min(noisy["stall"]) > 2 * max(quiet["latency"])
    assert min(noisy["latency"]) > max(quiet["latency"]) + min(noisy["stall"]) - 16
    assert quiet["jain"] == 1.0 and noisy["jain"] < 0.8


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

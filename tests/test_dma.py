"""dma: golden (golden/dma.py) <-> MyHDL <-> converted Verilog (Icarus co-simulation), the
watchdog, the channels running side by side, lint."""
import subprocess
from pathlib import Path

import pytest

from golden import dma as golden
from golden.kvpath import slot_shift
from golden import params as param_sets
from hdl.kvce import generate
from sim import dma_bench
from sim.dma_bench import check, random_case, simulate, build_cosim, build_verilator

SIM = param_sets.get("sim")
ROOT = Path(__file__).resolve().parents[1]
HOT, WARM, COLD = 0, 1, 2
D = golden.Descriptor


def memories_with(entries, words=64):
    """Every tier's slot of each entry filled with distinct words."""
    shift = slot_shift(SIM)
    return {t: {e << shift | k: (t << 40) | (e << 20) | k for e in entries for k in range(words)} for t in range(3)}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_descriptors_match_golden(seed):
    queues, memories, silent = random_case(SIM, seed, descriptors=60)
    run, errors = check(SIM, queues, memories, silent, seed=seed)
    assert errors == []
    assert sum(d.timeout for v in run.done.values() for d in v) > 0      # the mix meets silent slots
    assert all(run.done[ch] for ch in golden.CHANNELS)


def test_fastest_memories_and_no_gaps_match_golden():
    queues, memories, silent = random_case(SIM, 7, descriptors=60)
    _, errors = check(SIM, queues, memories, silent, timing={t: (1, 1) for t in dma_bench.TIERS}, gaps=0)
    assert errors == []


@pytest.fixture(scope="module")
def verilator_model(tmp_path_factory):
    return build_verilator(SIM, tmp_path_factory.mktemp("dma_verilator"))


@pytest.mark.parametrize("tool", ["icarus", "verilator"])
def test_converted_dma_matches_golden_and_myhdl_cycle_for_cycle(tool, tmp_path, request):
    """Every completion, streamed word and tier request at the same cycle; memories equal."""
    queues, memories, silent = random_case(SIM, 2, descriptors=60)
    ref, errors = check(SIM, queues, memories, silent, seed=2)
    assert errors == []
    dut = ({"cosim_cmd": build_cosim(SIM, tmp_path)} if tool == "icarus"
           else {"verilator": request.getfixturevalue("verilator_model")})
    run, errors = check(SIM, queues, memories, silent, seed=2, **dut)
    assert errors == []
    assert run.trace == ref.trace and len(ref.trace) > 1000


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_verilator_model_on_larger_mixes_at_several_memory_timings(seed, verilator_model):
    timing = {t: (1 + 13 * k * (seed % 3), 1 + (seed + k) % 3) for k, t in enumerate(dma_bench.TIERS)}  # within the watchdog
    queues, memories, silent = random_case(SIM, seed, descriptors=300)
    run, errors = check(SIM, queues, memories, silent, seed=seed, timing=timing, verilator=verilator_model)
    assert errors == []
    assert dma_bench.overlap(run) > 0


def test_a_full_slot_moves_and_fetches_whole():
    words = 1 << slot_shift(SIM)
    queues = {golden.EVICT: [D(5, HOT, COLD, words)], golden.FETCH: [D(9, WARM, None, words)]}
    _, errors = check(SIM, queues, memories_with([5, 9], words), set(),
                      timing={t: (2, 1) for t in dma_bench.TIERS})
    assert errors == []


def test_channels_on_different_ports_run_side_by_side():
    """FETCH reads cold, EVICT moves hot -> warm, PREFETCH warm -> hot: no port in common, so the
    three transfers take about as long as the longest, not the sum."""
    words, timing = 200, {t: (20, 1) for t in dma_bench.TIERS}
    jobs = {golden.FETCH: [D(1, COLD, None, words)], golden.EVICT: [D(2, HOT, WARM, words)],
            golden.PREFETCH: [D(3, WARM, HOT, words)]}
    mem = memories_with([1, 2, 3], words)
    alone = []
    for ch, q in jobs.items():
        run, errors = check(SIM, {ch: q}, mem, set(), timing=timing, gaps=0)
        assert errors == []
        alone.append(run.cycles)
    together, errors = check(SIM, jobs, mem, set(), timing=timing, gaps=0)
    assert errors == []
    assert together.cycles < max(alone) + 20 < sum(alone) / 2


def test_a_shared_port_goes_to_the_fetch_first():
    """EVICT and FETCH both read hot: asked in the same cycle, the fetch completes first."""
    mem = memories_with([1, 2], 50)
    run, errors = check(SIM, {golden.FETCH: [D(1, HOT, None, 50)], golden.EVICT: [D(2, HOT, WARM, 50)]},
                        mem, set(), gaps=0)
    assert errors == []
    assert [ch for _, ch in dma_bench.completions(run)] == [golden.FETCH, golden.EVICT]


@pytest.mark.parametrize("case", ["fetch_source", "move_source", "move_destination"])
def test_watchdog_gives_up_on_a_silent_slot_and_the_channel_goes_on(case):
    """The silent transfer completes TIMEOUT with nothing written or streamed; the channel's next
    transfer, and the other channels, are unaffected."""
    mem = memories_with([1, 2, 3], 30)
    if case == "fetch_source":
        queues, silent = {golden.FETCH: [D(1, WARM, None, 30), D(2, WARM, None, 30)]}, {(WARM, 1)}
    elif case == "move_source":
        queues, silent = {golden.EVICT: [D(1, HOT, WARM, 30), D(2, HOT, WARM, 30)]}, {(HOT, 1)}
    else:
        queues, silent = {golden.PREFETCH: [D(1, COLD, HOT, 30), D(2, COLD, HOT, 30)]}, {(HOT, 1)}
    if case == "fetch_source":
        queues[golden.EVICT] = [D(3, COLD, WARM, 30)]
    else:
        queues[golden.FETCH] = [D(3, COLD, None, 30)]
    run, errors = check(SIM, queues, mem, silent, watchdog=50)
    assert errors == []
    ch = next(iter(queues))
    assert [d.timeout for d in run.done[ch]] == [True, False]


def test_a_slow_memory_within_the_limit_never_times_out():
    queues, memories, _ = random_case(SIM, 4, descriptors=30)
    run, errors = check(SIM, queues, memories, set(), watchdog=64, timing={t: (60, 2) for t in dma_bench.TIERS})
    assert errors == []
    assert not any(d.timeout for v in run.done.values() for d in v)


def test_watchdog_zero_waits_for_ever():
    run, _ = simulate(SIM, {golden.FETCH: [D(1, WARM, None, 8)]}, memories_with([1]), {(WARM, 1)},
                      watchdog=0, max_cycles=3000)
    assert run.done[golden.FETCH] == [] and "never completed" in run.error


def test_an_entry_without_an_image_moves_no_words_even_from_a_silent_slot():
    queues = {golden.EVICT: [D(4, HOT, COLD, 0)], golden.FETCH: [D(5, COLD, None, 0)]}
    run, errors = check(SIM, queues, memories_with([4, 5]), {(HOT, 4), (COLD, 4), (COLD, 5)})
    assert errors == []
    assert run.done[golden.EVICT] == [golden.Done(4, COLD, 0, False)]
    assert not [line for line in run.trace if line.split()[1] in dma_bench.TIERS]   # no tier request at all


def test_golden_refuses_a_descriptor_the_die_never_makes():
    with pytest.raises(ValueError, match="a fetch has no destination"):
        golden.run(slot_shift(SIM), {golden.FETCH: [D(1, HOT, WARM, 3)]}, {0: {}, 1: {}, 2: {}})
    with pytest.raises(ValueError, match="a slot holds at most"):
        golden.run(slot_shift(SIM), {golden.EVICT: [D(1, HOT, WARM, (1 << slot_shift(SIM)) + 1)]}, {0: {}, 1: {}, 2: {}})


def test_bench_reports_a_wrong_memory():
    """The comparison can fail: a memory that corrupts one word of a move is caught."""
    class Corrupting(dma_bench.TierMemory):
        def accept(self, n, write, read):
            if write is not None and write[0] & 0xFF == 7:
                write = (write[0], write[1] ^ 1, write[2])
            super().accept(n, write, read)

    original = dma_bench.TierMemory
    dma_bench.TierMemory = Corrupting
    try:
        _, errors = check(SIM, {golden.EVICT: [D(2, HOT, WARM, 10)]}, memories_with([2]), set())
    finally:
        dma_bench.TierMemory = original
    assert errors and "warm memory differs at 1 words" in errors[0]


def test_converted_dma_is_lint_clean_but_for_the_justified_waivers(tmp_path):
    rtl = generate("sim", "transfers", tmp_path)
    vlt = ROOT / "hdl/dma/dma_lint.vlt"
    r = subprocess.run(["verilator", "--lint-only", "-Wall", str(vlt), str(rtl)], capture_output=True, text=True)
    assert r.returncode == 0 and "%Warning" not in r.stderr, r.stderr[-3000:]
    r = subprocess.run(["verilator", "--lint-only", "-Wall", str(rtl)], capture_output=True, text=True)
    warned = {line.split(":")[0] for line in r.stderr.splitlines() if line.startswith("%Warning")}
    assert warned == {"%Warning-UNUSEDSIGNAL"}     # every waiver is needed, and none is for WIDTH


@pytest.mark.parametrize("set_name", ["fpga", "asic"])
def test_converts_for_the_larger_sets(set_name, tmp_path):
    rtl = generate(set_name, "transfers", tmp_path)
    r = subprocess.run(["verilator", "--lint-only", "-Wall", str(ROOT / "hdl/dma/dma_lint.vlt"), str(rtl)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]


@pytest.mark.sweep
def test_latency_of_a_lone_block_follows_the_memories():
    """The benchmark's transfers (each checked against golden): a fetch streams after the whole
    slot is in (words in, then words out), a move ends with the destination's last acknowledge."""
    timing = {"hot": (10, 1), "warm": (50, 1), "cold": (90, 2)}
    words, table = dma_bench.latency(SIM, dim=16, mode="CQ4", timing=timing)
    assert table["fetch from warm"] - table["fetch from hot"] == 40
    assert table["fetch from hot"] >= 2 * words + 10
    assert table["fetch from cold"] - table["fetch from hot"] >= words     # one word per 2 cycles
    # a move pays the source's read latency and the destination's acknowledge latency
    assert table["move hot -> warm"] == table["move warm -> hot"] >= words + 10 + 50
    assert table["move hot -> cold"] - table["move hot -> warm"] >= words     # cold takes a word per 2 cycles


@pytest.mark.parametrize("filler_words", [28, 34, 40, 46])
def test_an_answer_after_its_transfer_timed_out_is_never_taken_for_the_next(filler_words):
    """Issue 19: a warm memory 2,000 cycles away and a watchdog of 8. The fetch of entry 3 from
    warm times out (right); hot fetches fill the ~2,000 cycles until its answers come, then entry
    5 is fetched from warm: entry 3's late answers arrive while it waits (with 34 or 40 filler
    words, before the tags, entry 5 completed OK and streamed entry 3's words). They carry entry
    3's tag: the channel discards them and entry 5's fetch times out too. With a watchdog above
    the latency, fetches stream their own slots, in order."""
    timing = dict(dma_bench.DEFAULT_TIMING, warm=(2000, 1))
    memories = memories_with([3, 5, 7])
    fillers = [D(7, HOT, None, 20)] * 36 + [D(7, HOT, None, filler_words)]
    queues = {golden.FETCH: [D(3, WARM, None, 20)] + fillers + [D(5, WARM, None, 20)]}
    run, _ = simulate(SIM, queues, memories, timing=timing, watchdog=8, gaps=0)
    done = run.done[golden.FETCH]
    assert (done[0].timeout, done[-1].timeout) == (True, True)
    assert all(not d.timeout for d in done[1:-1])
    assert len(run.fetched) == len(fillers) and all(w >> 40 == HOT for words in run.fetched for w in words)
    queues = {golden.FETCH: [D(3, WARM, None, 20), D(5, WARM, None, 20), D(3, WARM, None, 20)]}
    run, _ = simulate(SIM, queues, memories, timing=timing, watchdog=8000, gaps=0)
    base = {e: e << slot_shift(SIM) for e in (3, 5)}
    assert run.fetched == [[memories[WARM][base[e] | k] for k in range(20)] for e in (3, 5, 3)]


def test_late_answers_are_discarded_by_the_converted_dma_too(tmp_path):
    """The same late-answer case (34 filler words: the one the untagged dma got wrong) in the
    converted Verilog under Icarus, cycle for cycle with MyHDL: both warm fetches time out and
    only the hot fillers stream."""
    timing = dict(dma_bench.DEFAULT_TIMING, warm=(2000, 1))
    memories = memories_with([3, 5, 7])
    queues = {golden.FETCH: [D(3, WARM, None, 20)] + [D(7, HOT, None, 20)] * 36 + [D(7, HOT, None, 34)]
              + [D(5, WARM, None, 20)]}
    ref, _ = simulate(SIM, queues, memories, timing=timing, watchdog=8, gaps=0)
    run, _ = simulate(SIM, queues, memories, timing=timing, watchdog=8, gaps=0,
                      cosim_cmd=build_cosim(SIM, tmp_path))
    assert run.trace == ref.trace and run.error is None
    done = run.done[golden.FETCH]
    assert (done[0].timeout, done[-1].timeout) == (True, True) and not any(d.timeout for d in done[1:-1])
    assert len(run.fetched) == 37 and all(w >> 40 == HOT for words in run.fetched for w in words)


@pytest.mark.parametrize("before, after", [(0, 100), (5000, 100)])
def test_a_new_watchdog_applies_to_the_transfer_in_flight(before, after):
    """DMA_WATCHDOG is compared every cycle (quiet >= limit): a fetch stuck on a silent slot under
    a disabled watchdog (0), or under a long one, times out as soon as the limit drops below its
    quiet cycles, not when a 24-bit counter wraps (16.8 M cycles) or the old limit passes."""
    switch = 600
    memories = memories_with([4])
    queues = {golden.FETCH: [D(4, HOT, None, 20)]}
    run, _ = simulate(SIM, queues, memories, silent={(HOT, 4)}, watchdog=lambda n: before if n < switch else after,
                      gaps=0, max_cycles=20_000)
    assert run.error is None and [d.timeout for d in run.done[golden.FETCH]] == [True]
    done_cycle = int(next(line for line in run.trace if " done " in line).split()[0])
    assert switch < done_cycle <= switch + 3

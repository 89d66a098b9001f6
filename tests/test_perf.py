"""perf in MyHDL against a model: every event and amount counted, snapshots, clear, saturation."""
import random

import pytest
from myhdl import Signal, ResetSignal, intbv

from golden import kv1_regs as R
from golden import params as param_sets
from hdl.host_if.host_if import HOST_IF_EVENTS
from hdl.die.kv1_die import KV_PATH_AMOUNTS
from hdl.dma import transfers
from hdl.dma.dma import DMA_EVENTS, MOVE_WORDS
from hdl.perf.perf import perf, counter, kv_amount_bits
from tests.blocks import sig, simulate

SIM = param_sets.get("sim")



@pytest.mark.parametrize("amount_bits", [1, 3])
def test_counter_saturates_snapshots_and_clears(amount_bits):
    """One counter per event (1-bit amounts) or byte amount; the second amount of the vector is
    counted, the first must not leak in."""
    rng = random.Random(11 + amount_bits)
    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    width = 2 + amount_bits      # small enough that the count saturates often
    amounts, snap, clear, shadow = Signal(intbv(0)[2 * amount_bits:]), sig(1), sig(1), sig(width)
    model = {"live": 0, "shadow": 0}
    errors = []

    def step(n):
        if int(shadow) != model["shadow"]:
            errors.append(f"cycle {n}: shadow {int(shadow)} != {model['shadow']}")
        if snap:
            model["shadow"] = model["live"]
        if clear:
            model["live"] = 0
        else:
            model["live"] = min(model["live"] + (int(amounts) >> amount_bits), 2**width - 1)
        amounts.next = rng.getrandbits(2 * amount_bits)
        snap.next = rng.random() < 0.3
        clear.next = rng.random() < 0.05

    simulate(counter, (clk, rst, amounts, snap, clear, shadow), dict(index=1, amount_bits=amount_bits),
             clk, rst, step, 400)
    assert not errors, errors[:3]


def test_perf_counts_every_event_and_the_cycles():
    rng = random.Random(12)
    n_ev = len(R.PERF_EVENTS)
    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    n_host, n_amt, amt_bits = len(HOST_IF_EVENTS), len(KV_PATH_AMOUNTS), kv_amount_bits(SIM)
    n_dma, n_words, words_bits = len(DMA_EVENTS), len(MOVE_WORDS), transfers.words_bits(SIM)
    # single-event counters; then the byte amounts; then the dma's events; then the moves'
    # words; then the late answers
    late_bits = transfers.LATE_BITS
    n_bits = n_ev - n_amt - n_dma - n_words - 1
    host_events, hepc_events, snap, clear = sig(n_host), sig(n_bits - n_host), sig(1), sig(1)
    dma_events, move_words, late = sig(n_dma), sig(n_words * words_bits), sig(late_bits)
    amounts = sig(n_amt * amt_bits)
    events = {"value": 0}
    cycle_o, count_o = sig(64), sig(32 * n_ev)
    live, shadow = [0] * n_ev, [0] * n_ev
    cyc = {"live": 0, "shadow": 0}
    errors = []

    def step(n):
        got = [(int(count_o) >> (32 * k)) & 0xFFFFFFFF for k in range(n_ev)]
        if got != shadow or int(cycle_o) != cyc["shadow"]:
            errors.append(f"cycle {n}: {got}/{int(cycle_o)} != {shadow}/{cyc['shadow']}")
        if snap:
            shadow[:] = live
            cyc["shadow"] = cyc["live"]
        if clear:
            live[:] = [0] * n_ev
            cyc["live"] = 0
        else:
            for k in range(n_bits):
                live[k] += (events["value"] >> k) & 1
            for j in range(n_amt):
                live[n_bits + j] = min(live[n_bits + j] + ((events["amounts"] >> (amt_bits * j)) & ((1 << amt_bits) - 1)),
                                       2**32 - 1)
            for j in range(n_dma):
                live[n_bits + n_amt + j] += (events["dma"] >> j) & 1
            for j in range(n_words):
                live[n_bits + n_amt + n_dma + j] += (events["words"] >> (words_bits * j)) & ((1 << words_bits) - 1)
            live[n_ev - 1] += events["late"]
            cyc["live"] += 1
        events["value"] = rng.getrandbits(n_bits)
        events["amounts"] = rng.getrandbits(n_amt * amt_bits)
        events["dma"] = rng.getrandbits(n_dma)
        events["words"] = rng.getrandbits(n_words * words_bits)
        events["late"] = rng.randrange(7)
        late.next = events["late"]
        dma_events.next = events["dma"]
        move_words.next = events["words"]
        host_events.next = events["value"] & ((1 << n_host) - 1)
        hepc_events.next = events["value"] >> n_host
        amounts.next = events["amounts"]
        snap.next = rng.random() < 0.2
        clear.next = rng.random() < 0.03

    events["amounts"] = events["dma"] = events["words"] = events["late"] = 0
    simulate(perf, (SIM, clk, rst, host_events, hepc_events, amounts, dma_events, move_words, late, snap, clear,
                    cycle_o, count_o), {},
             clk, rst,
             step, 500)
    assert not errors, errors[:3]

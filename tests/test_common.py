"""hdl/common in MyHDL: the FIFO against a deque."""
import random
from collections import deque

import pytest
from myhdl import Signal, ResetSignal

from golden import params as param_sets
from hdl.common.fifo import fifo
from tests.blocks import sig, simulate

SIM = param_sets.get("sim")



@pytest.mark.parametrize("depth", [2, 3, 4])
def test_fifo_against_a_deque(depth):
    rng = random.Random(depth)
    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    push, pop, full, empty = sig(1), sig(1), sig(1), sig(1)
    din, dout, level = sig(8), sig(8), sig(depth.bit_length())
    ref = deque()
    errors = []

    def step(n):
        # check what the fifo showed in the cycle that just ended, then apply its handshake
        if bool(empty) != (not ref) or bool(full) != (len(ref) == depth) or int(level) != len(ref):
            errors.append(f"cycle {n}: flags {bool(empty)}/{bool(full)}/{int(level)}, model {len(ref)}")
        if ref and int(dout) != ref[0]:
            errors.append(f"cycle {n}: dout {int(dout)} != {ref[0]}")
        popped = bool(pop) and len(ref) > 0
        if push and len(ref) < depth:
            ref.append(int(din))
        if popped:
            ref.popleft()
        push.next = rng.random() < 0.6
        pop.next = rng.random() < 0.5
        din.next = rng.getrandbits(8)

    simulate(fifo, (clk, rst, push, din, full, pop, dout, empty, level), dict(depth=depth), clk, rst, step, 600)
    assert not errors, errors[:3]


def test_fifo_refuses_bad_depth():
    with pytest.raises(ValueError, match="at least 2"):
        fifo(*[sig(1)] * 9, depth=1)

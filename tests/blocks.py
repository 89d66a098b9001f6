"""The block tests' harness: a MyHDL block under a clock and a reset, stepped edge by edge."""
from myhdl import block, always, instance, delay, Signal, intbv, StopSimulation


def sig(width):
    return Signal(bool(0)) if width == 1 else Signal(intbv(0)[width:])


@block
def harness(block_fn, args, clk, rst, step, cycles):
    """block_fn(*args) under a clock, a reset of two cycles, then `step(cycle)` at every
    rising edge: it reads the values sampled just before the edge and sets the inputs for
    the next cycle."""
    dut = block_fn(*args[0], **args[1])

    @always(delay(5))
    def clock():
        clk.next = not clk

    @instance
    def run():
        rst.next = 0
        yield clk.posedge
        yield clk.posedge
        rst.next = 1
        for n in range(cycles):
            yield clk.posedge
            step(n)
        raise StopSimulation()

    return dut, clock, run


def simulate(block_fn, args, kwargs, clk, rst, step, cycles, cosim=False):
    """harness() run to its end; `cosim` when block_fn is a co-simulation (its run already
    closed it: MyHDL 0.11's quit_sim() would raise EBADF)."""
    tb = harness(block_fn, (args, kwargs), clk, rst, step, cycles)
    tb.run_sim(quiet=1)
    if not cosim:
        tb.quit_sim()


def drive(script):
    """A step function for simulate() from a generator: each `yield` is one clock edge, at which
    the inputs the script set take effect; after it the script reads what the block showed as it
    took them (its combinational outputs then)."""
    def step(n):
        next(script, None)
    return step

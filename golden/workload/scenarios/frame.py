"""Scenarios of the frame (host_if, regs, cmdproc): registers, queues, streams, interrupts."""

from golden import kv1_regs as R
from golden.frame import RESP_SLVERR, FULL_STROBE, ECHO_MAX_BEATS
from golden.workload.driver import WorkloadError


def directed(w):
    """Every frame feature once, each on purpose: identity, scratch, commands, IRQs,
    queue limits, stream framing, perf snapshot/clear."""
    p = w.params
    w.read(R.ID)
    w.read(R.PARAMS)
    for v in (0xFFFFFFFF, 0, 0xA5A55A5A, 0x12345678):
        w.write(R.SCRATCH, v)
        w.read(R.SCRATCH)
    # perf: a clean window from a clear, counted exactly
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "CLEAR", 1))
    w.write(R.IRQ_ENABLE, 0x3)
    w.check_irq()
    w.submit(R.OPCODE.NOP, session=7)
    w.settle()
    w.check_irq()
    w.pop_all()
    w.write(R.IRQ_STATUS, 0x1)
    w.check_irq()
    # an unknown opcode completes with BAD_ARG and raises ERR
    w.submit(0xEE, session=3)
    w.settle()
    w.check_irq()
    w.pop_all()
    w.write(R.IRQ_STATUS, 0x3)
    w.check_irq()
    # ECHO: in range, zero length (BAD_ARG, nothing moved), out of range, framing error
    w.submit(R.OPCODE.ECHO, session=1, arg0=5)
    w.stream(5)
    w.settle()
    w.pop_all()
    w.submit(R.OPCODE.ECHO, session=1, arg0=0)
    w.submit(R.OPCODE.ECHO, session=1, arg0=ECHO_MAX_BEATS + 1)
    w.settle()
    w.pop_all()
    w.submit(R.OPCODE.ECHO, session=2, arg0=4)
    w.stream(4, framing_ok=False)
    w.settle()
    w.pop_all()
    # the command queue fills behind an ECHO that waits for data: the next doorbell is refused
    w.submit(R.OPCODE.ECHO, session=4, arg0=3)
    for _ in range(p.cmdq_depth):
        w.submit(R.OPCODE.NOP, session=4)
    w.settle()
    if w.submit(R.OPCODE.NOP, session=4) != RESP_SLVERR:
        raise WorkloadError("expected a full command queue")
    w.dump()
    w.stream(3)
    w.settle()
    w.pop_all()
    # the completion queue fills: the engine stalls, nothing is lost
    for _ in range(p.cplq_depth + 2):
        w.submit(R.OPCODE.NOP, session=5)
    w.settle()
    w.read(R.CPL_STATUS)
    w.read(R.CMD_STATUS)
    w.pop_all()
    if w.write(R.CPL_POP, 0) != RESP_SLVERR:
        raise WorkloadError("expected an empty completion queue")
    # irq test bits, and an idle gap: the line holds
    w.write(R.IRQ_TEST, 0x2)
    w.check_irq()
    w.idle(25)
    w.check_irq()
    w.write(R.IRQ_STATUS, 0x3)
    w.write(R.IRQ_ENABLE, 0)
    w.check_irq()
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    w.dump()


def random_accesses(w, count):
    """Seeded random register traffic, good and bad; every refused access is followed by a
    full register dump, so a refused access that changed anything shows up as a mismatch."""
    rng = w.rng
    mapped = [r.offset for r in R.REGISTERS]
    unmapped = [a for a in range(0, 1 << R.ADDR_WIDTH, 4) if a not in R.BY_OFFSET]
    read_only = [r.offset for r in R.REGISTERS if not r.writable]
    partial_strobes = list(range(FULL_STROBE))  # every strobe but 0xF
    ops = 0
    while ops < count:
        kind = rng.random()
        if kind < 0.25:   # a refused access, then a dump to prove it changed nothing
            choice = rng.randrange(6)
            if choice == 0:
                resp = w.write(rng.choice(unmapped), rng.getrandbits(32))
            elif choice == 1:
                resp = w.read(rng.choice(unmapped))[2]
            elif choice == 2:
                addr = rng.choice(mapped) + rng.randint(1, 3)
                resp = w.write(addr, rng.getrandbits(32)) if rng.random() < 0.5 else w.read(addr)[2]
            elif choice == 3:
                resp = w.write(rng.choice(mapped), rng.getrandbits(32), rng.choice(partial_strobes))
            elif choice == 4:
                resp = w.write(rng.choice(read_only), rng.getrandbits(32))
            else:
                w.pop_all()
                resp = w.write(R.CPL_POP, rng.getrandbits(32))
            if resp != RESP_SLVERR:
                raise WorkloadError("a refused access was accepted by the golden model")
            w.dump()
        elif kind < 0.45:
            reg = rng.choice(["SCRATCH", "CMD_ARG0", "IRQ_ENABLE", "IRQ_STATUS", "IRQ_TEST"])
            w.write(getattr(R, reg), rng.getrandbits(32))
            w.check_irq()
        elif kind < 0.6:
            w.read(rng.choice(mapped))
        elif kind < 0.8:  # a command, with its stream data when it is an ECHO
            op = rng.choice([R.OPCODE.NOP, R.OPCODE.ECHO, R.OPCODE.ECHO, rng.randrange(2, 256)])
            beats = rng.randint(1, 3 * w.params.axis_fifo_depth)
            if len(w.model.cplq) == w.params.cplq_depth:
                w.pop_all()
            w.submit(op, session=rng.getrandbits(16), arg0=beats)
            if op == R.OPCODE.ECHO:
                w.stream(beats, framing_ok=rng.random() < 0.9)
            w.settle()
        elif kind < 0.9:
            w.pop_all()
        else:  # snapshots only: the directed phase clears, so the last snapshot covers the run
            w.settle()
            w.write(R.PERF_CTRL, rng.getrandbits(1))
            w.read(rng.choice([r.offset for r in R.REGISTERS if r.name.startswith("PERF_")]))
        ops += 1
    w.settle()
    w.pop_all()
    w.write(R.PERF_CTRL, w.field("PERF_CTRL", "SNAPSHOT", 1))
    w.dump()



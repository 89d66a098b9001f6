"""MyHDL test bench: replays a workload on the die, as MyHDL or as converted Verilog
co-simulated in Icarus (through myhdl.vpi).

    python -m sim.bench WORKLOAD [--cosim IMAGE --vpi PATH] [--log FILE] [--vcd FILE] [--max-cycles N]

A workload the parser refuses (sim/replay.py), or a log that cannot be written, ends the run at
once with a one-line message and exit code 2, the Verilator bench's; a mismatch with exit code 1.
"""
import argparse
import sys
import time
from pathlib import Path

from myhdl import block, always, instance, delay, Cosimulation, StopSimulation

from golden import params as param_sets
from hdl.die.kv1_die import kv1_die, die_port_signals
from golden.workload.format import parse, WorkloadFormatError
from sim.replay import Replayer, SAMPLED, MAX_CYCLES

HALF_PERIOD = 5


@block
def bench(params, replayer, dut_signals, cosim_cmd, progress):
    """The die (MyHDL, or the Verilog behind `cosim_cmd`) under the replayer."""
    if cosim_cmd:
        dut = Cosimulation(cosim_cmd, **dut_signals)
    else:
        dut = kv1_die(params, **dut_signals)
    clk = dut_signals["clk_i"]
    sampled = [(n, dut_signals[n]) for n in SAMPLED]
    driven = [(n, dut_signals[n]) for n in replayer.drive]

    @always(delay(HALF_PERIOD))
    def clock():
        clk.next = not clk

    @instance
    def driver():
        while True:
            yield clk.posedge
            replayer.edge({n: int(sig.val) for n, sig in sampled})
            for n, sig in driven:
                sig.next = replayer.drive[n]
            if progress and replayer.cycle % 20000 == 0:
                progress(replayer)
            if replayer.done:
                raise StopSimulation()

    return dut, clock, driver


def run(text, dut_kind="myhdl", cosim_image=None, vpi=None, vcd=None, progress=None, max_cycles=MAX_CYCLES):
    """Replay workload `text`; -> (replayer, cycles per second). WorkloadFormatError when the
    parser refuses it."""
    set_name, ops, tiers, silent = parse(text)
    params = param_sets.get(set_name)
    sigs = die_port_signals(params)
    cosim_cmd = None
    if dut_kind == "cosim":
        if not cosim_image or not vpi:
            raise ValueError("co-simulation needs the Icarus image and myhdl.vpi")
        cosim_cmd = f"vvp -m {vpi} {cosim_image} +myhdl"
    elif dut_kind != "myhdl":
        raise ValueError(f"unknown dut kind {dut_kind!r}")
    replayer = Replayer(ops, tiers, silent, max_cycles=max_cycles)
    tb = bench(params, replayer, sigs, cosim_cmd, progress)
    if vcd:
        tb.config_sim(trace=True, tracebackup=False, name=Path(vcd).stem, directory=str(Path(vcd).parent))
    start = time.perf_counter()
    tb.run_sim(quiet=1)
    elapsed = time.perf_counter() - start
    if dut_kind == "myhdl":  # quit_sim() after a co-simulation ended raises EBADF (MyHDL 0.11)
        tb.quit_sim()
    return replayer, replayer.cycle / elapsed if elapsed else 0.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workload")
    ap.add_argument("--cosim", metavar="IMAGE", help="Icarus image of the converted die (tb_kv1_die)")
    ap.add_argument("--vpi", help="path of myhdl.vpi")
    ap.add_argument("--log", help="write the replay log here")
    ap.add_argument("--vcd", help="write a VCD waveform here (MyHDL run only)")
    ap.add_argument("--max-cycles", type=int, default=MAX_CYCLES, help=f"stop with an error after this many cycles "
                    f"(default {MAX_CYCLES})")
    args = ap.parse_args(argv)

    def refuse(msg):
        print(f"bench: {msg}", file=sys.stderr)
        return 2

    try:
        text = Path(args.workload).read_text()
    except (OSError, UnicodeDecodeError) as e:
        return refuse(f"cannot read workload {args.workload}: {e.strerror if isinstance(e, OSError) else e}")
    log = None
    if args.log:
        try:
            log = open(args.log, "w")
        except OSError as e:
            return refuse(f"cannot write log {args.log}: {e.strerror}")

    def progress(rp):
        print(f"  cycle {rp.cycle}, operation {rp.pc}/{len(rp.ops)}", file=sys.stderr)

    try:
        rp, rate = run(text, "cosim" if args.cosim else "myhdl", args.cosim, args.vpi, args.vcd, progress,
                       args.max_cycles)
    except WorkloadFormatError as e:
        return refuse(f"{args.workload}: {e}")
    if log:
        with log:
            log.write("\n".join(rp.log) + "\n")
    if rp.error:
        print(f"MISMATCH {rp.error}")
        return 1
    print(f"PASS {len(rp.ops)} operations in {rp.cycle} cycles ({rate:.0f} cycles/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""HEPC scan benchmark: cycles of one STEP_ADVANCE on rtbd + hepc, in MyHDL, per parameter set.

    python -m sim.scan_bench [--sets sim,fpga,asic] [--fill 0.5] [--seed 1]

For each set the harness fills `fill` of the directory with hot blocks through DIR_INSERT
(seeded random keys; a full set answers DIR_FULL and is skipped), then times two scans
with the evict and prefetch queues drained every cycle:
  step 1  high watermark above the occupancy: the update pass alone;
  step 2  high watermark at half the occupancy: update, selection passes and evictions.
It prints request-to-scan-start latency, cycles per pass and the whole step, and checks the
eviction count against the golden model (golden/policy_engine.py). DESIGN §11: scan start
<= 4 cycles after the step reaches the engine, >= 1 entry per cycle per bank.
"""
import argparse
import random
import sys
import time

from myhdl import block, always, instance, delay, Signal, ResetSignal, intbv, StopSimulation

from golden import kv1_regs as R
from golden.policy_engine import PolicyEngine
from golden import params as param_sets
from hdl.common.instance import block_ports
from hdl.hepc.hepc import hepc, HEPC_EVENTS
from hdl.rtbd.rtbd import rtbd, WORD_BITS
from sim.benchmark import machine


def _sig(width):
    return Signal(bool(0)) if width == 1 else Signal(intbv(0)[width:])


@block
def harness(params, keys, high_mid, result):
    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    ways, set_bits = params.dir_ways, (params.dir_sets - 1).bit_length()
    ib = (params.dir_entries - 1).bit_length()
    s = {n: _sig(w) for n, w in dict(
        req=1, opcode=8, session=16, arg0=32, arg1=16, arg2=32, probe=1, codec=2, shared=1, done=1, status=8,
        index=16,
        w_r=8, w_f=8, w_s=8, w_d=8, window=8, horizon=8, high=16, low=16, threshold=16,
        ready=1, key_session=16, key_layer=8, key_head=8, key_block=24, hash_set=set_bits,
        rd_set=set_bits, rd_data=ways * WORD_BITS, match=ways, free=ways, wr_en=ways, wr_set=set_bits,
        wr_data=ways * WORD_BITS, win_index=16, win_data=256, win_owner=16, win_used=1,
        evq_pop=1, evq_valid=1, evq_entry=ib, evq_src=2, evq_dst=2,
        pfq_pop=1, pfq_valid=1, pfq_entry=ib, pfq_src=2, pfq_dst=2,
        cpl_valid=1, cpl_entry=ib, cpl_tier=2, cpl_timeout=1, cpl_take=1, moves_busy=1, tier=2, forget=1,
        forget_entry=ib,
        step=32, hot=16, hints=8, events=len(HEPC_EVENTS),
        # the DECODE guard's lanes: no session is in DECODE here (the session block is not in the harness)
        scan_sessions=ways * 16, scan_decode=ways,
        way_quota=8, hint_quota=8).items()}              # SESSION_QUOTA: none
    u_rtbd = rtbd(params, clk, rst, s["ready"], s["key_session"], s["key_layer"], s["key_head"], s["key_block"],
                  s["hash_set"], s["rd_set"], s["rd_data"], s["match"], s["free"], s["wr_en"], s["wr_set"],
                  s["wr_data"], s["win_index"], s["win_data"], s["win_owner"], s["win_used"])
    # hepc's ports by name, less the direction suffix: rtbd's and the harness's signals (its
    # dir_ready is rtbd's ready)
    ports = {port: s["ready" if port == "dir_ready_i" else port.rsplit("_", 1)[0]]
             for port in block_ports(hepc) if port not in ("clk_i", "rst_ni")}
    u_hepc = hepc(params, clk, rst, **ports)

    @always(delay(5))
    def clock():
        clk.next = not clk

    @instance
    def driver():
        defaults = {f.name: f.reset for f in R.BY_NAME["HEPC_WEIGHTS"].fields}
        s["w_r"].next, s["w_f"].next = defaults["W_R"], defaults["W_F"]
        s["w_s"].next, s["w_d"].next = defaults["W_S"], defaults["W_D"]
        s["window"].next, s["horizon"].next, s["threshold"].next = 8, 4, 48000
        s["evq_pop"].next = s["pfq_pop"].next = True
        yield delay(12)
        rst.next = 1
        while not s["ready"]:
            yield clk.posedge

        def command(opcode, session=0, arg0=0, arg1=0, arg2=0):
            s["req"].next, s["opcode"].next, s["session"].next = True, opcode, session
            s["arg0"].next, s["arg1"].next, s["arg2"].next = arg0, arg1, arg2

        for k in keys:
            command(R.OPCODE.DIR_INSERT, k[0], k[3], k[1] | k[2] << 8, R.TIER.HOT)
            yield clk.posedge
            while not s["done"]:
                yield clk.posedge
            result["statuses"].append(int(s["status"]))
            s["req"].next = False
            yield clk.posedge
        for t, (high, low) in enumerate(high_mid, start=1):
            s["high"].next, s["low"].next = high, low
            yield clk.posedge
            command(R.OPCODE.STEP_ADVANCE, arg0=t)
            cycles, start, scanning = 0, None, 0
            while True:
                yield clk.posedge
                cycles += 1
                scanning += int(s["events"]) >> HEPC_EVENTS.index("HEPC_SCAN_CYCLES") & 1
                if start is None and int(s["rd_set"]) == 0 and scanning:
                    start = cycles
                evicts = int(s["events"]) >> HEPC_EVENTS.index("HEPC_EVICTS") & 1
                result.setdefault(f"evicts{t}", 0)
                result[f"evicts{t}"] += evicts
                if s["done"]:
                    break
            s["req"].next = False
            result[f"step{t}"] = cycles
            result[f"start{t}"] = start
            yield clk.posedge
        raise StopSimulation

    return u_rtbd, u_hepc, clock, driver


def measure(set_name, fill, seed):
    params = param_sets.get(set_name)
    rng = random.Random(seed)
    n = int(params.dir_entries * fill)
    keys = list({(rng.randrange(1, 1 << 16), rng.randrange(4), 0, rng.randrange(1 << 20)) for _ in range(n)})
    keys.sort()
    rng.shuffle(keys)
    golden = PolicyEngine(params)
    stored = {("HEPC_WEIGHTS", f.name): f.reset for f in R.BY_NAME["HEPC_WEIGHTS"].fields}
    stored.update({("HEPC_CTRL", "WINDOW"): 8, ("HEPC_CTRL", "HORIZON"): 4, ("HEPC_THRESHOLD", "PREFETCH"): 48000})
    for k in keys:
        golden.execute(R.OPCODE.DIR_INSERT, k[0], k[3], k[1] | k[2] << 8, R.TIER.HOT, stored)
    hot = golden.hot_count()
    steps = [(min(hot + 1, 0xFFFF), min(hot, 0xFFFF)), (max(hot // 2, 1), max(hot // 2 - 1, 0))]
    golden_evicts = []
    for t, (high, low) in enumerate(steps, start=1):
        stored.update({("HEPC_WATERMARKS", "HIGH"): high, ("HEPC_WATERMARKS", "LOW"): low})
        _, pushes, _ = golden.execute(R.OPCODE.STEP_ADVANCE, 0, t, 0, 0, stored)
        golden_evicts.append(sum(1 for q, _ in pushes if q == "evict"))
    result = {"statuses": []}
    wall = time.perf_counter()
    tb = harness(params, keys, steps, result)
    tb.run_sim(quiet=1)
    tb.quit_sim()
    wall = time.perf_counter() - wall
    inserted = result["statuses"].count(R.STATUS.OK)
    if inserted != hot:
        raise RuntimeError(f"{set_name}: RTL inserted {inserted} blocks, golden {hot}")
    for t in (1, 2):
        if result[f"evicts{t}"] != golden_evicts[t - 1]:
            raise RuntimeError(f"{set_name}: step {t} evicted {result[f'evicts{t}']}, golden {golden_evicts[t - 1]}")
    return params, inserted, result, wall


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="sim,fpga,asic", help="parameter sets, comma-separated")
    ap.add_argument("--fill", type=float, default=0.5, help="share of the directory filled (0..1]")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if not 0 < args.fill <= 1:
        ap.error("--fill must be in (0, 1]")
    names = args.sets.split(",")
    for name in names:
        if name not in param_sets.PARAM_SETS:
            ap.error(f"unknown parameter set {name!r}; choose from {sorted(param_sets.PARAM_SETS)}")
    print(f"machine: {machine()}")
    print(f"HEPC scan, MyHDL rtbd + hepc, fill {args.fill}, seed {args.seed}; default weights, window 8")
    print("| set | entries | banks (ways) | sets | blocks | start (cycles) | update-only step | "
          "entries/cycle | step with eviction | evicted | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        params, inserted, r, wall = measure(name, args.fill, args.seed)
        rate = params.dir_entries / r["step1"]
        print(f"| {name} | {params.dir_entries} | {params.dir_ways} | {params.dir_sets} | {inserted} | "
              f"{r['start1']} | {r['step1']} | {rate:.2f} | {r['step2']} | {r['evicts2']} | {wall:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""QoS: a noisy neighbour beside a high-priority session, in the Verilator model of the die.

    python -m sim.qos_bench [--rounds 48] [--burst 3] [--seed 1] [--keep DIR] [--model Vkv1_die]

Four tenants, one session each in its own requester domain: the high-priority session (class 3,
domain 1), two others (class 1, domains 2 and 3) and the neighbour (class 0, domain 4, a budget
of one block a step). Each stores two blocks hot (KV_APPEND, CQ-4, D = cq_lanes). Then rounds:
the two others fetch one block each; then the neighbour submits --burst KV_FETCHes back to back
and the high-priority session one (a full command queue at the `sim` set); the die settles, the
completions are popped and the management domain reads the high-priority session's QoS record;
every 8 rounds a STEP_ADVANCE (the QoS window). Run twice through the `sim` target's model, with
the neighbour's burst and without it; each run is checked against golden as it goes.

Reported, from the die's own QoS records (the QoS window): the bytes each session moved in the
rounds and Jain's fairness index over them, (sum x)^2 / (n sum x^2); and the high-priority
fetch's wait in the command queue, its QOS_WIN_STALL per command (cycles from its doorbell until the engine took it),
p50 and p99; and its doorbell-to-completion latency (the doorbell write's end to the end of the
poll that sees the round's completions: the fetch is the round's last command), p50 and p99. The
commands run in order (no arbitration yet, docs/limits.md), so the neighbour's burst is ahead of
it in the queue whatever its class and budget.
"""
import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from golden import kv1_regs as R
from golden.channelquant import MODES
from golden.kvpath import kv_values
from golden.policy_engine import BLOCK_TOKENS
from golden.workload.driver import Workload, configure_codec, kv_append, open_session
from golden.workload.format import parse
from golden.workload.scenarios.hepc import free_key
from golden import params as param_sets
from sim.benchmark import build_model, machine

HIGH, OTHERS, NEIGHBOUR = (1, 101), ((2, 202), (3, 303)), (4, 404)    # (domain, session)
CLASS = {1: 3, 2: 1, 3: 1, 4: 0}
STEP_EVERY = 8


def percentile(values, p):
    """The nearest-rank p-th percentile."""
    ranked = sorted(values)
    return ranked[max(0, -(-len(ranked) * p // 100) - 1)]


def jain(xs):
    return sum(xs) ** 2 / (len(xs) * sum(x * x for x in xs)) if any(xs) else None


def workload(params, rounds, burst, seed):
    """-> (workload text, {what: [line numbers]}): the lines whose results the report reads."""
    w = Workload(params, seed=seed, delays=False)
    D = params.cq_lanes
    block_bytes = 2 * BLOCK_TOKENS * D * 4             # a fetch streams K and V in fp32
    configure_codec(w, MODES.index("CQ4"), D)
    tenants = [HIGH, *OTHERS, NEIGHBOUR]
    keys = {}
    for domain, session in tenants:
        w.as_domain(domain)
        open_session(w, session, priority=CLASS[domain], budget=block_bytes if (domain, session) == NEIGHBOUR else 0)
        keys[session] = [free_key(w, session, 1, 0), free_key(w, session, 1, 1)]
        for key in keys[session]:
            kv_append(w, key, kv_values(w.rng, BLOCK_TOKENS, D))
    index = {session: w.model.plane.sessions.index(session) for _, session in tenants}
    marks = {"doorbell": [], "done": [], "stall": [], "bytes before": [], "bytes": []}

    def read_bytes(mark):
        w.as_domain(0)
        for _, session in tenants:
            w.write(R.QOS_WIN_INDEX, index[session])
            w.read(R.QOS_WIN_BYTES)
            marks[mark].append(len(w.lines))

    read_bytes("bytes before")
    w.write(R.QOS_WIN_INDEX, index[HIGH[1]])
    w.read(R.QOS_WIN_STALL)                            # its appends' waits: the first round's base
    marks["stall"].append(len(w.lines))

    def fetch(domain, session, k):
        """-> the line number of its doorbell (the output beats golden expects follow it)."""
        w.as_domain(domain)
        layer_head, block = keys[session][k % 2][1:3], keys[session][k % 2][3]
        first = len(w.lines)
        w.submit(R.OPCODE.KV_FETCH, session, arg0=block, arg1=layer_head[0] | layer_head[1] << 8)
        return next(n + 1 for n in range(first, len(w.lines)) if w.lines[n].startswith(f"W {R.CMD_DOORBELL:x} "))

    for r in range(rounds):
        for domain, session in OTHERS:
            fetch(domain, session, r)
        w.settle()
        w.pop_all()
        for k in range(burst):
            fetch(*NEIGHBOUR, k)
        marks["doorbell"].append(fetch(*HIGH, r))
        w.as_domain(0)
        marks["done"].append(len(w.lines) + 1)          # settle's first poll: the completions' count
        w.settle()
        w.pop_all()
        w.write(R.QOS_WIN_INDEX, index[HIGH[1]])
        w.read(R.QOS_WIN_STALL)
        marks["stall"].append(len(w.lines))
        if r % STEP_EVERY == STEP_EVERY - 1:
            w.write(R.STEP_ADVANCE, w.model.policy.hepc.step + 1)
            w.settle()
            w.pop_all()
    read_bytes("bytes")
    return w.text(), marks


def run(exe, text, marks, keep):
    """-> (results by mark, cycles): one golden-checked Verilator run, read from its log."""
    wl, log = keep / "qos.wl", keep / "qos.log"
    wl.write_text(text)
    r = subprocess.run([str(exe), f"+workload={wl}", f"+log={log}", "+quiet"], capture_output=True, text=True)
    if r.returncode != 0 or "PASS golden parity" not in r.stdout:
        raise RuntimeError(f"Verilator run of {wl} failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    ops = parse(text)[1]
    op_of_line = {op.line: i for i, op in enumerate(ops)}
    done = {}                                            # op index -> (cycle, first result)
    for line in log.read_text().splitlines():
        words = line.split()
        if len(words) >= 5 and words[1] == "op":
            done[int(words[2])] = (int(words[0]), int(words[4], 16))
    got = {what: [done[op_of_line[no]] for no in lines] for what, lines in marks.items()}
    cycles = int(r.stdout.split(" cycles")[0].split()[-1])
    return got, cycles


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=48)
    ap.add_argument("--burst", type=int, default=None, help="the neighbour's fetches a round (default cmdq_depth - 1)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", help="write the workloads and logs here")
    ap.add_argument("--model", help="a built Vkv1_die (default: build the sim target)")
    args = ap.parse_args(argv)
    params = param_sets.get("sim")
    burst = args.burst if args.burst is not None else params.cmdq_depth - 1
    if args.rounds < 1 or burst < 1:
        ap.error("--rounds and --burst must be at least 1")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1]).stdout.strip() or "unknown"
    print(f"QoS bench, set sim (cmdq_depth {params.cmdq_depth}), {args.rounds} rounds, neighbour burst {burst}, "
          f"seed {args.seed}; commit {commit}; {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(args.model) if args.model else build_model(Path(tmp) / "build")
        keep_root = Path(args.keep) if args.keep else Path(tmp)
        rows = {}
        for name, b in (("with the neighbour", burst), ("without it", 0)):
            keep = keep_root / name.replace(" ", "_")
            keep.mkdir(parents=True, exist_ok=True)
            print(f"... {name}: building the workload", flush=True)
            text, marks = workload(params, args.rounds, b, args.seed)
            print(f"... {name}: running the model", flush=True)
            start = time.time()
            got, cycles = run(exe, text, marks, keep)
            stall = [b2 - a for (_, a), (_, b2) in zip(got["stall"], got["stall"][1:])]
            latency = [d - s for (s, _), (d, _) in zip(got["doorbell"], got["done"])]
            moved = [v - v0 for (_, v), (_, v0) in zip(got["bytes"], got["bytes before"])]
            rows[name] = dict(stall=stall, latency=latency, moved=moved, cycles=cycles,
                              jain=jain(moved if moved[-1] else moved[:-1]), seconds=time.time() - start)
    print()
    print("| run | high-priority queue wait p50 / p99 (cycles) | its doorbell to completion p50 / p99 (cycles) "
          "| bytes fetched: high, others, neighbour | Jain's index | run cycles |")
    print("|---|---|---|---|---|---|")
    for name, row in rows.items():
        stall, latency, moved = row["stall"], row["latency"], row["moved"]
        print(f"| {name} | {percentile(stall, 50)} / {percentile(stall, 99)} | {percentile(latency, 50)} / "
              f"{percentile(latency, 99)} | {moved[0]:,}, {moved[1]:,} and {moved[2]:,}, {moved[3]:,} | "
              f"{row['jain']:.3f} | {row['cycles']:,} |")
    print()
    print("Bytes: what each session's commands moved in the rounds (its QOS_WIN_BYTES after them less before). "
          "Jain's index is over the sessions that fetched (without the neighbour, three). The commands run in the "
          "order they came: the neighbour's budget (one block a step) and the classes are counted, not yet enforced.")
    return rows


if __name__ == "__main__":
    main()

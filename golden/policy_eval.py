"""Policy evaluation: HEPC against LRU and Belady's OPT on the same replay (DESIGN §10).

    python -m golden.policy_eval --workload decode --capacities 32,64,128 [--png policy.png]
    python -m golden.policy_eval --workload mooncake --capacities 2048,8192,32768 [--limit N]

Common rules for every policy: the hot tier holds `capacity` blocks; an appended block
enters it (a compulsory miss); an access hits when its block is hot, otherwise the block
is filled on demand, evicting one block when the tier is full. Hit rate = hits /
(appends + accesses). LRU evicts the least recently used block, OPT the block used
farthest in the future. HEPC runs the golden policy (golden/hepc.py): its step-advance
scan evicts to the watermarks and prefetches (threshold and PREFETCH hints), and a demand
fill into a full tier evicts the lowest-priority unprotected block not used in this step
(if every such block is protected, a protected one: a "guard override", counted).
The table gives each policy's share of the LRU -> OPT gap.
"""
import argparse
import heapq
import sys
import time
from collections import OrderedDict
from dataclasses import replace

import numpy as np

from golden.rtbd import Directory, DirectoryError, Entry, TIER_HOT, TIER_WARM
from golden.hepc import Hepc, PolicyConfig
from golden.traces import DecodeSpec, decode_trace, mooncake_trace

POLICIES = ("LRU", "OPT", "HEPC")


def references(trace):
    """Every reference in replay order: (step, block, is_append)."""
    for k, step in enumerate(trace):
        for b in step.appends:
            yield k, b, True
        for b in step.accesses:
            yield k, b, False


def run_lru(trace, capacity):
    hot, hits, refs = OrderedDict(), 0, 0
    for _, b, append in references(trace):
        refs += 1
        if b in hot:
            hits += not append
            hot.move_to_end(b)
            continue
        if len(hot) >= capacity:
            hot.popitem(last=False)
        hot[b] = True
    return hits, refs


def run_opt(trace, capacity):
    refs = list(references(trace))
    next_use = [0] * len(refs)
    last = {}
    for n in range(len(refs) - 1, -1, -1):
        b = refs[n][1]
        next_use[n] = last.get(b, len(refs))
        last[b] = n
    hot, heap, hits = {}, [], 0   # hot: block -> its next use; heap: (-next use, block), lazy
    for n, (_, b, append) in enumerate(refs):
        if b in hot:
            hits += not append
        elif len(hot) >= capacity:
            while True:
                far, victim = heapq.heappop(heap)
                if hot.get(victim) == -far:
                    del hot[victim]
                    break
        hot[b] = next_use[n]
        heapq.heappush(heap, (-next_use[n], b))
    return hits, len(refs)


def hepc_config(capacity, base=PolicyConfig(), headroom=0):
    """Watermarks for a tier of `capacity` blocks: the scan evicts above capacity - headroom and
    prefetches into the room below it. The default, no headroom, won the tuning grid (`--tune`)."""
    high = capacity - headroom
    return replace(base, hot_high=high, hot_low=max(high - max(1, capacity // 16), 0))


def run_hepc(trace, capacity, base=PolicyConfig(), block_tokens=32, headroom=0):
    blocks = {b for step in trace for b in step.appends}
    size = 1 << max(int(np.ceil(np.log2(2 * max(len(blocks), 1)))), 4)
    hepc = Hepc(Directory(size, 16, block_tokens), hepc_config(capacity, base, headroom))
    d = hepc.dir
    hits = refs = overrides = 0
    for k, step in enumerate(trace):
        if k:
            hepc.step_advance(k)
        hepc.decode_sessions = step.decode_sessions
        occupancy = hepc.hot_occupancy()
        order, deferred = None, []

        def make_room():
            """The tier is physical: a fill into a full tier always evicts. Unprotected blocks go
            first (lowest P, lowest index), then protected ones not used in this step (a guard
            override), then blocks of this step's own working set."""
            nonlocal occupancy, order, overrides
            if occupancy < capacity:
                return
            if order is None:
                hot = np.flatnonzero((d.valid == 1) & (d.tier == TIER_HOT))
                prot = hepc.protected(k)[hot]
                order = list(zip(*[a[np.lexsort((hot, d.priority[hot], prot))].tolist() for a in (hot, prot)]))
                order.reverse()
            while order:
                v, prot = order.pop()
                if d.tier[v] != TIER_HOT:
                    continue
                if d.access_step[v] == k:
                    deferred.append(v)
                    continue
                overrides += prot
                break
            else:  # this step's working set exceeds the tier: evict within it
                if not deferred:
                    deferred[:] = np.flatnonzero((d.valid == 1) & (d.tier == TIER_HOT)).tolist()
                deferred.sort(key=lambda i: (d.priority[i], i))
                v = deferred.pop(0)
            d.tier[v] = TIER_WARM
            occupancy -= 1

        for b in step.appends:
            refs += 1
            make_room()
            try:
                i = d.insert(Entry(session=b[0], layer=b[1], kv_head=b[2], token_start=b[3] * block_tokens,
                                   token_end=b[3] * block_tokens + block_tokens - 1, tier=TIER_HOT))
            except DirectoryError as e:
                raise RuntimeError(f"directory of {size} entries too small for the trace: {e}") from e
            hepc.access(i)
            occupancy += 1
        shared = [d.lookup(*b) for b in step.shared]
        for i in shared:
            hepc.share_prefix(i)
        for b in step.accesses:
            refs += 1
            i = d.lookup(*b)
            if d.tier[i] == TIER_HOT:
                hits += 1
            else:
                make_room()
                d.tier[i] = TIER_HOT
                occupancy += 1
            hepc.access(i)
        if occupancy > capacity or hepc.hot_occupancy() != occupancy:
            raise RuntimeError(f"step {k}: hot tier holds {hepc.hot_occupancy()} blocks, capacity {capacity}")
        for b, target in step.hints:
            i = d.lookup(*b)
            if i is not None:
                try:
                    hepc.prefetch(i, target)
                except DirectoryError:
                    pass  # no free hint slot: the runtime's hint is dropped
        for i in shared:
            hepc.release(i)
    return hits, refs, overrides


def evaluate(trace, capacities, base=PolicyConfig(), progress=None):
    """-> {capacity: {policy: hit rate}, ...} and HEPC's guard overrides per capacity."""
    table, overrides = {}, {}
    for c in capacities:
        row = {}
        h, n = run_lru(trace, c)
        row["LRU"] = h / n
        h, n = run_opt(trace, c)
        row["OPT"] = h / n
        h, n, overrides[c] = run_hepc(trace, c, base)
        row["HEPC"] = h / n
        table[c] = row
        if progress:
            progress(c, row)
    return table, overrides


# The tuning grid: w_R fixed (only the ratios matter), the other weights, the window, and
# watermark headroom as a fraction of the capacity.
TUNE_GRID = {"w_f": (0, 8), "w_s": (0, 64), "w_d": (0, 64), "window": (8, 32, 255), "headroom_div": (0, 32)}


def tune(trace, capacities, progress=None):
    """Score every grid point by its summed share of the LRU -> OPT gap; -> rows, best first."""
    import itertools
    refs = {c: (run_lru(trace, c), run_opt(trace, c)) for c in capacities}
    rows = []
    for values in itertools.product(*TUNE_GRID.values()):
        point = dict(zip(TUNE_GRID, values))
        cfg = replace(PolicyConfig(), w_r=64, w_f=point["w_f"], w_s=point["w_s"], w_d=point["w_d"],
                      window=point["window"])
        shares = []
        for c in capacities:
            (lru, n), (opt, _) = refs[c]
            headroom = c // point["headroom_div"] if point["headroom_div"] else 0
            h, _, _ = run_hepc(trace, c, cfg, headroom=headroom)
            shares.append((h - lru) / (opt - lru) if opt > lru else float("nan"))
        rows.append((point, shares))
        if progress:
            progress(point, shares)
    return sorted(rows, key=lambda r: -sum(r[1]))


def gap_closed(row, policy):
    gap = row["OPT"] - row["LRU"]
    return (row[policy] - row["LRU"]) / gap if gap > 0 else float("nan")


def format_table(name, table, overrides):
    lines = [f"| {name}: hot capacity (blocks) | LRU | OPT | HEPC | HEPC share of LRU→OPT gap | HEPC guard overrides |",
             "|---|---|---|---|---|---|"]
    for c, row in table.items():
        lines.append(f"| {c} | {row['LRU']:.2%} | {row['OPT']:.2%} | {row['HEPC']:.2%} | "
                     f"{gap_closed(row, 'HEPC'):+.1%} | {overrides[c]} |")
    return "\n".join(lines)


def plot(name, table, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    caps = list(table)
    fig, ax = plt.subplots(figsize=(6, 4))
    for policy, style in zip(POLICIES, ("o--", "s-", "^-")):
        ax.plot(caps, [100 * table[c][policy] for c in caps], style, label=policy)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("hot-tier capacity (blocks)")
    ax.set_ylabel("hit rate (%)")
    ax.set_title(f"KV-1 policies on the {name} workload")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", choices=("decode", "mooncake"), default="decode")
    ap.add_argument("--capacities", default=None, help="comma-separated hot-tier sizes in blocks")
    ap.add_argument("--seed", type=int, default=1, help="decode generator seed")
    ap.add_argument("--limit", type=int, default=None, help="first N Mooncake requests only")
    ap.add_argument("--png", help="write the plot here")
    ap.add_argument("--tune", action="store_true",
                    help="search the weight/window/headroom grid (w_R = 64) instead, best first")
    args = ap.parse_args(argv)
    default_caps = "64,128,256" if args.workload == "decode" else "4096,16384,65536"
    try:
        caps = [int(c) for c in (default_caps if args.capacities is None else args.capacities).split(",")]
    except ValueError:
        ap.error("--capacities takes integers, e.g. 32,64,128")
    if any(c < 1 for c in caps):
        ap.error("capacities must be >= 1")
    if args.limit is not None and (args.workload != "mooncake" or args.limit < 1):
        ap.error("--limit takes a number of Mooncake requests, at least 1 (--workload mooncake)")
    start = time.perf_counter()
    trace = decode_trace(DecodeSpec(), seed=args.seed) if args.workload == "decode" else mooncake_trace(limit=args.limit)
    refs = sum(len(s.appends) + len(s.accesses) for s in trace)
    print(f"{args.workload}: {len(trace)} steps, {refs} block references")
    if args.tune:
        rows = tune(trace, caps, progress=lambda point, shares: print(
            f"  {point}: " + ", ".join(f"{c}: {x:+.3f}" for c, x in zip(caps, shares)), flush=True))
        print("best 5 (share of the LRU->OPT gap per capacity " + ", ".join(map(str, caps)) + "):")
        for point, shares in rows[:5]:
            print(f"  {point}: " + ", ".join(f"{x:+.3f}" for x in shares))
        print(f"({time.perf_counter() - start:.0f} s)")
        return 0
    table, overrides = evaluate(trace, caps, progress=lambda c, row: print(
        f"  capacity {c}: " + ", ".join(f"{p} {row[p]:.2%}" for p in POLICIES), flush=True))
    print(format_table(args.workload, table, overrides))
    if args.png:
        plot(args.workload, table, args.png)
        print(f"plot: {args.png}")
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Write a workload file with golden expectations: the command line and the FuseSoC generator
(kv1_workload) of the default workload.

    python -m sim.workload --kind frame --ops 2000 --seed 1 --out build/frame.wl
"""
import os
import sys
from pathlib import Path

from golden import params as param_sets
from golden.workload.format import DIE_TIERS, TIER_MEMORY, tier_timing
from golden.workload.driver import WorkloadError
from golden.workload.kinds import KINDS, build, DEFAULT_OPS, DEFAULT_SEED
from hdl.common.fusesoc_gen import CACHE_ENV, cached, command_line, copy_out, generator, sources_key


def fusesoc_generator():
    """FuseSoC generator entry: writes default.wl (parameters kind, ops, seed, set) and makes
    it the `workload` plusarg of the target. With the generators' cache set (KV1_RTL_CACHE),
    the file comes from there while golden's sources and data are unchanged."""
    gen = generator()
    cfg = gen.config or {}
    params = param_sets.get(cfg.get("set", "sim"))
    args = (cfg.get("kind", "frame"), params, int(cfg.get("ops", DEFAULT_OPS)), int(cfg.get("seed", DEFAULT_SEED)))

    def write(folder):
        (Path(folder) / "default.wl").write_text(build(*args).text())
    cache = os.environ.get(CACHE_ENV)
    if cache:
        key = sources_key(*args[:1], params.name, *args[2:], folders=("golden",), suffixes=(".py", ".jsonl"))
        copy_out(cached(cache, "workload", key, write), ["default.wl"], ".")
    else:
        write(".")
    gen.add_files([{"default.wl": {"file_type": "user"}}], fileset="workload")
    gen.add_parameter("workload", {"datatype": "str", "paramtype": "plusarg",
                                   "default": os.path.abspath("default.wl"),
                                   "description": "workload file to replay"})
    gen.write()


def main(argv=None):
    ap = command_line(__doc__, argv, fusesoc_generator)
    if ap is None:
        return 0
    ap.add_argument("--kind", choices=KINDS, default="frame")
    ap.add_argument("--set", default="sim", choices=sorted(param_sets.PARAM_SETS))
    ap.add_argument("--ops", type=int, default=DEFAULT_OPS, help=f"random register operations (default {DEFAULT_OPS})")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--no-delays", action="store_true", help="drive every AXI channel without waits")
    ap.add_argument("--tier", action="append", default=[], metavar="NAME=LATENCY,INTERVAL",
                    help="the memory behind a tier port, in cycles (default: "
                    + ", ".join(f"{n} from {TIER_MEMORY[n][0] * 1e9:g} ns, {TIER_MEMORY[n][1] / 1e9:g} GB/s" for n in DIE_TIERS)
                    + " at the set's clock)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    if args.ops < 0:
        ap.error("--ops must be >= 0")

    params = param_sets.get(args.set)
    tiers = {n: tier_timing(params, n) for n in DIE_TIERS}
    for spec in args.tier:
        name, _, timing = spec.partition("=")
        try:
            latency, interval = (int(v) for v in timing.split(","))
        except ValueError:
            ap.error(f"--tier {spec!r}: expected NAME=LATENCY,INTERVAL")
        if name not in DIE_TIERS:
            ap.error(f"--tier {spec!r}: the die's tier ports are {', '.join(DIE_TIERS)}")
        if latency < 1 or interval < 1:
            ap.error(f"--tier {spec!r}: latency and interval are at least 1 cycle")
        tiers[name] = (latency, interval)
    try:
        w = build(args.kind, params, args.ops, args.seed, delays=not args.no_delays, tiers=tiers)
    except (WorkloadError, FileNotFoundError) as e:
        ap.error(str(e))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(w.text())
    print(f"{args.out}: {len(w.lines) - w.header_lines} operations ({args.kind}, set {args.set}, seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

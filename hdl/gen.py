"""RTL generator: MyHDL blocks -> one Verilog module per block, plus the structural die top.

    python -m hdl.gen --set sim --out build/rtl/sim

Also the FuseSoC generator behind `kv1:kv1:rtl` (see fusesoc.core): called with a
YAML file, it writes the Verilog into the current directory and a core file listing it.
"""
import argparse
import hashlib
import os
import sys
import warnings
from pathlib import Path

from myhdl import Signal, ResetSignal

from hdl import params as param_sets
from hdl.common.instance import elaborate
from hdl.die.kv1_die import kv1_die, die_port_signals

DIE_MODULE = "kv1_die"
# perf's constant signals (every_cycle, saturated) are undriven on purpose: MyHDL assigns their value
warnings.filterwarnings("ignore", message=r"Signal is not driven: .*(every_cycle|saturated)$")
COSIM_TB = f"tb_{DIE_MODULE}.v"


def _convert(inst, name, out_dir, testbench=False):
    inst.convert(hdl="Verilog", path=str(out_dir), name=name, no_myhdl_header=True,
                 testbench=testbench)


def _fresh_like(sig):
    if isinstance(sig, ResetSignal):
        return ResetSignal(sig.val, active=sig.active, isasync=sig.isasync)
    return Signal(sig.val)


def generate(set_name, out_dir, cosim_tb=False):
    """Write <block>.v for every block and kv1_die.v; return the file names, die last."""
    params = param_sets.get(set_name)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    die = kv1_die(params, **die_port_signals(params))
    files = []
    for sub in die.subs:
        module, block_fn, block_params, ports = sub.kv1_module
        # a fresh elaboration with fresh signals: the die's signals carry die-level names
        fresh = {n: _fresh_like(s) for n, s in ports.items()}
        _convert(elaborate(block_fn, block_params, fresh), module, out_dir)
        files.append(f"{module}.v")
    die = kv1_die(params, **die_port_signals(params))
    _convert(die, DIE_MODULE, out_dir, testbench=cosim_tb)
    files.append(f"{DIE_MODULE}.v")
    if cosim_tb:
        # MyHDL writes the co-simulation wrapper beside the die; keep it out of the RTL list
        (out_dir / COSIM_TB).chmod(0o644)
    (out_dir / "files.f").write_text("".join(f"{f}\n" for f in files))
    return files


def digest(out_dir, files):
    h = hashlib.sha256()
    for f in files:
        h.update(f.encode() + b"\0" + (Path(out_dir) / f).read_bytes())
    return h.hexdigest()


def fusesoc_generator(config_path):
    """FuseSoC generator entry: parameters `set` (default sim) and `cosim_tb` (bool)."""
    from fusesoc.capi2.generator import Generator

    class RtlGenerator(Generator):
        def run(self):
            cfg = self.config or {}
            set_name = cfg.get("set", "sim")
            cosim_tb = bool(cfg.get("cosim_tb", False))
            files = generate(set_name, ".", cosim_tb=cosim_tb)
            self.add_files([{f: {"file_type": "verilogSource"}} for f in files], fileset="rtl")
            if cosim_tb:
                self.add_files([{COSIM_TB: {"file_type": "verilogSource"}}], fileset="cosim_tb")

    gen = RtlGenerator()
    gen.run()
    gen.write()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 1 and argv[0].endswith((".yml", ".yaml")) and os.path.isfile(argv[0]):
        fusesoc_generator(argv[0])
        return 0
    ap = argparse.ArgumentParser(description="Generate the KV-1 Verilog from MyHDL.")
    ap.add_argument("--set", default="sim", choices=sorted(param_sets.PARAM_SETS))
    ap.add_argument("--out", default=None, help="output folder (default build/rtl/<set>)")
    ap.add_argument("--cosim-tb", action="store_true", help="also write the Icarus co-simulation wrapper")
    args = ap.parse_args(argv)
    out = Path(args.out or f"build/rtl/{args.set}")
    files = generate(args.set, out, cosim_tb=args.cosim_tb)
    print(f"{args.set}: {len(files)} modules in {out} (sha256 {digest(out, files)[:16]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

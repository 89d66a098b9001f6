"""Co-simulation check: the converted die in Icarus against the MyHDL die, cycle for cycle.

    python -m sim.cosim --image IMAGE --vpi myhdl.vpi [--ops N] [--seed S]

Replays one workload (kind "all": frame, policy, codec and decode scenarios, at QUICK_TIERS
timing) on both and fails unless both meet every golden
expectation and their logs are identical. Run by the FuseSoC `cosim` target (pre_run
hook, in the build folder, where it finds the image by itself) and by pytest.
"""
import argparse
import glob
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from golden.workload.format import QUICK_TIERS
from golden.workload.kinds import build
from golden import params as param_sets
from hdl.common.instance import block_ports
from hdl.gen import vpi_top
from hdl.kvce import generate
from sim import bench

PROJECT_VPI = Path(__file__).resolve().parents[1] / ".venv" / "lib" / "myhdl.vpi"


def block_image(params, name, block_fn, sigs, folder):
    """<name>.v of one block (hdl.gen --block name) compiled under a myhdl.vpi top in Icarus, for
    a MyHDL bench to co-simulate it with Cosimulation(command, **sigs); -> the vvp command."""
    folder = Path(folder)
    rtl = generate(params.name, name, folder)
    top = folder / f"tb_{name}.v"
    top.write_text(vpi_top(name, sigs, block_ports(block_fn)))
    image = folder / f"{name}.vvp"
    r = subprocess.run(["iverilog", "-g2012", "-o", str(image), "-s", f"tb_{name}", str(rtl), str(top)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"iverilog failed:\n{r.stderr[-2000:]}")
    return f"vvp -m {PROJECT_VPI} {image}"


def find_image(folder="."):
    """The Icarus image edalize built in `folder`: it is named after the EDAM `name`."""
    edams = glob.glob(str(Path(folder) / "*.eda.yml"))
    if len(edams) != 1:
        raise FileNotFoundError(f"expected one *.eda.yml in {folder}, found {len(edams)}")
    name = yaml.safe_load(Path(edams[0]).read_text())["name"]
    image = Path(folder) / name
    if not image.is_file():
        raise FileNotFoundError(f"no Icarus image {image}")
    return image


def check(image, vpi, ops=40, seed=1, set_name="sim"):
    """-> (ok, message)"""
    text = build("all", param_sets.get(set_name), ops, seed, tiers=QUICK_TIERS).text()
    ref, _ = bench.run(text, "myhdl")
    if ref.error:
        return False, f"MyHDL run failed: {ref.error}"
    co, rate = bench.run(text, "cosim", cosim_image=str(image), vpi=str(vpi))
    if co.error:
        return False, f"co-simulation failed: {co.error}"
    if co.log != ref.log:
        first = next(i for i, (a, b) in enumerate(zip(co.log + [""], ref.log + [""])) if a != b)
        return False, f"logs differ at entry {first}: cosim {co.log[first:first + 1]} vs MyHDL {ref.log[first:first + 1]}"
    return True, (f"PASS co-simulation: {len(co.ops)} operations, {co.cycle} cycles, "
                  f"cycle-identical to MyHDL ({rate:.0f} cycles/s)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", help="Icarus image (default: the one edalize built here)")
    ap.add_argument("--vpi", default="myhdl.vpi")
    ap.add_argument("--ops", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fetch-vpi", action="store_true",
                    help="copy the project's myhdl.vpi (.venv/lib, built by make setup) here, for vvp -M.")
    args = ap.parse_args(argv)
    if args.fetch_vpi:
        src = PROJECT_VPI
        if not src.is_file():
            print(f"cosim: {src} not found (run `make setup`)", file=sys.stderr)
            return 2
        shutil.copy(src, "myhdl.vpi")
        return 0
    image = Path(args.image) if args.image else find_image()
    vpi = Path(args.vpi).resolve()
    if not vpi.is_file():
        print(f"cosim: {vpi} not found (run `make setup`)", file=sys.stderr)
        return 2
    ok, msg = check(image.resolve(), vpi, args.ops, args.seed)
    print(msg)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

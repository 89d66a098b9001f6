"""Synthesis report, per block and for the die, into one Markdown file.

    python -m signoff.synth [--set fpga] [--period-ns 10] [--out build/synth/<set>] [--modules ...]

For every module: Yosys generic `synth` (cells, flip-flops), `synth_xilinx -family xcup`
(LUTs, FFs, LUTRAM, block RAM, DSP, carry), and a Liberty mapping onto the osu018
standard cells (Debian qflow-tech-osu018) timed by OpenSTA (worst slack at the given
clock, Fmax = 1 / (period - slack)). The osu018 figures are pre-layout: delay-driven
ABC mapping with buffering and sizing, no wire load, ideal clock, inputs and outputs
constrained at 0 ns external delay.
Also run by the FuseSoC `synth` target (post_build hook) on the RTL it generated.
"""
import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from golden import params as param_sets
from hdl import gen
from hdl.kvce import generate as generate_block

OSU018_LIB = Path("/usr/share/qflow/tech/osu018/osu018_stdcells.lib")
ABC_DRIVER = "BUFX2"
ABC_LOAD_PF = 0.02
BLOCKS = ["host_if", "kv1_regs", "cmdproc", "session", "rtbd", "hepc", "kvpath", "dma", "kvce_enc", "kvce_dec",
          "perf"]
RAM_BITS_AS_FLOPS = 64 * 1024  # above this, generic and osu018 figures need SRAM macros (rtbd, the die)
# blocks whose generic and osu018 figures come from a stand-alone copy with smaller memories:
# kvce_enc's group buffers (2 x G x D fp16) shrink with G and D; its lanes and datapath do not
# the dma's three slot buffers (2^slot_shift words each) shrink with D; its channels do not (at any
# D its buffers are still most of its flip-flops; D = 8 synthesises in half the time D = 16 takes)
PROXIES = {"kvce_enc": {"cq_group": 32, "cq_dim": 32}, "dma": {"cq_dim": 8}}
XCUP_GROUPS = {
    "LUT": r"^LUT\d$", "FF": r"^FD[CPRS]E$", "LUTRAM": r"^RAM(32|64|128|256)[MX]", "BRAM": r"^RAMB(18|36)E2$",
    "DSP": r"^DSP48E2$", "CARRY8": r"^CARRY8$",
}


class SynthError(RuntimeError):
    pass


def _yosys(script, cwd, log_name):
    log = Path(cwd) / log_name
    r = subprocess.run(["yosys", "-q", "-l", str(log), "-p", script], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SynthError(f"yosys failed (see {log}):\n{r.stderr[-1500:]}")


def _stat(path, top):
    mods = json.loads(Path(path).read_text())["modules"]
    key = next(k for k in mods if k.lstrip("\\") == top)
    return mods[key]


def _count(cells, pattern):
    return sum(n for c, n in cells.items() if re.search(pattern, c))


def synth_module(top, files, work, period_ns, sram=True):
    work.mkdir(parents=True, exist_ok=True)
    read = "; ".join(f"read_verilog {f}" for f in files)
    row = {"module": top}

    # memories as inferred, before memory_collect turns them into cells stat does not size
    _yosys(f"{read}; hierarchy -top {top}; proc; flatten; tee -q -o memories.json stat -json", work, "memories.log")
    row["ram_bits"] = _stat(work / "memories.json", top).get("num_memory_bits", 0)

    _yosys(f"{read}; synth_xilinx -family xcup -top {top} -flatten; tee -q -o xcup.json stat -json", work, "xcup.log")
    x = _stat(work / "xcup.json", top)["num_cells_by_type"]
    for name, pattern in XCUP_GROUPS.items():
        row[f"xcup_{name}"] = _count(x, pattern)
    if sram and row["ram_bits"] > RAM_BITS_AS_FLOPS:
        # an ASIC takes these as SRAM macros, which neither the generic library nor osu018 has;
        # mapping them to flip-flops would be neither meaningful nor finish here
        row.update({k: None for k in ("cells", "ffs", "osu018_cells", "osu018_area_um2", "slack_ns", "fmax_mhz")})
        return row

    _yosys(f"{read}; synth -top {top} -flatten; tee -q -o generic.json stat -json", work, "generic.log")
    g = _stat(work / "generic.json", top)
    row["cells"] = g["num_cells"]
    row["ffs"] = _count(g["num_cells_by_type"], r"DFF")

    # delay-driven ABC (buffering, up/down sizing) against the clock, from a BUFX2-like driver
    lib = OSU018_LIB
    (work / "abc.constr").write_text(f"set_driving_cell {ABC_DRIVER}\nset_load {ABC_LOAD_PF}\n")
    _yosys(f"{read}; synth -top {top} -flatten; dfflibmap -liberty {lib}; "
           f"abc -D {period_ns * 1000:.0f} -constr abc.constr -liberty {lib}; opt_clean; "
           f"tee -q -o osu018.json stat -json; tee -q -o osu018_stat.txt stat -liberty {lib}; "
           "write_verilog -noattr osu018.v", work, "osu018.log")
    row["osu018_cells"] = _stat(work / "osu018.json", top)["num_cells"]
    m = re.search(r"Chip area for module .*?:\s*([\d.]+)", (work / "osu018_stat.txt").read_text())
    if not m:
        raise SynthError(f"no chip area in {work / 'osu018_stat.txt'}")
    row["osu018_area_um2"] = float(m.group(1))
    row.update(sta(top, work, period_ns))
    return row


def sta(top, work, period_ns):
    tcl = work / "sta.tcl"
    tcl.write_text("\n".join([
        f"read_liberty {OSU018_LIB}",
        "read_verilog osu018.v",
        f"link_design {top}",
        f"create_clock -name clk -period {period_ns} [get_ports clk_i]",
        "set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk_i]]",
        "set_output_delay 0 -clock clk [all_outputs]",
        "report_checks -path_delay max -digits 3 > sta_paths.rpt",
        "report_worst_slack -digits 3",
        "exit", ""]))
    r = subprocess.run(["sta", "-no_splash", "-exit", str(tcl.name)], cwd=work, capture_output=True, text=True)
    (work / "sta.log").write_text(r.stdout + r.stderr)
    m = re.search(r"worst slack\s+(-?[\d.]+)", r.stdout)
    if r.returncode != 0 or not m:
        raise SynthError(f"OpenSTA failed for {top} (see {work / 'sta.log'}):\n{(r.stdout + r.stderr)[-1500:]}")
    slack = float(m.group(1))
    return {"slack_ns": slack, "fmax_mhz": 1000.0 / (period_ns - slack)}


COLUMNS = [("module", "module", "{}"), ("ram_bits", "RAM bits", "{}"),
           ("cells", "generic cells", "{}"), ("ffs", "generic FFs", "{}"),
           ("xcup_LUT", "xcup LUT", "{}"), ("xcup_FF", "xcup FF", "{}"), ("xcup_LUTRAM", "xcup LUTRAM", "{}"),
           ("xcup_BRAM", "xcup BRAM", "{}"), ("xcup_DSP", "xcup DSP", "{}"), ("xcup_CARRY8", "xcup CARRY8", "{}"),
           ("osu018_cells", "osu018 cells", "{}"), ("osu018_area_um2", "osu018 area µm²", "{:.0f}"),
           ("slack_ns", "osu018 slack ns", "{:.3f}"), ("fmax_mhz", "osu018 Fmax MHz", "{:.1f}")]


def report(rows, set_name, period_ns, seconds):
    lines = [f"# KV-1 synthesis report: parameter set `{set_name}`", "",
             f"Produced by `python -m signoff.synth --set {set_name} --period-ns {period_ns}` on "
             f"{platform.node()} ({platform.machine()}, Python {platform.python_version()}) in {seconds:.0f} s.", "",
             "Tools: " + ", ".join(_versions()) + ".", "",
             f"osu018: Yosys `dfflibmap` + delay-driven `abc -D {period_ns * 1000:.0f}` (buffering, sizing; "
             f"{ABC_DRIVER} driver, {ABC_LOAD_PF} pF loads), then OpenSTA at a {period_ns} ns clock on `clk_i`: "
             "typical corner, ideal clock, no wire load, I/O at 0 ns external delay. "
             "Fmax = 1 / (period − worst slack). These are pre-layout figures.", "",
             f"RAM bits: memory inferred before mapping. A module with more than {RAM_BITS_AS_FLOPS} "
             "needs SRAM macros on an ASIC, which neither Yosys's generic library nor osu018 provides: "
             "its generic and osu018 columns read SRAM (xcup maps the memories to block RAM).", "",
             "| " + " | ".join(h for _, h, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join("SRAM" if row[k] is None else f.format(row[k]) for k, _, f in COLUMNS) + " |")
    for top, change in PROXIES.items():
        if any(row["module"] == f"{top} ¹" for row in rows):
            lines += ["", f"¹ {top}: RAM bits and xcup columns as built; its generic and osu018 columns are "
                      f"those of a copy generated with {', '.join(f'{k} = {v}' for k, v in change.items())} so "
                      "that its memories fit in flip-flops (same lanes and datapath; the memories are flops "
                      "there, SRAM macros on an ASIC)."]
    return "\n".join(lines) + "\n"


def _versions():
    out = []
    for cmd in (["yosys", "-V"], ["sta", "-version"]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        out.append(f"{cmd[0]} {(r.stdout or r.stderr).strip().split(chr(10))[0]}")
    return out


def files_from_eda(folder="."):
    """The Verilog files of the EDAM edalize wrote in `folder` (FuseSoC `synth` target)."""
    import yaml
    edam = next(Path(folder).glob("*.eda.yml"))
    data = yaml.safe_load(edam.read_text())
    return [str((Path(folder) / f["name"]).resolve()) for f in data["files"]
            if f.get("file_type") == "verilogSource"]


def run(set_name, out, period_ns, files=None, modules=None):
    """Synthesise `modules` (default every block, then the die); -> (report path, text)."""
    start = time.perf_counter()
    out = Path(out).resolve()
    tops = modules or BLOCKS + ["kv1_die"]
    if files is None:
        rtl = out / "rtl"
        files = [str(rtl / f) for f in gen.generate(set_name, rtl)]

    def one(top):
        print(f"synth: {top} (generic, xcup, osu018 + OpenSTA)", flush=True)
        mod_files = files if top == "kv1_die" else [f for f in files if Path(f).stem == top]
        row = synth_module(top, mod_files, out / top, period_ns)
        if row["fmax_mhz"] is None and top in PROXIES:
            # its RAM needs SRAM macros: time the logic on a copy whose memories fit in flops
            proxy = str(generate_block(set_name, top, out / "rtl_proxy", PROXIES[top]))
            p = synth_module(top, [proxy], out / f"{top}_proxy", period_ns, sram=False)
            row.update({k: p[k] for k in ("cells", "ffs", "osu018_cells", "osu018_area_um2", "slack_ns",
                                          "fmax_mhz")})
            row["module"] = f"{top} ¹"
        return row

    # the modules are independent: one Yosys per core
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        rows = list(pool.map(one, tops))
    text = report(rows, set_name, period_ns, time.perf_counter() - start)
    (out / "synth_report.md").write_text(text)
    return out / "synth_report.md", text


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="fpga", choices=sorted(param_sets.PARAM_SETS))
    ap.add_argument("--period-ns", type=float, default=10.0, help="osu018 clock period for OpenSTA (default 10)")
    ap.add_argument("--out", help="output folder (default build/synth/<set>)")
    ap.add_argument("--from-eda", action="store_true", help="use the RTL of the EDAM in this folder (FuseSoC hook)")
    ap.add_argument("--modules", nargs="+", choices=BLOCKS + ["kv1_die"],
                    help="only these modules (default: every die block and the die)")
    args = ap.parse_args(argv)
    if args.period_ns <= 0:
        ap.error("--period-ns must be positive")
    if not OSU018_LIB.is_file():
        print(f"synth: {OSU018_LIB} missing (make setup installs qflow-tech-osu018)", file=sys.stderr)
        return 2
    out = args.out or ("synth" if args.from_eda else f"build/synth/{args.set}")
    try:
        path, text = run(args.set, out, args.period_ns, files_from_eda() if args.from_eda else None,
                         args.modules)
    except SynthError as e:
        print(f"synth: {e}", file=sys.stderr)
        return 1
    print(text)
    print(f"synth: report written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the synth, zcu102 and signoff flows produce."""
import json
import re
import subprocess
from pathlib import Path

import pytest

from fpga.zcu102 import gen as zcu102
from golden.dma import TAG_BITS
from golden import params as param_sets
from hdl import gen
from signoff import openlane, synth
from tests.flows import fusesoc

ROOT = Path(__file__).resolve().parents[1]

FPGA = param_sets.get("fpga")


def test_synth_report_has_real_figures_for_the_modules_named(tmp_path):
    """Only the modules named are synthesised (cmdproc and the dma, side by side). The dma's slot
    buffers need SRAM, so its gate-level figures come from the smaller-memory proxy."""
    path, text = synth.run("sim", tmp_path, 10.0, modules=["cmdproc", "dma"])
    rows = [l.split("|")[1].strip() for l in text.splitlines() if l.startswith("| ") and "---" not in l]
    assert rows[1:] == ["cmdproc", "dma ¹"]
    row = next(l for l in text.splitlines() if l.startswith("| cmdproc"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    ram_bits, generic_cells, generic_ffs, luts, ffs = (int(c) for c in cells[1:6])
    area, slack, fmax = float(cells[11]), float(cells[12]), float(cells[13])
    assert ram_bits == 0 and generic_cells > generic_ffs > 0 and luts > 0 and ffs > 0 and area > 0
    assert fmax == pytest.approx(1000.0 / (10.0 - slack), rel=1e-3)
    sta_log = (tmp_path / "cmdproc" / "sta.log").read_text()
    assert f"worst slack {slack:.3f}" in sta_log
    row = next(l for l in text.splitlines() if l.startswith("| dma ¹"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert int(cells[1]) > synth.RAM_BITS_AS_FLOPS and int(cells[7]) > 0       # slot buffers in BRAM
    assert float(cells[13]) > 0


def setup_only(tmp_path_factory, target, tool):
    """`fusesoc run --setup --target=T`; -> the work folder edalize wrote."""
    root = tmp_path_factory.mktemp(target)
    r = fusesoc(target, build_root=root, stages=["--setup"])
    assert r.returncode == 0, r.stderr[-2000:]
    return next(root.glob(f"*/{target}-{tool}"))


@pytest.fixture(scope="module")
def zcu102_setup(tmp_path_factory):
    return setup_only(tmp_path_factory, "zcu102", "vivado")


def test_zcu102_project_reads_everything_in_order(zcu102_setup):
    tcl = next(zcu102_setup.glob("kv1_kv1_die_*[0-9].tcl")).read_text()
    assert f"set_property part {zcu102.PART}" in tcl
    assert f"set_property board_part {zcu102.BOARD_PART}" in tcl
    order = re.findall(r"^(read_verilog|source|read_xdc) \{(.*?)\}", tcl, re.M)
    names = [p.split("/")[-1] for _, p in order]
    assert names == [f"{m}.v" for m in synth.BLOCKS + ["kv1_die"]] + [
        "kv1_ps_bd.tcl", "kv1_tier_axi.v", "kv1_zcu102_top.v", "kv1_zcu102.xdc"]
    assert "set_property top kv1_zcu102_top" in tcl


def test_zcu102_block_design_matches_the_fpga_set(zcu102_setup):
    bd = next(zcu102_setup.rglob("kv1_ps_bd.tcl")).read_text()
    assert "CONFIG.PSU__USE__M_AXI_GP0 {1}" in bd          # M_AXI_HPM0_FPD on
    assert "zynq_ultra_ps_e_0/M_AXI_HPM0_FPD" in bd and "axi_smc_ctrl/M00_AXI] $axil" in bd
    assert f"PL0_REF_CTRL__FREQMHZ {{{FPGA.clock_mhz:g}}}" in bd
    assert f"c_m_axis_mm2s_tdata_width {{{8 * FPGA.axis_bytes}}}" in bd
    assert "CONFIG.PROTOCOL {AXI4LITE}" in bd and "-offset 0xa0000000 -range 4K" in bd
    # every interface/port the board top expects is created in the block design
    for tier, hp in (("hot", 1), ("warm", 2), ("cold", 3)):                    # a PS port per tier
        assert f"CONFIG.PSU__USE__S_AXI_GP{hp + 2} {{1}}" in bd
        assert f"axi_smc_{tier}/M00_AXI] [get_bd_intf_pins zynq_ultra_ps_e_0/S_AXI_HP{hp}_FPD]" in bd
        assert f"${tier}_port [get_bd_intf_pins axi_smc_{tier}/S00_AXI]" in bd
        assert f"saxihp{hp}_fpd_aclk" in bd and f"axi_smc_{tier}/aresetn" in bd
    for port in ("pl_clk0", "pl_resetn", "die_irq", "M_AXIL", "M_AXIS_MM2S", "S_AXIS_S2MM", "S_AXI_HOT",
                 "S_AXI_WARM", "S_AXI_COLD"):
        assert re.search(rf"create_bd_(intf_)?port .*\b{port}\b", bd), port


def test_zcu102_xdc_constrains_every_top_port(zcu102_setup):
    xdc = next(zcu102_setup.rglob("kv1_zcu102.xdc")).read_text()
    pins = re.findall(r"PACKAGE_PIN (\w+) IOSTANDARD LVCMOS33\} \[get_ports \{led\[(\d)\]\}\]", xdc)
    assert [int(i) for _, i in pins] == list(range(8)) and [p for p, _ in pins] == zcu102.LED_PINS


def test_zcu102_board_top_elaborates_with_the_die(zcu102_setup, tmp_path):
    """Lint the board top with the fpga-set die and a stand-in for Vivado's BD wrapper
    declaring the ports Vivado derives from the block design."""
    top = next(zcu102_setup.rglob("kv1_zcu102_top.v"))
    bridge = next(zcu102_setup.rglob("kv1_tier_axi.v"))
    rtl_dir = next(zcu102_setup.glob("src/*rtl_fpga*"))
    rtl = [rtl_dir / gen.WAIVER_FILE] + sorted(rtl_dir.glob("*.v"))
    ports = zcu102.wrapper_ports(FPGA)
    stub = ["/* verilator lint_off UNUSEDSIGNAL */", f"module {zcu102.BD_NAME}_wrapper ("]
    stub += [",\n".join(f"  {d} wire {'[%d:0] ' % (w - 1) if w > 1 else ''}{n}" for n, w, d in ports)]
    stub += [");"] + [f"  assign {n} = '0;" for n, w, d in ports if d == "output"] + ["endmodule"]
    (tmp_path / f"{zcu102.BD_NAME}_wrapper.v").write_text("\n".join(stub) + "\n")
    r = subprocess.run(["verilator", "--lint-only", "-Wall", "-Wno-UNUSEDSIGNAL", "-Wno-UNDRIVEN",
                        "--top-module", zcu102.TOP, str(top), str(bridge), str(tmp_path / f"{zcu102.BD_NAME}_wrapper.v"),
                        *map(str, rtl)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.fixture(scope="module")
def signoff_setup(tmp_path_factory):
    return setup_only(tmp_path_factory, "signoff", "openlane")


def test_openlane_config_names_the_die_and_sources_our_settings(signoff_setup):
    cfg = (signoff_setup / "config.tcl").read_text()
    assert "set ::env(DESIGN_NAME) kv1_die" in cfg
    files = re.search(r"VERILOG_FILES\) \[list (.*)\]", cfg).group(1).split()
    assert [f.split("/")[-1] for f in files] == [f"{m}.v" for m in synth.BLOCKS + ["kv1_die"]]
    assert all((signoff_setup / f).is_file() for f in files)
    sourced = re.search(r"^source (.*)$", cfg, re.M).group(1)
    settings = (signoff_setup / sourced).read_text()
    assert "set ::env(CLOCK_PORT) clk_i" in settings and "set ::env(PDK) sky130A" in settings
    assert f"set ::env(CLOCK_PERIOD) {openlane.SKY130_CLOCK_NS}" in settings
    assert "sky130_fd_sc_hd" in settings


def test_sdc_and_pin_order_cover_the_die(signoff_setup):
    bundle = next(signoff_setup.rglob("kv1.sdc")).parent
    sdc = (bundle / "kv1.sdc").read_text()
    assert f"create_clock -name clk_i -period {openlane.SKY130_CLOCK_NS} [get_ports clk_i]" in sdc
    patterns = [l for l in (bundle / "pin_order.cfg").read_text().splitlines() if l and not l.startswith("#")]
    for port in openlane.die_ports():
        hits = [p for p in patterns if re.fullmatch(p, port)]
        assert len(hits) == 1, f"{port} is placed by {hits}"


def test_librelane_config_is_self_contained(signoff_setup):
    bundle = next(signoff_setup.rglob("config.json")).parent
    cfg = json.loads((bundle / "config.json").read_text())
    assert cfg["meta"]["version"] == 2 and cfg["DESIGN_NAME"] == gen.DIE_MODULE
    assert cfg["CLOCK_PORT"] == "clk_i" and cfg["PDK"] == "sky130A"
    for key in ("VERILOG_FILES", "PNR_SDC_FILE", "SIGNOFF_SDC_FILE", "FP_PIN_ORDER_CFG"):
        for ref in cfg[key] if isinstance(cfg[key], list) else [cfg[key]]:
            assert ref.startswith("dir::") and (bundle / ref[5:]).is_file(), ref


@pytest.mark.slow
def test_fusesoc_synth_target_writes_the_full_report(tmp_path):
    """`fusesoc run --target=synth`: edalize's synth_xilinx run, then the per-block report. About an
    hour on two cores since the codec joined the die: a sign-off run (KV1_SLOW=1 make test)."""
    r = fusesoc("synth", build_root=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    report = next(tmp_path.rglob("synth/synth_report.md")).read_text()
    rows = {l.split("|")[1].strip(): l for l in report.splitlines() if l.startswith("| ") and "---" not in l}
    assert set(synth.BLOCKS + ["kv1_die"]) <= set(rows)
    for name in ("rtbd", "kv1_die"):
        # the directory's banks map to block RAM on xcup, not to flip-flops; an ASIC needs macros
        ram_bits, generic, luts, ffs, bram = (rows[name].strip("|").split("|")[i].strip() for i in (1, 2, 4, 5, 7))
        assert int(ram_bits) >= 4096 * 241 and generic == "SRAM"
        assert int(luts) > 0 and int(ffs) > 0 and int(bram) > 0
    hepc = [c.strip() for c in rows["hepc"].strip("|").split("|")]
    assert int(hepc[1]) <= synth.RAM_BITS_AS_FLOPS and float(hepc[13]) > 0   # small tables; osu018 Fmax
    assert "parameter set `fpga`" in report


def test_zcu102_tier_bridge_reads_what_it_wrote(zcu102_setup, tmp_path):
    """kv1_tier_axi (at the cold tier's base, set as the board top sets it) against an AXI slave
    with random ready delays that commits a write only when it answers it: every read issued right
    after its write returns the written word (reads wait for the writes' responses), in order, once;
    every write is acknowledged once, after it committed; each answer carries its request's tag."""
    bridge = next(zcu102_setup.rglob("kv1_tier_axi.v"))
    from golden.kvpath import tier_addr_bits
    dw = 8 * FPGA.cq_lanes
    widths = dict(AW=tier_addr_bits(FPGA), DW=dw, TW=TAG_BITS, SHIFT=(dw // 8).bit_length() - 1,
                  BASE=f"40'h{zcu102.TIER_BASE['cold']:x}")
    subprocess.run(["iverilog", "-g2012", "-s", "tb_tier_axi", *(f"-Ptb_tier_axi.{k}={v}" for k, v in widths.items()),
                    "-o", str(tmp_path / "tb.vvp"), str(ROOT / "fpga/zcu102/tb_tier_axi.v"), str(bridge)], check=True)
    r = subprocess.run(["vvp", "-n", str(tmp_path / "tb.vvp")], capture_output=True, text=True)
    assert "BRIDGE PASS 64" in r.stdout, r.stdout + r.stderr


def test_zcu102_generator_refuses_a_set_whose_tiers_overlap(tmp_path, capsys):
    """The three tiers sit 64 MiB apart in PS DDR: the asic set's 1 GiB tiers do not fit."""
    assert zcu102.tier_bytes(FPGA) == 64 << 20
    with pytest.raises(SystemExit):
        zcu102.main(["--set", "asic", "--out", str(tmp_path)])
    assert "overlaps the next tier's region" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_a_clone_alone_has_every_file_the_project_reads():
    """Nothing reads beside the repository (../shared): the published vectors and the Mooncake
    trace live in golden/, with their provenance."""
    root = Path(__file__).resolve().parents[1]
    outside = re.compile(r"\.\./shared|\"shared\"\s*/|shared/(vectors|traces)")
    for folder in ("golden", "hdl", "sim", "signoff", "fpga", "tests", "sw"):
        for f in (root / folder).rglob("*"):
            if f.suffix in (".py", ".cpp", ".h", ".sh") and f.name != "test_flows.py":
                assert not outside.search(f.read_text()), f"{f} reads beside the repository"
    for data in ("golden/vectors/published", "golden/data"):
        assert (root / data / "README.md").is_file()
    assert len(list((root / "golden/vectors/published").glob("*.npz"))) == 9
    assert (root / "golden/data/mooncake_conversation_trace.jsonl").stat().st_size == 3_029_533


def test_a_benchmark_s_output_is_published_with_its_provenance(tmp_path, monkeypatch, capsys):
    """sim.report passes a bench's output through and writes it with the command, date, commit and
    machine into docs/results/NAME.md; no output is refused and writes nothing."""
    import io
    import sys
    from sim import report
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("| a | b |\n| 1 | 2 |\n"))
    assert report.main(["t", "A title", "python -m x --y"]) == 0
    text = (tmp_path / "t.md").read_text()
    assert text.startswith("# A title\n") and "`python -m x --y`" in text and "commit " in text and "cores" in text
    assert "| 1 | 2 |" in text and "| 1 | 2 |" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert report.main(["empty", "T", "c"]) == 1 and not (tmp_path / "empty.md").exists()

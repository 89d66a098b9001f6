"""The register description and what it generates: the artefacts, and the register block in
MyHDL against the register table."""
import random
import subprocess

import pytest
from myhdl import Signal, ResetSignal

from golden import kv1_regs as R
from golden import params as param_sets
from hdl.regs import reggen
from hdl.regs.kv1_regs import kv1_regs
from hdl.regs.reggen import input_ports, output_ports, load
from tests.blocks import sig, simulate

SIM = param_sets.get("sim")


def test_generated_artefacts_are_fresh():
    assert reggen.stale() == [], "run `python -m hdl.regs.reggen` and commit the result"


def test_stale_artefact_is_detected(tmp_path, monkeypatch):
    target = tmp_path / "kv1_regs.h"
    target.write_text("/* edited by hand */\n")
    monkeypatch.setattr(reggen, "ARTEFACTS", {target: reggen.gen_c_header})
    assert reggen.stale() == [target]


@pytest.mark.parametrize("bad, message", [
    ('{ name = "A", bits = "3:0", access = "rx", doc = "" }', "access"),
    ('{ name = "A", bits = "40:0", access = "rw", doc = "" }', "beyond"),
    ('{ name = "A", bits = "3:0", access = "rw", const = 1, doc = "" }', "only ro"),
    ('{ name = "A", bits = "1:0", access = "ro", const = 7, doc = "" }', "does not fit"),
    ('{ name = "A", bits = "1:0", access = "rw", doc = "" } ]\nguard = "g_i"\n#', "guard"),
    ('{ name = "A", bits = "1:0", access = "ro", doc = "" } ]\nguard = "g_o"\n#', "guard"),
    ('{ name = "A", bits = "1:0", access = "ro", doc = "" } ]\nprivileged = true\n#', "privileged"),
])
def test_bad_description_is_refused(tmp_path, bad, message):
    spec = tmp_path / "r.toml"
    spec.write_text('[block]\nname = "x"\nbar = "B"\naddr_width = 8\ndata_width = 32\n'
                    f'[[register]]\nname = "R"\noffset = 0\ndoc = ""\nfields = [ {bad} ]\n')
    with pytest.raises(reggen.RegSpecError, match=message):
        reggen.load(spec)


def test_c_header_matches_python_constants(tmp_path):
    """Compile a program against the header and compare every offset and field with Python."""
    lines = ['#include <stdio.h>', '#include "kv1_regs.h"', "int main(void) {"]
    expected = []
    for r in R.REGISTERS:
        lines.append(f'printf("%u\\n", (unsigned)KV1_{r.name});')
        expected.append(r.offset)
        for f in r.fields:
            lines.append(f'printf("%u %u\\n", (unsigned)KV1_{r.name}_{f.name}_SHIFT, '
                         f'(unsigned)KV1_{r.name}_{f.name}_MASK);')
            expected.append(f"{f.lsb} {((1 << f.width) - 1) << f.lsb}")
    for n, v in vars(R.STATUS).items():
        if not n.startswith("_"):
            lines.append(f'printf("%u\\n", (unsigned)KV1_STATUS_{n});')
            expected.append(v)
    lines.append("return 0; }")
    src = tmp_path / "t.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "t"
    subprocess.run(["cc", "-Wall", "-Werror", "-std=c99", f"-I{reggen.ROOT / 'sw' / 'include'}",
                    str(src), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split("\n")
    assert out[:-1] == [str(e) for e in expected]


def test_offsets_unique_and_aligned():
    offsets = [r.offset for r in R.REGISTERS]
    assert len(offsets) == len(set(offsets))
    assert all(o % 4 == 0 and o < 1 << R.ADDR_WIDTH for o in offsets)


@pytest.mark.block
def test_register_block_against_the_register_table():
    """Random register-bus accesses (good and bad) and random hardware inputs; every cycle
    the read data, the error flag, the strobes and the stored fields follow the table."""
    rng = random.Random(13)
    spec = load()
    clk, rst = Signal(bool(0)), ResetSignal(0, active=0, isasync=True)
    bus = dict(reg_req_i=sig(1), reg_we_i=sig(1), reg_addr_i=sig(R.ADDR_WIDTH), reg_wdata_i=sig(32),
               reg_wstrb_i=sig(4), reg_rdata_o=sig(32), reg_err_o=sig(1))
    ins = {n: sig(w) for n, w in input_ports(spec)}
    outs = {n: sig(w) for n, w in output_ports(spec)}
    stored = {(r.name, f.name): f.reset for r in R.REGISTERS for f in r.fields if f.access in ("rw", "w1c")}
    errors = []
    addrs = [r.offset for r in R.REGISTERS] + [0x004 + 1, 0x3F0, 0xFFC]

    def expect(we, addr, wdata, strb):
        reg = R.BY_OFFSET.get(addr)
        if reg is None:
            return 0, True
        rd = 0
        for f in reg.fields:
            if f.access in ("rw", "w1c"):
                v = stored[(reg.name, f.name)]
            elif f.access == "wo":
                v = 0
            elif f.const is not None:
                v = f.const
            elif f.param:
                v = getattr(SIM, f.param)
            elif f.port:
                v = (int(ins[f.port]) >> f.port_lsb) & ((1 << f.width) - 1)
            else:
                v = int(ins[f"{reg.name.lower()}_{f.name.lower()}_i"])
            rd |= v << f.lsb
        if reg.guard and not int(ins[reg.guard]):
            rd = 0
        below_min = any(0 < (wdata >> f.lsb) & ((1 << f.width) - 1) < f.min for f in reg.fields)
        err = we and (strb != 0xF or not reg.writable or (reg.busy and bool(ins[f"{reg.name.lower()}_busy_i"]))
                      or below_min or (reg.privileged and not int(ins["reg_mgmt_i"])))
        return rd, err

    def step(n):
        req, we, addr = bool(bus["reg_req_i"]), bool(bus["reg_we_i"]), int(bus["reg_addr_i"])
        wdata, strb = int(bus["reg_wdata_i"]), int(bus["reg_wstrb_i"])
        rd, err = expect(we, addr, wdata, strb)
        if not we and int(bus["reg_rdata_o"]) != rd or bool(bus["reg_err_o"]) != bool(err):
            errors.append(f"cycle {n}: addr {addr:#x} we {we}: rdata {int(bus['reg_rdata_o']):#x}/"
                          f"err {bool(bus['reg_err_o'])}, expected {rd:#x}/{bool(err)}")
        accepted = req and we and not err
        reg = R.BY_OFFSET.get(addr)
        for r in R.REGISTERS:
            hit = accepted and reg is r
            if r.strobe and bool(outs[f"{r.name.lower()}_we_o"]) != hit:
                errors.append(f"cycle {n}: {r.name}_we_o")
            for f in r.fields:
                fv = (wdata >> f.lsb) & ((1 << f.width) - 1)
                if f.access == "wo" and int(outs[f"{r.name.lower()}_{f.name.lower()}_o"]) != (fv if hit else 0):
                    errors.append(f"cycle {n}: {r.name}.{f.name} strobe value")
                port = f"{r.name.lower()}_{f.name.lower()}_o"
                if f.access in ("rw", "w1c") and port in outs:
                    if int(outs[port]) != stored[(r.name, f.name)]:
                        errors.append(f"cycle {n}: {port} {int(outs[port])} != {stored[(r.name, f.name)]}")
        # the edge: storage updates (set wins over a clear in the same cycle)
        for r in R.REGISTERS:
            for f in r.fields:
                fv = (wdata >> f.lsb) & ((1 << f.width) - 1)
                if f.access == "rw" and accepted and reg is r:
                    stored[(r.name, f.name)] = fv
                elif f.access == "w1c":
                    if int(ins[f"{r.name.lower()}_{f.name.lower()}_set_i"]):
                        stored[(r.name, f.name)] = 1
                    elif accepted and reg is r and fv:
                        stored[(r.name, f.name)] = 0
        bus["reg_req_i"].next = rng.random() < 0.7
        bus["reg_we_i"].next = rng.random() < 0.5
        bus["reg_addr_i"].next = rng.choice(addrs)
        # now and then a small value: the fields with a floor (DMA_WATCHDOG) refuse 1 .. min - 1
        bus["reg_wdata_i"].next = rng.getrandbits(32) if rng.random() < 0.8 else rng.randrange(130)
        bus["reg_wstrb_i"].next = 0xF if rng.random() < 0.85 else rng.randrange(15)
        for name, s in ins.items():
            if name == "reg_mgmt_i":    # mostly the management domain's, now and then a tenant's
                s.next = rng.random() < 0.8
            else:
                s.next = rng.getrandbits(len(s)) if not name.endswith(("_set_i", "_busy_i")) else rng.random() < 0.2

    simulate(kv1_regs, (SIM, clk, rst), {**bus, **ins, **outs}, clk, rst, step, 1500)
    assert not errors, errors[:5]

"""The Verilog build product: deterministic, one module per block, lint-clean."""
import os
import re
import subprocess
import sys

import pytest

from hdl import gen, params as param_sets
from hdl.die.kv1_die import kv1_die
from tests.flows import fusesoc, ROOT

BLOCK_MODULES = ["host_if", "kv1_regs", "cmdproc", "rtbd", "hepc", "kvpath", "dma", "kvce_enc", "kvce_dec", "perf"]


@pytest.fixture(scope="module", params=sorted(param_sets.PARAM_SETS))
def generated(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param)
    files = gen.generate(request.param, out, cosim_tb=request.param == "sim")
    return request.param, out, files


def test_generation_is_deterministic(tmp_path):
    """Two generator processes, whatever hash seed they inherit, write identical bytes. (The sim
    set: the pinned seed works the same for every set, and the fpga and asic dies take a minute
    each to convert.)"""
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        env = dict(os.environ, PYTHONHASHSEED=seed)
        r = subprocess.run([sys.executable, "-m", "hdl.gen", "--set", "sim", "--out", str(out)],
                           cwd=ROOT, env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        outs.append({f.name: f.read_bytes() for f in sorted(out.iterdir())})
    assert outs[0] == outs[1]


def test_each_block_is_its_own_module_and_the_die_is_structural(generated):
    _, out, files = generated
    assert files == [f"{m}.v" for m in BLOCK_MODULES] + ["kv1_die.v"]
    for f in files:
        modules = re.findall(r"^module (\w+)", (out / f).read_text(), re.M)
        assert modules == [f[:-2]], f"{f} defines {modules}"
    die = (out / "kv1_die.v").read_text()
    for m in BLOCK_MODULES:
        assert re.search(rf"^{m} u_\w+ \(", die, re.M), f"die does not instantiate {m}"
    assert "always" not in die, "the die top must only wire blocks together"


def test_lint_clean_with_only_justified_waivers(generated):
    """Verilator -Wall passes with the generated waiver file, and every waiver in it is a
    lint_off that follows a comment saying why."""
    _, out, files = generated
    r = subprocess.run(["verilator", "--lint-only", "-Wall", "--top-module", "kv1_die", gen.WAIVER_FILE, *files],
                       cwd=out, capture_output=True, text=True)
    assert r.returncode == 0 and "%Warning" not in r.stderr, r.stderr
    lines = (out / gen.WAIVER_FILE).read_text().splitlines()
    waivers = [i for i, line in enumerate(lines) if line.startswith("lint_off")]
    assert waivers
    for i in waivers:
        above = next(line for line in reversed(lines[:i]) if not line.startswith("lint_off"))
        assert above.startswith("// ") and not above.startswith("// from "), f"unexplained waiver: {lines[i]}"


def test_lint_catches_a_warning(generated, tmp_path):
    """The lint check is live: an unused signal in a block fails it."""
    _, out, files = generated
    for f in files:
        text = (out / f).read_text()
        if f == "cmdproc.v":
            text = text.replace("endmodule", "wire kv1_lint_probe;\nendmodule")
        (tmp_path / f).write_text(text)
    (tmp_path / gen.WAIVER_FILE).write_text((out / gen.WAIVER_FILE).read_text())
    r = subprocess.run(["verilator", "--lint-only", "-Wall", "--top-module", "kv1_die", gen.WAIVER_FILE, *files],
                       cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode != 0 and "kv1_lint_probe" in r.stderr


def test_fusesoc_lint_target(tmp_path):
    r = fusesoc("lint", build_root=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]


def test_unknown_parameter_set_is_refused():
    with pytest.raises(ValueError, match="unknown parameter set"):
        param_sets.get("tiny")


def test_die_ports_follow_the_naming_convention():
    from hdl.common.instance import block_ports
    from hdl.common.ports import is_output
    for p in block_ports(kv1_die):
        is_output(p)  # raises for a name that follows no convention

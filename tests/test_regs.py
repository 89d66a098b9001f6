"""The register description and what it generates."""
import subprocess

import pytest

from golden import kv1_regs as R
from hdl.regs import reggen


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

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402  (after the path set-up above)

from golden import params as param_sets  # noqa: E402
from hdl.kvce import generate  # noqa: E402
from sim.kvce_bench import build_verilog, ENC, DEC  # noqa: E402

SIM_SET = "sim"


def pytest_configure(config):
    """One RTL conversion cache per test run, shared by the xdist workers (they inherit the
    environment) and the FuseSoC generators the tests start: each set converts once."""
    import os
    import tempfile
    from hdl.gen import CACHE_ENV
    if hasattr(config, "workerinput") or os.environ.get(CACHE_ENV):
        return
    config.kv1_rtl_cache = tempfile.mkdtemp(prefix="kv1-rtl-cache-")
    os.environ[CACHE_ENV] = config.kv1_rtl_cache


def pytest_unconfigure(config):
    import shutil
    if getattr(config, "kv1_rtl_cache", None):
        shutil.rmtree(config.kv1_rtl_cache, ignore_errors=True)


# the tier of each test file (pytest -m model|block|die|flow; make test-fast runs model and block)
TIER = {"test_channelquant.py": "model", "test_data_plane.py": "model", "test_hepc.py": "model",
        "test_kvpath.py": "model", "test_policy_eval.py": "model", "test_regs.py": "model",
        "test_common.py": "block", "test_perf.py": "block", "test_cmdproc.py": "block", "test_host_if.py": "block",
        "test_rtbd.py": "block", "test_session.py": "block", "test_dma.py": "block", "test_kvce.py": "block", "test_kvce_dec.py": "block",
        "test_die.py": "die", "test_die_verilator.py": "die", "test_flows.py": "flow", "test_gen.py": "flow"}
TIERS = ("model", "block", "die", "flow")
# a block test that runs the block's converted Verilog (Icarus, Verilator, lint) is a flow test
FLOW_WORDS = ("converted", "converts", "verilator", "icarus", "lint", "generation")


def pytest_collection_modifyitems(config, items):
    """Every test gets its tier's marker. Tests marked slow (sign-off runs of an hour) run only
    with KV1_SLOW=1."""
    import os
    for item in items:
        if any(t in item.keywords for t in TIERS):      # marked in its file (a block test among model tests)
            continue
        tier = TIER[item.path.name]
        if tier == "block" and any(w in item.name.lower() for w in FLOW_WORDS):
            tier = "flow"
        item.add_marker(tier)
    if os.environ.get("KV1_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="sign-off class run: set KV1_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def kvce_rtl(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kvce_rtl")
    return {b.top: generate(SIM_SET, b.top, folder) for b in (ENC, DEC)}


@pytest.fixture(scope="module")
def kvce_bench(kvce_rtl, tmp_path_factory):
    """(block, tool) -> (run command, folder): each bench is built once for the module."""
    built = {}

    def get(b, tool):
        if (b.top, tool) not in built:
            folder = tmp_path_factory.mktemp(f"{b.top}_{tool}")
            built[b.top, tool] = (build_verilog(tool, param_sets.get(SIM_SET), b, [kvce_rtl[b.top]], folder), folder)
        return built[b.top, tool]

    return get

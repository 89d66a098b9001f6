"""kvce, the ChannelQuant engine: kvce_enc (compress on write) and kvce_dec (decompress on read)."""
import subprocess
import sys
from pathlib import Path


def generate(set_name, block_name, out_dir, overrides=None):
    """<block_name>.v written by the RTL generator, `python -m hdl.gen --block` (hash seed pinned:
    identical bytes every run), with `overrides` {field: int} of the parameter set; -> its path."""
    extra = [f"--override={k}={v}" for k, v in (overrides or {}).items()]
    r = subprocess.run([sys.executable, "-m", "hdl.gen", "--set", set_name, "--block", block_name,
                        "--out", str(out_dir), *extra], capture_output=True, text=True,
                       cwd=Path(__file__).resolve().parents[2])
    if r.returncode != 0:
        raise RuntimeError(f"hdl.gen --block {block_name} failed:\n{r.stderr[-2000:]}")
    return Path(out_dir) / f"{block_name}.v"

"""Helpers that run the project's real entry points (FuseSoC targets) from tests."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = "kv1:kv1:die"


def fusesoc(target, *options, build_root, stages=()):
    """Run `fusesoc run --target=T` into its own build root; -> CompletedProcess (text)."""
    venv_bin = Path(sys.executable).parent
    # FuseSoC generators and hooks run the `python3` on PATH: the venv's
    env = dict(os.environ, PATH=f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}")
    cmd = [str(venv_bin / "fusesoc"), "--cores-root", str(ROOT), "run", f"--build-root={build_root}",
           *stages, f"--target={target}", CORE, *options]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)

"""Shared plumbing of the project's FuseSoC generators (hdl/gen.py, sim/workload.py,
fpga/zcu102/gen.py, signoff/openlane.py): each is also a command-line tool, and the slow ones
keep their output in a content-addressed cache."""
import fcntl
import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE_ENV = "KV1_RTL_CACHE"     # the cache folder (the Makefile sets one under build/)


def called_by_fusesoc(argv):
    """FuseSoC runs a generator with one argument: the YAML file describing the call."""
    return len(argv) == 1 and argv[0].endswith((".yml", ".yaml")) and os.path.isfile(argv[0])


def generator():
    """The FuseSoC Generator for this call (reads the YAML named on the command line)."""
    from fusesoc.capi2.generator import Generator
    return Generator()


def command_line(doc, argv, fusesoc_generator):
    """The entry of a tool that is also a FuseSoC generator: when FuseSoC called, run the
    generator and return None; otherwise return an argument parser for the command line."""
    import argparse
    import sys
    if called_by_fusesoc(sys.argv[1:] if argv is None else argv):
        fusesoc_generator()
        return None
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def sources_key(*names, folders=("hdl", "golden"), suffixes=(".py", ".vlt")):
    """Hash of `names` and of every file under `folders` (of the repository) whose suffix is in
    `suffixes`: what a generator's output can depend on."""
    h = hashlib.sha256("\0".join(map(str, names)).encode() + b"\0")
    for folder in folders:
        for f in sorted((ROOT / folder).rglob("*")):
            if f.suffix in suffixes and "__pycache__" not in f.parts:
                h.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:24]


def cached(cache, name, key, produce):
    """The cache entry `name`-`key` under folder `cache`, made by produce(folder) on a miss. A lock
    per name makes concurrent callers (pytest workers) wait for one producer instead of repeating
    it; the output lands under a private name and is renamed into place once complete."""
    cache = Path(cache)
    entry = cache / f"{name}-{key}"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if entry.is_dir():
            print(f"{name} from the cache ({entry})", file=sys.stderr)
        else:
            tmp = Path(tempfile.mkdtemp(dir=cache, prefix=f".{name}-"))
            produce(tmp)
            tmp.rename(entry)
    return entry


def copy_out(entry, files, out_dir):
    """Copy `files` of a cache entry into out_dir keeping their times, so that a build that
    depends on them (Verilator's make) sees nothing new while nothing changed."""
    for f in files:
        shutil.copy2(Path(entry) / f, Path(out_dir) / f)

"""Shared plumbing of the project's FuseSoC generators (hdl/gen.py, golden/workload.py,
fpga/zcu102/gen.py, signoff/openlane.py): each is also a command-line tool."""
import os


def called_by_fusesoc(argv):
    """FuseSoC runs a generator with one argument: the YAML file describing the call."""
    return len(argv) == 1 and argv[0].endswith((".yml", ".yaml")) and os.path.isfile(argv[0])


def generator():
    """The FuseSoC Generator for this call (reads the YAML named on the command line)."""
    from fusesoc.capi2.generator import Generator
    return Generator()

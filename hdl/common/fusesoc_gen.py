"""Shared plumbing of the project's FuseSoC generators (hdl/gen.py, sim/workload.py,
fpga/zcu102/gen.py, signoff/openlane.py): each is also a command-line tool."""
import os


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

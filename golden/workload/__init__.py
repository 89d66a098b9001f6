"""Workloads: what the `sim` target, the MyHDL bench and the co-simulation replay, with their
expected results from the golden model.

    format      the file format: its writer (end line, seal) and its one reader (parse)
    driver      the host-driver model (Workload) and the driver-level helpers
    scenarios   the scenarios, one module per block (frame, hepc, kvpath, dma) and the random
                commands the mixes share (commands)
    kinds       the workload kinds and which scenarios each replays (build)

The command line and the FuseSoC generator are sim/workload.py.
"""

"""KV-1 simulation harnesses: workload replay for MyHDL, Icarus co-simulation and Verilator."""

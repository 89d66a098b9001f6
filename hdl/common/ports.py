"""Port naming conventions shared by the blocks, the die generator and the test benches."""

# AXI signals that flow out of a slave (s_axil_, s_axis_) or out of a master (m_axis_).
_AXI_SLAVE_OUTPUTS = {"awready", "wready", "bvalid", "bresp", "arready", "rvalid", "rdata", "rresp", "tready"}


def is_output(port: str) -> bool:
    """Direction of a block port, from the DESIGN §1 naming conventions."""
    if port.startswith(("s_axil_", "s_axis_")):
        return port.split("_", 2)[2] in _AXI_SLAVE_OUTPUTS
    if port.startswith("m_axis_"):
        return port.split("_", 2)[2] != "tready"
    if port.endswith("_o"):
        return True
    if port.endswith(("_i", "_ni")):
        return False
    raise ValueError(f"port {port!r} follows no naming convention (*_i, *_ni, *_o, s_axil_*, s_axis_*, m_axis_*)")

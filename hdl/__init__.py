"""KV-1 hardware blocks, written in MyHDL."""
from hdl.common import callinfo

# MyHDL's own caller lookup is most of a die's elaboration time (hdl/common/callinfo.py)
callinfo.install()

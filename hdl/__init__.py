"""KV-1 hardware blocks, written in MyHDL."""

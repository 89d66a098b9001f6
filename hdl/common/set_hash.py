"""The set of a hashed, set-associative table (rtbd's directory, the session table): zlib's
CRC-32 of the key's little-endian bytes, low bits, as golden computes it."""
from myhdl import block, always_comb, intbv

CRC32_POLY = 0xEDB88320            # zlib's CRC-32, reflected


@block
def set_hash(key_i, set_o):
    """set_o = zlib.crc32(key_i as len(key_i) / 8 little-endian bytes) mod 2**len(set_o). The
    bit-serial recurrence unrolls to a fixed XOR tree."""
    KEY_BITS, SET_BITS = len(key_i), len(set_o)
    if KEY_BITS % 8:
        raise ValueError(f"set_hash hashes whole bytes, not {KEY_BITS} bits")

    @always_comb
    def crc():
        c = intbv(0xFFFFFFFF)[32:]
        for j in range(KEY_BITS):
            feedback = bool(c[0]) != bool(key_i[j])
            c[:] = c >> 1
            if feedback:
                c[:] = c ^ intbv(CRC32_POLY)[32:]
        c[:] = ~c
        set_o.next = c[SET_BITS:]

    return crc

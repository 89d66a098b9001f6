"""The set of a hashed, set-associative table (rtbd's directory, the session table): zlib's
CRC-32 of the key's little-endian bytes, low bits, as golden computes it."""
import zlib

from myhdl import block, always_comb, intbv, Signal

from hdl.common.unroll import join


def _crc_set(key, key_bits, set_bits):
    return zlib.crc32(key.to_bytes(key_bits // 8, "little")) & ((1 << set_bits) - 1)


def hash_masks(key_bits, set_bits):
    """CRC-32 of a fixed-length key is affine over GF(2): set bit b = parity(key & masks[b]) xor
    bit b of constant (the hash of the zero key). -> (masks, constant)."""
    zero = _crc_set(0, key_bits, set_bits)
    columns = [_crc_set(1 << j, key_bits, set_bits) ^ zero for j in range(key_bits)]
    masks = [sum(1 << j for j, col in enumerate(columns) if col >> b & 1) for b in range(set_bits)]
    return masks, zero


@block
def _parity_bit(key_i, bit_o, mask, invert):
    """bit_o = parity(key_i & mask) xor invert: a fold of halves, one XOR per power of two below
    the mask's width (keys of up to 64 bits)."""
    W = mask.bit_length()                  # the key bits above the mask's highest play no part
    assert 0 < W <= len(key_i) <= 64

    @always_comb
    def parity():
        p = intbv(0)[W:]
        p[:] = key_i[W:] & intbv(mask)[W:]
        if W > 32:
            p[:] = p ^ (p >> 32)
        if W > 16:
            p[:] = p ^ (p >> 16)
        if W > 8:
            p[:] = p ^ (p >> 8)
        if W > 4:
            p[:] = p ^ (p >> 4)
        if W > 2:
            p[:] = p ^ (p >> 2)
        if W > 1:
            p[:] = p ^ (p >> 1)
        bit_o.next = bool(p[0]) != invert

    return parity


@block
def set_hash(key_i, set_o):
    """set_o = zlib.crc32(key_i as len(key_i) / 8 little-endian bytes) mod 2**len(set_o), as one
    parity per set bit (hash_masks): a few operations a cycle in a simulator, where the bit-serial
    recurrence was a loop over every key bit."""
    KEY_BITS, SET_BITS = len(key_i), len(set_o)
    if KEY_BITS % 8:
        raise ValueError(f"set_hash hashes whole bytes, not {KEY_BITS} bits")
    masks, zero = hash_masks(KEY_BITS, SET_BITS)
    bits = [Signal(bool(0)) for _ in range(SET_BITS)]
    insts = [_parity_bit(key_i, bits[b], masks[b], bool(zero >> b & 1)) for b in range(SET_BITS)]
    joined = join(bits)

    @always_comb
    def drive():
        set_o.next = joined

    return insts, drive

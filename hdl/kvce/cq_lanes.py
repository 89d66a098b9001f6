"""The ChannelQuant arithmetic (DESIGN §5, golden/channelquant.py), one value per lane, no divider.

scale_unit     amax -> fp16 scale s = round_half_even(amax / qmax), 0x0400 below 2^-14, and
               the reciprocal floor(2^20 / m_s) of its significand that the quantisers use
quant_lane     x, s -> q = clamp(round_half_even(x / s)): a reciprocal estimate of 2|x|/s,
               corrected and rounded by comparing with the exact midpoints (2j+1) * s
dequant_lane   q, s -> the exact fp32 q * s (code 0 gives +0.0); raw mode converts s itself
               (CQ-4+ sidecar) to fp32, signed zeros kept

Why no tie logic in the scale: amax / qmax is never half-way between fp16 values (an 11-bit
significand times 7 or 127 cannot end in the single 1 bit a tie needs), so the bit after the
kept 11 decides alone. The division by the constant qmax is a multiply by a magic constant,
found and checked over the whole significand range at elaboration.
"""
from myhdl import block, always_comb, intbv, concat

RECIP_SHIFT = 20                       # reciprocal of m_s in [1024, 2048): floor(2^20 / m_s)
RECIPROCAL = tuple((1 << RECIP_SHIFT) // (1024 + f) for f in range(1024))
RECIP_BITS = max(RECIPROCAL).bit_length()
SMALL_LIMIT = {7: 7 << 11, 127: 127 << 11}   # m << e below this: amax / qmax < 2^-14
# floor(m * 2^P / qmax) for 11-bit m has 12 or 13 bits: enough to round to 11
PRESHIFT = {7: 4, 127: 8}


def _magic(qmax):
    """(C, shift) with (m * C) >> shift == floor(m * 2^P / qmax) for every normal significand m."""
    pre = PRESHIFT[qmax]
    for shift in range(1, 40):
        c = -(-(1 << (pre + shift)) // qmax)
        if all((m * c) >> shift == (m << pre) // qmax for m in range(1024, 2048)):
            return c, shift
    raise AssertionError(f"no magic constant for qmax {qmax}")


@block
def scale_unit(amax_i, wide_i, scale_o, recip_o):
    """amax_i: |amax| as 15 fp16 bits; wide_i: INT8 (qmax 127), else INT4 (qmax 7).
    scale_o: the 15-bit positive fp16 scale; recip_o: floor(2^20 / m_s)."""
    C7, SH7 = _magic(7)
    C127, SH127 = _magic(127)
    LIMIT7, LIMIT127 = SMALL_LIMIT[7], SMALL_LIMIT[127]
    ES7 = 12 - 11 - PRESHIFT[7]        # exponent offset for a 12-bit quotient
    ES127 = 12 - 11 - PRESHIFT[127]

    @always_comb
    def compute():
        e = intbv(0)[5:]
        e[:] = amax_i[15:10]
        m = intbv(0)[11:]
        m[:] = amax_i[10:0]
        if e != 0:
            m[10] = 1
        # amax / qmax < 2^-14  <=>  m << e < qmax << 11; e >= 8 is always above
        wide_m = intbv(0)[19:]
        wide_m[:] = m
        tiny = e == 0
        if e != 0 and e < 8:
            wide_m[:] = wide_m << e
            if wide_i:
                tiny = wide_m < LIMIT127
            else:
                tiny = wide_m < LIMIT7
        prod = intbv(0)[32:]
        quot = intbv(0)[13:]           # floor(m * 2^P / qmax), 12 or 13 bits
        es = intbv(0)[5:]              # biased exponent of the scale: L - 11 + e - P
        if wide_i:
            prod[:] = m * C127
            quot[:] = prod >> SH127
            if not tiny:              # e >= 7 here
                es[:] = e + ES127
        else:
            prod[:] = m * C7
            quot[:] = prod >> SH7
            if not tiny:              # e >= 3 here
                es[:] = e + ES7
        sig = intbv(0)[11:]            # the 10 fraction bits under the leading one, and the round bit
        if quot[12]:
            sig[:] = quot[12:1]
            es[:] = es + 1
        else:
            sig[:] = quot[11:0]
        # round the fraction by the round bit
        frac = intbv(0)[11:]
        frac[:] = sig[11:1] + sig[0]
        if frac[10]:                   # rounded up to 2.0: the next binade, fraction 0
            es[:] = es + 1
        if tiny:
            scale_o.next = 0x0400
            recip_o.next = RECIPROCAL[0]
        else:
            scale_o.next = concat(es, frac[10:0])
            recip_o.next = RECIPROCAL[int(frac[10:0])]

    return compute


@block
def quant_lane(x_i, scale_i, recip_i, wide_i, q_o):
    """x_i: fp16 (finite); scale_i: 15-bit positive normal fp16 scale; recip_i: its reciprocal
    from scale_unit; wide_i: INT8, else INT4. q_o: the code, 8-bit two's complement."""
    SAT = 129                          # any n above both clamps

    @always_comb
    def compute():
        ex = intbv(0)[5:]
        ex[:] = x_i[15:10]
        mx = intbv(0)[11:]
        mx[:] = x_i[10:0]
        if ex != 0:
            mx[10] = 1
        else:
            ex[:] = 1
        es = intbv(0)[5:]
        es[:] = scale_i[15:10]
        ms = intbv(0)[11:]
        ms[:] = scale_i[10:0]
        ms[10] = 1
        # t = |x| / s = mx * 2^(ex - es) / ms; below 2^-1 when ex + 1 < es, above 256 when ex > es + 8
        n = intbv(0)[10:]
        big = intbv(0)[20:]            # N = 2|x| / s * ms: mx << (ex - es + 1)
        est = intbv(0)[31:]
        u = intbv(0)[10:]              # floor(N / ms) = floor(2t)
        prod = intbv(0)[21:]
        rem = intbv(0)[21:]
        sh = intbv(0)[4:]
        if ex + 1 < es:
            n[:] = 0
        elif ex > es + 8:
            n[:] = SAT
        else:
            sh[:] = ex + 1 - es
            big[:] = mx
            big[:] = big << sh
            est[:] = big * recip_i
            u[:] = est >> RECIP_SHIFT  # u or u - 1
            prod[:] = u * ms
            rem[:] = big - prod
            if rem >= ms:              # compare with the next multiple of s / 2
                u[:] = u + 1
                rem[:] = rem - ms
            n[:] = (u + 1) >> 1        # round half up ...
            if rem == 0 and u[0] and n[0]:
                n[:] = n - 1           # ... except an exact tie rounds to even
        mag = intbv(0)[8:]
        if x_i[15]:
            if wide_i and n > 128:
                mag[:] = 128
            elif not wide_i and n > 8:
                mag[:] = 8
            else:
                mag[:] = n
            q_o.next = (256 - mag) & 0xFF
        else:
            if wide_i and n > 127:
                mag[:] = 127
            elif not wide_i and n > 7:
                mag[:] = 7
            else:
                mag[:] = n
            q_o.next = mag

    return compute


@block
def dequant_lane(code_i, scale_i, raw_i, y_o):
    """code_i: 8-bit two's complement code; scale_i: fp16 scale (finite); y_o: fp32 code * scale,
    exact, +0.0 for a zero product. raw_i: y_o is scale_i itself as fp32 (code ignored)."""

    @always_comb
    def compute():
        mag = intbv(0)[8:]
        neg = bool(code_i[7])
        if raw_i:
            mag[:] = 1
            neg = False
        elif neg:
            mag[:] = (256 - code_i) & 0xFF     # 128 for -128 fits the 8 bits
        else:
            mag[:] = code_i
        es = intbv(0)[5:]
        es[:] = scale_i[15:10]
        ms = intbv(0)[11:]
        ms[:] = scale_i[10:0]
        if es != 0:
            ms[10] = 1
        else:
            es[:] = 1
        prod = intbv(0)[18:]           # 128 * 2047 < 2^18
        prod[:] = mag * ms
        top = intbv(0)[5:]             # bit length of prod
        for i in range(18):
            if prod[i]:
                top[:] = i + 1
        wide = intbv(0)[42:]
        wide[:] = prod
        wide[:] = wide << (24 - top)
        y = intbv(0)[32:]
        if prod == 0:
            # a zero code is +0.0; a raw zero keeps its sign
            y[31] = raw_i and scale_i[15]
        else:
            # prod * 2^(es - 25) = 1.f * 2^(top - 1 + es - 25): biased exponent top + es + 101
            y[31] = scale_i[15] != neg
            y[31:23] = top + es + 101
            y[23:0] = wide[23:0]
        y_o.next = y

    return compute

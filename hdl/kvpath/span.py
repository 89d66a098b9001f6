"""BLOCK_FETCH's span: its check and its walk (golden: DataPlane.span and the order of
DataPlane._block_fetch, head by head and block by block)."""
from myhdl import block, always_comb, intbv, modbv

from golden.data_plane import MAX_SPAN_BLOCKS
from golden.policy_engine import BLOCK_TOKENS, BLOCK_INDEX_BITS
from hdl.kvce.kvce_enc import _log2


@block
def span_check(arg0_i, arg1_i, arg2_i, ok_o, first_block_o, last_block_o, last_head_o):
    """The span of ARG0 (the first token), ARG1 (layer, first kv_head, heads) and ARG2 (the
    tokens): ok_o when BLOCK_FETCH takes it, and its first and last block and last kv_head."""
    LOG_B = _log2(BLOCK_TOKENS)
    SPAN_BITS = 32 - LOG_B + 2

    @always_comb
    def check():
        heads = intbv(0)[8:]
        heads[:] = arg1_i[24:16]
        # blocks, first and end at one width, wide enough for the end of the longest span
        blocks = intbv(0)[SPAN_BITS:]
        blocks[32 - LOG_B:] = arg2_i[32:LOG_B]
        if arg2_i[LOG_B:] != 0:
            blocks[:] = blocks + 1
        first = intbv(0)[SPAN_BITS:]
        first[32 - LOG_B:] = arg0_i[32:LOG_B]
        end_block = intbv(0)[SPAN_BITS:]
        end_block[:] = first + blocks
        head_end = intbv(0)[9:]
        head_end[:] = arg1_i[16:8] + heads
        span = intbv(0)[14:]
        span[:] = heads[7:] * blocks[7:]
        ok = True
        if arg0_i[LOG_B:] != 0 or arg2_i == 0 or heads == 0 or head_end > 256:
            ok = False
        # each factor bounded first, so that the product of their low bits is the span's size
        if blocks > MAX_SPAN_BLOCKS or heads > MAX_SPAN_BLOCKS or end_block > (1 << BLOCK_INDEX_BITS):
            ok = False
        if span > MAX_SPAN_BLOCKS:
            ok = False
        ok_o.next = ok
        last = modbv(0)[BLOCK_INDEX_BITS:]      # wraps only for a span refused above
        last[:] = arg0_i[LOG_B + BLOCK_INDEX_BITS:LOG_B] + blocks[BLOCK_INDEX_BITS:] - 1
        last_block_o.next = last
        first_block_o.next = arg0_i[LOG_B + BLOCK_INDEX_BITS:LOG_B]
        last_head_of = modbv(0)[8:]
        last_head_of[:] = head_end[8:] - 1
        last_head_o.next = last_head_of

    return check


@block
def span_walk(spanning_i, block_i, head_i, first_block_i, last_block_i, first_head_i, last_head_i,
              at_last_o, next_block_o, next_head_o):
    """The key after (block_i, head_i): the next block of the head, the next head's first block
    after the last, the span's first key again after its last (at_last_o; also for a single
    block, spanning_i low). next_* are modbv: computed every cycle, from any key."""
    @always_comb
    def walk():
        span_end = not spanning_i or (block_i[BLOCK_INDEX_BITS:] == last_block_i and head_i == last_head_i)
        at_last_o.next = span_end
        if span_end:
            next_block_o.next = first_block_i
            next_head_o.next = first_head_i
        elif block_i[BLOCK_INDEX_BITS:] == last_block_i:
            next_block_o.next = first_block_i
            next_head_o.next = head_i + 1
        else:
            next_block_o.next = block_i[BLOCK_INDEX_BITS:] + 1
            next_head_o.next = head_i

    return walk

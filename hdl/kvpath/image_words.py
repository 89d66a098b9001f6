"""The words an image fills in a slot (golden.kvpath.slot_image: each image rounded up to whole words)."""
from myhdl import block, always_comb, intbv

from hdl.kvce.kvce_enc import _log2


@block
def image_words(bytes_i, words_o, lanes):
    """words_o: the `lanes`-byte words that an image of bytes_i bytes fills, the last one partly."""
    LOG_L, WB = _log2(lanes), len(words_o)
    assert LOG_L > 0 and len(bytes_i) >= WB + LOG_L

    @always_comb
    def count():
        w = intbv(0)[WB:]
        w[:] = bytes_i[WB + LOG_L:LOG_L]
        if bytes_i[LOG_L:] != 0:
            w[:] = w + 1
        words_o.next = w

    return count

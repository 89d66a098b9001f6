"""Bit layouts: a layout is a sequence of (field name, width), least significant field first."""


def bounds(layout, name):
    """(msb, lsb) of field `name`: word[msb:lsb] holds it."""
    lsb = 0
    for n, w in layout:
        if n == name:
            return lsb + w, lsb
        lsb += w
    raise KeyError(name)

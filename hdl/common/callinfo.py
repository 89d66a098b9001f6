"""Faster caller lookup for MyHDL 0.11.52's elaboration.

Every @block call and every @always/@always_comb/@always_seq/@instance generator asks MyHDL who
called it (`_getCallInfo`), and MyHDL answers with `inspect.stack()`, which also resolves each
frame's module and reads its source lines: that was more than half of the time it took to
elaborate and replay the directed workload on the die. The functions below return the same
records from the same frames, read with `sys._getframe`; `install()` puts them in place of
MyHDL's for the pinned version only (the frame depths are that version's). tests/test_gen.py
checks them against MyHDL's own on a whole die elaboration.
"""
import sys

import myhdl
from myhdl import _always, _always_comb, _always_seq, _block, _instance

PINNED = "0.11.52"
ORIGINAL = {"block": _block._getCallInfo, "instance": _instance._getCallInfo}


def _stack(depth):
    """The caller's frame and its outer frames, `depth` at most: [0] is the caller itself, as
    inspect.stack()[0] is the function that calls it."""
    frames, f = [], sys._getframe(1)
    while f is not None and len(frames) < depth:
        frames.append(f)
        f = f.f_back
    return frames


def _info(module, frame, caller):
    """`module`'s _CallInfo: the defining function's name and symbols, and whether its caller is a
    block (the method of a _Block)."""
    symdict = dict(frame.f_globals)
    symdict.update(frame.f_locals)
    modctxt = caller is not None and isinstance(caller.f_locals.get("self"), _block._Block)
    return module._CallInfo(frame.f_code.co_name, modctxt, symdict)


def block_call_info():
    """myhdl._block._getCallInfo: [1] the block instance, [2] the decorator, [3] the function
    that defines instances, [4] its caller (one further out past a list comprehension)."""
    stack = _stack(6)
    func, caller = stack[3], (stack[4] if len(stack) > 4 else None)
    if func.f_code.co_name == "<listcomp>":
        func, caller = stack[4], (stack[5] if len(stack) > 5 else None)
    return _info(_block, func, caller)


def instance_call_info():
    """myhdl._instance._getCallInfo: [1] the generator decorator, [2] the block function that
    defines it, [3] that function's caller."""
    stack = _stack(4)
    return _info(_instance, stack[2], stack[3])


def install(block=block_call_info, instance=instance_call_info):
    """Use the given lookups in every MyHDL module that calls one; -> whether they were installed."""
    if myhdl.__version__ != PINNED:
        return False
    _block._getCallInfo = block
    for module in (_instance, _always, _always_comb, _always_seq):
        module._getCallInfo = instance
    return True

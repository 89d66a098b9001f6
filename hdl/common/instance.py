"""One description of the die composition, two outcomes.

`as_instance()` takes a block elaborated inside the die function (so MyHDL simulates
the real logic) and attaches user-defined Verilog code that instantiates the block's
separately converted module, so converting the die top yields a structural netlist
instead of MyHDL's flattened logic.
"""
import inspect
import sys

from myhdl import Signal, ResetSignal, intbv
from myhdl._Signal import _Signal
from myhdl._extractHierarchy import _UserVerilogCode

from hdl.common.ports import is_output


def block_ports(block_fn):
    """Port names of a block, in declaration order (every argument but `params`)."""
    return [n for n in inspect.signature(block_fn.func).parameters if n != "params"]


def signal(width):
    """A fresh signal of `width` bits (a bool for one bit)."""
    return Signal(bool(0)) if width == 1 else Signal(intbv(0)[width:])


def port_signals(block_fn, widths):
    """Fresh signals for every port of a block, keyed by port name: rst_ni is the active-low
    asynchronous reset, a port named in `widths` gets that many bits, any other is one bit."""
    return {name: ResetSignal(0, active=0, isasync=True) if name == "rst_ni" else signal(widths.get(name, 1))
            for name in block_ports(block_fn)}


def bundle(**widths):
    """Fresh wires joining like-named ports of several blocks, one per field: field -> width."""
    return {name: signal(width) for name, width in widths.items()}


def connect(block_fn, prefix, wires, fields=None):
    """The keyword ports that join `wires` (a bundle) to a block: field f goes to the block's port
    prefix + f + _i or _o, whichever it has. `fields` (a space-separated list) takes only those;
    a field the block has no port for is an error."""
    names = set(block_ports(block_fn))
    ports = {}
    for f in (fields.split() if fields else wires):
        port = [p for p in (f"{prefix}{f}_i", f"{prefix}{f}_o") if p in names]
        if len(port) != 1:
            raise TypeError(f"{block_fn.func.__name__} has no port {prefix}{f}_i or _o")
        ports[port[0]] = wires[f]
    return ports


def name_wires(**groups):
    """Give the caller's wires held in dicts (`group` -> {port or field: signal}) the names
    group_field in the converted Verilog (a port's _i/_o dropped: a wire has two ends). MyHDL names a wire
    after the local variable of the block function that holds it, else after the first
    sub-block port it meets (hepc0_0_1_evq_pop_i); so each such wire becomes a local of the
    caller's frame (CPython 3.11 keeps names added to f_locals). A wire that already has a local
    name (a die port, clk_i) keeps it."""
    frame = sys._getframe(1)
    named = {id(v) for v in frame.f_locals.values() if isinstance(v, _Signal)}
    for group, wires in groups.items():
        for port, sig in wires.items():
            if id(sig) not in named:
                base = port[:-2] if port.endswith(("_i", "_o")) else port
                frame.f_locals[f"{group}_{base}"] = sig
                named.add(id(sig))


def elaborate(block_fn, params, ports):
    """Elaborate a block at top level, passing `params` when the block takes a parameter set."""
    if "params" in inspect.signature(block_fn.func).parameters:
        return block_fn(params, **ports)
    return block_fn(**ports)


def as_instance(inst, inst_name):
    """Make `inst` (a block called with its ports as keywords) convert as `module inst_name (...)`."""
    block_fn = getattr(sys.modules[inst.func.__module__], inst.func.__name__)
    names = block_ports(block_fn)
    ports = dict(inst.kwargs)
    missing, extra = set(names) - set(ports), set(ports) - set(names)
    if missing or extra:
        raise TypeError(f"{inst_name}: ports must be keywords; missing {sorted(missing)}, unknown {sorted(extra)}")
    for n in names:
        if is_output(n):
            ports[n].driven = "wire"
        else:
            ports[n].read = True
    module = inst.func.__name__
    body = ",\n".join(f"    .{n}(${n})" for n in names)
    code = f"{module} {inst_name} (\n{body}\n);"
    inst.verilog_code = _UserVerilogCode(code, ports, module, inst.func,
                                         inspect.getsourcefile(inst.func), 0)
    params = inst.args[0] if inst.args else None
    inst.kv1_module = (module, block_fn, params, ports)
    return inst

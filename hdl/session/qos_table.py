"""qos_table: the session table's QoS accounting, a record beside each entry (golden/session.py:
Session.tokens, moved, commands; SessionTable.charge, refill, qos_window).

One memory of a record per entry (entry index = set * ways + way, the table's answer's index):
the window it was last charged in, its bucket, and the bytes, commands and stall cycles of its
session. The session's id, domain, valid bit and budget are the table's: the window reads them
from the session banks' third port, a charge gets the budget from its LOOKUP's answer.

- An OPEN the table answers OK starts the entry's record: a full bucket in this window. A close
  writes nothing (a free entry's record is never shown nor charged; the next OPEN starts it).
- A LOOKUP's answer keeps its entry and reads its record; the command's completion then charges
  it (charge_i: its BYTES and the cycles it waited), when the LOOKUP found the session: the new
  record is summed in two cycles and written in the third (before any next request's answer).
- The window is a count of decode steps (tick_i, each STEP_ADVANCE run): buckets refill lazily, a
  record charged in an earlier window holding its budget, so a step writes nothing (the count
  wraps after 2**32 steps).
- The QoS window reads the memory and the banks only when its index changed or something was
  written, and shows the record the cycle after (two cycles after the index; a simulator then
  copies and computes nothing on the other cycles).
"""
from myhdl import block, always, always_comb, always_seq, Signal, intbv, modbv, concat

from golden.layout import bounds
from golden.session import COUNTER_MAX, MANAGEMENT_DOMAIN, QOS_WINDOW, SESSION_LAYOUT, SESSION_WAYS

# a record, least significant field first
QOS_LAYOUT = (("window", 32), ("tokens", 32), ("moved", 32), ("commands", 32), ("stall", 32))
RECORD_BITS = sum(w for _, w in QOS_LAYOUT)
WINDOW_BITS = 32 * len(QOS_WINDOW)


@block
def qos_table(params, clk_i, rst_ni, opened_i, looked_up_i, index_i, entry_i, written_i,
              charge_i, charge_bytes_i, charge_waited_i, tick_i,
              win_index_i, win_domain_i, win_read_o, win_entries, win_o, win_visible_o):
    ways, entries = SESSION_WAYS, params.sessions
    IB, WB = len(index_i), (ways - 1).bit_length()
    assert 1 << IB == entries and len(win_entries) == ways and len(win_o) == WINDOW_BITS
    WIN_H, WIN_L = bounds(QOS_LAYOUT, "window")
    TOK_H, TOK_L = bounds(QOS_LAYOUT, "tokens")
    MOV_H, MOV_L = bounds(QOS_LAYOUT, "moved")
    CMD_H, CMD_L = bounds(QOS_LAYOUT, "commands")
    STL_H, STL_L = bounds(QOS_LAYOUT, "stall")
    SES_H, SES_L = bounds(SESSION_LAYOUT, "session")
    DOM_H, DOM_L = bounds(SESSION_LAYOUT, "domain")
    BUD_H, BUD_L = bounds(SESSION_LAYOUT, "budget")
    VALID = bounds(SESSION_LAYOUT, "valid")[1]

    records = [Signal(intbv(0)[RECORD_BITS:]) for _ in range(entries)]    # no reset: block RAM
    window = Signal(modbv(0)[32:])           # decode steps run: the current window
    c_found = Signal(bool(0))                # the last LOOKUP found its session: its record, index, budget
    c_index = Signal(intbv(0)[IB:])
    c_budget = Signal(intbv(0)[32:])
    c_record = Signal(intbv(0)[RECORD_BITS:])

    # a charge: the new record's sums in two 16-bit halves, the low ones as the completion comes,
    # the high ones the next cycle; written the cycle after (the fpga set's 4 ns: a 32-bit ripple
    # sum alone takes 4.4 ns in osu018)
    HALF = 1 << 16
    charge_write = Signal(bool(0))
    charged = Signal(intbv(0)[RECORD_BITS:])
    high_due = Signal(bool(0))
    a_window = Signal(intbv(0)[32:])
    a_tokens_hi, a_bytes_hi, a_waited_hi = (Signal(intbv(0)[16:]) for _ in range(3))
    a_left_lo, a_moved_lo, a_stall_lo, a_commands_lo = (Signal(intbv(0)[17:]) for _ in range(4))

    @always(clk_i.posedge)
    def charge_low():
        if charge_i:
            tokens = intbv(0)[32:]
            tokens[:] = c_record[TOK_H:TOK_L]
            if c_record[WIN_H:WIN_L] != window:
                tokens[:] = c_budget                 # a new window: the bucket is full
            a_window.next = window
            a_tokens_hi.next = tokens[32:16]
            a_bytes_hi.next = charge_bytes_i[32:16]
            a_waited_hi.next = charge_waited_i[32:16]
            a_left_lo.next = HALF + tokens[16:] - charge_bytes_i[16:]       # bit 16: no borrow
            a_moved_lo.next = c_record[MOV_L + 16:MOV_L] + charge_bytes_i[16:]
            a_stall_lo.next = c_record[STL_L + 16:STL_L] + charge_waited_i[16:]
            a_commands_lo.next = c_record[CMD_L + 16:CMD_L] + 1

    @always(clk_i.posedge)
    def charge_high():
        if high_due:
            left_hi = intbv(0)[17:]
            left_hi[:] = HALF + a_tokens_hi - a_bytes_hi
            if not a_left_lo[16]:                    # the low half borrowed
                left_hi[:] = left_hi - 1
            left = intbv(0)[32:]
            if left_hi[16]:                          # the bucket held more than the bytes
                left[:] = concat(left_hi[16:], a_left_lo[16:])
            moved_hi = intbv(0)[17:]
            moved_hi[:] = c_record[MOV_H:MOV_L + 16] + a_bytes_hi
            if a_moved_lo[16]:
                moved_hi[:] = moved_hi + 1
            moved = intbv(COUNTER_MAX)[32:]
            if not moved_hi[16]:
                moved[:] = concat(moved_hi[16:], a_moved_lo[16:])
            stall_hi = intbv(0)[17:]
            stall_hi[:] = c_record[STL_H:STL_L + 16] + a_waited_hi
            if a_stall_lo[16]:
                stall_hi[:] = stall_hi + 1
            stall = intbv(COUNTER_MAX)[32:]
            if not stall_hi[16]:
                stall[:] = concat(stall_hi[16:], a_stall_lo[16:])
            commands_hi = intbv(0)[17:]
            commands_hi[:] = concat(False, c_record[CMD_H:CMD_L + 16])
            if a_commands_lo[16]:
                commands_hi[:] = commands_hi + 1
            commands = intbv(COUNTER_MAX)[32:]
            if not commands_hi[16]:
                commands[:] = concat(commands_hi[16:], a_commands_lo[16:])
            charged.next = concat(stall, commands, moved, left, a_window)

    @always(clk_i.posedge)
    def record_writes():
        if opened_i:
            records[index_i].next = concat(intbv(0)[96:], entry_i[BUD_H:BUD_L], window)
        elif charge_write:
            records[c_index].next = charged

    @always_seq(clk_i.posedge, reset=rst_ni)
    def keep():
        if tick_i:
            window.next = window + 1
        high_due.next = charge_i and c_found
        charge_write.next = high_due
        if looked_up_i:
            c_found.next = entry_i[VALID]
            c_index.next = index_i
            c_budget.next = entry_i[BUD_H:BUD_L]

    # the window: read again when its index changed or a record or an entry was written, shown
    # the cycle after (again at a step: the buckets' window moved); only then does it compute
    win_record = Signal(intbv(0)[RECORD_BITS:])
    win_way = Signal(intbv(0)[WB:])
    win_beyond = Signal(bool(0))
    last_index = Signal(intbv(0)[len(win_index_i):])
    wrote = Signal(bool(0))
    show = Signal(bool(0))
    shown_valid = Signal(bool(0))
    shown_domain = Signal(intbv(0)[DOM_H - DOM_L:])
    entry0, entry1, entry2, entry3 = win_entries      # one signal each: none is a memory

    @always(clk_i.posedge)
    def record_reads():
        if looked_up_i:
            c_record.next = records[index_i]
        if win_read_o:
            win_record.next = records[win_index_i[IB:]]

    @always_comb
    def win_refresh():
        win_read_o.next = win_index_i != last_index or wrote

    @always_seq(clk_i.posedge, reset=rst_ni)
    def win_stage():
        last_index.next = win_index_i
        wrote.next = opened_i or charge_write or written_i
        show.next = win_read_o or tick_i
        if win_read_o:
            win_way.next = win_index_i[WB:]
            win_beyond.next = win_index_i[len(win_index_i):IB] != 0
        if show:
            chosen = intbv(0)[len(entry_i):]
            if win_way == 0:
                chosen[:] = entry0
            elif win_way == 1:
                chosen[:] = entry1
            elif win_way == 2:
                chosen[:] = entry2
            else:
                chosen[:] = entry3
            valid = chosen[VALID] and not win_beyond
            tokens = intbv(0)[32:]
            tokens[:] = win_record[TOK_H:TOK_L]
            if win_record[WIN_H:WIN_L] != window:
                tokens[:] = chosen[BUD_H:BUD_L]
            shown_valid.next = valid
            shown_domain.next = chosen[DOM_H:DOM_L]
            if valid:
                win_o.next = concat(win_record[STL_H:STL_L], win_record[CMD_H:CMD_L], win_record[MOV_H:MOV_L],
                                    tokens, intbv(1)[8:], chosen[DOM_H:DOM_L], chosen[SES_H:SES_L])
            else:
                win_o.next = 0

    @always_comb
    def win_guard():
        win_visible_o.next = win_domain_i == MANAGEMENT_DOMAIN or (shown_valid and shown_domain == win_domain_i)

    return charge_low, charge_high, record_writes, keep, record_reads, win_refresh, win_stage, win_guard

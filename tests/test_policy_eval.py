"""Policy evaluation: LRU and OPT against known results, HEPC within capacity, traces well formed."""
import pytest

from golden import policy_eval as pe
from golden.hepc import PolicyConfig
from golden.traces import DecodeSpec, Step, decode_trace, mooncake_trace


def reference_string(seq):
    """One reference a step; a block's first reference is its append."""
    seen, trace = set(), []
    for x in seq:
        b = (1, 0, 0, x)
        trace.append(Step(appends=[b]) if b not in seen else Step(accesses=[b]))
        seen.add(b)
    return trace


def test_lru_and_opt_on_the_textbook_reference_string():
    # 1 2 3 4 1 2 5 1 2 3 4 5 with 3 frames: OPT has 7 faults, LRU 10 (Belady 1966; any OS text)
    trace = reference_string([1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5])
    assert pe.run_opt(trace, 3) == (12 - 7, 12)
    assert pe.run_lru(trace, 3) == (12 - 10, 12)


def test_unbounded_tier_hits_every_reuse_for_every_policy():
    trace = mooncake_trace(limit=300)
    refs = sum(len(s.appends) + len(s.accesses) for s in trace)
    distinct = len({b for s in trace for b in s.appends})
    want = (refs - distinct) / refs
    table, _ = pe.evaluate(trace, [distinct])
    assert table[distinct] == pytest.approx({"LRU": want, "OPT": want, "HEPC": want})


def test_mooncake_never_evicting_cache_hits_36_6_percent():
    """The trace's published fact: 288,500 references, 182,790 distinct blocks, 36.6 % reuse."""
    trace = mooncake_trace()
    hits, refs = pe.run_lru(trace, 200_000)
    assert refs == 288_500 and len(trace) == 12_031
    assert hits / refs == pytest.approx(0.366, abs=0.0005)


@pytest.mark.parametrize("capacity", [8, 24, 64])
def test_opt_bounds_lru_and_hepc_and_hepc_stays_in_capacity(capacity):
    trace = decode_trace(DecodeSpec(sessions=4, steps=300), seed=3)
    lru = pe.run_lru(trace, capacity)
    opt = pe.run_opt(trace, capacity)
    hepc = pe.run_hepc(trace, capacity, PolicyConfig())  # raises if the tier ever overflows
    assert lru[1] == opt[1] == hepc[1]
    assert opt[0] >= lru[0] and opt[0] >= hepc[0]


def test_decode_trace_is_seeded_and_well_formed():
    a, b = decode_trace(DecodeSpec(sessions=3, steps=200), seed=5), decode_trace(DecodeSpec(sessions=3, steps=200), seed=5)
    assert [(s.appends, s.accesses, s.hints) for s in a] == [(s.appends, s.accesses, s.hints) for s in b]
    appended = set()
    for k, step in enumerate(a):
        appended.update(step.appends)
        assert set(step.accesses) <= appended, f"step {k} reads a block never appended"
        for block, target in step.hints:
            assert target > k and block in appended
            assert block in a[target].accesses, "a hint announces a real look-back"
    assert any(s.hints for s in a) and any(s.shared for s in a)


def test_tune_scores_every_grid_point_best_first():
    trace = decode_trace(DecodeSpec(sessions=3, steps=150), seed=4)
    rows = pe.tune(trace, [16])
    size = 1
    for values in pe.TUNE_GRID.values():
        size *= len(values)
    assert len(rows) == size
    scores = [sum(s) for _, s in rows]
    assert scores == sorted(scores, reverse=True)
    assert all(s <= 1.0 + 1e-9 for _, shares in rows for s in shares), "no policy beats OPT"


@pytest.mark.parametrize("args, msg", [
    (["--workload", "mooncake", "--limit", "0"], "--limit takes a number of Mooncake requests, at least 1"),
    (["--workload", "decode", "--limit", "5"], "--limit takes a number of Mooncake requests"),
    (["--capacities", ""], "--capacities takes integers"),
    (["--capacities", "64,0"], "capacities must be >= 1"),
])
def test_policy_eval_refuses_bad_arguments_at_once(args, msg, capsys):
    """A limit of 0 divided by zero, an empty capacity list ran the defaults: both refused."""
    from golden.policy_eval import main
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2 and msg in capsys.readouterr().err

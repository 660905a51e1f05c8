"""The per-viewer order: each run's events once, in sequence, whatever order they arrive in."""

from sandbox.live.sequencing import Sequencer


def test_events_in_order_pass_straight_through():
    seq = Sequencer({1: 0})
    assert [t for n in (1, 2, 3) for t in seq.offer(1, n, f"e{n}")] == ["e1", "e2", "e3"]
    assert seq.gaps() == {}


def test_an_early_event_waits_for_the_missing_one():
    seq = Sequencer({1: 0})
    assert seq.offer(1, 1, "e1") == ["e1"]
    assert seq.offer(1, 3, "e3") == []
    assert seq.gaps() == {1: (2, 2)}
    assert seq.offer(1, 2, "e2") == ["e2", "e3"]
    assert seq.gaps() == {}


def test_duplicates_are_dropped_and_counted():
    seq = Sequencer({1: 0})
    seq.offer(1, 1, "e1")
    assert seq.offer(1, 1, "e1") == []
    seq.offer(1, 3, "e3")
    assert seq.offer(1, 3, "e3") == []
    assert seq.duplicates == 2


def test_runs_are_ordered_independently():
    seq = Sequencer({1: 0, 2: 5})
    assert seq.offer(2, 6, "b6") == ["b6"]
    assert seq.offer(1, 2, "a2") == []
    assert seq.offer(2, 7, "b7") == ["b7"]
    assert seq.gaps() == {1: (1, 1)}


def test_a_batch_is_forwarded_whole_only_when_it_is_exactly_next():
    seq = Sequencer({1: 0, 2: 0})
    batch = [[1, 1, "a1"], [2, 1, "b1"], [1, 2, "a2"]]
    assert seq.in_order(batch)
    seq.advance(batch)
    assert seq.last == {1: 2, 2: 1}
    assert not seq.in_order([[1, 4, "a4"]])
    assert not seq.in_order([[2, 1, "b1"]])


def test_a_run_met_for_the_first_time_is_followed_from_there():
    seq = Sequencer()
    assert seq.offer(9, 40, "x") == ["x"]
    assert seq.offer(9, 41, "y") == ["y"]


def test_resuming_replays_from_the_given_point():
    seq = Sequencer({1: 10})
    seq.offer(1, 12, "e12")
    seq.expect(1, 5)
    assert seq.pending == {}
    assert seq.offer(1, 6, "e6") == ["e6"]


def test_an_unfillable_gap_is_skipped_without_losing_what_is_held():
    seq = Sequencer({1: 0})
    seq.offer(1, 3, "e3")
    seq.offer(1, 4, "e4")
    assert seq.skip_to_held(1) == ["e3", "e4"]
    assert seq.last[1] == 4

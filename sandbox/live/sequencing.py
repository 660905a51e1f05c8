"""Per-viewer delivery order: each run's events exactly once, in sequence order.

Events of one run may reach a process out of order (two sessions of a run in
two worker processes) or twice (live and from the database during a resume).
A :class:`Sequencer` remembers, per run, the last sequence number sent to its
viewer: it drops what was sent already, holds what comes early, and reports
the gaps that the viewer then fills from the database.
"""

from __future__ import annotations


class Sequencer:
    def __init__(self, last: dict[int, int] | None = None):
        self.last: dict[int, int] = dict(last or {})
        self.pending: dict[int, dict[int, str]] = {}
        self.duplicates = 0

    def expect(self, run_id: int, after: int) -> None:
        """Deliver ``run_id``'s events from ``after + 1`` on, forgetting what was held."""
        self.last[run_id] = after
        self.pending.pop(run_id, None)

    def in_order(self, items) -> bool:
        """True when ``items`` ([run, seq, text] ...) are exactly the next events of their runs.

        Then the whole batch may be forwarded as it is; call :meth:`advance` after.
        """
        seen: dict[int, int] = {}
        for run_id, seq, _text in items:
            if run_id in self.pending:
                return False
            last = seen.get(run_id, self.last.get(run_id))
            if last is not None and seq != last + 1:
                return False
            seen[run_id] = seq
        return True

    def advance(self, items) -> None:
        for run_id, seq, _text in items:
            self.last[run_id] = seq

    def offer(self, run_id: int, seq: int, text: str) -> list[str]:
        """Return the texts that may be sent now, in order (none, this one, or a drained run)."""
        last = self.last.get(run_id)
        if last is None:
            last = seq - 1  # a run this viewer meets for the first time: follow it from here
        if seq <= last:
            self.duplicates += 1
            return []
        if seq > last + 1:
            held = self.pending.setdefault(run_id, {})
            if seq in held:
                self.duplicates += 1
            held[seq] = text
            self.last[run_id] = last
            return []
        out = [text]
        last = seq
        held = self.pending.get(run_id)
        while held and last + 1 in held:
            last += 1
            out.append(held.pop(last))
        if held is not None and not held:
            del self.pending[run_id]
        self.last[run_id] = last
        return out

    def gaps(self) -> dict[int, tuple[int, int]]:
        """Per run with held events: the missing range (first, last) before the earliest held."""
        return {run_id: (self.last[run_id] + 1, min(held) - 1)
                for run_id, held in self.pending.items() if held}

    def skip_to_held(self, run_id: int) -> list[str]:
        """Give up on a gap the database cannot fill: deliver what is held, in order."""
        held = self.pending.pop(run_id, {})
        out = []
        for seq in sorted(held):
            out.append(held[seq])
            self.last[run_id] = seq
        return out

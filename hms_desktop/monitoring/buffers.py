"""Per-bed numpy buffers: the sweeping ECG trace and short numeric trends.

No per-sample Python loops: samples are copied in slices, so a 250 Hz lead costs a few array
copies per screen frame however many samples arrive.
"""

import numpy as np

SWEEP_SECONDS = 6.0
GAP_SECONDS = 0.2  # the blank just ahead of the writing point, as on a bedside monitor
DEFAULT_HZ = 250.0
MAX_LAG_SECONDS = 2.0  # samples waiting longer than this are dropped so the trace keeps up


class SweepBuffer:
    """A fixed window of samples that new ones overwrite from the left, with a gap ahead.

    Samples are queued by `push` and released at their own rate by `advance`, so a chunk that
    arrives once a second is drawn as a smooth sweep rather than a jump.
    """

    def __init__(self, hz: float = DEFAULT_HZ, seconds: float = SWEEP_SECONDS) -> None:
        self.seconds = seconds
        self.version = 0  # changes when the whole trace must be redrawn (new rate, cleared)
        self._reset(hz)

    def _reset(self, hz: float) -> None:
        self.hz = float(hz)
        self.size = max(int(round(self.hz * self.seconds)), 2)
        self.gap = max(int(round(self.hz * GAP_SECONDS)), 1)
        self.x = np.arange(self.size, dtype=np.float64) / self.hz
        self.y = np.full(self.size, np.nan)
        self.pos = 0
        self._pending = np.empty(0)
        self._credit = 0.0
        self.dirty = True
        self.total = 0  # samples drawn since the start (for tests and benchmarks)
        self.version += 1

    def push(self, samples: np.ndarray | list[float], hz: float) -> None:
        """Queue a chunk of samples (mV) that the monitor sampled at `hz`."""
        if hz > 0 and abs(hz - self.hz) > 1e-6:
            self._reset(hz)
        chunk = np.asarray(samples, dtype=np.float64)
        self._pending = np.concatenate((self._pending, chunk)) if self._pending.size else chunk
        limit = int(self.hz * MAX_LAG_SECONDS)
        if self._pending.size > limit:
            self._pending = self._pending[-limit:]

    @property
    def pending(self) -> int:
        return int(self._pending.size)

    def advance(self, dt: float) -> int:
        """Release the samples due after `dt` seconds; returns how many were drawn."""
        self._credit += dt * self.hz
        due = min(int(self._credit), self._pending.size)
        self._credit -= int(self._credit)
        if self._pending.size == 0:
            self._credit = 0.0
        if due <= 0:
            return 0
        self.write(self._pending[:due])
        self._pending = self._pending[due:]
        return due

    def write(self, samples: np.ndarray) -> None:
        """Draw `samples` now at the writing point, wrapping to the left edge."""
        samples = samples[-self.size :]
        n = samples.size
        end = self.pos + n
        if end <= self.size:
            self.y[self.pos : end] = samples
        else:
            first = self.size - self.pos
            self.y[self.pos :] = samples[:first]
            self.y[: n - first] = samples[first:]
        self.pos = end % self.size
        gap_end = self.pos + self.gap
        self.y[self.pos : min(gap_end, self.size)] = np.nan
        if gap_end > self.size:
            self.y[: gap_end - self.size] = np.nan
        self.total += n
        self.dirty = True

    def clear(self) -> None:
        """Blank the trace (lead off, patient discharged)."""
        self.y[:] = np.nan
        self._pending = np.empty(0)
        self.dirty = True
        self.version += 1


class TrendBuffer:
    """The last `seconds` of one numeric as (epoch seconds, value), in a ring of fixed size."""

    def __init__(self, seconds: float = 600.0, capacity: int = 1200) -> None:
        self.seconds = seconds
        self.t = np.full(capacity, np.nan)
        self.v = np.full(capacity, np.nan)
        self._next = 0
        self.count = 0
        self.dirty = False

    def append(self, t: float, value: float) -> None:
        """Add one reading (NaN for an artefact, so the line breaks there)."""
        i = self._next
        self.t[i], self.v[i] = t, value
        self._next = (i + 1) % self.t.size
        self.count = min(self.count + 1, self.t.size)
        self.dirty = True

    def extend(self, points: list[tuple[float, float]]) -> None:
        """Add readings in time order (a history fetched from the server)."""
        for t, value in points[-self.t.size :]:
            self.append(t, value)

    def arrays(self, now: float) -> tuple[np.ndarray, np.ndarray]:
        """(times, values) of the readings in the window ending at `now`, oldest first."""
        if self.count < self.t.size:
            t, v = self.t[: self.count], self.v[: self.count]
        else:
            t = np.concatenate((self.t[self._next :], self.t[: self._next]))
            v = np.concatenate((self.v[self._next :], self.v[: self._next]))
        keep = t >= now - self.seconds
        t, v = t[keep], v[keep]
        if t.size > 1 and np.any(np.diff(t) < 0):  # history added after live readings
            order = np.argsort(t, kind="stable")
            t, v = t[order], v[order]
        return t, v

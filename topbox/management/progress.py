"""Progress of a long-running command, with its rate: a bar on a terminal, lines elsewhere.

On a terminal, tqdm's bar (done, total, rows per second, time left). Written to a file or
a pipe (a log, CI, ``docker logs``), a bar's carriage returns make a mess, so a line every
tenth of the way instead; nothing at all with ``--verbosity 0``.
"""

import time

from tqdm import tqdm


def progress(stream, total, unit, verbosity=1):
    """A context manager with ``update(n)`` (n more done) reporting to ``stream`` (a
    command's ``self.stderr``)."""
    if verbosity < 1:
        return Lines(stream, total, unit, steps=0)
    if stream.isatty():
        return tqdm(total=total, unit=f" {unit}", unit_scale=True, file=stream._out, dynamic_ncols=True)
    return Lines(stream, total, unit)


class Lines:
    """A line each time another ``1/steps`` of ``total`` is done (never with ``steps=0``):
    ``100,000 of 1,000,000 interactions (10%), 2,950 interactions/s, 34 s so far``."""

    def __init__(self, stream, total, unit, steps=10):
        self.stream, self.total, self.unit, self.steps = stream, total, unit, steps
        self.n = 0
        self.started = time.monotonic()
        self.step = 0  # the steps reported so far

    def update(self, n):
        self.n += n
        if not self.steps or not self.total:
            return
        reached = min(self.steps, self.n * self.steps // self.total)
        if reached > self.step:
            self.step = reached
            seconds = time.monotonic() - self.started
            rate = self.n / seconds if seconds else 0
            self.stream.write(
                f"{self.n:,} of {self.total:,} {self.unit} ({self.n * 100 // self.total}%), "
                f"{rate:,.0f} {self.unit}/s, {seconds:,.0f} s so far"
            )

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

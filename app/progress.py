"""Progress of long commands on stderr (tqdm): a bar with its total and rate, shown only on a terminal.

A command makes a `Progress` and hands its methods down as plain callbacks (`advance`, `stage`, `note`), so
the code doing the work never imports this module or tqdm. When stderr is not a terminal (a pipe, a log
file, a test) the bar draws nothing; `note` still prints its line, as the command's messages did before.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm


class Progress:
    """One bar: `advance` moves it, `stage` says what is happening now, `note` prints a line above it."""

    def __init__(self, bar: tqdm, stream: TextIO, verbose: bool) -> None:
        self.bar = bar
        self.stream = stream
        self.verbose = verbose

    def start(self, total: int) -> None:
        """The amount of work, once it is known."""
        self.bar.reset(total=total)

    def advance(self, amount: int = 1) -> None:
        self.bar.update(amount)

    def stage(self, text: str) -> None:
        """What is happening now: beside the bar on a terminal; elsewhere a line when verbose."""
        if not self.bar.disable:
            self.bar.set_postfix_str(text, refresh=True)
        elif self.verbose:
            print(f"  {text}", file=self.stream, flush=True)

    def note(self, text: str) -> None:
        if self.bar.disable:
            print(text, file=self.stream, flush=True)
        else:
            self.bar.write(text, file=self.stream)


@contextmanager
def progress(
    description: str, total: int | None, unit: str, *, verbose: bool = False, stream: TextIO | None = None
) -> Iterator[Progress]:
    """A bar on `stream` (stderr) for `total` units of work, closed at the end of the block.

    `verbose`: where no bar is drawn, print each stage as a line instead.
    """
    from tqdm import tqdm  # here, so that `python -m app --help` works before the install

    out = stream or sys.stderr
    bar = tqdm(
        total=total,
        desc=description,
        unit=f" {unit}",
        file=out,
        disable=not _is_terminal(out),
        dynamic_ncols=True,
        mininterval=0.25,
        leave=True,
    )
    try:
        yield Progress(bar, out, verbose)
    finally:
        bar.close()


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())

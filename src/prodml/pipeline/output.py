"""What a step prints (its own ``print``s, MLflow's "Successfully registered model …" notes)
goes to its run's log file, one ``step | line`` per line, instead of the terminal, where it would
break the progress display and mix with prodml's own output."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import TextIO


class StepOutput(io.TextIOBase):
    """A text stream that appends whole lines to ``log``, each prefixed by the step's name (the
    file is made on the first line: a step that prints nothing leaves no log).

    A library may keep the stream it found in ``sys.stderr`` (a logging handler made during the
    step): after the step, what it writes goes on to the stream the step started with.
    """

    def __init__(self, log: Path, step: str, after: TextIO) -> None:
        super().__init__()
        self._log, self._step, self._partial, self._after = log, step, "", after
        self._sink: TextIO | None = None
        self._open = True
        self.lines = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not self._open:
            return self._after.write(text)
        *whole, self._partial = (self._partial + text).split("\n")
        if whole:
            if self._sink is None:
                self._log.parent.mkdir(parents=True, exist_ok=True)
                self._sink = self._log.open("a", encoding="utf-8")
            self._sink.writelines(f"{self._step} | {line.rstrip()}\n" for line in whole)
            self.lines += len(whole)
        return len(text)

    def flush(self) -> None:
        target = self._sink if self._open else self._after
        if target is not None:
            target.flush()

    def end(self) -> None:
        """Write what is left of an unterminated last line and close the log; later writes go
        to the stream the step started with."""
        if self._partial:
            self.write("\n")
        if self._sink is not None:
            self._sink.close()
        self._open = False


@contextmanager
def captured(log: Path, step: str) -> Iterator[StepOutput]:
    """Send ``sys.stdout`` and ``sys.stderr`` to ``log`` while the step runs."""
    out, err = StepOutput(log, step, sys.stdout), StepOutput(log, step, sys.stderr)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            yield err
    finally:
        out.end()
        err.end()

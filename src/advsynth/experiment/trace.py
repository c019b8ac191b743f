"""Which stages of the experiment ran: the record that shows every door composes the same ones.

Each stage function is marked ``@stage("name")``. Outside ``trace()`` the mark costs one
context-variable read; inside, each call appends the stage's name, so a test can run a door
(``advsynth run``, ``advsynth evaluate``, the container commands, the adversarial search) and
compare the stages it went through.
"""

from __future__ import annotations

import contextlib
import functools
from contextvars import ContextVar

_ACTIVE: ContextVar[list | None] = ContextVar("advsynth_stage_trace", default=None)


def stage(name: str):
    """Mark a function as the experiment's stage ``name``."""
    def mark(func):
        @functools.wraps(func)
        def run(*args, **kwargs):
            record = _ACTIVE.get()
            if record is not None:
                record.append(name)
            return func(*args, **kwargs)

        run.stage = name
        return run

    return mark


@contextlib.contextmanager
def trace():
    """Collect the names of the stages called inside the block (in call order, repeats kept).

    A thread sees the record only when it runs in a copy of this context (``concurrent.futures``
    does not copy it: ``advsynth run`` submits its null with ``contextvars.copy_context().run``)."""
    record: list[str] = []
    token = _ACTIVE.set(record)
    try:
        yield record
    finally:
        _ACTIVE.reset(token)

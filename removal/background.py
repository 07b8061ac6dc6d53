"""Background work the conversation starts and must not wait for (execution, removal).

Keeps a reference to every task (asyncio only keeps weak ones), logs failures instead of losing
them, and lets tests and shutdown wait until everything started has finished.

Work started while answering an HTTP request can be *held* until the answer is written
(:meth:`BackgroundTasks.holding`): otherwise a fast background update of a card could reach
Teams before the invoke answer that shows the card it updates, and be overwritten by it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ("BackgroundTasks",)

_log = logging.getLogger(__name__)
_Work = tuple[Coroutine[Any, Any, Any], str]
_held: ContextVar[list[_Work] | None] = ContextVar("offboard_held_work", default=None)


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, work: Coroutine[Any, Any, Any], *, name: str) -> None:
        held = _held.get()
        if held is not None:
            held.append((work, name))
        else:
            self._spawn(work, name)

    @contextmanager
    def holding(self) -> Iterator[Callable[[], None]]:
        """Hold work started inside; call the yielded ``release`` once the answer is out."""
        held: list[_Work] = []
        token = _held.set(held)
        released = False

        def release() -> None:
            nonlocal released
            released = True
            for work, name in held:
                self._spawn(work, name)

        try:
            yield release
        finally:
            _held.reset(token)
            if not released:
                for work, _ in held:
                    work.close()

    def _spawn(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def drain(self) -> None:
        """Wait until no task is running (tasks may start others while we wait)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.drain()

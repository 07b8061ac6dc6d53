"""Which Teams messages show a case: the edge's own record, kept beside the case, not in it.

Layout in the :class:`storage.DocumentStore` (the cases' store)::

    casemessages/{case id}    {"plan": …, "status": …, "final": …, "question": …}

- ``plan``: the plan card, redrawn on every change of state;
- ``status``: the card showing the carrying out (updated in place as it goes);
- ``final``: the final confirmation, which becomes "removing…", then the result;
- ``question``: the last question posted after a re-check: a click on it that showed no message
  of its own shows the carrying out there.

Every change is an ETag-checked read-modify-write, as for the case itself, so instances and a
restart see the same record (a resumed case updates the messages it was shown in).

Cases stored before this record existed carry the ids in the case document itself
(``plan_message_id``, ``status_message_id``, ``final_message_id``). The case model ignores them,
so the first change of such a case drops them: :meth:`CaseMessageBook.carry_over` copies them
here for every open case when the bot starts, before anything changes a case. A case this record
still lacks (written meanwhile by an instance of the older version) is read from there too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from pydantic import BaseModel, ConfigDict

from removal import CaseState, RemovalCase
from removal.decisions import Applied, Effect
from storage import DocumentStore, PreconditionFailed

__all__ = ("CaseMessageBook", "CaseMessages")

_MAX_ATTEMPTS = 50
# Where cases stored before this record kept the ids (removal.store's layout, read once per case).
_OLD_FIELDS = {"plan": "plan_message_id", "status": "status_message_id", "final": "final_message_id"}


class CaseMessages(BaseModel):
    """The ids of the Teams messages that show one case ('' for none)."""

    model_config = ConfigDict(extra="ignore")

    plan: str = ""
    status: str = ""
    final: str = ""
    question: str = ""


class CaseMessageBook:
    def __init__(self, documents: DocumentStore) -> None:
        self._documents = documents

    async def get(self, case_id: str) -> CaseMessages:
        stored = await self._documents.read(_key(case_id))
        if stored is not None:
            return CaseMessages.model_validate(stored.document)
        return await self._migrated(case_id)

    async def carry_over(self, cases: Iterable[RemovalCase]) -> int:
        """Copy the ids older case documents carry into this record (at start-up, before any case
        changes); how many were copied. A record already there is never overwritten."""
        copied = 0
        for case in cases:
            if await self._documents.read(_key(case.id)) is not None:
                continue
            messages = await self._migrated(case.id)
            if messages == CaseMessages():
                continue
            try:
                await self._documents.write(_key(case.id), messages.model_dump(), if_none_match=True)
                copied += 1
            except PreconditionFailed:
                pass  # written meanwhile by a change, which read the same ids first
        return copied

    async def opened(self, case: RemovalCase, *, plan: str, step: str) -> None:
        """The case was just opened in a turn: ``plan`` shows its plan, ``step`` its first step
        (the final confirmation if it is ready, else what the carrying out will update)."""

        def note(messages: CaseMessages) -> None:
            messages.plan = plan
            if case.state is CaseState.READY:
                messages.final = step
            else:
                messages.status = step

        await self._change(case.id, note)

    async def step_shown(self, case: RemovalCase, message_id: str, *, state_now: Callable[[], Awaitable[CaseState | None]]) -> None:
        """``message_id`` was posted as the case's next step: the final confirmation or a
        question. Noted only while the case is still in the state it was posted for
        (``state_now``: the stored state), so a click that moved the case on meanwhile, and
        noted its own message, is never overwritten."""
        state = case.state
        if not message_id or state not in (CaseState.READY, CaseState.AWAITING_APPROVAL):
            return

        def note(messages: CaseMessages) -> None:
            if state is CaseState.READY:
                messages.final = message_id
            else:
                # The question shows the case from now on: a progress or a pause updates it (and
                # takes its buttons away), as the carrying out a click on it starts does.
                messages.status = messages.question = message_id

        async def still() -> bool:
            return await state_now() is state

        await self._change(case.id, note, only_if=still)

    async def work_started(self, applied: Applied, message_id: str) -> None:
        """A click started the carrying out or the removal, and was answered in ``message_id``:
        that message shows the work ('' : the message noted earlier does)."""
        assert applied.case is not None

        def note(messages: CaseMessages) -> None:
            if applied.effect is Effect.STARTS_REMOVAL:
                messages.final = message_id or messages.final
            else:
                messages.status = message_id or messages.question or messages.status

        await self._change(applied.case.id, note)

    # ---- Inside ----

    async def _change(
        self,
        case_id: str,
        change: Callable[[CaseMessages], None],
        *,
        only_if: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        """Read, change, write back only if nobody wrote in between (else again); ``only_if`` is
        asked after each read, so a writer in between makes it be asked again."""
        for _ in range(_MAX_ATTEMPTS):
            stored = await self._documents.read(_key(case_id))
            messages = CaseMessages.model_validate(stored.document) if stored else await self._migrated(case_id)
            if only_if is not None and not await only_if():
                return
            change(messages)
            try:
                if stored is None:
                    await self._documents.write(_key(case_id), messages.model_dump(), if_none_match=True)
                else:
                    await self._documents.write(_key(case_id), messages.model_dump(), if_match=stored.etag)
                return
            except PreconditionFailed:
                continue
        raise RuntimeError(f"the messages of case {case_id} kept changing")

    async def _migrated(self, case_id: str) -> CaseMessages:
        """The ids an older case document carries (nothing written: the next change writes them)."""
        stored = await self._documents.read(f"cases/{case_id}")
        document = stored.document if stored else {}
        return CaseMessages(**{field: str(document.get(old) or "") for field, old in _OLD_FIELDS.items()})


def _key(case_id: str) -> str:
    return f"casemessages/{case_id}"

"""A removal paused because Partner Center (or Microsoft Graph, in the access teardown) is not answering, and the word that it carries on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from partner_center.teardown import Service
from removal.case import RemovalCase

from .adaptive import adaptive_card, facts, text
from .format import format_time
from .result import removed_lines
from .status import item_progress
from .texts import DEFAULT_LOCALE, t
from .words import customer_name, error_lines

__all__ = ("paused_card", "resumed_card")


def paused_card(case: RemovalCase, *, now: datetime, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """ "Partner Center is not answering; the removal is paused and will resume by itself."

    Says since when, how far the removal got (done, still to do), and the ids of the last
    failed call, for a support ticket if the outage lasts.
    """
    # Microsoft Graph's silence (the access teardown) is said as Graph's, not Partner Center's.
    graph = case.pause is not None and case.pause.service is Service.GRAPH
    suffix = ".graph" if graph else ""
    title = t(locale, "paused.title", customer=customer_name(case.customer))
    since = case.pause.since if case.pause else now
    progress = [item_progress(item) for item in case.items]
    body = [
        text(title, size="Medium", weight="Bolder"),
        text(t(locale, f"paused.body{suffix}"), weight="Bolder"),
        text(t(locale, "paused.since", time=format_time(since, locale)), spacing="Small"),
        # Paused in the access teardown after the removal: the relationship itself is gone.
        *removed_lines(case, locale, link=False),
        facts(
            [
                (t(locale, "status.count.done"), str(progress.count("done"))),
                (t(locale, "status.count.queued"), str(progress.count("queued"))),
            ]
        ),
    ]
    if case.pause is not None:
        body.extend(text(line, subtle=True, spacing="None") for line in error_lines(case.pause.error, locale, graph=graph))
    return adaptive_card(body, fallback_text=f"{title}\n\n{t(locale, f'paused.body{suffix}')}", lang=locale)


def resumed_card(case: RemovalCase, *, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """Partner Center answers again and the removal carries on (its status card follows)."""
    message = t(locale, "paused.resumed", customer=customer_name(case.customer))
    return adaptive_card([text(message, weight="Bolder")], fallback_text=message, lang=locale)

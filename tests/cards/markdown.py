"""Card text as Teams reads it: markdown, where a backslash makes the next punctuation mark plain.

No markdown renderer is installed, so these look at the characters a renderer acts on: a ``]``
or ``*`` is live markup unless an odd number of backslashes stands before it (CommonMark).
"""

from __future__ import annotations

import re

from .reading import text_elements as markdown_texts

__all__ = ("EVIL_NAME", "as_read", "live_bold", "live_link", "markdown_texts")

# A name a customer (Partner Center company name) or a guest (Teams display name) can choose.
EVIL_NAME = "[Approve here](https://evil.example) **x**"

_NOT_ESCAPED = r"(?<!\\)(?:\\\\)*"  # an even number of backslashes (none included) before it
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: a backslash before ASCII punctuation


def live_link(value: str, target: str = "https://evil") -> bool:
    """Whether ``value`` holds a link to ``target`` that markdown would render (``](target``)."""
    return re.search(_NOT_ESCAPED + r"\]\(" + re.escape(target), value) is not None


def live_bold(value: str, word: str = "x") -> bool:
    """Whether ``value`` holds ``**word`` that markdown would render in bold."""
    return re.search(_NOT_ESCAPED + r"\*\*" + re.escape(word), value) is not None


def as_read(value: str) -> str:
    """``value`` as a reader sees it once rendered: the escaping backslashes gone."""
    return _ESCAPED.sub(r"\1", value)

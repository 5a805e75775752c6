"""Markdown-light for messages: bold, italics, links, lists, code; nothing else.

Python-Markdown renders the text with raw HTML switched off (a ``<b>`` typed in a
message is shown as text), then nh3 keeps only the tags below and links with
http(s)/mailto addresses, so nothing a person types can run in a page or a mail.
Mentions (``@username`` of the people resolved by the service) become a span.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

import markdown
import nh3

TAGS = frozenset(
    {"p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "code", "pre",
     "blockquote", "span"}
)  # fmt: skip
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# "@name" after a start, a space or an opening bracket (not inside an e-mail address).
MENTION = re.compile(r"(?<![\w@.\-])@([\w][\w.\-]*[\w]|[\w])", re.UNICODE)


def mentioned_names(text: str) -> list[str]:
    """The names mentioned with "@", lower-cased, each once, in order."""
    seen: dict[str, None] = {}
    for match in MENTION.finditer(text):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)


def _renderer() -> markdown.Markdown:
    md = markdown.Markdown(extensions=["sane_lists", "fenced_code", "nl2br"])
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return md


def render(text: str, mentions: Iterable[str] = ()) -> str:
    """The message's safe HTML; ``mentions`` are the names to mark as mentions."""
    rendered = _renderer().convert(text)
    names = {name.lower() for name in mentions}
    if names:

        def mark(match: re.Match[str]) -> str:
            if match.group(1).lower() not in names:
                return match.group(0)
            return f'<span class="mention">@{html.escape(match.group(1))}</span>'

        rendered = MENTION.sub(mark, rendered)
    return nh3.clean(
        rendered,
        tags=set(TAGS),
        attributes={"a": {"href", "title"}},
        tag_attribute_values={"span": {"class": {"mention"}}},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )


def plain(text: str, limit: int = 300) -> str:
    """A one-line excerpt of the typed text (for mails and the bell)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"

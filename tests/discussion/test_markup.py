"""Markdown-light rendering: what is kept, and nothing typed can become live markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from sogla.discussion.markup import mentioned_names, plain, render

PIECES = st.sampled_from(
    ["<script>", "</script>", "<img src=x onerror=alert(1)>", "javascript:", "[a](",
     ")", "**", "_", "`", "\n- ", "\n1. ", "@bob", "<", ">", '"', "'", "&", "<svg/onload=1>",
     "<a href='javascript:x'>", "```\n", "data:text/html,", "<iframe>", " ", "x"]
)  # fmt: skip
TAG = re.compile(r"<\s*([a-zA-Z0-9]+)")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=30).map("".join))
def test_nothing_typed_becomes_live(text: str) -> None:
    html = render(text, ["bob"])
    assert {t.lower() for t in TAG.findall(html)} <= {
        "p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "code", "pre",
        "blockquote", "span",
    }  # fmt: skip
    parser = _Attributes()
    parser.feed(html)
    for name, value in parser.found:
        assert not name.startswith("on")
        if name == "href":
            scheme = value.strip().lower()
            assert not scheme.startswith(("javascript:", "data:", "vbscript:"))


class _Attributes(HTMLParser):
    """Every attribute of every tag, as a browser reads it (entities decoded)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # noqa: ARG002
        self.found.extend((k.lower(), v or "") for k, v in attrs)


def test_the_light_formatting() -> None:
    html = render("**b** _i_ `c`\n\n- one\n- two\n\n[site](https://example.org)")
    assert "<strong>b</strong>" in html
    assert "<em>i</em>" in html
    assert "<code>c</code>" in html
    assert "<li>one</li>" in html
    assert 'href="https://example.org"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_mentions_and_excerpts() -> None:
    assert mentioned_names("@Anna, a@b.org and (@bob.s).") == ["anna", "bob.s"]
    assert render("hi @anna", ["anna"]).count('class="mention"') == 1
    assert 'class="mention"' not in render("hi @anna", [])
    assert plain("a\n\nb   c") == "a b c"
    assert len(plain("x" * 500)) == 300

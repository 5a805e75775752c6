"""Markdown-light rendering: what is kept, and nothing typed can become live markup."""

from __future__ import annotations

import re

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
    for tag in re.findall(r"<[^>]*>", html):  # the markup itself, not the text shown
        assert not re.search(r"\son\w+\s*=", tag, re.IGNORECASE)
        assert "javascript:" not in tag.lower()
        assert "data:" not in tag.lower()


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

"""Where a page's server time goes: SQL, the ORM, template rendering, the rest.

``breakdown`` times by the wall clock, per request, four nested kinds of work and
gives each its own time (a kind's time minus the kinds running inside it):

- ``sql``: each statement's ``execute`` and the fetching of its rows;
- ``orm``: the ORM around them: compiling queries, turning rows into model instances
  (``SQLCompiler.execute_sql``, ``QuerySet._fetch_all``);
- ``template``: rendering the page's template (with the context processors);
- the rest: middleware and the view's own Python.

SQL (and ORM work) that lazy querysets run while the template renders is counted as
SQL (ORM) and also shown apart. ``profile`` adds a cProfile of the same requests.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

KINDS = ("sql", "orm", "template")


@dataclass
class Split:
    requests: int = 0
    total: float = 0.0
    own: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 0.0))
    in_template: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(KINDS, 0.0)
    )
    each: list[float] = field(default_factory=list)  # each statement's execute
    _stack: list[list[Any]] = field(default_factory=list)  # [kind, start, children]

    @property
    def sql(self) -> float:
        return self.own["sql"]

    def begin(self, kind: str) -> None:
        self._stack.append([kind, time.perf_counter(), 0.0])

    def end(self) -> float:
        kind, start, children = self._stack.pop()
        elapsed = time.perf_counter() - start
        self.own[kind] += elapsed - children
        if any(frame[0] == "template" for frame in self._stack):
            self.in_template[kind] += elapsed - children
        if self._stack:
            self._stack[-1][2] += elapsed
        return elapsed

    def lines(self) -> list[str]:
        n = max(1, self.requests)
        rest = self.total - sum(self.own.values())

        def part(seconds: float) -> str:
            share = seconds / self.total if self.total else 0.0
            return f"{seconds / n * 1000:7.2f} ms {share:4.0%}"

        def during(kind: str) -> str:
            return f"{self.in_template[kind] / n * 1000:.2f} ms while rendering"

        return [
            f"server time    {self.total / n * 1000:7.2f} ms per request ({n} requests)",
            f"  SQL          {part(self.own['sql'])}   ({during('sql')})",
            f"  ORM          {part(self.own['orm'])}   (compiling queries, rows to "
            f"objects; {during('orm')})",
            f"  templates    {part(self.own['template'])}   (rendering, context "
            "processors)",
            f"  other Python {part(rest)}   (middleware, the view's own work)",
        ]


@contextmanager
def breakdown() -> Iterator[Split]:
    """Time the kinds of work of what runs inside (one thread)."""
    from django.db import connection
    from django.db.models import query
    from django.db.models.sql import compiler
    from django.template.backends import django as backend

    split = Split()
    originals = (
        backend.Template.render,
        compiler.cursor_iter,
        compiler.SQLCompiler.execute_sql,
        query.QuerySet._fetch_all,
    )

    def timed(kind: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            split.begin(kind)
            try:
                return function(*args, **kwargs)
            finally:
                split.end()

        return wrapper

    def execute(
        call: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        split.begin("sql")
        try:
            return call(sql, params, many, context)
        finally:
            split.each.append(split.end())

    def cursor_iter(*args: Any, **kwargs: Any) -> Iterator[Any]:
        rows = originals[1](*args, **kwargs)
        while True:
            split.begin("sql")
            try:
                chunk = next(rows)
            except StopIteration:
                return
            finally:
                split.end()
            yield chunk

    backend.Template.render = timed("template", originals[0])  # type: ignore[method-assign]
    compiler.cursor_iter = cursor_iter  # type: ignore[assignment]
    compiler.SQLCompiler.execute_sql = timed("orm", originals[2])  # type: ignore[method-assign]
    query.QuerySet._fetch_all = timed("orm", originals[3])  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(execute):
            yield split
    finally:
        backend.Template.render = originals[0]  # type: ignore[method-assign]
        compiler.cursor_iter = originals[1]
        compiler.SQLCompiler.execute_sql = originals[2]  # type: ignore[method-assign]
        query.QuerySet._fetch_all = originals[3]  # type: ignore[method-assign]


def profile(get: Callable[[], Any], requests: int, top: int = 25) -> list[str]:
    """The split of ``requests`` calls of ``get``, then cProfile's top functions."""
    with breakdown() as split:
        for _ in range(requests):
            began = time.perf_counter()
            get()
            split.total += time.perf_counter() - began
            split.requests += 1
    lines = split.lines()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        get()
    profiler.disable()
    for order, restrict, title in (
        ("tottime", (), "by own time"),
        ("cumulative", ("sogla",), "Sogla's functions by cumulative time"),
    ):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats(order)
        stats.print_stats(*restrict, top)
        text = out.getvalue()
        body = text[text.find("ncalls") :] if "ncalls" in text else text
        lines.append(f"cProfile of {requests} more requests, top {top} {title}:")
        lines += ["  " + line for line in body.splitlines() if line.strip()]
    return lines

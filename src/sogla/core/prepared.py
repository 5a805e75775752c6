"""A SELECT built and compiled once, then run again with other parameter values.

Django compiles a queryset to SQL on every evaluation; for a query with a few
``select_related`` joins that costs more than running it (about 1 ms against
0.05 ms on SQLite). ``Prepared`` compiles the queryset once per database with
placeholder values, keeps the compiler (its column list and the joined models'
layout) and the SQL text, and on each call runs the same text with the call's
values; rows become model instances exactly as the queryset would build them
(``select_related`` objects included).

On PostgreSQL the text is also *planned* once per connection: it runs as a
server-side prepared statement (psycopg's ``prepare=True``, when the connection
allows it: ``SOGLA_DATABASE_PREPARED``, on by default). Planning a join of seven
tables costs the server 5–10 ms on each run otherwise, more than running it; the
server keeps a generic plan after five runs. The decision path's own statements
(the runs' UPDATEs and INSERTs, ``insert_rows``, ``insert_values``, the audit head)
go through ``statement_cursor`` too. Every other query keeps Django's client-side
binding, which never prepares: preparing every statement made the registry's
statements slower under generic plans (docs/benchmarks.md).
"""

from __future__ import annotations

import copy
import datetime
import functools
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Field, Model, QuerySet
from django.db.models.constants import OnConflict
from django.db.models.query import ModelIterable, get_related_populators
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

M = TypeVar("M", bound=Model)

# Placeholder values: integers no row id takes, text no name contains.
_MARK = -7_349_000_000_000


def _mark(kind: type, index: int) -> Any:
    return _MARK - index if kind is int else f"\x00prepared:{index}\x00"


def db() -> BaseDatabaseWrapper:
    """The default database's connection of this thread: ``django.db.connection``
    without its proxy, which looks the connection up again on every attribute
    (about 1.5 µs each; a decision read dozens). Take it once per function and
    hand it on."""
    return connections[DEFAULT_DB_ALIAS]


_PLAIN_LITERAL = re.compile(r"[A-Za-z0-9_.:-]*")


def sql_literal(value: str) -> str:
    """``value`` as an SQL string literal, for a constant (an enum's value) written
    into a statement's text rather than bound: a prepared statement's generic plan
    then knows it. Only letters, digits and ``_.:-`` (nothing to quote)."""
    if not _PLAIN_LITERAL.fullmatch(value):
        msg = f"not a plain constant: {value!r}"
        raise ValueError(msg)
    return f"'{value}'"


@dataclass(frozen=True)
class _Compiled(Generic[M]):
    queryset: QuerySet[M]
    compiler: SQLCompiler
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int], ...]  # (position in params, argument index)
    converters: dict[int, Any]
    rows: _Rows | None  # how rows become instances, when built without a queryset


@dataclass(frozen=True)
class _Rows:
    """What ``ModelIterable`` works out from the compiler on every run, worked out
    once: the main model's columns and the ``select_related`` populators."""

    model: type[Model]
    start: int
    end: int
    init_list: tuple[str, ...]
    populators: tuple[Any, ...]


class Prepared(Generic[M]):
    """``Prepared(lambda a, b: Model.objects.filter(x=a, y=b), arity=2)``; then
    ``prepared.all(1, 2)`` is ``list(Model.objects.filter(x=1, y=2))``.

    The arguments are integers (ids), or text when ``args`` says so
    (``args=(int, str)``); the builder must use each one as a plain exact lookup
    value (no arithmetic, no LIKE), so that it reaches the SQL parameters as given.
    A ``select_for_update`` queryset must still run inside a transaction (the
    check Django makes when compiling is not repeated).
    """

    def __init__(
        self,
        build: Callable[..., QuerySet[M]],
        *,
        arity: int = 0,
        args: tuple[type, ...] = (),
    ) -> None:
        self._build = build
        self._kinds = args or (int,) * arity
        self._arity = len(self._kinds)
        # Per thread: a compiler belongs to the connection it was made for.
        self._local = threading.local()

    def _entry(self, alias: str) -> _Compiled[M]:
        wrapper = connections[alias]
        cache: dict[str, _Compiled[M]] = self._local.__dict__.setdefault("by_alias", {})
        compiled = cache.get(alias)
        if compiled is None or compiled.compiler.connection is not wrapper:
            compiled = cache[alias] = self._compile(alias)
        return compiled

    def _compile(self, alias: str) -> _Compiled[M]:
        marks = [_mark(kind, i) for i, kind in enumerate(self._kinds)]
        queryset = self._build(*marks).using(alias)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = tuple(
            (position, marks.index(value))
            for position, value in enumerate(params)
            if isinstance(value, int | str)
            and not isinstance(value, bool)
            and value in marks
        )
        if {index for _p, index in slots} != set(range(self._arity)):
            msg = "each argument must appear as a plain SQL parameter"
            raise ValueError(msg)
        # The value converters of the selected columns (the same on every run).
        columns = [found[0] for found in compiler.select[: compiler.col_count]]
        converters = compiler.get_converters(columns)
        rows = _rows_of(queryset, compiler, alias)
        if _prepares(connections[alias]):
            # A server-side prepared statement: the constants written into the
            # text (as client-side binding sends them), so the server's generic
            # plan sees them; only the arguments stay parameters.
            sql, params, slots = _constants_inlined(
                connections[alias], sql, list(params), slots
            )
        return _Compiled(
            queryset, compiler, sql, tuple(params), slots, converters, rows
        )

    def all(self, *values: Any, using: str = "default") -> list[M]:
        compiled = self._entry(using)
        params = list(compiled.params)
        for position, index in compiled.slots:
            params[position] = self._kinds[index](values[index])
        sql, bound = compiled.sql, tuple(params)
        if compiled.rows is not None:
            return _instances(compiled, sql, bound, using)
        compiler = copy.copy(compiled.compiler)  # one per call: threads share none
        wrapper = connections[using]
        if _prepares(wrapper):
            compiler.connection = _Preparing(wrapper)  # type: ignore[assignment]
        compiler.as_sql = lambda *_a, **_k: (sql, bound)  # type: ignore[method-assign]
        converters = compiled.converters
        compiler.get_converters = lambda _e: converters  # type: ignore[method-assign,assignment]
        queryset = compiled.queryset.all()
        queryset.query.get_compiler = (  # type: ignore[method-assign]
            lambda *_a, **_k: compiler
        )
        return list(queryset)

    def get(self, *values: Any, using: str = "default") -> M:
        """The one row, as ``QuerySet.get`` (``DoesNotExist`` when there is none)."""
        rows = self.all(*values, using=using)
        if len(rows) != 1:
            model: Any = self._entry(using).queryset.model
            if not rows:
                raise model.DoesNotExist(
                    f"{model.__name__} matching query does not exist."
                )
            raise model.MultipleObjectsReturned(f"{len(rows)} {model.__name__} rows")
        return rows[0]


def _constants_inlined(
    wrapper: BaseDatabaseWrapper,
    sql: str,
    params: list[Any],
    slots: tuple[tuple[int, int], ...],
) -> tuple[str, list[Any], tuple[tuple[int, int], ...]]:
    """``sql`` with every parameter that is not an argument written in as a literal
    (psycopg's client-side quoting, what Django's client cursor sends), and the
    arguments' parameters and slots renumbered."""
    arguments = dict(slots)
    wrapper.ensure_connection()
    text: list[str] = []
    kept: list[Any] = []
    renumbered: list[tuple[int, int]] = []
    index = start = 0
    for found in re.finditer("%%|%s", sql):
        text.append(sql[start : found.start()])
        start = found.end()
        if found.group() == "%%":
            text.append("%%")
            continue
        if index in arguments:
            renumbered.append((len(kept), arguments[index]))
            kept.append(params[index])
            text.append("%s")
        else:
            literal = wrapper.ops.compose_sql("%s", [params[index]])  # type: ignore[attr-defined]
            text.append(literal.replace("%", "%%"))
        index += 1
    text.append(sql[start:])
    if index != len(params):  # pragma: no cover - Django's placeholders are %s
        msg = "the statement's placeholders do not match its parameters"
        raise ValueError(msg)
    return "".join(text), kept, tuple(renumbered)


def _rows_of(
    queryset: QuerySet[Any], compiler: SQLCompiler, alias: str
) -> _Rows | None:
    """``ModelIterable``'s layout of the rows (``None`` for a queryset it does not
    build plainly: values(), annotations, prefetching, known related objects)."""
    if (
        queryset._iterable_class is not ModelIterable
        or compiler.annotation_col_map
        or queryset._known_related_objects  # type: ignore[attr-defined]
        or queryset._prefetch_related_lookups  # type: ignore[attr-defined]
        or compiler.klass_info is None
    ):
        return None
    info = compiler.klass_info
    fields = info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    return _Rows(
        model=info["model"],
        start=start,
        end=end,
        init_list=tuple(f[0].target.attname for f in compiler.select[start:end]),
        # Django 5.2's signature (the stubs follow 6.x, which adds fetch_mode)
        populators=tuple(get_related_populators(info, compiler.select, alias)),  # type: ignore[call-arg]
    )


def _instances(
    compiled: _Compiled[M], sql: str, params: tuple[Any, ...], alias: str
) -> list[M]:
    """The rows of ``sql`` as ``ModelIterable`` builds them (``from_db`` and the
    ``select_related`` populators), without a queryset, a compiler copy or
    ``execute_sql`` on each call."""
    layout = compiled.rows
    assert layout is not None  # noqa: S101 - _rows_of said so
    with statement_cursor(connections[alias]) as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    if compiled.converters:
        fetched = list(compiled.compiler.apply_converters(fetched, compiled.converters))
    model, start, end = layout.model, layout.start, layout.end
    init_list = list(layout.init_list)
    found: list[M] = []
    for row in fetched:
        obj = model.from_db(alias, init_list, row[start:end])
        for populator in layout.populators:
            populator.populate(row, obj)
        found.append(obj)  # type: ignore[arg-type]
    return found


# --- server-side prepared statements (PostgreSQL) ------------------------------------


def _prepares(wrapper: BaseDatabaseWrapper) -> bool:
    """PostgreSQL with psycopg 3 and ``prepare_threshold`` set (settings:
    ``SOGLA_DATABASE_PREPARED``)."""
    if wrapper.vendor != "postgresql":
        return False
    return wrapper.settings_dict.get("OPTIONS", {}).get("prepare_threshold") is not None


def statement_cursor(wrapper: BaseDatabaseWrapper) -> Any:
    """``wrapper.cursor()``; on PostgreSQL with prepared statements on, a cursor
    whose statements are prepared on the server the first time this connection
    runs them (server-side binding: ``$1`` parameters, typed by psycopg). The
    cursor is wrapped as Django wraps its own, so the statements are counted and
    logged (with their values, as a client cursor's are)."""
    if not _prepares(wrapper):
        return wrapper.cursor()
    wrapper.close_if_health_check_failed()
    wrapper.ensure_connection()
    with wrapper.wrap_database_errors:
        raw = _preparing_cursor_class()(wrapper.connection)
        raw.logged = wrapper.queries_logged
        return wrapper._prepare_cursor(raw)  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=512)
def _converted(query: bytes, encoding: str) -> Any:
    """psycopg's conversion of a statement to PostgreSQL's placeholders
    (``%s`` to ``$1``..), remembered whatever the statement's length: psycopg
    remembers only those under 4 KB and 50 parameters, and a decision's
    compare-and-set with its rows, or its audit events, is longer (converting it
    again cost about 6 % of a decision's CPU). These statements come in few
    shapes (one per number of rows)."""
    from psycopg._queries import _query2pg_nocache

    return _query2pg_nocache(query, encoding)


@functools.cache
def _preparing_cursor_class() -> type:
    """psycopg's server-binding cursor, preparing what it executes (made on first
    use: psycopg is imported only on PostgreSQL)."""
    import psycopg
    from psycopg._queries import PostgresClientQuery, PostgresQuery

    class StatementQuery(PostgresQuery):
        """psycopg's query with its conversion remembered (``_converted``)."""

        def convert(self, query: Any, vars: Any) -> None:
            if vars is None or not isinstance(query, str | bytes):
                super().convert(query, vars)
                return
            self.query, self._want_formats, self._order, self._parts = _converted(
                self._ensure_bytes(query), self._tx.encoding
            )
            self.dump(vars)

    class PreparingCursor(psycopg.Cursor[Any]):
        _query_cls = StatementQuery

        def execute(
            self, query: Any, params: Any = None, **kwargs: Any
        ) -> PreparingCursor:
            kwargs.setdefault("prepare", True)
            super().execute(query, params, **kwargs)
            return self

        logged = False  # Django logs this cursor's statements (a debug cursor)

        def _convert_query(self, query: Any, params: Any = None) -> Any:
            pgq = super()._convert_query(query, params)
            if self.logged:
                # what Django's log shows (``last_executed_query`` reads it): the
                # text with the values written in, as a client cursor's
                text = PostgresClientQuery(self._tx)
                text.convert(query, params)
                self._query = text
            return pgq

    return PreparingCursor


class _Preparing:
    """The connection as a compiler of ``Prepared`` sees it: its cursors are
    ``statement_cursor``'s, everything else is the connection's."""

    def __init__(self, wrapper: BaseDatabaseWrapper) -> None:
        self._wrapper = wrapper

    def cursor(self) -> Any:
        return statement_cursor(self._wrapper)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapper, name)


# Django's own field classes whose ``get_db_prep_save`` hands a plain ``str`` or
# ``int`` (or None) to the driver unchanged, on every backend; for those values the
# call is skipped. Exact classes: a subclass may convert (its own ``get_prep_value``).
_PLAIN_CLASSES: frozenset[type[Field[Any, Any]]] = frozenset(
    {
        models.AutoField,
        models.BigAutoField,
        models.BigIntegerField,
        models.CharField,
        models.EmailField,
        models.IntegerField,
        models.PositiveBigIntegerField,
        models.PositiveIntegerField,
        models.PositiveSmallIntegerField,
        models.SlugField,
        models.SmallAutoField,
        models.SmallIntegerField,
        models.TextField,
    }
)
# By id(field), with the field itself (kept alive, so its id is never reused):
# cheaper than hashing a Field.
_plain_fields: dict[int, tuple[Field[Any, Any], bool]] = {}
_plain_values: dict[str, tuple[type, ...]] = {}


def passed_as_is(wrapper: BaseDatabaseWrapper) -> tuple[type, ...]:
    """The value types ``wrapper``'s operations hand to the driver unchanged for
    those fields: ``str``, and ``int`` unless the backend wraps integers (psycopg's
    ``Int4`` and friends on PostgreSQL)."""
    kinds = _plain_values.get(wrapper.vendor)
    if kinds is None:
        adapt = type(wrapper.ops).adapt_integerfield_value
        same = adapt is BaseDatabaseOperations.adapt_integerfield_value
        kinds = _plain_values[wrapper.vendor] = (str, int) if same else (str,)
    return kinds


def _is_plain(field: Field[Any, Any]) -> bool:
    found = _plain_fields.get(id(field))
    if found is not None:
        return found[1]
    target: Any = field
    if type(field) in (models.ForeignKey, models.OneToOneField):
        target = field.target_field  # type: ignore[attr-defined]
    plain = type(target) in _PLAIN_CLASSES
    _plain_fields[id(field)] = (field, plain)
    return plain


def db_value(
    field: Field[Any, Any],
    value: Any,
    wrapper: BaseDatabaseWrapper,
    as_is: tuple[type, ...],
) -> Any:
    """``field.get_db_prep_save(value, wrapper)``, without the call for a plain
    ``str`` or ``int`` (or None) going to a text or integer column (or a foreign
    key to one), where it returns the value as it is (integers only where the
    backend does not wrap them). A subclass of ``str`` or ``int`` (a choices
    enum, a bool) still goes through the field. ``as_is``: ``passed_as_is(wrapper)``."""
    if (value is None or type(value) in as_is) and _is_plain(field):
        return value
    return field.get_db_prep_save(value, wrapper)


def insert_rows(rows: Sequence[Model], *, ignore_conflicts: bool = False) -> None:
    """``bulk_create(rows)`` for new rows of one model, as one plain ``INSERT ...
    VALUES (..), (..) RETURNING id``: each field's ``pre_save`` and
    ``get_db_prep_save`` give the values as the ORM's would (``db_value``), and
    the rows get their ids. Falls back to ``bulk_create`` where the database cannot
    return them. ``ignore_conflicts`` is ``bulk_create(ignore_conflicts=True)``:
    a row that would break a unique constraint is left out, and no row gets its
    id."""
    if not rows:
        return
    model = type(rows[0])
    wrapper = db()
    if not wrapper.features.can_return_rows_from_bulk_insert:  # pragma: no cover
        model._default_manager.bulk_create(rows, ignore_conflicts=ignore_conflicts)
        return
    sql, fields = _insert_sql(wrapper, model, len(rows), ignore_conflicts)
    params = _insert_params(wrapper, rows, fields)
    with statement_cursor(wrapper) as cursor:
        cursor.execute(sql, params)
        if ignore_conflicts:
            return
        ids = [found[0] for found in cursor.fetchall()]
    for obj, pk in zip(rows, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = wrapper.alias


# INSERT texts of insert_rows by database, model, number of rows, conflicts and
# RETURNING.
_inserts: dict[tuple[str, type[Model], int, bool, bool], tuple[str, list[Any]]] = {}
_INSERTS_KEPT = 256


def _insert_sql(
    wrapper: BaseDatabaseWrapper,
    model: type[Model],
    count: int,
    ignore_conflicts: bool,
    returning: bool = True,
) -> tuple[str, list[Any]]:
    """The INSERT text of ``count`` rows and its fields, made once per shape."""
    key = (wrapper.vendor, model, count, ignore_conflicts, returning)
    found = _inserts.get(key)
    if found is None:
        if len(_inserts) >= _INSERTS_KEPT:
            _inserts.clear()
        found = _inserts[key] = _new_insert_sql(
            wrapper, model, count, ignore_conflicts, returning
        )
    return found


def _new_insert_sql(
    wrapper: BaseDatabaseWrapper,
    model: type[Model],
    count: int,
    ignore_conflicts: bool,
    returning: bool,
) -> tuple[str, list[Any]]:
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.primary_key]
    quote = wrapper.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    sql = (
        f"{wrapper.ops.insert_statement(on_conflict=on_conflict)} "
        f"{quote(opts.db_table)} "
        f"({', '.join(quote(f.column or f.attname) for f in fields)}) "
        f"VALUES {', '.join([row] * count)}"
    )
    if ignore_conflicts:
        sql += " " + (
            wrapper.ops.on_conflict_suffix_sql(fields, on_conflict, None, None) or ""
        )
    elif returning:
        sql += f" RETURNING {quote(opts.pk.column or 'id')}"
    return sql.rstrip(), fields


def insert_rows_sql(
    wrapper: BaseDatabaseWrapper, rows: Sequence[Model], *, ignore_conflicts: bool
) -> tuple[str, list[Any]]:
    """The text and parameters of ``insert_rows(rows)`` without ``RETURNING``: for
    rows whose ids nobody reads, written by another statement (``insert_rows_after``'s
    ``riders``)."""
    model = type(rows[0])
    sql, fields = _insert_sql(wrapper, model, len(rows), ignore_conflicts, False)
    return sql, _insert_params(wrapper, rows, fields)


_casts: dict[tuple[str, type[Model]], str] = {}


def _values_row(
    wrapper: BaseDatabaseWrapper, model: type[Model], fields: Sequence[Field[Any, Any]]
) -> str:
    """One row of a PostgreSQL ``VALUES`` list whose placeholders carry their
    column's type (``%s::bigint``), as an INSERT's own VALUES would infer it.
    Lengths are left out (``varchar``, not ``varchar(300)``): a cast would cut a
    long value silently, the column refuses it."""
    key = (wrapper.vendor, model)
    found = _casts.get(key)
    if found is None:
        casts = [re.sub(r"\(\d+\)$", "", f.db_type(wrapper) or "") for f in fields]
        found = _casts[key] = "(" + ", ".join(f"%s::{c}" for c in casts) + ")"
    return found


def insert_rows_after(
    rows: Sequence[Model],
    first: str,
    first_params: list[Any],
    *,
    riders: Sequence[tuple[str, list[Any]]] = (),
) -> bool:
    """``insert_rows(rows)`` in one statement with ``first`` (an UPDATE without
    RETURNING) on PostgreSQL: ``WITH moved AS (<first> RETURNING 1) INSERT ...
    SELECT ... WHERE EXISTS (SELECT 1 FROM moved) RETURNING id``. The rows go in,
    and get their ids, only when ``first`` changed a row; returns whether it did
    (when not, none of them was written). One round trip instead of two; the
    statement sees one snapshot, and the UPDATE's row lock is taken before the
    INSERT. ``riders``: statements without ``RETURNING`` (``insert_rows_sql``) run
    by the same statement, as data-modifying ``WITH`` parts, whether or not
    ``first`` changed a row."""
    wrapper = db()
    if wrapper.vendor != "postgresql":  # pragma: no cover - the caller checks
        msg = "insert_rows_after is for PostgreSQL"
        raise ValueError(msg)
    model = type(rows[0])
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.primary_key]
    quote = wrapper.ops.quote_name
    row = _values_row(wrapper, model, fields)
    ridden = "".join(f"r{n} AS ({text}), " for n, (text, _) in enumerate(riders))
    sql = (
        f"WITH {ridden}moved AS ({first} RETURNING 1) "  # noqa: S608 - names from _meta
        f"INSERT INTO {quote(opts.db_table)} "
        f"({', '.join(quote(f.column or f.attname) for f in fields)}) "
        f"SELECT * FROM (VALUES {', '.join([row] * len(rows))}) AS v "
        "WHERE EXISTS (SELECT 1 FROM moved) "
        f"RETURNING {quote(opts.pk.column or 'id')}"
    )
    with statement_cursor(wrapper) as cursor:
        params = [value for _, values in riders for value in values]
        params += [*first_params, *_insert_params(wrapper, rows, fields)]
        cursor.execute(sql, params)
        ids = [found[0] for found in cursor.fetchall()]
    if not ids:
        return False
    for obj, pk in zip(rows, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = wrapper.alias
    return True


def _insert_params(
    wrapper: BaseDatabaseWrapper,
    rows: Sequence[Model],
    fields: Sequence[Field[Any, Any]],
) -> list[Any]:
    plain = [(f, _is_plain(f)) for f in fields]
    as_is = passed_as_is(wrapper)
    return [
        value
        if is_plain and (value is None or type(value) in as_is)
        else f.get_db_prep_save(value, wrapper)
        for obj in rows
        for f, is_plain in plain
        for value in (f.pre_save(obj, True),)
    ]


def insert_values(model: type[Model], rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """``insert_rows`` for rows given as column values by attname (``process_id``,
    not ``process``), without building model instances: a column not given takes
    the field's default, ``auto_now`` / ``auto_now_add`` the moment, as ``save``
    would. One ``INSERT ... RETURNING id``; returns the new ids in order."""
    if not rows:
        return []
    wrapper = db()
    sql, params = insert_values_sql(wrapper, model, rows)
    with statement_cursor(wrapper) as cursor:
        cursor.execute(sql, params)
        return [found[0] for found in cursor.fetchall()]


def insert_values_sql(
    wrapper: BaseDatabaseWrapper,
    model: type[Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    guard: str = "",
) -> tuple[str, list[Any]]:
    """The text and parameters of ``insert_values(model, rows)``. With ``guard``
    (PostgreSQL; a condition such as ``EXISTS (SELECT 1 FROM cas)``), the rows are
    ``SELECT``ed from a ``VALUES`` list whose placeholders carry their columns'
    types and go in only when the guard holds: the form a data-modifying ``WITH``
    takes, so that one statement writes several tables."""
    sql_one, layout, known = _layout(wrapper, model)
    for row in rows:
        if not known.issuperset(row):
            msg = f"{model.__name__} has no columns {sorted(set(row) - known)}"
            raise ValueError(msg)
    now = timezone.now()
    as_is = passed_as_is(wrapper)
    params: list[Any] = []
    for row in rows:
        for field, attname, plain, auto in layout:
            if auto == "datetime":
                value: Any = now
            elif auto == "date":
                value = datetime.date.today()  # noqa: DTZ011 - as DateField.pre_save
            elif attname in row:
                value = row[attname]
            else:
                value = field.get_default()
            if not (plain and (value is None or type(value) in as_is)):
                value = field.get_db_prep_save(value, wrapper)
            params.append(value)
    head, values, tail = sql_one
    if guard:
        typed = _values_row(wrapper, model, [f for f, *_ in layout])
        listed = ", ".join([typed] * len(rows))
        sql = f"{head} SELECT * FROM (VALUES {listed}) AS v WHERE {guard} {tail}"  # noqa: S608
    else:
        sql = f"{head} VALUES {', '.join([values] * len(rows))} {tail}"
    return sql, params


_Layout = tuple[
    tuple[str, str, str],  # INSERT INTO t (columns), one row's "(%s, ...)", RETURNING
    tuple[tuple[Field[Any, Any], str, bool, str], ...],  # field, attname, plain, auto
    frozenset[str],  # the attnames
]
_layouts: dict[tuple[str, type[Model]], _Layout] = {}


def _layout(wrapper: BaseDatabaseWrapper, model: type[Model]) -> _Layout:
    key = (wrapper.vendor, model)
    found = _layouts.get(key)
    if found is not None:
        return found
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.primary_key]
    quote = wrapper.ops.quote_name
    head = (
        f"INSERT INTO {quote(opts.db_table)} "
        f"({', '.join(quote(f.column or f.attname) for f in fields)})"
    )
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    tail = f"RETURNING {quote(opts.pk.column or 'id')}"

    def auto(field: Field[Any, Any]) -> str:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return "datetime" if isinstance(field, models.DateTimeField) else "date"
        return ""

    layout = tuple((f, f.attname, _is_plain(f), auto(f)) for f in fields)
    found = _layouts[key] = (
        (head, one, tail),
        layout,
        frozenset(f.attname for f in fields),
    )
    return found

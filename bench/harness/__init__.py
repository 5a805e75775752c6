"""What the benchmarks share: one child process per database, loopback only, bounded.

A benchmark script runs itself again as a child (``--child sqlite|postgresql``) with a
fresh database: a temporary SQLite file (WAL), or a PostgreSQL database created for the
run and dropped at the end. ``run_databases`` does that for the databases asked for
and returns the worst exit code. (A folder, not a ``bench/*.py`` file, so that
``make bench`` does not run it.)
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
LOOPBACK = {"127.0.0.1", "localhost", "::1", ""}

ChildCommand = Callable[[str], list[str]]


def base_env(data_dir: str, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sogla.settings.base",
        "SOGLA_DATA_DIR": data_dir,
        "SOGLA_DATABASE_URL": database_url,
        "SOGLA_SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "SOGLA_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }


def run_child(
    command: list[str], vendor: str, env: dict[str, str], timeout: float
) -> int:
    """Run the child in its own session, so a timeout also ends what it started."""
    proc = subprocess.Popen(command, env=env, start_new_session=True)  # noqa: S603
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        print(f"{vendor}: stopped after {timeout} s (--timeout)", flush=True)
        return 1


def run_sqlite(child: ChildCommand, timeout: float, prefix: str) -> int:
    data_dir = tempfile.mkdtemp(prefix=prefix)
    try:
        url = f"sqlite:///{data_dir}/bench.sqlite3"
        return run_child(child("sqlite"), "sqlite", base_env(data_dir, url), timeout)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def database_name(name: str) -> str:
    """``name`` with its leading ``sogla_bench`` replaced by
    ``SOGLA_BENCH_DATABASE_PREFIX`` when set, so that two people (or a test) running
    benchmarks against one PostgreSQL server use databases of their own."""
    prefix = os.environ.get("SOGLA_BENCH_DATABASE_PREFIX") or "sogla_bench"
    return prefix + name.removeprefix("sogla_bench")


def run_postgres(
    child: ChildCommand, timeout: float, prefix: str, database: str
) -> int:
    import psycopg

    database = database_name(database)
    url = os.environ.get("SOGLA_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES
    parts = urlsplit(url)
    if (parts.hostname or "") not in LOOPBACK:
        print(f"PostgreSQL: {parts.hostname} is not a loopback address: skipped.")
        return 0
    try:
        admin = psycopg.connect(url, connect_timeout=3, autocommit=True)
    except psycopg.Error:
        print(f"PostgreSQL does not answer at {url}: skipped.")
        return 0
    bench_url = urlunsplit(parts._replace(path=f"/{database}"))
    data_dir = tempfile.mkdtemp(prefix=prefix)
    try:
        admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {database}")
        env = base_env(data_dir, bench_url)
        return run_child(child("postgresql"), "postgresql", env, timeout)
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def run_databases(
    child: ChildCommand,
    *,
    only: str | None,
    timeout: float,
    prefix: str,
    database: str,
) -> int:
    """SQLite, then PostgreSQL when it answers on loopback (``only`` picks one)."""
    codes = []
    if only in (None, "sqlite"):
        codes.append(run_sqlite(child, timeout, prefix))
    if only in (None, "postgres"):
        codes.append(run_postgres(child, timeout, prefix, database))
    return max(codes, default=0)


def contract_type(org: Any, fields: tuple[tuple[str, str], ...]) -> Any:
    """A contract document type with the four usual statuses and these required
    fields (key, kind); call after ``django.setup()``."""
    from sogla.documents.models import DocumentType, FieldDef, StatusDef, StatusMeaning

    doc_type = DocumentType.objects.create(
        organisation=org,
        key="contract",
        name_ru="Договор",
        name_en="Contract",
        prefix="D",
        title_template="{type} {number} {subject}",
    )
    meanings = [
        ("draft", StatusMeaning.DRAFT),
        ("on_approval", StatusMeaning.ACTIVE),
        ("approved", StatusMeaning.SUCCESS),
        ("rejected", StatusMeaning.FAILURE),
    ]
    for order, (key, meaning) in enumerate(meanings):
        StatusDef.objects.create(
            organisation=org,
            doc_type=doc_type,
            key=key,
            name_ru=key,
            name_en=key,
            meaning=meaning,
            token="neutral",  # noqa: S106 - a colour token, not a secret
            is_initial=order == 0,
            order=order,
        )
    for order, (key, kind) in enumerate(fields):
        FieldDef.objects.create(
            organisation=org,
            doc_type=doc_type,
            key=key,
            label_ru=key,
            label_en=key,
            kind=kind,
            required=True,
            order=order,
        )
    return doc_type


@dataclass
class Tenant:
    """The organisation both benchmarks start from (see ``build_world``)."""

    organisation: Any
    admin: Any
    initiator: Any
    doc_type: Any
    people: dict[str, Any]  # every user above, by username


def build_world(
    usernames: Sequence[str],
    fields: tuple[tuple[str, str], ...],
    *,
    in_sales: bool = False,
) -> Tenant:
    """One organisation "Bench": an administrator, a manager, an initiator in the
    sales department reporting to the manager, one user per name in ``usernames``
    (also in sales under the manager with ``in_sales``) and a contract type with
    ``fields`` (``contract_type``); call after ``django.setup()``."""
    from sogla.orgs.models import Department, Organisation, User

    org = Organisation.objects.create(name="Bench", slug="bench")
    department = Department.objects.create(organisation=org, name="Sales", code="sales")

    def user(username: str, **extra: Any) -> User:
        return User.objects.create(
            organisation=org,
            username=username,
            first_name=username.capitalize(),
            last_name="Bench",
            email=f"{username}@example.test",
            **extra,
        )

    admin = user("admin", is_staff=True)
    manager = user("manager", department=department)
    initiator = user("initiator", department=department, manager=manager)
    sales = {"department": department, "manager": manager} if in_sales else {}
    others = [user(name, **sales) for name in usernames]
    return Tenant(
        organisation=org,
        admin=admin,
        initiator=initiator,
        doc_type=contract_type(org, fields),
        people={u.username: u for u in (admin, manager, initiator, *others)},
    )

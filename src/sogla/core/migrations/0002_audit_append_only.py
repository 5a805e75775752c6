"""Database triggers that refuse changes to audit events (rule I6).

PostgreSQL: UPDATE and DELETE are refused row by row. Removing a whole organisation
(its events included) is possible only deliberately, in a transaction that first runs
``SET LOCAL sogla.audit_purge = 'on'``. TRUNCATE (the test suite's flush) is not a
row operation and is not affected.

SQLite: UPDATE is refused. There is no DELETE trigger, because SQLite has no TRUNCATE:
Django empties tables with DELETE (the test suite's flush after transactional tests),
which such a trigger would break. A deleted event still breaks the chain, and
``sogla audit verify`` reports it.

Note for later migrations: when SQLite rebuilds a table to alter it, its triggers are
dropped. A migration that alters core_auditevent must create the trigger again
(tests/core/test_audit_append_only.py fails otherwise).
"""

from django.db import migrations

PG_CREATE = """
CREATE OR REPLACE FUNCTION core_auditevent_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('sogla.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = 'audit events are append-only: ' || TG_OP || ' refused',
        ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER core_auditevent_append_only
    BEFORE UPDATE OR DELETE ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION core_auditevent_refuse_change();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent;
DROP FUNCTION IF EXISTS core_auditevent_refuse_change();
"""
SQLITE_CREATE = """
CREATE TRIGGER core_auditevent_no_update BEFORE UPDATE ON core_auditevent
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused');
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS core_auditevent_no_update;"


def _run(apps, schema_editor, *, create):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE if create else PG_DROP)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE if create else SQLITE_DROP)


def forwards(apps, schema_editor):
    _run(apps, schema_editor, create=True)


def backwards(apps, schema_editor):
    _run(apps, schema_editor, create=False)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]

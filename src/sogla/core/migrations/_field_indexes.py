"""Dropping a foreign key's own index in a migration, on every database.

Django's ``AlterField(db_index=False)`` rebuilds the whole table on SQLite (a copy of
every row, and the audit log's refusing triggers would go with the old table).
``unindexed`` drops only the index Django made for the field and records the
change in the migration state; reversed, it creates the index again.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models


def unindexed(
    app_label: str, model_name: str, name: str, field: models.Field[Any, Any]
) -> migrations.SeparateDatabaseAndState:
    """``AlterField(model_name, name, field)`` for a ``field`` that differs from
    the current one only by ``db_index=False``."""

    def table_and_field(apps: Any) -> tuple[Any, Any]:
        model = apps.get_model(app_label, model_name)
        return model, model._meta.get_field(name)

    def drop(apps: Any, schema_editor: Any) -> None:
        model, column = table_and_field(apps)
        index = schema_editor._create_index_name(
            model._meta.db_table, [column.column], suffix=""
        )
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index)}")

    def create(apps: Any, schema_editor: Any) -> None:
        model, column = table_and_field(apps)
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[column]))

    return migrations.SeparateDatabaseAndState(
        database_operations=[migrations.RunPython(drop, create)],
        state_operations=[migrations.AlterField(model_name, name, field)],
    )

"""One audit chain per document besides the organisation's own (docs/audit.md).

Events gain ``chain`` ("" for the organisation's chain, "document:<id>" for a
document's) and ``seq`` becomes unique within the chain. Chain heads are keyed by
(organisation, chain) and remember how far the worker anchored them.

Existing events are not rewritten: they stay, hashes and all, in their
organisation's chain (``chain`` ""), whose hash is unchanged, and each organisation's
head moves to the new table as the head of that chain. New events of a document
start the document's own chain. ``sogla audit verify`` therefore passes on an
upgraded database exactly when it passed before.

SQLite rebuilds ``core_auditevent`` for the new unique constraint, which drops its
UPDATE trigger (migration 0002): it is created again at the end.
"""

from django.db import migrations, models
import django.db.models.deletion

SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS core_auditevent_no_update BEFORE UPDATE ON core_auditevent
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused');
END;
"""


def copy_heads(apps, schema_editor):
    old = apps.get_model("core", "AuditChainHead")
    new = apps.get_model("core", "AuditChainHeadByChain")
    new.objects.bulk_create(
        new(
            organisation_id=head.organisation_id,
            chain="",
            last_seq=head.last_seq,
            last_hash=head.last_hash,
            anchored_seq=0,
        )
        for head in old.objects.all()
    )
    if schema_editor.connection.vendor == "postgresql":
        # Run the deferred foreign-key checks now: PostgreSQL refuses to rename a
        # table with pending trigger events.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def copy_heads_back(apps, schema_editor):
    new = apps.get_model("core", "AuditChainHeadByChain")
    if new.objects.exclude(chain="").exists():
        raise RuntimeError(
            "documents have audit chains of their own: this migration cannot be "
            "reversed without losing them"
        )
    old = apps.get_model("core", "AuditChainHead")
    old.objects.bulk_create(
        old(
            organisation_id=head.organisation_id,
            last_seq=head.last_seq,
            last_hash=head.last_hash,
        )
        for head in new.objects.all()
    )


def sqlite_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_audit_append_only"),
        ("orgs", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="auditevent", name="audit_event_seq_unique"
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain",
            field=models.CharField(blank=True, db_default="", default="", max_length=40),
        ),
        migrations.AlterModelOptions(
            name="auditevent", options={"ordering": ["organisation_id", "chain", "seq"]}
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                fields=("organisation", "chain", "seq"),
                name="audit_event_chain_seq_unique",
            ),
        ),
        migrations.CreateModel(
            name="AuditChainHeadByChain",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("chain", models.CharField(blank=True, default="", max_length=40)),
                ("last_seq", models.PositiveBigIntegerField(default=0)),
                ("last_hash", models.CharField(max_length=64)),
                ("anchored_seq", models.PositiveBigIntegerField(default=0)),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="orgs.organisation",
                    ),
                ),
            ],
        ),
        migrations.RunPython(copy_heads, copy_heads_back),
        migrations.DeleteModel(name="AuditChainHead"),
        migrations.RenameModel(old_name="AuditChainHeadByChain", new_name="AuditChainHead"),
        migrations.AddConstraint(
            model_name="auditchainhead",
            constraint=models.UniqueConstraint(
                fields=("organisation", "chain"), name="audit_chain_head_unique"
            ),
        ),
        migrations.RunPython(sqlite_trigger, migrations.RunPython.noop),
    ]

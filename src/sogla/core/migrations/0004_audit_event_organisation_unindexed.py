"""The audit log's organisation index goes: the chain's unique (organisation, chain,
seq) index starts with it, and each event wrote both."""

import django.db.models.deletion
from django.db import migrations, models

from sogla.core.migrations._field_indexes import unindexed


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_audit_document_chains"),
        ("orgs", "0007_names_in_english"),
    ]

    operations = [
        unindexed(
            "core",
            "auditevent",
            "organisation",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="orgs.organisation",
            ),
        ),
    ]

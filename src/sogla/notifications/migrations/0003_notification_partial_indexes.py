"""A notification's digest and original are indexed only where present: a new row
has neither, and wrote both indexes."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from sogla.core.migrations._field_indexes import unindexed


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0010_search_indexes"),
        ("notifications", "0002_delivery_and_inbox"),
        ("orgs", "0007_names_in_english"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        unindexed(
            "notifications",
            "notification",
            "digest",
            models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="digested",
                to="notifications.notification",
            ),
        ),
        unindexed(
            "notifications",
            "notification",
            "resent_from",
            models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="notifications.notification",
                verbose_name="resent from",
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("digest__isnull", False)),
                fields=["digest"],
                name="notification_digest",
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("resent_from__isnull", False)),
                fields=["resent_from"],
                name="notification_resent_from",
            ),
        ),
    ]

"""Fewer index pages per decision: the foreign keys of tasks, steps and stages lose
the single-column indexes that a composite one starting with the same column makes
redundant; who decided, when a task was decided and when a stage or an approval
finished are indexed only once they are known (the reports read ranges of them)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from sogla.core.migrations._field_indexes import unindexed


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0010_search_indexes"),
        ("orgs", "0007_names_in_english"),
        ("workflow", "0011_process_initiator_active"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="process",
            name="workflow_pr_organis_f4a6d7_idx",
        ),
        migrations.RemoveIndex(
            model_name="stagerun",
            name="workflow_st_organis_ff4657_idx",
        ),
        migrations.RemoveIndex(
            model_name="task",
            name="workflow_ta_organis_517e2c_idx",
        ),
        unindexed(
            "workflow",
            "stagerun",
            "organisation",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="orgs.organisation",
            ),
        ),
        unindexed(
            "workflow",
            "stagerun",
            "process",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="stage_runs",
                to="workflow.process",
            ),
        ),
        unindexed(
            "workflow",
            "steprun",
            "process",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="step_runs",
                to="workflow.process",
            ),
        ),
        unindexed(
            "workflow",
            "task",
            "assignee",
            models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="workflow_tasks",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        unindexed(
            "workflow",
            "task",
            "decided_by",
            models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        unindexed(
            "workflow",
            "task",
            "on_behalf_of",
            models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        unindexed(
            "workflow",
            "task",
            "process",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="tasks",
                to="workflow.process",
            ),
        ),
        migrations.AddIndex(
            model_name="process",
            index=models.Index(
                condition=models.Q(("finished_at__isnull", False)),
                fields=["organisation", "finished_at"],
                name="process_finished_at",
            ),
        ),
        migrations.AddIndex(
            model_name="stagerun",
            index=models.Index(
                condition=models.Q(("finished_at__isnull", False)),
                fields=["organisation", "finished_at"],
                name="stage_run_finished_at",
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("decided_at__isnull", False)),
                fields=["organisation", "decided_at"],
                name="task_decided_at",
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("decided_by__isnull", False)),
                fields=["decided_by"],
                name="task_decided_by",
            ),
        ),
    ]

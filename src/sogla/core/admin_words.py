"""Words of the administration that Django and the task backend do not say well
in Russian, given here so that ``makemessages`` puts them into Sogla's catalogue,
which is read before theirs (``LOCALE_PATHS``).

Django's Russian «Добавить %(name)s» gives «Добавить организация» (the name is in the
nominative); Sogla's translation puts the name after a colon. The task backend
(django-tasks-db) ships no Russian at all.
"""

from django.utils.translation import gettext_noop

ADMIN_WORDS = (
    gettext_noop("Add %(name)s"),
    gettext_noop("Add %s"),
    gettext_noop("Change %s"),
    gettext_noop("View %s"),
    gettext_noop("Select %s to change"),
    gettext_noop("Select %s to view"),
    gettext_noop("Add another %(verbose_name)s"),
)
TASK_BACKEND_WORDS = (
    gettext_noop("Task Result"),
    gettext_noop("Task Results"),
    gettext_noop("status"),
    gettext_noop("enqueued at"),
    gettext_noop("started at"),
    gettext_noop("finished at"),
    gettext_noop("args kwargs"),
    gettext_noop("priority"),
    gettext_noop("task path"),
    gettext_noop("worker id"),
    gettext_noop("queue name"),
    gettext_noop("backend name"),
    gettext_noop("run after"),
    gettext_noop("return value"),
    gettext_noop("exception class path"),
    gettext_noop("traceback"),
)

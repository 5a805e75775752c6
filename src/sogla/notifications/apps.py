from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "sogla.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from sogla.notifications.digests import DigestNotice
        from sogla.notifications.kinds import register
        from sogla.notifications.models import DIGEST_KIND

        register(DIGEST_KIND, DigestNotice())

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DiscussionConfig(AppConfig):
    name = "sogla.discussion"
    label = "discussion"
    verbose_name = _("Discussion")

    def ready(self) -> None:
        from sogla.discussion.notices import register_notices
        from sogla.discussion.selectors import message_talk
        from sogla.documents.services import register_talk_source

        register_notices()
        register_talk_source(message_talk)

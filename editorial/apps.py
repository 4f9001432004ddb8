from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EditorialConfig(AppConfig):
    name = "editorial"
    verbose_name = _("Editorial")

    def ready(self):
        from . import signals  # noqa: F401
        from . import proofreading  # noqa: F401  (adds proofreading to the demo stories)
        from . import deadline_demo  # noqa: F401  (adds review timings to the demo stories)
        from . import reprints  # noqa: F401  (makes the demo's stories of other outlets reprints)

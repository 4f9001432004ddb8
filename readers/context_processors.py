from django.conf import settings
from django.utils.functional import SimpleLazyObject


def site(request):
    """The site's name and its sections, for page titles, the masthead and navigation.

    The sections are read only by pages that print the navigation (not the admin).
    """
    from articles.models import Section

    return {
        "site_name": settings.NEWSROOM_SITE_NAME,
        # The meta description of pages with none of their own (the home page).
        "site_description": getattr(settings, "NEWSROOM_SITE_DESCRIPTION", "")
        or f"{settings.NEWSROOM_SITE_NAME}：最新新闻、各栏目报道与推荐阅读。",
        "nav_sections": SimpleLazyObject(Section.objects.in_order),
    }

from django.conf import settings


def site(request):
    """The site's name, for page titles and the masthead."""
    return {"site_name": settings.NEWSROOM_SITE_NAME}

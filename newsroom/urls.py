from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Newsroom")
admin.site.site_title = _("Newsroom admin")
admin.site.index_title = _("Newsroom desk")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("review/", include("editorial.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("readers.urls")),
]

if settings.NEWSROOM_SERVE_MEDIA or (settings.DEBUG and not settings.NEWSROOM_MEDIA_IN_OBJECT_STORAGE):
    # Readers' photos on a single server without a front web server (public renditions
    # only: readers.media); nginx or object storage (then MEDIA_URL is the bucket's
    # address) serves them on bigger sites.
    urlpatterns.append(path(f"{settings.MEDIA_URL.strip('/')}/", include("readers.media")))

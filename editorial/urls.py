from django.urls import path

from . import photos, views

app_name = "editorial"

urlpatterns = [
    path("photo/<str:token>/", photos.private_photo, name="photo"),
    path("<str:token>/", views.shared, name="shared"),
]

from django.urls import path

from . import outside_review_views, photos, views

app_name = "editorial"

urlpatterns = [
    path("photo/<str:token>/", photos.private_photo, name="photo"),
    path("outside/<str:token>/", outside_review_views.page, name="outside_review"),
    path("<str:token>/", views.shared, name="shared"),
]

from django.urls import path

from . import views

app_name = "articles"

urlpatterns = [
    path("", views.home, name="home"),
    path("stories/<int:pk>/", views.article_detail, name="detail"),
    path("stories/<int:pk>/<slug:slug>/", views.article_detail, name="detail_slug"),
    path("sections/<slug:slug>/", views.section_detail, name="section"),
    path("people/<int:pk>/", views.person_detail, name="person"),
]

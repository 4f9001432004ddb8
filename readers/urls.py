from django.urls import path

from . import feeds, views

app_name = "articles"

urlpatterns = [
    path("", views.home, name="home"),
    path("stories/<int:pk>/", views.article_detail, name="detail"),
    path("stories/<int:pk>/<slug:slug>/", views.article_detail, name="detail_slug"),
    path("sections/<slug:slug>/", views.section_detail, name="section"),
    path("tags/<str:slug>/", views.tag_detail, name="tag"),
    path("people/<int:pk>/", views.person_detail, name="person"),
    path("search/", views.search, name="search"),
    path("feeds/rss.xml", feeds.latest_rss, name="feed"),
    path("feeds/atom.xml", feeds.latest_atom, name="atom"),
    path("feeds/sections/<slug:slug>/rss.xml", feeds.section_rss, name="section_feed"),
    path("feeds/sections/<slug:slug>/atom.xml", feeds.section_atom, name="section_atom"),
    path("feeds/tags/<str:slug>/rss.xml", feeds.tag_rss, name="tag_feed"),
    path("feeds/tags/<str:slug>/atom.xml", feeds.tag_atom, name="tag_atom"),
]

"""The readers' site. Its pages keep the "articles" namespace (`articles:detail`...); the
robots file and the sitemaps keep their plain names (`robots`, `sitemap`...), as search
engines and templates know them. Every pattern here is declared in readers/pages.py."""

from django.urls import include, path

from . import feeds, most_read, sitemaps, topics, views

pages = [
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
    path("topics/<slug:slug>/", topics.topic_detail, name="topic"),
    path("feeds/topics/<slug:slug>/rss.xml", topics.topic_rss, name="topic_feed"),
    path("feeds/topics/<slug:slug>/atom.xml", topics.topic_atom, name="topic_atom"),
    path("reads/<int:pk>/", most_read.read_beacon, name="read"),
]

urlpatterns = [
    path("robots.txt", views.robots_txt, name="robots"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("sitemap.xml", sitemaps.index, name="sitemap"),
    path("sitemap-sections.xml", sitemaps.sections, name="sitemap_sections"),
    path("sitemap-stories-<int:block>.xml", sitemaps.stories, name="sitemap_stories"),
    path("sitemap-news.xml", sitemaps.news, name="news_sitemap"),
    path("", include((pages, "articles"))),
]

"""What readers' machines learn of a reprint (转载): the story's JSON-LD names the original it
is based on and the outlet it comes from, and feeds carry the source (RSS <source>, Atom
<source> and a rel="via" link to the original). Original stories get none of it, so their
pages and feed entries stay as they were."""

from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed

from articles.text import clean_text


def json_ld(article):
    """The schema.org properties a reprint adds to its NewsArticle (none for an original)."""
    if not article.is_reprint or not article.outlet_id:
        return {}
    source = {"@type": "NewsMediaOrganization", "name": article.outlet.name}
    if article.outlet.url:
        source["url"] = article.outlet.url
    original = {"@type": "NewsArticle", "headline": article.original_headline, "publisher": source}
    if article.original_url:
        original["url"] = article.original_url
    if article.original_author:
        original["author"] = {"@type": "Person", "name": article.original_author}
    if article.original_published_at:
        original["datePublished"] = article.original_published_at.isoformat()
    return {"isBasedOn": original, "sourceOrganization": source}


def feed_item_source(item):
    """The extra fields a feed entry of a reprint carries (Feed.item_extra_kwargs)."""
    if not item.is_reprint or not item.outlet_id:
        return {}
    return {
        "source_name": clean_text(item.outlet.name),
        "source_url": item.outlet.url or item.original_url,
        "original_url": item.original_url,
        "original_headline": clean_text(item.original_headline),
    }


class SourcedRssFeed(Rss201rev2Feed):
    """RSS 2.0 whose reprinted items carry <source url="…">outlet</source>."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("source_name") and item.get("source_url"):
            handler.addQuickElement("source", item["source_name"], {"url": item["source_url"]})


class SourcedAtomFeed(Atom1Feed):
    """Atom whose reprinted entries link to the original (rel="via") and name its feed's
    source in <source> (its title, home page and id)."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if not item.get("source_name"):
            return
        if item.get("original_url"):
            attrs = {"rel": "via", "href": item["original_url"]}
            if item.get("original_headline"):
                attrs["title"] = item["original_headline"]
            handler.addQuickElement("link", "", attrs)
        handler.startElement("source", {})
        if item.get("source_url"):
            handler.addQuickElement("id", item["source_url"])
            handler.addQuickElement("link", "", {"rel": "alternate", "href": item["source_url"]})
        handler.addQuickElement("title", item["source_name"])
        handler.endElement("source")

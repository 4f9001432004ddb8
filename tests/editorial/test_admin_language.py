"""The admin speaks Chinese wherever a newsroom person looks: the rich-text toolbar's
tooltips and aria-labels, Django's own pages, full-width punctuation inside Chinese text;
English stays complete when chosen. The header's language label is readable (WCAG AA)."""

import json
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from django.utils.translation import trans_real

from .conftest import change_form_data, story_in

HAN = re.compile(r"[\u4e00-\u9fff]")


def _editor_source():
    import django_prose_editor

    return (Path(django_prose_editor.__file__).parent / "static" / "django_prose_editor" / "editor.js").read_text()


def editor_words():
    """Every English word the rich-text editor puts on the page, read from its own code: its
    toolbar buttons' tooltips (also their aria-labels), its menu options, its dialogs."""
    source = _editor_source()
    words = set(re.findall(r'\.material\("[a-z_]*","([^"]+)"\)', source))  # toolbar buttons
    words |= set(re.findall(r'textContent:"([^"]+)"', source)) - {"title"}  # menu options ("title" is an icon)
    words |= set(re.findall(r'pX\("([^"]+)"\)', source))  # dialogs, through gettext
    if "`Heading ${" in source or "`heading ${" in source:
        words.add("Heading %s")
    return words


def js_catalog(client, language):
    client.cookies.load({"django_language": language})
    response = client.get(reverse("admin:jsi18n"))
    assert response.status_code == 200
    found = re.search(r"const newcatalog = (\{.*?\});\n", response.content.decode(), re.S)
    return json.loads(found.group(1)) if found else {}


def test_the_editor_words_are_found_in_its_code():
    """Guards the extraction: bold, insert link, undo and the list dialog are all there."""
    assert {"bold", "italic", "insert link", "undo", "List properties", "Paragraph", "Heading %s"} <= editor_words()


def test_every_word_of_the_rich_text_editor_is_chinese_in_the_admin(client, people):
    client.force_login(people["writer"])
    catalog = js_catalog(client, "zh-hans")
    untranslated = sorted(word for word in editor_words() if not HAN.search(str(catalog.get(word, ""))))
    assert untranslated == []
    assert catalog["bold"] == "粗体"
    assert catalog["insert link"] == "插入链接"


def test_the_editor_stays_english_when_english_is_chosen(client, people):
    client.force_login(people["writer"])
    catalog = js_catalog(client, "en")
    assert not any(HAN.search(str(catalog.get(word, ""))) for word in editor_words())


def test_the_change_page_puts_the_toolbar_through_the_catalog(client, people):
    """The editor names its buttons without asking gettext; the change page loads the
    catalog and the script that hands each button's title and aria-label to it."""
    article = story_in("draft", people)
    client.force_login(people["writer"])
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    catalog_at = page.index(reverse("admin:jsi18n"))
    script = re.search(r'<script src="([^"]*prose-editor-i18n[^"]*\.js)"', page)
    assert script and catalog_at < script.start() < page.index("django_prose_editor/editor.js")
    source = finders.find("editorial/prose-editor-i18n.js")
    text = Path(source).read_text()
    assert "aria-label" in text and "title" in text and "gettext" in text


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_a_browser_the_toolbar_tooltips_and_aria_labels_are_chinese(live_server, browser):
    """Debian's Chromium (the `browser` fixture of tests/conftest.py); skipped when it is missing."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from articles.models import Article
    from editorial.roles import GROUP_NAMES, REPORTER

    user = get_user_model().objects.create_user("toolbar", password="toolbar-pass-1", is_staff=True, first_name="工具栏")
    user.groups.add(Group.objects.get(name=GROUP_NAMES[REPORTER]))
    article = Article.objects.create(headline="工具栏测试", body="<p>正文。</p>", created_by=user)
    page = browser.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "toolbar")
    page.fill("#id_password", "toolbar-pass-1")
    page.click("input[type=submit]")
    page.wait_for_selector("#content")

    def labels():
        page.goto(f"{live_server.url}/admin/articles/article/{article.pk}/change/")
        page.wait_for_selector(".prose-menubar__button[title]")
        return page.eval_on_selector_all(
            ".prose-menubar__button",
            "buttons => buttons.map(b => [b.getAttribute('title') || '', b.getAttribute('aria-label') || ''])",
        )

    chinese = labels()
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    english = labels()
    assert chinese and all(HAN.search(title) and HAN.search(aria) for title, aria in chinese), chinese
    assert ["粗体", "粗体"] in [list(pair) for pair in chinese]
    assert ["bold", "bold"] in [list(pair) for pair in english]
    assert not any(HAN.search(title + aria) for title, aria in english)


def test_the_add_user_page_is_chinese_and_english_when_chosen(client, people):
    chief = people["chief"]
    chief.is_superuser = True
    chief.save()
    client.force_login(chief)
    page = client.get(reverse("admin:auth_user_add")).content.decode()
    assert "After you’ve created a user" not in page
    assert "创建用户之后，你可以再编辑用户的其他选项。" in page
    for english in ["Model name", "Change or view list link", "Access attempts", "Task Results", "Pending CDN purges"]:
        assert f">{english}<" not in page
    client.cookies.load({"django_language": "en"})
    page = client.get(reverse("admin:auth_user_add")).content.decode()
    assert "After you’ve created a user, you’ll be able to edit more user options." in page


# --- Full-width punctuation in Chinese text -----------------------------------------------

# Not prose: the `yesno` filter's format ("是,否,也许" is split on its commas).
NOT_PROSE = {"yes,no,maybe"}
# What is left as it is inside Chinese text: placeholders, quoted characters (“@”、“.”),
# code (get_absolute_url()), formats ([:ss[.uuuuuu]], HH:MM) and file endings (.jpg).
KEEP = re.compile(r"%\(\w+\)[sdr]|%[sd]|“[^”]*”|\w+\(\)|\[[^\]]*\]|[A-Za-z0-9]+:[A-Za-z0-9]+|(?<![\w])\.[a-z]{2,4}\b")
NEXT_TO_CHINESE = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")


def ascii_punctuation_in_chinese(text):
    """The ASCII punctuation marks in `text` that should be full-width, with their place."""
    if not HAN.search(text):
        return []
    bare = KEEP.sub("x", text)
    found = [m.group(0) for m in re.finditer(r"[()]", bare)]  # brackets: full-width in Chinese, always
    found += [m.group(0) for m in re.finditer(r"\.\.\.|\.\s|\.$", bare)]  # sentence ends, ellipses
    for m in re.finditer(r"[,:;!?]", bare):
        around = bare[max(0, m.start() - 2) : m.end() + 2].replace(" ", "")
        if NEXT_TO_CHINESE.search(around) or m.end() == len(bare):
            found.append(bare[max(0, m.start() - 4) : m.end() + 4])
    return found


def test_the_punctuation_rule_catches_what_the_desk_saw():
    assert ascii_punctuation_in_chinese("您可以在下面再次编辑它.")
    assert ascii_punctuation_in_chinese("王记者 (01:52). 如果你们都保存")
    assert ascii_punctuation_in_chinese("理由(必填)")
    assert ascii_punctuation_in_chinese("请输入合法的用户名。只能包含特殊字符“@”、“.”和“_”。") == []
    assert ascii_punctuation_in_chinese("请按 YYYY-MM-DD HH:MM 填写发布时间。") == []


def test_no_chinese_message_of_the_admin_uses_ascii_punctuation():
    """Every message the admin can show in Chinese: the project's catalogs and the Chinese
    catalogs of Django and the installed apps, as merged for zh-hans."""
    catalog = trans_real.translation("zh-hans")._catalog
    offenders = {}
    for key in catalog.keys():
        msgid = key[0] if isinstance(key, tuple) else key
        if "\x04" in msgid:
            msgid = msgid.split("\x04", 1)[1]
        text = catalog[key]
        if msgid in NOT_PROSE or not isinstance(text, str):
            continue
        if ascii_punctuation_in_chinese(text):
            offenders[msgid] = text
    assert offenders == {}


def test_the_conflict_refusal_and_the_also_editing_notice_are_punctuated_the_chinese_way(people):
    article = story_in("first_review", people)
    first, second = Client(), Client()
    first.force_login(people["reviewer"])
    second.force_login(people["editor"])
    first.get(reverse("admin:articles_article_change", args=[article.pk]))
    page = second.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    notice = re.sub(r"<[^>]+>", "", page.split('class="others-editing"')[1].split("</div>")[0])
    notice = " ".join(notice.split())
    assert re.search(r"赵初审（\d\d:\d\d）。如果你们都保存，后保存的一方会被拒绝。", notice), notice
    assert ascii_punctuation_in_chinese(notice.split(">", 1)[1]) == []

    first.post(reverse("admin:articles_article_change", args=[article.pk]), change_form_data(article, body="<p>一</p>"))
    page = second.post(reverse("admin:articles_article_change", args=[article.pk]), change_form_data(article, body="<p>二</p>"))
    # The refusal begins "未保存：" (the autosave notice on the same page says 未保存的内容).
    message = re.sub(r"<[^>]+>", "", page.content.decode().split("未保存：")[1].split("</li>")[0])
    assert "保存了本稿" in message
    assert ascii_punctuation_in_chinese("未保存：" + message) == []


def test_the_also_editing_notice_is_punctuated_the_english_way_in_english(people):
    article = story_in("first_review", people)
    first, second = Client(), Client()
    first.force_login(people["reviewer"])
    second.force_login(people["editor"])
    second.cookies.load({"django_language": "en"})
    first.get(reverse("admin:articles_article_change", args=[article.pk]))
    page = second.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    notice = " ".join(re.sub(r"<[^>]+>", "", page.split('class="others-editing"')[1].split("</div>")[0]).split())
    assert re.search(r"by: 赵初审 \(\d\d:\d\d\)\. If you both save, the later save is refused\.", notice), notice


def test_the_admin_success_message_ends_with_a_chinese_full_stop(client, people):
    from articles.models import Article

    client.force_login(people["writer"])
    data = change_form_data(Article(headline="新稿件", body="<p>正文。</p>"), _continue="1", base_version="")
    response = client.post(reverse("admin:articles_article_add"), data, follow=True)
    assert response.redirect_chain, response.content.decode()[:3000]
    page = response.content.decode()
    assert "您可以在下面再次编辑它。" in page
    assert "您可以在下面再次编辑它." not in page


# --- The header's language label: WCAG AA contrast ------------------------------------------

def _css(path):
    found = finders.find(path)
    assert found, path
    return Path(found).read_text()


def _variables(css):
    """The CSS custom properties a stylesheet sets on :root."""
    values = {}
    for block in re.findall(r":root\s*\{([^}]*)\}", css):
        values.update(re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", block))
    return values


def _resolve(value, variables):
    value = value.strip()
    while (m := re.fullmatch(r"var\((--[\w-]+)(?:,\s*([^)]+))?\)", value)):
        value = variables.get(m.group(1), m.group(2) or "").strip()
    return value


def _luminance(colour):
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    channels = [int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a, b):
    high, low = sorted([_luminance(a), _luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def _specificity(selector):
    return (selector.count("#"), selector.count(".") + selector.count("["), len(re.findall(r"(?:^|[\s>+~])[a-z]", selector)))


# Selectors that reach the label of the header's language switch:
# <div id="header"> … <div id="user-tools"> … <form class="language-switch"> <label>.
ANCESTORS = {"#header", "#user-tools", ".language-switch", "form", "form.language-switch", "div#header", "div"}


def _label_colour(stylesheets):
    """The colour the cascade gives the language label, from the page's stylesheets in order."""
    best = None
    for order, css in enumerate(stylesheets):
        css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
        css = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^}]*\})*[^{}]*\}", "", css)  # media-specific rules aside
        for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
            colour = re.search(r"(?:^|;)\s*color\s*:\s*([^;]+)", body)
            if not colour:
                continue
            for selector in selectors.split(","):
                parts = selector.strip().split()
                if parts and parts[-1] == "label" and all(p in ANCESTORS for p in parts[:-1]):
                    rank = (_specificity(selector.strip()), order)
                    if best is None or rank >= best[0]:
                        best = (rank, colour.group(1).strip())
    return best[1] if best else None


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_language_label_in_the_header_meets_wcag_aa(client, people, theme):
    article = story_in("draft", people)
    client.force_login(people["writer"])
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert 'class="language-switch"' in page
    hrefs = re.findall(r'<link rel="stylesheet" href="/static/([^"?]+)', page)
    assert "admin/css/forms.css" in hrefs  # the stylesheet that greys every label
    stylesheets = [_css(href) for href in hrefs]
    variables = _variables(_css("admin/css/base.css"))
    if theme == "dark":
        dark = re.search(r"@media \(prefers-color-scheme: dark\)\s*\{\s*:root\s*\{([^}]*)\}", _css("admin/css/dark_mode.css"))
        variables.update(re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", dark.group(1)))
    background = _resolve("var(--header-bg)", variables)
    text = _resolve(_label_colour(stylesheets), variables)
    assert contrast(text, background) >= 4.5, (text, background, contrast(text, background))

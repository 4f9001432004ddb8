"""The admin's labels leave no one hesitating: one list of the newsroom's byline roles, each
reason box named for its step, the 更正 box before a folded-away 撤稿 box on a live story,
and people named by their names, not their usernames."""

import re

from django.urls import reverse

from articles.models import Article, Person
from editorial.roles import RESPONSIBLE_EDITOR

from .conftest import change_form_data, make_user, story_in

NEWSROOM_ROLES = ["记者", "见习记者", "通讯员", "特约记者", "实习生", "摄影", "编辑"]


def change_page(client, article):
    return client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()


def options_of(page, name):
    select = re.search(rf'<select name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", label).strip() for label in re.findall(r"<option[^>]*>(.*?)</option>", select, re.S)]


def details_around(page, marker):
    """The <details> element holding `marker`, with its opening tag."""
    at = page.index(marker)
    start = page.rindex("<details", 0, at)
    return page[start : page.index("</details>", at)]


# --- byline roles --------------------------------------------------------------------------


def test_a_byline_offers_each_newsroom_role_once_by_its_chinese_name(client, people):
    article = story_in("draft", people)
    client.force_login(people["writer"])
    roles = [label for label in options_of(change_page(client, article), "bylines-__prefix__-role") if label != "---------"]
    assert roles == NEWSROOM_ROLES
    assert "记者/通讯员" not in roles


def test_a_trainee_and_a_special_correspondent_print_in_the_byline_after_the_dateline(client, people):
    article = story_in("draft", people)
    trainee, special = Person.objects.create(name="刘见习"), Person.objects.create(name="陈特约")
    client.force_login(people["writer"])
    data = change_form_data(article, dateline_place="济南", dateline_date="2018-05-15")
    data.update({
        "bylines-TOTAL_FORMS": "2",
        "bylines-0-person": trainee.pk, "bylines-0-role": "trainee_reporter", "bylines-0-position": "0",
        "bylines-1-person": special.pk, "bylines-1-role": "special_reporter", "bylines-1-position": "1",
    })
    assert client.post(reverse("admin:articles_article_change", args=[article.pk]), data).status_code == 302
    assert Article.objects.get(pk=article.pk).byline_text == "见习记者 刘见习 特约记者 陈特约"


# --- reason boxes and the withdrawal -------------------------------------------------------


def test_each_reason_box_names_the_step_it_is_for(client, people):
    article = story_in("scheduled", people)
    client.force_login(people["editor"])
    page = change_page(client, article)
    send_back = page[page.index('class="step step-send_back"'):]
    send_back = send_back[: send_back.index("</form>")]
    assert "退回理由" in send_back
    assert "撤稿理由" in details_around(page, 'class="step step-withdraw"')
    assert ">理由(必填)" not in page


def test_on_a_live_story_the_correction_box_comes_first_and_the_withdrawal_is_folded_away(client, people):
    article = story_in("published", people)
    client.force_login(people["editor"])
    page = change_page(client, article)
    withdrawal = details_around(page, 'class="step step-withdraw"')
    assert page.index('name="correction_note"') < page.index(withdrawal)
    assert not re.match(r"<details[^>]*\bopen\b", withdrawal)  # folded until its button is pressed
    assert 'name="reason"' in withdrawal

    action = re.search(r'<form method="post" action="([^"]+)" class="step step-withdraw"', withdrawal).group(1)
    assert client.post(action, {"reason": "消息来源有误"}).status_code == 302
    assert Article.objects.get(pk=article.pk).status == "withdrawn"


# --- names, not usernames ------------------------------------------------------------------


def test_the_story_list_names_its_writer_not_their_username(client, people):
    story_in("draft", people, headline="王记者的稿件")
    client.force_login(people["chief"])
    page = client.get(reverse("admin:articles_article_changelist")).content.decode()
    creator = re.search(r'<td class="field-creator">(.*?)</td>', page).group(1)
    assert creator == "王记者"

    Person.objects.create(name="王小明", user=people["writer"])  # the name printed on their bylines
    page = client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert re.search(r'<td class="field-creator">(.*?)</td>', page).group(1) == "王小明"


def test_versions_and_history_name_an_editor_by_the_person_standing_for_the_account(client, people):
    """An account with no full name is named as its person is printed, never by its username."""
    editor = make_user("zhangfan", RESPONSIBLE_EDITOR)
    editor.first_name = ""
    editor.save()
    Person.objects.create(name="张帆", user=editor)
    article = story_in("final_review", people)
    client.force_login(editor)
    change = reverse("admin:articles_article_change", args=[article.pk])
    assert client.post(change, change_form_data(article, headline="改过的标题")).status_code == 302
    client.post(reverse("admin:articles_article_step", args=[article.pk, "send_back"]), {"reason": "请核实数字"})

    client.force_login(people["chief"])
    versions = client.get(reverse("admin:articles_article_history", args=[article.pk])).content.decode()
    assert "<td>张帆</td>" in versions and "zhangfan" not in versions
    timeline = change_page(client, article).split('class="timeline module"')[1]
    assert "<strong>张帆</strong>" in timeline and "zhangfan" not in timeline

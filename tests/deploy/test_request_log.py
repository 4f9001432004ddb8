"""Every request has an id, echoed to the client and on every line logged while it runs; one
access line per request; LOG_FORMAT=json makes each line a JSON object."""

import io
import json
import logging
import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from newsroom.request_log import logging_config
from tests import factories

pytestmark = pytest.mark.django_db

NEW_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def log_format():
    """Switch the process's logging to a LOG_FORMAT for one test (stderr as captured by capsys)."""

    def apply(name):
        logging.config.dictConfig(logging_config(name, level="WARNING", access=True))

    # Put back the handlers themselves rather than configuring anew: new ones would write to this
    # test's captured stderr, closed once it ends, and a later test's log lines would be lost.
    known = logging.root.manager.loggerDict.values()
    loggers = [logging.root] + [each for each in known if isinstance(each, logging.Logger)]
    saved = [(each, each.handlers[:], each.filters[:], each.level, each.propagate, each.disabled) for each in loggers]
    yield apply
    for each, handlers, filters, level, propagate, disabled in saved:
        each.handlers[:], each.filters[:] = handlers, filters
        each.level, each.propagate, each.disabled = level, propagate, disabled


def test_a_well_formed_incoming_request_id_is_kept_and_echoed(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="a1b2c3d4e5f60718293a4b5c6d7e8f90")
    assert response["X-Request-ID"] == "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    assert client.get("/", HTTP_X_REQUEST_ID="lb-2026.11.27:0042")["X-Request-ID"] == "lb-2026.11.27:0042"


@pytest.mark.parametrize("incoming", [None, "", "short", "x" * 129, "evil id\nforged: line", "<script>1234567</script>"])
def test_a_missing_or_malformed_request_id_is_replaced_by_a_new_one(client, incoming):
    headers = {} if incoming is None else {"HTTP_X_REQUEST_ID": incoming}
    first = client.get("/", **headers)["X-Request-ID"]
    second = client.get("/", **headers)["X-Request-ID"]
    assert NEW_ID.match(first) and NEW_ID.match(second) and first != second


def test_json_lines_carry_the_request_id_on_every_line_of_a_request(client, capsys, log_format):
    log_format("json")
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="probe-0001-abcdef")
    assert response.status_code == 404
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    by_logger = {line["logger"]: line for line in lines}
    # Django logs the 404 after the middleware has answered; it still carries the id.
    assert by_logger["django.request"]["request_id"] == "probe-0001-abcdef"
    assert by_logger["django.request"]["level"] == "WARNING"
    access = by_logger["newsroom.access"]
    assert access["request_id"] == "probe-0001-abcdef"
    assert access["method"] == "GET" and access["path"] == "/no-such-page/" and access["status"] == 404
    assert access["duration_ms"] >= 0 and access["user_id"] is None
    assert {"time", "level", "logger", "message"} <= set(access)


def test_lines_outside_a_request_have_no_request_id(client, capsys, log_format):
    log_format("json")
    client.get("/healthz")
    logging.getLogger("newsroom.faults").warning("after the request")
    line = json.loads(capsys.readouterr().err.splitlines()[-1])
    assert line["message"] == "after the request" and line["request_id"] == "-"


def test_the_access_line_names_staff_by_user_id_and_readers_by_nothing(client, caplog):
    editor = factories.user()
    with caplog.at_level(logging.INFO, logger="newsroom.access"):
        client.get("/")
        client.force_login(editor)
        client.get("/admin/")
    reader_line, editor_line = [record for record in caplog.records if record.name == "newsroom.access"]
    assert reader_line.user_id is None and reader_line.status == 200
    assert editor_line.user_id == editor.pk and editor_line.path == "/admin/"
    assert f"user={editor.pk}" in editor_line.getMessage()


def test_pages_the_site_renders_for_itself_stay_out_of_the_readers_access_lines(client, caplog, settings):
    """Filling the read model renders every page through the site's own stack; those renders are
    logged at DEBUG, marked internal, so the access lines at INFO are the readers' alone."""
    settings.NEWSROOM_READ_MODEL = True
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 0
    story = factories.published_story()
    with caplog.at_level(logging.DEBUG, logger="newsroom.access"):
        call_command("build_read_model", stdout=io.StringIO())
        client.get("/")
    lines = [record for record in caplog.records if record.name == "newsroom.access"]
    rendered = [record for record in lines if record.internal]
    assert {record.path for record in rendered} >= {"/", story.get_absolute_url()}
    assert all(record.levelno == logging.DEBUG for record in rendered)
    assert rendered[0].getMessage().startswith("internal GET /")
    (reader,) = [record for record in lines if not record.internal]
    assert reader.levelno == logging.INFO and reader.path == "/"
    assert reader.getMessage().startswith("GET / 200 ")


def test_text_lines_stay_readable_and_carry_the_id(client, capsys, log_format):
    log_format("text")
    client.get("/no-such-page/", HTTP_X_REQUEST_ID="probe-0002-abcdef")
    err = capsys.readouterr().err
    assert "WARNING django.request [probe-0002-abcdef] Not Found: /no-such-page/" in err
    assert "INFO newsroom.access [probe-0002-abcdef] GET /no-such-page/ 404" in err
    assert not err.lstrip().startswith("{")


def test_an_unknown_log_format_is_refused_with_the_choices():
    with pytest.raises(ImproperlyConfigured, match="'text'.*'json'"):
        logging_config("xml")

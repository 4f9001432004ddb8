"""bench/search_bench.py: the statement timed alone per word, and the report it writes."""

import json

import pytest
from django.db import connection

from bench import search_bench
from tests import factories


@pytest.mark.django_db
def test_the_search_statement_is_timed_alone_for_each_word_with_its_matches(capsys):
    if connection.vendor != "postgresql":
        pytest.skip("the benchmark runs on PostgreSQL")
    factories.published_story(headline="量子通信产业", body="<p>布局量子通信。</p>")
    factories.published_story(headline="发展新闻", body="<p>推动发展。</p>")
    search_bench.explain(["量子通信", "发展", "没有的词"])
    out = json.loads(capsys.readouterr().out)
    assert out["量子通信"]["matches"] == 1
    assert out["发展"]["matches"] == 1
    assert out["没有的词"]["matches"] == 0
    for word in ("量子通信", "发展", "没有的词"):
        assert out[word]["execution_ms"] >= 0 and out[word]["planning_ms"] > 0
        assert out[word]["plan"]["Node Type"]
    assert out["_stories"] == 2
    assert any(index["method"] == "gin" for index in out["_indexes"])


def test_the_report_has_a_row_per_database_tree_and_word_class():
    figures = {"rps": 50.0, "p50_ms": 100.0, "p95_ms": 150.5, "p99_ms": 180.0, "errors": 0, "load": 1.0}
    statement = {"发展": {"matches": 1_000_000, "execution_ms": 4.2, "planning_ms": 2.1,
                        "plan": {"Node Type": "Limit", "Actual Rows": 11, "Actual Loops": 1, "Actual Total Time": 4.0,
                                 "Plans": [{"Node Type": "Index Scan", "Index Name": "article_live_pub_idx"}]}},
                 "钢城区": {"matches": 33_151, "execution_ms": 340.8, "planning_ms": 1.1,
                         "plan": {"Node Type": "Limit"}},
                 "量子通信": {"matches": 192, "execution_ms": 1.0, "planning_ms": 2.0,
                          "plan": {"Node Type": "Limit"}}}
    tree = {"path": ".", "indexes": [{"index": "gin_idx", "method": "gin", "mb": 967.2}], "statement": statement,
            "common": figures, "place": {**figures, "p95_ms": 2500.0}, "rare": {**figures, "p95_ms": 90.0}}
    run = {"started": "2026-12-03T06:00:00+00:00",
           "settings": {"workers": 5, "connections": 16, "duration_s": 10, "warmup_s": 2},
           "words": {"common": ["发展"], "place": ["钢城区"], "rare": ["量子通信"]},
           "databases": [{"database": "newsroom_bench_1m", "stories": 1_000_000,
                          "trees": {"baseline": {**tree, "path": "../newsroom-before"}, "this tree": tree}}]}
    text = search_bench.markdown(run)
    assert "| newsroom_bench_1m | 1,000,000 | baseline | common | 50 | 100 | 150.5 | 180 | 0 | 1 |" in text
    assert "| newsroom_bench_1m | 1,000,000 | this tree | place | 50 | 100 | 2500 | 180 | 0 | 1 |" in text
    assert "| newsroom_bench_1m | 1,000,000 | this tree | rare | 50 | 100 | 90 | 180 | 0 | 1 |" in text
    assert "Common: 发展. Place: 钢城区. Rare: 量子通信." in text
    assert "| newsroom_bench_1m | this tree | 钢城区 | 33,151 | 340.8 | 1.1 |" in text
    assert "Plan at newsroom_bench_1m, this tree, 钢城区:" in text
    assert "| newsroom_bench_1m | this tree | 发展 | 1,000,000 | 4.2 | 2.1 |" in text
    assert "  Index Scan on article_live_pub_idx" in text

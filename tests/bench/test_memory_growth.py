"""bench/run.py's memory check: exactly the requests asked for, growth per worker in % of its memory."""

import pytest

from bench import run


class FakeServer:
    """Two gunicorn workers whose memory grows by 1 MB and 3 MB a round (after the probe and the
    warm-up, the first two runs of wrk); the second may be restarted after some round."""

    port = 8400

    def __init__(self, runs, restart_after=None):
        self.runs = runs
        self.restart_after = restart_after

    def worker_rss_by_pid(self):
        rounds = max(0, len(self.runs) - 2)
        sizes = {101: 100.0 + rounds, 102: 200.0 + 3 * rounds}
        if self.restart_after is not None and rounds > self.restart_after:
            sizes[103] = sizes.pop(102)
        return sizes


@pytest.fixture
def runs(monkeypatch):
    """wrk replaced by a server answering 50 requests a second, whatever the duration asked."""
    calls = []

    def fake_wrk(base_url, paths, *, duration, connections, threads, cookie=""):
        calls.append(duration)
        return {"rps": 50.0, "requests": 50 * duration, "errors": 0}

    monkeypatch.setattr(run, "wrk", fake_wrk)
    monkeypatch.setattr(run.time, "sleep", lambda seconds: None)
    return calls


class Options:
    memory_requests = 10_000
    memory_server = "uncached"
    workers = 5
    connections = 8
    threads = 2


PREPARED = {"pages": {"story uncached": {"url": "/stories/1/", "urls": ["/stories/1/", "/stories/2/"]}}}


def test_the_requests_asked_for_are_served_in_rounds_and_growth_is_per_worker(runs):
    growth = run.memory_growth(FakeServer(runs), PREPARED, Options())
    assert 10_000 <= growth["requests"] < 10_000 + 50 * 2
    assert len(growth["rounds"]) == run.MEMORY_ROUNDS
    assert growth["before_mb"] == [100.0, 200.0]
    # 10 rounds: +10 MB of 100 (10%) and +30 MB of 200 (15%); the worst worker counts.
    assert growth["per_worker"] == {101: 0.1, 102: 0.15}
    assert growth["growth"] == 0.15
    assert growth["total_growth"] == pytest.approx(40 / 300, abs=1e-4)
    text = "\n".join(run.memory_lines(growth))
    assert "largest growth of a worker +15.0% of its memory" in text
    assert "100.0 → 110.0 MB (+10.0%)" in text


def test_a_restarted_worker_is_named_and_left_out(runs):
    growth = run.memory_growth(FakeServer(runs, restart_after=3), PREPARED, Options())
    assert growth["restarted"] == [102]
    assert growth["per_worker"] == {101: 0.1}
    assert "Restarted meanwhile, so left out: workers [102]" in "\n".join(run.memory_lines(growth))


def test_the_site_mix_spreads_over_more_stories_than_a_worker_caches_and_the_list_pages(runs, monkeypatch):
    stories = [f"/stories/{n}/" for n in range(1, 2001)]
    prepared = {"pages": {
        "story uncached": {"url": stories[0], "urls": stories},
        "home": {"url": "/"},
        "section p1": {"url": "/sections/local/"},
        "tag": {"url": "/tags/x/"},
        "search common": {"url": "/search/?q=x"},
        "feed": {},  # a page that was n/a is left out
    }}
    served = []
    real_wrk = run.wrk

    def recording_wrk(base_url, paths, **options):
        served.append(paths)
        return real_wrk(base_url, paths, **options)

    monkeypatch.setattr(run, "wrk", recording_wrk)

    class SiteOptions(Options):
        memory_server = "site"

    growth = run.memory_growth(FakeServer(runs), prepared, SiteOptions())
    paths = served[0]
    assert paths == stories[:run.MEMORY_SITE_STORIES] + ["/", "/sections/local/", "/tags/x/"]
    assert growth["server"] == "site" and growth["urls"] == len(paths)
    # The baseline is read once every worker has had the chance to fill its cache.
    assert growth["warm_up_requests"] == 4 * SiteOptions.workers * len(paths)
    assert f"requests to the site with its caches on, over {len(paths):,} URLs" in "\n".join(run.memory_lines(growth))
    # The uncached check keeps to the story pages.
    assert run.memory_paths(prepared, "uncached") == stories


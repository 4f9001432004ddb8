"""The two ways of telling a CDN that pages changed.

``http-purge`` (Varnish, nginx with a purge module, any cache speaking the same verbs):
to every cache server, ``PURGE <path>`` per page with the public ``Host``, and one
``BAN /`` carrying the keys in a ``Surrogate-Key`` header (space-separated).

``api`` (shaped like a commercial CDN's purge API): ``POST`` JSON to one endpoint with
``Authorization: Bearer <token>``: ``{"files": [absolute URLs]}`` and ``{"tags": [keys]}``,
at most NEWSROOM_CDN_API_BATCH items per request. A 2xx answer whose JSON does not say
``"success": false`` counts as done.

Each backend sends to its targets (`targets()`) one at a time: `purge(target, paths, keys)`
either returns the number of requests made or raises PurgeFailed saying why. Requests that
fail to connect, time out, or get 429/5xx are retried with backoff up to NEWSROOM_CDN_ATTEMPTS
times, each bounded by NEWSROOM_CDN_TIMEOUT; what is left is the caller's to keep (cdn.purge).
"""

import functools
import json
from urllib.parse import urlsplit

import urllib3
from django.utils.encoding import iri_to_uri

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class PurgeFailed(Exception):
    """A purge the target did not confirm (unreachable, refused, or an error answer)."""


def _excerpt(data, limit=200):
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


class Backend:
    name = ""

    def __init__(self, cfg):
        self.cfg = cfg
        # One pool per process, reused: purges of one change go over kept-alive connections.
        self.http = urllib3.PoolManager(
            num_pools=max(4, len(cfg.servers) + 1),
            maxsize=4,
            timeout=urllib3.Timeout(total=cfg.timeout),
            retries=urllib3.Retry(
                total=cfg.attempts - 1,
                status_forcelist=RETRY_STATUSES,
                allowed_methods=None,  # purges are idempotent, POST included
                backoff_factor=0.2,
                backoff_max=2,
                # A CDN asking to come back in five minutes is answered by `retry_purges`,
                # not by keeping the editor's worker asleep.
                respect_retry_after_header=False,
                raise_on_status=False,
                redirect=False,
            ),
        )

    def targets(self):
        raise NotImplementedError

    def purge(self, target, paths, keys):
        raise NotImplementedError

    def _send(self, method, url, *, headers, body=None):
        try:
            response = self.http.request(method, url, headers=headers, body=body)
        except urllib3.exceptions.MaxRetryError as error:
            raise PurgeFailed(f"{method} {url}: {error.reason}") from None
        except urllib3.exceptions.HTTPError as error:
            raise PurgeFailed(f"{method} {url}: {error}") from None
        return response


class HttpPurgeBackend(Backend):
    name = "http-purge"

    def targets(self):
        return list(self.cfg.servers)

    def purge(self, target, paths, keys):
        requests = 0
        for base in self.cfg.base_urls:
            host = urlsplit(base).netloc
            for path in paths:
                response = self._send("PURGE", target + iri_to_uri(path), headers={"Host": host})
                requests += 1
                # 404: the cache did not hold the page, which is what a purge wants.
                if response.status not in (200, 204, 404):
                    raise PurgeFailed(f"PURGE {path} (Host {host}) answered {response.status}: {_excerpt(response.data)}")
            if keys:
                response = self._send("BAN", target + "/", headers={"Host": host, "Surrogate-Key": " ".join(keys)})
                requests += 1
                if response.status not in (200, 204):
                    raise PurgeFailed(f"BAN (Host {host}) answered {response.status}: {_excerpt(response.data)}")
        return requests


class ApiBackend(Backend):
    name = "api"

    def targets(self):
        return [self.cfg.api_url]

    def purge(self, target, paths, keys):
        files = [base + iri_to_uri(path) for base in self.cfg.base_urls for path in paths]
        bodies = [{"files": files[i : i + self.cfg.api_batch]} for i in range(0, len(files), self.cfg.api_batch)]
        bodies += [{"tags": keys[i : i + self.cfg.api_batch]} for i in range(0, len(keys), self.cfg.api_batch)]
        headers = {"Authorization": f"Bearer {self.cfg.api_token}", "Content-Type": "application/json"}
        for body in bodies:
            response = self._send("POST", target, headers=headers, body=json.dumps(body).encode())
            if not 200 <= response.status < 300:
                raise PurgeFailed(f"POST {target} answered {response.status}: {_excerpt(response.data)}")
            try:
                answer = json.loads(response.data or b"{}")
            except ValueError:
                answer = {}
            if isinstance(answer, dict) and answer.get("success") is False:
                raise PurgeFailed(f"POST {target} refused the purge: {_excerpt(response.data)}")
        return len(bodies)


BACKENDS = {backend.name: backend for backend in (HttpPurgeBackend, ApiBackend)}


@functools.lru_cache(maxsize=4)
def get_backend(cfg):
    """The backend for configuration `cfg` (a conf.Config), built once per process."""
    return BACKENDS[cfg.backend](cfg)

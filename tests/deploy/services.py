"""Real services for the deployment tests: a Redis of our own, a TCP link that can drop like a
network blip, gunicorn with deploy/gunicorn.conf.py, nginx with the shipped config."""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import redis

from tests.ports import free_port

BASE_DIR = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server")
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def wait_for_port(port, *, timeout=15.0, process=None, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}: {log.read_text() if log else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s: {log.read_text() if log else ''}")


def redis_answers(url):
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=0.3, socket_timeout=0.3).ping()
    except redis.RedisError:
        return False


class RedisServer:
    """A redis-server of our own on a free port, without persistence, stopped and started at will."""

    def __init__(self, folder):
        self.folder = folder
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, process=self.process)
        while not redis_answers(self.url):
            time.sleep(0.05)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


class FlakyLink:
    """A TCP forwarder to a Redis that can be cut like a network blip: open connections are
    dropped and new ones closed at once, while Redis itself keeps everything it holds."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.refused = 0  # connections attempted while cut
        self._sockets = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, db=0):
        return f"redis://127.0.0.1:{self.port}/{db}"

    def cut(self):
        with self._lock:
            self.up = False
            for sock in list(self._sockets):
                _close(sock)
            self._sockets.clear()

    def restore(self):
        self.up = True

    def close(self):
        self._closed = True
        self.cut()
        _close(self.listener)

    def _accept(self):
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                self.refused += 1
                _close(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(sink)


def _close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class Gunicorn:
    """gunicorn started the way the systemd unit in DEPLOY.md starts it."""

    def __init__(self, folder, env):
        self.folder = folder
        self.port = free_port()
        self.log = folder / f"gunicorn-{self.port}.log"
        environment = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
        environment.update(
            {"GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_WORKERS": "1", "SECRET_KEY": "tests-only-not-a-secret"}
        )
        environment.update(env)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"],
                cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT,
            )
        wait_for_port(self.port, process=self.process, log=self.log)

    @property
    def origin(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)

    def lines(self):
        return self.log.read_text(errors="replace").splitlines()


def nginx_site(folder, *, listen_port, upstream_port, static_root, media_root):
    """deploy/nginx/newsroom-proxy.conf with this machine's paths and ports, and a main config."""
    site = (BASE_DIR / "deploy" / "nginx" / "newsroom-proxy.conf").read_text()
    replacements = {
        "/var/cache/nginx/newsroom": str(folder / "cache"),
        "/var/log/nginx/newsroom.access.log": str(folder / "access.log"),
        "/srv/newsroom/static": str(static_root),
        "/srv/newsroom/media": str(media_root),
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
        "listen 80;": f"listen 127.0.0.1:{listen_port};",
    }
    for old, new in replacements.items():
        assert old in site, f"{old} is no longer in the nginx config: update the test"
        site = site.replace(old, new)
    (folder / "site.conf").write_text(site)
    main = folder / "nginx.conf"
    # As root, nginx's workers would run as "nobody", who cannot enter pytest's folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    main.write_text(
        f"{user}pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
        f"http {{\n include /etc/nginx/mime.types;\n client_body_temp_path {folder}/body;\n"
        f" proxy_temp_path {folder}/proxy;\n include {folder}/site.conf;\n}}\n"
    )
    return main


def nginx(*args, folder, main):
    return subprocess.run([NGINX, *args, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(main)],
                          capture_output=True, text=True, timeout=30)

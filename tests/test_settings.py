"""Settings come from the environment; production refuses to serve without its own secret key."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(code, **env):
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    environment.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True)


def test_server_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = run("import newsroom.wsgi")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_server_starts_with_a_secret_key_or_in_debug():
    assert run("import newsroom.wsgi", SECRET_KEY="k" * 50).returncode == 0
    assert run("import newsroom.asgi", DEBUG="1").returncode == 0


def test_commands_that_sign_nothing_run_without_a_secret_key():
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout

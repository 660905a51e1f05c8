"""Security defaults come from the environment and refuse unsafe combinations."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_check(**env):
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("SECRET_KEY", "DEBUG", "SECURE_HTTPS")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c",
         "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='sandbox.settings'; "
         "from django.conf import settings; django.setup(); "
         "print(settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.DEBUG)"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)


def test_debug_off_refuses_the_default_secret_key():
    result = run_check(DEBUG="0", SECRET_KEY="insecure-default-key-for-development-only")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_https_makes_cookies_secure():
    result = run_check(DEBUG="0", SECRET_KEY="x" * 50, SECURE_HTTPS="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "False"]


def test_plain_http_keeps_cookies_usable_on_localhost():
    result = run_check(DEBUG="0", SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "False"]

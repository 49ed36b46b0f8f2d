"""current_app.config into the runtime's settings dependency (transforms/app_settings.py), end to
end on fixtures/projects/settings: views take ``settings: Settings``, the helpers only they reach
take it as a keyword argument, across modules and into a streamed body; helpers also used by a
bridged view, a test (called, or swapped by monkeypatch) or a CLI command keep current_app.config.
The converted app answers as the original, and the project's own tests, which change the config
after the app is built, pass on both."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "settings" / "input"
SPEC = "settingsapp:create_app()"
REQUESTS = [
    {"method": "GET", "path": "/greet"},
    {"method": "GET", "path": "/page"},
    {"method": "GET", "path": "/page?size=3"},
    {"method": "GET", "path": "/page?size=500"},
    {"method": "GET", "path": "/page?size=x"},
    {"method": "GET", "path": "/first"},
    {"method": "GET", "path": "/settings-of/motd"},
    {"method": "GET", "path": "/settings-of/nothing"},
    {"method": "GET", "path": "/chunks", "expect_headers": ["Content-Type"]},
    {"method": "GET", "path": "/banner"},
    {"method": "GET", "path": "/old-banner/"},
]
ENV = {"SETTINGSAPP_GREETING": "hola", "SETTINGSAPP_MAX_PAGE": "40"}  # read by the config class


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT, tmp_path_factory.mktemp("settings") / "converted")


def test_views_and_their_helpers_take_the_settings(converted):
    views = (converted / "settingsapp" / "views.py").read_text()
    assert "def greet(settings: Settings):" in views and "config = settings\n" in views
    assert "def page_size(asked, settings):" in views
    assert "clamp(asked if asked is not None else default, settings=settings)" in views
    assert "def setting(key: str, config: Settings):" in views  # ``settings`` is the view's own
    assert "yield f\"{number}:{settings['GREETING']}\\n\"" in views  # the stream's closure
    for kept in ("banner", "motd", "footer"):
        assert f"def {kept}():" in views and f"{kept}()" in views
    assert views.count("current_app.config[\"") == 3  # banner, motd and footer read it still
    limits = (converted / "settingsapp" / "limits.py").read_text()
    assert "def clamp(asked, settings):" in limits and "def describe():" in limits
    assert "current_app.config['MAX_PAGE']" in limits  # the CLI command's
    paging = (converted / "settingsapp" / "paging.py").read_text()  # no Flask in it
    assert "def first_page(items, options, settings):" in paging and "clamp(options.get(\"size\", 10), settings=settings)" in paging


@pytest.mark.parametrize("env", [{}, ENV], ids=["defaults", "environment"])
def test_the_converted_app_answers_like_the_original(converted, env):
    original = answers_in(PROJECT, SPEC, REQUESTS, env=env)
    assert original[0]["body"] == {"greeting": env.get("SETTINGSAPP_GREETING", "hello"), "shout": False}
    limit = int(env.get("SETTINGSAPP_MAX_PAGE", "50"))
    assert [a["body"]["size"] for a in original[1:5]] == [10, 3, limit, 10]
    assert len(original[5]["body"]["items"]) == limit
    assert answers_in(converted, SPEC, REQUESTS, env=env) == original


@pytest.mark.parametrize("root", ["original", "converted"])
def test_the_projects_own_tests_pass(converted, root):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=PROJECT if root == "original" else converted, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [".", os.environ.get("PYTHONPATH")]))},
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "4 passed" in done.stdout, done.stdout[-3000:]


def test_the_report_no_longer_names_current_app(tmp_path):
    import json

    from typer.testing import CliRunner

    from codemod.cli import app

    report = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["convert", str(PROJECT), "--out", str(tmp_path / "out"), "--report", str(report)])
    assert result.exit_code == 0, result.output
    reasons = {r["endpoint"]: r["reason"] or "" for r in json.loads(report.read_text())["routes"]}
    assert "current_app" not in reasons["views.greet"] + reasons["views.page"] + reasons["views.setting"] + reasons["views.first"]
    assert "views.banner uses current_app" in reasons["views.native_banner"]

"""render_template -> Jinja2Templates: the pages project, whose templates need nothing of Flask's
(extends, super(), an import and an include, macros, autoescape by extension), answers the same
bytes after conversion, leaves Flask entirely, and every route is idiomatic; templates that need
Flask's names stay Flask's, with a finding that says which."""

import json
from pathlib import Path

import pytest

from codemod.engine import convert_paths, discover
from codemod.testing import convert_copy
from codemod.verify import answers_in, compare
from transforms import ORDER

PROJECTS = Path(__file__).resolve().parent.parent / "fixtures" / "projects"
PAGES = PROJECTS / "pages" / "input"
SPEC = "pagesapp.app:app"
HEADERS = ["Content-Type", "Content-Length"]
REQUESTS = [
    {"method": "GET", "path": "/", "expect_headers": HEADERS},
    {"method": "GET", "path": "/?q=<b>tea</b>", "expect_headers": HEADERS},
    {"method": "GET", "path": "/items/0", "expect_headers": HEADERS},
    {"method": "GET", "path": "/items/1", "expect_headers": HEADERS},
    {"method": "GET", "path": "/items/7", "expect_headers": HEADERS},  # a template with a status
    {"method": "GET", "path": "/robots.txt", "expect_headers": HEADERS},  # not autoescaped
    {"method": "GET", "path": "/badge.svg?label=a<b", "expect_headers": HEADERS},  # autoescaped
    {"method": "HEAD", "path": "/items/0", "expect_headers": HEADERS},
]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("pages")
    converted = convert_copy(PAGES, root / "converted", "--report", str(root / "report.json"))
    return converted, json.loads((root / "report.json").read_text())


def test_pages_answer_the_same_bytes(pages):
    converted, _ = pages
    original = answers_in(PAGES, SPEC, REQUESTS)
    assert [a["status"] for a in original] == [200, 200, 200, 200, 404, 200, 200, 200]
    assert "<li class=\"odd\">Tea &lt;green&gt; <span class=\"price\">3.00 €</span> (hot, leaf)</li>" in original[0]["body"]
    assert "<p>Results for &lt;b&gt;tea&lt;/b&gt;</p>" in original[1]["body"]
    assert "<title>Tea &lt;green&gt; - Tea &lt;green&gt;</title>" in original[2]["body"]  # super()
    assert "<footer>NOT HERE · 0 items</footer>" in original[4]["body"]  # a name no one passes
    assert original[5]["body"] == "User-agent: *\nDisallow: /admin?a=1&b=<2>"
    assert "<text>a&lt;b</text>" in original[6]["body"]
    assert original[0]["headers"]["Content-Type"] == "text/html; charset=utf-8"
    comparison = compare(PAGES, converted, SPEC, REQUESTS)
    assert comparison.same, comparison


def test_pages_leave_flask_and_every_route_is_idiomatic(pages):
    converted, report = pages
    source = (converted / "pagesapp" / "app.py").read_text()
    assert "render_template" not in source and "from flask import" not in source
    assert source.count("templates.TemplateResponse(request, ") == 5
    assert 'status_code=404' in source
    # Jinja came with Flask: the runtime's templates extra brings it once Flask left
    assert (converted / "requirements-fastapi.txt").read_text() == "flask2fastapi-runtime[templates]>=0.1,<0.2\n"
    levels = {r["rule"]: r["level"] for r in report["routes"]}
    assert levels == dict.fromkeys(["/", "/items/<int:item_id>", "/robots.txt", "/badge.svg"], "idiomatic")


FLASHES = '''from flask import Flask, render_template
app = Flask(__name__)
app.config["SECRET_KEY"] = "k"


@app.route("/")
def index():
    return render_template("index.html")


@app.errorhandler(404)
def not_found(error):
    return render_template("index.html"), 404
'''


@pytest.mark.parametrize("account, converts", [
    ("<p>{{ name }}</p>", True),  # the session leaves Flask: get_flashed_messages is the runtime's
    ("<p>{{ session.user }}</p>", False),  # Flask gives templates its session: it stays, flashes too
])
def test_flashes_in_templates_convert_where_the_session_leaves_flask(tmp_path, account, converts):
    """A template calling get_flashed_messages converts, in a view and in an error handler, only
    where Flask's session cookie leaves Flask (codemod/session_facts.py): a template anywhere in the
    app's folders reading ``session`` keeps it, and the finding says so."""
    (tmp_path / "site" / "templates").mkdir(parents=True)
    (tmp_path / "site" / "__init__.py").write_text("")
    (tmp_path / "site" / "app.py").write_text(FLASHES)
    (tmp_path / "site" / "templates" / "index.html").write_text("{{ get_flashed_messages() }}")
    (tmp_path / "site" / "templates" / "account.html").write_text(account)
    results = convert_paths(discover([tmp_path]), ORDER)
    source = next((r.new or b"").decode() for r in results if str(r.path).endswith("app.py"))
    findings = [f.message for r in results for f in r.findings]
    assert ("@api.exception_handler(404)" in source) == converts == ("FlaskSessionMiddleware, login=False" in source)
    assert source.count("templates.TemplateResponse(request, ") == (2 if converts else 0)
    assert findings == ([] if converts else ['render_template("index.html") stays Flask\'s: uses Flask\'s get_flashed_messages'])


FLASKY = '''from flask import Flask, render_template
app = Flask(__name__)
app.jinja_env.filters["upper_first"] = str.capitalize


@app.route("/")
def index():
    return render_template("index.html", title="Hi")


@app.route("/items/<int:item_id>")
def item(item_id):
    return {"id": item_id}
'''


@pytest.mark.parametrize("template, why", [
    ("{{ request.args }}", "uses Flask's request"),  # only request.path reads alike
    ("{{ url_for('item', item_id=1, page=2) }}", "uses Flask's url_for"),  # werkzeug's query string
    ("{{ url_for('.item', item_id=1) }}", "uses Flask's url_for"),  # relative to the blueprint
    ("{{ url_for('nowhere') }}", "uses Flask's url_for"),  # not a route
    ("{{ url_for }}", "uses Flask's url_for"),
    ("{{ title | upper_first }}", "uses the upper_first filter, Flask's or one registered in a way not converted"),
    ("{{ title | tojson }}", "uses the tojson filter, Flask's or one registered in a way not converted"),
    ("{{ session.user }}", "uses Flask's session"),
])
def test_flask_context_that_does_not_convert(tmp_path, template, why):
    (tmp_path / "site" / "templates").mkdir(parents=True)
    (tmp_path / "site" / "__init__.py").write_text("")
    (tmp_path / "site" / "app.py").write_text(FLASKY)
    (tmp_path / "site" / "templates" / "index.html").write_text(template)
    results = convert_paths(discover([tmp_path]), ORDER)
    findings = [f.message for r in results for f in r.findings if f.code == "F2F621"]
    assert findings == [f'render_template("index.html") stays Flask\'s: {why}']


APP = '''from flask import Flask, render_template
{extension}
app = Flask(__name__)


@app.route("/")
def index():
    return render_template("index.html", title="Hi")
'''


@pytest.mark.parametrize("extension, converts", [
    ("", True),  # nothing adds values: an unpassed name is Jinja's undefined in both
    ("from flask_login import LoginManager\nLoginManager()", False),  # its context processor: current_user
    ("", False),  # the template reads Flask's g
])
def test_an_unpassed_name_converts_only_where_nothing_adds_values(tmp_path, extension, converts):
    (tmp_path / "site" / "templates").mkdir(parents=True)
    (tmp_path / "site" / "__init__.py").write_text("")
    (tmp_path / "site" / "app.py").write_text(APP.format(extension=extension))
    reads = "g.user" if not extension and not converts else "current_user"
    (tmp_path / "site" / "templates" / "index.html").write_text(f"{{{{ title }}}} {{{{ {reads} }}}}")
    results = convert_paths(discover([tmp_path]), ORDER)
    findings = [f.message for r in results for f in r.findings]
    source = next((r.new or b"").decode() for r in results if str(r.path).endswith("app.py"))
    assert ("TemplateResponse" in source) == converts
    assert findings == ([] if converts else [
        'render_template("index.html") stays Flask\'s: '
        + ("reads current_user, which the view does not pass" if extension else "uses Flask's g")
    ])


def test_a_context_processor_giving_flasks_names_keeps_the_template(tmp_path):
    """Starlette's context processors win over the app's: one giving ``url_for`` (or ``request``)
    would be overridden by the runtime's, so the template stays Flask's."""
    (tmp_path / "site" / "templates").mkdir(parents=True)
    (tmp_path / "site" / "__init__.py").write_text("")
    (tmp_path / "site" / "app.py").write_text(APP.format(extension="") + (
        "\n\n@app.context_processor\ndef links():\n    return {\"url_for\": str}\n"
    ))
    (tmp_path / "site" / "templates" / "index.html").write_text("{{ url_for('index') }}")
    results = convert_paths(discover([tmp_path]), ORDER)
    findings = [f.message for r in results for f in r.findings]
    assert findings == [
        'render_template("index.html") stays Flask\'s: is given url_for by the view or a context processor, '
        "which the converted context would override"
    ]


FLASHING = '''from flask import Flask, flash, redirect, render_template, url_for

app = Flask(__name__)
app.config["SECRET_KEY"] = "k"


@app.route("/")
def index():
    return render_template("index.html")


@app.post("/star")
def star():
    flash("starred <3", "info")
    return redirect(url_for("index"))
'''


def test_a_site_that_flashes_leaves_flask(tmp_path):
    """flash, redirect and a template showing the messages: every route idiomatic, Flask leaves
    (its templates' flashes went with it), and a browser sees the same pages and cookies."""
    source_root = tmp_path / "src"
    (source_root / "notesite" / "templates").mkdir(parents=True)
    (source_root / "notesite" / "__init__.py").write_text("")
    (source_root / "notesite" / "app.py").write_text(FLASHING)
    (source_root / "notesite" / "templates" / "index.html").write_text(
        '{% for c, m in get_flashed_messages(with_categories=true) %}<p class="{{ c }}">{{ m }}</p>{% endfor %}'
        "<a href=\"{{ url_for('index') }}\">home</a>"
    )
    converted = convert_copy(source_root, tmp_path / "converted")
    source = (converted / "notesite" / "app.py").read_text()
    assert "app = NativeApp(__name__)" in source and "from flask " not in source and "flashes_in_flask_templates" not in source
    levels = {route["endpoint"]: route["level"] for r in convert_paths(discover([source_root]), ORDER) for route in r.routes}
    assert levels == {"index": "idiomatic", "star": "idiomatic"}
    asked = [
        {"method": "POST", "path": "/star", "expect_headers": ["Location", "Vary", "Content-Type", "Content-Length"]},
        {"method": "GET", "path": "/", "expect_headers": ["Vary", "Content-Length"]},
        {"method": "GET", "path": "/", "expect_headers": ["Vary", "Content-Length"]},
    ]
    original = answers_in(source_root, "notesite.app:app", asked)
    assert '<p class="info">starred &lt;3</p><a href="/">home</a>' == original[1]["body"]
    assert original[2]["body"] == '<a href="/">home</a>'
    comparison = compare(source_root, converted, "notesite.app:app", asked)
    assert comparison.same, comparison


def test_a_virtual_environment_in_the_project_is_not_read(tmp_path):
    """The project's own files decide what templates may read: a .venv (or venv/) inside the
    project holds Flask-Login's own source, which is no import of the project's."""
    (tmp_path / "site" / "templates").mkdir(parents=True)
    (tmp_path / "site" / "__init__.py").write_text("")
    (tmp_path / "site" / "app.py").write_text(APP.format(extension=""))
    (tmp_path / "site" / "templates" / "index.html").write_text("{{ title }} {{ current_user }}")
    for venv in (tmp_path / "site" / ".venv", tmp_path / "site" / "venv"):
        (venv / "lib" / "flask_login").mkdir(parents=True)
        (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
        (venv / "lib" / "flask_login" / "utils.py").write_text(
            "from flask_login import LoginManager\n\n@app.context_processor\ndef inject():\n    return {}\n"
        )
    results = convert_paths(discover([tmp_path]), ORDER)
    source = next((r.new or b"").decode() for r in results if str(r.path).endswith("app.py"))
    assert "TemplateResponse" in source, [f.message for r in results for f in r.findings]

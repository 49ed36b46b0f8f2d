"""The report's route levels: a native route is idiomatic only when no code on its path (the
view, what it reaches across modules, the hooks and error handlers around it) uses Flask."""

import textwrap
from pathlib import Path

import libcst as cst

from codemod.engine import convert_paths
from codemod.levels import code_facts
from transforms import ORDER


def write(root: Path, files: dict[str, str]) -> list[Path]:
    paths = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        paths.append(path)
    return paths


def levels(root: Path, files: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    results = convert_paths(write(root, files), ORDER)
    return {r["endpoint"]: (r["level"], r["reason"]) for result in results for r in result.routes}


APP = """\
    from flask import Flask
    from shop.helpers import price_of, shout

    app = Flask(__name__)

    @app.get("/pure/<int:n>")
    def pure(n):
        return {"price": price_of(n)}

    @app.get("/loud")
    def loud():
        return shout()
    """
HELPERS = """\
    from flask import request

    def price_of(n):
        return n * 2

    def shout():
        return {"said": request.args.get("q", "").upper()}
    """


def test_a_route_whose_path_has_no_flask_is_idiomatic_and_a_helper_across_modules_counts(tmp_path):
    found = levels(tmp_path, {"shop/__init__.py": "", "shop/app.py": APP, "shop/helpers.py": HELPERS})
    assert found["pure"] == ("idiomatic", None)
    level, reason = found["loud"]
    assert level == "native"
    assert reason == "Flask left on its code path: helpers.shout uses request"


def test_a_hook_of_the_app_is_on_every_route_path(tmp_path):
    hooked = APP + textwrap.indent(textwrap.dedent("""
        from flask import g, request

        @app.before_request
        def stamp():
            g.seen = request.args.get("seen")  # query args: this hook stays Flask's
        """), "    ")
    found = levels(tmp_path, {"shop/__init__.py": "", "shop/app.py": hooked, "shop/helpers.py": HELPERS})
    assert found["pure"] == (
        "native",
        "Flask left on its code path: app.stamp uses before_request, g, request"
        " (the app's hooks stay Flask's: stamp: it uses flask.request.args.get)",
    )


def test_a_blueprint_hook_is_on_its_own_routes_only(tmp_path):
    views = """\
        from flask import Blueprint, g

        bp = Blueprint("items", __name__)
        other = Blueprint("other", __name__)

        @bp.before_request
        def mark():
            g.marked = True

        @bp.get("/a")
        def a():
            return {}

        @other.get("/b")
        def b():
            return {}
        """
    app = """\
        from flask import Flask
        from shop.views import bp, other

        app = Flask(__name__)
        app.register_blueprint(bp, url_prefix="/items")
        app.register_blueprint(other, url_prefix="/other")
        """
    found = levels(tmp_path, {"shop/__init__.py": "", "shop/views.py": views, "shop/app.py": app})
    assert found["items.a"][0] == "native" and "views.mark uses before_request, g" in found["items.a"][1]
    assert found["other.b"] == ("idiomatic", None)


def test_names_a_function_binds_itself_are_not_the_modules():
    module = cst.parse_module(textwrap.dedent("""\
        from flask import request, g as flask_g

        def view(request):
            g = {}
            return request.args, g

        def other():
            return flask_g.user
        """))
    facts = code_facts(module, "pkg.views", "pkg")
    assert facts.flask["pkg.views.view"] == set()
    assert facts.flask["pkg.views.other"] == {"flask.g.user"}


def test_flasks_registering_decorators_leave_the_function_as_it_was():
    """``@app.context_processor`` and ``@bp.app_template_filter("x")`` register the function and
    return it as it was: a view calling it runs no Flask. A decorator of that name on something
    else may wrap it: it counts."""
    module = cst.parse_module(textwrap.dedent("""\
        from flask import Blueprint, Flask
        from pkg.wrapping import registry

        app = Flask(__name__)
        bp = Blueprint("bp", __name__)

        @app.context_processor
        def site():
            return {"year": 2026}

        @bp.app_template_filter("initials")
        def initials(text):
            return text[:1]

        @registry.context_processor
        def other():
            return {}
        """))
    facts = code_facts(module, "pkg.views", "pkg")
    assert facts.flask["pkg.views.site"] == facts.flask["pkg.views.initials"] == set()
    assert facts.refers["pkg.views.other"] >= {"pkg.wrapping.registry.context_processor"}


ERRORS = """\
    from flask import Flask, jsonify
    from werkzeug.exceptions import NotFound
    from shop.helpers import price_of

    app = Flask(__name__)

    @app.get("/pure/<int:n>")
    def pure(n):
        return {"price": price_of(n)}

    @app.errorhandler(NotFound)
    def not_found(error):
        return jsonify(error=error.description), 404

    def crashed(error):
        return {"error": "internal", "cause": CAUSE}, 500

    app.register_error_handler(500, crashed)
    """


def test_error_handlers_made_fastapis_leave_the_routes_idiomatic(tmp_path):
    app = ERRORS.replace("CAUSE", '"unknown"')
    found = levels(tmp_path, {"shop/__init__.py": "", "shop/app.py": app, "shop/helpers.py": HELPERS})
    assert found["pure"] == ("idiomatic", None)  # @api.exception_handler(404), api.add_exception_handler(500, ...)


def test_a_handler_left_to_flask_is_flask_on_every_route_even_registered_by_a_call(tmp_path):
    app = ERRORS.replace("CAUSE", "str(error.original_exception)")  # a 500 handler reading its error stays
    found = levels(tmp_path, {"shop/__init__.py": "", "shop/app.py": app, "shop/helpers.py": HELPERS})
    assert found["pure"] == ("native", "Flask left on its code path: app.crashed uses register_error_handler")


AUTH = """\
    from flask import request
    from flask_httpauth import HTTPBasicAuth, HTTPTokenAuth, MultiAuth

    basic = HTTPBasicAuth()
    token = HTTPTokenAuth()
    either = MultiAuth(token, basic)


    @basic.verify_password
    def verify_password(username, password):
        return username or None


    @token.verify_token
    def verify_token(value):
        return request.args.get("as") if value == "ok" else None
    """
AUTH_APP = """\
    from flask import Flask
    from shop.auth import basic, either

    app = Flask(__name__)


    @app.get("/people")
    @basic.login_required
    def people():
        return {"ok": True}


    @app.get("/either")
    @either.login_required
    def both():
        return {"ok": True}
    """


def test_an_auth_objects_callbacks_are_on_the_path_of_the_routes_it_protects(tmp_path):
    # the token callback reads Flask's request: the objects stay Flask-HTTPAuth's (one group),
    # and its Flask is on the path of the routes the token object checks, through the MultiAuth
    found = levels(tmp_path, {"shop/__init__.py": "", "shop/app.py": AUTH_APP, "shop/auth.py": AUTH})
    assert found["people"][0] == "native" and "flask_httpauth.HTTPBasicAuth" in found["people"][1]
    assert found["both"][0] == "native" and "auth.either uses" in found["both"][1]


def test_a_callback_on_a_runtime_auth_object_is_on_the_path_of_its_routes():
    # converted code a person fixed by hand: the objects are the runtime's, a callback reads Flask
    auth = """\
        from flask import request
        from flask2fastapi_runtime.httpauth import HTTPBasicAuth, HTTPTokenAuth, MultiAuth

        basic = HTTPBasicAuth()
        token = HTTPTokenAuth()
        either = MultiAuth(token, basic)


        @token.verify_token
        def verify_token(value):
            return request.args.get("as")
        """
    views = """\
        from fastapi import Depends
        from shop.auth import basic, either

        def people(user=Depends(basic.login_required())):
            return {}

        def both(user=Depends(either.login_required())):
            return {}
        """
    facts = code_facts(cst.parse_module(textwrap.dedent(auth)), "shop.auth", "shop")
    facts.merge(code_facts(cst.parse_module(textwrap.dedent(views)), "shop.views", "shop"))
    assert facts.level({"view": "shop.views.people"}) == ("idiomatic", None)
    assert facts.level({"view": "shop.views.both"}) == ("native", "Flask left on its code path: auth.verify_token uses request")


def test_converted_auth_objects_leave_their_routes_idiomatic_unless_a_callback_keeps_flask(tmp_path):
    plain = AUTH.replace('request.args.get("as")', '"ann"')
    found = levels(tmp_path, {"shop/__init__.py": "", "shop/app.py": AUTH_APP, "shop/auth.py": plain})
    assert found == {"people": ("idiomatic", None), "both": ("idiomatic", None)}

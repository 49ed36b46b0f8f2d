"""Whole-program facts, gathered in a first pass before any file is transformed.

A blueprint is often defined in one module, given routes in a second and registered (with its
url_prefix) in a third, inside an app factory; a view's guard decorator may come from a fourth.
No file alone can tell whether a route can become a FastAPI path operation faithfully, so the
first pass records, by fully qualified name: the Flask apps (and the bridge each gets), the
blueprints, every ``register_blueprint`` call, every view with its route decorators, the
project's check-then-call decorators and the functions that return a response with a status of
its own (``return jsonify(error=m), 400``). Facts are small and picklable: worker processes gather
them in parallel and the parent merges them. ``codemod/plan.py`` turns them into a level per
route, which the transforms and the report read.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from codemod.visitors import Visitor, visit_together
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, PositionProvider
from codemod.names import FullNames, Wrapper
from libcst.metadata.name_provider import ModuleNameAndPackage

from codemod.find import findall
from codemod.vendor import canonical
from codemod.app_logger import LOG_METHODS, import_name
from codemod.facts import BlueprintFacts, Registration, ViewFacts, answers_early, guard_kind, is_passthrough, responder, view_facts
from codemod.aborts import kept_handler
from codemod.error_handlers import ErrorFacts, ErrorFactsVisitor, HandlerPlan, Receiver, plan_handlers, registered_on
from codemod.handler_body import bindings
from codemod.plan import RoutePlan, plan_view
from codemod.login_facts import LoginFacts, LoginPlan, login_read, login_reader, plan_login
from codemod.session_facts import SessionFacts, SessionPlan, plan_session, session_reader
from codemod.template_plan import UNKNOWN, TemplateFacts, TemplatePlan, plan_templates, session_reads, template_facts
from codemod.helper_bodies import BodyFacts, HelperBodyPlan, body_facts, plan_helper_bodies
from codemod.settings import ConfigFacts, SettingsPlan, config_facts, plan_settings
from codemod.async_facts import SESSIONMAKER, AsyncFacts, ModelFacts, async_facts, model_facts
from codemod.async_plan import AsyncPlan, plan_async, session_resources, sqlite_resources
from codemod.flask_sqlalchemy_async import FlaskSqlaPlan, extension_objects, plan_flask_sqlalchemy, session_views, sync_users
from codemod.flask_sqlalchemy_plain import PlainSqlaPlan, plan_plain
from codemod.sqla_uses import SqlaFileFacts, file_read as sqla_file_read, file_reader as sqla_file_reader
from codemod.httpauth import FLASK_HTTPAUTH, REQUEST_HOOKS, RUNTIME_HTTPAUTH, AuthFacts, AuthPlan, auth_facts, plan_httpauth
from codemod.http_io import HttpFacts, ModuleFacts, http_facts, module_facts
from codemod.hook_calls import module_receivers
from codemod.sqlite_io import CONNECT, opening_problem, sqlite_uses
from codemod import jwt_facts
from codemod.state import APP_WIDE_HOOKS, HOOK_KINDS, FunctionFacts, HookFacts, StatePlan, function_facts, hook_facts, plan_state
from codemod.sync_streams import sync_streams

# The classes under every name Flask exports them by (``from flask.blueprints import Blueprint``).
FLASK = frozenset({"flask.Flask", "flask.app.Flask"})
BLUEPRINT = frozenset({"flask.Blueprint", "flask.blueprints.Blueprint"})
FLASK_BRIDGE = "flask2fastapi_runtime.FlaskBridge"
API_ROUTER = "fastapi.APIRouter"
# Flask-HTTPAuth objects: their login_required protects views in other modules too.
# The runtime's objects (codemod/httpauth.py converts them) keep a check on a view that stays a decorator.
HTTPAUTH_CLASSES = frozenset(FLASK_HTTPAUTH) | {f"{RUNTIME_HTTPAUTH}.{c.rpartition('.')[2]}" for c in FLASK_HTTPAUTH}
# Cheap textual test: a file that says none of these defines, registers or returns no app or
# blueprint, no route, no Flask-HTTPAuth object and no guard decorator, so its metadata is never
# resolved in the facts pass.
FACTS_PREFILTER = (
    b"Flask", b"Blueprint", b"register_blueprint", b"flask_httpauth", b"wraps", b"flask",
    b"login_required", b"current_user",  # uses of Flask-HTTPAuth objects (codemod/httpauth.py)
    b"relationship(", b"sessionmaker(",  # SQLAlchemy models and session factories (codemod/async_plan.py)
    b".Model)", b".query.", b".session.",  # uses of Flask-SQLAlchemy's db (codemod/flask_sqlalchemy_plain.py)
    b"import requests",  # a module of HTTP calls the async plan may colour
    b".route(", b".get(", b".post(", b".put(", b".patch(", b".delete(", b"jsonify", b"make_response", b"errorhandler", b"error_handler",
)
CALLED = re.compile(rb"\b([A-Za-z_]\w*)\s*\(")
# a string naming a function, ``"complete"`` or ``"pkg.llm.complete"``: the last part
NAMED = re.compile(rb"[\"']((?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*))[\"']")
# What a Flask app's JSON is made by, when set by the project.
JSON_SETTINGS = frozenset({"json", "json_provider_class", "json_encoder"})
# Flask extensions that register before_request hooks when given the app (CSRF checks, rate
# limits, security headers, identity loading...): Flask would run them after an async view
BEFORE_REQUEST_EXTENSIONS = frozenset({
    "flask_wtf.CSRFProtect", "flask_wtf.csrf.CSRFProtect", "flask_limiter.Limiter", "flask_limiter.extension.Limiter",
    "flask_talisman.Talisman", "flask_talisman.talisman.Talisman", "flask_seasurf.SeaSurf", "flask_principal.Principal",
    "flask_debugtoolbar.DebugToolbarExtension", "flask_babel.Babel", "flask_session.Session", "flask_security.Security",
    "flask_htmx.HTMX", "flask_compress.Compress",
})
# Decorators of functions Flask runs before a view that stay Flask's: a blueprint's app-wide
# before_request hook (Flask's tutorial loads g.user so) and URL value preprocessors. An async
# view runs before Flask's cycle, so none can be async where one is (the runtime refuses it).
OTHER_BEFORE_HOOKS = frozenset({"before_app_request", "url_value_preprocessor", "app_url_value_preprocessor"})
# Names for the bridge next to a Flask app: the first not used anywhere in its module.
BRIDGE_NAMES = ("api", "fastapi_app")


@dataclass(frozen=True)
class AppFacts:
    """A ``x = Flask(...)`` of the project and the bridge the converter puts next to it."""

    module: str
    module_level: bool
    bridge: str  # the FlaskBridge's variable, in the same scope
    bridged: bool  # the bridge is already there (a converted file, converted again)
    name: str | None = None  # app.name, its logger's name (codemod/app_logger.py); None: not known
    # the module-level function (qualified) that makes it in its own body, not in a block of it:
    # an app factory, whose bridge is a statement of that body too
    factory: str | None = None


@dataclass
class Project:
    apps: dict[str, AppFacts] = field(default_factory=dict)  # by the app variable's name
    blueprints: dict[str, BlueprintFacts] = field(default_factory=dict)
    registrations: dict[str, list[Registration]] = field(default_factory=dict)  # by blueprint
    views: dict[tuple[str, str], ViewFacts] = field(default_factory=dict)  # (path, function)
    factories: set[str] = field(default_factory=set)  # functions that return an app or bridge
    bridges: set[str] = field(default_factory=set)  # x = FlaskBridge(...) of the project
    auth_objects: set[str] = field(default_factory=set)  # Flask-HTTPAuth objects, by name
    auth: AuthFacts = field(default_factory=AuthFacts)  # their uses (codemod/httpauth.py)
    # the project's check-then-call decorators (see facts.is_guard), and the factories that make them
    guards: set[str] = field(default_factory=set)
    guard_factories: set[str] = field(default_factory=set)
    # decorators that call the view as it was called, after reading only its name (facts.is_passthrough)
    passthroughs: set[str] = field(default_factory=set)
    made_by: dict[str, frozenset[str]] = field(default_factory=dict)  # x = f(...): f's names
    functions: dict[str, FunctionFacts] = field(default_factory=dict)  # module-level, by name
    # functions defined directly in a module-level one, by ``pkg.mod.outer.<locals>.name``
    nested_functions: dict[str, FunctionFacts] = field(default_factory=dict)
    # project functions called from outside module-level functions (methods, module code)
    called_outside: set[str] = field(default_factory=set)
    # names called in the files the facts pass did not read (no Flask in them): a function
    # that may be called there cannot be given a new parameter
    unseen_calls: set[str] = field(default_factory=set)
    # project functions used other than by a call of module-level function code: a callback
    # (``map(f, xs)``), a decorator, a call in a decorator or a default value
    referenced: set[str] = field(default_factory=set)
    # names given as strings to a call, last part (``monkeypatch.setattr(llm, "complete", f)``,
    # ``mock.patch("pkg.llm.complete")``): such a function may be swapped for one of its signature
    named: set[str] = field(default_factory=set)
    # qualified names of the flask_* extension classes and functions the project calls
    extension_calls: set[str] = field(default_factory=set)
    # ... in test files: a swap there of a function that becomes async gets an async stand-in
    # (transforms/test_doubles.py), so it does not keep the function sync
    named_in_tests: set[str] = field(default_factory=set)
    config: dict[str, ConfigFacts] = field(default_factory=dict)  # current_app.config reads, by function
    bodies: dict[str, BodyFacts] = field(default_factory=dict)  # JSON body reads, by function (helper_bodies.py)
    # a file says MAX_CONTENT_LENGTH: Flask may answer 413 where the body is read, even silently
    limits_body: bool = False
    hooks: list[HookFacts] = field(default_factory=list)  # app-level before/after request hooks
    # hooks registered on a parameter (``def init_app(app): @app.after_request``), with it
    parameter_hooks: list[tuple[HookFacts, Receiver]] = field(default_factory=list)
    # hooks registered some other way (a call, a blueprint's, an app-wide one of a blueprint): the
    # first such, said for the report ("" for none)
    other_hooks: str = ""
    # module-level functions every return of which fixes its status (facts.responder), and the
    # guards (and guard factories) that may answer with a value that does not (answers_early)
    responders: set[str] = field(default_factory=set)
    plain_guards: set[str] = field(default_factory=set)
    # the app's JSON is made its own way (app.json = ..., json_provider_class, app.json.x = ...):
    # Starlette's JSONResponse would not write what it writes
    own_json: bool = False
    # a file says response_class: Flask's helpers (redirect) may make responses of another class
    own_response_class: bool = False
    # module-level objects a Flask extension's call made (``db = SQLAlchemy()``): they need Flask's context
    flask_objects: set[str] = field(default_factory=set)
    errors: ErrorFacts = field(default_factory=ErrorFacts)  # error handlers (codemod/error_handlers.py)
    # ``x.logger = ...`` somewhere: the app's logger may not be logging.getLogger(app.name)
    logger_set: bool = False
    # what blocks and what reads ORM objects, by function; the SQLAlchemy models (async_facts.py)
    async_facts: dict[str, AsyncFacts] = field(default_factory=dict)
    models: dict[str, ModelFacts] = field(default_factory=dict)
    # for each sessionmaker(...) call: whether it keeps loaded values after commit (expire_on_commit=False)
    session_factories: list[bool] = field(default_factory=list)
    login: LoginFacts = field(default_factory=LoginFacts)  # Flask-Login (codemod/login_facts.py)
    session: SessionFacts = field(default_factory=SessionFacts)  # Flask's session (codemod/session_facts.py)
    templates: dict[str, TemplateFacts] = field(default_factory=dict)  # by module (codemod/template_plan.py)
    # Flask-JWT-Extended's managers (x = JWTManager()) and what keeps them (codemod/jwt_facts.py)
    jwt_managers: set[str] = field(default_factory=set)
    jwt_problems: list[str] = field(default_factory=list)
    jwt_auths: set[str] = field(default_factory=set)  # x = JWTAuth(): a converted project's
    jwt_readers: set[str] = field(default_factory=set)  # functions reading a token they do not verify
    sqla: SqlaFileFacts = field(default_factory=SqlaFileFacts)  # uses of Flask-SQLAlchemy (flask_sqlalchemy_plain.py)
    jwt_guards: set[str] = field(default_factory=set)  # decorators (or factories) checking a token (jwt_facts.jwt_check)

    def merge(self, other: "Project") -> None:
        self.apps.update(other.apps)
        self.blueprints.update(other.blueprints)
        for name, registrations in other.registrations.items():
            self.registrations.setdefault(name, []).extend(registrations)
        self.views.update(other.views)
        self.factories |= other.factories
        self.bridges |= other.bridges
        self.auth_objects |= other.auth_objects
        self.auth.merge(other.auth)
        self.guards |= other.guards
        self.guard_factories |= other.guard_factories
        self.passthroughs |= other.passthroughs
        self.made_by.update(other.made_by)
        self.functions.update(other.functions)
        self.nested_functions.update(other.nested_functions)
        self.called_outside |= other.called_outside
        self.unseen_calls |= other.unseen_calls
        self.referenced |= other.referenced
        self.named |= other.named
        self.named_in_tests |= other.named_in_tests
        self.extension_calls |= other.extension_calls
        self.config.update(other.config)
        self.bodies.update(other.bodies)
        self.limits_body |= other.limits_body
        self.hooks += other.hooks
        self.parameter_hooks += other.parameter_hooks
        self.other_hooks = self.other_hooks or other.other_hooks
        self.responders |= other.responders
        self.plain_guards |= other.plain_guards
        self.own_json |= other.own_json
        self.own_response_class |= other.own_response_class
        self.errors.merge(other.errors)
        self.flask_objects |= other.flask_objects
        self.logger_set |= other.logger_set
        self.async_facts.update(other.async_facts)
        self.models.update(other.models)
        self.session_factories += other.session_factories
        self.login.merge(other.login)
        self.session.merge(other.session)
        self.templates.update(other.templates)
        self.jwt_managers |= other.jwt_managers
        self.jwt_problems += other.jwt_problems
        self.jwt_auths |= other.jwt_auths
        self.jwt_readers |= other.jwt_readers
        self.sqla.merge(other.sqla)
        self.jwt_guards |= other.jwt_guards

    # -- the plan (codemod/plan.py), read once every file's facts are merged --------------------
    def receiver_kind(self, names: frozenset[str]) -> str | None:
        """'app' or 'blueprint' for the object a route decorator or a registration is called on."""
        kind = self.kind(set(names))
        if kind is None and any(self.made_by.get(n, frozenset()) & self.factories for n in names):
            return "app"
        return kind

    @functools.cached_property
    def _plans(self) -> dict[tuple[str, str], list[RoutePlan]]:
        return {key: plan_view(self, view) for key, view in sorted(self.views.items())}

    @functools.cached_property
    def login_plan(self) -> LoginPlan:
        """Whether Flask-Login leaves the project, with its managers (codemod/login_facts.py)."""
        # a view some route of which stays Flask's is called without the user: not native here
        native = [plans for plans in self._plans.values() if plans and all(p.level == "native" for p in plans)]
        views = {(plans[0].path, plans[0].function) for plans in native}
        return plan_login(self.login, views, {p.endpoint for plans in native for p in plans})

    @functools.cached_property
    def session_plan(self) -> SessionPlan:
        """Whether Flask's session leaves the project (codemod/session_facts.py)."""
        native = [plans for plans in self._plans.values() if plans and all(p.level == "native" for p in plans)]
        # a factory's view by its place in the module (``create_app.login``), as session_facts names it
        views = {(plans[0].path, self._scoped(plans[0].path, plans[0].function)) for plans in native}
        apps = [(app.module, app.module_level or app.factory is not None) for app in self.apps.values()]
        reads, unknown = session_reads(self.templates)
        return plan_session(self.session, views, apps, self.login.uses_login or bool(self.login.managers), reads, tuple(unknown))

    @functools.cached_property
    def template_plan(self) -> TemplatePlan:
        """Where render_template converts, and what templates are given (codemod/template_plan.py)."""
        endpoints: dict[str, list[RoutePlan]] = {}
        for key in sorted(self.views):
            for plan in self._plans.get(key, []):
                endpoints.setdefault(plan.endpoint, []).append(plan)
        apps = [(name.rpartition(".")[2], app.module, app.module_level) for name, app in sorted(self.apps.items())]
        plan = self.session_plan
        return plan_templates(self.templates, apps, endpoints, plan.converts and plan.templates)

    @property
    def session_kept(self) -> dict[str, str]:
        """Why Flask's session stays, by the qualified name of each view using it (for the report)."""
        plan = self.session_plan
        if plan.converts or plan.reason is None:
            return {}
        views = {(path, self._scoped(path, function)): view for (path, function), view in self.views.items()}
        return {
            f"{views[key].module}.{views[key].function}": f"Flask's session stays: {plan.reason}"
            for key in sorted(plan.users) if key in views
        }

    def _scoped(self, path: str, function: str) -> str:
        """A view's name in its module: ``login``, or ``create_app.login`` for an app factory's."""
        factory = self.views[(path, function)].factory
        return f"{factory.rpartition('.')[2]}.{function}" if factory else function

    def plan(self, path: str, function: str) -> list[RoutePlan]:
        """The plans of the routes of a module-level view (none for another function)."""
        return self._plans.get((path, function), [])

    def plans_in(self, path: str) -> list[RoutePlan]:
        return sorted((p for (file, _), plans in self._plans.items() if file == path for p in plans), key=lambda p: p.line)

    @functools.cached_property
    def _view_levels(self) -> tuple[set[str], set[str]]:
        """The views (qualified) with a native route, and those with a bridged one."""
        native, bridged = set(), set()
        for plans in self._plans.values():
            for plan in plans:
                view = f"{self.views[(plan.path, plan.function)].module}.{plan.function}"
                (native if plan.level == "native" else bridged).add(view)
        return native, bridged

    def _blueprint_hooks(self) -> list[HookFacts]:
        """The hooks with the blueprint's hooks given their app and Flask name, or a problem: a
        blueprint registered once, on the project's one app, every view of it native (RequestHooks
        finds a native route's endpoint; a bridged view's is Flask's). A blueprint's teardown hook
        that cannot convert stays Flask's, as it did: it runs inside the app, before the app's."""
        apps = sorted(self.apps)
        hooks = []
        for hook in self.hooks:
            if hook.blueprint is None:
                hooks.append(hook)
                continue
            blueprint = self.blueprints[hook.blueprint]
            registrations = self.registrations.get(hook.blueprint, [])
            # the blueprint's views (a route on it), and the plans of their routes
            views = [key for key, view in self.views.items() if any(hook.blueprint in r.receiver for r in view.routes)]
            plans = [p for key in views for p in self._plans.get(key, [])]
            problem = hook.problem
            if len(apps) != 1 or len(registrations) != 1 or not registrations[0].receiver & set(apps):
                problem = problem or "its blueprint is not registered once on the app"
            elif not hook.app_wide and (blueprint.problem or registrations[0].problem or blueprint.name is None):
                problem = problem or "its blueprint's routes stay Flask's"
            elif not hook.app_wide and (not plans or any(p.level != "native" for p in plans)):
                problem = problem or "a view of its blueprint stays Flask's"
            if hook.app_wide:
                # one of the app's hooks, where Flask added it: at the registration, in the app's module
                app = self.apps.get(apps[0]) if len(apps) == 1 else None
                if problem is None and (app is None or registrations[0].module != app.module):
                    problem = "its blueprint is registered outside the app's module"
                line = registrations[0].line if registrations else hook.line
                hooks.append(dataclasses.replace(hook, app=apps[0] if apps else "", blueprint=None, problem=problem, line=line, rank=hook.line))
                continue
            if problem is not None and hook.kind == "teardown":
                continue
            hooks.append(dataclasses.replace(hook, app=apps[0] if apps else "", blueprint=blueprint.name, problem=problem))
        return hooks

    def _abort_problem(self, hook: HookFacts) -> str | None:
        """Why a before hook's ``abort(code)`` cannot be a raise RequestHooks answers: a Flask
        handler may answer that code (codemod/aborts.py)."""
        for code in sorted(hook.raises):
            kept = kept_handler(code, self.errors.registrations, self.error_handlers)
            if kept is not None:
                return f"it aborts with {code}, which {kept}, an error handler that stays Flask's, may answer"
        return None

    def _plan_state(
        self, async_getters: frozenset[str] = frozenset(), sync_guards: frozenset[str] = frozenset(), plain: str | None | bool = True,
    ) -> StatePlan:
        """``plain``: the db that leaves for plain SQLAlchemy (True: as ``plain_sqlalchemy`` plans)."""
        native, bridged = self._view_levels
        hooks = [] if self.other_hooks else self._blueprint_hooks()
        given, kept = self._parameter_hooks()
        hooks = [] if kept else hooks + given
        if self.own_json:  # RequestHooks writes a hook's answer as jsonify's default, not the app's provider
            hooks = [dataclasses.replace(h, problem=h.problem or "it answers with JSON the app writes its own way") if h.answers else h for h in hooks]
        if any(h.jwt for h in hooks):  # the runtime's verify stands for Flask-JWT-Extended's, awaited: the hook goes async
            hooks = [dataclasses.replace(h, problem=h.problem or jwt_facts.hook_blocker(self, h.qualified)) if h.jwt else h for h in hooks]
        handlers = frozenset(name for name, plan in self.error_handlers.items() if plan.convert)
        hooks = [h if h.problem else dataclasses.replace(h, problem=self._abort_problem(h)) for h in hooks]
        logs = frozenset(f"{app}.logger.{method}" for app in self.apps for method in LOG_METHODS) if self.logger_name else frozenset()
        # exception handlers defined in a function (``register_error_handlers(app)``) give their
        # request to the helpers they call, as module-level ones do
        functions = {**self.functions, **{h: self.nested_functions[h] for h in handlers if h in self.nested_functions}}
        # a decorator checking a JWT is Flask-JWT-Extended's to convert (jwt_facts, transforms/jwt_hooks.py)
        functions = {q: dataclasses.replace(f, guard=None) if q in self.jwt_guards and f.guard is not None else f for q, f in functions.items()}
        # a db that leaves for plain SQLAlchemy needs no Flask context (flask_sqlalchemy_plain.py)
        plain = {self.plain_sqlalchemy.db if plain is True else plain} - {None}
        # a factory's view has its facts under the factory's name (``pkg.create_app.whoami``)
        native = native | {f"{v.factory}.{v.function}" for v in self.views.values() if v.factory and f"{v.module}.{v.function}" in native}
        plan = plan_state(
            functions, native - bridged, bridged, self.called_outside, self.unseen_calls, hooks, handlers,
            frozenset(self.flask_objects - plain), logs, async_getters, sync_guards, frozenset(extension_objects(self.made_by)) - plain,
        )
        if self.other_hooks and self.hooks:
            plan.hooks_kept = f"{self.other_hooks}, which the converter does not follow"
        elif kept:
            plan.hooks_kept = kept
        return plan

    def _parameter_hooks(self) -> tuple[list[HookFacts], str | None]:
        """The hooks registered on a function's parameter, as the app's: where the project has one
        app, every call of the function passes it (as for error handlers, codemod/error_handlers.py)
        and the app has no other hooks (whose order with these the plan could not tell). Else why
        all the app's hooks stay Flask's."""
        if not self.parameter_hooks:
            return [], None
        apps = sorted(self.apps)
        found = []
        for hook, receiver in self.parameter_hooks:
            name = hook.qualified.rpartition(".")[2]
            kind = registered_on(receiver, self.errors, self.receiver_kind, self.unseen_calls)
            if len(apps) != 1 or kind != "app":
                return [], f"{name} is registered on {receiver.param}: {kind or 'not known to be the app'}"
            found.append(dataclasses.replace(hook, app=apps[0]))
        if any(h.blueprint is None and not h.app_wide for h in self.hooks):
            return [], f"{found[0].qualified.rpartition('.')[2]} is registered on a parameter, other hooks on the app"
        return found, None

    @functools.cached_property
    def _state_and_async(self) -> tuple[StatePlan, AsyncPlan]:
        """The state plan and the async plan, which depend on each other: a guard that reads the
        database becomes a dependency only as an async one (state.py), and what is async depends
        on who takes the session (async_plan.py)."""
        state = self._plan_state()
        keep = bool(self.session_factories) and all(self.session_factories)
        resources = {**session_resources(self.functions, self.async_facts, state, keep), **sqlite_resources(self.async_facts, state)}
        native, bridged = self._view_levels
        # Flask-SQLAlchemy's session is sync, also where it leaves for plain SQLAlchemy's Session;
        # a view whose session work has an async form takes an AsyncSession where the plan colours it
        sqla_views = frozenset(self._flask_sqlalchemy_views.views)
        sqla_users = sync_users(self.functions, self.models, extension_objects(self.made_by)) - sqla_views
        before = self._flask_before_hooks(state)
        if before is not None:  # an async view runs before Flask's cycle (the runtime's routing)
            fixed = {f for f in self.functions if f in self.called_outside or f in self.referenced}
            # (with the twins: a view on the request resource names the hook, not the resource)
            would = plan_async(self.functions, self.async_facts, self.models, state, native - bridged, resources, fixed, self.unseen_calls, sqla_users, sqla_views)
            return state, AsyncPlan(reasons={**would.reasons, **{v: before for v in would.functions & (native - bridged)}})
        fixed = {f for f in self.functions if f in self.called_outside or f in self.referenced or f.rpartition(".")[2] in self.named}
        sync_guards: frozenset[str] = frozenset()
        for _ in range(3):  # a guard found unable to be async is planned again as a decorator
            state = self._plan_state(frozenset(resources), sync_guards)
            plan = plan_async(self.functions, self.async_facts, self.models, state, native - bridged, resources, fixed, self.unseen_calls, sqla_users, sqla_views)
            if plan.sync_guards <= sync_guards:
                return state, plan
            sync_guards |= plan.sync_guards
        return state, plan

    def _flask_before_hooks(self, state: StatePlan) -> str | None:
        """Why no view can be async (None: nothing stops them): the runtime runs an async view
        before Flask's cycle, so a before_request hook that stays Flask's would run after it
        (the runtime refuses that view). The project's own hooks are known; an extension that
        registers one at run time is known by name."""
        if self.other_hooks:
            return "the app registers before_request hooks the converter cannot follow, which Flask would run after an async view"
        hooks = [*self.hooks, *(h for h, _ in self.parameter_hooks)]
        kept = [h for h in hooks if h.kind == "before" and h.qualified not in state.hook_functions]
        if kept:
            return f"{kept[0].qualified.rpartition('.')[2]} stays a Flask before_request hook, which Flask would run after an async view"
        used = sorted(c for c in self.extension_calls if c in BEFORE_REQUEST_EXTENSIONS)
        if used:
            return f"{used[0]} registers a Flask before_request hook, which Flask would run after an async view"
        return None

    @functools.cached_property
    def httpauth(self) -> AuthPlan:
        """Which Flask-HTTPAuth objects become the runtime's dependencies (codemod/httpauth.py)."""
        return plan_httpauth(self)

    @functools.cached_property
    def plain_sqlalchemy(self) -> PlainSqlaPlan:
        """Whether Flask-SQLAlchemy leaves for plain SQLAlchemy (codemod/flask_sqlalchemy_plain.py)."""
        native, bridged = self._view_levels
        after = frozenset(h.qualified for h in self.hooks if h.kind == "after")
        plan = plan_plain(self.sqla, extension_objects(self.made_by), self.models, self.apps, native - bridged, after)
        if plan.hook_users:
            # a hook that queries opens its own session as RequestHooks middleware: it must become one
            state = self._plan_state(plain=plan.db)
            kept = sorted(plan.hook_users - set(state.hook_functions))
            if kept:
                why = f" ({state.hooks_kept})" if state.hooks_kept else ""
                return PlainSqlaPlan(problem=f"the hook {kept[0].rpartition('.')[2]} uses {plan.db.rpartition('.')[2]}.session and stays Flask's{why}")  # type: ignore[union-attr]
        return plan

    @functools.cached_property
    def _flask_sqlalchemy_views(self) -> FlaskSqlaPlan:
        """The views whose Flask-SQLAlchemy work has an async form, and why the others' has none
        (codemod/flask_sqlalchemy_async.session_views)."""
        native, bridged = self._view_levels
        plain = self.plain_sqlalchemy.db is not None
        return session_views(self.functions, self.async_facts, self.models, extension_objects(self.made_by), native - bridged, plain)

    @functools.cached_property
    def flask_sqlalchemy_plan(self) -> FlaskSqlaPlan:
        """The views that go async over Flask-SQLAlchemy's session (codemod/flask_sqlalchemy_async.py)."""
        return plan_flask_sqlalchemy(self._flask_sqlalchemy_views, self.async_plan.functions)

    @property
    def sync_reasons(self) -> dict[str, str]:
        """Why each native view that stays sync does, for the report."""
        reasons = {**self.async_plan.reasons, **self.flask_sqlalchemy_plan.reasons}
        if self.async_plan.functions:  # where views go async, an app factory's stays def for where it is
            for view in self.views.values():
                if view.factory is not None and f"{view.module}.{view.function}" not in self.async_plan.factory_views:
                    reasons.setdefault(f"{view.module}.{view.function}", f"defined inside {view.factory.rpartition('.')[2]}, where only a view that calls nothing that might block goes async (the async plan does not follow views there)")
        return reasons

    @property
    def state(self) -> StatePlan:
        """Per-request state on ``g`` and the dependencies that replace it (codemod/state.py)."""
        return self._state_and_async[0]

    @property
    def async_functions(self) -> frozenset[str]:
        """The functions the plan makes ``async def`` (transforms/http_client.py converts their
        blocking I/O as it does an ``async def``'s of the input)."""
        return self.async_plan.functions

    @functools.cached_property
    def async_plan(self) -> AsyncPlan:
        """The functions that become ``async def`` and what they await (codemod/async_plan.py);
        where views go async, an app factory's views that call nothing that can block go too."""
        plan = self._state_and_async[1]
        if not plan.functions:
            return plan
        native, bridged = self._view_levels
        factory_views = frozenset(
            key for view in self.views.values()
            if view.factory is not None and view.loop_safe and (key := f"{view.module}.{view.function}") in native - bridged
        )
        return dataclasses.replace(plan, factory_views=factory_views)

    @functools.cached_property
    def sync_streams(self) -> dict[str, frozenset[str]]:
        """Sync views whose streamed generator opens the request's resource itself (codemod/sync_streams.py)."""
        native, bridged = self._view_levels
        return sync_streams(self.async_facts, self.state, self.async_plan.functions, native - bridged)

    @functools.cached_property
    def settings(self) -> SettingsPlan:
        """Who takes the app's settings where it read ``current_app.config`` (codemod/settings.py)."""
        native, bridged = self._view_levels
        # a test's swap of a function that becomes async gets a stand-in that takes what the
        # function now takes (transforms/test_doubles.py); any other keeps the old signature
        swapped = self.named | (self.named_in_tests - {f.rpartition(".")[2] for f in self.async_plan.functions})
        return plan_settings(
            self.functions, self.config, native - bridged, bridged, self.called_outside, self.unseen_calls,
            self.referenced, swapped, frozenset(self.state.guards),
        )

    @functools.cached_property
    def helper_bodies(self) -> HelperBodyPlan:
        """Which helpers take the JSON body from the native views they serve (codemod/helper_bodies.py)."""
        native, bridged = self._view_levels
        decorated = {f"{v.module}.{v.function}" for v in self.views.values() if v.decorators}
        return plan_helper_bodies(
            self.functions, self.bodies, native - bridged, bridged, decorated, self.limits_body,
            self.called_outside, self.unseen_calls, self.referenced, self.named | self.named_in_tests,
        )

    @functools.cached_property
    def json_responders(self) -> frozenset[str]:
        """The project helpers that may answer with the runtime's FlaskJSONResponse where they
        returned ``jsonify(...), 400``: responders (every return fixes its status) whose every
        call is the whole value of a ``return`` of a view that only has native routes, so that
        what they give goes straight back to FlaskRoute, which makes Flask's response of a
        Starlette one. Not one called anywhere else (a bridged view, whose Flask would refuse it;
        a function that could look into the response, a nested function, module code, a test, a
        file the facts pass did not read) or referred to as a value, nor
        where the app writes its JSON its own way (FlaskJSONResponse writes jsonify's default)."""
        if self.own_json:
            return frozenset()
        native, bridged = self._view_levels
        views = native - bridged
        found = set()
        for name in self.responders & set(self.functions):
            callers = [f for f in self.functions.values() if name in f.calls or name in f.nested_calls]
            if not callers or name in self.called_outside or name.rpartition(".")[2] in self.unseen_calls:
                continue
            if name in self.referenced or self.functions[name].decorators:  # (a swap by name keeps its signature)
                continue
            if all(self._hands_back(f, name, views) for f in callers):
                found.add(name)
        return frozenset(found)

    def _hands_back(self, caller: FunctionFacts, name: str, views: set[str]) -> bool:
        """Whether what ``caller`` gets from calling the responder ``name`` goes back to FlaskRoute
        as it is: the view returns it whole, or a helper returns it in a tuple that every view
        calling the helper unpacks, testing and returning that element whole
        (``content, error = _read_content()`` ... ``if error: return error``)."""
        if name in caller.nested_calls or name in caller.bare_calls:
            return False
        if caller.qualified in views:
            return not any(called == name for called, _ in caller.tuple_returns)
        indexes = {i for called, i in caller.tuple_returns if called == name}
        helper = caller.qualified
        if len(indexes) != 1 or name in caller.returned_calls or caller.decorators:
            return False
        if helper in self.called_outside or helper in self.referenced or helper.rpartition(".")[2] in self.unseen_calls | self.named:
            return False
        index = indexes.pop()
        users = [f for f in self.functions.values() if helper in f.calls or helper in f.nested_calls]
        return bool(users) and all(
            f.qualified in views and helper not in f.nested_calls and (helper, index) in f.unpacked_returns for f in users
        )

    def int_argument(self, function: str, index: int, name: str) -> bool:
        """Whether every returned call of ``function`` (see json_responders) gives its parameter
        ``name``, the ``index``-th, an int literal."""
        given = [g for f in self.functions.values() for called, g in f.int_arguments if called == function]
        return bool(given) and all(str(index) in g or name in g for g in given)

    @functools.cached_property
    def error_handlers(self) -> dict[str, HandlerPlan]:
        """Whether each registered error handler becomes a FastAPI exception handler, by the
        handler's qualified name (codemod/error_handlers.py)."""
        return plan_handlers(
            self.errors, self.receiver_kind, self.unseen_calls, self.logger_name is not None, self.own_json, self._registered_once,
            self._template_blockers,
        )

    def _template_blockers(self, module: str, template: str, passed: frozenset[str]) -> str | None:
        """Why the template does not render alike without Flask in ``module`` (None: it does)."""
        return "; ".join(self.template_plan.blockers(module, template, passed)[1]) or None

    def _registered_once(self, blueprint: str) -> bool:
        """Whether the project registers the blueprint (its variable's qualified name) once, on
        its one app: its app-wide handlers convert there (codemod/blueprint_handlers.py)."""
        registrations = self.registrations.get(blueprint, [])
        return len(self.apps) == 1 and len(registrations) == 1 and bool(registrations[0].receiver & set(self.apps))

    @functools.cached_property
    def logger_name(self) -> str | None:
        """The name of the logger ``current_app.logger`` is, when the project shows it: every
        Flask app of the project has that name (codemod/app_logger.py); None otherwise."""
        names = {app.name for app in self.apps.values()}
        if len(names) != 1 or self.logger_set:
            return None
        return names.pop()

    @functools.cached_property
    def native_blueprints(self) -> dict[str, BlueprintFacts]:
        """The blueprints that get a router: those with at least one native route."""
        names = {p.blueprint for plans in self._plans.values() for p in plans if p.level == "native"}
        return {name: self.blueprints[name] for name in sorted(n for n in names if n)}

    @property
    def prefilter_tokens(self) -> set[bytes]:
        """Words of which a file needs at least one to have anything to convert."""
        names = set(self.apps) | set(self.blueprints) | self.factories | self.bridges
        # a converted handler's module, and each module registering it, names it
        names |= {name for name, plan in self.error_handlers.items() if plan.convert}
        # a function that takes the settings, and so each of its callers (they take them too)
        names |= set(self.settings.params)
        # b"TODO[F2F": a converted file still reports the markers an earlier run left in it.
        return {b"flask", b"TODO[F2F"} | {n.rsplit(".", 1)[-1].encode() for n in names}

    def kind(self, names: set[str]) -> str | None:
        if not names.isdisjoint(self.apps):
            return "app"
        if any(n in self.blueprints for n in names):
            return "blueprint"
        return None

    def kind_of(self, transform, node: cst.BaseExpression) -> str | None:
        """'app' or 'blueprint' for an expression naming one, following local assignments
        from app factories (``app = create_app()``), direct factory calls and parameters
        annotated ``Flask`` or ``Blueprint``."""
        kind = self.kind(transform.qualified_names(node))
        if kind is not None:
            return kind
        if isinstance(node, cst.Call):
            return "app" if transform.qualified_names(node.func) & self.factories else None
        if not isinstance(node, cst.Name):
            return None
        for value in transform.assigned_values(node):
            if isinstance(value, cst.Call) and transform.qualified_names(value.func) & self.factories:
                return "app"
        for annotation in transform.parameter_annotations(node):
            names = transform.qualified_names(annotation)
            if names & FLASK:
                return "app"
            if names & BLUEPRINT:
                return "blueprint"
        return None


def module_of(path: Path) -> ModuleNameAndPackage:
    """The dotted module name a file is imported as, found by walking up its packages."""
    path = path.resolve()
    parts = [] if path.stem == "__init__" else [path.stem]
    folder = path.parent
    # A folder without __init__.py inside a package is a namespace package (flask/sansio).
    while folder.parent != folder and ((folder / "__init__.py").exists() or (folder.parent / "__init__.py").exists()):
        parts.insert(0, folder.name)
        folder = folder.parent
    name = ".".join(parts) or path.parent.name
    package = name if path.stem == "__init__" else name.rpartition(".")[0]
    return ModuleNameAndPackage(name, package)


def wrap(module: cst.Module, path: Path) -> MetadataWrapper:
    # The module was parsed for this wrapper alone, so the defensive deep copy is skipped.
    return Wrapper(module, unsafe_skip_copy=True, cache={FullNames: module_of(path)})


def free_name(candidates: tuple[str, ...], used: set[str]) -> str:
    """The first of ``candidates`` (then ``<last>_2``, ``<last>_3``...) not in ``used``."""
    numbered = (f"{candidates[-1]}_{i}" for i in itertools.count(2))
    return next(c for c in itertools.chain(candidates, numbered) if c not in used)


class _FactsVisitor(Visitor):
    METADATA_DEPENDENCIES = (FullNames, PositionProvider)

    def __init__(self, path: Path, module: str) -> None:
        super().__init__()
        self.path, self.module = path, module
        self.facts = Project()
        self.functions: list[cst.FunctionDef] = []
        self.used: set[str] = set()  # every identifier of the module: new names avoid them all
        self.nesting = 0  # classes and functions around the node visited
        self.entered: list[int] = []  # the nesting each function on the stack was entered at
        self.following: dict[cst.CSTNode, cst.CSTNode] = {}  # statement -> the next one
        # register_blueprint calls that are a statement of their own (an include_router can
        # follow them), and function names defined more than once (their views are ambiguous)
        self.standalone: set[cst.Call] = set()
        self.defined: set[str] = set()
        self.twice: set[str] = set()
        # for Project.referenced: names that may be a project function (module-level defs and
        # imported names), the nodes called, and the nodes that bind a name rather than use it
        self.function_names: set[str] = set()
        self.callees: set[cst.CSTNode] = set()
        self.bindings: set[cst.CSTNode] = set()
        self.runs_as_script = False  # the module has an ``if __name__ == "__main__":`` block
        self.source = b""
        self.receivers: dict[str, str] = {}  # module-level loggers and patterns (codemod/hook_calls.py)
        self.http_module: ModuleFacts | None = None  # what its functions' requests use reads (http_io.py)

    def _names(self, node: cst.CSTNode) -> set[str]:
        return {canonical(q.name) for q in self.get_metadata(FullNames, node, set())}

    def _http(self, function: cst.FunctionDef) -> HttpFacts | None:
        """Whether the function's requests calls can run on the shared aiohttp client (None:
        it makes none, and hands no response on)."""
        if self.http_module is None:
            return None
        facts = http_facts(function, self._names, self.http_module)
        return facts if facts.calls or facts.problem or facts.partners else None

    def visit_Module(self, node: cst.Module) -> None:
        self.http_module = module_facts(node, self._names) if b"requests" in self.source else None
        self.receivers = module_receivers(node, self.module, self._names)
        self.used = {n.value for n in findall(node, m.Name())}  # type: ignore[union-attr]
        main = m.If(test=m.Comparison(left=m.Name("__name__"), comparisons=[m.ComparisonTarget(m.Equal(), m.SimpleString())]))
        self.runs_as_script = any(m.matches(s, main) for s in node.body)
        for statement in node.body:
            if isinstance(statement, cst.FunctionDef):
                self.function_names.add(statement.name.value)
            for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
                if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                    self.function_names |= {(a.evaluated_alias or a.evaluated_name).partition(".")[0] for a in small.names}

    def leave_Module(self, original_node: cst.Module) -> None:
        if any(word in self.source for word in (b"login_required", b"current_user", b"flask_httpauth")):
            self.facts.auth.merge(auth_facts(original_node, self.module, self._names))

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        self.bindings |= set(findall(node, m.Name()))

    def visit_Param(self, node: cst.Param) -> None:
        self.bindings.add(node.name)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.bindings.add(node.keyword)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.function_names and node not in self.callees and node not in self.bindings:
            self.facts.referenced |= self._names(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node not in self.callees and isinstance(node.value, cst.Name) and node.value.value in self.function_names:
            self.facts.referenced |= self._names(node)  # map(llm.complete, ...)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._link(node.body)

    def _link(self, body) -> None:
        for statement, after in zip(body, body[1:]):
            self.following[statement] = after

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if len(node.body) == 1 and isinstance(node.body[0], cst.Expr) and isinstance(node.body[0].value, cst.Call):
            self.standalone.add(node.body[0].value)
        if len(node.body) != 1 or not isinstance(node.body[0], (cst.Assign, cst.AnnAssign)):
            return
        assign = node.body[0]
        targets = [t.target for t in assign.targets] if isinstance(assign, cst.Assign) else [assign.target]
        value = assign.value
        if not isinstance(value, cst.Call) or len(targets) != 1:
            return
        called, names = self._names(value.func), self._names(targets[0])
        if self.nesting == 0 and any(c.partition(".")[0] in ("flask", "werkzeug") or c.startswith("flask_") for c in called):
            self.facts.flask_objects |= names
        if called & FLASK:
            bridge, bridged = self._existing(node, FLASK_BRIDGE)
            if bridge is None:
                bridge = free_name(BRIDGE_NAMES, self.used)
                self.used.add(bridge)
            app_name = import_name(value, self.module)
            if self.runs_as_script and "." in self.module and app_name == self.module:
                app_name = None  # run as ``python -m pkg.mod``, Flask names the app "mod"
            factory = self._factory()
            if factory is not None and node not in self.functions[0].body.body:
                factory = None
            for name in names:
                self.facts.apps[name] = AppFacts(self.module, self.nesting == 0, bridge, bridged, app_name, factory)
        elif called & BLUEPRINT:
            router, _ = self._existing(node, API_ROUTER)
            for name in names:
                self.facts.blueprints[name] = BlueprintFacts.of(  # a factory's own too: its views are in it
                    value, self.module, targets[0], self.nesting == 0 or self._factory() is not None, router, self.used
                )
        elif FLASK_BRIDGE in called:
            self.facts.bridges |= names
        elif called & HTTPAUTH_CLASSES:
            self.facts.auth_objects |= names
        elif called & jwt_facts.MANAGERS:
            self.facts.jwt_managers |= names
            if self.nesting or len(value.args) > 1 or any(a.keyword or a.star for a in value.args):
                self.facts.jwt_problems.append(f"{self.module}: a JWTManager made in a function, or with more than the app")
        elif called & jwt_facts.RUNTIME_AUTH:
            self.facts.jwt_auths |= names
        elif called:  # app = create_app(): an app when create_app turns out to be a factory
            for name in names:
                self.facts.made_by[name] = frozenset(called)

    def _existing(self, statement: cst.CSTNode, called: str) -> tuple[str | None, bool]:
        """The variable of ``x = <called>(...)`` when it is the statement after ``statement``
        (what an earlier run of the converter inserted there)."""
        after = self.following.get(statement)
        if after is None or not m.matches(after, m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name())], m.Call())])):
            return None, False
        assign = after.body[0]  # type: ignore[attr-defined]
        if called not in self._names(assign.value.func):
            return None, False
        return assign.targets[0].target.value, True

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        """``app.json = P(app)``, ``app.json.sort_keys = False``, ``json_provider_class = P``
        (any object's: a false alarm only keeps Flask's JSON)."""
        target: cst.BaseExpression = node.target
        if isinstance(target, cst.Attribute) and target.attr.value == "logger":
            self.facts.logger_set = True
        while isinstance(target, (cst.Attribute, cst.Subscript)):
            if isinstance(target, cst.Attribute) and target.attr.value in JSON_SETTINGS:
                self.facts.own_json = True
            target = target.value
        if isinstance(target, cst.Name) and target.value in JSON_SETTINGS - {"json"}:
            self.facts.own_json = True

    def visit_Call(self, node: cst.Call) -> None:
        if self._names(node.func) & SESSIONMAKER:
            self.facts.session_factories.append(any(
                a.keyword is not None and a.keyword.value == "expire_on_commit" and m.matches(a.value, m.Name("False")) for a in node.args
            ))
        self.callees.add(node.func)
        self.facts.extension_calls |= {q for q in self._names(node.func) if q.startswith("flask_")}
        for arg in node.args:
            value = arg.value.evaluated_value if isinstance(arg.value, cst.SimpleString) else None
            if isinstance(value, str) and all(part.isidentifier() for part in value.split(".")):
                self.facts.named.add(value.rpartition(".")[2])
        if m.matches(node.func, m.Attribute(attr=m.Name(m.MatchIfTrue(lambda n: n in REQUEST_HOOKS)))) and node.args:
            self.facts.auth.request_hooks.add("?")  # app.after_request(f): a hook whoever f is
        if m.matches(node.func, m.Attribute(attr=m.Name("before_request") | m.Name("after_request") | m.Name("before_app_request") | m.Name("after_app_request"))):
            self.facts.other_hooks = self.facts.other_hooks or f"a {node.func.attr.value} hook is registered by a call"  # type: ignore[attr-defined]
        if not self.entered or self.entered[0] > 0:  # module code, a class body or a method
            self.facts.called_outside |= self._names(node.func)
        if m.matches(node.func, m.Attribute(attr=m.Name("register_blueprint"))) and node.args:
            registration = Registration.of(node, self._names(node.func.value), self.module)  # type: ignore[attr-defined]
            if node not in self.standalone:
                registration = dataclasses.replace(registration, problem="registration not a statement of its own")
            registration = dataclasses.replace(registration, line=self.get_metadata(PositionProvider, node).start.line)
            for name in self._names(node.args[0].value):
                self.facts.registrations.setdefault(name, []).append(registration)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if self.nesting == 0:
            qualified = f"{self.module}.{node.name.value}"
            model = model_facts(node, qualified, self._names)
            if model is not None:
                self.facts.models[qualified] = model
        self.nesting += 1

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.nesting -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.nesting == 0:
            kind = guard_kind(node, self._names)
            if kind == "guard":
                self.facts.guards |= self._names(node.name)
            elif kind == "factory":
                self.facts.guard_factories |= self._names(node.name)
            elif is_passthrough(node, self._names):
                self.facts.passthroughs |= self._names(node.name)
            if kind is not None and answers_early(node, self._names):
                self.facts.plain_guards |= self._names(node.name)
            if responder(node, self._names):
                self.facts.responders |= self._names(node.name)
            if kind is not None and b"flask_jwt_extended" in self.source and jwt_facts.jwt_check(node, self._names) is not None:
                self.facts.jwt_guards |= self._names(node.name)
        for decorator in node.decorators:
            if m.matches(decorator.decorator, m.Attribute(attr=m.Name())) and decorator.decorator.attr.value in jwt_facts.LOADERS:  # type: ignore[attr-defined]
                problem = jwt_facts.loader_problem(node, self._names)
                if problem is not None:
                    self.facts.jwt_problems.append(f"{self.module}: {problem}")
        if self.nesting == 1 and len(self.functions) == 1:  # an exception handler of ``init_app(app)`` may be one
            for qualified in self._names(node.name):
                self.facts.nested_functions[qualified] = function_facts(node, qualified, self.module, self._names)
        name = node.name.value
        (self.twice if name in self.defined else self.defined).add(name)
        view = view_facts(self, node, str(self.path), self.module, self.nesting == 0, self._factory())
        if view is not None and (view.path, name) not in self.facts.views:
            self.facts.views[(view.path, name)] = view
        if view is not None and view.factory is not None:
            # what an app factory's view reads of g is its own, not the factory's (whose hooks'
            # state planning leaves the factory's own reads aside): a reader the hooks must serve
            qualified = f"{view.factory}.{name}"
            self.facts.functions[qualified] = function_facts(node, qualified, self.module, self._names)
        self.bindings.add(node.name)
        if self.nesting == 0:
            qualified = f"{self.module}.{name}"
            self.facts.functions[qualified] = function_facts(node, qualified, self.module, self._names)
            # the module's one app, made at its top level: ``app.config`` reads as current_app's
            apps = frozenset(self.facts.apps) if len(self.facts.apps) == 1 and all(a.module_level for a in self.facts.apps.values()) else frozenset()
            self.facts.config[qualified] = config_facts(node, self._names, apps)
            self.facts.bodies[qualified] = body_facts(node, self._names)
            if b"flask_jwt_extended" in self.source and jwt_facts.reads_token(node, self._names):
                self.facts.jwt_readers.add(qualified)
            # a guard's checks run in its wrapper: what they block on and read is the wrapper's
            wrapper = next((s for s in node.body.body if isinstance(s, cst.FunctionDef)), None) if kind == "guard" else None  # type: ignore[union-attr]
            facts = async_facts(wrapper or node, self._names, self._http(wrapper or node))
            opening = opening_problem(node, self._names) if CONNECT in facts.blocking else None
            self.facts.async_facts[qualified] = dataclasses.replace(facts, sqlite=sqlite_uses(wrapper or node, self._names), sqlite_opening=opening)
            # calls in its decorators and default values run where no settings can be handed over
            for part in (*node.decorators, *(p.default for p in (*node.params.params, *node.params.kwonly_params) if p.default)):
                for call in findall(part, m.Call()):
                    self.facts.referenced |= self._names(call.func)  # type: ignore[attr-defined]
        self._hooks(node)
        self.functions.append(node)
        self.entered.append(self.nesting)
        self.nesting += 1

    def _factory(self) -> str | None:
        """The qualified name of the module-level function the node visited is defined in directly
        (an app factory's ``@app.route`` views), None anywhere else."""
        if len(self.functions) != 1 or self.nesting != 1:
            return None
        return f"{self.module}.{self.functions[0].name.value}"

    def _hooks(self, node: cst.FunctionDef) -> None:
        """An app's ``@app.before_request`` / ``@app.after_request`` function (a module-level one,
        or one defined in a factory function)."""
        for decorator in node.decorators:
            target = decorator.decorator
            if isinstance(target, cst.Attribute) and target.attr.value in REQUEST_HOOKS:
                self.facts.auth.request_hooks.add(".".join([self.module, *(f.name.value for f in self.functions), node.name.value]))
            if isinstance(target, cst.Attribute) and target.attr.value in APP_WIDE_HOOKS and not self.functions:
                blueprints = sorted(self._names(target.value) & set(self.facts.blueprints))
                if blueprints:
                    # a blueprint's app-wide hook: one of the app's, added where the blueprint is
                    # registered (Project._blueprint_hooks)
                    line = self.get_metadata(PositionProvider, node).start.line
                    facts = hook_facts(node, APP_WIDE_HOOKS[target.attr.value], f"{self.module}.{node.name.value}", "", line, self._names, self.receivers)
                    if len(node.decorators) > 1:
                        facts = dataclasses.replace(facts, problem=facts.problem or "it has decorators of its own")
                    self.facts.hooks.append(dataclasses.replace(facts, blueprint=blueprints[0], app_wide=True))
                    continue
            if isinstance(target, cst.Attribute) and target.attr.value in OTHER_BEFORE_HOOKS:
                self.facts.other_hooks = self.facts.other_hooks or f"{node.name.value} is a {target.attr.value} hook"
                continue
            if not isinstance(target, cst.Attribute) or target.attr.value not in HOOK_KINDS:
                continue
            apps = sorted(self._names(target.value) & set(self.facts.apps))
            blueprints = sorted(self._names(target.value) & set(self.facts.blueprints))
            if not apps and blueprints and not self.functions:
                # a blueprint's own hook: converted with the app's, for its views only; which
                # app and whether its views allow it, the project decides (Project._plan_state)
                line = self.get_metadata(PositionProvider, node).start.line
                qualified = f"{self.module}.{node.name.value}"
                facts = hook_facts(node, HOOK_KINDS[target.attr.value], qualified, "", line, self._names, self.receivers)
                if len(node.decorators) > 1:  # ``@token_auth.login_required`` under it: not a plain hook
                    facts = dataclasses.replace(facts, problem=facts.problem or "it has decorators of its own")
                self.facts.hooks.append(dataclasses.replace(facts, blueprint=blueprints[0]))
                continue
            if not apps and target.attr.value == "teardown_request":
                continue  # a blueprint's stays Flask's; what it does with g, the plan checks (state.plan_state)
            receiver = self._app_parameter(target.value) if not apps and not blueprints else None
            if receiver is not None:
                # ``def register_error_handlers(app): @app.after_request ...``: the app's hook where
                # every call passes the app (Project._parameter_hooks)
                qualified = ".".join([self.module, self.functions[0].name.value, node.name.value])
                line = self.get_metadata(PositionProvider, node).start.line
                facts = hook_facts(node, HOOK_KINDS[target.attr.value], qualified, "", line, self._names, self.receivers)
                self.facts.parameter_hooks.append((facts, receiver))
                self.facts.functions[qualified] = function_facts(node, qualified, self.module, self._names)
                continue
            if not apps or any(not isinstance(f, cst.FunctionDef) for f in self.functions) or len(self.functions) > 1:
                where = "a blueprint's" if not apps else "a nested function, an app's"
                self.facts.other_hooks = self.facts.other_hooks or f"{node.name.value} is {where} {target.attr.value} hook"
                continue
            outer = [f.name.value for f in self.functions]
            qualified = ".".join([self.module, *outer, node.name.value])
            line = self.get_metadata(PositionProvider, node).start.line
            self.facts.hooks.append(hook_facts(node, HOOK_KINDS[target.attr.value], qualified, apps[0], line, self._names, self.receivers))
            if outer:
                self.facts.functions[qualified] = function_facts(node, qualified, self.module, self._names)

    def _app_parameter(self, node: cst.BaseExpression) -> Receiver | None:
        """The parameter ``node`` is, of the module-level function the hook is defined in directly."""
        if len(self.functions) != 1 or not isinstance(node, cst.Name) or self.nesting != 1:
            return None
        function = self.functions[0]
        params = [*function.params.posonly_params, *function.params.params]
        index = next((i for i, p in enumerate(params) if p.name.value == node.value), None)
        qualified = sorted(self._names(function.name))
        if index is None or len(qualified) != 1 or bindings(function).get(node.value):
            return None
        return Receiver(frozenset(self._names(node)), qualified[0], index, node.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()
        self.entered.pop()
        self.nesting -= 1

    def visit_Return(self, node: cst.Return) -> None:
        if not self.functions or node.value is None:
            return
        names = self._names(node.value)
        if not names.isdisjoint(self.facts.apps) or names & self.facts.bridges:
            self.facts.factories |= self._names(self.functions[-1].name)


def gather(path: Path, source: bytes, parsed: dict[Path, tuple[cst.Module, MetadataWrapper]] | None = None) -> Project:
    """The facts one file contributes (nothing when it does not parse: pass 2 reports that).
    ``parsed`` keeps the file's tree and its resolved metadata for the transform pass (the
    engine's fast path: one parse and one resolution per file and run)."""
    facts = _gather(path, source, parsed)
    if is_test_file(path):
        facts.named_in_tests, facts.named = facts.named, set()
    return facts


def is_test_file(path: Path) -> bool:
    """A file pytest or unittest would collect or configure: test_*.py, *_test.py, conftest.py,
    or any file under a ``tests`` / ``test`` folder."""
    name = path.name
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py" or bool({"tests", "test"} & set(path.parts[:-1]))


def _gather(path: Path, source: bytes, parsed: dict[Path, tuple[cst.Module, MetadataWrapper]] | None = None) -> Project:
    limits = b"MAX_CONTENT_LENGTH" in source or b"max_content_length" in source
    response_class = b"response_class" in source
    if not any(token in source for token in FACTS_PREFILTER):
        return Project(
            unseen_calls={n.decode() for n in CALLED.findall(source)}, named={n.decode() for _, n in NAMED.findall(source)},
            limits_body=limits, own_response_class=response_class,
        )
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        return Project()
    visitor = _FactsVisitor(path, module_of(path).name)
    visitor.source = source
    visitor.facts.limits_body = limits
    visitor.facts.own_response_class = response_class
    visitor._link(module.body)
    # the facts visitors, in one walk of the tree (codemod/visitors.py): each falls back on its
    # own, as below, when its metadata or its reading fails
    login = login_reader(str(path), visitor.module) if b"flask_login" in source else None
    session = session_reader(str(path)) if any(word in source for word in (b"session", b"flash", b"render_template")) else None
    sqla, errors = sqla_file_reader(visitor.module), ErrorFactsVisitor(str(path))
    readers = [r for r in (visitor, login, session, sqla, errors) if r is not None]
    try:
        wrapper = wrap(module, path)
        failed = dict(zip(map(id, readers), visit_together(wrapper, readers)))
    except Exception:  # the transform pass meets the same problem and reports it (F2F002)
        return Project()
    if failed[id(visitor)] is not None:
        return Project()
    if parsed is not None:
        parsed[path] = (module, wrapper)
    if login is not None:
        try:
            if failed[id(login)] is not None:
                raise failed[id(login)]  # type: ignore[misc]
            visitor.facts.login = login_read(login, str(path), source)
        except Exception as error:  # Flask-Login stays where its facts are not known
            visitor.facts.login = LoginFacts(problems=[f"{path}: {type(error).__name__}: {error}"], uses_login=True)
    if session is not None:
        error = failed[id(session)]
        visitor.facts.session = session.facts if error is None else SessionFacts(problems=[f"{path}: {type(error).__name__}: {error}"])
    if b"flask" in source:
        try:
            visitor.facts.templates[visitor.module] = template_facts(wrapper, path, visitor.module, source)
        except Exception:  # no facts of its templates: they stay Flask's, and so does the session
            visitor.facts.templates[visitor.module] = TemplateFacts(str(path), visitor.module, folders=(UNKNOWN,), renders=True)
    # no facts of its uses of Flask-SQLAlchemy: the project keeps the extension
    visitor.facts.sqla = sqla_file_read(sqla, source) if failed[id(sqla)] is None else SqlaFileFacts(binds=True)
    if failed[id(errors)] is None:  # else no facts of its error handlers: each stays Flask's, as they are
        visitor.facts.errors = errors.facts
    for key, view in visitor.facts.views.items():
        if view.function in visitor.twice:  # which def a plan is about would be a guess
            visitor.facts.views[key] = dataclasses.replace(view, problem="function name defined twice in the module")
    return visitor.facts

"""The last step of a migration: once the converted project uses Flask only to build its app, the
Flask app, the bridge and the dependency on Flask leave.

DESIGN.md, "the report shows the way": when no Flask use is left, the Flask app, the bridge and
the dependency on Flask leave the converted project. The engine runs this transform on the
converted files (``codemod/leave_flask.py``), and keeps its output only where no file has a
blocker left: what is rewritten here is the app's plumbing, the one part of Flask a project still
needs once every route is native::

    app = Flask(__name__, instance_relative_config=True)     app = NativeApp(__name__, instance_relative_config=True)
    api = FlaskBridge(app)                                 ->  app.config.from_object(Config)
    app.config.from_object(Config)                             app.add_middleware(FlaskCorsMiddleware, config=app.config, origins=...)
    CORS(app, origins=...)                                     errors.init_app(app)
    errors.init_app(app)                                       app.include_router(auth.router, prefix="/auth")
    app.register_blueprint(auth.bp)                            return app
    api.include_router(auth.router, prefix="/auth")
    return api

- ``Flask(...)`` served by a ``FlaskBridge`` becomes the runtime's ``NativeApp(...)``: a FastAPI
  app with the parts of Flask's app object that factory code uses (``config`` and its loaders,
  ``extensions``, ``instance_path``, ``logger``, ``testing``) and Flask's conventions for its
  routes. The bridge's variable takes the app's name inside a factory; at module level, where
  other modules or a server command name it, it stays as a second name of the app.
- ``register_blueprint`` calls and the ``Blueprint`` objects nothing else uses go: the routers
  already carry their prefixes. ``bridge_of(app)`` is the app itself; ``FlaskRoute`` becomes
  ``NativeRoute``; a ``Flask`` annotation (``def init_app(app: Flask)``) or class reference (a
  test's ``monkeypatch.setattr(Flask, ...)``) becomes ``NativeApp``.
- ``CORS(app, ...)`` (Flask-CORS) becomes the runtime's ``FlaskCorsMiddleware`` with the same
  options and the app's config, which it reads as Flask-CORS did: its answers are Flask-CORS's,
  byte for byte (runtime/flask2fastapi_runtime/cors.py). It goes below the block's
  ``add_middleware(RequestHooks, ...)``, so that it wraps the hooks: Flask-CORS was an
  after_request function, and Flask ran those on every answer, a before hook's early one too
  (Starlette's last added middleware is the outermost).

``flashes_in_flask_templates(app)`` goes too: it gave the templates Flask still rendered the
runtime's ``get_flashed_messages``, and Flask renders none any more.

A private module-level function (``_json_object``) that nothing calls any more, because the
views now take what it read as parameters, goes with the Flask it used (``unused``: its name
is nowhere else in the project's text).

Everything else of Flask, werkzeug or an extension that is still referenced is a blocker, as is
an attribute of the app this cannot give (``app.before_request``, ``app.jinja_env``...) or the app
handed to a function outside the project (an extension's ``init_app``): then Flask stays, and the
report names what keeps it.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.metadata import GlobalScope, PositionProvider, Scope

from codemod.find import findall
from codemod.jwt_facts import app_takers
from codemod.transform import FileRun, Transform, _is_flask_module
from transforms._flask import RUNTIME
from codemod.names import Parents, Scopes

FLASK_APP = ("flask.Flask", "flask.app.Flask")
BLUEPRINT = ("flask.Blueprint", "flask.blueprints.Blueprint")
CORS = ("flask_cors.CORS", "flask_cors.extension.CORS")
BRIDGE = f"{RUNTIME}.FlaskBridge"
BRIDGE_OF = f"{RUNTIME}.bridge_of"
FLASK_ROUTE = f"{RUNTIME}.FlaskRoute"
RUNTIME_FLASK_SIDE = frozenset({BRIDGE, BRIDGE_OF, FLASK_ROUTE, f"{RUNTIME}.BridgedClient", f"{RUNTIME}.as_wsgi"})
# what gives the templates Flask renders the runtime's flashes: once Flask leaves, it renders none
FLASK_TEMPLATES = f"{RUNTIME}.flashing.flashes_in_flask_templates"

# What factory code may use of the app object: NativeApp has these (or FastAPI does).
# (not ``root_path``: FastAPI's is the ASGI root path; NativeApp's folder is ``folder``)
APP_ATTRIBUTES = frozenset({
    "config", "extensions", "instance_path", "import_name", "name", "logger", "testing", "debug",
    "test_client", "add_exception_handler", "add_middleware", "include_router", "state", "auto_find_instance_path",
})
# Flask's constructor arguments NativeApp honours (static_folder only as None: no static files)
APP_ARGUMENTS = frozenset({"import_name", "instance_path", "instance_relative_config"})
# Flask-CORS options FlaskCorsMiddleware carries over (all but resources, which it takes only as every path)
CORS_OPTIONS = frozenset({
    "origins", "methods", "expose_headers", "allow_headers", "supports_credentials", "max_age", "send_wildcard",
    "vary_header", "always_send", "allow_private_network", "automatic_options", "intercept_exceptions",
})
# what only the bridge has
BRIDGE_ATTRIBUTES = frozenset({"flask_app", "sync_routes", "native_methods", "wsgi", "url_map", "route"})


class LeaveFlaskTransform(Transform):
    NAME = "leave_flask"
    DESCRIPTION = "no Flask use left: Flask(...) + FlaskBridge -> NativeApp, blueprints and Flask-CORS out"
    METADATA_DEPENDENCIES = (*Transform.METADATA_DEPENDENCIES, PositionProvider)
    # private module-level functions whose name is nowhere else in the project (the engine's
    # subclass sets it): one that uses Flask goes
    unused: frozenset[str] = frozenset()

    def __init__(self, context: CodemodContext, run: FileRun) -> None:
        super().__init__(context, run)
        self.blockers = run.flask_blockers
        # (scope, name) of every Flask app object: Flask(...) variables, parameters annotated Flask
        self.apps: set[tuple[Scope, str]] = set()
        # bridge variable -> (its scope, the app's name, the FlaskBridge(...) call, module level?)
        self.bridges: dict[tuple[Scope, str], tuple[str, cst.Call, bool]] = {}
        self.app_calls: set[cst.Call] = set()  # Flask(...) calls served by a bridge
        self.dropped: set[cst.CSTNode] = set()  # statements that go
        self.handled: set[cst.CSTNode] = set()  # Flask references rewritten here
        self.in_import = 0
        self.deferred: set[cst.CSTNode] = set()  # names of calls decided where the call is left
        # the bridge variable's uses in a factory, nested functions' included -> its key in bridges
        self.renamed: dict[cst.CSTNode, tuple[Scope, str]] = {}
        self.dead: list[list[str]] = []  # the blockers of each unused function being left
        # the statements that go, by id, removed by their block (held here: a freed one's id is reused)
        self.removed: dict[int, cst.BaseStatement] = {}
        self.cors_calls: set[cst.CSTNode] = set()  # the add_middleware(FlaskCorsMiddleware, ...) calls made here

    # -- what there is ----------------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        for assign in findall(node, m.Assign(targets=[m.AssignTarget(target=m.Name())], value=m.Call())):
            call, target = assign.value, assign.targets[0].target
            if self.names(call.func, BRIDGE) and call.args and isinstance(call.args[0].value, cst.Name):
                scope = self.get_metadata(Scopes, target, None)
                module_level = isinstance(self.get_metadata(Parents, self.get_metadata(Parents, assign)), cst.Module)
                self.bridges[(scope, target.value)] = (call.args[0].value.value, call, module_level)
                if scope is not None and not module_level:  # references: nested scopes' reads too
                    for assignment in scope.assignments[target.value]:
                        self.renamed.update((access.node, (scope, target.value)) for access in assignment.references)
        served = {(scope, app) for (scope, _), (app, _, _) in self.bridges.items()}
        for assign in findall(node, m.Assign(targets=[m.AssignTarget(target=m.Name())], value=m.Call())):
            call, target = assign.value, assign.targets[0].target
            if self.names(call.func, *FLASK_APP):
                key = (self.get_metadata(Scopes, target, None), target.value)
                self.apps.add(key)
                if key in served:
                    self.app_calls.add(call)
                else:
                    self._block(call, "a Flask app that no FlaskBridge serves")
        return None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.name.value in self.unused and isinstance(self.get_metadata(Scopes, node, None), GlobalScope):
            self.dead.append([])
        for param in (*node.params.params, *node.params.kwonly_params, *node.params.posonly_params):
            if param.annotation is not None and self.names(param.annotation.annotation, *FLASK_APP):
                self.apps.add((self.get_metadata(Scopes, param.name, None), param.name.value))

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef | cst.RemovalSentinel:
        if original_node.name.value in self.unused and isinstance(self.get_metadata(Scopes, original_node, None), GlobalScope):
            if self.dead.pop():  # it used Flask, and nothing calls it
                for name in findall(original_node, m.Name()):
                    self.consume(name)  # so that the imports only it used go too
                return self._removed(updated_node)
        return updated_node

    def visit_Call(self, node: cst.Call) -> None:
        if self.names(node.func, *FLASK_APP, *BLUEPRINT, *CORS, BRIDGE, BRIDGE_OF):
            self.deferred.update(findall(node.func, m.Name()))

    def visit_Import(self, node: cst.Import) -> None:
        self.in_import += 1

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import:
        self.in_import -= 1
        return updated_node

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.in_import += 1

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        self.in_import -= 1
        return updated_node

    # -- rewriting --------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if original_node in self.app_calls:
            return self._native_app(original_node, updated_node)
        if self.names(original_node.func, BRIDGE_OF) and len(original_node.args) == 1:
            self._handle(original_node.func)
            return updated_node.args[0].value
        if self.names(original_node.func, *CORS):
            return self._cors(original_node, updated_node)
        if self.names(original_node.func, *FLASK_APP):
            return updated_node  # served by no bridge: blocked in visit_Module
        if self.names(original_node.func, BRIDGE, *BLUEPRINT):
            if not self._statement_value(original_node):
                self._block(original_node, f"{_describe(original_node.func)}(...) other than as x = {_describe(original_node.func)}(...)")
            return updated_node  # its statement goes (leave_SimpleStatementLine)
        self._check_app_arguments(original_node)
        return updated_node

    def _native_app(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        args = []
        for index, (arg, new) in enumerate(zip(original.args, updated.args)):
            name = arg.keyword.value if arg.keyword is not None else ("import_name" if index == 0 and not arg.star else None)
            if name == "static_folder" and m.matches(arg.value, m.Name("None")):
                continue  # no static files: NativeApp serves none
            if name not in APP_ARGUMENTS:
                self._block(arg, f"Flask({name or '*args'}=...), which NativeApp does not take")
            args.append(new)
        bridge_call = next(call for _, call, _ in self.bridges.values() if call is not None and self._serves(call, original))
        for arg in bridge_call.args[1:]:  # flask_errors=, http_client_options=: NativeApp's too
            args.append(arg)
        self._handle(original.func)
        native = self.import_reference(original.func, RUNTIME, "NativeApp", replaces=False)
        return updated.with_changes(func=native, args=_without_trailing_comma(args))

    def _serves(self, bridge_call: cst.Call, app_call: cst.Call) -> bool:
        """Whether ``bridge_call`` (FlaskBridge(x)) serves the app ``app_call`` makes."""
        parent = self.get_metadata(Parents, app_call)
        target = parent.targets[0].target if isinstance(parent, cst.Assign) else None
        first = bridge_call.args[0].value
        if not isinstance(target, cst.Name) or not isinstance(first, cst.Name) or first.value != target.value:
            return False
        return self.get_metadata(Scopes, first, None) is self.get_metadata(Scopes, target, None)

    def _cors(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        parent = self.get_metadata(Parents, original)
        app = original.args[0].value if original.args and original.args[0].keyword is None else None
        if not isinstance(parent, cst.Expr) or not isinstance(app, cst.Name) or not self._is_app(app):
            self._block(original, "CORS(...) not called on the app as a statement")
            return updated
        options = updated.args[1:]
        unknown = [a.keyword.value if a.keyword else "*" for a in options if a.keyword is None or a.keyword.value not in CORS_OPTIONS]
        if unknown:
            self._block(original, f"Flask-CORS option {', '.join(unknown)} (FlaskCorsMiddleware takes every path only)")
            return updated
        self._handle(original.func)
        self.handled.add(app)
        middleware = self.import_reference(original.func, RUNTIME, "FlaskCorsMiddleware", replaces=False)
        # laid out as a formatter would (LibCST indents the lines to the block)
        code = cst.Module([]).code_for_node
        lines = [
            f"{app.value}.add_middleware(",
            f"    {middleware.value},",
            f"    config={app.value}.config,",
            *(f"    {code(arg.with_changes(comma=cst.MaybeSentinel.DEFAULT)).strip()}," for arg in options),
            ")",
        ]
        made = cst.parse_expression("\n".join(lines))
        self.cors_calls.add(made)
        return made

    def _check_app_arguments(self, call: cst.Call) -> None:
        """The app handed to a function: fine for the project's own (its parameter is checked
        where it is annotated Flask), a blocker for anything else (an extension's init_app)."""
        for arg in call.args:
            if isinstance(arg.value, cst.Name) and self._is_app(arg.value):
                callee = self.qualified_names(call.func)
                project = self.run.project
                if callee & app_takers(project.jwt_managers, project.jwt_problems, project.jwt_auths) or FLASK_TEMPLATES in callee:
                    continue
                if not callee & set(self.run.project.functions):
                    self._block(call, f"the app given to {_describe(call.func)}, which is no function of the project")

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        owner = original_node.value
        if isinstance(owner, cst.Name):
            attribute = original_node.attr.value
            if self._is_app(owner) and attribute not in APP_ATTRIBUTES and attribute != "register_blueprint":
                self._block(original_node, f"app.{attribute}, which NativeApp has not")
            elif self._bridge_key(owner) is not None and attribute in BRIDGE_ATTRIBUTES:
                self._block(original_node, f"the bridge's {attribute}")
        return updated_node

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        if self.in_import or original_node in self.deferred:
            return updated_node
        if original_node in self.renamed:
            return updated_node.with_changes(value=self.bridges[self.renamed[original_node]][0])
        if original_node in self.handled:
            return updated_node
        names = self.qualified_names(original_node)
        if names & {*FLASK_APP, BRIDGE}:
            self._handle(original_node)
            return self.import_reference(original_node, RUNTIME, "NativeApp", replaces=False)
        if FLASK_ROUTE in names:
            self._handle(original_node)
            return self.import_reference(original_node, RUNTIME, "NativeRoute", replaces=False)
        if any(_is_flask_module(n) for n in names) or names & RUNTIME_FLASK_SIDE:
            self._block(original_node, f"{sorted(names)[0]}")
        return updated_node

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
        if len(original_node.body) != 1:
            return updated_node
        small = original_node.body[0]
        if m.matches(small, m.Assign(targets=[m.AssignTarget(target=m.Name())], value=m.Call())):
            target = small.targets[0].target
            key = (self.get_metadata(Scopes, target, None), target.value)
            if key in self.bridges:
                self._handle(small.value.func)
                if self.bridges[key][2]:  # module level: other modules may name it
                    return updated_node.with_changes(body=[small.with_changes(value=cst.Name(self.bridges[key][0]))])
                return self._removed(updated_node)
            if self.names(small.value.func, *BLUEPRINT):
                return self._blueprint(small, target, updated_node)
        if m.matches(small, m.Expr(m.Call(args=[m.Arg(m.Name())]))) and self.names(small.value.func, FLASK_TEMPLATES):
            if self._is_app(small.value.args[0].value):  # Flask renders no template any more
                self._handle(small.value.func)
                return self._removed(updated_node)
        if m.matches(small, m.Expr(m.Call(m.Attribute(value=m.Name(), attr=m.Name("register_blueprint"))))):
            owner = small.value.func.value
            if self._is_app(owner) or self._bridge_key(owner) is not None:
                for arg in small.value.args:  # the blueprint's module attribute (auth.bp), or its imported name
                    for name in findall(arg, m.Name()):
                        self._handle(name)  # an import only it used goes (the blueprint goes from its module)
                return self._removed(updated_node)
        return updated_node

    def _blueprint(self, assign: cst.Assign, target: cst.Name, updated: cst.SimpleStatementLine):
        scope = self.get_metadata(Scopes, target, None)
        # LibCST reads a string in an annotation as a forward reference, ``role="admin"`` in
        # ``Annotated[Any, Depends(auth.login_required(role="admin"))]`` too: no use of a blueprint
        accesses = [
            a for a in scope.accesses[target.value]
            if not (isinstance(a.node, cst.BaseString) and isinstance(self.get_metadata(Parents, a.node, None), cst.Arg))
        ] if scope is not None else []
        if [a for a in accesses if not self._registered(a.node)]:  # its registration goes with it
            self._block(assign, f"the blueprint {target.value}, still used here")
            return updated
        self._handle(assign.value.func)
        return self._removed(updated)

    def _registered(self, node: cst.CSTNode) -> bool:
        """Whether ``node`` is the blueprint of an ``app.register_blueprint(bp, ...)`` statement
        (a factory's own blueprint, registered next to it), which goes (leave_SimpleStatementLine)."""
        arg = self.get_metadata(Parents, node, None)
        call = self.get_metadata(Parents, arg, None) if isinstance(arg, cst.Arg) else None
        if not isinstance(call, cst.Call) or call.args[0] is not arg or not isinstance(self.get_metadata(Parents, call, None), cst.Expr):
            return False
        func = call.func
        if not m.matches(func, m.Attribute(value=m.Name(), attr=m.Name("register_blueprint"))):
            return False
        return self._is_app(func.value) or self._bridge_key(func.value) is not None  # type: ignore[attr-defined]

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return updated_node.with_changes(body=self._cors_outside_hooks(self._without_removed(updated_node.body)))

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.BaseSuite:
        body = self._cors_outside_hooks(self._without_removed(updated_node.body))
        return updated_node.with_changes(body=body or [cst.SimpleStatementLine([cst.Pass()])])

    def _cors_outside_hooks(self, body: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
        """The block with its CORS middleware moved below its last ``add_middleware(RequestHooks, ...)``
        (module doc), a comment saying why."""
        hooks = [i for i, statement in enumerate(body) if _adds_middleware(statement, "RequestHooks")]
        if not hooks:
            return body
        last = hooks[-1]
        moved = [s for s in body[:last] if isinstance(s, cst.SimpleStatementLine) and isinstance(s.body[0], cst.Expr) and s.body[0].value in self.cors_calls]
        if not moved:
            return body
        kept = [s for s in body if not any(s is m_ for m_ in moved)]
        at = next(i for i, s in enumerate(kept) if s is body[last]) + 1
        why = cst.EmptyLine(comment=cst.Comment("# around the hooks: Flask-CORS's after_request ran on every answer, a before hook's too"))
        first = moved[0]
        moved[0] = first.with_changes(leading_lines=[*(first.leading_lines or [cst.EmptyLine(indent=False)]), why])
        return [*kept[:at], *moved, *kept[at:]]

    def _removed(self, statement: cst.BaseStatement) -> cst.BaseStatement:
        self.removed[id(statement)] = statement
        return statement

    def _without_removed(self, body) -> list[cst.BaseStatement]:
        """The block without its removed statements; the blank lines and comments above a removed
        one stay, above the next statement (the blank lines after the imports, say)."""
        kept: list[cst.BaseStatement] = []
        carried: list[cst.EmptyLine] | None = None
        for statement in body:
            if id(statement) in self.removed:
                carried = [*(carried or []), *statement.leading_lines]  # a comment above a second one too
                continue
            if carried is not None:
                if len(carried) > len(statement.leading_lines):
                    statement = statement.with_changes(leading_lines=carried)
                carried = None
            kept.append(statement)
        return kept

    # -- helpers ----------------------------------------------------------------------------
    def _statement_value(self, call: cst.Call) -> bool:
        """Whether ``call`` is the value of ``name = call`` (at any level)."""
        parent = self.get_metadata(Parents, call)
        return m.matches(parent, m.Assign(targets=[m.AssignTarget(target=m.Name())]))

    def _is_app(self, name: cst.Name) -> bool:
        return (self.get_metadata(Scopes, name, None), name.value) in self.apps

    def _bridge_key(self, name: cst.Name) -> tuple[Scope, str] | None:
        if name in self.renamed:  # a factory's bridge, read in a nested function too
            return self.renamed[name]
        key = (self.get_metadata(Scopes, name, None), name.value)
        return key if key in self.bridges else None

    def _handle(self, node: cst.CSTNode) -> None:
        self.handled.add(node)
        self.consume(node)

    def _block(self, node: cst.CSTNode, what: str) -> None:
        position = self.get_metadata(PositionProvider, node, None)
        line = position.start.line if position is not None else 0
        (self.dead[-1] if self.dead else self.blockers).append(f"{self.context.filename}:{line}: {what}")


def _describe(node: cst.BaseExpression) -> str:
    return cst.Module([]).code_for_node(node)


def _adds_middleware(statement: cst.BaseStatement, middleware: str) -> bool:
    """Whether ``statement`` is ``<app>.add_middleware(<middleware>, ...)``."""
    return m.matches(statement, m.SimpleStatementLine(body=[m.Expr(value=m.Call(
        func=m.Attribute(attr=m.Name("add_middleware")), args=[m.Arg(value=m.Name(middleware)), m.ZeroOrMore()]))]))


def _without_trailing_comma(args: list[cst.Arg]) -> list[cst.Arg]:
    if args and args[-1].comma is not cst.MaybeSentinel.DEFAULT:
        args = [*args[:-1], args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
    return args

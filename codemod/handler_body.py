"""The body of a Flask error handler, read for whether it has an equal FastAPI form.

Read in the first pass for every function of one parameter (``read_body``), and again by
``transforms/error_handlers.py`` node by node as it writes the FastAPI form: the readers here are
the one statement of what converts. A handler converts only if each of these holds:

- it is a plain ``def`` of one parameter, without nested functions, ``yield``, ``await``,
  ``global``, and it never binds its parameter anew;
- it uses no Flask name but ``jsonify``, the logging methods of ``current_app.logger``
  (``Body.logs``: the app's logger, a module logger once converted, ``codemod/app_logger.py``)
  and what Starlette's ``Request`` has too of ``flask.request`` (``Body.request``: its ``method``
  and ``headers``, and its ``path``, the runtime's ``request_path(request)``, which werkzeug's
  odd paths keep; the converted handler is given the Request), and ``jsonify`` only returned (``return jsonify(x)``, ``return jsonify(x), 404``) or as the one
  value of a variable (``response = jsonify(x)``) whose status and headers alone are set
  (``response.status_code = ...``, ``response.headers[name] = value``,
  ``response.headers.setdefault(name, value)``) before it is returned;
- everything it returns is such a response, or a dict or list (which Flask serializes as
  jsonify does) or a str (Flask's HTML page), alone or with a status that is an int (not
  Flask's "404 NOT FOUND" text), or ``render_template("page.html", x=...)`` alone or with an int
  literal status (``Body.templates``: the plan asks codemod/template_plan.py whether the template
  renders alike without Flask; transforms/templates.py converts it), or the whole answer of a project function
  (``return error_body(...)``, ``Body.responses``), which the plan checks returns jsonify;
- its JSON becomes Starlette's ``JSONResponse`` where the code shows it is JSON data that
  JSONResponse encodes to the same JSON as jsonify (literals, f-strings, ``str()``, str methods
  of str, dicts with str keys and lists of those, local names bound only to them, and the
  exception's own attributes, taken as the app raised them: the one source trusted without
  seeing it); any other value (a dict a project helper builds: ``jsonify(error_body(...))``)
  becomes the runtime's ``FlaskJSONResponse``, which encodes as Flask's JSON provider did,
  byte for byte (``Body.flask_json``);
- werkzeug's ``get_headers()`` is read only by a loop that skips the Content-Type of werkzeug's
  HTML page (``for name, value in exc.get_headers(): if name.lower() != "content-type": ...``).

How it uses its exception (``Body.uses``: code, description, name, headers, other) decides, with
the keys it is registered for, whether the FastAPI exception can stand in for Flask's
(``codemod/error_handlers.py``). Handing the exception alone to a project function of one
parameter (``_error_code(exc)``, ``Body.helpers``) is a use of it through that function: the
plan adds what the function does with it, and converts the function too where every call of it
is such a hand-over by a handler that converts. A function given the exception that way may do
anything but use Flask (the app's logger excepted), bind its parameter anew or hand it on
(``Body.helper_problem``); what it returns is its callers' business.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import libcst as cst
from codemod.visitors import Visitor
import libcst.matchers as m

from codemod.app_logger import current_app_log
from codemod.find import findall
from codemod.state import REQUEST

Names = Callable[[cst.CSTNode], set[str]]

JSONIFY = frozenset({"flask.jsonify", "flask.json.jsonify"})
RENDER_TEMPLATE = frozenset({"flask.render_template", "flask.templating.render_template"})
STR_METHODS = frozenset({"lower", "upper", "title", "capitalize", "casefold", "strip", "lstrip", "rstrip", "replace"})
CONTENT_TYPE = "content-type"
# what a handler may read of flask.request: Starlette's Request has it (path: request_path)
REQUEST_READS = ("path", "method", "headers")
REQUEST_TEXT = ("path", "method")  # ... a str in both
# werkzeug's attributes of an HTTP error, by Starlette's HTTPException's names for them
HTTP_ATTRIBUTES = {"code": "status_code", "description": "detail"}


@dataclass(frozen=True)
class Body:
    """A function of one parameter, as a handler: how it reads the exception (``uses``: code,
    description, name, headers, other) and why its body has no FastAPI form (None: it has)."""

    param: str
    uses: frozenset[str]
    problem: str | None
    path: str = ""  # the file it is defined in
    # why it cannot be handed a converted handler's exception (module doc; None: it can)
    helper_problem: str | None = None
    helpers: tuple[frozenset[str], ...] = ()  # the functions it hands its exception to, a call each
    logs: bool = False  # calls current_app.logger's logging methods
    flask_json: bool = False  # JSON the code cannot show is plain data: FlaskJSONResponse
    request: bool = False  # reads flask.request (module doc): the converted handler's Request
    # ``return error_body(...)``: each project function whose call is the whole value of a return,
    # with the arguments it is given an int (their positions and keywords, ``Responder``)
    responses: tuple[tuple[frozenset[str], frozenset[str]], ...] = ()
    # ``return render_template(...)``: its template (None: not a literal) and the names it passes
    templates: tuple[tuple[str | None, frozenset[str]], ...] = ()


def is_flask(qualified: str) -> bool:
    package = qualified.partition(".")[0]
    return package in ("flask", "werkzeug") or package.startswith("flask_")



def is_request_read(node: cst.CSTNode, names: Names) -> bool:
    """``request.path`` (``request.headers.get`` too: what is read of it), of Flask's request,
    where Starlette's Request has the same value (module doc)."""
    while isinstance(node, cst.Attribute) and isinstance(node.value, cst.Attribute):
        node = node.value
    return (
        isinstance(node, cst.Attribute) and node.attr.value in REQUEST_READS
        and bool(names(node.value) & REQUEST)
    )


def is_jsonify(node: cst.BaseExpression, names: Names) -> bool:
    return isinstance(node, cst.Call) and bool(names(node.func) & JSONIFY)


def jsonify_content(call: cst.Call) -> cst.BaseExpression | None:
    """What ``jsonify(...)`` serializes, as one expression: its one argument, a dict of its
    keywords, a list of its arguments; None where that cannot be written (``jsonify()`` is
    null, which no expression given to JSONResponse spells the same; both kinds is Flask's
    TypeError)."""
    args = list(call.args)
    if not args or any(a.star for a in args):
        return None
    keywords = [a for a in args if a.keyword is not None]
    if keywords and len(keywords) != len(args):
        return None
    if keywords:
        return cst.Dict([cst.DictElement(_string(a.keyword.value), a.value) for a in keywords])  # type: ignore[union-attr]
    if len(args) == 1:
        return args[0].value
    return cst.List([cst.Element(a.value) for a in args])


def _string(value: str) -> cst.SimpleString:
    return cst.SimpleString(f'"{value}"')


def headers_loop(loop: cst.For, param: str) -> bool:
    """``for name, value in exc.get_headers(): if name.lower() != "content-type": ...``: the
    loop that copies werkzeug's headers but the Content-Type of its HTML page."""
    getter = m.Call(func=m.Attribute(value=m.Name(param), attr=m.Name("get_headers")), args=[])
    target = m.Tuple([m.Element(m.Name()), m.Element(m.Name())])
    if not m.matches(loop, m.For(target=target, iter=getter, orelse=None, asynchronous=None)):
        return False
    body = loop.body.body if isinstance(loop.body, cst.IndentedBlock) else ()
    header = loop.target.elements[0].value.value  # type: ignore[attr-defined]
    lowered = m.Call(func=m.Attribute(value=m.Name(header), attr=m.Name("lower")), args=[])
    test = m.Comparison(left=lowered, comparisons=[m.ComparisonTarget(m.NotEqual(), m.SimpleString())])
    if len(body) != 1 or not m.matches(body[0], m.If(test=test, orelse=None)):
        return False
    return body[0].test.comparisons[0].comparator.evaluated_value == CONTENT_TYPE  # type: ignore[attr-defined]


# -- the body of a handler --------------------------------------------------------------------
def read_body(function: cst.FunctionDef, names: Names) -> Body | None:
    """A function of exactly one parameter, read as a handler (None for any other function)."""
    params = function.params
    if params.posonly_params or params.kwonly_params or params.star_kwarg is not None or isinstance(params.star_arg, cst.Param):
        return None
    if len(params.params) != 1 or params.params[0].default is not None or params.star_arg is not cst.MaybeSentinel.DEFAULT:
        return None
    param = params.params[0].name.value
    bound = bindings(function)
    reader = _BodyReader(param, names, bound)
    problem = None
    if param in bound:
        problem = "the handler binds its parameter anew"
    elif function.asynchronous is not None:
        problem = "async handler"
    elif not isinstance(function.body, cst.IndentedBlock):
        problem = "handler on one line"
    else:
        for statement in function.body.body:
            statement.visit(reader)
    return Body(
        param, frozenset(reader.uses), problem or reader.problem, helper_problem=problem or reader.helper_problem,
        helpers=tuple(reader.helpers), logs=reader.logs, flask_json=reader.flask_json, request=reader.request,
        responses=tuple(reader.responses), templates=tuple(reader.templates),
    )


Binding = cst.BaseExpression | None  # the value of ``x = value``; None for any other binding


def bindings(function: cst.FunctionDef) -> dict[str, list[Binding]]:
    """What each name of the function's body is bound to."""
    found: dict[str, list[Binding]] = {}

    def bind(target: cst.BaseExpression, value: Binding) -> None:
        if isinstance(target, cst.Name):
            found.setdefault(target.value, []).append(value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                bind(element.value, None)
        elif isinstance(target, cst.StarredElement):
            bind(target.value, None)

    for node in findall(function.body, m.Assign() | m.AnnAssign() | m.AugAssign() | m.For() | m.WithItem() | m.NamedExpr() | m.CompFor() | m.Del() | m.ExceptHandler()):
        if isinstance(node, cst.Assign):
            for target in node.targets:
                bind(target.target, node.value if len(node.targets) == 1 else None)
        elif isinstance(node, cst.AnnAssign):
            bind(node.target, node.value)
        elif isinstance(node, (cst.AugAssign, cst.NamedExpr)):
            bind(node.target, None)
        elif isinstance(node, (cst.For, cst.CompFor)):
            bind(node.target, None)
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            bind(node.asname.name, None)
        elif isinstance(node, cst.Del):
            bind(node.target, None)
        elif isinstance(node, cst.ExceptHandler) and node.name is not None:
            bind(node.name.name, None)
    return found


def encodes_alike(function: cst.FunctionDef, content: cst.BaseExpression, names: Names) -> bool:
    """Whether Starlette's JSONResponse encodes ``content``, JSON of the handler ``function``, to
    the same JSON as jsonify (module doc); else it is the runtime's FlaskJSONResponse's."""
    param = function.params.params[0].name.value
    return _BodyReader(param, names, bindings(function)).is_data(content)


class _BodyReader(Visitor):
    """Reads a handler's statements: the uses of its parameter, its returns, its Flask names."""

    def __init__(self, param: str, names: Names, bindings: dict[str, list[Binding]]) -> None:
        super().__init__()
        self.param, self.names, self.bindings = param, names, bindings
        self.uses: set[str] = set()
        self.problems: list[str] = []
        self.replies: list[str] = []  # the problems of what it returns (a handler's alone)
        self.flask: list[str] = []  # the Flask names it uses (jsonify too)
        self.helpers: list[frozenset[str]] = []
        self.responses: list[tuple[frozenset[str], frozenset[str]]] = []
        self.templates: list[tuple[str | None, frozenset[str]]] = []
        self.logs = False
        self.flask_json = False
        self.request = False
        self.stack: list[cst.CSTNode] = []
        responses = [n for n, values in bindings.items() if len(values) == 1 and values[0] is not None and is_jsonify(values[0], names)]
        self.response = responses[0] if len(responses) == 1 else None  # ``response = jsonify(...)``
        self.header_names: set[str] = set()  # the variables of a headers loop

    @property
    def problem(self) -> str | None:
        """The first problem met, a use of Flask first (the most telling)."""
        flask = [p for p in self.problems if p.startswith("uses ")]
        return (flask or self.problems or [None])[0]

    @property
    def helper_problem(self) -> str | None:
        """Why a function handed a converted handler's exception cannot take it (module doc)."""
        flask = [f"uses {name}" for name in self.flask]
        return (flask or [p for p in self.problems if p not in self.replies] or [None])[0]

    def _no(self, why: str) -> bool:
        self.problems.append(why)
        return False

    def on_visit(self, node: cst.CSTNode) -> bool:
        go_on = self._check(node)
        self.stack.append(node)
        return go_on

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()

    def _parent(self, up: int = 1) -> cst.CSTNode | None:
        return self.stack[-up] if len(self.stack) >= up else None

    def _check(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return self._no("a nested function or class")
        if isinstance(node, (cst.Yield, cst.Await, cst.Global, cst.Nonlocal)):
            return self._no(f"{type(node).__name__.lower()} in the handler")
        if isinstance(node, cst.Return):
            self._reply(node)
            return True
        if isinstance(node, cst.For) and m.matches(node.iter, m.Call(func=m.Attribute(value=m.Name(self.param)))):
            if not headers_loop(node, self.param):
                return self._no("werkzeug's get_headers() used other than in a loop that skips Content-Type")
            self.uses.add("headers")
            names = {e.value.value for e in node.target.elements}  # type: ignore[attr-defined]
            self.header_names |= {n for n in names if len(self.bindings.get(n, ())) == 1}  # the loop's alone
            node.body.visit(self)
            return False
        if isinstance(node, (cst.Name, cst.Attribute)):
            return self._name(node)
        return True

    def _name(self, node: cst.Name | cst.Attribute) -> bool:
        qualified = self.names(node)
        flask = sorted(q for q in qualified if is_flask(q))
        parent = self._parent()
        if flask and current_app_log(node, self.names) and isinstance(parent, cst.Call) and parent.func is node:
            self.logs = True  # the app's logger: a module logger (codemod/app_logger.py)
            return False
        if flask:
            self.flask.append(flask[0])  # a helper has no Request to read: flask.request's too
            if is_request_read(node, self.names):
                self.request = True
                return False
            if qualified & JSONIFY and isinstance(parent, cst.Call) and parent.func is node:
                self._placed(parent)  # says why not, if not
                return False
            if qualified & RENDER_TEMPLATE and isinstance(parent, cst.Call) and parent.func is node:
                self._template(parent)  # says why not, if not
                return False
            return self._no(f"uses {flask[0]}")
        if isinstance(node, cst.Attribute):
            return True
        parent = self._parent()
        if isinstance(parent, cst.Arg) and parent.keyword is node or isinstance(parent, cst.Attribute) and parent.attr is node:
            return True  # a keyword's or an attribute's name: no variable
        if node.value == self.param:
            parent = self._parent()
            if isinstance(parent, cst.Attribute) and parent.value is node:
                attribute = parent.attr.value
                self.uses.add(attribute if attribute in ("code", "description", "name") else "other")
            elif self._handed_over(node) is not None:
                self.helpers.append(self._handed_over(node))  # type: ignore[arg-type]
            else:
                self.uses.add("other")
            if self._assigned(node):
                self._no("the handler assigns to its exception")
        if node.value == self.response and not self._response_use(node):
            return self._no(f"{node.value} (jsonify's response) used other than for its status and headers")
        return True

    def _handed_over(self, node: cst.Name) -> frozenset[str] | None:
        """The qualified names of the project function ``f`` of ``f(exc)``, the exception its one
        argument; None for any other use."""
        arg, call = self._parent(), self._parent(2)
        if not isinstance(arg, cst.Arg) or arg.keyword is not None or arg.star or not isinstance(call, cst.Call):
            return None
        if len(call.args) != 1 or call.args[0] is not arg:
            return None
        callee = frozenset(self.names(call.func))
        if not callee or any(is_flask(q) or q.startswith("builtins.") for q in callee):
            return None
        return callee

    def _assigned(self, node: cst.CSTNode) -> bool:
        """Whether ``node`` (or the attribute or item it is the base of) is assigned to."""
        child = node
        for parent in reversed(self.stack):
            if isinstance(parent, cst.AssignTarget) and parent.target is child:
                return True
            if isinstance(parent, (cst.AugAssign, cst.AnnAssign)) and parent.target is child:
                return True
            if not isinstance(parent, (cst.Attribute, cst.Subscript)) or parent.value is not child:
                return False
            child = parent
        return False

    def _placed(self, call: cst.Call) -> bool:
        """A jsonify call where a JSONResponse can stand: returned (alone or with a status), or
        the one value of the response variable; its content JSON data."""
        content = jsonify_content(call)
        if content is None:
            return self._no("jsonify() of no value, or of positional and keyword arguments")
        if not self.is_data(content):
            self.flask_json = True  # FlaskJSONResponse encodes it as jsonify did
        parent = self.stack[-2] if len(self.stack) >= 2 else None
        if isinstance(parent, cst.Return):
            return True
        if isinstance(parent, cst.Element) and isinstance(self._parent(3), cst.Tuple) and isinstance(self._parent(4), cst.Return):
            return self._parent(3).elements[0] is parent  # type: ignore[union-attr]
        if m.matches(parent, m.Assign(targets=[m.AssignTarget(m.Name(self.response or ""))])):
            return True
        return self._no("jsonify() other than returned or as the response")

    def _template(self, call: cst.Call) -> bool:
        """``return render_template(name, x=...)``, alone or with an int literal status."""
        parent = self.stack[-2] if len(self.stack) >= 2 else None
        returned = isinstance(parent, cst.Return) or (
            isinstance(parent, cst.Element) and isinstance(self._parent(3), cst.Tuple) and isinstance(self._parent(4), cst.Return)
            and self._parent(3).elements[0] is parent and isinstance(self._parent(3).elements[1].value, cst.Integer)  # type: ignore[union-attr]
        )
        if not returned:
            return self._no("render_template() other than returned, alone or with a status")
        first = call.args[0] if call.args else None
        name = first.value.evaluated_value if first is not None and first.keyword is None and isinstance(first.value, cst.SimpleString) else None
        if any(a.keyword is None or a.star for a in call.args[1:]):
            name = None
        self.templates.append((name, frozenset(a.keyword.value for a in call.args[1:] if a.keyword is not None)))
        return True

    def _response_use(self, node: cst.Name) -> bool:
        parent, grandparent = self._parent(), self._parent(2)
        if isinstance(parent, cst.Return):
            return True
        if isinstance(parent, cst.AssignTarget) and parent.target is node:
            return True  # its own binding
        if not isinstance(parent, cst.Attribute) or parent.value is not node:
            return False
        if parent.attr.value == "status_code" and isinstance(grandparent, cst.AssignTarget):
            assign = self._parent(3)
            return isinstance(assign, cst.Assign) and len(assign.targets) == 1 and self.is_int(assign.value)
        if parent.attr.value != "headers":
            return False
        if isinstance(grandparent, cst.Subscript) and isinstance(self._parent(3), cst.AssignTarget):
            assign = self._parent(4)
            index = grandparent.slice[0].slice if len(grandparent.slice) == 1 else None
            return (
                isinstance(assign, cst.Assign) and len(assign.targets) == 1 and isinstance(index, cst.Index)
                and self.is_text(index.value) and self.is_text(assign.value)
            )
        setdefault = m.Call(func=m.Attribute(attr=m.Name("setdefault")), args=[m.Arg(keyword=None), m.Arg(keyword=None)])
        call = self._parent(3)
        if isinstance(grandparent, cst.Attribute) and m.matches(call, setdefault) and isinstance(self._parent(4), cst.Expr):
            return all(self.is_text(a.value) for a in call.args)  # type: ignore[union-attr]
        return False

    def _reply(self, node: cst.Return) -> None:
        called = self._responder_call(node.value)
        if called is not None:
            self.responses.append(called)  # the plan decides whether it answers a Starlette response
            return
        if not reply_ok(node.value, self):
            why = f"returns {_shown(node.value)}, not a value it can make an equal Starlette response of"
            self.replies.append(why)
            self._no(why)

    def _responder_call(self, value: cst.BaseExpression | None) -> tuple[frozenset[str], frozenset[str]] | None:
        """``return error_body("x", exc.description, 404)``: the project function called, with the
        positions and keywords of the arguments that are ints; None for any other return."""
        if not isinstance(value, cst.Call) or any(a.star for a in value.args):
            return None
        callee = frozenset(self.names(value.func))
        if not callee or any(is_flask(q) or q.startswith("builtins.") for q in callee):
            return None
        ints = {
            a.keyword.value if a.keyword is not None else str(i)
            for i, a in enumerate(value.args) if self.is_int(a.value) and not _is_text_literal(a.value)
        }
        return callee, frozenset(ints)

    # -- what values provably are ----------------------------------------------------------------
    def _exception_attribute(self, node: cst.BaseExpression) -> str | None:
        """The attribute of the exception that ``node`` reads (``exc.code``: "code"), else None."""
        if isinstance(node, cst.Attribute) and m.matches(node.value, m.Name(self.param)):
            return node.attr.value
        return None

    def _bound(self, node: cst.BaseExpression, check: Callable[[cst.BaseExpression], bool]) -> bool:
        if not isinstance(node, cst.Name) or node.value == self.param:
            return False
        if node.value in self.header_names:
            return check == self.is_text  # werkzeug's headers: str names and values
        values = self.bindings.get(node.value)
        return bool(values) and all(v is not None and not isinstance(v, cst.Name) and check(v) for v in values)

    def _request_text(self, node: cst.BaseExpression) -> bool:
        """``request.path`` or ``request.method``: a str in Flask and in Starlette."""
        return (
            isinstance(node, cst.Attribute) and node.attr.value in REQUEST_TEXT
            and bool(self.names(node.value) & REQUEST)
        )

    def is_text(self, node: cst.BaseExpression) -> bool:
        """A str for certain (a header name or value: Starlette takes nothing else)."""
        return self.is_str(node, strict=True)

    def is_str(self, node: cst.BaseExpression, strict: bool = False) -> bool:
        """A str; with ``strict=False``, also any attribute of the exception but its code (taken
        as the app gave it: a message)."""
        attribute = self._exception_attribute(node)
        if attribute is not None:
            return attribute in ("description", "name") or (not strict and attribute != "code")
        if self._request_text(node):
            return True
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            return isinstance(node.evaluated_value, str)
        if isinstance(node, cst.FormattedString):
            return True
        if isinstance(node, cst.Call) and not any(a.star for a in node.args):
            if self.names(node.func) & {"builtins.str"}:
                return True
            method = node.func.attr.value if isinstance(node.func, cst.Attribute) else None
            return method in STR_METHODS and self.is_str(node.func.value, strict)  # type: ignore[union-attr]
        if isinstance(node, cst.BooleanOperation):
            return self.is_str(node.left, strict) and self.is_str(node.right, strict)
        return self._bound(node, self.is_text if strict else self.is_str)

    def is_int(self, node: cst.BaseExpression) -> bool:
        """An int (a status): a literal, or the exception's code, status... (not its
        description or name)."""
        attribute = self._exception_attribute(node)
        if attribute is not None:
            return attribute not in ("description", "name")
        if isinstance(node, cst.Integer):
            return True
        if isinstance(node, cst.BooleanOperation):
            return self.is_int(node.left) and self.is_int(node.right)
        if isinstance(node, cst.IfExp):
            return self.is_int(node.body) and self.is_int(node.orelse)
        return self._bound(node, self.is_int)

    def is_data(self, node: cst.BaseExpression) -> bool:
        """JSON data that Starlette's JSONResponse encodes to what Flask's jsonify did."""
        if self.is_str(node) or self.is_int(node):
            return True
        if isinstance(node, cst.Float):
            return math.isfinite(float(node.value))
        if m.matches(node, m.Name("True") | m.Name("False") | m.Name("None")):
            return True
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
            return isinstance(node.expression, (cst.Integer, cst.Float)) and self.is_data(node.expression)
        if isinstance(node, (cst.List, cst.Tuple)):
            return all(isinstance(e, cst.Element) and self.is_data(e.value) for e in node.elements)
        if isinstance(node, cst.Dict):
            return all(isinstance(e, cst.DictElement) and self.is_text(e.key) and self.is_data(e.value) for e in node.elements)
        if isinstance(node, cst.IfExp):
            return self.is_data(node.body) and self.is_data(node.orelse)
        return False


def _shown(node: cst.BaseExpression | None) -> str:
    """A short text for an expression in a reason: ``error_body(...)``, ``None``."""
    if node is None:
        return "None"
    if isinstance(node, cst.Tuple):
        return ", ".join(_shown(e.value) for e in node.elements)
    if isinstance(node, cst.Call):
        return f"{_shown(node.func)}(...)"
    text = cst.Module([]).code_for_node(node)
    return text if len(text) <= 30 else text[:27] + "..."


def reply_ok(value: cst.BaseExpression | None, reader: _BodyReader) -> bool:
    """What a handler may return: jsonify(...), JSON data or text (an HTML page to Flask), alone
    or with a status, or the response variable."""
    if value is None:
        return False
    if isinstance(value, cst.Tuple):
        if len(value.elements) != 2 or not all(isinstance(e, cst.Element) for e in value.elements):
            return False
        body, status = (e.value for e in value.elements)
        return reply_kind(body, reader) in ("jsonify", "json", "html", "template") and reader.is_int(status) and not _is_text_literal(status)
    return reply_kind(value, reader) is not None


def _is_text_literal(node: cst.BaseExpression) -> bool:
    return isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString))


def reply_kind(value: cst.BaseExpression, reader: _BodyReader | None, names: Names | None = None) -> str | None:
    """jsonify | json (a dict or list, which Flask serializes as jsonify) | html (a str, which
    Flask serves as an HTML page) | template (render_template) | response (the response
    variable) | None."""
    names = names or (reader.names if reader is not None else None)
    if names is not None and is_jsonify(value, names):
        return "jsonify"
    if names is not None and isinstance(value, cst.Call) and names(value.func) & RENDER_TEMPLATE:
        return "template"
    if isinstance(value, (cst.Dict, cst.List)):
        if reader is not None and not reader.is_data(value):
            reader.flask_json = True  # Flask made it as jsonify did: FlaskJSONResponse
        return "json"
    if isinstance(value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return "html" if reader is None or reader.is_str(value) else None
    if isinstance(value, cst.Name) and (reader is None or value.value == reader.response):
        return "response"
    return None

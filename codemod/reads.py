"""What a native view reads from Flask's request, and which reads become declared parameters.

Pure: a view's code in (with a function that says what a node refers to), a plan out, the same
in every worker. ``transforms/request_params.py`` and ``transforms/json_bodies.py`` write what
the plan decides; ``codemod/bodies.py`` plans the JSON body, ``codemod/view_tree.py`` walks the view. A read converts only where the
view's answers provably stay the same:

- ``request.args.get(k[, default][, type=int|float|str])``, ``request.args.getlist(k)`` and the
  same ``get`` of ``request.headers`` and ``request.cookies``, with a literal key: they never
  fail, and the runtime reads each parameter as Flask did (the first of a repeated key;
  ``OrDefault`` for a value ``type=`` could not convert). A default the view computes (from
  the config) becomes a None default and the same expression where the read was.
- ``request.args[k]`` and ``request.cookies[k]`` answer a missing key with Flask's 400, which
  for a required parameter comes before the view runs: only where nothing that could answer
  first comes before the read (no decorator under the route, no call, subscript or attribute
  before it in the view). ``request.headers[k]`` is a 500 in Flask (a plain KeyError): it stays.
- ``request.form`` reads as those of ``request.args`` (``Form()`` parameters), and
  ``request.files[k]``, ``.get(k)``, ``.getlist(k)`` (``UploadFile`` ones) where every use of
  the file has an equal (``codemod/uploads.py``). Flask parses the form at the view's first read,
  FastAPI before the view: so only where no decorator is under the route, the view reads the
  body no other way (``get_data()`` after a parse gives b""), and nothing but reads that cannot
  fail and other form reads comes before each (any can fail: Flask's 413 limits); not a key
  read both as a field and as a file.
- Every read of one key must convert, or none does.
- ``request.method`` compared with literal methods (not GET or HEAD, which the bridge gives
  FastAPI alike) becomes Starlette's, through a ``request: Request`` parameter, when no other
  use of Flask's request is left in the view. ``request.path``, ``url``, ``remote_addr`` and the
  like stay Flask's: a ``wsgi_app`` wrapper (ProxyFix) or a mount point changes Flask's values
  and not Starlette's.
- ``sorted(request.args.items(multi=True))`` becomes ``sorted(request.query_params.multi_items())``
  on the same terms: the same pairs, which werkzeug groups by key and Starlette keeps in the
  order sent, so only where ``sorted`` (without ``key=``, under which equal keys keep that
  order) makes the two lists equal.

Reads in nested functions, lambdas and classes stay as they are (they run at another time).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import Callable

import libcst as cst
import libcst.matchers as m

from codemod import uploads
from codemod.facts import literal
from codemod.view_tree import Names, Tree, bound, is_literal, literal_type, parameter_names, pure, request_references

SOURCES = ("args", "headers", "cookies", "form", "files")
SUFFIX = {"args": "query", "headers": "header", "cookies": "cookie", "form": "form", "files": "file"}
# FastAPI checks the query, the headers, the cookies, then the body (form and files alike)
RANK = {"args": 0, "headers": 1, "cookies": 2, "form": 3, "files": 3}
BODY = frozenset({"form", "files"})
# other reads of the body, which a form parsed before the view would change (werkzeug's
# get_data after the form was parsed gives b"")
OTHER_BODY_READS = frozenset({"get_json", "json", "data", "get_data", "stream", "input_stream", "values"})
CONVERSIONS = {"builtins.int": "int", "builtins.float": "float", "builtins.str": "str"}
# methods FastAPI sees as the client sent them (the bridge hands it HEAD as GET)
UNCOMPARABLE_METHODS = frozenset({"GET", "HEAD"})


@dataclass
class Param:
    """A parameter the reads of one key become."""

    source: str  # args | headers | cookies | form | files
    key: str
    shape: str  # "get" | "getlist" | "required"
    conversion: str  # str | int | float (type=)
    default: cst.BaseExpression | None  # a literal default, None when there is none
    computed: bool  # the default is an expression of the view: the parameter defaults to None
    reads: list[cst.CSTNode]  # the original Call / Subscript nodes it replaces
    name: str = ""
    uses: dict[cst.CSTNode, str] = field(default_factory=dict)  # of a file: codemod/uploads.py


@dataclass
class ViewReads:
    params: list[Param] = field(default_factory=list)
    by_read: dict[cst.CSTNode, Param] = field(default_factory=dict)
    file_uses: dict[cst.CSTNode, str] = field(default_factory=dict)  # codemod/uploads.py's rewrites
    # top-level ``name = <read>`` statements that become ``name = name``: removed
    redundant: list[cst.SimpleStatementLine] = field(default_factory=list)
    method_reads: list[cst.Attribute] = field(default_factory=list)  # request.method -> Starlette's
    multi_items: list[cst.Call] = field(default_factory=list)  # sorted(request.args.items(multi=True))'s inner call
    request_param: str | None = None  # "request" when the view gets a Request parameter
    references: list[cst.CSTNode] = field(default_factory=list)  # the view's references to Flask's request
    left: list[cst.CSTNode] = field(default_factory=list)  # ... those no read above converts
    body: object | None = None  # codemod.bodies.Body


def view_reads(
    function: cst.FunctionDef, names: Names, decorated: bool,
    helper_of: Callable[[cst.Call], cst.FunctionDef | None] = lambda call: None,
) -> ViewReads:
    """The plan for a native view's request reads (see the module doc). ``decorated``: the view
    has decorators under its route decorators (they run before the view's first statement).
    ``helper_of``: the module-level function a call without arguments calls (a body reader)."""
    from codemod import bodies  # the body plan reads this module's Tree

    tree = Tree(function)
    plan = ViewReads()
    references = request_references(tree, names)
    reads: dict[tuple[str, str], list[tuple[cst.CSTNode, Param | None]]] = {}
    taken = parameter_names(function)
    body_read = any(m.matches(tree.up(r), m.Attribute(attr=m.Name(m.MatchIfTrue(OTHER_BODY_READS.__contains__)))) for r in references)
    converted: set[cst.CSTNode] = set()
    methods: list[cst.Attribute] = []
    multi_items: list[cst.Attribute] = []  # their request.args
    for reference in references:
        if reference in tree.nested:
            continue
        source = tree.up(reference)
        if not (isinstance(source, cst.Attribute) and source.value is reference):
            continue
        attribute = source.attr.value
        if attribute in SOURCES:
            if attribute in BODY and (decorated or body_read):
                continue  # Flask parsed the form at the read, after the decorators and other body reads
            read = _read(tree, source, attribute, names, taken)
            if read is not None:
                node, param = read
                reads.setdefault((attribute, param.key if param else repr(node)), []).append((node, param))
        elif attribute == "method" and _method_comparison(tree, source):
            methods.append(source)
        if attribute == "args" and _sorted_multi_items(tree, source, names):
            multi_items.append(source)
    # every read of a key converts, or none; a required one only where nothing but reads that
    # cannot fail, or required ones that FastAPI checks before it, comes first (in source order);
    # a form read (any can fail: Flask's 413 limits, parsed before FastAPI checks anything)
    # only where nothing but reads that cannot fail and other form reads come first
    quiet = {
        node for (source, _), group in reads.items() for node, param in group
        if param is not None and param.shape != "required" and source not in BODY
    }
    body: set[cst.CSTNode] = set()
    passed: set[cst.CSTNode] = set()  # required reads that convert
    parsed = _parsed_at(tree, references, quiet)
    both = {key for source, key in reads if source == "form"} & {key for source, key in reads if source == "files"}
    rank = 0
    for (source, key), group in sorted(reads.items(), key=lambda item: tree.position[item[1][0][0]]):
        params = [param for _, param in group]
        if any(p is None for p in params) or len({_signature(p) for p in params}) != 1:  # type: ignore[arg-type]
            continue
        param = params[0]
        assert param is not None
        if source in BODY:
            # after the statement where Flask surely parsed the form, a get() cannot fail
            if key in both or not all(
                _first_to_answer(tree, n, quiet | body)
                or (param.shape != "required" and parsed is not None and tree.top[n] > parsed)
                for n, _ in group
            ):
                continue
            body.update(n for n, _ in group)
            rank = RANK[source]
        elif param.shape == "required":
            # FastAPI reports the query's missing keys before the cookies' (the first is Flask's 400)
            if decorated or not all(tree.quiet_before(n, quiet | passed) for n, _ in group) or rank > RANK[source]:
                continue
            passed.update(n for n, _ in group)
            rank = RANK[source]
        param.reads = [node for node, _ in group]
        plan.params.append(param)
    plan.params.sort(key=lambda p: (p.shape != "required", tree.position[p.reads[0]]))
    for param in plan.params:
        param.name = _name(tree, param, taken)
        taken.add(param.name)
        for node in param.reads:
            plan.by_read[node] = param
            converted.add(node)
        plan.file_uses.update(param.uses)
        plan.redundant += _redundant(tree, param)
    plan.body = bodies.plan_body(function, tree, names, decorated, references, set(plan.by_read), taken, helper_of, raw=True)
    if plan.body is not None and plan.body.reference is not None:
        converted.add(plan.body.reference)
    # request.method through Starlette's Request, when nothing else of Flask's request is left
    unconverted = [r for r in references if not any(a in converted for a in (r, *tree.ancestors(r)))]
    free = "request" not in taken and _free(tree, "request", references, function)
    starlette = set(methods) | set(multi_items)
    if starlette and {tree.up(r) for r in unconverted} <= starlette and free:
        plan.method_reads = methods
        plan.multi_items = [tree.up(tree.up(a)) for a in multi_items]  # type: ignore[misc]
        plan.request_param = "request"
    plan.references = list(references)
    plan.left = [r for r in unconverted if plan.request_param is None or tree.up(r) not in starlette]
    return plan


def _first_to_answer(tree: Tree, node: cst.CSTNode, quiet: set[cst.CSTNode]) -> bool:
    """Nothing that could answer comes before ``node``: what ``quiet_before`` says, and no
    return either (Flask answered without parsing the form)."""
    before = tree.order[: tree.position[node]]
    return tree.quiet_before(node, quiet) and not any(isinstance(n, cst.Return) and n not in tree.nested for n in before)


def _parsed_at(tree: Tree, references: list[cst.CSTNode], quiet: set[cst.CSTNode]) -> int | None:
    """The top-level statement where Flask surely parsed the form, before anything could answer:
    the view's first use of ``request.form``/``files``, in a simple statement, not in a branch."""
    uses = [tree.up(r) for r in references if r not in tree.nested]
    uses = [u for u in uses if isinstance(u, cst.Attribute) and u.attr.value in BODY]
    if not uses:
        return None
    first = min(uses, key=lambda u: tree.position[u])
    index = tree.top[first]
    statement = tree.statements[index]
    branches = (cst.IfExp, cst.BooleanOperation, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.Lambda)
    if not isinstance(statement, cst.SimpleStatementLine) or any(isinstance(a, branches) for a in tree.ancestors(first)):
        return None
    return index if _first_to_answer(tree, first, quiet) else None


def _read(
    tree: Tree, source: cst.Attribute, attribute: str, names: Names, taken: set[str]
) -> tuple[cst.CSTNode, Param | None] | None:
    """The read around ``request.<source>`` (its node, and its parameter or None when it cannot
    become one); None when it is no read of one key (it stays, and so does the rest)."""
    found = _read_of_key(tree, source, attribute, names)
    if found is None or found[1] is None or attribute != "files":
        return found
    node, param = found
    if param.conversion != "str" or param.default is not None or param.computed:
        return node, None  # files.get("f", default), type=: no such UploadFile parameter
    uses = uploads.file_uses(tree, node, param.shape, taken)
    if uses is None:
        return node, None
    param.uses = uses
    return node, param


def _read_of_key(tree: Tree, source: cst.Attribute, attribute: str, names: Names) -> tuple[cst.CSTNode, Param | None] | None:
    parent = tree.up(source)
    if isinstance(parent, cst.Subscript) and parent.value is source:
        if len(parent.slice) != 1 or not isinstance(parent.slice[0].slice, cst.Index):
            return parent, None
        key = literal(parent.slice[0].slice.value)
        if key is None:
            return parent, None
        param = Param(attribute, key, "required", "str", None, False, [])
        return parent, (param if attribute != "headers" else None)  # headers[k]: a 500 in Flask
    if not (isinstance(parent, cst.Attribute) and parent.attr.value in ("get", "getlist")):
        return None
    call = tree.up(parent)
    if not (isinstance(call, cst.Call) and call.func is parent):
        return None
    getlist = parent.attr.value == "getlist"
    arguments = bound(call, ("key", "type") if getlist else ("key", "default", "type"))
    key = literal(arguments.get("key")) if arguments is not None else None
    if arguments is None or key is None or (attribute == "headers" and "_" in key):
        return call, None  # (werkzeug reads X_Key as X-Key too; FastAPI does not)
    conversion = "str"
    if "type" in arguments:
        found = names(arguments["type"]) & set(CONVERSIONS)
        if not found or getlist:
            return call, None
        conversion = CONVERSIONS[found.pop()]
    if getlist:
        return call, Param(attribute, key, "getlist", "str", None, False, []) if attribute in ("args", *BODY) else None
    default = arguments.get("default")
    if default is not None and m.matches(default, m.Name("None")):
        default = None
    computed = default is not None and not is_literal(default)
    if computed and not pure(default):  # type: ignore[arg-type]
        return call, None
    kind = literal_type(default) if not computed else None
    if conversion != "str" and kind is not None and kind != conversion and {kind, conversion} != {"int", "float"}:
        return call, None  # type=int with a default of another type
    return call, Param(attribute, key, "get", conversion, default if not computed else None, computed, [])


def _signature(param: Param) -> tuple[object, ...]:
    default = cst.Module([]).code_for_node(param.default) if param.default is not None else None
    return (param.shape, param.conversion, default, param.computed)


def _method_comparison(tree: Tree, method: cst.Attribute) -> bool:
    """``request.method == "POST"`` / ``in ("PUT", "PATCH")``: literal methods, not GET or HEAD."""
    comparison = tree.up(method)
    if not (isinstance(comparison, cst.Comparison) and comparison.left is method):
        return False
    values: list[str | None] = []
    for target in comparison.comparisons:
        operand = target.comparator
        if isinstance(target.operator, (cst.Equal, cst.NotEqual)):
            values.append(literal(operand))
        elif isinstance(target.operator, (cst.In, cst.NotIn)) and isinstance(operand, (cst.Tuple, cst.List, cst.Set)):
            values += [literal(e.value) for e in operand.elements]
        else:
            return False
    return bool(values) and all(v is not None and v.upper() == v and v not in UNCOMPARABLE_METHODS for v in values)


def _sorted_multi_items(tree: Tree, args: cst.Attribute, names: Names) -> bool:
    """``sorted(request.args.items(multi=True))``: ``args`` the sole argument's ``request.args``."""
    items = tree.up(args)
    call = tree.up(items)
    if not (isinstance(items, cst.Attribute) and items.attr.value == "items" and isinstance(call, cst.Call) and call.func is items):
        return False
    if not m.matches(call, m.Call(args=[m.Arg(m.Name("True"), keyword=m.Name("multi"))])):
        return False
    argument = tree.up(call)
    outer = tree.up(argument)
    return (
        isinstance(argument, cst.Arg) and isinstance(outer, cst.Call) and len(outer.args) == 1
        and m.matches(argument, m.Arg(keyword=None, star="")) and "builtins.sorted" in names(outer.func)
    )


def _identifier(key: str) -> str:
    name = re.sub(r"\W", "_", key)
    if not name or name[0].isdigit():
        name = f"_{name}"
    return f"{name}_" if keyword.iskeyword(name) else name


def _name(tree: Tree, param: Param, taken: set[str]) -> str:
    """The parameter's name: the variable a statement ``name = <the read>`` assigns it to (that
    line goes), else the key as an identifier, where that name means nothing else in the view;
    else the key with the source as a suffix."""
    statement = tree.statements[tree.top[param.reads[0]]]
    assigned = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 else None
    if (
        isinstance(assigned, cst.Assign) and len(assigned.targets) == 1 and isinstance(assigned.targets[0].target, cst.Name)
        and assigned.value is param.reads[0]
    ):
        variable = assigned.targets[0].target.value
        if variable not in taken and _assigned_only(tree, variable, param.reads):
            return variable
    base = _identifier(param.key.lower() if param.source == "headers" else param.key)
    if base not in taken and _assigned_only(tree, base, param.reads):
        return base
    candidate, index = f"{base}_{SUFFIX[param.source]}", 2
    while candidate in taken or any(n.value == candidate for n in tree.identifiers()):
        candidate, index = f"{base}_{SUFFIX[param.source]}_{index}", index + 1
    return candidate


def _assigned_only(tree: Tree, name: str, reads: list[cst.CSTNode]) -> bool:
    """Whether the parameter may be called ``name``: no variable of the view goes by it, or the
    top-level statement with the first read is ``name = ...`` holding every read, and nothing
    by that name comes before it (the read's value is then the variable's first)."""
    uses = [n for n in tree.identifiers() if n.value == name]
    if not uses:
        return True
    first = min(tree.top[r] for r in reads)
    statement = tree.statements[first]
    assign = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 else None
    if not (isinstance(assign, cst.Assign) and len(assign.targets) == 1 and m.matches(assign.targets[0].target, m.Name(name))):
        return False
    if any(tree.top[r] != first or r in tree.nested for r in reads):
        return False
    target = assign.targets[0].target
    return all(tree.top[n] > first or n is target for n in uses)


def _redundant(tree: Tree, param: Param) -> list[cst.SimpleStatementLine]:
    """``page = request.args.get("page", 1, type=int)``, which becomes ``page = page``."""
    found = []
    for read in param.reads:
        statement = tree.statements[tree.top[read]]
        if (
            not param.computed
            and isinstance(statement, cst.SimpleStatementLine)
            and m.matches(statement, m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name(param.name))])]))
            and statement.body[0].value is read  # type: ignore[attr-defined]
        ):
            found.append(statement)
    return found


def _free(tree: Tree, name: str, references: list[cst.CSTNode], function: cst.FunctionDef) -> bool:
    """No variable of the view goes by ``name`` but Flask's request itself."""
    own = {r for r in references if isinstance(r, cst.Name)}
    return name not in parameter_names(function) and not any(n.value == name and n not in own for n in tree.identifiers())

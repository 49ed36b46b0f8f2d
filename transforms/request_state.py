"""Per-request state on ``flask.g`` into FastAPI dependencies: the current user and resources.

Targets https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-with-yield/ and
https://fastapi.tiangolo.com/tutorial/security/ . ``codemod/state.py`` plans, for the whole
program, which guards and getters can move; this transform writes it:

- a getter ``get_db()`` (``g.db`` opened on first use, closed by a teardown) gets a yield
  dependency next to it, ``provide_db``, and an alias ``DbDep = Annotated[Session,
  Depends(provide_db)]``. The getter stays for code that runs outside a path operation;
- a guard decorator that checks the request and stores the user on ``g`` becomes a dependency
  that returns the user (``CurrentUser = Annotated[Any, Depends(login_required)]``), raises
  ``HTTPException`` where it called ``abort`` and declares its security scheme (HTTPBearer,
  HTTPBasic, APIKeyHeader) so that the OpenAPI docs show it. Its other attributes go to
  ``request.state``;
- views take ``user: CurrentUser`` and ``db: DbDep`` (or ``dependencies=[Depends(guard)]`` when
  they do not read the user) and lose the decorator; the functions on their path take the state
  as keyword arguments, passed on by their callers. Code that cannot take a parameter passes the
  getter's value (``db=get_db()``).
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ParentNodeProvider

from codemod.state import ABORT, G, Guard, Resource
from codemod.transform import Transform
from transforms._flask import kwarg, string_literal
from transforms._views import native_plans, with_parameter, with_route_options

SCHEMES = {
    "bearer": ("HTTPBearer", "HTTPAuthorizationCredentials"),
    "basic": ("HTTPBasic", "HTTPBasicCredentials"),
}


class RequestStateTransform(Transform):
    NAME = "request_state"
    DESCRIPTION = "g-kept user and resources -> dependencies (Depends), threaded as parameters"

    def __init__(self, context, run) -> None:
        super().__init__(context, run)
        self.plan = run.project.state
        self.functions: list[tuple[str | None, cst.FunctionDef]] = []  # (qualified or None, node)
        self.module = context.full_module_name or ""

    # -- where we are ---------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        qualified = f"{self.module}.{node.name.value}" if not self.functions and self._module_level(node) else None
        self.functions.append((qualified, node))

    def _module_level(self, node: cst.FunctionDef) -> bool:
        return isinstance(self.get_metadata(ParentNodeProvider, node, None), cst.Module)

    def _owner(self) -> str | None:
        """The planned function whose own body (not a nested function's) we are in."""
        if len(self.functions) != 1:
            return None
        return self.functions[0][0]

    def _tokens(self, owner: str | None) -> dict[str, bool]:
        """State the function has at hand (getter/guard -> True), None outside such functions."""
        guard = self._in_guard()
        if guard is not None:  # the dependency takes the resources its checks use
            facts = self.run.project.functions[guard].guard
            return {g: True for g in (facts.calls if facts else ()) if g in self.plan.resources}
        if owner is None:
            return {}
        if owner in self.plan.views:
            return {t: True for t, takes in self.plan.views[owner].items() if takes}
        return {t: True for t in self.plan.threaded.get(owner, ())}

    def _enclosing_tokens(self) -> dict[str, bool]:
        """State a nested function sees through its closure: the user, not resources (which the
        dependency may have closed by the time a nested function, a streamed body, runs)."""
        outer = self.functions[0][0] if self.functions else None
        return {t: v for t, v in self._tokens(outer).items() if t in self.plan.guards}

    # -- expressions ----------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        names = self.qualified_names(original_node.func)
        owner = self._owner()
        here = self._tokens(owner) if owner is not None or self._in_guard() else self._enclosing_tokens()
        for getter in names & set(self.plan.resources):
            if getter in here and not original_node.args:
                self.consume(original_node.func)
                return cst.Name(self.plan.resources[getter].param)
        for called in sorted(names & set(self.plan.threaded)):
            extra = []
            given = {a.keyword.value for a in updated_node.args if a.keyword is not None}
            for token in self.plan.threaded[called]:
                param = self.plan.token_param(token)
                if param in given:
                    continue
                if token in here:
                    extra.append(kwarg(param, cst.Name(param)))
                elif token in self.plan.resources:
                    extra.append(kwarg(param, cst.Call(self._getter(original_node, token))))
            if extra:
                args = list(updated_node.args)
                if args:
                    args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                return updated_node.with_changes(args=[*args, *extra])
        return updated_node

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        # the guard's request is now its Request parameter
        if self._in_guard() and self.qualified_names(original_node) & {"flask.request", "flask.globals.request"}:
            self.consume(original_node)
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if not self.qualified_names(original_node.value) & G:
            return updated_node
        attribute = original_node.attr.value
        owner = self._owner()
        here = self._tokens(owner) if owner is not None else self._enclosing_tokens()
        for token, guard in self.plan.guards.items():
            if attribute == guard.primary and (token in here or self._in_guard() == token):
                self.consume(original_node)
                return cst.Name(guard.param)
            if attribute in guard.others and (owner in self.plan.state_readers or self._in_guard() == token):
                self.consume(original_node)
                return cst.Attribute(cst.Attribute(cst.Name("request"), cst.Name("state")), cst.Name(attribute))
        return updated_node

    # -- statements -----------------------------------------------------------------------------
    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine):
        if len(updated_node.body) != 1:
            return updated_node
        small = updated_node.body[0]
        # ``db = get_db()`` became ``db = db``: nothing left to do
        original_small = original_node.body[0]
        if (
            m.matches(small, m.Assign([m.AssignTarget(m.Name())], m.Name()))
            and small.targets[0].target.value == small.value.value  # type: ignore[attr-defined]
            and isinstance(original_small, cst.Assign) and isinstance(original_small.value, cst.Call)
            and self.qualified_names(original_small.value.func) & set(self.plan.resources)
        ):
            return cst.RemovalSentinel.REMOVE
        guard = self._in_guard()
        if guard is None:
            return updated_node
        original = original_node.body[0]
        if isinstance(original, cst.Expr) and isinstance(original.value, cst.Call) and self.qualified_names(original.value.func) & ABORT:
            self.consume(original.value.func)
            return updated_node.with_changes(body=[self._raise(original.value, updated_node.body[0].value)])  # type: ignore[attr-defined]
        return updated_node

    def _raise(self, original: cst.Call, updated: cst.Call) -> cst.Raise:
        exception = self.import_reference(original.func, "fastapi", "HTTPException", replaces=False)
        args = [kwarg("status_code", updated.args[0].value)]
        detail = next((a.value for a in updated.args[1:] if a.keyword is None or a.keyword.value == "description"), None)
        if detail is not None:
            args.append(kwarg("detail", detail))
        return cst.Raise(cst.Call(exception, args))

    def _in_guard(self) -> str | None:
        if not self.functions:
            return None
        qualified = self.functions[0][0]
        return qualified if qualified in self.plan.guards else None

    # -- functions ------------------------------------------------------------------------------
    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef):
        qualified, _ = self.functions.pop()
        if self.functions or qualified is None:
            return updated_node
        if qualified in self.plan.guards:
            return self._dependency_of_guard(original_node, updated_node, self.plan.guards[qualified])
        if qualified in self.plan.views and native_plans(self, original_node):
            return self._view(original_node, updated_node, qualified)
        if qualified in self.plan.threaded:
            for token in self.plan.threaded[qualified]:
                updated_node = with_parameter(updated_node, self.plan.token_param(token), None)
            return updated_node
        getter = self.plan.resources.get(qualified)
        if getter is not None:
            return cst.FlattenSentinel([updated_node, *self._resource_dependency(original_node, getter)])
        return updated_node

    def _view(self, original: cst.FunctionDef, updated: cst.FunctionDef, qualified: str) -> cst.FunctionDef:
        state = self.plan.views[qualified]
        listed = []
        for token, takes in state.items():
            if takes:
                updated = with_parameter(updated, self.plan.token_param(token), self._alias(original, token))
            else:
                module, _, name = token.rpartition(".")
                guard = cst.Name(name) if module == self.module else self.import_reference(original, module, name, replaces=False)
                listed.append(self._depends(original, guard))
        if qualified in self.plan.state_readers:
            updated = with_parameter(updated, "request", self.import_reference(original, "fastapi", "Request", replaces=False))
        if listed:
            updated = with_route_options(self, original, updated, [kwarg("dependencies", cst.List([cst.Element(d) for d in listed]))])
        guards = set(self.plan.guards)
        for decorator in original.decorators:
            if self.qualified_names(decorator.decorator) & guards:
                self.consume(decorator.decorator)
        kept = [d for o, d in zip(original.decorators, updated.decorators) if not self.qualified_names(o.decorator) & guards]
        return updated.with_changes(decorators=kept)

    def _depends(self, anchor: cst.CSTNode, dependency: cst.BaseExpression) -> cst.Call:
        depends = self.import_reference(anchor, "fastapi", "Depends", replaces=False)
        return cst.Call(depends, [cst.Arg(dependency)])

    def _alias(self, anchor: cst.CSTNode, token: str) -> cst.BaseExpression:
        """The Annotated alias of a piece of state, imported from where it is defined."""
        if token in self.plan.resources:
            alias, owner = self.plan.resources[token].alias, token
        else:
            alias, owner = self.plan.guards[token].alias, token
        module = owner.rpartition(".")[0]
        if module == self.module:
            return cst.Name(alias)
        return self.import_reference(anchor, module, alias, replaces=False)

    # -- the dependencies -----------------------------------------------------------------------
    def _resource_dependency(self, getter: cst.FunctionDef, resource: Resource) -> list[cst.BaseStatement]:
        teardown = self._sibling(resource.teardown)
        local = resource.param
        opening = list(getter.body.body[-2].body.body)  # type: ignore[attr-defined]  (the if's block)
        uses_app = False

        class Rename(cst.CSTTransformer):
            def leave_Attribute(inner, original_node, updated_node):  # noqa: N805
                nonlocal uses_app
                if self.qualified_names(original_node) & G or not isinstance(original_node.value, (cst.Name, cst.Attribute)):
                    return updated_node
                if self.qualified_names(original_node.value) & G and original_node.attr.value == resource.attribute:
                    return cst.Name(local)
                if {n for n in self.qualified_names(original_node.value)} & {"flask.current_app", "flask.globals.current_app"}:
                    uses_app = True  # (not consumed: the getter keeps its own current_app)
                    return updated_node.with_changes(value=cst.Attribute(cst.Name("request"), cst.Name("app")))
                return updated_node

            def leave_Call(inner, original_node, updated_node):  # noqa: N805
                # FastAPI opens it in one thread and the view uses it in another (never at the
                # same time): what FastAPI's SQL tutorial passes to SQLite for that reason
                if "sqlite3.connect" in self.qualified_names(original_node.func) and not any(
                    a.keyword is not None and a.keyword.value == "check_same_thread" for a in updated_node.args
                ):
                    args = [*updated_node.args[:-1], updated_node.args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))] if updated_node.args else []
                    return updated_node.with_changes(args=[*args, kwarg("check_same_thread", cst.Name("False"))])
                return updated_node

        statements = [s.visit(Rename()) for s in opening]
        closing: list[cst.BaseStatement] = []
        if teardown is not None:
            popped = _popped_local(teardown)
            check = teardown.body.body[-1]  # type: ignore[attr-defined]
            closing = [s.visit(_Renamer(popped, local)) for s in check.body.body]  # type: ignore[attr-defined]
        returns = None
        if getter.returns is not None:
            iterator = self.import_reference(getter, "collections.abc", "Iterator", replaces=False)
            returns = cst.Annotation(cst.Subscript(iterator, [cst.SubscriptElement(cst.Index(getter.returns.annotation))]))
        params = []
        if uses_app:
            params.append(cst.Param(cst.Name("request"), cst.Annotation(self.import_reference(getter, "fastapi", "Request", replaces=False))))
        body = [
            _docstring(f"The request's {resource.attribute}, closed after the response ({getter.name.value} keeps it on flask.g)."),
            *statements,
            cst.Try(
                cst.IndentedBlock([cst.SimpleStatementLine([cst.Expr(cst.Yield(cst.Name(local)))])]),
                finalbody=cst.Finally(cst.IndentedBlock(closing or [cst.SimpleStatementLine([cst.Pass()])])),
            ),
        ]
        function = cst.FunctionDef(
            cst.Name(resource.dependency), cst.Parameters(params), cst.IndentedBlock(body), returns=returns,
            leading_lines=[cst.EmptyLine(), cst.EmptyLine()],
        )
        annotated = self._annotated(getter, getter.returns.annotation if getter.returns is not None else None, cst.Name(resource.dependency))
        alias = cst.SimpleStatementLine(
            [cst.Assign([cst.AssignTarget(cst.Name(resource.alias))], annotated)], leading_lines=[cst.EmptyLine(), cst.EmptyLine()]
        )
        return [function, alias]

    def _annotated(self, anchor: cst.CSTNode, type_: cst.BaseExpression | None, dependency: cst.BaseExpression) -> cst.Subscript:
        annotated = self.import_reference(anchor, "typing", "Annotated", replaces=False)
        if type_ is None:
            type_ = self.import_reference(anchor, "typing", "Any", replaces=False)
        return cst.Subscript(annotated, [
            cst.SubscriptElement(cst.Index(type_), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            cst.SubscriptElement(cst.Index(self._depends(anchor, dependency))),
        ])

    def _sibling(self, qualified: str) -> cst.FunctionDef | None:
        module, _, name = qualified.rpartition(".")
        if module != self.module:
            return None
        root = self._root
        return next((s for s in root.body if isinstance(s, cst.FunctionDef) and s.name.value == name), None)

    def visit_Module(self, node: cst.Module) -> None:
        self._root = node
        # the names this module already calls each getter by (``from .db import get_db``)
        self._getters: dict[str, str] = {}
        if self.plan.resources:
            for name in m.findall(node, m.Call(func=m.Name())):
                for qualified in self.qualified_names(name.func) & set(self.plan.resources):  # type: ignore[attr-defined]
                    self._getters.setdefault(qualified, name.func.value)  # type: ignore[attr-defined]

    def _getter(self, anchor: cst.CSTNode, token: str) -> cst.Name:
        if token in self._getters:
            return cst.Name(self._getters[token])
        module, _, name = token.rpartition(".")
        return self.import_reference(anchor, module, name, replaces=False)

    def _dependency_of_guard(self, original: cst.FunctionDef, updated: cst.FunctionDef, guard: Guard) -> cst.FlattenSentinel:
        wrapper = next(s for s in updated.body.body if isinstance(s, cst.FunctionDef))  # type: ignore[attr-defined]
        checks = [s for s in wrapper.body.body][:-1]  # type: ignore[attr-defined]
        docstring = updated.body.body[0] if m.matches(updated.body.body[0], m.SimpleStatementLine([m.Expr(m.SimpleString())])) else None  # type: ignore[index]
        request = self.import_reference(original, "fastapi", "Request", replaces=False)
        params = [cst.Param(cst.Name("request"), cst.Annotation(request))]
        facts = self.run.project.functions[guard.guard].guard
        for getter in sorted(facts.calls & set(self.plan.resources)) if facts else ():
            resource = self.plan.resources[getter]
            params.append(cst.Param(cst.Name(resource.param), cst.Annotation(self._alias(original, getter))))
        statements: list[cst.BaseStatement] = []
        if guard.scheme is not None:
            scheme_class, credentials = SCHEMES.get(guard.scheme, ("APIKeyHeader", None))
            scheme = self.import_reference(original, "fastapi.security", scheme_class, replaces=False)
            options = [kwarg("auto_error", cst.Name("False"))]
            if credentials is None:
                options.insert(0, kwarg("name", string_literal(guard.scheme)))
            scheme_name = f"{guard.guard.rpartition('.')[2]}_scheme"
            statements.append(cst.SimpleStatementLine(
                [cst.Assign([cst.AssignTarget(cst.Name(scheme_name))], cst.Call(scheme, options))],
                leading_lines=[cst.EmptyLine(comment=cst.Comment("# declares the scheme for OpenAPI; the checks below read the header themselves"))],
            ))
            type_ = self.import_reference(original, "fastapi.security", credentials, replaces=False) if credentials else cst.Name("str")
            optional = cst.BinaryOperation(type_, cst.BitOr(), cst.Name("None"))
            params.append(cst.Param(cst.Name("credentials"), cst.Annotation(self._annotated(original, optional, cst.Name(scheme_name)))))
        body: list[cst.BaseStatement] = [docstring] if docstring is not None else []
        for statement in checks:
            body.append(_primary_to_local(statement, guard.param))
        body.append(cst.SimpleStatementLine([cst.Return(cst.Name(guard.param))]))
        function = updated.with_changes(
            params=_one_per_line(params) if len(params) > 2 else cst.Parameters(params),
            whitespace_before_params=_NEWLINE if len(params) > 2 else cst.SimpleWhitespace(""),
            body=updated.body.with_changes(body=body), decorators=[],
            leading_lines=updated.leading_lines if not statements else [cst.EmptyLine(), cst.EmptyLine()],
        )
        if statements:
            statements[0] = statements[0].with_changes(leading_lines=[*updated.leading_lines, *statements[0].leading_lines])
        alias = cst.SimpleStatementLine(
            [cst.Assign([cst.AssignTarget(cst.Name(guard.alias))], self._annotated(original, None, cst.Name(original.name.value)))],
            leading_lines=[cst.EmptyLine(), cst.EmptyLine()],
        )
        return cst.FlattenSentinel([*statements, function, alias])


_NEWLINE = cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), indent=True, last_line=cst.SimpleWhitespace("    "))


def _one_per_line(params: list[cst.Param]) -> cst.Parameters:
    """Parameters written one per line, with a trailing comma (as black writes a long signature)."""
    newline = _NEWLINE
    last = cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), indent=True, last_line=cst.SimpleWhitespace(""))
    written = [p.with_changes(comma=cst.Comma(whitespace_after=newline)) for p in params[:-1]]
    written.append(params[-1].with_changes(comma=cst.Comma(whitespace_after=last)))
    return cst.Parameters(written)


def _primary_to_local(statement: cst.BaseStatement, param: str) -> cst.BaseStatement:
    """``user = ...`` where leave_Attribute made ``g.user = ...`` into ``user = ...`` already;
    nothing else to do (kept as a seam for the secondary attributes)."""
    return statement


def _popped_local(teardown: cst.FunctionDef) -> str:
    first = [s for s in teardown.body.body if not m.matches(s, m.SimpleStatementLine([m.Expr(m.SimpleString())]))][0]  # type: ignore[attr-defined]
    small = first.body[0]  # type: ignore[attr-defined]
    target = small.targets[0].target if isinstance(small, cst.Assign) else small.target
    return target.value


class _Renamer(cst.CSTTransformer):
    def __init__(self, old: str, new: str) -> None:
        super().__init__()
        self.old, self.new = old, new

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        return updated_node.with_changes(value=self.new) if updated_node.value == self.old else updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.Attribute:
        return updated_node.with_changes(attr=original_node.attr)  # x.session is no variable


def _docstring(text: str) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine([cst.Expr(cst.SimpleString(f'"""{text}"""'))])

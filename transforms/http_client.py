"""``requests`` in an async function -> awaited calls of the app's shared aiohttp session.

Targets runtime/flask2fastapi_runtime/http.py (``http_client()``, opened in the app's lifespan)
and FastAPI's https://fastapi.tiangolo.com/async/: a blocking ``requests.post`` in an
``async def`` stalls every request the event loop serves. A function converts when it is
``async def`` or the whole-program plan makes it one (``Project.async_functions``), and when
every use of requests in it has a faithful aiohttp form (codemod/http_io.py decides, node by
node); else it stays as it is and the finding says why. The answer of a call that did not
stream is read whole right after it, inside the same ``try``, as requests read it inside the
call; ``stream=True`` leaves it open for ``iter_lines``. ``except`` clauses name aiohttp's
errors, checked to catch each error where requests' did.
"""

from __future__ import annotations

import libcst as cst

from codemod.findings import Code
from codemod.http_io import RUNTIME, Analysis, analyse, module_facts
from codemod.transform import Example, Transform
from transforms._awaits import functions_in

# what each use of a response reads through the runtime (they keep requests' behaviour)
READERS = {"text": "read_text", "content": "read_body", "json": "read_json"}
# response.raise_for_status() -> the runtime's: its error is the one ``except HTTPError`` becomes


class HttpClientTransform(Transform):
    NAME = "http_client"
    DESCRIPTION = "requests in async functions -> awaited calls of the app's shared aiohttp session"
    PREFILTER = (b"requests",)
    FINDINGS = {
        "blocking": Code(
            "F2F271",
            "requests stays blocking in {function}: {reason}",
            "An async function calls requests (which blocks the event loop) in a way that has no "
            "faithful aiohttp form: an argument aiohttp has no equivalent for (files=, cookies=, "
            "proxies=, cert=, **kwargs), a response passed where its type is not known, an except "
            "order aiohttp's error classes would route differently. Rewrite that call with "
            "flask2fastapi_runtime.http_client() by hand, or keep the function synchronous.",
        ),
    }
    EXAMPLES = (
        Example(
            """\
            import requests


            async def weather(city):
                try:
                    response = requests.get("https://wttr.in/" + city, params={"format": "j1"}, timeout=5)
                except requests.Timeout:
                    return None
                if response.status_code != 200:
                    return None
                return response.json()
            """,
            """\
            import asyncio
            from flask2fastapi_runtime import http_client, http_timeout, read_body, read_json


            async def weather(city):
                try:
                    response = await http_client().get("https://wttr.in/" + city, params={"format": "j1"}, timeout=http_timeout(5))
                    await read_body(response)
                except asyncio.TimeoutError:
                    return None
                if response.status != 200:
                    return None
                return await read_json(response)
            """,
            title="a call, its answer read whole in the try, its timeout caught as aiohttp raises it",
        ),
        Example(
            """\
            import requests


            async def notify(url, event):
                requests.post(url, json=event, auth=("bot", "secret"), timeout=(2, 10)).raise_for_status()
            """,
            """\
            import aiohttp
            from flask2fastapi_runtime import http_client, http_timeout, raise_for_status


            async def notify(url, event):
                raise_for_status(await http_client().post(url, json=event, auth=aiohttp.BasicAuth("bot", "secret"), timeout=http_timeout((2, 10))))
            """,
            title="a (user, password) pair as aiohttp's BasicAuth; a (connect, read) timeout",
        ),
        Example(
            """\
            import requests


            async def upload(url, path):
                with open(path, "rb") as file:
                    return requests.post(url, files={"file": file}).status_code
            """,
            """\
            import requests


            async def upload(url, path):
                with open(path, "rb") as file:
                    # TODO[F2F271]: requests stays blocking in upload: `requests.post(url, files={"file": file})`: requests' files= has no aiohttp form here
                    return requests.post(url, files={"file": file}).status_code
            """,
            codes=("F2F271",),
            title="an argument with no aiohttp form: flagged, left as it is",
        ),
        Example(
            """\
            import requests


            def fetch(url):
                return requests.get(url, timeout=5).json()
            """,
            title="a synchronous function: it runs in the thread pool, unchanged",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.plan = Analysis()

    # -- the plan of the module ---------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        if not any(_imports_requests(s) for s in node.body):
            return
        names = self.qualified_names
        facts = module_facts(node, names)
        functions = [n for n in functions_in(node)]
        analyses = {f: analyse(f, names, facts) for f in functions}
        by_name = {name: f for f in functions for name in names(f.name)}
        asynchronous = {f for f in functions if f.asynchronous is not None or names(f.name) & self.run.project.async_functions}
        blocked = self._blocked_groups(analyses, by_name, asynchronous)
        for function, analysis in analyses.items():
            if function not in asynchronous or not _has_work(analysis):
                continue
            if analysis.problem is not None:
                where, reason = analysis.problem
                self.flag(where, "blocking", function=function.name.value, reason=reason)
            elif function in blocked:
                self.flag(function, "blocking", function=function.name.value, reason=blocked[function])
            else:
                self._take(analysis)

    def _blocked_groups(self, analyses: dict, by_name: dict, asynchronous: set) -> dict[cst.FunctionDef, str]:
        """Functions that hand each other ``requests.Response`` objects convert together: the
        reason each async one cannot, where one of its group stays synchronous or flagged."""
        group: dict[cst.FunctionDef, set[cst.FunctionDef]] = {f: {f} for f in analyses}
        for function, analysis in analyses.items():
            for partner in (by_name[n] for n in analysis.partners if n in by_name):
                merged = group[function] | group[partner]
                for member in merged:
                    group[member] = merged
        blocked = {}
        for function in analyses:
            stuck = sorted(
                m.name.value for m in group[function] if m is not function and (m not in asynchronous or analyses[m].problem)
            )
            if stuck:
                blocked[function] = f"it exchanges requests.Response objects with {', '.join(stuck)}, which stays as it is"
        return blocked

    def _take(self, analysis: Analysis) -> None:
        plan = self.plan
        plan.calls.update(analysis.calls)
        plan.reads_after.update(analysis.reads_after)
        plan.read_statements |= analysis.read_statements
        plan.uses.update(analysis.uses)
        plan.annotations |= analysis.annotations
        plan.exceptions.update(analysis.exceptions)
        for node in analysis.consumed:
            self.consume(node)

    # -- writing ------------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not isinstance(updated_node, cst.Call):
            return updated_node  # an earlier transform made something else of it
        updated_node = updated_node.with_changes(func=_grouped(updated_node.func))
        call = self.plan.calls.get(original_node)
        if call is not None:
            return cst.Await(self._aiohttp_call(original_node, updated_node, call))
        use = self.plan.uses.get(original_node)
        response = updated_node.func.value if isinstance(updated_node.func, cst.Attribute) else None
        if use == "json":
            reader = self.import_reference(original_node, RUNTIME, "read_json", replaces=False)
            return cst.Await(cst.Call(reader, [cst.Arg(_ungrouped(response)), *updated_node.args]))
        if use == "raise_for_status":
            check = self.import_reference(original_node, RUNTIME, "raise_for_status", replaces=False)
            return cst.Call(check, [cst.Arg(_ungrouped(response))])
        if use == "close":
            return updated_node.with_changes(func=updated_node.func.with_changes(attr=cst.Name("release")))
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if not isinstance(updated_node, cst.Attribute):
            return updated_node  # an earlier transform made something else of it
        replaced = self._reference(original_node)
        if replaced is not None:
            return replaced
        updated_node = updated_node.with_changes(value=_grouped(updated_node.value))
        use = self.plan.uses.get(original_node)
        if use == "status_code":
            return updated_node.with_changes(attr=cst.Name("status"))
        if use == "url":  # requests' url is a str, aiohttp's a yarl.URL
            return cst.Call(cst.Name("str"), [cst.Arg(updated_node)])
        if use in READERS:
            reader = self.import_reference(original_node, RUNTIME, READERS[use], replaces=False)
            return cst.Await(cst.Call(reader, [cst.Arg(_ungrouped(updated_node.value))]))
        return updated_node

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self._reference(original_node) or updated_node

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.Subscript:
        if not isinstance(updated_node, cst.Subscript):
            return updated_node  # an earlier transform made something else of it
        return updated_node.with_changes(value=_grouped(updated_node.value))

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.For:
        if not isinstance(updated_node, cst.For):
            return updated_node  # an earlier transform made something else of it
        if self.plan.uses.get(original_node) != "iter_lines":
            return updated_node
        lines = self.import_reference(original_node, RUNTIME, "iter_lines", replaces=False)
        response = _ungrouped(updated_node.iter.func.value)  # type: ignore[attr-defined]
        return updated_node.with_changes(
            asynchronous=cst.Asynchronous(), iter=cst.Call(lines, [cst.Arg(response)])
        )

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler, updated_node: cst.ExceptHandler) -> cst.ExceptHandler:
        """``except (requests.Timeout, requests.RequestException)``: one flat tuple, each once."""
        if not isinstance(updated_node, cst.ExceptHandler):
            return updated_node  # an earlier transform made something else of it
        if not isinstance(updated_node.type, cst.Tuple) or not any(
            isinstance(e.value, cst.Tuple) for e in updated_node.type.elements
        ):
            return updated_node
        seen: dict[str, cst.BaseExpression] = {}
        for element in updated_node.type.elements:
            values = element.value.elements if isinstance(element.value, cst.Tuple) else [element]
            for value in values:
                seen.setdefault(cst.Module([]).code_for_node(value.value), value.value)
        return updated_node.with_changes(type=_tuple(list(seen.values())))

    def leave_Expr(self, original_node: cst.Expr, updated_node: cst.Expr) -> cst.Expr:
        if not isinstance(updated_node, cst.Expr):
            return updated_node  # an earlier transform made something else of it
        if original_node.value in self.plan.read_statements:
            reader = self.import_reference(original_node.value, RUNTIME, "read_body", replaces=False)
            return updated_node.with_changes(value=cst.Await(cst.Call(reader, [cst.Arg(updated_node.value)])))
        return updated_node

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine):
        if not isinstance(updated_node, cst.SimpleStatementLine):
            return updated_node  # an earlier transform made something else of it
        read = self.plan.reads_after.get(original_node)
        if read is None:
            return updated_node
        name, stream = read
        reader = self.import_reference(original_node, RUNTIME, "read_body", replaces=False)
        statement = cst.SimpleStatementLine([cst.Expr(cst.Await(cst.Call(reader, [cst.Arg(cst.Name(name))])))])
        if isinstance(stream, cst.Name):  # read whole unless it streams, decided when it runs
            statement = cst.If(
                test=cst.UnaryOperation(cst.Not(), cst.Name(stream.value)), body=cst.IndentedBlock([statement])
            )
        return cst.FlattenSentinel([updated_node, statement])

    # -- pieces -------------------------------------------------------------------------------
    def _reference(self, original: cst.Name | cst.Attribute) -> cst.BaseExpression | None:
        if original in self.plan.annotations:
            return self._qualified("aiohttp.ClientResponse", original)
        mapped = self.plan.exceptions.get(original)
        if mapped is None:
            return None
        values = [self._qualified(name, original) for name in mapped]
        return values[0] if len(values) == 1 else _tuple(values)

    def _qualified(self, name: str, original: cst.CSTNode) -> cst.BaseExpression:
        module, _, attr = name.rpartition(".")
        if module == RUNTIME:
            return self.import_reference(original, RUNTIME, attr, replaces=False)
        self.run.support_imports.add((module, None, None))  # type: ignore[arg-type]  # import aiohttp
        return cst.Attribute(cst.Name(module), cst.Name(attr))

    def _aiohttp_call(self, original: cst.Call, updated: cst.Call, plan) -> cst.Call:
        client = self.import_reference(original, RUNTIME, "http_client", replaces=False)
        args: list[cst.Arg] = []
        kept = {id(value): (keyword, how) for keyword, how, value in plan.args}
        for before, after in zip(original.args, updated.args):
            if id(before.value) not in kept:
                continue  # stream=, verify=True
            keyword, how = kept[id(before.value)]
            value = after.value
            if how == "timeout":
                value = cst.Call(self.import_reference(original, RUNTIME, "http_timeout", replaces=False), [cst.Arg(value)])
            elif how == "params":
                value = cst.Call(self.import_reference(original, RUNTIME, "http_params", replaces=False), [cst.Arg(value)])
            elif how == "auth tuple":
                value = cst.Call(self._qualified("aiohttp.BasicAuth", original), [cst.Arg(e.value) for e in value.elements])  # type: ignore[attr-defined]
            elif how == "auth call":
                value = value.with_changes(func=self._qualified("aiohttp.BasicAuth", original))  # type: ignore[attr-defined]
            elif how == "verify":
                keyword = "ssl"
            arg = after.with_changes(value=value)
            if keyword is not None and after.keyword is None:  # aiohttp takes it by keyword only
                arg = arg.with_changes(keyword=cst.Name(keyword), equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
            elif keyword is not None:
                arg = arg.with_changes(keyword=cst.Name(keyword))
            args.append(arg)
        if args and updated.args:
            args[-1] = args[-1].with_changes(comma=updated.args[-1].comma)  # the last one's comma and line break
        func = cst.Attribute(cst.Call(client), cst.Name(plan.verb))
        return updated.with_changes(func=func, args=args)


def _imports_requests(statement: cst.CSTNode) -> bool:
    """A module-level ``import requests`` / ``from requests... import``."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        if isinstance(small, cst.Import) and any(a.evaluated_name.partition(".")[0] == "requests" for a in small.names):
            return True
        if isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
            if cst.Module([]).code_for_node(small.module).partition(".")[0] == "requests":
                return True
    return False



def _has_work(analysis: Analysis) -> bool:
    return bool(analysis.problem or analysis.calls or analysis.exceptions or analysis.annotations or analysis.uses)


def _grouped(node: cst.BaseExpression) -> cst.BaseExpression:
    """An ``await`` where a primary goes (``(await x).status``) needs parentheses."""
    if isinstance(node, cst.Await) and not node.lpar:
        return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return node


def _ungrouped(node: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(node, cst.Await) and node.lpar:
        return node.with_changes(lpar=[], rpar=[])
    return node


def _tuple(values: list[cst.BaseExpression]) -> cst.Tuple:
    elements = [
        cst.Element(v, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if i < len(values) - 1 else cst.MaybeSentinel.DEFAULT)
        for i, v in enumerate(values)
    ]
    return cst.Tuple(elements)

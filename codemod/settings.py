"""The app's settings read through ``current_app.config``, and who can take them as a parameter.

A Flask view reads its configuration from ``current_app.config``; a FastAPI one takes it from a
dependency, ``settings: Settings`` (flask2fastapi_runtime.settings), and the project functions
on its path get it as a keyword argument from their callers. The dependency gives the Flask
app's own ``config`` object, the one ``current_app.config`` is during the request, so every read
gives what it gave, however the project loaded or later changed it (``from_object``,
``from_pyfile``, a test's ``app.config.update``). The mapping outlives the request: a nested
function (a streamed body run after the view returned) reads it from its closure.

This module reads, for each module-level function, whether it refers to ``current_app.config``
and which identifiers it uses, and plans for the whole program which functions take the settings
and under what name. All or nothing per function: one that is also called where no settings can
be handed over (a bridged view, module code, a method, a test, a CLI command, a file the facts
pass did not read), referred to other than by a call (a callback) or named in a string given to
a call (``monkeypatch.setattr(llm, "complete", fake)``: the fake has the old signature) keeps
``current_app.config``, and so its callers pass it nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import libcst as cst
from codemod.visitors import Visitor

from codemod.state import CURRENT_APP, FunctionFacts

# the names a function takes the settings under: the first it does not use already
NAMES = ("settings", "config", "app_settings", "app_config")


@dataclass(frozen=True)
class ConfigFacts:
    """How a module-level function refers to ``current_app.config``."""

    own: bool  # in its own body
    nested: bool  # in a function, lambda or class defined in it (runs where it is called)
    identifiers: frozenset[str]  # every name it uses or binds, and identifier-like string literals


def config_facts(function: cst.FunctionDef, names: Callable[[cst.CSTNode], set[str]], apps: frozenset[str] = frozenset()) -> ConfigFacts:
    """Its reads in its body (its decorators and default values run at import, outside it).
    ``apps``: the project's one Flask app, by its qualified names (``app.config`` is then the
    config ``current_app.config`` is during every request), else empty."""
    reader = _Reader(names, apps)
    function.params.visit(reader)
    reader.own = reader.nested = False
    function.body.visit(reader)
    return ConfigFacts(reader.own, reader.nested, frozenset(reader.identifiers | {function.name.value}))


def is_config(node: cst.CSTNode, names: Callable[[cst.CSTNode], set[str]], apps: frozenset[str] = frozenset()) -> bool:
    """Whether ``node`` is ``current_app.config`` (under any name of current_app), or the
    ``config`` of ``apps``, the project's one app (the same object during a request)."""
    return isinstance(node, cst.Attribute) and node.attr.value == "config" and bool(names(node.value) & (CURRENT_APP | apps))


class _Reader(Visitor):
    def __init__(self, names: Callable[[cst.CSTNode], set[str]], apps: frozenset[str] = frozenset()) -> None:
        self.names = names
        self.apps = apps
        self.depth = 0  # functions, lambdas and classes around the node, in the one read
        self.own = self.nested = False
        self.identifiers: set[str] = set()
        self.attributes: set[cst.Name] = set()

    def _enter(self, node: cst.CSTNode) -> None:
        self.depth += 1

    def _leave(self, node: cst.CSTNode) -> None:
        self.depth -= 1

    visit_FunctionDef = visit_Lambda = visit_ClassDef = _enter  # type: ignore[assignment]
    leave_FunctionDef = leave_Lambda = leave_ClassDef = _leave  # type: ignore[assignment]

    def visit_Name(self, node: cst.Name) -> None:
        if node not in self.attributes:
            self.identifiers.add(node.value)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        # a query key or header the view reads may become a parameter of that name
        value = node.evaluated_value
        if isinstance(value, str) and value.isidentifier():
            self.identifiers.add(value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.attributes.add(node.attr)  # ``app.config`` binds no name ``config``
        if is_config(node, self.names, self.apps):
            if self.depth == 0:
                self.own = True
            else:
                self.nested = True


@dataclass
class SettingsPlan:
    # function (qualified) -> the name it takes the settings under; native views among them get
    # them from the dependency, the others as a keyword argument from their callers
    params: dict[str, str] = field(default_factory=dict)
    views: frozenset[str] = frozenset()


def plan_settings(
    functions: dict[str, FunctionFacts],
    config: dict[str, ConfigFacts],
    native_views: set[str],
    bridged_views: set[str],
    called_outside: set[str] = frozenset(),  # type: ignore[assignment]
    unseen_calls: set[str] = frozenset(),  # type: ignore[assignment]
    referenced: set[str] = frozenset(),  # type: ignore[assignment]
    named: set[str] = frozenset(),  # type: ignore[assignment]
    guards: frozenset[str] = frozenset(),
) -> SettingsPlan:
    """Who takes the settings: the native views that read ``current_app.config`` (or call a
    function that takes them), and the functions they reach that read it, where every caller of
    such a function takes them too. ``guards``: the guard decorators that become dependencies
    (codemod/state.py); one whose checks read it takes them from the dependency, as a view does."""
    if not any(facts.own or facts.nested for facts in config.values()):
        return SettingsPlan()
    # a guard's checks are its wrapper's body (nested in the decorator), the dependency's own
    reading_guards = {g for g in guards if g in config and (config[g].own or config[g].nested)}
    callers: dict[str, set[str]] = {}
    for f in functions.values():
        for called in f.calls | f.nested_calls:
            callers.setdefault(called, set()).add(f.qualified)

    def threadable(name: str) -> bool:
        f = functions[name]
        if name not in config or name in bridged_views or not f.sync or name.rpartition(".")[0] != f.module:
            return False  # no facts, Flask's view, async, or defined in a function (a factory's hook)
        if f.getter or f.teardown or f.guard:
            return False  # request_state's: they stay for code outside path operations
        if name in native_views:
            return True  # its decorators keep its signature (codemod/plan.py)
        return not f.decorators  # what a decorator calls it with is not seen

    def handed_over(name: str, needs: set[str]) -> bool:
        """Whether every use of the function is a call that can pass it the settings."""
        return (
            callers.get(name, set()) <= needs
            and name not in called_outside
            and name not in referenced
            and name.rpartition(".")[2] not in unseen_calls
            # a test may swap it for a function of its signature (a view: Flask keeps its own)
            and (name in native_views or name.rpartition(".")[2] not in named)
        )

    excluded: set[str] = set()
    while True:
        needs: set[str] = set()
        changed = True
        while changed:
            changed = False
            for name, f in functions.items():
                if name in needs or name in excluded or not threadable(name):
                    continue
                facts = config[name]
                if facts.own or facts.nested or (f.calls | f.nested_calls) & needs:
                    needs.add(name)
                    changed = True
        views = needs & native_views
        needs &= _reach(functions, views) | views  # other code keeps current_app.config
        refused = {name for name in needs if not handed_over(name, needs)}
        if not refused:
            break
        excluded |= refused
    needs |= reading_guards
    plan = SettingsPlan(views=frozenset(needs & (native_views | reading_guards)))
    for name in sorted(needs):
        used = config[name].identifiers
        plan.params[name] = next(n for n in (*NAMES, *(f"settings_{i}" for i in range(2, 100))) if n not in used)
    return plan


def _reach(functions: dict[str, FunctionFacts], start: set[str]) -> set[str]:
    """What ``start`` calls, transitively, nested functions' calls included."""
    seen: set[str] = set()
    todo = sorted(start)
    while todo:
        name = todo.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        f = functions[name]
        todo += sorted((f.calls | f.nested_calls) - seen)
    return seen

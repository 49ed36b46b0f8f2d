"""LibCST's metadata providers as the converter needs them, at a lower price: the same values.

FullNames gives a node's fully qualified names, computed only for the nodes that are asked
about. LibCST's FullyQualifiedNameProvider gives the same names at a price the converter paid on
every file it read. Its dependency QualifiedNameProvider walks the whole tree twice (its own
visitor, then the batched walk around it) to leave a lazy value on each node;
FullyQualifiedNameProvider then walks it twice more and forces every one of those values, asking
the scope for the names of every node of the module. The converter asks about a few nodes per
file (calls, decorators, bases, what its matchers look at). A cProfile of the facts pass over the
speed corpus (bench/README.md) put those four walks at about a quarter of its time. FullNames
puts a lazy value on each node that the scope analysis covers, straight from the scope map (no
walk), and computes a node's names on first use by LibCST's own rules: the scope's qualified
names for the node (``Scope.get_qualified_names_for``, what QualifiedNameProvider gives), made
absolute with the module's name and package as FullyQualifiedNameProvider makes them. A node
the scope analysis does not cover (whitespace, parentheses, a node a transform made) has no
value, so ``get_metadata(FullNames, node, set())`` gives the default; FullyQualifiedNameProvider
left an empty set there.

Scopes is ScopeProvider without a walk it does for nothing; Parents is ParentNodeProvider in one
walk with a stack, where LibCST's asks each node for its children (below).

tests/test_names.py compares each with LibCST's provider on every node of the fixtures and the
example chatbot.
"""

from __future__ import annotations

import functools
from pathlib import Path
from types import MappingProxyType
from typing import Any, Collection, Mapping, Optional

import libcst as cst
from libcst.metadata import (
    BaseMetadataProvider,
    BatchableMetadataProvider,
    ExpressionContextProvider,
    MetadataWrapper,
    QualifiedName,
    QualifiedNameSource,
)
from libcst.metadata.base_provider import ProviderT
from libcst.metadata.wrapper import _gather_providers
from libcst._metadata_dependent import LazyValue  # what QualifiedNameProvider leaves on its nodes
from libcst.helpers.module import ModuleNameAndPackage, calculate_module_and_package
from libcst.metadata.name_provider import FullyQualifiedNameVisitor
from libcst.metadata.scope_provider import Scope, ScopeVisitor


class Wrapper(MetadataWrapper):
    """MetadataWrapper without the walks LibCST's resolution makes for nothing.

    LibCST resolves providers in rounds, dependencies first, and ends every round with a walk of
    the whole tree for the round's batchable providers, even when there is none (a round of
    non-batchable providers only, such as Scopes or FullNames); and its batchable
    ExpressionContextProvider, ScopeProvider and ParentNodeProvider each do their work in their
    one hook, on the module, with a visitor of their own, so that the batched walk after it
    finds nothing to call. Each of those walks costs about a parse. This resolution makes the
    same rounds, generates a provider that has no other hook by calling that hook (what the
    batched walk would do first), and walks for the batchable providers only when there are
    some with other hooks."""

    def resolve_many(self, providers: Collection[ProviderT]) -> Mapping[ProviderT, Mapping[cst.CSTNode, object]]:
        done = set(self._metadata)
        todo = _gather_providers(set(providers), set()) - done  # with their dependencies, as LibCST finds them
        while todo:
            ready = {p for p in todo if set(p.METADATA_DEPENDENCIES) <= done}
            if not ready:
                raise ValueError(f"circular metadata dependencies: {', '.join(sorted(p.__name__ for p in todo))}")
            walked = []
            for provider_class in sorted(ready, key=lambda p: p.__name__):
                provider = provider_class(self._cache.get(provider_class)) if provider_class.gen_cache else provider_class()
                if not issubclass(provider_class, BatchableMetadataProvider):
                    self._metadata[provider_class] = provider._gen(self)
                elif _hooks(provider_class) == {"visit_Module"}:
                    with provider.resolve(self):
                        provider.visit_Module(self.module)
                    self._metadata[provider_class] = MappingProxyType(dict(provider._computed))
                else:
                    walked.append(provider)
            if walked:
                self.visit_batched(walked)
                self._metadata.update({type(p): MappingProxyType(dict(p._computed)) for p in walked})
            done |= ready
            todo -= ready
        return {p: self._metadata[p] for p in providers}


def _hooks(provider: type) -> set[str]:
    """The visit_ and leave_ hooks a batchable provider's own classes define."""
    names: set[str] = set()
    for cls in provider.__mro__:
        if cls is BatchableMetadataProvider:
            break
        names |= {name for name in vars(cls) if name.startswith(("visit_", "leave_"))}
    return names


class Scopes(BaseMetadataProvider[Optional[Scope]]):
    """A node's scope, as ScopeProvider gives it. ScopeProvider is a batchable provider whose one
    hook, on the module, runs its ScopeVisitor over the whole tree; LibCST then goes on with the
    batched walk around that hook, over every node, and finds no other hook. This provider runs
    the same visitor and inference on their own: the same scopes, without that walk (a quarter
    less time on werkzeug/routing/rules.py)."""

    METADATA_DEPENDENCIES = (ExpressionContextProvider,)

    def _gen_impl(self, module: cst.Module) -> None:
        visitor = ScopeVisitor(self)  # type: ignore[arg-type]  # it uses get_metadata and set_metadata only
        module.visit(visitor)
        visitor.infer_accesses()


class Parents(BaseMetadataProvider[cst.CSTNode]):
    """A node's parent, as ParentNodeProvider gives it. LibCST's provider, on leaving each node,
    asks it for its children, which visits them once more; here each node visited gets the node
    on top of the stack of nodes being visited: the same pairs (the walk visits a node's children
    in between its visit and its leave), in under half the time (werkzeug/routing/rules.py:
    0.055 s against 0.123 s)."""

    def _gen_impl(self, module: cst.Module) -> None:
        module.visit(_Stack(self))


class _Stack(cst.CSTVisitor):
    def __init__(self, provider: Parents) -> None:
        super().__init__()
        self.provider, self.stack = provider, []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.stack:
            self.provider.set_metadata(node, self.stack[-1])
        self.stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None


class FullNames(BaseMetadataProvider[Collection[QualifiedName]]):
    """A node's fully qualified names, as FullyQualifiedNameProvider gives them; its cache is
    the module's ``ModuleNameAndPackage``, as that provider's is."""

    METADATA_DEPENDENCIES = (Scopes,)

    @classmethod
    def gen_cache(cls, root_path: Path, paths: list[str], **kwargs: Any) -> Mapping[str, ModuleNameAndPackage]:
        """Each path's module and package (for FullRepoManager; the engine gives them itself)."""
        return {path: calculate_module_and_package(root_path, path) for path in paths}

    def __init__(self, cache: ModuleNameAndPackage) -> None:
        super().__init__(cache)
        self.module_name, self.package_name = cache.name, cache.package

    def _gen_impl(self, module: cst.Module) -> None:
        names = functools.partial(_names, self.module_name, self.package_name)
        for node, scope in self.metadata[Scopes].items():
            if isinstance(node, _NAMED):
                self.set_metadata(node, LazyValue(functools.partial(names, scope, node)) if scope else set())
        self.set_metadata(module, {QualifiedName(name=self.module_name, source=QualifiedNameSource.LOCAL)})


# The nodes Scope.get_qualified_names_for can name: an access (a name, an attribute, a string
# annotation) or what libcst.helpers.get_full_name_for_node reads a name from. Any other node
# has no names, and no value here: the default its callers give, an empty set, is LibCST's
# value for it. (A lazy value on each node of the module cost about a parse per file.)
_NAMED = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.FunctionDef, cst.ClassDef, cst.Decorator, cst.BaseString)


def _names(module_name: str, package_name: str, scope: Scope, node: cst.CSTNode) -> set[QualifiedName]:
    return {
        FullyQualifiedNameVisitor._fully_qualify(module_name, package_name, name)
        for name in scope.get_qualified_names_for(node)
    }

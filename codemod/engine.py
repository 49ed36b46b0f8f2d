"""Files in, results out: discover, gather facts, parse once, transform, write atomically.

Pass 1 (facts) and pass 2 (transform) both fan out over a process pool. Within a file the
transforms run in the explicit order of ``transforms.ORDER``, combined in one traversal of one
metadata-wrapped tree (with ``FlaskUses``, which counts the Flask debt); then the imports they
asked for are added (codemod/add_imports.py, as LibCST's AddImportsVisitor would) and the imports
whose every use was converted are removed. A file
that does not parse, or on which a transform raises, is reported and left byte-identical. A
converted project needs the runtime package: ``requirement_files`` adds it to its requirements.
With a cache (``convert_paths(cache=...)``, codemod/cache.py), a run reuses what an earlier one
computed from the same inputs: the whole run's results, or each file's facts, conversion and
leave_flask rewrite.
"""

from __future__ import annotations

import ast
import collections
import contextlib
import functools
import os
import re
import shutil
import tempfile
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

import libcst as cst
from codemod.visitors import Transformer
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import MetadataWrapper

from codemod import workers
from codemod.add_imports import add_imports
from codemod.cache import Cache, Run
from codemod.discovery import discover, is_venv  # noqa: F401 (discover: the engine's API)
from codemod.findings import PARSE_ERROR, READ_ERROR, TRANSFORM_ERROR, Finding, locate
from codemod.levels import CodeFacts, assign_levels, code_facts
from codemod.project import Project, gather, module_of, wrap
from codemod.template_plan import folders_read, modules_read
from codemod.transform import Combined, FileRun, FlaskUses, Options, Transform, import_source

RUNTIME_REQUIREMENT = "flask2fastapi-runtime>=0.1,<0.2"
# Never copied into --out: caches and version control, not part of the program.
NOT_COPIED = frozenset({"__pycache__", ".git", ".hg", ".svn", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox"})


@dataclass
class FileResult:
    path: str
    status: str  # "changed" | "unchanged" | "failed"
    findings: list[Finding] = field(default_factory=list)
    old: bytes | None = None  # only for changed files
    new: bytes | None = None
    routes: list[dict[str, object]] = field(default_factory=list)  # each route's level (plan.py)
    flask_uses: int = 0  # references to Flask, werkzeug and flask_* names left in the file
    code: CodeFacts | None = None  # what the converted code's functions use (codemod/levels.py)
    # the error handlers the file defines: FastAPI's now, or Flask's and why (error_handlers.py)
    error_handlers: list[dict[str, object]] = field(default_factory=list)
    # what keeps Flask in the converted project, in this file (transforms/leave_flask.py)
    flask_blockers: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "status": self.status,
            "findings": [f.to_json() for f in self.findings],
            "flask_uses": self.flask_uses,
        }


# -- one file ------------------------------------------------------------------------------


def _traverse(module: cst.Module, path: Path, base: CodemodContext, build, run: FileRun, wrapper: MetadataWrapper | None = None) -> cst.Module:
    """One metadata resolution and one traversal for the transforms ``build(context)`` makes
    (``wrapper``: the module's, its metadata resolved by the facts pass)."""
    wrapper = wrapper or wrap(module, path)
    context = replace(base, wrapper=wrapper)
    return wrapper.visit(Combined(build(context), run))


def _without_new_top_blank_lines(module: cst.Module, original: cst.Module) -> cst.Module:
    """Removing a file's first import leaves the blank line after it at the top; drop it."""
    if module.header or not module.body or not original.body:
        return module
    first = module.body[0]
    if original.body[0].leading_lines or not first.leading_lines:
        return module
    kept = list(first.leading_lines)
    while kept and kept[0].comment is None:
        kept.pop(0)
    return module.with_changes(body=[first.with_changes(leading_lines=kept), *module.body[1:]])


def transform_module(
    module: cst.Module, path: Path, project: Project, classes: Sequence[type[Transform]], options: Options, wrapper: MetadataWrapper | None = None
) -> tuple[cst.Module, FileRun]:
    """Run the transforms on a parsed module: the new module, and the run (findings, Flask
    uses). One metadata resolution and one traversal for all transforms; then
    the imports asked for (codemod/add_imports.py) and the removal of the imports whose
    every use was converted (known from the original tree's scopes)."""
    run = FileRun(project=project, options=options)
    module_id = module_of(path)
    base = CodemodContext(filename=str(path), full_module_name=module_id.name, full_package_name=module_id.package)
    original = module
    module = _traverse(module, path, base, lambda context: [*(c(context, run) for c in classes), FlaskUses(context, run)], run, wrapper)
    if run.sibling_imports:
        module = module.visit(_SiblingImports(run.sibling_imports))
    for needed in run.needed_imports():
        AddImportsVisitor.add_needed_import(base, *needed)
    if base.scratch.get(AddImportsVisitor.CONTEXT_KEY):
        module = add_imports(module, base)
    if run.removable_imports:
        module = module.visit(_ImportRemover(run.removable_imports))
    return _without_new_top_blank_lines(module, original), run


class _SiblingImports(Transformer):
    """Adds names to the ``from m import x`` statements that import x (FileRun.sibling_imports):
    ``from app.auth import bp as auth_bp, router as auth_router``."""

    def __init__(self, imports: set[tuple[str, int, str, str | None, str, str | None]]) -> None:
        super().__init__()
        self.imports = imports

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        if isinstance(updated_node.names, cst.ImportStar):
            return updated_node
        module = cst.Module([]).code_for_node(updated_node.module) if updated_node.module is not None else ""
        present = {(a.evaluated_name, a.evaluated_alias) for a in updated_node.names}
        added = [
            cst.ImportAlias(cst.Name(name), asname=cst.AsName(cst.Name(alias)) if alias else None)
            for m, level, existing, existing_alias, name, alias in sorted(self.imports, key=str)
            if (m, level) == (module, len(updated_node.relative)) and (existing, existing_alias) in present
            and (name, alias) not in present
        ]
        if not added:
            return updated_node
        names = list(updated_node.names)
        names[-1] = names[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return updated_node.with_changes(names=[*names, *added])


class _ImportRemover(Transformer):
    """Removes the given (module, name, asname) imports, and statements left empty; the comments
    on and above a removed line stay, above the next statement."""

    def __init__(self, imports: set[tuple[str, str, str | None]]) -> None:
        super().__init__()
        self.imports = imports

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom):
        return self._kept(updated_node, [a for a in updated_node.names if not self._removed(updated_node, a)])

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import):
        return self._kept(updated_node, [a for a in updated_node.names if not self._removed(updated_node, a)])

    def _removed(self, statement: cst.Import | cst.ImportFrom, alias: cst.ImportAlias) -> bool:
        if isinstance(statement, cst.Import):
            return (alias.evaluated_name, alias.evaluated_name, alias.evaluated_alias) in self.imports
        if isinstance(statement.names, cst.ImportStar):
            return False
        return (import_source(statement), alias.evaluated_name, alias.evaluated_alias) in self.imports

    def _empty(self, line: cst.BaseStatement) -> bool:
        """A line of imports all of which go (left whole by leave_Import*, removed here)."""
        return isinstance(line, cst.SimpleStatementLine) and all(
            isinstance(small, (cst.Import, cst.ImportFrom))
            and not isinstance(small.names, cst.ImportStar)
            and all(self._removed(small, alias) for alias in small.names)
            for small in line.body
        )

    @staticmethod
    def _kept(node, kept: list[cst.ImportAlias]):
        if len(kept) == len(node.names) or not kept:
            return node  # nothing to remove, or the whole statement: see _without_empty_lines
        # the last name ends as the statement's last did: a parenthesized list one a line keeps
        # its trailing comma and the line break before ")"
        kept[-1] = kept[-1].with_changes(comma=node.names[-1].comma)
        return node.with_changes(names=kept)

    def _without_empty_lines(self, body: Sequence[cst.BaseStatement]) -> tuple[list[cst.BaseStatement], list[cst.EmptyLine]]:
        kept: list[cst.BaseStatement] = []
        comments: list[cst.EmptyLine] = []
        for line in body:
            if self._empty(line):
                assert isinstance(line, cst.SimpleStatementLine)
                comments += [empty for empty in line.leading_lines if empty.comment is not None]
                if line.trailing_whitespace.comment is not None:
                    comments.append(cst.EmptyLine(comment=line.trailing_whitespace.comment))
                continue
            if comments:
                line = line.with_changes(leading_lines=[*comments, *line.leading_lines])
                comments = []
            kept.append(line)
        return kept, comments

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body, left = self._without_empty_lines(updated_node.body)
        return updated_node.with_changes(body=body, footer=[*left, *updated_node.footer])

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock):
        body, left = self._without_empty_lines(updated_node.body)
        if not body:
            body = [cst.SimpleStatementLine([cst.Pass()])]  # a block cannot be empty
        return updated_node.with_changes(body=body, footer=[*left, *updated_node.footer])


def convert_source(
    path: Path, source: bytes, project: Project, classes: Sequence[type[Transform]], options: Options = Options(),
    parsed: tuple[cst.Module, MetadataWrapper] | None = None, fast: bool = False,
) -> FileResult:
    """One file's result. ``parsed``: its tree and metadata from the facts pass. ``fast``: a file
    the prefilter turns away is not parsed by LibCST (CPython's parser checks that it parses)."""
    name = str(path)
    # the project's words, and those a transform needs that name no Flask object (TestApp)
    tokens = project.prefilter_tokens.union(*(transform.PREFILTER for transform in classes))
    wanted = any(token in source for token in tokens)
    module = parsed[0] if parsed is not None else None
    if module is None and (wanted or not fast or not _compiles(source, name)):
        try:
            module = cst.parse_module(source)
        except Exception as error:  # ParserSyntaxError, or an undecodable file
            message = PARSE_ERROR.message(error=_first_line(error))
            return FileResult(name, "failed", [Finding(PARSE_ERROR.code, name, _error_line(error), message)])
    handlers = [plan.to_json(h) for h, plan in project.error_handlers.items() if plan.path == name]
    if not wanted:
        return FileResult(name, "unchanged", error_handlers=handlers)
    assert module is not None
    try:
        new_module, run = transform_module(module, path, project, classes, options, parsed[1] if parsed is not None else None)
        new = new_module.bytes
    except Exception as error:
        where = traceback.extract_tb(error.__traceback__)[-1]
        detail = f"{type(error).__name__}: {_first_line(error)} ({Path(where.filename).name}:{where.lineno})"
        return FileResult(name, "failed", [Finding(TRANSFORM_ERROR.code, name, 0, TRANSFORM_ERROR.message(error=detail))])
    findings = locate(run.findings, new.decode(new_module.encoding), name)  # the module's code, without a second codegen
    module_id = module_of(path)
    routes = [
        {**plan.to_json(), "view": f"{module_id.name}.{plan.function}", "blueprint": plan.blueprint}
        for plan in project.plans_in(name)
    ]
    code = code_facts(new_module, module_id.name, module_id.package)
    if new == source:
        return FileResult(name, "unchanged", findings, routes=routes, flask_uses=run.flask_uses, code=code, error_handlers=handlers)
    return FileResult(
        name, "changed", findings, old=source, new=new, routes=routes, flask_uses=run.flask_uses, code=code, error_handlers=handlers
    )


def _compiles(source: bytes, name: str) -> bool:
    """Whether CPython's parser (about 20 times faster than LibCST's) reads the file; when it
    does not, LibCST's parse says why, in the words the slow path reports."""
    try:
        compile(source, name, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, UnicodeError, MemoryError, RecursionError):
        return False
    return True


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _error_line(error: BaseException) -> int:
    return getattr(error, "raw_line", 0) or 0


def convert_file(path: Path, project: Project, classes: Sequence[type[Transform]], options: Options) -> FileResult:
    try:
        source = path.read_bytes()
    except OSError as error:
        return FileResult(str(path), "failed", [Finding(READ_ERROR.code, str(path), 0, READ_ERROR.message(error=error))])
    return convert_source(path, source, project, classes, options)


# -- many files ------------------------------------------------------------------------------

_WORKER: dict[str, object] = {}


def _init_worker(project: Project, classes: Sequence[type[Transform]], options: Options) -> None:
    _WORKER.update(project=project, classes=classes, options=options)


def _convert_in_worker(path: Path) -> FileResult:
    return convert_file(path, _WORKER["project"], _WORKER["classes"], _WORKER["options"])  # type: ignore[arg-type]


def _gather_file(path: Path) -> Project:
    try:
        return gather(path, path.read_bytes())
    except OSError:
        return Project()


def _map(func: Callable, items: Sequence, jobs: int, on_done: Callable[[], None] | None, initializer=None, initargs=()) -> Iterator:
    if jobs <= 1 or len(items) <= 1:
        if initializer:
            initializer(*initargs)
        for item in items:
            yield func(item)
            if on_done:
                on_done()
        return
    chunk = max(1, len(items) // (jobs * 8))
    with ProcessPoolExecutor(max_workers=jobs, initializer=initializer, initargs=initargs) as pool:
        for result in pool.map(func, items, chunksize=chunk):
            yield result
            if on_done:
                on_done()


def fast_path() -> bool:
    """The engine's default: the fast path (codemod/workers.py), unless FLASK2FASTAPI_SLOW is set."""
    return os.environ.get("FLASK2FASTAPI_SLOW", "") in ("", "0")


def _merged(facts: Sequence[Project]) -> Project:
    project = Project()
    for found in facts:
        project.merge(found)
    return project


def _gather_kept(kept: workers.Kept, path: Path) -> Project:
    return kept.gather(path)


def _convert_kept(kept: workers.Kept, path: Path, *, project: Project, classes, options: Options) -> FileResult:
    """Pass 2 of the fast path, on the worker that read and resolved the file in pass 1."""
    source, parsed = kept.take(path)
    if source is None:  # not read in pass 1: read (and report) it now
        return convert_file(path, project, classes, options)
    result = convert_source(path, source, project, classes, options, parsed=parsed, fast=True)
    if options.leave_flask and result.status == "unchanged" and _may_use_flask(source):
        kept.keep(path, source, parsed)  # leave_flask may read it: the same tree serves
    return result


def convert_paths(
    files: Sequence[Path],
    classes: Sequence[type[Transform]],
    options: Options = Options(),
    jobs: int = 1,
    on_done: Callable[[], None] | None = None,
    fast: bool | None = None,
    cache: Cache | None = None,
    roots: Sequence[Path] | None = None,
) -> list[FileResult]:
    """Convert ``files`` as one project. ``fast`` (default: ``fast_path()``): each file parsed
    and resolved once, on a worker pinned to it (codemod/workers.py); else each pass on its own.
    ``cache``: reuse what an earlier run computed (codemod/cache.py); ``roots``, the paths the
    files were found under (default: their folders), bound what its key reads."""
    fast = fast if fast is not None else fast_path()
    if cache is None:
        return _convert(files, classes, options, jobs, on_done, fast, None)[0]
    sources = [_read_or_none(path) for path in files]
    modules = [(found.name, found.package) for found in map(module_of, files)]
    choice = [*(f"{c.__module__}.{c.__qualname__}" for c in classes), *_option_words(options)]
    folders = _folders(roots if roots is not None else files)
    run = cache.run(files, modules, sources, choice, folders)
    results = run.results()
    if results is not None:
        for _ in files if on_done else ():
            on_done()  # type: ignore[misc]
        return results
    results, project = _convert(files, classes, options, jobs, on_done, fast, run, folders)
    run.keep_results(results, folders_read(project.templates, folders))
    return results


def _convert(files, classes, options: Options, jobs: int, on_done, fast: bool, run: Run | None, folders: Sequence[Path] = ()) -> tuple[list[FileResult], Project]:
    """The results and the project's facts. ``run``: the cache's entries for this run, for the
    facts, conversions and leave_flask rewrites it reuses and keeps (codemod/cache.py)."""
    known = run.known_facts() if run is not None else {}
    if fast:
        with workers.Pinned(files, jobs) as pool:
            gathered = pool.each(_gather_kept, [None if i in known else path for i, path in enumerate(files)])
            project = _project(known, gathered, run, files, folders)
            task = functools.partial(_convert_kept, project=project, classes=classes, options=options)
            results = _reused(run, "result", files, lambda todo: pool.each(task, todo, on_done), on_done)
            return _finish(results, project, options, pool, run), project
    missing = [i for i in range(len(files)) if i not in known]
    gathered = [None] * len(files)
    for i, facts in zip(missing, _map(_gather_file, [files[i] for i in missing], jobs, None)):
        gathered[i] = facts
    project = _project(known, gathered, run, files, folders)

    def convert(todo: list) -> list:
        answers = iter(_map(_convert_in_worker, [p for p in todo if p is not None], jobs, on_done, _init_worker, (project, classes, options)))
        return [next(answers) if p is not None else None for p in todo]

    return _finish(_reused(run, "result", files, convert, on_done), project, options, None, run), project


def _project(known: dict, gathered: list, run: Run | None, files: Sequence[Path], folders: Sequence[Path]) -> Project:
    """The project's facts: each file's, kept or just gathered (then kept), merged in order."""
    if run is not None:
        for i, found in enumerate(gathered):
            if found is not None:
                run.gathered(i, found)
    project = _merged([known[i] if i in known else found for i, found in enumerate(gathered)])
    if run is not None:
        run.bind(folders_read(project.templates, folders), modules_read(project.templates, files))
    return project


def _reused(run: Run | None, kind: str, items: Sequence, compute: Callable[[list], list], on_done=None, texts: Sequence[bytes | None] | None = None, extra: str = "") -> list:
    """``compute(items)``, or for a run with a cache, its answers kept for the same ``texts``
    (default: the files' sources) and ``extra`` (codemod/cache.py ``Run.reused``)."""
    if run is None:
        return compute(list(items))
    return run.reused(kind, items, run.sources if texts is None else texts, compute, on_done, extra)


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _option_words(options: Options) -> list[str]:
    return [*sorted(options.ignore_codes), "|", *sorted(options.select_codes), "|", f"{options.native_validation} {options.leave_flask}"]


def _folders(paths: Sequence[Path]) -> list[Path]:
    """The folders under which a run's other inputs are read: each folder given, a file's own
    folder, none inside another."""
    folders = sorted({(path if path.is_dir() else path.parent).resolve() for path in paths})
    return [f for f in folders if not any(f != other and f.is_relative_to(other) for other in folders)]


def _finish(results: list[FileResult], project: Project, options: Options, pool: workers.Pinned | None, run: Run | None = None) -> list[FileResult]:
    """The levels of the routes, from what the converted code uses; then leave_flask."""
    code = CodeFacts()
    for result in results:
        if result.code is not None:
            code.merge(result.code)
    assign_levels([route for r in results for route in r.routes], code, project.sync_reasons, {**project.helper_bodies.refused, **project.session_kept}, project.state.hooks_kept)
    if options.leave_flask:
        leave_flask(results, project, options, pool, run)
    return results


# Words of a file that may still use Flask, or the bridge (what leave_flask reads)
# What leave_flask may rewrite or block on: Flask's and werkzeug's modules and names, the
# bridge. Not the runtime's own names (``flask2fastapi_runtime``, ``FlaskCorsMiddleware``,
# ``FlaskJson``...), which every converted file says and which leave_flask never touches: a
# file of only those is not resolved again.
_FLASK_WORDS = re.compile(rb"flask(?!2fastapi)|\bFlask\b|werkzeug|bridge_of|FlaskBridge|FlaskRoute")


def _may_use_flask(text: bytes) -> bool:
    return _FLASK_WORDS.search(text) is not None


def leave_flask(results: list[FileResult], project: Project, options: Options, pool: workers.Pinned | None = None, run: Run | None = None) -> list[str]:
    """The last step (transforms/leave_flask.py): where the converted project's only Flask left
    is its app's plumbing, rewrite every file that has some into Flask-free code, in place in
    ``results``. Returns what keeps Flask (``path:line: what``), empty where Flask left or no
    bridge was there to leave; on any blocker, nothing changes. ``pool``: the fast path's
    workers rewrite their own files (a file no transform changed keeps its tree from pass 1)."""
    texts, every = {}, []
    for result in results:
        if result.status == "failed":
            return [f"{result.path}: not converted ({result.findings[0].message if result.findings else 'failed'})"]
        text = result.new if result.new is not None else Path(result.path).read_bytes()
        every.append(text)
        if _may_use_flask(text):
            texts[result.path] = text
    if not any(b"FlaskBridge(" in text for text in texts.values()):
        return []
    private = {name for text in texts.values() for name in re.findall(rb"^(?:async )?def (_\w+)\(", text, re.MULTILINE)}
    # how often each is a whole word (``\b_name\b``) in the project: a whole word is a maximal
    # run of word characters, so one scan of each text for the runs that start with "_" counts
    # them all (a search per name and text was a quadratic serial step: 4 s on the speed corpus)
    counts = collections.Counter(word for text in every for word in re.findall(rb"\b_\w*", text) if word in private)
    unused = frozenset(name.decode() for name in private if counts[name] == 1)
    task = functools.partial(_leave_one, project=project, options=options, unused=unused)
    items = [(result.path, texts[result.path]) if result.path in texts else None for result in results]

    def rewrite(todo: list) -> list:
        return pool.each(task, todo) if pool is not None else [task(None, item) if item else None for item in todo]

    rewritten_from = [item[1] if item is not None else None for item in items]
    answers = _reused(run, "leave", items, rewrite, texts=rewritten_from, extra=" ".join(sorted(unused)))
    blockers: list[str] = []
    rewritten: dict[str, tuple[bytes, list[tuple[str, str]]]] = {}
    for item, answer in zip(items, answers):
        if item is not None:
            new, found, kept_by = answer
            blockers += kept_by
            rewritten[item[0]] = (new, found)
    if blockers:
        # each result's blockers: those that start with its path and a colon, in their order
        paths = {result.path for result in results}
        mine: dict[str, list[str]] = collections.defaultdict(list)
        for blocker in blockers:
            for end in (i for i, c in enumerate(blocker) if c == ":"):
                if blocker[:end] in paths:
                    mine[blocker[:end]].append(blocker)
        for result in results:
            result.flask_blockers = mine.get(result.path, [])
        return blockers
    for result in results:
        if result.path not in rewritten:
            continue
        new, found = rewritten[result.path]
        old = result.old if result.old is not None else Path(result.path).read_bytes()
        result.flask_uses = 0
        result.findings += locate(found, new.decode("utf-8", "replace"), result.path)
        result.status, result.old, result.new = ("unchanged", None, None) if new == old else ("changed", old, new)
    return []


@functools.lru_cache(maxsize=8)
def _leave_class(unused: frozenset[str]) -> type[Transform]:
    from transforms.leave_flask import LeaveFlaskTransform  # transforms import the engine's modules

    return type(LeaveFlaskTransform.__name__, (LeaveFlaskTransform,), {"unused": unused})


def _leave_one(kept: workers.Kept | None, item: tuple[str, bytes], *, project: Project, options: Options, unused: frozenset[str]):
    """leave_flask's rewrite of one file: its new text, findings and blockers."""
    path, text = item
    parsed = kept.tree_of(Path(path), text) if kept is not None else None
    module = parsed[0] if parsed is not None else cst.parse_module(text)
    new, run = transform_module(module, Path(path), project, [_leave_class(unused)], options, parsed[1] if parsed is not None else None)
    return new.bytes, run.findings, run.flask_blockers


# -- writing ---------------------------------------------------------------------------------


def requirement_files(roots: Sequence[Path], results: Sequence[FileResult]) -> dict[Path, bytes]:
    """The files to write so that each converted project requires the runtime package its code
    now imports: its root's requirements.txt (the line added once), else the dependencies of
    its pyproject.toml's [project] table, else a new requirements-fastapi.txt."""
    changed = [Path(r.path).resolve() for r in results if r.status == "changed"]
    texts = [r.new if r.new is not None else _read(r.path) for r in results if r.status != "failed"]
    extras = set()
    # async routes' sessions need SQLAlchemy's asyncio extension and the async drivers, their
    # sqlite3 connections aiosqlite (the db extra)
    if any(module in text for text in texts for module in (b"flask2fastapi_runtime.async_db", b"flask2fastapi_runtime.async_sqlite")):
        extras.add("db")
    # Flask-JWT-Extended's manager taken over (transforms/jwt_auth.py) signs with PyJWT (the jwt extra)
    if any(b"JWTAuth" in text for text in texts):
        extras.add("jwt")
    # Jinja2Templates (transforms/templates.py) needs Jinja, which came with Flask (the templates extra)
    if any(b"Jinja2Templates" in text for text in texts):
        extras.add("templates")
    # the bridge needs Flask (the flask extra); once Flask left (leave_flask), no line names it
    bridged = any(b"FlaskBridge" in text for text in texts)
    if bridged:
        extras.add("flask")
    left = not bridged and any(b"NativeApp(" in (r.new or b"") for r in results)
    requirement = RUNTIME_REQUIREMENT.replace("runtime>=", f"runtime[{','.join(sorted(extras))}]>=") if extras else RUNTIME_REQUIREMENT
    files: dict[Path, bytes] = {}
    for root in roots:
        folder = root if root.is_dir() else root.parent
        if not any(path.is_relative_to(folder.resolve()) for path in changed):
            continue
        requirements, pyproject = folder / "requirements.txt", folder / "pyproject.toml"
        if requirements.is_file():
            text = original = requirements.read_bytes()
            if left:
                text = _FLASK_REQUIREMENT_LINE.sub(b"", text)
            if b"flask2fastapi-runtime" not in text:
                ending = b"" if not text or text.endswith(b"\n") else b"\n"
                text = text + ending + requirement.encode() + b"\n"
            if text != original:
                files[requirements] = text
            continue
        if pyproject.is_file():
            text = pyproject.read_text(encoding="utf-8")
            added = text if "flask2fastapi-runtime" in text else _with_dependency(text, requirement)
            if added is not None and left:
                added = _FLASK_DEPENDENCY.sub("", added)
            if added is not None:
                if added != text:
                    files[pyproject] = added.encode("utf-8")
                continue
        files[folder / "requirements-fastapi.txt"] = requirement.encode() + b"\n"
    return files


# what only the Flask app needed: its requirement goes with it (leave_flask)
# (Flask-JWT-Extended: nothing imports it once Flask left, its manager is the runtime's JWTAuth)
_FLASK_NAMES = rb"(?:flask|flask[-_]cors|flask[-_]jwt[-_]extended|werkzeug)"
_FLASK_REQUIREMENT_LINE = re.compile(rb"(?im)^[ \t]*" + _FLASK_NAMES + rb"[ \t]*(?:[<>=!~;\[#].*)?(?:\r?\n|\Z)")
_FLASK_DEPENDENCY = re.compile(r'(?im)^[ \t]*"' + _FLASK_NAMES.decode() + r'(?:[<>=!~;\[ ][^"]*)?",?[ \t]*\n')


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def _with_dependency(text: str, requirement: str = RUNTIME_REQUIREMENT) -> str | None:
    """pyproject.toml's text with the runtime first in [project] dependencies (None: it has no
    such list)."""
    section = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    if section is None:
        return None
    match = re.search(r"^dependencies\s*=\s*\[", section.group(1), re.MULTILINE)
    if match is None:
        return None
    at = section.start(1) + match.end()
    rest = text[at:]
    if rest.lstrip(" ").startswith("]"):
        entry = f'"{requirement}"'
    elif rest.startswith("\n"):
        indent = re.match(r"\n([ \t]*)", rest).group(1) or "    "  # type: ignore[union-attr]
        entry = f'\n{indent}"{requirement}",'
    else:
        entry = f'"{requirement}", '
    return text[:at] + entry + rest


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a reader sees the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        mode = path.stat().st_mode & 0o7777
    else:  # what open() would have given a new file, not mkstemp's private 0600
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".f2f")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def copy_tree(source: Path, target: Path) -> None:
    """Copy everything a program may need (data, templates, config), leaving caches out."""
    if source.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        return

    def ignore(folder: str, names: list[str]) -> set[str]:
        # a folder tagged as a cache (CACHEDIR.TAG: ours, --cache-dir, or another tool's) is no part of the program
        return {n for n in names if n in NOT_COPIED or is_venv(Path(folder) / n) or (Path(folder) / n / "CACHEDIR.TAG").is_file()}

    shutil.copytree(source, target, ignore=ignore, symlinks=True, dirs_exist_ok=True)


def out_root(root: Path, roots: Sequence[Path], out: Path) -> Path:
    """Where a converted root lands: a single folder becomes ``out`` itself; several roots,
    or a file, land as ``out/<name>``."""
    return out if len(roots) == 1 and root.is_dir() else out / root.name


def out_path(path: Path, roots: Sequence[Path], out: Path) -> Path:
    """Where a file under one of ``roots`` lands in ``out``."""
    for root in roots:
        if root.is_file():
            if path.resolve() == root.resolve():
                return out_root(root, roots, out)
            continue
        try:
            relative = path.resolve().relative_to(root.resolve())
        except ValueError:
            continue
        return out_root(root, roots, out) / relative
    raise ValueError(f"{path} is under none of {roots}")

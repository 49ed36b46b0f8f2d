#!/usr/bin/env python3.11
"""Convert every app of the real-app corpus and measure the result (issue 9).

For each [[app]] of manifest.toml, working on a LOCAL checkout (the apps' code is never in this
repository, and CI machines reach only PyPI):

  1. a venv per app (<venvs>/<name>) with the app's pinned requirements, the harness extras, and
     flask2fastapi installed editable from this repository (plus <repo>/runtime when it exists);
  2. the ORIGINAL tests, run on a fresh copy of the checkout; the ids that pass are recorded;
  3. `flask2fastapi convert <checkout> --out <work>/<name>/converted` (exit code and stderr kept);
  4. both apps imported in a subprocess of their own, from inside their tree, and their route
     tables compared (route_table() in PROBE is the one place that reads a table);
  5. the same test command on the converted tree: how many of the originally passing tests pass.

Prints a markdown table and writes it, with the first blocker per app, into README.md between
the corpus-table markers.

  python3.11 bench/corpus/run.py checkouts            # how to get every checkout
  python3.11 bench/corpus/run.py prepare              # make checkouts from local git mirrors
  python3.11 bench/corpus/run.py run [NAME...]        # measure (all apps by default)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CONVERTER = REPO  # the flask2fastapi source tree installed editable in every venv (--converter)
MANIFEST = HERE / "manifest.toml"
README = HERE / "README.md"
SCRATCH = Path(os.environ.get("CORPUS_SCRATCH", "/work/scratch"))
DEFAULT_CHECKOUTS = SCRATCH / "corpus"
DEFAULT_VENVS = SCRATCH / "corpus-venvs"
DEFAULT_WORK = SCRATCH / "corpus-work"
TEST_TIMEOUT = 1200
START, END = "<!-- corpus-table:start -->", "<!-- corpus-table:end -->"


def load_manifest() -> dict:
    with open(MANIFEST, "rb") as f:
        return tomllib.load(f)


def sh(cmd, *, cwd=None, env=None, timeout=None, check=False) -> subprocess.CompletedProcess:
    try:
        cp = subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout, capture_output=True, text=True)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        cp = subprocess.CompletedProcess(cmd, 124, out, err + f"\n[timeout after {timeout}s]")
    if check and cp.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({cp.returncode}):\n{cp.stdout[-3000:]}\n{cp.stderr[-3000:]}")
    return cp


def log(msg: str) -> None:
    print(f"[corpus {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# checkouts

def checkout_instructions(app: dict, dest: Path) -> str:
    url = f"https://github.com/{app['repo']}"
    lines = [f"# {app['name']}: {url} @ {app['commit']}"]
    if "cookiecutter" in app:
        ctx = " ".join(f"{k}={json.dumps(v) if ' ' in v else v}" for k, v in app["cookiecutter"].items())
        lines += [f"git clone {url} /tmp/tpl-{app['name']} && git -C /tmp/tpl-{app['name']} checkout {app['commit']}",
                  f"pip install cookiecutter && cookiecutter --no-input -o {dest.parent} /tmp/tpl-{app['name']} {ctx}",
                  f"# the generated folder must be {dest}"]
    else:
        sub = f" {app['subdir']}" if app.get("subdir") else ""
        strip = f" --strip-components={len(Path(app['subdir']).parts)}" if app.get("subdir") else ""
        lines += [f"git clone {url} /tmp/src-{app['name']} && mkdir -p {dest} && "
                  f"git -C /tmp/src-{app['name']} archive {app['commit']}{sub} | tar -x -C {dest}{strip}"]
    return "\n".join(lines)


def prepare(app: dict, dest: Path, mirror_pattern: str, force: bool) -> None:
    if dest.exists() and not force:
        log(f"{app['name']}: {dest} exists (use --force to remake it)")
        return
    owner, name = app["repo"].split("/")
    git_dir = Path(mirror_pattern.format(owner=owner, name=name))
    if not git_dir.exists():
        raise SystemExit(f"{app['name']}: no local git mirror at {git_dir}; do it by hand:\n{checkout_instructions(app, dest)}")
    if dest.exists():
        shutil.rmtree(dest)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        tar = subprocess.Popen(["git", f"--git-dir={git_dir}", "archive", app["commit"]], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", str(src)], stdin=tar.stdout, check=True)
        if tar.wait() != 0:
            raise SystemExit(f"{app['name']}: git archive {app['commit']} failed in {git_dir}")
        if "cookiecutter" in app:
            gen = Path(tmp) / "gen"
            ctx = [f"{k}={v}" for k, v in app["cookiecutter"].items()]
            cc = shutil.which("cookiecutter")
            cmd = [cc] if cc else [sys.executable, "-m", "cookiecutter"]
            sh(cmd + ["--no-input", "-o", str(gen), str(src)] + ctx, check=True)
            (made,) = [p for p in gen.iterdir() if p.is_dir()]
            shutil.copytree(made, dest, symlinks=True)
        else:
            shutil.copytree(src / app.get("subdir", "."), dest, symlinks=True)
    log(f"{app['name']}: checkout made at {dest}")


# ---------------------------------------------------------------------------------------------
# venvs

def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def pip_install(venv: Path, args: list[str]) -> subprocess.CompletedProcess:
    uv = shutil.which("uv")
    if uv:
        return sh([uv, "pip", "install", "-q", "-p", str(venv_python(venv))] + args, timeout=1800)
    return sh([str(venv_python(venv)), "-m", "pip", "install", "-q", "--disable-pip-version-check"] + args, timeout=1800)


def ensure_venv(app: dict, harness: dict, venvs: Path, rebuild: bool) -> Path:
    venv = venvs / app["name"]
    runtime = CONVERTER / "runtime"
    has_runtime = (runtime / "pyproject.toml").exists() or (runtime / "setup.py").exists()
    wanted = list(app["requirements"]) + list(harness.get("converted_extras", []))
    stamp_data = json.dumps({"req": wanted, "repo": str(CONVERTER), "runtime": has_runtime,
                             "py": harness.get("python", "3.11")}, sort_keys=True)
    stamp = hashlib.sha256(stamp_data.encode()).hexdigest()
    stamp_file = venv / ".corpus-stamp"
    if not rebuild and stamp_file.exists() and stamp_file.read_text() == stamp and venv_python(venv).exists():
        return venv
    log(f"{app['name']}: building venv {venv}")
    if venv.exists():
        shutil.rmtree(venv)
    py = f"python{harness.get('python', '3.11')}"
    uv = shutil.which("uv")
    if uv:
        sh([uv, "venv", "-q", "-p", py, str(venv)], check=True)
    else:
        sh([shutil.which(py) or sys.executable, "-m", "venv", str(venv)], check=True)
    editable = ["-e", str(CONVERTER)] + (["-e", str(runtime)] if has_runtime else [])
    cp = pip_install(venv, wanted + editable)
    if cp.returncode != 0:
        raise RuntimeError(f"{app['name']}: install failed:\n{cp.stderr[-4000:]}")
    stamp_file.write_text(stamp)
    return venv


# ---------------------------------------------------------------------------------------------
# tests

def run_tests(app: dict, venv: Path, tree: Path, out_dir: Path, label: str) -> dict:
    """Run the app's own test command in tree; return {"ids": {id: outcome}, "rc", "tail"}."""
    env = app_env(app, tree)
    if app.get("install_self"):
        pip_install(venv, ["--no-deps", "-e", str(tree)])
    py = str(venv_python(venv))
    if app["runner"] == "pytest":
        junit = out_dir / f"junit-{label}.xml"
        junit.unlink(missing_ok=True)
        cmd = [py, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", f"--junitxml={junit}"] + app["test_args"]
        cp = sh(cmd, cwd=tree, env=env, timeout=TEST_TIMEOUT)
        ids = parse_junit(junit) if junit.exists() else {}
    else:
        cmd = [py, "-m", "unittest"] + app["test_args"] + ["-v"]
        cp = sh(cmd, cwd=tree, env=env, timeout=TEST_TIMEOUT)
        ids = parse_unittest(cp.stderr)
    (out_dir / f"tests-{label}.log").write_text(f"$ {' '.join(cmd)}\n[exit {cp.returncode}]\n{cp.stdout}\n--- stderr ---\n{cp.stderr}")
    return {"ids": ids, "rc": cp.returncode, "cmd": cmd,
            "tail": (cp.stdout + cp.stderr).strip().splitlines()[-40:]}


def parse_junit(path: Path) -> dict:
    ids = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        tid = f"{case.get('classname', '')}::{case.get('name', '')}"
        outcome, msg = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome, msg = "failed", (child.get("message") or child.text or "").strip()
                break
            if child.tag == "skipped":
                outcome = "skipped"
        ids[tid] = {"outcome": outcome, "message": msg[:600]}
    return ids


UNITTEST_LINE = re.compile(r"^(\w+) \(([\w.]+)\)(?:\n.*?)? \.\.\. (ok|FAIL|ERROR|skipped.*|expected failure|unexpected success)$", re.M)


def parse_unittest(stderr: str) -> dict:
    ids = {}
    for name, where, res in UNITTEST_LINE.findall(stderr):
        tid = where if where.endswith("." + name) else f"{where}.{name}"
        outcome = "passed" if res in ("ok", "expected failure") else "skipped" if res.startswith("skipped") else "failed"
        ids[tid] = {"outcome": outcome, "message": ""}
    # the first traceback of each failure, for the blocker report
    for block in re.split(r"^={50,}$", stderr, flags=re.M)[1:]:
        m = re.match(r"\s*(?:ERROR|FAIL): (\w+) \(([\w.]+)\)", block)
        if m:
            tid = m.group(2) if m.group(2).endswith("." + m.group(1)) else f"{m.group(2)}.{m.group(1)}"
            lines = [l for l in block.split("-" * 70)[-1].strip().splitlines() if l.strip()] if "-" * 70 in block else []
            if tid in ids and lines:
                ids[tid]["message"] = lines[-1][:600]
    return ids


# ---------------------------------------------------------------------------------------------
# route tables

PROBE = r'''
import importlib, json, os, re, sys, traceback
sys.path.insert(0, os.getcwd())
spec, factory = sys.argv[1], sys.argv[2] == "1"
out = {"imports": False}

FLASK_CONV = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
STARLETTE_CONV = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")
SKIP = {"HEAD", "OPTIONS"}

def flask_rows(flask_app):
    return sorted({(FLASK_CONV.sub(r"{\1}", r.rule), m)
                   for r in flask_app.url_map.iter_rules() for m in (r.methods or ()) if m not in SKIP})

def asgi_rows(app, prefix=""):
    rows = set()
    for r in getattr(app, "routes", []):
        path = prefix + getattr(r, "path", "")
        methods = getattr(r, "methods", None)
        sub = getattr(r, "app", None)
        if methods:
            rows |= {(STARLETTE_CONV.sub(r"{\1}", path), m) for m in methods if m not in SKIP}
        elif sub is not None and getattr(sub, "routes", None) is not None:
            rows |= set(asgi_rows(sub, path))
        elif sub is not None and getattr(sub, "url_map", None) is not None:   # a mounted Flask app
            rows |= {(path.rstrip("/") + p, m) for p, m in flask_rows(sub)}
        elif getattr(r, "path", None) is not None:
            rows.add((STARLETTE_CONV.sub(r"{\1}", path) + "/*", "*"))
    return sorted(rows)

def route_table(app):
    """The one place that reads a route table: switch to the runtime's route_table() when it exists."""
    for mod in ("flask2fastapi_runtime",):
        try:
            rt = importlib.import_module(mod)
        except ImportError:
            continue
        if hasattr(rt, "route_table"):
            return "runtime", sorted(tuple(x) for x in rt.route_table(app))
    is_asgi = hasattr(app, "router")  # FastAPI / Starlette
    ext = getattr(app, "extensions", None)
    if not is_asgi and isinstance(ext, dict) and "flask2fastapi" in ext:
        app, is_asgi = ext["flask2fastapi"], True  # a Flask app served by a FlaskBridge: read the bridge
    if is_asgi and getattr(app, "flask_app", None) is not None:
        return "bridge", sorted(set(flask_rows(app.flask_app)) | set(asgi_rows(app)))
    if is_asgi:
        return "asgi", asgi_rows(app)
    if getattr(app, "url_map", None) is not None:
        return "flask", flask_rows(app)  # on the converted side: still a bare Flask app, nothing served by ASGI
    return "unknown", []

try:
    mod_name, _, attr = spec.partition(":")
    obj = getattr(importlib.import_module(mod_name), attr or "app")
    app = obj() if factory else obj
    out["imports"] = True
    out["type"] = f"{type(app).__module__}.{type(app).__qualname__}"
    out["kind"], out["routes"] = route_table(app)
except BaseException:
    out["error"] = traceback.format_exc()[-4000:]
print("@@PROBE@@" + json.dumps(out))
'''


def app_env(app: dict, tree: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "FLASK_"))}
    env.update({k: str(v) for k, v in app.get("env", {}).items()})
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def probe(app: dict, venv: Path, tree: Path, out_dir: Path, label: str) -> dict:
    script = out_dir / "probe.py"
    script.write_text(PROBE)
    cp = sh([str(venv_python(venv)), str(script), app["app"], "1" if app.get("factory") else "0"],
            cwd=tree, env=app_env(app, tree), timeout=300)
    (out_dir / f"probe-{label}.log").write_text(cp.stdout + "\n--- stderr ---\n" + cp.stderr)
    for line in cp.stdout.splitlines():
        if line.startswith("@@PROBE@@"):
            return json.loads(line[len("@@PROBE@@"):])
    return {"imports": False, "error": (cp.stdout + cp.stderr)[-4000:] or f"probe exited {cp.returncode}"}


def last_error_line(text: str) -> str:
    lines = [l.strip() for l in (text or "").strip().splitlines() if l.strip()]
    for l in reversed(lines):
        if re.match(r"^[\w.]+(Error|Exception|Exit|Interrupt)\b|^\w+Error:|^E\s", l):
            return l
    return lines[-1] if lines else ""


def where_line(text: str) -> str:
    """The innermost frame of the app's own code in a traceback, and the library it went into."""
    frames = re.findall(r'File "([^"]+)", line (\d+)', text or "")
    own = [i for i, (f, _) in enumerate(frames)
           if not f.startswith("<") and "site-packages" not in f and "/lib/python3" not in f
           and not f.endswith(("flask_compat.py", "probe.py"))]
    if not own:
        return ""
    f, line = frames[own[-1]]
    where = f"{f}:{line}"
    libs = [re.search(r"site-packages/([^/]+)", g) for g, _ in frames[own[-1] + 1:]]
    libs = [m.group(1) for m in libs if m]
    if any(g.endswith("flask_compat.py") for g, _ in frames[own[-1] + 1:]):
        where += " via flask_compat"
    if libs:
        where += f" in {libs[0]}"
    return where


# ---------------------------------------------------------------------------------------------
# one app

def measure(app: dict, harness: dict, checkout: Path, venvs: Path, work: Path, rebuild: bool) -> dict:
    name = app["name"]
    res: dict = {"name": name, "repo": app["repo"], "commit": app["commit"], "extensions": app.get("extensions", []),
                 "converter_rev": sh(["git", "-C", str(CONVERTER), "rev-parse", "--short", "HEAD"]).stdout.strip() or "?"}
    if not checkout.exists():
        res["error"] = f"no checkout at {checkout}"
        log(f"{name}: no checkout at {checkout}; get it with:\n{checkout_instructions(app, checkout)}")
        return res
    out_dir = work / name
    out_dir.mkdir(parents=True, exist_ok=True)
    venv = ensure_venv(app, harness, venvs, rebuild)

    original = out_dir / "original"
    converted = out_dir / "converted"
    for d in (original, converted):
        if d.exists():
            shutil.rmtree(d)
    shutil.copytree(checkout, original, symlinks=True)

    log(f"{name}: original tests")
    orig_tests = run_tests(app, venv, original, out_dir, "original")
    res["original_passed"] = sorted(t for t, r in orig_tests["ids"].items() if r["outcome"] == "passed")
    res["original_total"] = len(orig_tests["ids"])
    res["original_rc"] = orig_tests["rc"]
    res["original_probe"] = probe(app, venv, original, out_dir, "original")

    log(f"{name}: convert")
    f2f = venv / "bin" / "flask2fastapi"
    t0 = time.time()
    conv = sh([str(f2f), "convert", str(checkout), "--out", str(converted),
               "--report", str(out_dir / "convert-report.json")], timeout=1800, env=app_env(app, checkout))
    res["convert_seconds"] = round(time.time() - t0, 1)
    res["convert_rc"] = conv.returncode
    res["convert_stderr"] = conv.stderr[-4000:]
    (out_dir / "convert.log").write_text(f"[exit {conv.returncode}]\n{conv.stdout}\n--- stderr ---\n{conv.stderr}")
    if not converted.exists():
        res["convert_no_tree"] = f"convert exited {conv.returncode} and wrote no tree: {last_error_line(conv.stderr or conv.stdout)}"
        res["blocker"] = res["convert_no_tree"]
        res["converted_probe"] = {"imports": False}
        res["converted_passed"] = []
        return res

    log(f"{name}: converted app")
    res["converted_probe"] = probe(app, venv, converted, out_dir, "converted")
    log(f"{name}: converted tests")
    conv_tests = run_tests(app, venv, converted, out_dir, "converted")
    res["converted_rc"] = conv_tests["rc"]
    res["converted_total"] = len(conv_tests["ids"])
    passed_after = {t for t, r in conv_tests["ids"].items() if r["outcome"] == "passed"}
    res["converted_passed"] = sorted(passed_after & set(res["original_passed"]))

    lost = [t for t in res["original_passed"] if t not in passed_after]
    if lost:
        res["first_lost"] = [lost[0], conv_tests["ids"].get(lost[0], {}).get("message", "") or "did not run"]
    res["converted_tests_tail"] = last_error_line("\n".join(conv_tests["tail"]))
    res["blocker"] = blocker_of(res)
    if not res["blocker"]:
        del res["blocker"]
    return res


def blocker_of(res: dict) -> str:
    """The first thing that stops the converted app: its import error, else the first originally
    passing test that no longer passes."""
    cp = res.get("converted_probe", {})
    text = ""
    if res.get("convert_no_tree"):
        text = res["convert_no_tree"]
    elif not cp.get("imports"):
        err = cp.get("error", "")
        text = f"import: {last_error_line(err)}" + (f" ({where_line(err)})" if where_line(err) else "")
    elif res.get("original_passed") and res.get("converted_total", 0) == 0:
        text = f"tests: no test ran (exit {res.get('converted_rc')}): {res.get('converted_tests_tail', '')}"
    elif res.get("first_lost"):
        tid, msg = res["first_lost"]
        text = f"tests: {tid}: {msg.splitlines()[0] if msg else ''}"
    for prefix, short in ((str(DEFAULT_WORK) + "/", ""), (str(DEFAULT_VENVS) + "/", "<venv>/")):
        text = text.replace(prefix, short)
    return text


# ---------------------------------------------------------------------------------------------
# report

def routes_cell(res: dict) -> tuple[str, str]:
    orig = {tuple(r) for r in res.get("original_probe", {}).get("routes", [])}
    conv = {tuple(r) for r in res.get("converted_probe", {}).get("routes", [])}
    if not orig:
        return "?", "?"
    cp = res.get("converted_probe", {})
    served = len(orig & conv) if cp.get("imports") and cp.get("kind") != "flask" else 0
    return str(len(orig)), str(served)


def table(results: list[dict]) -> str:
    rows = ["| app | extensions | routes original / served | converted imports | tests passing original → converted | % |",
            "|---|---|---|---|---|---|"]
    for r in results:
        if "original_passed" not in r:
            rows.append(f"| {r['name']} | {', '.join(r['extensions'])} | – | – | {r.get('error', '')} | – |")
            continue
        o, s = routes_cell(r)
        n0, n1 = len(r["original_passed"]), len(r.get("converted_passed", []))
        pct = f"{100 * n1 / n0:.0f}%" if n0 else "–"
        imp = "yes" if r.get("converted_probe", {}).get("imports") else "no"
        rows.append(f"| [{r['name']}](https://github.com/{r['repo']}) | {', '.join(r['extensions']) or '(none)'} | "
                    f"{o} / {s} | {imp} | {n0} → {n1} | {pct} |")
    tot0 = sum(len(r.get("original_passed", [])) for r in results)
    tot1 = sum(len(r.get("converted_passed", [])) for r in results)
    ok = sum(1 for r in results if r.get("original_passed") and
             len(r.get("converted_passed", [])) >= 0.9 * len(r["original_passed"]) and
             r.get("converted_probe", {}).get("imports") and routes_cell(r)[0] == routes_cell(r)[1])
    rows.append(f"| **all** | | | | **{tot0} → {tot1}** | **{100 * tot1 / tot0:.0f}%** |" if tot0 else "")
    rows.append("")
    rows.append(f"Apps meeting the bar (imports, full route table served, ≥ 90% of the passing tests pass): **{ok} of {len(results)}**.")
    return "\n".join(rows)


def blockers(results: list[dict]) -> str:
    lines = []
    for r in results:
        b = r.get("blocker") or ("none: meets the bar" if r.get("original_passed") else r.get("error", "not measured"))
        b = b[:400].replace("`", "'")
        lines.append(f"- **{r['name']}**: `{b}`" if r.get("blocker") else f"- **{r['name']}**: {b}")
    return "\n".join(lines)


def write_readme(results: list[dict], command: str, converter_rev: str) -> None:
    block = (f"{START}\n_Measured {time.strftime('%Y-%m-%d')} against flask2fastapi at `{converter_rev}` with:_ "
             f"`{command}`\n\n{table(results)}\n\nFirst blocker per app (what stops the converted app from "
             f"importing, else the first originally passing test that fails):\n\n{blockers(results)}\n{END}")
    text = README.read_text() if README.exists() else f"# Real-app corpus\n\n{START}\n{END}\n"
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text += "\n" + block + "\n"
    README.write_text(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for c in ("checkouts", "prepare", "run", "report"):
        p = sub.add_parser(c)
        p.add_argument("names", nargs="*", help="apps to handle (default: all)")
        p.add_argument("--checkouts", type=Path, default=DEFAULT_CHECKOUTS, help="folder holding one checkout per app name")
    sub.choices["prepare"].add_argument("--mirror", default="/work/.mirror/{owner}+{name}/repo",
                                        help="git dir of a local mirror of each repository")
    sub.choices["prepare"].add_argument("--force", action="store_true")
    sub.choices["report"].add_argument("--work", type=Path, default=DEFAULT_WORK)
    sub.choices["report"].add_argument("--command", default="python3.11 bench/corpus/run.py run",
                                       help="the measuring command to quote in README.md")
    r = sub.choices["run"]
    r.add_argument("--venvs", type=Path, default=DEFAULT_VENVS)
    r.add_argument("--work", type=Path, default=DEFAULT_WORK, help="copies, converted trees, logs, results.json")
    r.add_argument("--rebuild-venvs", action="store_true")
    r.add_argument("--no-readme", action="store_true", help="print the table only")
    r.add_argument("--converter", type=Path, default=REPO,
                   help="flask2fastapi source tree to install editable (default: this repository)")
    args = ap.parse_args()
    global CONVERTER
    CONVERTER = getattr(args, "converter", REPO).resolve()

    manifest = load_manifest()
    apps = [a for a in manifest["app"] if not args.names or a["name"] in args.names]
    if args.names and len(apps) != len(args.names):
        known = {a["name"] for a in manifest["app"]}
        raise SystemExit(f"unknown app(s): {sorted(set(args.names) - known)}")

    if args.cmd == "checkouts":
        for a in apps:
            print(checkout_instructions(a, args.checkouts / a["name"]) + "\n")
        return 0
    if args.cmd == "prepare":
        for a in apps:
            prepare(a, args.checkouts / a["name"], args.mirror, args.force)
        return 0

    if args.cmd == "report":  # rebuild the table and README block from results.json
        order = [a["name"] for a in manifest["app"]]
        results = [r for r in json.loads((args.work / "results.json").read_text()) if r["name"] in order]
        results.sort(key=lambda r: order.index(r["name"]))
        for r in results:
            if "original_passed" in r:
                r["blocker"] = blocker_of(r)
        print(table(results) + "\n\n" + blockers(results))
        write_readme(results, args.command, results[0].get("converter_rev", "?") if results else "?")
        return 0

    args.work.mkdir(parents=True, exist_ok=True)
    results_file = args.work / "results.json"
    previous = {r["name"]: r for r in json.loads(results_file.read_text())} if results_file.exists() else {}
    for a in apps:
        log(f"=== {a['name']}")
        try:
            previous[a["name"]] = measure(a, manifest.get("harness", {}), args.checkouts / a["name"],
                                          args.venvs, args.work, args.rebuild_venvs)
        except Exception as e:  # one broken app does not stop the corpus
            previous[a["name"]] = {"name": a["name"], "repo": a["repo"], "commit": a["commit"],
                                   "extensions": a.get("extensions", []), "error": f"harness: {e}"[:1500]}
            log(f"{a['name']}: {e}")
        results_file.write_text(json.dumps(list(previous.values()), indent=1))
    order = [a["name"] for a in manifest["app"]]
    results = sorted(previous.values(), key=lambda r: order.index(r["name"]) if r["name"] in order else 99)
    results = [r for r in results if r["name"] in order]
    print(table(results))
    print()
    print(blockers(results))
    if not args.no_readme and not args.names:
        rev = sh(["git", "-C", str(CONVERTER), "rev-parse", "--short", "HEAD"]).stdout.strip() or "?"
        cmd = "python3.11 bench/corpus/run.py run" + ("" if CONVERTER == REPO else f" --converter {CONVERTER}")
        write_readme(results, cmd, rev)
        log(f"table written to {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Tables (markdown) and plots (PNG) of a bench/load.py run, from its results.json."""

from __future__ import annotations

import math
from pathlib import Path

from loadbench import stats

BEGIN, END = "<!-- load.py results: begin -->", "<!-- load.py results: end -->"
NAMES = {"postgres": "PostgreSQL", "sqlite": "SQLite"}
# the servers' labels (loadbench.servers): the two that run the async stack, whose own work is
# the *async* replay
CONVERTED, BY_HAND = "converted", "FastAPI by hand"


def step_of(data: dict) -> stats.Step:
    return stats.Step(**data)


def _ms(seconds: float) -> str:
    return "failed" if math.isinf(seconds) else f"{seconds * 1000:.0f}"


def _per_request(step: stats.Step, tree: str) -> str:
    value = step.cpu_ms_per_request(tree)
    return "-" if math.isnan(value) else f"{value:.2f}"


def _capacity_text(top: int, steps: list[stats.Step], largest: int) -> str:
    return f"≥ {top}" if top and top == largest and all(s.users <= top for s in steps) else str(top)


def run_title(run: dict) -> str:
    return f"{NAMES.get(run['backend'], run['backend'])}, upstream {run['latency'] * 1000:.0f} ms"


def plot_name(run: dict) -> str:
    return f"{run['backend']}-{run['latency'] * 1000:.0f}ms.png"


def capacities(run: dict) -> dict[str, int]:
    return {label: stats.capacity([step_of(s) for s in steps], run["latency"])
            for label, steps in run["steps"].items()}


def run_tables(run: dict) -> list[str]:
    latency = run["latency"]
    largest = max(s["users"] for steps in run["steps"].values() for s in steps)
    tops = capacities(run)
    lines = [f"### {run_title(run)}", ""]
    slo = f"p95 <= {(latency + stats.SLO_MARGIN_S) * 1000:.0f} ms and < {stats.MAX_ERROR_RATE:.0%} errors"
    parts = []
    for label, steps in run["steps"].items():
        parts.append(f"{label}: **{_capacity_text(tops[label], [step_of(s) for s in steps], largest)}**")
    lines.append(f"Capacity (the most users with {slo}): " + ", ".join(parts) + ".")
    converted = next((label for label in tops if label.startswith(CONVERTED)), None)
    if converted:
        ratios = []
        for label, top in tops.items():
            if label != converted:
                if top:
                    ratios.append(f"{tops[converted] / top:.1f}x {label}'s")
                else:
                    ratios.append(f"{tops[converted]} users where {label} held not even the first step")
        lines.append(f"The converted app holds {'; '.join(ratios)}.")
    search = ", ".join(f"{row['kind']}: {row['capacity']} ({row.get('rps_past_capacity', 0):.0f} rps)"
                       for row in run["search"])
    lines += ["", f"gthread search (short steps; capacity, and rps at the step past it): {search}; "
              f"best: {run['best_gthread']}."]
    for label, note in run.get("notes", {}).items():
        lines.append(f"{label}: {note}.")
    database = "PostgreSQL CPU ms/req | " if run["backend"] == "postgres" else ""
    lines += ["", f"| users | server | rps | p50 ms | p95 ms | p99 ms | errors | server CPU ms/req | {database}"
              "stub CPU ms/req | load gen. CPU ms/req | other processes (cores) |",
              "|---|---|---|---|---|---|---|---|" + ("---|" if database else "") + "---|---|---|"]
    rows = sorted((step_of(s) for steps in run["steps"].values() for s in steps),
                  key=lambda s: (s.users, run["servers"].index(s.server)))
    for step in rows:
        known = sum(step.cpu.get(tree, 0.0) for tree in ("server", "database", "upstream", "loadgen"))
        others = max(0.0, step.cpu.get("machine", known) - known) / step.seconds
        cells = [str(step.users), step.server, f"{step.rps:.1f}", _ms(step.p50), _ms(step.p95), _ms(step.p99),
                 f"{step.error_rate:.1%}", _per_request(step, "server")]
        if database:
            cells.append(_per_request(step, "database"))
        cells += [_per_request(step, "upstream"), _per_request(step, "loadgen"), f"{others:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"![{run_title(run)}](load-results/{plot_name(run)})", ""]
    return lines


def probe_tables(results: dict) -> list[str]:
    """The framework probe: each server's CPU per request of GET /health/live (load.py's PROBE)."""
    runs = [run for run in results["runs"] if any(run.get("probes", {}).values())]
    if not runs:
        return []
    lines = ["### The framework's cost of a request (probe)", "",
             "Each server answered GET /health/live (`{\"status\": \"ok\"}`: no database and no upstream, but the "
             "app's hooks, CORS and error handling, as on every request) to 16 users with no think time, "
             "a few rounds of 4 s alternating the servers; the median round's CPU per request is the "
             "framework and server's own cost of a request, measured directly.", "",
             "| database | server | rounds | rps | p50 ms | server CPU ms/req (median) | all rounds | against the best gthread |",
             "|---|---|---|---|---|---|---|---|"]
    for run in runs:
        medians = {label: _median_round([step_of(s) for s in steps]) for label, steps in run["probes"].items() if steps}
        best = medians.get(run["best_gthread"])
        for label, steps in run["probes"].items():
            if not steps:
                continue
            rounds = [step_of(s) for s in steps]
            middle = medians[label]
            against = f"{middle.cpu_ms_per_request() / best.cpu_ms_per_request():.2f}x" if best else "-"
            every = ", ".join(_per_request(r, "server") for r in rounds)
            lines.append(f"| {NAMES.get(run['backend'], run['backend'])} | {label} | {len(rounds)} | {middle.rps:.0f} | "
                         f"{_ms(middle.p50)} | {_per_request(middle, 'server')} | {every} | {against} |")
    lines.append("")
    return lines


def _median_round(rounds: list[stats.Step]) -> stats.Step:
    ordered = sorted(rounds, key=lambda r: (math.isnan(r.cpu_ms_per_request()), r.cpu_ms_per_request()))
    return ordered[(len(ordered) - 1) // 2]


def limit_tables(results: dict) -> list[str]:
    """The app's own work per request against each server's CPU per request at its busiest step."""
    if not results.get("app_work"):
        return []
    shape = results.get("converted", {})
    lines = ["### Where the limit is", "",
             "The app's own work per chat request, replayed without a framework (loadbench/workload.py: "
             "the same statements as send_message, one request after another; CPU ms per request). "
             "*sync* is what the original runs (Session, psycopg or sqlite3, requests); *async* what an "
             "async conversion runs (AsyncSession, asyncpg or aiosqlite, a shared aiohttp session).", "",
             "| database | flavour | DB (ORM + driver) | JSON | the app's other code | app's own work | "
             "upstream client | total |", "|---|---|---|---|---|---|---|---|"]
    for backend, flavours in results["app_work"].items():
        for flavour, work in flavours.items():
            own = work["db"] + work["json"] + work["app"]
            lines.append(f"| {NAMES.get(backend, backend)} | {flavour} | {work['db']:.2f} | {work['json']:.2f} | "
                         f"{work['app']:.2f} | **{own:.2f}** | {work['client']:.2f} | {work['total']:.2f} |")
    converted_session = "async" if shape.get("session") == "async" else "sync"
    converted_client = "async" if shape.get("client") in ("aiohttp", "httpx") else "sync"
    cores = results.get("cores") or 1
    cheapest = {backend: min(f["client"] for f in flavours.values()) for backend, flavours in results["app_work"].items()}
    lines += ["", f"Each server's CPU per request at its busiest step (the most rps), split: the app's own "
              f"work (as replayed: *sync* for the original; for the converted app, which runs "
              f"{shape.get('session', '?')} sessions and {shape.get('client', '?')}, the *{converted_session}* "
              f"replay, as for the chat path written by hand in FastAPI on the same engine and client), the "
              f"upstream client (replayed), and the rest, the framework and server's overhead, also against "
              f"the best gthread's. *cores / own work* is the rps that no framework could pass with the app's "
              f"own work alone ({cores} cores); but the database server, the stub and the load generator ran on "
              f"the same cores, so *no-framework ceiling* is {cores} cores / (the app's own work + the cheapest "
              f"upstream client replayed + what those three used per request at that step): the most this "
              f"machine could serve with a framework that cost nothing.", "",
              "| run | server | rps | server CPU ms/req | app's own work | upstream client | framework + server "
              "| against the best gthread | DB server + stub + load gen. | cores / own work | share "
              "| no-framework ceiling | share |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for run in results["runs"]:
        work = results["app_work"].get(run["backend"])
        if not work:
            continue
        rows = {}
        for label, steps in run["steps"].items():
            if not steps:
                continue
            busiest = max((step_of(s) for s in steps), key=lambda s: s.rps)
            asynchronous = label.startswith((CONVERTED, BY_HAND))
            own_work = work[converted_session if asynchronous else "sync"]
            client = work[converted_client if asynchronous else "sync"]["client"]
            own = own_work["db"] + own_work["json"] + own_work["app"]
            server = busiest.cpu_ms_per_request("server")
            others = sum(busiest.cpu_ms_per_request(tree) for tree in ("database", "upstream", "loadgen")
                         if tree in busiest.cpu)
            rows[label] = (busiest, server, own, client, server - own - client, others)
        best = rows.get(run["best_gthread"])
        for label, (busiest, server, own, client, rest, others) in rows.items():
            against = f"{rest / best[4]:.2f}x" if best and best[4] > 0 else "-"
            ceiling = cores * 1000 / own
            machine = cores * 1000 / (own + cheapest[run["backend"]] + others)
            lines.append(f"| {run_title(run)} | {label} ({busiest.users} users) | {busiest.rps:.0f} | {server:.2f} | "
                         f"{own:.2f} | {client:.2f} | {rest:.2f} | {against} | {others:.2f} | {ceiling:.0f} | "
                         f"{busiest.rps / ceiling:.0%} | {machine:.0f} | {busiest.rps / machine:.0%} |")
    lines.append("")
    return lines


def plot(run: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    latency = run["latency"]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True)
    for label, steps in run["steps"].items():
        steps = [step_of(s) for s in steps]
        users = [s.users for s in steps]
        top.plot(users, [s.p95 * 1000 if not math.isinf(s.p95) else math.nan for s in steps], marker="o", label=label)
        bottom.plot(users, [s.error_rate * 100 for s in steps], marker="o", label=label)
    top.axhline((latency + stats.SLO_MARGIN_S) * 1000, color="grey", linestyle="--", linewidth=1,
                label=f"SLO: p95 {(latency + stats.SLO_MARGIN_S) * 1000:.0f} ms")
    top.set_yscale("log")
    top.set_ylabel("p95 latency (ms)\nnone where > 5% failed", fontsize="small")
    top.set_title(f"example_chatbot, {run_title(run)}")
    top.legend(fontsize="small")
    bottom.axhline(stats.MAX_ERROR_RATE * 100, color="grey", linestyle="--", linewidth=1)
    bottom.set_ylabel("errors (%)")
    bottom.set_xlabel("concurrent users (closed loop)")
    bottom.set_xscale("log")
    ticks = sorted({s["users"] for steps in run["steps"].values() for s in steps})
    bottom.set_xticks(ticks, [str(t) for t in ticks])
    bottom.minorticks_off()
    for axis in (top, bottom):
        axis.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def conditions(results: dict) -> list[str]:
    plan, v = results["plan"], results["versions"]
    shape = results.get("converted", {})
    loads = [f"{x:.1f}" for x in results.get("load_at_start", [])[:1] + results.get("load_at_end", [])[:1]]
    lines = [f"Run {results['started']} to {results.get('finished', '?')} at {results['commit']}, "
             f"{results['cores']} cores (everything on them: servers, database, stub, load generator); "
             f"load average at start / end: {' / '.join(loads)}. "
             f"Python {v.get('python')}, Flask {v.get('flask')}, gunicorn {v.get('gunicorn')}, FastAPI "
             f"{v.get('fastapi')}, Starlette {v.get('starlette')}, uvicorn {v.get('uvicorn')}, SQLAlchemy "
             f"{v.get('sqlalchemy')}, psycopg {v.get('psycopg')}, asyncpg {v.get('asyncpg')}.",
             "",
             f"Converted app as the converter made it at that commit: routes {shape.get('routes')}, "
             f"{shape.get('session')} DB sessions, LLM client {shape.get('client')}. Servers: the original under "
             f"gunicorn (sync, 2 workers per core; gthread, the best of {', '.join(f'{w}x{t}' for w, t in plan['candidates'])}),"
             f" the converted app under uvicorn ({plan['converted_workers']} workers, httptools, uvloop), and the "
             f"chat path written by hand in FastAPI (loadbench/by_hand.py) served the same way, on the converted "
             f"app's database, engine and client. "
             f"Same database settings for all: pool {plan['pool_size']} + {plan['max_overflow']} overflow per "
             f"process (DATABASE_POOL_SIZE / DATABASE_MAX_OVERFLOW). Steps of max({plan['duration']:g} s, 3 x latency) "
             f"measured after a warm-up of max({plan['warmup']:g} s, latency + 1 s), the servers alternating, "
             f"{plan['accounts']} accounts, one conversation per user.", ""]
    return lines


def write(results: dict, out: Path) -> str:
    out.mkdir(parents=True, exist_ok=True)
    lines = conditions(results)
    for run in results["runs"]:
        lines += run_tables(run)
        plot(run, out / plot_name(run))
    lines += probe_tables(results)
    lines += limit_tables(results)
    markdown = "\n".join(lines)
    (out / "report.md").write_text(markdown.replace("](load-results/", "](") + "\n")
    return markdown


def update_readme(readme: Path, markdown: str) -> None:
    """Replace the text between the markers in bench/README.md (append the markers if missing)."""
    text = readme.read_text()
    block = f"{BEGIN}\n{markdown}\n{END}"
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    readme.write_text(text)

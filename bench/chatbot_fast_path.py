"""The chatbot CPU benchmark on its converted tree edited as the converter would have to edit it
for the runtime's fast path (bench/README.md, "The fast path of async native views"):

- flask_cors's ``CORS(app, ...)`` (an after_request function on the Flask app) becomes
  Starlette's ``CORSMiddleware`` on the bridge, with the same origins, credentials and exposed
  headers, and any method and request header allowed (flask-cors's defaults; Starlette's allow
  none, and refuse such a preflight with 400);
- ``db.init_app``'s ``app.teardown_appcontext(close_db)`` is removed (no route of the bench's
  mix calls ``get_db()``; ``stream_message``'s generator still does, so the converter could not
  drop it as it stands).

    .venv/bin/python bench/chatbot_fast_path.py --runs 5 --runtime /tmp/fp_old/runtime

The converter itself is not changed: this edits the temp copy ``cpu_per_request`` serves.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from pathlib import Path

import cpu_per_request

CORS_CALL = re.compile(
    r"    CORS\(\n        app,\n        origins=(.*?),\n        supports_credentials=(.*?),\n"
    r"        expose_headers=(.*?),\n    \)\n",
    re.S,
)
TEARDOWN = "    app.teardown_appcontext(close_db)\n"


def edited() -> Path:
    out = cpu_per_request.converted_chatbot()
    package = out / "example_chatbot"
    init = (package / "__init__.py").read_text()
    if "CORSMiddleware" not in init:
        init, found = CORS_CALL.subn(
            r"    api.add_middleware(CORSMiddleware, allow_origins=list(\1), allow_credentials=\2, expose_headers=\3,"
            r" allow_methods=['*'], allow_headers=['*'])\n",  # flask-cors allows any method and header
            init,
        )
        if found != 1:
            raise SystemExit("the converted __init__.py has no CORS(app, ...) call of the expected shape")
        init = init.replace("from flask_cors import CORS\n", "from starlette.middleware.cors import CORSMiddleware\n")
        (package / "__init__.py").write_text(init)
        db = (package / "db.py").read_text()
        if TEARDOWN not in db:
            raise SystemExit("the converted db.py registers no close_db teardown")
        (package / "db.py").write_text(db.replace(TEARDOWN, ""))
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--runtime", action="append", default=[], metavar="DIR")
    options = parser.parse_args()
    cpu_per_request.APPS["chatbot"].cwd["converted"] = edited
    arguments = argparse.Namespace(
        app=["chatbot"], requests=options.requests, warmup=300, concurrency=20, runs=options.runs, json=None,
        runtime=options.runtime,
    )
    asyncio.run(cpu_per_request.main(arguments))

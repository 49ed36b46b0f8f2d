"""An OpenAI-compatible LLM upstream stub for the load benchmark: POST /v1/chat/completions, plain
JSON or SSE (``"stream": true``), answering after a set latency. Its own process, asyncio, so it
waits without holding anything; ``POST /_bench/latency {"seconds": 2}`` changes the latency
between runs (its own port, loopback only).

    python -m loadbench.upstream --port 8100 --latency 0.2
"""

from __future__ import annotations

import argparse
import asyncio
import json

from aiohttp import web

# A reply of a realistic size (~300 characters): stored, then read back with the history.
REPLY = ("Here is a short answer to your question. The weather depends on where you are; in most "
         "places it changes through the day, so check a local forecast before you head out. If you "
         "tell me your city I can say more about what to expect this afternoon and tomorrow morning.")
STREAM_PARTS = 10  # SSE chunks, spread evenly over the latency


def create_app(latency: float) -> web.Application:
    state = {"latency": latency, "requests": 0}

    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        state["requests"] += 1
        if not body.get("stream"):
            await asyncio.sleep(state["latency"])
            return web.json_response({
                "id": "chatcmpl-bench", "object": "chat.completion", "model": body.get("model"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": REPLY},
                             "finish_reason": "stop"}],
            })
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        words = REPLY.split(" ")
        size = -(-len(words) // STREAM_PARTS)
        for start in range(0, len(words), size):
            await asyncio.sleep(state["latency"] / STREAM_PARTS)
            text = " ".join(words[start:start + size]) + ("" if start + size >= len(words) else " ")
            chunk = {"choices": [{"index": 0, "delta": {"content": text}}]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def set_latency(request: web.Request) -> web.Response:
        state["latency"] = float((await request.json())["seconds"])
        return web.json_response(state)

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response(state)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    app.router.add_post("/_bench/latency", set_latency)
    app.router.add_get("/_bench/stats", stats)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        uvloop = None
    web.run_app(create_app(args.latency), host="127.0.0.1", port=args.port, access_log=None,
                print=None, backlog=4096, loop=uvloop.new_event_loop() if uvloop else None)


if __name__ == "__main__":
    main()

"""What the service wrappers (`profiled.py`, `variant.py`) share: uvicorn's command line, as Stack passes it."""

from __future__ import annotations

import argparse

import uvicorn


def parse_uvicorn_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("app")
    parser.add_argument("--factory", action="store_true")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-access-log", action="store_true")
    return parser.parse_args()


def run_uvicorn(args: argparse.Namespace) -> None:
    uvicorn.run(args.app, factory=args.factory, host=args.host, port=args.port, access_log=not args.no_access_log)

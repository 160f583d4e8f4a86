"""`python -m bench.profiled <module:factory> --factory --host H --port P`: uvicorn under pyinstrument.

The profiler samples the event-loop thread only between SIGUSR1 (start) and SIGUSR2 (stop and write
``$BENCH_PROFILE_OUT.txt`` / ``.html``), so the report covers the load window, not start-up."""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path
from types import FrameType

import uvicorn
from pyinstrument import Profiler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("app")
    parser.add_argument("--factory", action="store_true")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-access-log", action="store_true")
    args = parser.parse_args()
    out = Path(os.environ.get("BENCH_PROFILE_OUT", "profile"))
    profiler = Profiler(interval=0.001, async_mode="disabled")

    def start(signum: int, frame: FrameType | None) -> None:
        if not profiler.is_running:
            profiler.start()

    def stop(signum: int, frame: FrameType | None) -> None:
        if not profiler.is_running:
            return
        session = profiler.stop()
        out.with_suffix(".html").write_text(profiler.output_html())
        text = profiler.output_text(unicode=True, color=False, show_all=False, short_mode=False)
        out.with_suffix(".txt").write_text(text)
        full = profiler.output_text(unicode=True, color=False, show_all=True, short_mode=False)
        out.with_suffix(".full.txt").write_text(full)
        out.with_suffix(".done").write_text(f"{session.duration:.3f}\n")

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    uvicorn.run(args.app, factory=args.factory, host=args.host, port=args.port, access_log=not args.no_access_log)


if __name__ == "__main__":
    main()

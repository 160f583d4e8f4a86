"""`python -m bench.profiled <module:factory> --factory --host H --port P`: uvicorn under pyinstrument.

The profiler samples the event-loop thread only between SIGUSR1 (start) and SIGUSR2 (stop and write
``$BENCH_PROFILE_OUT.txt`` / ``.html``), so the report covers the load window, not start-up."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import FrameType

from pyinstrument import Profiler

from bench.wrapper import parse_uvicorn_args, run_uvicorn


def main() -> None:
    args = parse_uvicorn_args()
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
    run_uvicorn(args)


if __name__ == "__main__":
    main()

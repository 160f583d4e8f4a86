"""A local SMTP catcher for `make up`: accepts every message and prints who it is for and its subject
and text, so the email channel can be watched without a mail server (compose uses Mailpit)."""

from __future__ import annotations

import argparse
import asyncio
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.controller import Controller


class PrintingHandler:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content().strip() if body is not None else ""
        print(f"to {', '.join(envelope.rcpt_tos)}: {message['subject']}", flush=True)
        for line in text.splitlines():
            print(f"    {line}", flush=True)
        return "250 OK"


async def serve(host: str, port: int) -> None:
    controller = Controller(PrintingHandler(), hostname=host, port=port)
    controller.start()
    print(f"catching mail on {host}:{port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()

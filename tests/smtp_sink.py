"""A tiny SMTP server for tests: accepts every message on 127.0.0.1 and keeps it.

Enough of RFC 5321 for :mod:`smtplib` (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT);
no new dependency. Start it with :func:`running_sink`, which stops it afterwards.
"""
from __future__ import annotations

import contextlib
import email
import email.policy
import socketserver
import threading
from dataclasses import dataclass
from email.message import EmailMessage


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


class _Session(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 sink ESMTP")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").strip()
            verb = command.upper()
            if verb.startswith("EHLO"):
                self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb.startswith("MAIL FROM:"):
                sender, recipients = command[10:].strip().strip("<>"), []
                self.reply("250 OK")
            elif verb.startswith("RCPT TO:"):
                recipients.append(command[8:].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                self.server.received.append(Received(sender, recipients, self._data()))
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            elif verb.startswith(("HELO", "RSET", "NOOP")):
                self.reply("250 OK")
            else:
                self.reply("502 not implemented")

    def _data(self) -> EmailMessage:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)  # undo dot-stuffing
        return email.message_from_bytes(b"".join(lines), policy=email.policy.default)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Session)
        self.received: list[Received] = []


@contextlib.contextmanager
def running_sink():
    """A started sink on a free port of 127.0.0.1: ``(host, port, received)``; stopped after."""
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, name="smtp-sink", daemon=True)
    thread.start()
    try:
        yield server.server_address[0], server.server_address[1], server.received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

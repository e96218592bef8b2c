"""What waitress answers itself (a body over its limit, a malformed request line or header) as JSON
like every other error of sitroom's, instead of its plain-text page.

Waitress refuses such a request before the app sees it: 413 when Content-Length (or the chunks
read) exceed max_request_body_size, which `sitroom serve` sets to the largest body the app takes,
so a huge body is never read. Only the error's body and type change here, not when it is sent.
"""
from __future__ import annotations

import json

from waitress.channel import HTTPChannel
from waitress.task import ErrorTask


class JsonErrorTask(ErrorTask):
    def execute(self):
        e = self.request.error
        self.status = f"{e.code} {e.reason}"
        body = json.dumps({"error": f"{e.reason}: {e.body}"}, ensure_ascii=False).encode()
        self.response_headers.extend([("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff")])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JsonErrorChannel(HTTPChannel):
    error_task_class = JsonErrorTask


def answer_errors_as_json(server) -> None:
    """Make a waitress server (from create_server) answer its own errors as JSON."""
    from waitress.server import BaseWSGIServer
    # a name that resolves to several addresses (localhost: ::1 and 127.0.0.1) listens on each
    listening = [server] if isinstance(server, BaseWSGIServer) else \
        [s for s in server.map.values() if isinstance(s, BaseWSGIServer)]
    for s in listening:
        s.channel_class = JsonErrorChannel

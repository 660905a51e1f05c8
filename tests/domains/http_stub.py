"""A real local HTTP server speaking a sliver of the OpenAI API, for embedding tests."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class EmbeddingServer:
    """``POST /v1/embeddings`` answering ``dimensions`` floats per input (default 768),
    after ``delay`` seconds, recording each request body and Authorization header."""

    def __init__(self, *, dimensions: int = 768, status: int = 200, delay: float = 0.0):
        self.dimensions, self.status, self.requests = dimensions, status, []
        self.delay = delay
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body,
                                        "auth": self.headers.get("Authorization")})
                time.sleep(server.delay)
                if server.status != 200:
                    payload = {"error": {"message": "model not found"}}
                else:
                    payload = {"object": "list", "data": [
                        {"object": "embedding", "index": i,
                         "embedding": [float(len(text) + j) for j in range(server.dimensions)]}
                        for i, text in reversed(list(enumerate(body["input"])))]}
                data = json.dumps(payload).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class ChatServer:
    """``POST /v1/chat/completions`` streaming ``reply`` word by word as server-sent events,
    recording each request body and Authorization header."""

    def __init__(self, reply: str = "ready"):
        self.reply, self.requests = reply, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body,
                                        "auth": self.headers.get("Authorization")})
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for word in server.reply.split(" "):
                    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0,
                             "model": body["model"], "choices": [
                                 {"index": 0, "delta": {"content": word + " "},
                                  "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    __enter__ = EmbeddingServer.__enter__
    __exit__ = EmbeddingServer.__exit__

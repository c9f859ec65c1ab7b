"""The HTTP client on its own, against a loopback server."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tui_transformer.data.http import JSON_BUDGET, HttpClient, HttpPolicy


def test_a_listing_without_a_content_length_is_read_to_its_end():
    # an HTTP/1.0 answer ends when the connection closes; a listing can be larger than the deadline's budget
    body = json.dumps([{"path": f"file-{i:07d}.parquet"} for i in range(JSON_BUDGET // 20)]).encode()
    assert len(body) > JSON_BUDGET

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        listing, _ = HttpClient(HttpPolicy(timeout=5, retries=0)).get_json(f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
    assert len(listing) == JSON_BUDGET // 20

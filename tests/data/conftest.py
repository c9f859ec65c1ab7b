"""Shared helpers for the data tests: small in-memory sources and a tokenizer that loads in a blink."""

import pytest

from tui_transformer.data import get_tokenizer
from tui_transformer.data.local_source import DocumentGroup, LocalSource


def _memory_source(groups_of_texts, val_fraction=0.1):
    """A LocalSource over texts in memory; each inner list is one chunk. Ids are 'g<chunk>d<doc>'."""
    groups = []
    for g, texts in enumerate(groups_of_texts):
        docs = [(f"g{g}d{i}", t) for i, t in enumerate(texts)]
        groups.append(DocumentGroup(fingerprint=f"memory:{g}:" + "|".join(texts), label=f"group {g}",
                                    load=lambda docs=docs: docs))
    source = LocalSource(groups, val_fraction=val_fraction)
    source.name, source.description = "memory", "texts in memory"
    return source


@pytest.fixture(scope="session")
def cl100k():
    return get_tokenizer("cl100k_base")


@pytest.fixture()
def memory_source():
    """The factory ``memory_source(groups_of_texts, val_fraction=0.1)``."""
    return _memory_source


# -- a loopback server that stands in for the Hugging Face Hub ----------------------------------

import io  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

REPO = "HuggingFaceFW/fineweb"


_LETTERS = bytes((b"abcdefghijklmnopqrstuvwxyz" * 10 + b" " * 40)[:256])


def fineweb_rows(file_number, n_rows, seed=0):
    """Rows with FineWeb's schema; the text is random letters and spaces, so it barely compresses."""
    rng = random.Random(f"{seed}-{file_number}")
    rows = []
    for i in range(n_rows):
        text = rng.randbytes(rng.randint(20, 3000)).translate(_LETTERS).decode().strip() or "empty"
        rows.append({"text": text.capitalize() + ".", "id": f"<urn:uuid:{file_number:02d}-{i:06d}>",
                     "dump": "CC-MAIN-2024-10", "url": f"https://example.com/{file_number}/{i}", "date": "2024-03-01",
                     "file_path": "s3://commoncrawl/x.warc.gz", "language": "en", "language_score": 0.9,
                     "token_count": text.count(" ") + 1})
    return rows


def fineweb_parquet(rows, row_group_size):
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer, row_group_size=row_group_size)
    return buffer.getvalue()


class FakeHub:
    """Serves a Hub listing and parquet files with range requests; faults are injected on demand.

    ``faults`` is a list consumed one per file request: ``"500"``, ``"drop"`` (the connection closes
    mid-body), ``"truncate"`` (a consistent but short answer), ``"stall"`` (no answer for 5 s), ``"trickle"`` (the
    body at 64 bytes every 0.05 s, for at most 3 s: each read is quick, the whole is far too slow).
    Downloads go through a redirect to ``/cdn/...``, as on the real Hub.
    """

    def __init__(self, files):
        self.files = files  # path in repo -> bytes
        self.faults = []
        self.requests = []  # (path, Range header, Authorization header)
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                hub.requests.append((self.path, self.headers.get("Range"), self.headers.get("Authorization")))
                prefix_api = f"/api/datasets/{REPO}/tree/main/sample/10BT"
                prefix_resolve = f"/datasets/{REPO}/resolve/main/"
                if self.path.startswith(prefix_api):
                    listing = [{"type": "file", "oid": "0", "size": len(data), "path": path}
                               for path, data in hub.files.items()] + [{"type": "directory", "oid": "1", "path": "x"}]
                    return self._send(200, json.dumps(listing).encode(), "application/json")
                if self.path.startswith(prefix_resolve):
                    self.send_response(302)
                    self.send_header("Location", "/cdn/" + self.path[len(prefix_resolve):])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if self.path.startswith("/cdn/"):
                    return self._file(self.path[len("/cdn/"):])
                return self._send(404, b"not found")

            def _file(self, path):
                data = hub.files.get(path)
                if data is None:
                    return self._send(404, b"no such file")
                fault = hub.faults.pop(0) if hub.faults else None
                if fault == "500":
                    return self._send(500, b"boom")
                if fault == "stall":
                    time.sleep(5.0)
                    self.close_connection = True
                    return None
                start, end = 0, len(data) - 1
                if self.headers.get("Range"):
                    start, end = (int(v) for v in self.headers["Range"].removeprefix("bytes=").split("-"))
                    end = min(end, len(data) - 1)
                body = data[start : end + 1]
                if fault == "truncate":
                    body, end = body[: len(body) // 2], start + len(body) // 2 - 1
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if fault == "trickle":
                    give_up = time.monotonic() + 3.0
                    for offset in range(0, len(body), 64):
                        if time.monotonic() > give_up:
                            break
                        self.wfile.write(body[offset : offset + 64])
                        self.wfile.flush()
                        time.sleep(0.05)
                    self.close_connection = True
                    return None
                if fault == "drop":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return None
                self.wfile.write(body)
                return None

            def _send(self, code, body, content_type="text/plain"):
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def file_requests(self):
        return [r for r in self.requests if r[0].startswith("/cdn/")]


@pytest.fixture(scope="session")
def fineweb_files():
    """Two FineWeb-like files: 4 and 3 row groups of 50 documents (row groups of ~80 KB, larger than
    the 64 KiB footer read, so that a row group really costs its own range request)."""
    return {
        "sample/10BT/000_00000.parquet": fineweb_parquet(fineweb_rows(0, 200), row_group_size=50),
        "sample/10BT/001_00000.parquet": fineweb_parquet(fineweb_rows(1, 150), row_group_size=50),
    }


@pytest.fixture()
def hub(fineweb_files, monkeypatch):
    """A running FakeHub with HF_ENDPOINT pointing at it."""
    fake = FakeHub(dict(fineweb_files))
    fake.thread.start()
    monkeypatch.setenv("HF_ENDPOINT", fake.url)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    yield fake
    fake.server.shutdown()
    fake.server.server_close()

"""A loopback stand-in for the Hugging Face Hub, laid out as the Hub's API is for the calls the real
``huggingface_hub`` and ``datasets`` clients make.

Two servers on two ports, so two *hosts* as far as an HTTP client's origin checks go:

* the **Hub** (``hub.url``): ``GET /api/datasets/{repo}[/revision/{rev}]`` (dataset info with its
  ``sha`` and ``siblings``), ``GET /api/datasets/{repo}/tree/{rev}[/{path}]`` (a listing, recursive
  on ``?recursive=True``), ``POST /api/datasets/{repo}/paths-info/{rev}`` (what HfFileSystem asks
  about single paths), and ``HEAD/GET /datasets/{repo}/resolve/{rev}/{path}``, which answers with a
  302 to the CDN carrying ``ETag``, ``X-Repo-Commit`` and ``X-Linked-Size``, as the Hub does for
  files in its content-addressed store;
* the **CDN** (``hub.cdn_url``): ``GET /{commit}/{repo}/{path}`` with byte ranges.

A repository that does not exist answers 404 with ``X-Error-Code: RepoNotFound``; a gated one
answers 401 ``GatedRepo`` to a download without one of ``hub.tokens``. ``hub.faults`` is consumed
one per CDN request: ``"500"``, ``"429"`` (with ``Retry-After: 1``), ``"429-long"`` (with
``Retry-After: 99999``), ``"drop"`` (the connection closes mid-body), ``"truncate"`` (a consistent but
short answer), ``"corrupt"`` (the whole answer, one byte flipped), ``"stall"`` (no answer for 5 s),
``"trickle"`` (64 bytes every 0.05 s, for at most 3 s). ``hub.hub_faults`` is consumed one per GET
to the Hub itself (the API and ``resolve``): ``"500"``, ``"429"`` or ``"drop"`` (the connection
closes with no answer). ``hub.requests`` records
``(path, Range, Authorization)`` of every request to either server, ``hub.served`` the body bytes
the CDN wrote per request.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pyarrow as pa
import pyarrow.parquet as pq

FINEWEB = "HuggingFaceFW/fineweb"


@dataclass
class Repo:
    """One dataset repository: its files (path -> bytes) at a single commit."""

    files: dict[str, bytes]
    gated: bool = False
    sha: str = field(default="")

    def __post_init__(self) -> None:
        if not self.sha:
            digest = hashlib.sha1()
            for path in sorted(self.files):
                digest.update(path.encode() + hashlib.sha1(self.files[path]).digest())
            self.sha = digest.hexdigest()

    def entry(self, path: str) -> dict:
        data = self.files[path]
        oid = hashlib.sha1(data).hexdigest()
        return {"type": "file", "oid": oid, "size": len(data), "path": path,
                "lfs": {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}}

    def folders(self) -> set[str]:
        return {"/".join(p.split("/")[:i]) for p in self.files for i in range(1, p.count("/") + 1)}

    def listing(self, folder: str, recursive: bool) -> list[dict] | None:
        """The tree under ``folder`` ("" for the root), as the Hub lists it; None if no such folder."""
        if folder and folder not in self.folders():
            return None
        prefix = folder + "/" if folder else ""
        entries = []
        for sub in sorted(self.folders()):
            if sub.startswith(prefix) and (recursive or "/" not in sub[len(prefix):]):
                entries.append({"type": "directory", "oid": "0" * 40, "path": sub})
        for path in sorted(self.files):
            if path.startswith(prefix) and (recursive or "/" not in path[len(prefix):]):
                entries.append(self.entry(path))
        return entries


def parquet_bytes(rows: list[dict], row_group_size: int) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer, row_group_size=row_group_size)
    return buffer.getvalue()


class _HangUpTolerantServer(ThreadingHTTPServer):
    """A client that hangs up mid-answer (the faults make clients do so) is no server error: printing
    its traceback on stderr would mix into the lines the tests read there."""

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeHub:
    """See the module docstring. ``FakeHub({"owner/name": Repo(...)})``; ``start()`` and ``stop()``."""

    def __init__(self, repos: dict[str, Repo]) -> None:
        self.repos = repos
        self.tokens: set[str] = {"hf_secret"}
        self.faults: list[str] = []
        self.hub_faults: list[str] = []
        self.requests: list[tuple[str, str | None, str | None]] = []
        self.served: list[tuple[str, int]] = []  # (CDN path, body bytes written)
        self._lock = threading.Lock()
        self.hub_server = self._server(self._hub_handler)
        self.cdn_server = self._server(self._cdn_handler)
        self.url = f"http://127.0.0.1:{self.hub_server.server_address[1]}"
        self.cdn_url = f"http://127.0.0.1:{self.cdn_server.server_address[1]}"

    # -- the old single-repo view, kept for the FineWeb tests --------------------------------------

    @property
    def files(self) -> dict[str, bytes]:
        return self.repos[FINEWEB].files

    def file_requests(self) -> list[tuple[str, str | None, str | None]]:
        """The requests for file bytes (to the CDN)."""
        return [r for r in self.requests if r[0].startswith("/cdn/")]

    def served_bytes(self) -> int:
        with self._lock:
            return sum(n for _, n in self.served)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeHub:
        for server in (self.hub_server, self.cdn_server):
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        for server in (self.hub_server, self.cdn_server):
            server.shutdown()
            server.server_close()

    @staticmethod
    def _server(handler_factory) -> ThreadingHTTPServer:
        server = _HangUpTolerantServer(("127.0.0.1", 0), handler_factory())
        server.daemon_threads = True
        return server

    # -- the two handlers ----------------------------------------------------------------------

    def _base_handler(self):
        hub = self

        class Base(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def record(self, prefix: str) -> None:
                with hub._lock:
                    hub.requests.append((prefix + self.path, self.headers.get("Range"), self.headers.get("Authorization")))

            def send(self, code: int, body: bytes, headers: dict | None = None, head: bool = False) -> None:
                self.send_response(code)
                for name, value in {"Content-Type": "text/plain", **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def send_json(self, value, code: int = 200, headers: dict | None = None) -> None:
                self.send(code, json.dumps(value).encode(), {"Content-Type": "application/json", **(headers or {})})

            def hub_error(self, code: int, error_code: str, message: str, head: bool = False) -> None:
                self.send(code, json.dumps({"error": message}).encode(),
                          {"Content-Type": "application/json", "X-Error-Code": error_code,
                           "X-Error-Message": message}, head=head)

        return Base

    def _hub_handler(self):
        hub, Base = self, self._base_handler()

        class Hub(Base):
            def do_HEAD(self):
                self.record("")
                self.route(head=True)

            def do_GET(self):
                self.record("")
                if not self.fault():
                    self.route(head=False)

            def fault(self) -> bool:
                """Answer with the next of ``hub.hub_faults``, if any; True if it did."""
                with hub._lock:
                    fault = hub.hub_faults.pop(0) if hub.hub_faults else None
                if fault == "500":
                    self.send(500, b"boom")
                elif fault == "429":
                    self.send(429, b"slow down", {"Retry-After": "0"})
                elif fault == "drop":
                    self.close_connection = True
                return fault is not None

            def do_POST(self):
                self.record("")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                parts = urlsplit(self.path).path.split("/")
                # /api/datasets/{owner}/{name}/paths-info/{rev}
                if parts[1:3] == ["api", "datasets"] and len(parts) >= 7 and parts[5] == "paths-info":
                    repo = self.repo("/".join(parts[3:5]))
                    if repo is None:
                        return None
                    if self.headers.get("Content-Type", "").startswith("application/json"):
                        paths = json.loads(body).get("paths", [])
                    else:
                        paths = parse_qs(body).get("paths", [])
                    entries = []
                    for path in paths:
                        if path in repo.files:
                            entries.append(repo.entry(path))
                        elif path in repo.folders():
                            entries.append({"type": "directory", "oid": "0" * 40, "path": path})
                    return self.send_json(entries)
                return self.send(404, b"not found")

            def repo(self, repo_id: str, head: bool = False) -> Repo | None:
                repo = hub.repos.get(repo_id)
                if repo is None:
                    self.hub_error(404, "RepoNotFound", "Repository not found", head=head)
                return repo

            def route(self, head: bool) -> None:
                split = urlsplit(self.path)
                parts = [unquote(p) for p in split.path.split("/")]
                query = parse_qs(split.query)
                if parts[1:3] == ["api", "datasets"] and len(parts) >= 5:
                    repo = self.repo("/".join(parts[3:5]), head)
                    if repo is None:
                        return None
                    rest = parts[5:]
                    if not rest or rest[0] == "revision":
                        return self.send_json({"id": "/".join(parts[3:5]), "sha": repo.sha, "private": False,
                                               "gated": "auto" if repo.gated else False, "disabled": False,
                                               "downloads": 0, "likes": 0, "tags": [], "cardData": {},
                                               "lastModified": "2024-01-01T00:00:00.000Z",
                                               "siblings": [{"rfilename": p} for p in sorted(repo.files)]})
                    if rest[0] == "tree":
                        folder = "/".join(rest[2:]).strip("/")
                        listing = repo.listing(folder, query.get("recursive", ["False"])[0].lower() == "true")
                        if listing is None:
                            return self.hub_error(404, "EntryNotFound", f"{folder} does not exist on main")
                        return self.send_json(listing)
                    return self.send(404, b"not found")
                # /datasets/{owner}/{name}/resolve/{rev}/{path...}
                if parts[1:2] == ["datasets"] and len(parts) >= 7 and parts[4] == "resolve":
                    repo_id, path = "/".join(parts[2:4]), "/".join(parts[6:])
                    repo = self.repo(repo_id, head)
                    if repo is None:
                        return None
                    if path not in repo.files:
                        return self.hub_error(404, "EntryNotFound", f"{path} does not exist", head=head)
                    token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                    if repo.gated and token not in hub.tokens:
                        return self.hub_error(401, "GatedRepo", "Access to this dataset is restricted", head=head)
                    entry = repo.entry(path)
                    self.send_response(302)
                    self.send_header("Location", f"{hub.cdn_url}/cdn/{repo.sha}/{repo_id}/{path}")
                    self.send_header("ETag", f'"{entry["oid"]}"')
                    self.send_header("X-Linked-Etag", f'"{entry["lfs"]["oid"]}"')
                    self.send_header("X-Linked-Size", str(entry["size"]))
                    self.send_header("X-Repo-Commit", repo.sha)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return self.send(404, b"not found", head=head)

        return Hub

    def _cdn_handler(self):
        hub, Base = self, self._base_handler()

        class Cdn(Base):
            def do_HEAD(self):
                self.record("")
                self.serve(head=True)

            def do_GET(self):
                self.record("")
                self.serve(head=False)

            def serve(self, head: bool) -> None:
                parts = unquote(urlsplit(self.path).path).split("/")  # /cdn/{sha}/{owner}/{name}/{path}
                repo = hub.repos.get("/".join(parts[3:5])) if len(parts) > 5 else None
                data = repo.files.get("/".join(parts[5:])) if repo else None
                if data is None:
                    return self.send(404, b"no such file", head=head)
                fault = None
                if not head:
                    with hub._lock:
                        fault = hub.faults.pop(0) if hub.faults else None
                if fault == "500":
                    return self.send(500, b"boom")
                if fault in ("429", "429-long"):
                    return self.send(429, b"slow down", {"Retry-After": "1" if fault == "429" else "99999"})
                if fault == "stall":
                    time.sleep(5.0)
                    self.close_connection = True
                    return None
                start, end = 0, len(data) - 1
                if self.headers.get("Range"):
                    first, last = self.headers["Range"].removeprefix("bytes=").split("-")
                    start, end = int(first), min(int(last or len(data) - 1), len(data) - 1)
                body = data[start : end + 1]
                if fault == "truncate":
                    body, end = body[: len(body) // 2], start + len(body) // 2 - 1
                if fault == "corrupt":
                    body = body[: len(body) // 3] + bytes([body[len(body) // 3] ^ 0xFF]) + body[len(body) // 3 + 1 :]
                self.send_response(206 if self.headers.get("Range") else 200)
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
                self.end_headers()
                if head:
                    return None
                written = self.write_body(body, fault)
                with hub._lock:
                    hub.served.append((self.path, written))
                return None

            def write_body(self, body: bytes, fault: str | None) -> int:
                if fault == "trickle":
                    give_up, written = time.monotonic() + 3.0, 0
                    for offset in range(0, len(body), 64):
                        if time.monotonic() > give_up:
                            break
                        self.wfile.write(body[offset : offset + 64])
                        self.wfile.flush()
                        written += len(body[offset : offset + 64])
                        time.sleep(0.05)
                    self.close_connection = True
                    return written
                if fault == "drop":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return len(body) // 2
                self.wfile.write(body)
                return len(body)

        return Cdn

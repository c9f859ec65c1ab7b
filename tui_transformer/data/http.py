"""HTTP for the Hub: JSON listings and byte-range reads, with timeouts and retries.

The network fails in a few typical ways, and each gets a fixed answer:

==========================================  =============================================
what happens                                what we do
==========================================  =============================================
connection refused / reset, DNS failure     retry, waiting ``backoff * 2**attempt`` seconds
no answer within ``timeout`` seconds        retry (a stalled server must not hang a run)
slower than ``min_rate`` bytes/s overall    retry (a trickling server must not either)
HTTP 5xx or 429 (server busy)               retry
body shorter than announced / than asked    retry (a truncated body is never kept)
HTTP 401, 403, 404 and other 4xx            fail at once: retrying cannot help
==========================================  =============================================

**The deadline.** ``timeout`` bounds each wait for the socket, so a server that trickles a few bytes
just before every timeout would never be cut by it alone. Each request therefore also has a
deadline of ``timeout + expected_bytes / min_rate`` seconds (``expected_bytes`` is the range asked
for, or the announced length of a listing), checked after every read. A read waits at most
``timeout``, so a request ends at most ``timeout`` seconds past its deadline.

After ``retries`` failed retries, :class:`NetworkError` (a :class:`UserError`) names the URL and
the last cause. Nothing here writes files, so a failure can never leave a partial shard behind.

``HF_TOKEN`` is sent as a bearer token to the Hub only: it is an *unredirected* header, so it is
not forwarded when the Hub redirects a download to its storage CDN.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from tui_transformer.errors import UserError

USER_AGENT = "tui-transformer (+https://github.com/)"


class NetworkError(UserError):
    """A request that failed for good (after retries, or at once for a client error).

    ``cause`` is the short reason alone (e.g. ``"ConnectionRefusedError: ..."``, ``"HTTP 404 Not Found"``).
    """

    def __init__(self, message: str, cause: str = "") -> None:
        super().__init__(message)
        self.cause = cause or message


# How long closing a source or loader waits for its background thread, which may be inside a
# download. Such a thread only fills the cache, atomically, so after this it is left to finish alone.
CLOSE_WAIT_S = 2.0

# A listing without a Content-Length is read to its end, within the deadline of this many bytes.
JSON_BUDGET = 1 << 20


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts and retries. Tests use tiny values; the defaults suit a real, flaky network.

    :meth:`from_env` lets ``TUI_TRANSFORMER_HTTP_TIMEOUT``, ``..._RETRIES`` and ``..._BACKOFF``
    override the defaults (a slow mirror, a CI job that must fail fast).
    """

    timeout: float = 20.0
    retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    min_rate: float = 16_384.0  # bytes/s; a row group of ~100 MB may take up to ~1.7 h at this rate

    def __post_init__(self) -> None:
        if not 0 < self.timeout < math.inf:
            raise UserError(f"the HTTP timeout must be a positive number of seconds, got {self.timeout!r}")
        if not 0 <= self.backoff < math.inf:
            raise UserError(f"the HTTP backoff must be a number of seconds >= 0, got {self.backoff!r}")
        if not 0 < self.min_rate < math.inf:
            raise UserError(f"the HTTP minimum rate must be a positive number of bytes/s, got {self.min_rate!r}")
        if self.retries < 0:
            raise UserError(f"the HTTP retries must be a whole number >= 0, got {self.retries!r}")

    @classmethod
    def from_env(cls) -> HttpPolicy:
        values = {}
        for name, kind in (("timeout", float), ("retries", int), ("backoff", float), ("min_rate", float)):
            variable = f"TUI_TRANSFORMER_HTTP_{name.upper()}"
            raw = os.environ.get(variable)
            if raw:
                try:
                    values[name] = kind(raw)
                except ValueError:
                    raise UserError(f"{variable} must be a number, got {raw!r}") from None
        try:
            return cls(**values)
        except UserError as error:
            raise UserError(f"{error} (from the TUI_TRANSFORMER_HTTP_* settings)") from None

    def deadline(self, expected_bytes: int) -> float:
        """Seconds a whole request may take: ``timeout + expected_bytes / min_rate``."""
        return self.timeout + expected_bytes / self.min_rate

    def delay(self, attempt: int) -> float:
        return min(self.max_backoff, self.backoff * 2**attempt)


class _Retryable(Exception):
    """A failure worth another try; the message is the cause shown to the user if all tries fail."""


class HttpClient:
    """GET with retries. ``on_bytes(n)`` is told about every chunk of body received (for progress)."""

    def __init__(self, policy: HttpPolicy | None = None, token: str | None = None) -> None:
        self.policy = policy or HttpPolicy.from_env()
        self.token = token if token is not None else os.environ.get("HF_TOKEN") or None
        self.bytes_downloaded = 0

    def get_json(self, url: str):
        """``(decoded JSON, response headers)``."""
        def read(response):
            announced = response.headers.get("Content-Length")
            return self._read_all(response, int(announced) if announced else None), response.headers

        body, headers = self._with_retries(url, None, read)
        try:
            return json.loads(body), headers
        except ValueError as error:
            raise NetworkError(f"{url} did not answer JSON ({error})") from error

    def get_range(self, url: str, start: int, end: int, on_bytes=None) -> bytes:
        """Bytes ``[start, end)`` of the file at ``url``; exactly ``end - start`` of them, or an error."""
        want = end - start

        def read(response) -> bytes:
            if response.status != 206 and not (response.status == 200 and start == 0):
                raise NetworkError(f"{url} ignored the byte range (HTTP {response.status}); range requests are required")
            return self._read_exactly(response, want, on_bytes)

        return self._with_retries(url, f"bytes={start}-{end - 1}", read)

    def _read_exactly(self, response, want: int, on_bytes) -> bytes:
        body = self._read_all(response, want, on_bytes)
        if len(body) < want:
            raise _Retryable(f"body truncated: {len(body)} of {want} bytes")
        return body

    def _read_all(self, response, want: int | None, on_bytes=None) -> bytes:
        """Up to ``want`` bytes of the body (fewer if it ends early; all of it for None), within the
        request's deadline (for an unannounced length, that of ``JSON_BUDGET`` bytes).

        ``read1`` returns what one socket read brings, so the deadline is checked while bytes trickle in.
        """
        started, deadline = time.monotonic(), self.policy.deadline(JSON_BUDGET if want is None else want)
        parts, got = [], 0
        while want is None or got < want:
            try:
                part = response.read1(1 << 20 if want is None else min(1 << 20, want - got))
            except http.client.IncompleteRead as error:
                raise _Retryable(f"connection dropped after {got + len(error.partial)} of {want} bytes") from None
            if not part:
                break
            parts.append(part)
            got += len(part)
            self.bytes_downloaded += len(part)
            if on_bytes:
                on_bytes(len(part))
            if (want is None or got < want) and time.monotonic() - started > deadline:
                of = "" if want is None else f" of {want}"
                raise _Retryable(f"too slow: {got}{of} bytes in {deadline:.0f} s "
                                 f"(below {self.policy.min_rate:,.0f} bytes/s)")
        return b"".join(parts)

    def _with_retries(self, url: str, byte_range: str | None, read):
        cause = ""
        for attempt in range(self.policy.retries + 1):
            if attempt:
                time.sleep(self.policy.delay(attempt - 1))
            try:
                with self._open(url, byte_range) as response:
                    return read(response)
            except _Retryable as error:
                cause = str(error)
            except urllib.error.HTTPError as error:
                if error.code < 500 and error.code != 429:
                    cause = f"HTTP {error.code} {error.reason}"
                    raise NetworkError(f"{url} answered {cause}{_hint(error.code)}", cause) from None
                cause = f"HTTP {error.code} {error.reason}"
            except (TimeoutError, socket.timeout):
                cause = f"no answer within {self.policy.timeout:g} s"
            except (urllib.error.URLError, ConnectionError, http.client.HTTPException, OSError) as error:
                reason = getattr(error, "reason", error)
                cause = "timed out" if isinstance(reason, (TimeoutError, socket.timeout)) else f"{type(reason).__name__}: {reason}"
        tries = self.policy.retries + 1
        raise NetworkError(f"could not fetch {url}: {cause} (after {tries} attempt{'s' if tries > 1 else ''})", cause)

    def _open(self, url: str, byte_range: str | None):
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        if byte_range:
            request.add_header("Range", byte_range)
        if self.token:
            request.add_unredirected_header("Authorization", f"Bearer {self.token}")
        return urllib.request.urlopen(request, timeout=self.policy.timeout)


def _hint(code: int) -> str:
    if code in (401, 403):
        return " (a gated or private dataset needs HF_TOKEN)"
    if code == 404:
        return " (not found: check HF_ENDPOINT and the dataset name)"
    return ""

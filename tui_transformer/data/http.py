"""HTTP for the Hub: JSON listings and byte-range reads, with timeouts and retries.

The network fails in a few typical ways, and each gets a fixed answer:

==========================================  =============================================
what happens                                what we do
==========================================  =============================================
connection refused / reset, DNS failure     retry, waiting ``backoff * 2**attempt`` seconds
no answer within ``timeout`` seconds        retry (a stalled server must not hang a run)
HTTP 5xx or 429 (server busy)               retry
body shorter than announced / than asked    retry (a truncated body is never kept)
HTTP 401, 403, 404 and other 4xx            fail at once: retrying cannot help
==========================================  =============================================

After ``retries`` failed retries, :class:`NetworkError` (a :class:`UserError`) names the URL and
the last cause. Nothing here writes files, so a failure can never leave a partial shard behind.

``HF_TOKEN`` is sent as a bearer token to the Hub only: it is an *unredirected* header, so it is
not forwarded when the Hub redirects a download to its storage CDN.
"""

from __future__ import annotations

import http.client
import json
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

    @classmethod
    def from_env(cls) -> HttpPolicy:
        values = {}
        for name, kind in (("timeout", float), ("retries", int), ("backoff", float)):
            raw = os.environ.get(f"TUI_TRANSFORMER_HTTP_{name.upper()}")
            if raw:
                try:
                    values[name] = kind(raw)
                except ValueError:
                    raise UserError(f"TUI_TRANSFORMER_HTTP_{name.upper()} must be a number, got {raw!r}") from None
        return cls(**values)

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
        body, headers = self._with_retries(url, None, lambda response: (response.read(), response.headers))
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
        parts, got = [], 0
        while got < want:
            try:
                part = response.read(min(1 << 20, want - got))
            except http.client.IncompleteRead as error:
                raise _Retryable(f"connection dropped after {got + len(error.partial)} of {want} bytes") from None
            if not part:
                raise _Retryable(f"body truncated: {got} of {want} bytes")
            parts.append(part)
            got += len(part)
            self.bytes_downloaded += len(part)
            if on_bytes:
                on_bytes(len(part))
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

"""Byte-range reads from the Hub, through ``huggingface_hub``'s own HTTP session, with our deadline
and retries.

**What the library gives us.** :func:`huggingface_hub.get_session` is the one HTTP client the
library uses for everything: it follows the Hub's redirect to its content-addressed storage, drops
the ``Authorization`` header when a redirect leaves the Hub's host (httpx's rule for any change of
origin), refuses every request when ``HF_HUB_OFFLINE`` is set, and tags requests as the Hub
expects. :func:`huggingface_hub.utils.build_hf_headers` adds the token (``HF_TOKEN``, or the one
``hf auth login`` saved) and the user agent. URLs come from :func:`huggingface_hub.hf_hub_url`.

**What it does not give, and this module adds.** The network fails in a few typical ways:

==========================================  =============================================
what happens                                what we do
==========================================  =============================================
connection refused / reset, DNS failure     retry, waiting ``backoff * 2**attempt`` seconds
no answer within ``timeout`` seconds        retry (a stalled server must not hang a run)
slower than ``min_rate`` bytes/s overall    retry (a trickling server must not either)
HTTP 5xx                                    retry
HTTP 429 (rate limited)                     retry after the ``Retry-After`` seconds it names,
                                            up to 120 s; a longer one fails at once, saying so
body shorter than asked                     retry (a truncated body is never kept)
HTTP 401, 403, 404 and other 4xx            fail at once, with the library's own error
==========================================  =============================================

Every retry prints one line on stderr (what failed, attempt N of M, the wait), or hands it to
``on_retry``. :func:`retrying` applies the same rule to any call through the library (the
``hf:`` path's ``datasets`` calls), recognising its errors by their cause.

The library retries a request only until its headers arrive; a body that drops or trickles
afterwards is ours to handle, which is why the range read keeps its own loop.

**The deadline.** ``timeout`` bounds each wait for the socket, so a server that trickles a few bytes
just before every timeout would never be cut by it alone. Each request therefore also has a
deadline of ``timeout + expected_bytes / min_rate`` seconds, checked after every read. A read waits
at most ``timeout``, so a request ends at most ``timeout`` seconds past its deadline.

After ``retries`` failed retries, :class:`NetworkError` (a :class:`UserError`) names the URL and
the last cause. Nothing here writes files, so a failure can never leave a partial shard behind.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tui_transformer.data.hub import user_error
from tui_transformer.errors import UserError


class NetworkError(UserError):
    """A request that failed for good (after retries, or at once for a client error).

    ``cause`` is the short reason alone (e.g. ``"ConnectError: ..."``, ``"HTTP 500"``).
    """

    def __init__(self, message: str, cause: str = "") -> None:
        super().__init__(message)
        self.cause = cause or message


# How long closing a source or loader waits for its background thread, which may be inside a
# download. Such a thread only fills the cache, atomically, so after this it is left to finish alone.
CLOSE_WAIT_S = 2.0

# The longest Retry-After we wait out; a server asking for more is treated as failing.
MAX_RETRY_AFTER_S = 120.0

T = TypeVar("T")


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts and retries. Tests use tiny values; the defaults suit a real, flaky network.

    :meth:`from_env` lets ``TUI_TRANSFORMER_HTTP_TIMEOUT``, ``..._RETRIES``, ``..._BACKOFF`` and
    ``..._MIN_RATE`` override the defaults (a slow mirror, a CI job that must fail fast).
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

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry ``attempt + 1``: the backoff, or the server's ``Retry-After`` if longer."""
        backoff = min(self.max_backoff, self.backoff * 2**attempt)
        return max(backoff, retry_after or 0.0)


class Retryable(Exception):
    """A failure worth another try; the message is the cause shown to the user if all tries fail."""

    def __init__(self, cause: str, retry_after: float | None = None) -> None:
        super().__init__(cause)
        self.retry_after = retry_after


def say_retry(message: str) -> None:
    """The default ``on_retry``: one line on stderr (stdout is a command's result)."""
    print(message, file=sys.stderr, flush=True)


def retrying(call: Callable[[], T], what: str, policy: HttpPolicy | None = None,
             on_retry: Callable[[str], None] = say_retry) -> T:
    """``call()``, tried again on a transient failure (:func:`transient_cause`), at most
    ``policy.retries`` times with the policy's backoff; then a :class:`NetworkError` "could not <what>".

    Any other error passes through untouched.
    """
    policy = policy or HttpPolicy.from_env()
    tries = policy.retries + 1
    for attempt in range(tries):
        try:
            return call()
        except Exception as error:  # noqa: BLE001  classified below; anything else is re-raised
            found = transient_cause(error)
            if found is None:
                raise
            cause, retry_after = found
        if retry_after is not None and retry_after > MAX_RETRY_AFTER_S:
            raise NetworkError(f"could not {what}: {cause} with Retry-After {retry_after:g} s, longer than the "
                               f"{MAX_RETRY_AFTER_S:g} s this program waits; try again later", cause)
        if attempt + 1 < tries:
            wait = policy.delay(attempt, retry_after)
            on_retry(f"{what}: {cause}; attempt {attempt + 1} of {tries} failed, retrying in {wait:.1f} s")
            time.sleep(wait)
    raise NetworkError(f"could not {what}: {cause} (after {tries} attempt{'s' if tries > 1 else ''})", cause)


def transient_cause(error: BaseException) -> tuple[str, float | None] | None:
    """``(cause, Retry-After seconds or None)`` if ``error`` (or what caused it) is worth a retry: a
    :class:`Retryable`, an HTTP 5xx or 429 from the library, a dropped or refused connection, a
    timeout. None for anything else (a 404, a bad name, a bug)."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, Retryable):
            return str(error), error.retry_after
        if isinstance(error, HfHubHTTPError) and error.response is not None:
            status = error.response.status_code
            if status == 429:
                return "HTTP 429 Too Many Requests", _retry_after(error.response.headers)
            if status >= 500:
                return f"HTTP {status} {error.response.reason_phrase}".strip(), None
            return None
        if isinstance(error, httpx2.TimeoutException):
            return "no answer in time", None
        if isinstance(error, (httpx2.TransportError, ConnectionError)):
            return f"connection dropped ({type(error).__name__}: {str(error)[:120]})", None
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return None


class HttpClient:
    """Range reads with retries. ``bytes_downloaded`` counts every body byte received."""

    def __init__(self, policy: HttpPolicy | None = None, on_retry: Callable[[str], None] = say_retry) -> None:
        self.policy = policy or HttpPolicy.from_env()
        self.on_retry = on_retry
        self.bytes_downloaded = 0

    def get_range(self, url: str, start: int, end: int, on_bytes=None) -> bytes:
        """Bytes ``[start, end)`` of the file at ``url``; exactly ``end - start`` of them, or an error.

        ``on_bytes(n)`` is told about every piece of body received (for progress).
        """
        return retrying(lambda: self._get_range_once(url, start, end, on_bytes), f"fetch {url}", self.policy,
                        self.on_retry)

    def _get_range_once(self, url: str, start: int, end: int, on_bytes) -> bytes:
        import httpx2
        from huggingface_hub import get_session
        from huggingface_hub.errors import OfflineModeIsEnabled
        from huggingface_hub.utils import build_hf_headers, hf_raise_for_status

        headers = {**build_hf_headers(library_name="tui-transformer"), "Range": f"bytes={start}-{end - 1}"}
        try:
            with get_session().stream("GET", url, headers=headers, timeout=httpx2.Timeout(self.policy.timeout),
                                      follow_redirects=True) as response:
                status = response.status_code
                if status == 429:
                    raise Retryable("HTTP 429 Too Many Requests", _retry_after(response.headers))
                if status >= 500:
                    raise Retryable(f"HTTP {status} {response.reason_phrase}")
                if status >= 400:
                    response.read()
                    try:
                        hf_raise_for_status(response)  # the library's RepositoryNotFound, GatedRepo, ... errors
                    except Exception as error:
                        raise NetworkError(str(user_error(error, "", where=url)), f"HTTP {status}") from None
                if status != 206 and not (status == 200 and start == 0):
                    raise NetworkError(f"{url} ignored the byte range (HTTP {status}); range requests are required")
                return self._read_exactly(response, end - start, on_bytes)
        except OfflineModeIsEnabled:
            raise NetworkError(f"cannot fetch {url}: HF_HUB_OFFLINE is set", "HF_HUB_OFFLINE is set") from None
        except httpx2.TimeoutException:
            raise Retryable(f"no answer within {self.policy.timeout:g} s") from None
        except httpx2.RemoteProtocolError as error:  # e.g. the connection closed mid-body
            raise Retryable(f"connection dropped ({error})") from None
        except (httpx2.TransportError, OSError) as error:
            raise Retryable(f"{type(error).__name__}: {error}") from None

    def _read_exactly(self, response, want: int, on_bytes) -> bytes:
        """The body, checked against the request's deadline after every piece that arrives."""
        started, deadline = time.monotonic(), self.policy.deadline(want)
        parts, got = [], 0
        for part in response.iter_raw():
            parts.append(part)
            got += len(part)
            self.bytes_downloaded += len(part)
            if on_bytes:
                on_bytes(len(part))
            if got >= want:
                break
            if time.monotonic() - started > deadline:
                raise Retryable(f"too slow: {got} of {want} bytes in {deadline:.1f} s "
                                 f"(below {self.policy.min_rate:,.0f} bytes/s)")
        if got < want:
            raise Retryable(f"body truncated: {got} of {want} bytes")
        return b"".join(parts)[:want]


def _retry_after(headers) -> float | None:
    """``Retry-After`` as seconds (the delay-seconds form; an HTTP date is treated as absent)."""
    value = (headers.get("Retry-After") or "").strip()
    if not value.replace(".", "", 1).isdigit():
        return None
    return float(value)

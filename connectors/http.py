"""HTTP for the DMS connectors: one retry policy, one place where failures become Chinese.

Every connector talks HTTP through :class:`HttpSession` (a ``requests.Session`` with
keep-alive pooling) so that the server-facing rules live in one place:

- 408/425/429/500/502/503/504, connection resets and timeouts: back off and retry,
  honouring ``Retry-After`` (seconds or an HTTP date; Nextcloud's maintenance mode
  answers 503, with ``X-Nextcloud-Maintenance-Mode: 1`` and ``Retry-After: 120``);
- 423 Locked: retried later, on a slower schedule of its own (someone is editing);
- 401: never retried (repeated failures feed the server's brute-force throttle):
  :class:`AuthenticationError` telling the user to check the (app) password;
- 507: :class:`QuotaExceededError`;
- anything else is returned to the caller, which knows what a 404 means for it;
- no answer is read into memory beyond :data:`MAX_BODY` (listings, error pages): a hostile
  server cannot exhaust memory with an endless body (documents are streamed to disk and
  cut off at their listed size by the fetch stage).

No message ever contains a password: every text goes through :func:`credentials.scrub`.
"""

from __future__ import annotations

import email.utils
import os
import random
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from .base import AuthenticationError, ConnectorError, QuotaExceededError
from .credentials import Credentials, check_transport, redact, scrub

__all__ = [
    "RETRY_STATUSES",
    "HttpError",
    "HttpSession",
    "ResponseStream",
    "RetryPolicy",
    "TransferInterrupted",
]

#: Statuses that mean "try again later" (the set nc_py_api uses, see
#: ../shared/docs/nextcloud-integration.md §3.6).
RETRY_STATUSES: frozenset[int] = frozenset({408, 425, 429, 500, 502, 503, 504})
LOCKED = 423

#: Network failures worth retrying: nothing reached us, or the connection broke.
_TRANSIENT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    urllib3.exceptions.HTTPError,
    ConnectionError,
    TimeoutError,
)


class HttpError(ConnectorError):
    """A request ended with a status the caller did not expect (message in Chinese)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class TransferInterrupted(ConnectorError):
    """The connection broke or stalled; trying again (possibly from an offset) may work."""

    retryable = True


@dataclass
class RetryPolicy:
    """How long to keep trying. The defaults suit a production server; tests shrink them."""

    attempts: int = 6
    backoff: float = 0.5
    max_backoff: float = 30.0
    #: Longest ``Retry-After`` honoured; longer requests are capped to this.
    max_retry_after: float = 120.0
    locked_attempts: int = 8
    locked_backoff: float = 2.0
    timeout: tuple[float, float] = (10.0, 120.0)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None, *, locked: bool = False) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 0)."""
        if retry_after is not None:
            return max(0.0, min(retry_after, self.max_retry_after))
        base = self.locked_backoff if locked else self.backoff
        d = min(self.max_backoff, base * (2**attempt))
        return d * (0.75 + random.random() * 0.5)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


_SABRE_MESSAGE = re.compile(r"<s:message>(.*?)</s:message>", re.S)
_SABRE_EXCEPTION = re.compile(r"<s:exception>(.*?)</s:exception>", re.S)


def sabre_error(body: str) -> tuple[str, str]:
    """(exception class, message) from a Sabre/Nextcloud DAV error body, or empty strings."""
    exc = _SABRE_EXCEPTION.search(body or "")
    msg = _SABRE_MESSAGE.search(body or "")
    return (exc.group(1).strip() if exc else "", msg.group(1).strip() if msg else "")


def is_maintenance(resp: requests.Response) -> bool:
    if resp.headers.get("X-Nextcloud-Maintenance-Mode"):
        return True
    return resp.status_code == 503 and "ServerMaintenanceMode" in _text(resp)


#: Longest answer read into memory (a PROPFIND of a folder of 10,000 files is ~10 MB).
MAX_BODY = 64 << 20


class ResponseTooLarge(ConnectorError):
    """The server's answer exceeded :data:`MAX_BODY` (message in Chinese)."""


def read_bounded(resp: requests.Response, limit: int | None = None) -> None:
    """Read a streamed answer into ``resp.content``, refusing more than ``limit`` bytes
    (default :data:`MAX_BODY`)."""
    limit = MAX_BODY if limit is None else limit
    parts: list[bytes] = []
    n = 0
    for chunk in resp.iter_content(1 << 16):
        n += len(chunk)
        if n > limit:
            resp.close()
            raise ResponseTooLarge(f"服务器的回复过大（超过 {limit >> 20} MB），已中止：{redact(resp.url)}")
        parts.append(chunk)
    resp._content = b"".join(parts)
    resp._content_consumed = True


def _text(resp: requests.Response, limit: int = 4096) -> str:
    if not getattr(resp, "_content_consumed", True):
        _drain(resp)  # a streamed error answer: its first megabyte is enough to explain it
    try:
        return resp.content[:limit].decode("utf-8", "replace")
    except Exception:  # diagnostics only
        return ""


Body = bytes | str | Callable[[], BinaryIO | Iterable[bytes] | bytes] | None


class HttpSession:
    """A pooled, retrying HTTP client for one server and one set of credentials."""

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        policy: RetryPolicy | None = None,
        pool_size: int = 16,
        verify: bool | str = True,
        user_agent: str = "",
    ) -> None:
        self.credentials = credentials
        self.policy = policy or RetryPolicy()
        self.session = requests.Session()
        # Proxy and CA settings are read from the environment once, not on every request
        # (trust_env costs a scan of os.environ per request); requests' own ~/.netrc
        # lookup stays off: credentials.py decides where credentials come from.
        self.session.trust_env = False
        self._no_proxy: str | None = None
        self._proxies_from_env()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if credentials is not None:
            self.session.auth = (credentials.user, credentials.password)
        if verify is True:
            verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self.session.verify = verify
        if user_agent:
            self.session.headers["User-Agent"] = user_agent
        self._secrets = credentials.secrets() if credentials else ()
        self._lock = threading.Lock()
        #: Requests retried so far (for statistics).
        self.retries = 0

    def _proxies_from_env(self) -> None:
        proxies = {k: v for k, v in urllib.request.getproxies().items() if k in ("http", "https", "no")}
        if proxies:
            self.session.proxies.update({k: v for k, v in proxies.items() if k != "no"})
            if "no" in proxies:
                self._no_proxy = proxies["no"]

    def _proxies_for(self, url: str) -> dict[str, str] | None:
        if self._no_proxy and requests.utils.should_bypass_proxies(url, no_proxy=self._no_proxy):
            return {"http": "", "https": ""}
        return None

    # -- messages --------------------------------------------------------------------
    def scrub(self, text: str) -> str:
        return scrub(text, self._secrets)

    def _who(self) -> str:
        if self.credentials is None:
            return "未提供用户名和密码（可设置 DOSSIER_USER / DOSSIER_PASSWORD，或 ~/.netrc）"
        origin = {"env": "环境变量 DOSSIER_USER / DOSSIER_PASSWORD", "netrc": "~/.netrc", "url": "地址中的用户名和密码"}
        return f"用户 {self.credentials.user}，凭据来自{origin.get(self.credentials.origin, '配置')}"

    def error_for(self, resp: requests.Response, what: str) -> ConnectorError:
        """The exception for an unexpected final response (Chinese, no secrets)."""
        status = resp.status_code
        url = redact(resp.url)
        exc_name, message = sabre_error(_text(resp))
        detail = f"（服务器：{message}）" if message else ""
        if status == 401:
            return AuthenticationError(
                self.scrub(f"{what}失败：服务器拒绝了登录（HTTP 401），请检查用户名和应用密码（{self._who()}）：{url}")
            )
        if status == 507:
            m = re.search(r"(\d+) required, (-?\d+) available", message)
            room = f"（需要 {int(m.group(1)):,} 字节，可用 {int(m.group(2)):,} 字节）" if m else ""
            return QuotaExceededError(self.scrub(f"{what}失败：目标位置存储空间不足（HTTP 507）{room}：{url}"))
        if status == 503 and is_maintenance(resp):
            return HttpError(self.scrub(f"{what}失败：Nextcloud 正处于维护模式，请稍后重试：{url}"), status)
        if status == LOCKED:
            return HttpError(self.scrub(f"{what}失败：文件被锁定（HTTP 423），多次重试后仍未解锁：{url}"), status)
        reason = _STATUS_TEXT.get(status, resp.reason or "")
        text = f"{what}失败：HTTP {status}{f' {reason}' if reason else ''}{detail}：{url}"
        if exc_name and not message:
            text += f"（{exc_name}）"
        return HttpError(self.scrub(text), status)

    # -- requests --------------------------------------------------------------------
    def request(
        self,
        method: str,
        url: str,
        *,
        what: str = "请求",
        headers: dict[str, str] | None = None,
        body: Body = None,
        stream: bool = False,
        retry_statuses: frozenset[int] = RETRY_STATUSES,
        raise_for: Iterable[int] = (401, 507),
    ) -> requests.Response:
        """Send a request, retrying what is worth retrying; return the final response.

        ``body`` may be a callable returning a fresh body for each attempt (a file
        object, an iterable of bytes or bytes), so uploads can be retried. 401 and 507
        raise (see module docstring); other statuses are returned to the caller.
        """
        policy = self.policy
        attempt = 0
        locked = 0
        raise_for = set(raise_for)
        if self.credentials is not None and self.credentials.password:
            check_transport(urlsplit(url))  # never a password over plain http to another machine
        while True:
            data = body() if callable(body) else body
            try:
                # Always streamed: a body is read only as far as it may go (read_bounded).
                resp = self.session.request(
                    method, url, headers=headers, data=data, stream=True, timeout=policy.timeout,
                    allow_redirects=False, proxies=self._proxies_for(url),
                )
                if not stream:
                    read_bounded(resp)
            except ResponseTooLarge:
                _close(data)
                raise
            except _TRANSIENT as exc:
                _close(data)
                if attempt + 1 >= policy.attempts:
                    raise TransferInterrupted(
                        self.scrub(f"{what}失败：网络连接中断或超时，已重试 {attempt} 次（{type(exc).__name__}）：{redact(url)}")
                    ) from None
                policy.sleep(policy.delay(attempt))
                attempt += 1
                self._count_retry()
                continue
            except requests.RequestException as exc:
                _close(data)
                raise ConnectorError(self.scrub(f"{what}失败：{type(exc).__name__}：{redact(url)}")) from None
            _close(data)
            status = resp.status_code
            if status in raise_for:
                _drain(resp)
                raise self.error_for(resp, what)
            if status == LOCKED and locked + 1 < policy.locked_attempts:
                wait = policy.delay(locked, parse_retry_after(resp.headers.get("Retry-After")), locked=True)
                _drain(resp)
                policy.sleep(wait)
                locked += 1
                self._count_retry()
                continue
            if status in retry_statuses and attempt + 1 < policy.attempts:
                wait = policy.delay(attempt, parse_retry_after(resp.headers.get("Retry-After")))
                _drain(resp)
                policy.sleep(wait)
                attempt += 1
                self._count_retry()
                continue
            return resp

    def _count_retry(self) -> None:
        with self._lock:
            self.retries += 1

    def close(self) -> None:
        self.session.close()


def _close(data: Any) -> None:
    close = getattr(data, "close", None)
    if callable(close):
        try:
            close()
        except OSError:
            pass


def _drain(resp: requests.Response, keep: int = 1 << 20) -> None:
    """Read (at most ``keep`` bytes of) an answer we will not use, keep them as its content
    for messages, and close it."""
    try:
        if not getattr(resp, "_content_consumed", True):
            parts: list[bytes] = []
            n = 0
            for chunk in resp.iter_content(1 << 16):
                parts.append(chunk)
                n += len(chunk)
                if n >= keep:
                    break
            resp._content = b"".join(parts)[:keep]
            resp._content_consumed = True
    except Exception:  # a broken error body must not hide the status
        pass
    resp.close()


class ResponseStream:
    """A streamed response body as a binary file-like object.

    ``start`` is the offset the body starts at (the server may ignore a Range request and
    send everything: then ``start`` is 0). Network failures while reading surface as
    :class:`TransferInterrupted` so the caller can resume from what it already has.
    """

    def __init__(self, resp: requests.Response, start: int = 0, *, scrubber: Callable[[str], str] = str) -> None:
        self.resp = resp
        self.start = start
        self.headers = resp.headers
        self._raw = resp.raw
        self._scrub = scrubber
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (fewer only at the end of the body), like a file."""
        if n is None or n < 0:
            return self._call(self._raw.read)
        parts: list[bytes] = []
        left = n
        while left > 0:
            chunk = self.read1(left)
            if not chunk:
                break
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)

    def read1(self, n: int = 1 << 16) -> bytes:
        """Whatever has arrived, up to ``n`` bytes: a stalled transfer still hands over
        its bytes, so they reach the disk for a later resume."""
        return self._call(self._raw.read1, n)

    def _call(self, fn: Callable[..., bytes], *args: Any) -> bytes:
        try:
            return fn(*args)
        except _TRANSIENT as exc:
            raise TransferInterrupted(
                self._scrub(f"下载中断（{type(exc).__name__}）：{redact(self.resp.url)}")
            ) from None

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.resp.close()

    def __enter__(self) -> ResponseStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_STATUS_TEXT = {
    400: "请求无效",
    403: "没有权限",
    404: "不存在",
    405: "不允许的操作",
    409: "冲突（上级文件夹可能不存在）",
    412: "前置条件不满足",
    415: "不支持的媒体类型",
    500: "服务器内部错误",
    501: "服务器不支持该操作",
    502: "网关错误",
    503: "服务暂不可用",
    504: "网关超时",
}

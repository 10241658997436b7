"""python-telegram-bot's HTTP calls over aiohttp instead of httpx.

`telegram.request.BaseRequest` is python-telegram-bot's documented place for
another HTTP library; the Bot, its methods and its error handling stay the same.
Measured on the benchmark machine, a sendMessage costs about 0.3 ms of CPU through
aiohttp and about 0.9 ms through httpx, and the sender makes three calls for each
button a user presses (see docs/performance.md).

Every failed call is counted here, for `guidebot_telegram_errors_total` (bot/ops/metrics.py).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import aiohttp
from telegram.error import EndPointNotFound, NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData
from typing_extensions import override

from bot.ops.metrics import count_telegram_error


class AiohttpRequest(BaseRequest):
    def __init__(self, *, connections: int, timeout: float) -> None:
        self._connections = connections
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return self._timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections), headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _seconds(self, value: object) -> float | None:
        if value is BaseRequest.DEFAULT_NONE:
            return self._timeout
        return float(value) if isinstance(value, (int, float)) else None

    @override
    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialized")
        timeout = aiohttp.ClientTimeout(
            sock_connect=self._seconds(connect_timeout), sock_read=self._seconds(read_timeout)
        )
        api_method = url.rsplit("/", 1)[-1]
        try:
            async with self._session.request(method, url, data=_body(request_data), timeout=timeout) as response:
                status, body = response.status, await response.read()
        except TimeoutError as exc:
            count_telegram_error(api_method, "timeout")
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            count_telegram_error(api_method, "network")
            raise NetworkError(f"aiohttp.{type(exc).__name__}") from exc
        if status >= 400:
            count_telegram_error(api_method, status)
        if status == HTTPStatus.NOT_FOUND:
            # Telegram's answer to a method it does not know (and, before getMe, to a malformed token);
            # python-telegram-bot would call both a bad token, which is retried as if it could be fixed
            raise EndPointNotFound(api_method)
        return status, body

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        """As python-telegram-bot's, without its ERROR line holding the whole answer and a traceback
        when the answer is not JSON (a proxy's 502 page): the caller logs the failure in one line."""
        try:
            data = json.loads(payload.decode("utf-8", "replace"))
        except ValueError:
            raise TelegramError("Invalid server response") from None
        if not isinstance(data, dict):
            raise TelegramError("Invalid server response")
        return data


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """Form fields as python-telegram-bot encodes them; multipart when there are files."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        return request_data.json_parameters
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form

"""Log lines: plain text by default, or with LOG_FORMAT=json one JSON object per line
(time, level, logger, message, and requestId / traceId when logged inside a request).

The ids are stamped on each record when it is made, in the task that logs it: Litestar
hands records to a queue thread for writing, where the request is no longer known."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from entrypoints.http.context import CURRENT

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            line["requestId"] = request_id
        trace_id = getattr(record, "trace_id", None)
        if trace_id is not None:
            line["traceId"] = trace_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        # json.dumps escapes newlines: a traceback stays on its one line.
        return json.dumps(line, ensure_ascii=False, default=str)


def stamp_request_ids() -> None:
    """Every record made from now on in this process carries the ids of the request it
    was logged in (none outside a request). Idempotent."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "stamps_request_ids", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        context = CURRENT.get()
        if context is not None:
            record.request_id = context.request_id
            record.trace_id = context.trace_id
        return record

    factory.stamps_request_ids = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def formatter_config(log_format: str) -> dict[str, Any]:
    """The dictConfig entry of the formatter `log_format` names."""
    if log_format == "json":
        return {"()": JsonFormatter}
    return {"format": TEXT_FORMAT}

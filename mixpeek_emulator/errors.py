"""The API's error body, as the emulator answers it."""

from __future__ import annotations

import orjson


class ApiError(Exception):
    """An error the emulator answers with the API's error body."""

    def __init__(self, status: int, message: str, type_: str, details: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.details = details

    def body(self) -> bytes:
        return orjson.dumps(
            {
                "success": False,
                "status": self.status,
                "error": {"message": self.message, "type": self.type, "code": None,
                          "details": self.details},
            }
        )

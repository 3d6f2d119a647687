"""What the central HTTP endpoints share: a request body read under a cap, a JSON response."""

from __future__ import annotations

from fastapi import Request, Response

TOO_LARGE = b'{"error":"body too large"}'


async def read_capped_body(request: Request, max_bytes: int) -> bytes | None:
    """The request's body, or None as soon as it grows past `max_bytes` (never read whole)."""
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            return None
    return bytes(body)


def json_response(status: int, payload: bytes, headers: dict[str, str]) -> Response:
    """A prepared JSON payload with its status and headers."""
    return Response(
        content=payload, status_code=status, headers=headers, media_type="application/json"
    )

"""Refuse request bodies over the configured size, whether or not they declare a length."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hms_server.api.errors import error_response


class BodySizeLimit:
    """ASGI middleware: 413 for a declared or streamed body larger than `max_bytes`. Paths
    under an `exempt` prefix are left to their routes (file uploads check their own limit)."""

    def __init__(self, app: ASGIApp, max_bytes: int, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope.get("path", "").startswith(self.exempt) and self.exempt:
            await self.app(scope, receive, send)  # the route refuses what is too large for it
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        state = {"seen": 0, "started": False, "refused": False}

        async def counting_receive() -> Message:
            message = await receive()
            state["seen"] += len(message.get("body", b""))
            if state["seen"] > self.max_bytes and not state["started"]:
                state["refused"] = True
                await self._refuse(scope, receive, send)
                return {"type": "http.disconnect"}  # the app stops reading and gives up
            return message

        async def guarded_send(message: Message) -> None:
            if state["refused"]:
                return  # the 413 already went out
            state["started"] = state["started"] or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, "too_large", f"The request is larger than {self.max_bytes} bytes."
        )
        await response(scope, receive, send)

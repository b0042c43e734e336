"""The MLLP listener bedside monitors connect to (HL7 v2 over TCP, 0x0B message 0x1C 0x0D).

Many monitors stay connected at once. Each frame is parsed on the gateway's event loop and
queued for the single writer (`Ingest`); ACKs go back in the order the frames came, so a
monitor may send several frames without waiting. Bytes outside frames are ignored; a frame
larger than the limit gets AR and the connection is closed. A bad message gets AE or AR and the
connection keeps serving. The gateway runs its own event loop in its own thread, so neither
parsing nor the database ever holds up the HTTP server.
"""

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Sequence

from hms_server.db import Database
from hms_server.monitoring.hl7_codec import (
    REJECT,
    MessageRefused,
    build_ack,
    parse_oru,
    read_header,
)
from hms_server.monitoring.ingest import Ingest, Processor, Ticker

log = logging.getLogger(__name__)

START, END = b"\x0b", b"\x1c\x0d"
MAX_MESSAGE_BYTES = 1_000_000
READ_BYTES = 65_536
MAX_IN_FLIGHT = 1_000  # frames read but not yet acknowledged, per connection


def frame(message: str) -> bytes:
    """`message` wrapped in MLLP."""
    return START + message.encode("utf-8") + END


def decode(payload: bytes) -> str:
    """Frame bytes as text: UTF-8 (the profile's charset), else Latin-1 rather than refuse."""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("latin-1")


class FrameReader:
    """Splits a byte stream into MLLP frames: partial frames wait for more bytes, several
    frames in one read all come out, bytes outside frames are dropped."""

    def __init__(self, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """The complete frames (payloads, framing removed) after adding `data`.
        Raises OverflowError when a frame grows beyond `max_bytes`."""
        self._buffer += data
        frames: list[bytes] = []
        while True:
            start = self._buffer.find(START)
            if start < 0:
                self._buffer.clear()
                return frames
            if start:
                del self._buffer[:start]
            end = self._buffer.find(END, 1)
            if end < 0:
                if len(self._buffer) - 1 > self.max_bytes:
                    self._buffer.clear()
                    raise OverflowError("frame too large")
                return frames
            restart = self._buffer.rfind(START, 1, end)
            if restart > 0:
                log.warning("an incomplete MLLP frame was followed by a new one; dropped it")
                del self._buffer[:restart]
                continue
            payload = bytes(self._buffer[1:end])
            del self._buffer[: end + len(END)]
            if len(payload) > self.max_bytes:
                raise OverflowError("frame too large")
            frames.append(payload)


class MllpServer:
    """The asyncio MLLP server; runs on whatever loop calls `start`."""

    def __init__(
        self,
        ingest: Ingest,
        host: str = "127.0.0.1",
        port: int = 2575,
        *,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self.ingest = ingest
        self.host = host
        self.port = port
        self.max_message_bytes = max_message_bytes
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task] = set()

    async def start(self) -> None:
        """Listen; `port` 0 picks a free port (read `self.port` afterwards)."""
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, limit=READ_BYTES
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def answer(self, payload: bytes, received: float) -> "asyncio.Future[str] | str":
        """The ACK for one frame: text now (AR/AE), or a future the writer resolves (AA/AE)."""
        text = decode(payload)
        try:
            message = parse_oru(text)
        except MessageRefused as refused:
            header = refused.header or read_header(text)
            control_id = header.control_id if header is not None else "-"
            log.warning("HL7 message %s refused (%s): %s", control_id, refused.code, refused.reason)
            return build_ack(header, refused.code, refused.reason)
        except Exception as exc:  # noqa: BLE001 - a parser bug must answer, not crash
            log.error("HL7 message could not be parsed (%s)", type(exc).__name__)
            return build_ack(read_header(text), REJECT, "the HL7 message could not be read")
        return asyncio.wrap_future(self.ingest.submit(message, received))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        pending: asyncio.Queue = asyncio.Queue(MAX_IN_FLIGHT)
        replier = asyncio.create_task(self._reply(pending, writer))
        try:
            await self._read(reader, pending)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            await pending.put(None)
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await replier
            writer.close()
            if task is not None:
                self._connections.discard(task)

    async def _read(self, reader: asyncio.StreamReader, pending: asyncio.Queue) -> None:
        frames = FrameReader(self.max_message_bytes)
        while data := await reader.read(READ_BYTES):
            received = time.time()
            try:
                payloads = frames.feed(data)
            except OverflowError:
                limit = f"{self.max_message_bytes // 1000} kB"
                log.warning("an MLLP frame over %s was refused; closing the connection", limit)
                reason = f"the message is larger than {limit}"
                await pending.put(build_ack(None, REJECT, reason))
                return
            for payload in payloads:
                await pending.put(self.answer(payload, received))

    async def _reply(self, pending: asyncio.Queue, writer: asyncio.StreamWriter) -> None:
        """Write the ACKs in the order the frames came."""
        while (answer := await pending.get()) is not None:
            ack = answer if isinstance(answer, str) else await answer
            writer.write(frame(ack))
            await writer.drain()


class Gateway:
    """The MLLP server on its own event loop thread plus the ingest writer thread."""

    def __init__(
        self,
        db: Database,
        host: str = "127.0.0.1",
        port: int = 2575,
        processors: Sequence[Processor] = (),
        tickers: Sequence[Ticker] = (),
        *,
        ingest: Ingest | None = None,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self.ingest = ingest or Ingest(db, processors, tickers)
        self.server = MllpServer(self.ingest, host, port, max_message_bytes=max_message_bytes)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def address(self) -> str:
        return f"{self.server.host}:{self.server.port}"

    def start(self, timeout: float = 10.0) -> "Gateway":
        """Start storing and listening; returns once the port is open (raises if it cannot)."""
        self.ingest.start()
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.server.start())
            except BaseException as exc:  # noqa: BLE001 - reported to the caller of start()
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.server.stop())
                loop.close()

        self._thread = threading.Thread(target=run, name="hl7-mllp", daemon=True)
        self._thread.start()
        if not started.wait(timeout) or failure:
            self.ingest.stop()
            if failure:
                raise failure[0]
            raise TimeoutError("the HL7 gateway did not start")
        log.info("HL7 gateway listening on %s", self.address)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close connections, stop listening, store what was received, stop the writer."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
        self._thread = self._loop = None
        self.ingest.stop(timeout)

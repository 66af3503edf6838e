"""Overlap of decode, inference and encode through threads joined by bounded queues.

Decoding (an ffmpeg pipe), OpenCV map extraction and encoding release the GIL, so a reader thread
and a writer thread run beside the inference loop. Queues are bounded: memory stays flat however
long the video is.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_DONE = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetch(items: Iterable[Any], maxsize: int = 16) -> Iterator[Any]:
    """Iterate ``items`` in a background thread, at most ``maxsize`` ahead of the consumer.

    Exceptions raised by the producer are re-raised in the consumer. Stopping early (``close`` or
    garbage collection of the generator) tells the producer to stop.
    """
    q: queue.Queue = queue.Queue(maxsize)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(q, item, stop):
                    return
            _put(q, _DONE, stop)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            _put(q, _Failure(e), stop)

    thread = threading.Thread(target=produce, name="lgan-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def ordered_map(fn: Callable[[Any], Any], items: Iterable[Any], workers: int,
                ahead: int | None = None) -> Iterator[Any]:
    """``fn(item)`` for each item, computed by ``workers`` threads, yielded in input order.

    At most ``ahead`` (default ``2 * workers``) results are in flight, so memory stays bounded.
    Worth it when ``fn`` releases the GIL (OpenCV, large numpy operations). An exception in
    ``fn`` is re-raised when its item's turn comes; stopping early cancels what has not started.
    """
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    ahead = ahead or 2 * workers
    pending: deque = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="lgan-maps") as pool:
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) >= ahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _put(q: queue.Queue, item: Any, stop: threading.Event) -> bool:
    """Put unless asked to stop; False when the consumer has gone."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


class BackgroundSink:
    """Calls ``sink(item)`` for each submitted item in a writer thread, in order.

    ``submit`` blocks when ``maxsize`` items are waiting; ``close`` waits for the queue to drain and
    re-raises the first error the sink raised (also raised by the next ``submit``).
    """

    def __init__(self, sink: Callable[[Any], None], maxsize: int = 16) -> None:
        self._sink = sink
        self._q: queue.Queue = queue.Queue(maxsize)
        self._error: BaseException | None = None
        self._aborted = False
        self._thread = threading.Thread(target=self._run, name="lgan-sink", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is _DONE:
                return
            if self._error is None and not self._aborted:
                try:
                    self._sink(item)
                except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                    self._error = e

    def submit(self, item: Any) -> None:
        if self._error is not None:
            raise self._error
        self._q.put(item)

    def abort(self) -> None:
        """Drop whatever is still queued and stop the thread (used when the producer failed)."""
        self._aborted = True
        self._q.put(_DONE)
        self._thread.join()

    def close(self) -> None:
        self._q.put(_DONE)
        self._thread.join()
        if self._error is not None:
            raise self._error

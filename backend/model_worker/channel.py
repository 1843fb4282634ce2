"""The authenticated loopback connection between the web app and the model worker, with timeouts.

multiprocessing.connection proves the shared key with a challenge in each direction, but its Listener
runs that exchange inside `accept` and its Client inside the call, both without a timeout: one idle TCP
connection to the worker's port would hold the accept loop (and so every step) for as long as it stayed
open. Here the listener only accepts; each connection's handshake runs in its own thread under a receive
timeout set on the socket itself (SO_RCVTIMEO: Connection reads its file descriptor directly, so Python's
socket timeouts would not apply), and the client gets the same bounds on connect and handshake.
"""

import errno
import os
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from multiprocessing.connection import Connection, Listener, answer_challenge, deliver_challenge

SERVER_HANDSHAKE_S = 5.0  # a local client answers in milliseconds; anything slower is not our web app
CLIENT_CONNECT_S = 5.0
CLIENT_HANDSHAKE_S = 15.0  # the worker may be busy with model work (its threads share one interpreter)
MAX_PENDING_HANDSHAKES = 64  # a flood of idle connections costs at most this many short-lived threads
ACCEPT_RETRY_S = 0.1


def set_receive_timeout(conn: Connection, seconds: float | None) -> None:
    """Bound each blocking read on `conn` (None: wait as long as it takes). A read that times out raises
    BlockingIOError, an OSError."""
    whole = int(seconds or 0)
    micro = int(((seconds or 0) - whole) * 1_000_000)
    # A second handle on the same socket (the option belongs to the socket), closed at once.
    with socket.socket(fileno=os.dup(conn.fileno())) as view:
        view.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", whole, micro))


def authenticate(conn: Connection, authkey: bytes) -> None:
    """The server's half of the key exchange (as Listener.accept does it), each read bounded by
    SERVER_HANDSHAKE_S; raises AuthenticationError for a wrong key, OSError for a silent or gone client."""
    set_receive_timeout(conn, SERVER_HANDSHAKE_S)
    deliver_challenge(conn, authkey)
    answer_challenge(conn, authkey)


def connect(address: tuple[str, int], authkey: bytes) -> Connection:
    """A connection to the worker that proved the key both ways, or OSError / AuthenticationError within
    CLIENT_CONNECT_S + CLIENT_HANDSHAKE_S. Later reads are unbounded: the caller polls with its own."""
    sock = socket.create_connection(address, timeout=CLIENT_CONNECT_S)
    sock.settimeout(None)  # blocking again: Connection reads the descriptor itself
    conn = Connection(sock.detach())
    try:
        set_receive_timeout(conn, CLIENT_HANDSHAKE_S)
        answer_challenge(conn, authkey)
        deliver_challenge(conn, authkey)
        set_receive_timeout(conn, None)
    except BaseException:
        conn.close()
        raise
    return conn


class PendingHandshakes:
    """The connections still proving the key. Beyond `limit`, the one that has waited longest is cut off:
    a client that knows the key answers in milliseconds, so a flood of idle connections pushes out only
    its own, never the app's next request (refusing new connections instead would let the flood win)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.lock = limit, threading.Lock()
        self.connections: dict[int, Connection] = {}  # in arrival order

    def add(self, conn: Connection) -> None:
        with self.lock:
            self.connections[id(conn)] = conn
            while len(self.connections) > self.limit:
                oldest = self.connections.pop(next(iter(self.connections)))
                _cut_off(oldest)  # under the lock: its thread cannot close it meanwhile (done() waits)

    def done(self, conn: Connection) -> None:
        with self.lock:
            self.connections.pop(id(conn), None)


def _cut_off(conn: Connection) -> None:
    """End a connection another thread is reading: its blocked read returns at once (EOFError)."""
    with suppress(OSError), socket.socket(fileno=os.dup(conn.fileno())) as view:
        view.shutdown(socket.SHUT_RDWR)


def serve_forever(listener: Listener, authkey: bytes, handle: Callable[[Connection], None]) -> None:
    """Accept connections for ever, never waiting on one: each is authenticated and handled in its own
    thread (at most MAX_PENDING_HANDSHAKES still unauthenticated: PendingHandshakes).
    `listener` must be made without an authkey (its accept would run the handshake in this loop)."""
    pending = PendingHandshakes(MAX_PENDING_HANDSHAKES)

    def authenticated_then_handled(conn: Connection) -> None:
        try:
            authenticate(conn, authkey)
            set_receive_timeout(conn, SERVER_HANDSHAKE_S)  # the request follows the handshake at once
        except Exception as error:  # AuthenticationError, a timeout, a reset, cut off (EOFError)
            _log(f"refused a connection: {type(error).__name__}: {error}")
            pending.done(conn)  # before close: a closed descriptor's number may be reused at once
            conn.close()
            return
        pending.done(conn)
        handle(conn)

    while True:
        try:
            conn = listener.accept()
        except OSError as error:
            if error.errno in (None, errno.EBADF, errno.EINVAL):  # the listener was closed: stop serving
                return
            _log(f"accept failed: {error}")  # a reset before accept, or out of file descriptors
            time.sleep(ACCEPT_RETRY_S)
            continue
        pending.add(conn)
        threading.Thread(target=authenticated_then_handled, args=(conn,), daemon=True).start()


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)

"""An in-memory ZooKeeper and a fault-injecting kazoo client, for tests without a server.

Test your own leadership handling (what your program does when it is elected,
when it loses leadership, when its session expires) in milliseconds: hand a
:class:`FakeKazooClient` to :class:`~zkleader.election.LeaderElection` where
you would hand it a ``KazooClient``, and drive the faults from the test.
Several clients made over one :class:`FakeZooKeeper` share its tree, so they
elect one leader among themselves. See ``docs/testing-your-code.md``.

The faults, each a documented method of :class:`FakeKazooClient`:

* :meth:`~FakeKazooClient.expire`: the server expires the session (its
  ephemeral nodes go, listeners see ``LOST``), then the client connects with a
  new session, as kazoo does;
* :meth:`~FakeKazooClient.suspend` and :meth:`~FakeKazooClient.reconnect`: the
  connection drops (``SUSPENDED``) and comes back with the same session
  (``CONNECTED``);
* :meth:`~FakeKazooClient.lose_next_create_reply`: the next create commits on
  the server but the caller gets ``ConnectionLoss`` (a connection lost after
  the commit); with ``lagging=True`` the new node is also invisible to reads
  until the next ``sync`` (a follower that has not yet applied it);
* :meth:`~FakeKazooClient.freeze` and :meth:`~FakeKazooClient.unfreeze`: the
  participant's ZooKeeper calls hang until unfrozen (a stalled process or a
  worker stuck inside a call), while its session stays alive.

Lower-level knobs for finer faults: ``hook(op, path)`` runs before every call
on the caller's thread and may block or raise; ``none_client_id_reads`` makes
``client_id`` read as ``None`` that many times while ``connected`` still says
True (the connection dropping between two reads).

Modelled on Patroni's ``MockKazooClient`` idea: just enough of kazoo's surface
for the election (the ``*_async`` calls it makes and their blocking forms,
connection states, listeners, one-shot watches, ``client_id``; an ``exists``
watch on an absent node fires on its creation). ``transaction()`` is a multi
as ZooKeeper answers it: all or nothing; in a failed one the operations before
the failing one come back ``RolledBackError``, the failing one its own error,
the rest ``RuntimeInconsistency`` (the hook sees it as ``multi`` on its first
path). Listeners and watches fire synchronously on the thread that caused them.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from kazoo.client import KazooState
from kazoo.exceptions import (
    BadVersionError,
    ConnectionLoss,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    RolledBackError,
    RuntimeInconsistency,
)
from kazoo.protocol.states import EventType, WatchedEvent, ZnodeStat

Hook = Callable[[str, str], None]


class FakeTimeout(Exception):
    """What ``.get(timeout)`` raises when a result never came (kazoo's handler timeout)."""


class FakeHandler:
    timeout_exception = FakeTimeout


class Result:
    """A finished kazoo ``IAsyncResult``: a value or an exception."""

    def __init__(self, value: Any = None, exc: BaseException | None = None) -> None:
        self._value = value
        self._exc = exc

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if self._exc is not None:
            raise self._exc
        return self._value

    def ready(self) -> bool:
        return True

    @property
    def exception(self) -> BaseException | None:
        return self._exc


@dataclass
class Node:
    data: bytes
    owner: int
    czxid: int
    mzxid: int
    version: int = 0
    cversion: int = 0
    data_watches: list[Callable[[WatchedEvent], None]] = field(default_factory=list)
    child_watches: list[Callable[[WatchedEvent], None]] = field(default_factory=list)

    def stat(self, children: int) -> ZnodeStat:
        return ZnodeStat(
            self.czxid, self.mzxid, 0, 0, self.version, self.cversion, 0, self.owner, len(self.data), children, 0
        )


class FakeZooKeeper:
    """The shared tree: nodes, zxids, session ids."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.nodes: dict[str, Node] = {"/": Node(b"", 0, 0, 0)}
        self._zxid = itertools.count(1)
        self._sessions = itertools.count(0x1000)
        self.lagging: set[str] = set()
        # `exists` watches left on absent nodes: they fire on the node's creation.
        self.creation_watches: dict[str, list[Callable[[WatchedEvent], None]]] = {}

    def new_session(self) -> int:
        return next(self._sessions)

    def zxid(self) -> int:
        return next(self._zxid)

    def children(self, path: str, *, synced: bool) -> list[str]:
        prefix = path.rstrip("/") + "/"
        return [
            p[len(prefix) :]
            for p in self.nodes
            if p.startswith(prefix) and "/" not in p[len(prefix) :] and (synced or p not in self.lagging)
        ]

    def end_session(self, session: int) -> list[Callable[[], None]]:
        """Delete a session's ephemeral nodes; returns the watch notifications to fire."""
        fire: list[Callable[[], None]] = []
        for path in [p for p, n in self.nodes.items() if n.owner == session]:
            fire.extend(self.delete(path))
        return fire

    def delete(self, path: str) -> list[Callable[[], None]]:
        node = self.nodes.pop(path)
        self.lagging.discard(path)
        parent = self.nodes.get(_parent(path))
        if parent is not None:
            parent.cversion += 1
        fire = [_notify(w, EventType.DELETED, path) for w in node.data_watches]
        if parent is not None:
            fire += [_notify(w, EventType.CHILD, _parent(path)) for w in parent.child_watches]
            parent.child_watches.clear()
        return fire


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


def _notify(watch: Callable[[WatchedEvent], None], kind: str, path: str) -> Callable[[], None]:
    return lambda: watch(WatchedEvent(kind, KazooState.CONNECTED, path))


class FakeKazooClient:
    """A kazoo client over a :class:`FakeZooKeeper` (a new one if none is given), with faults to inject.

    ``timeout`` is the session timeout in seconds, as kazoo's. ``calls`` lists
    every ``(operation, path)`` made, in order.
    """

    def __init__(self, server: FakeZooKeeper | None = None, timeout: float = 4.0) -> None:
        self.server = server or FakeZooKeeper()
        self._session_timeout = int(timeout * 1000)
        self.handler = FakeHandler()
        self.state = KazooState.LOST
        self._session: int | None = None
        self._listeners: list[Callable[[KazooState], Any]] = []
        self.hook: Hook | None = None
        self.lose_create_replies = 0
        self.lagging_creates = False
        self.none_client_id_reads = 0
        self.synced = False
        self.started = False
        self.stopped = False
        self.calls: list[tuple[str, str]] = []
        self.in_multi = threading.local()  # the ops of a multi are not hooked one by one
        self._stopped = threading.Event()  # as kazoo's: set until started
        self._stopped.set()
        self._thawed = threading.Event()  # cleared while frozen
        self._thawed.set()
        self._frozen_ops: frozenset[str] | None = None
        self._hanging = threading.Condition()
        self._hanging_calls = 0

    # ------------------------------------------------------------ lifecycle

    @property
    def connected(self) -> bool:
        return bool(self.state == KazooState.CONNECTED)

    @property
    def client_id(self) -> tuple[int, bytes] | None:
        if self.none_client_id_reads > 0:
            self.none_client_id_reads -= 1
            return None
        return None if self._session is None else (self._session, b"password")

    def add_listener(self, listener: Callable[[KazooState], Any]) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[KazooState], Any]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def start_async(self) -> Result:
        self.started = True
        self._stopped.clear()
        self._session = self.server.new_session()
        self._set_state(KazooState.CONNECTED)
        return Result(True)

    def start(self, timeout: float = 15) -> None:
        self.start_async()

    def stop(self) -> None:
        """Graceful close: the session ends, its ephemeral nodes go at once."""
        if self.stopped:
            return
        self.stopped = True
        if self._session is not None:
            with self.server.lock:
                fire = self.server.end_session(self._session)
            for notify in fire:
                notify()
            self._session = None
        self._set_state(KazooState.LOST)

    def close(self) -> None:
        pass

    # --------------------------------------------------------------- faults

    def suspend(self) -> None:
        """The connection drops: listeners see ``SUSPENDED`` and calls fail with ``ConnectionLoss``.

        The session lives on (its ephemeral nodes stay) until :meth:`reconnect`
        or :meth:`expire`.
        """
        self._set_state(KazooState.SUSPENDED)

    def reconnect(self) -> None:
        """The connection comes back with the same session: listeners see ``CONNECTED``."""
        self.synced = False
        self._set_state(KazooState.CONNECTED)

    def lose_next_create_reply(self, count: int = 1, *, lagging: bool = False) -> None:
        """The next ``count`` creates commit on the server, but their callers get ``ConnectionLoss``.

        That is a connection lost after the commit: the node exists, and the
        caller must find it rather than create a second one. With ``lagging``
        the committed node is also invisible to this client's reads until its
        next ``sync`` (the reconnection reached a server that has not applied
        the create yet).
        """
        if count < 0:
            raise ValueError("count must be >= 0")
        self.lose_create_replies = count
        self.lagging_creates = lagging

    def freeze(self, ops: Collection[str] | None = None) -> None:
        """Every later ZooKeeper call of this client hangs until :meth:`unfreeze`.

        A stalled participant: the session stays alive (nothing expires it),
        but the thread that makes a call is stuck in it. ``ops`` limits the
        freeze to those operations (``"create"``, ``"get"``, ``"get_children"``,
        ``"exists"``, ``"set"``, ``"delete"``, ``"sync"``, ``"ensure_path"``,
        ``"multi"``). The faults above (:meth:`expire`, :meth:`suspend`, ...)
        and :meth:`stop` still work while frozen; a frozen call goes on once
        unfrozen, against the state it then finds. Unfreeze before the end of
        a test, or its threads stay stuck.
        """
        self._frozen_ops = None if ops is None else frozenset(ops)
        self._thawed.clear()

    def unfreeze(self) -> None:
        """Release the calls hanging in :meth:`freeze` and let later ones through."""
        self._frozen_ops = None
        self._thawed.set()

    @property
    def frozen(self) -> bool:
        """Whether :meth:`freeze` is in force."""
        return not self._thawed.is_set()

    def wait_until_a_call_hangs(self, timeout: float = 5.0) -> bool:
        """Wait until some thread is stuck in a frozen call; False if none got there within ``timeout``."""
        with self._hanging:
            return self._hanging.wait_for(lambda: self._hanging_calls > 0, timeout)

    def _hang_if_frozen(self, op: str) -> None:
        ops = self._frozen_ops
        if self._thawed.is_set() or (ops is not None and op not in ops):
            return
        with self._hanging:
            self._hanging_calls += 1
            self._hanging.notify_all()
        try:
            self._thawed.wait()
        finally:
            with self._hanging:
                self._hanging_calls -= 1

    def expire(self) -> None:
        """The server expires the session: its ephemeral nodes go, listeners see ``LOST``.

        Then the client connects with a new session (listeners see
        ``CONNECTED``), as kazoo does after an expiry.
        """
        assert self._session is not None
        with self.server.lock:
            fire = self.server.end_session(self._session)
        for notify in fire:
            notify()
        self._session = None
        self._set_state(KazooState.LOST)
        self._session = self.server.new_session()
        self.synced = False
        self._set_state(KazooState.CONNECTED)

    def _set_state(self, state: KazooState) -> None:
        self.state = state
        for listener in list(self._listeners):
            listener(state)

    # ----------------------------------------------------------- operations

    def _enter(self, op: str, path: str) -> None:
        self.calls.append((op, path))
        if not getattr(self.in_multi, "active", False):
            self._hang_if_frozen(op)
            if self.hook is not None:
                self.hook(op, path)
        if self.state != KazooState.CONNECTED or self._session is None:
            raise ConnectionLoss(f"{op} {path}: not connected")

    def _run(self, op: str, path: str, body: Callable[[], Any]) -> Result:
        try:
            self._enter(op, path)
            with self.server.lock:
                value, fire = body()
        except Exception as exc:  # noqa: BLE001 - handed to the caller as kazoo does
            return Result(exc=exc)
        for notify in fire:
            notify()
        return Result(value)

    def sync_async(self, path: str) -> Result:
        def body() -> tuple[Any, list[Callable[[], None]]]:
            self.synced = True
            self.server.lagging.clear()
            return path, []

        return self._run("sync", path, body)

    def get_children_async(self, path: str, watch: Callable[[WatchedEvent], None] | None = None) -> Result:
        def body() -> tuple[Any, list[Callable[[], None]]]:
            node = self._node(path)
            if watch is not None:
                node.child_watches.append(watch)
            return self.server.children(path, synced=self.synced), []

        return self._run("get_children", path, body)

    def get_async(self, path: str, watch: Callable[[WatchedEvent], None] | None = None) -> Result:
        def body() -> tuple[Any, list[Callable[[], None]]]:
            node = self._node(path)
            if watch is not None:
                node.data_watches.append(watch)
            return (node.data, node.stat(len(self.server.children(path, synced=True)))), []

        return self._run("get", path, body)

    def exists_async(self, path: str, watch: Callable[[WatchedEvent], None] | None = None) -> Result:
        def body() -> tuple[Any, list[Callable[[], None]]]:
            node = self.server.nodes.get(path)
            if node is None or (path in self.server.lagging and not self.synced):
                if watch is not None:  # as ZooKeeper: a watch for its creation
                    self.server.creation_watches.setdefault(path, []).append(watch)
                return None, []
            if watch is not None:
                node.data_watches.append(watch)
            return node.stat(len(self.server.children(path, synced=True))), []

        return self._run("exists", path, body)

    def create_async(
        self,
        path: str,
        value: bytes = b"",
        acl: Any = None,
        ephemeral: bool = False,
        sequence: bool = False,
        makepath: bool = False,
        include_data: bool = False,
    ) -> Result:
        lose = self.lose_create_replies > 0
        if lose:
            self.lose_create_replies -= 1

        def body() -> tuple[Any, list[Callable[[], None]]]:
            parent = self._node(_parent(path))
            name = path
            if sequence:
                name = f"{path}{parent.cversion:010d}"
            if name in self.server.nodes:
                raise NodeExistsError(name)
            zxid = self.server.zxid()
            assert self._session is not None
            node = Node(value, self._session if ephemeral else 0, zxid, zxid)
            self.server.nodes[name] = node
            parent.cversion += 1
            fire = [_notify(w, EventType.CHILD, _parent(name)) for w in parent.child_watches]
            fire += [_notify(w, EventType.CREATED, name) for w in self.server.creation_watches.pop(name, [])]
            parent.child_watches.clear()
            if lose and self.lagging_creates:
                self.server.lagging.add(name)
                self.synced = False
            return ((name, node.stat(0)) if include_data else name), fire

        result = self._run("create", path, body)
        if lose:
            try:
                result.get()
            except Exception as exc:  # noqa: BLE001 - the create itself failed: report that
                return Result(exc=exc)
            return Result(exc=ConnectionLoss("reply lost after the create committed"))
        return result

    def delete_async(self, path: str, version: int = -1) -> Result:
        def body() -> tuple[Any, list[Callable[[], None]]]:
            node = self._node(path)
            if version != -1 and node.version != version:
                raise BadVersionError(path)
            if self.server.children(path, synced=True):
                raise NotEmptyError(path)
            return True, self.server.delete(path)

        return self._run("delete", path, body)

    def set_async(self, path: str, value: bytes, version: int = -1) -> Result:
        def body() -> tuple[Any, list[Callable[[], None]]]:
            node = self._node(path)
            if version != -1 and node.version != version:
                raise BadVersionError(path)
            node.data = value
            node.version += 1
            node.mzxid = self.server.zxid()
            fire = [_notify(w, EventType.CHANGED, path) for w in node.data_watches]
            node.data_watches.clear()
            return node.stat(0), fire

        return self._run("set", path, body)

    def ensure_path_async(self, path: str, acl: Any = None) -> Result:
        def body() -> tuple[Any, list[Callable[[], None]]]:
            parts = [p for p in path.split("/") if p]
            for i in range(1, len(parts) + 1):
                sub = "/" + "/".join(parts[:i])
                if sub not in self.server.nodes:
                    zxid = self.server.zxid()
                    self.server.nodes[sub] = Node(b"", 0, zxid, zxid)
                    self.server.nodes[_parent(sub)].cversion += 1
            return True, []

        return self._run("ensure_path", path, body)

    def transaction(self) -> FakeTransaction:
        return FakeTransaction(self)

    def get_children(self, path: str) -> list[str]:
        names: list[str] = self.get_children_async(path).get()
        return names

    # Blocking forms, as kazoo's: the async call, then its result.

    def get(self, path: str) -> tuple[bytes, ZnodeStat]:
        found: tuple[bytes, ZnodeStat] = self.get_async(path).get()
        return found

    def exists(self, path: str) -> ZnodeStat | None:
        found: ZnodeStat | None = self.exists_async(path).get()
        return found

    def create(self, path: str, value: bytes = b"", acl: Any = None, ephemeral: bool = False, **kwargs: Any) -> Any:
        return self.create_async(path, value, acl=acl, ephemeral=ephemeral, **kwargs).get()

    def delete(self, path: str, version: int = -1) -> Any:
        return self.delete_async(path, version=version).get()

    def set(self, path: str, value: bytes, version: int = -1) -> ZnodeStat:
        stat: ZnodeStat = self.set_async(path, value, version=version).get()
        return stat

    def ensure_path(self, path: str, acl: Any = None) -> Any:
        return self.ensure_path_async(path, acl=acl).get()

    def sync(self, path: str) -> Any:
        return self.sync_async(path).get()

    def _node(self, path: str) -> Node:
        node = self.server.nodes.get(path)
        if node is None or (path in self.server.lagging and not self.synced):
            raise NoNodeError(path)
        return node


class FakeTransaction:
    """kazoo's ``TransactionRequest`` over the fake tree (see the module docstring)."""

    def __init__(self, client: FakeKazooClient) -> None:
        self._client = client
        self._ops: list[tuple[str, str, Callable[[], Any]]] = []

    def check(self, path: str, version: int) -> None:
        def run() -> Any:
            node = self._client._node(path)
            if version != -1 and node.version != version:
                raise BadVersionError(path)
            return True

        self._ops.append(("check", path, run))

    def create(self, path: str, value: bytes = b"", acl: Any = None, ephemeral: bool = False) -> None:
        def run() -> Any:
            return self._client.create_async(path, value, acl=acl, ephemeral=ephemeral).get()

        self._ops.append(("create", path, run))

    def delete(self, path: str, version: int = -1) -> None:
        self._ops.append(("delete", path, lambda: self._client.delete_async(path, version=version).get()))

    def set_data(self, path: str, value: bytes, version: int = -1) -> None:
        self._ops.append(("set", path, lambda: self._client.set_async(path, value, version=version).get()))

    def commit_async(self) -> Result:
        client = self._client
        try:
            client._enter("multi", self._ops[0][1] if self._ops else "/")
        except Exception as exc:  # noqa: BLE001 - handed to the caller as kazoo does
            return Result(exc=exc)
        # Each op runs in turn under the server lock (re-entrant), unhooked:
        # checking first and applying after would need a copy of the tree,
        # so a failure undoes the ops already applied by restoring a snapshot.
        client.in_multi.active = True
        try:
            with client.server.lock:
                saved = {path: _copy(node) for path, node in client.server.nodes.items()}
                results: list[Any] = []
                for _, _, run in self._ops:
                    try:
                        results.append(run())
                    except Exception as exc:  # noqa: BLE001 - a failed op fails the multi
                        client.server.nodes.clear()
                        client.server.nodes.update(saved)
                        failed = len(results)
                        rest = len(self._ops) - failed - 1
                        return Result([RolledBackError()] * failed + [exc] + [RuntimeInconsistency()] * rest)
                return Result(results)
        finally:
            client.in_multi.active = False

    def commit(self) -> list[Any]:
        results: list[Any] = self.commit_async().get()
        return results


def _copy(node: Node) -> Node:
    return dataclasses.replace(node)  # the watch lists stay shared: they belong to the node's path

"""Test facilities for programs that use zkleader: nothing here runs in production.

* :mod:`zkleader.testing.fake_kazoo`: an in-memory ZooKeeper and a
  fault-injecting kazoo client (:class:`FakeKazooClient`), to test your own
  leadership handling without a ZooKeeper server (``docs/testing-your-code.md``);
* :mod:`zkleader.testing.check`: a linearizability checker for recorded
  histories (``python -m zkleader.testing.check``, ``docs/histories.md``).

Both need kazoo only (the base install), never Flask or click.
"""

from .fake_kazoo import FakeKazooClient, FakeTimeout, FakeTransaction, FakeZooKeeper, Result

__all__ = ["FakeKazooClient", "FakeTimeout", "FakeTransaction", "FakeZooKeeper", "Result"]

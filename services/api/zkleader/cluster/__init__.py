"""What the instances share about the cluster, beyond the election itself:
the peer reports each instance serves on ``/cluster`` (:mod:`.report`) and
the fenced cluster term log in ZooKeeper (:mod:`.term_log`). Built on the
library's public API only; the election knows nothing of either."""

"""Operating a running set of instances from outside: the one driver.

Finding the sole leader, waiting for a new one and one failover trial live
here, once; the ``zkleader`` command, the stack tests and the benchmark all
use them. Nothing here imports Flask or kazoo: it talks to the instances over
their HTTP API and to Docker through ``docker compose``. It lives under
:mod:`zkleader.cli` because it is the command's (the ``[cli]`` extra), not the
library's; importing it needs neither click nor rich.
"""

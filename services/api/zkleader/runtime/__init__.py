"""Hosting one election participant per container inside gunicorn.

gunicorn may run several worker processes; exactly one of them (the holder of
an ``flock``) runs the election and publishes its state to a snapshot file;
every worker serves reads from that snapshot and forwards the few requests
that need the participant itself over a Unix socket.
"""

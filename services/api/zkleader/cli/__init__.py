"""The ``zkleader`` operator command (click + rich): ``zkleader --help``."""

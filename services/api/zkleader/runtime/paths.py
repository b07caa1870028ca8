"""Files the processes of one container share, all under STATE_DIR."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class RuntimePaths:
    state_dir: str

    @property
    def lock(self) -> str:
        return os.path.join(self.state_dir, "participant.lock")

    @property
    def snapshot(self) -> str:
        return os.path.join(self.state_dir, "state.json")

    @property
    def control_socket(self) -> str:
        return os.path.join(self.state_dir, "control.sock")

    def ensure(self) -> None:
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)

"""Summaries, target verdicts, and the report files (Markdown, JSON, PNG)."""

from __future__ import annotations

import json
import math
import platform
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Verdict:
    """One target: what it asks, what we measured, and whether (and by how much) it holds."""

    target: str
    limit: str
    measured: str
    met: bool
    note: str = ""


def machine() -> dict[str, Any]:
    def cmd(*args: str) -> str:
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=10, check=False).stdout.strip()
        except OSError:
            return ""

    return {
        "python": platform.python_version(),
        "kernel": platform.release(),
        "cpus": cmd("nproc"),
        "memory": cmd("sh", "-c", "free -h | awk '/Mem:/ {print $2}'"),
        "docker": cmd("docker", "version", "--format", "{{.Server.Version}}"),
        "compose": cmd("docker", "compose", "version", "--short"),
        "cpuModel": cmd("sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"),
    }


def write_json(path: Path, report: dict[str, Any]) -> None:
    def default(obj: Any) -> Any:
        if isinstance(obj, Verdict):
            return asdict(obj)
        if isinstance(obj, float) and math.isnan(obj):
            return None
        raise TypeError(type(obj))

    path.write_text(json.dumps(report, indent=2, default=default) + "\n")


def plot_failover(path: Path, distributions: dict[str, list[float]], title: str) -> bool:
    """Box and strip plot of failover times; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = [name for name, values in distributions.items() if values]
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        values = distributions[name]
        ax.boxplot(values, widths=0.5)
        ax.scatter([1 + (i % 7 - 3) * 0.03 for i in range(len(values))], values, s=12, alpha=0.6)
        ax.set_title(f"{name} (n={len(values)})")
        ax.set_ylabel("seconds")
        ax.set_xticks([])
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def fmt(value: float | None, unit: str = "s", digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f} {unit}".strip()


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Failover benchmark",
        "",
        f"Run {report['startedAt']} to {report['finishedAt']} with `{report['command']}`.",
        "",
        "## Machine and settings",
        "",
        *(f"- {k}: {v}" for k, v in report["machine"].items()),
        *(f"- {k}: {v}" for k, v in report["settings"].items()),
        "",
        "## Targets",
        "",
        "| target | limit | measured | met |",
        "|---|---|---|---|",
    ]
    for v in report["verdicts"]:
        verdict = v if isinstance(v, Verdict) else Verdict(**v)
        met = "yes" if verdict.met else f"**no** — {verdict.note}"
        lines.append(f"| {verdict.target} | {verdict.limit} | {verdict.measured} | {met} |")
    lines += ["", *report.get("sections", [])]
    return "\n".join(lines) + "\n"

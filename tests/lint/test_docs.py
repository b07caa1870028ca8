"""The documentation keeps its promises: every relative link in README.md and
docs/ leads to a file that exists (and, with ``#anchor``, to a heading of it),
every repository path shown as inline code exists, and every ``zkleader``
command shown names a real subcommand with options it really has.

Read as text, no Docker and no network: that the commands also *work* is the
stack tests' job (tests/stack/test_cli.py); this keeps the docs from drifting
away from the code as both change.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from zkleader.cli.main import cli

pytestmark = pytest.mark.lint

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([REPO_ROOT / "README.md", *(REPO_ROOT / "docs").rglob("*.md")])

FENCE = re.compile(r"^\s*(```|~~~)")
SHELL = {"sh", "bash", "shell", "console"}
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
# [text](target) and ![alt](target); the target ends at the first space or ')'.
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # http:, https:, mailto: ...
# A command line that runs `zkleader SUBCOMMAND ...`: directly, after variable
# assignments (`env` optional), or in a container (`docker compose [-p P] exec [-T] SERVICE`).
COMMAND = re.compile(
    r"^(?:env\s+)?(?:[A-Za-z_]\w*=\S*\s+)*(?:docker compose (?:-p \S+ )?exec (?:-T )?\S+ )?zkleader\s+([a-z][\w-]*)(.*)"
)
OPTION = re.compile(r"(?<![\w-])(--[a-z][\w-]*|-[a-zA-Z])(?![\w-])")
REPO_PATH = re.compile(r"^(?:services|scripts|tests|bench|docs|\.ci|\.github)/[\w./-]*$")


@dataclass(frozen=True)
class Doc:
    path: Path
    prose: list[tuple[int, str]]  # (line number, text) outside fenced code blocks
    code: list[tuple[int, str, str]]  # (line number, fence language, text) inside fenced code blocks

    @property
    def name(self) -> str:
        return str(self.path.relative_to(REPO_ROOT))


def read(path: Path) -> Doc:
    prose: list[tuple[int, str]] = []
    code: list[tuple[int, str, str]] = []
    fence: str | None = None
    language = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        opened = FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
            language = line.strip()[len(fence) :].strip()
        elif fence is not None and line.strip().startswith(fence):
            fence = None
        elif fence is not None:
            code.append((number, language, line))
        else:
            prose.append((number, line))
    return Doc(path, prose, code)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the text without markup, lower case,
    without punctuation (letters, digits, '-', '_' and spaces stay), spaces as '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = text.replace("`", "").replace("*", "").lower()
    kept = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(doc: Doc) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for _, line in doc.prose:
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def outside_inline_code(line: str) -> str:
    return INLINE_CODE.sub("", line)


def inline_code(doc: Doc) -> Iterator[tuple[int, str]]:
    for number, line in doc.prose:
        for match in INLINE_CODE.finditer(line):
            yield number, match.group(2).strip()


def test_there_are_docs_to_check() -> None:
    names = {str(p.relative_to(REPO_ROOT)) for p in DOCS}
    assert {"README.md", "docs/README.md", "docs/operations.md"} <= names


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_relative_link_leads_somewhere(path: Path) -> None:
    doc = read(path)
    broken = []
    for number, line in doc.prose:
        for target in LINK.findall(outside_inline_code(line)):
            if EXTERNAL.match(target):
                continue
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            where = f"{doc.name}:{number}: ({target})"
            if not linked.exists():
                broken.append(f"{where} no such file {linked.relative_to(REPO_ROOT)}")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(read(linked)):
                broken.append(f"{where} no heading #{anchor} in {linked.relative_to(REPO_ROOT)}")
    assert not broken, "broken links:\n" + "\n".join(broken)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_repository_path_shown_exists(path: Path) -> None:
    doc = read(path)
    missing = []
    for number, code in inline_code(doc):
        shown = code.split("::", 1)[0]
        if REPO_PATH.match(shown) and not (REPO_ROOT / shown).exists():
            missing.append(f"{doc.name}:{number}: {shown}")
    assert not missing, "paths that do not exist:\n" + "\n".join(missing)


def commands_shown(doc: Doc) -> Iterator[tuple[int, str, str]]:
    """(line, subcommand, the rest of the command) for every ``zkleader ...``
    command shown: the lines of sh/bash fences, the ``$ `` lines of console
    fences, and inline code spans. The rest stops at a comment or at the next
    command of a pipeline."""
    lines: list[tuple[int, str]] = list(inline_code(doc))
    for number, language, text in doc.code:
        text = text.strip()
        if language == "console" and text.startswith("$ "):
            lines.append((number, text[2:]))
        elif language in SHELL - {"console"}:
            lines.append((number, text))
    for number, text in lines:
        match = COMMAND.match(text)
        if match:
            rest = re.split(r"\s#|\||;|&&", match.group(2), maxsplit=1)[0]
            yield number, match.group(1), rest


def option_names(command: click.Command) -> set[str]:
    names = {"--help", "-h"}
    for param in command.params:
        names.update(param.opts)
        names.update(param.secondary_opts)
    return names


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_zkleader_command_shown_exists(path: Path) -> None:
    assert isinstance(cli, click.Group)
    doc = read(path)
    wrong = []
    for number, name, rest in commands_shown(doc):
        command = cli.commands.get(name)
        if command is None:
            wrong.append(f"{doc.name}:{number}: `zkleader {name}`: no such subcommand (have {sorted(cli.commands)})")
            continue
        for option in OPTION.findall(rest):
            if option not in option_names(command):
                wrong.append(f"{doc.name}:{number}: `zkleader {name} {option}`: no such option")
    assert not wrong, "\n".join(wrong)


def test_the_checks_catch_what_they_should() -> None:
    """The parsers above, on text that must fail and text that must pass."""
    assert slug("`zkleader failover` and `scripts/failover.sh`") == "zkleader-failover-and-scriptsfailoversh"
    assert (
        slug("The journal: leader-only work, fenced in ZooKeeper") == "the-journal-leader-only-work-fenced-in-zookeeper"
    )
    line = "see [a](docs/a.md#x) and ![b](b.png), not `[c](c.md)`"
    assert LINK.findall(outside_inline_code(line)) == ["docs/a.md#x", "b.png"]
    console = [
        "$ ZKLEADER_ADMIN_TOKEN=t zkleader resign --no-wait",
        "$ docker compose exec api1 zkleader list --json | cat",
        "zkleader: http://x does not answer",
        "$ curl -s 127.0.0.1:5001/zkleader/election",
        "$ zkleader lst",
    ]
    doc = Doc(Path("x"), [(9, "the `zkleader` command, `zkleader watch --interval 1`")], [])
    doc.code.extend((n, "console", text) for n, text in enumerate(console))
    found = [(name, OPTION.findall(rest)) for _, name, rest in commands_shown(doc)]
    assert found == [("watch", ["--interval"]), ("resign", ["--no-wait"]), ("list", ["--json"]), ("lst", [])]
    assert option_names(cli.commands["failover"]) >= {"-p", "--project", "--graceful", "--json"}

"""docs/testing-your-code.md keeps its promise: its example runs and passes."""

from __future__ import annotations

import re
from types import ModuleType

from tests.support.compose import REPO_ROOT

DOC = REPO_ROOT / "docs" / "testing-your-code.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_the_example_of_testing_your_code_passes() -> None:
    text = DOC.read_text()
    blocks = list(BLOCK.finditer(text))
    assert len(blocks) == 1, "one python example expected"
    # Padded so that a failure points at the document's own line.
    source = "\n" * text.count("\n", 0, blocks[0].start(1)) + blocks[0].group(1)
    module = ModuleType("testing_your_code_example")
    exec(compile(source, str(DOC), "exec"), module.__dict__)
    tests = [getattr(module, name) for name in vars(module) if name.startswith("test_")]
    assert tests, "the example has no test_ function"
    for test in tests:
        test()

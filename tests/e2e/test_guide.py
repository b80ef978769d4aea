"""docs/guide.md runs as written: every ``sh`` block, in order, in one shell, against a fresh demo;
the ``text`` block after one holds what its output must say.

A line of a ``text`` block must appear in the block's output; a line with "…" in it is pieces that
must appear in that order on one line of the output (a table's row)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.demo_server import BIN, demo_server

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)
MARK = "@@ block {} done @@"


def blocks(text: str) -> list[tuple[str, list[str]]]:
    """Each ``sh`` block with the expected lines of the ``text`` block right after it (if any)."""
    out: list[tuple[str, list[str]]] = []
    for m in FENCE.finditer(text):
        lang, body = m.group(1), m.group(2)
        if lang == "sh":
            out.append((body, []))
        elif lang == "text":
            assert out and not out[-1][1], f"a text block with no sh block before it: {body[:60]!r}"
            out[-1] = (out[-1][0], [line for line in body.splitlines() if line.strip()])
        else:
            raise AssertionError(f"guide blocks are sh or text, not {lang!r}")
    return out


def missing(expected: list[str], said: str) -> list[str]:
    lines = said.splitlines()

    def found(want: str) -> bool:
        if "…" not in want:
            return want in said
        pieces = [p.strip() for p in want.split("…") if p.strip()]
        return any(re.search(".*?".join(map(re.escape, pieces)), line) for line in lines)

    return [want for want in expected if not found(want)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    d = tmp_path_factory.mktemp("guide")
    with demo_server(d) as (url, _, _):
        yield url, d


def test_the_guides_blocks_are_read_as_written() -> None:
    """The reader below is what the test relies on: check it on a small page."""
    page = "intro\n```sh\necho a\n```\n```text\na\n```\nmore\n```sh\necho b\n```\n"
    assert blocks(page) == [("echo a\n", ["a"]), ("echo b\n", [])]
    assert missing(["a", "x … z"], "a\nx y z\n") == []
    assert missing(["x … z"], "x\nz\n") == ["x … z"]  # pieces on one line only
    with pytest.raises(AssertionError):
        blocks("```bash\nls\n```\n")


def test_the_guide_runs_as_written_against_a_fresh_demo(demo: tuple[str, Path], tmp_path: Path) -> None:
    url, demo_dir = demo
    steps = blocks(GUIDE.read_text(encoding="utf-8"))
    assert len(steps) >= 10 and sum(1 for _, expected in steps if expected) >= 10
    # The guide's shell, where a reader has it: the repository's directory (here a copy of what it
    # needs: the demo's tokens and the virtualenv's commands), the demo's URL.
    shutil.copy(demo_dir / "tokens.json", tmp_path / "demo-tokens.json")
    (tmp_path / ".venv").symlink_to(BIN.parent.parent)
    script = ["set -euo pipefail"]
    for n, (body, _) in enumerate(steps):
        script += [body.replace("http://127.0.0.1:8080", url), f"echo '{MARK.format(n)}'"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUCELINE_")}
    run = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, capture_output=True, text=True,
                         env={**env, "COLUMNS": "200"}, timeout=600)  # fmt: skip
    said = run.stdout
    for n, (body, expected) in enumerate(steps):
        mark = MARK.format(n)
        assert mark in said, f"block {n} failed (exit {run.returncode}):\n{body}\n--- stderr:\n{run.stderr[-3000:]}"
        part, said = said.split(mark + "\n", 1)
        assert not missing(expected, part), f"block {n} did not say {missing(expected, part)}:\n{body}\n---\n{part}"
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "reports" / "sitrep-2017-07-14.pdf").read_bytes().startswith(b"%PDF-")
    assert (tmp_path / "jordan-audit.jsonl").stat().st_size > 0

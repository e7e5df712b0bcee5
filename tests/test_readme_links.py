"""The README points only at files that are in the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# What cuijiao makes (a demo, a workspace's cuijiao.toml and out/) rather than ships.
MADE = ("cuijiao-demo", "翠湖", "out/", "logs/", "inbox/", "templates/", "<", "cuijiao.toml")


def _targets() -> list[str]:
    links = re.findall(r"\]\(([^)\s]+)\)", README)
    paths = [p for p in re.findall(r"`([^`\s]+)`", README)
             if ("/" in p or p.endswith((".md", ".py", ".toml"))) and not re.match(r"^\d", p)]
    return [t for t in links + paths if not t.startswith(("http://", "https://", "#", "mailto:"))]


def test_every_file_the_readme_names_is_in_the_repository() -> None:
    missing = [t for t in _targets() if not t.startswith(MADE) and not (ROOT / t.split("#")[0]).exists()]
    assert missing == []


def test_the_readme_points_nowhere_outside_the_repository() -> None:
    outside = [t for t in _targets() if not (ROOT / t).resolve().is_relative_to(ROOT)]
    assert outside == []


def test_every_document_the_readme_and_docs_cite_by_name_is_in_the_repository() -> None:
    # A bare "PRODUCT.md §5" is a citation a reader cannot follow when the file is not shipped.
    shipped = {path.name for path in ROOT.rglob("*.md") if ".venv" not in path.parts}
    texts = [README, *(path.read_text(encoding="utf-8") for path in (ROOT / "docs").glob("*.md"))]
    cited = {name for text in texts for name in re.findall(r"\b[\w-]+\.md\b", text)}
    assert cited - shipped == set()

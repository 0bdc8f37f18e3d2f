"""The judges' modules import only what `pip install -e '.[judge]'` installs."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", item, maxsplit=1)[0].lower() for item in requirements}


def test_every_third_party_import_of_the_judges_is_a_judge_or_base_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    installed = _requirement_names(project["dependencies"]) | _requirement_names(
        project["optional-dependencies"]["judge"]
    )
    distributions = importlib.metadata.packages_distributions()
    missing = set()
    for path in sorted((ROOT / "evaluation" / "judges").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top in ("evaluation", "annotate", "config"):
                    continue
                names = {name.lower() for name in distributions.get(top, [top])}
                if not names & installed:
                    missing.add(f"{path.name}: {module} ({', '.join(sorted(names))})")
    assert not missing, sorted(missing)

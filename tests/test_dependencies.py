"""Every third-party import of the code is installed by what pyproject.toml declares.

A production install is ``pip install .`` (the runtime dependencies), plus
``.[judge]`` on the machines that judge; ``dev`` is for the tests and the benchmarks
only. A calibrated judge once failed to load in production because scikit-learn was
declared for ``dev`` alone, and nothing but a production install would have shown it:
here the import graph of the code is read from its source (`ast`, so imports inside
functions count too) and checked against the declared lists.

The rules:

- The core: every shipped module outside the judge backends, and whatever those import
  when they load. Its module-level imports, and the dotted paths the settings name
  (apps, middleware, backends), need the runtime dependencies alone. An import inside a
  function, or one guarded by ``except ImportError``, may also come from a runtime extra.
- The judge backends (``evaluation/judges/``, the modules the core does not load) may
  also use the ``judge`` extra.
- ``tests/`` and ``bench/`` may use any declared dependency, ``dev`` included.
- Shipped code imports only first-party packages that the wheel contains.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
JUDGE_BACKENDS = "evaluation.judges"
JUDGE_EXTRA = "judge"
DEV_EXTRA = "dev"
DEV_ONLY = ("tests", "bench")
IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
DOTTED_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them (``Scikit_Learn`` is ``scikit-learn``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")


def requirement_names(requirements: Iterable[str]) -> frozenset[str]:
    """The distributions the requirements name, with what their extras add (``celery[redis]``
    brings ``kombu[redis]``, which brings ``redis``)."""
    names: set[str] = set()
    todo = list(requirements)
    while todo:
        match = REQUIREMENT.match(todo.pop())
        if match is None:
            continue
        name = normalized(match[1])
        extras = {normalized(extra) for extra in (match[2] or "").split(",") if extra.strip()}
        names.add(name)
        for extra in extras:
            todo.extend(_requirements_of_extra(name, extra))
    return frozenset(names)


def _requirements_of_extra(name: str, extra: str) -> list[str]:
    try:
        requirements = importlib.metadata.requires(name) or []
    except importlib.metadata.PackageNotFoundError:
        return []
    marker = re.compile(rf"""extra\s*==\s*["']{re.escape(extra)}["']""")
    return [item.split(";")[0] for item in requirements if marker.search(item.replace("_", "-"))]


@dataclass(frozen=True)
class Declared:
    """The distributions a kind of install provides, by PEP 503 name."""

    runtime: frozenset[str]
    extras: Mapping[str, frozenset[str]]
    shipped_packages: frozenset[str]  # first-party top-level packages the wheel contains

    @classmethod
    def from_pyproject(cls, data: Mapping[str, Any]) -> Declared:
        project = data["project"]
        include = data["tool"]["setuptools"]["packages"]["find"]["include"]
        tops = {path.name for path in ROOT.iterdir() if (path / "__init__.py").is_file()}
        shipped = {top for top in tops if any(re.fullmatch(_glob(p), top) for p in include)}
        return cls(
            runtime=requirement_names(project["dependencies"]),
            extras={
                name: requirement_names(items)
                for name, items in project.get("optional-dependencies", {}).items()
            },
            shipped_packages=frozenset(shipped),
        )

    def runtime_extras(self) -> frozenset[str]:
        return frozenset().union(
            *(names for extra, names in self.extras.items() if extra != DEV_EXTRA)
        )

    def everything(self) -> frozenset[str]:
        return self.runtime.union(*self.extras.values())


def _glob(pattern: str) -> str:
    # setuptools' include patterns match dotted package names; only the top level counts here.
    return re.escape(pattern).replace(r"\*", ".*")


@dataclass(frozen=True)
class ImportSite:
    importer: str  # dotted module name of the importing file
    path: Path
    line: int
    target: str  # dotted module imported (or named as a dotted path by the settings)
    deferred: bool  # inside a function: runs only when that function is called
    optional: bool  # guarded by ``except ImportError``: the code copes without it

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line} imports {self.target}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(kind, ast.Name) and kind.id in IMPORT_ERRORS for kind in kinds)


class _ImportVisitor(ast.NodeVisitor):
    def __init__(self, *, path: Path, known_modules: frozenset[str]) -> None:
        self.path = path
        self.module = module_name(path)
        self.package = self.module if path.name == "__init__.py" else self.module.rpartition(".")[0]
        self.known_modules = known_modules
        self.sites: list[ImportSite] = []
        self._deferred = 0
        self._optional = 0

    def _add(self, node: ast.AST, target: str) -> None:
        self.sites.append(
            ImportSite(
                importer=self.module,
                path=self.path,
                line=getattr(node, "lineno", 0),
                target=target,
                deferred=self._deferred > 0,
                optional=self._optional > 0,
            )
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - (node.level - 1)]
            source = ".".join([*base, node.module] if node.module else base)
        else:
            source = node.module or ""
        for alias in node.names:
            # ``from evaluation import services`` imports the module evaluation.services.
            submodule = f"{source}.{alias.name}"
            self._add(node, submodule if submodule in self.known_modules else source)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        self._deferred += 1
        self.generic_visit(node)
        self._deferred -= 1

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function
    visit_Lambda = _visit_function

    def visit_Try(self, node: ast.Try) -> None:
        guarded = any(_catches_import_error(handler) for handler in node.handlers)
        self._optional += guarded
        for statement in node.body:
            self.visit(statement)
        self._optional -= guarded
        for statement in [*node.handlers, *node.orelse, *node.finalbody]:
            self.visit(statement)

    visit_TryStar = visit_Try

    def visit_If(self, node: ast.If) -> None:
        # ``if TYPE_CHECKING:`` imports are for the type checker, never run.
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            for statement in node.orelse:
                self.visit(statement)
            return
        self.generic_visit(node)


def source_files(*tops: str) -> list[Path]:
    return [path for top in tops for path in sorted((ROOT / top).rglob("*.py"))]


def import_sites(files: Iterable[Path]) -> list[ImportSite]:
    files = list(files)
    first_party = [module_name(path) for path in source_files(*first_party_tops())]
    known = frozenset(first_party)
    sites = []
    for path in files:
        visitor = _ImportVisitor(path=path, known_modules=known)
        visitor.visit(ast.parse(path.read_text(), filename=str(path)))
        sites.extend(visitor.sites)
    return list(dict.fromkeys(sites))  # ``from x import a, b``: one site


def first_party_tops() -> list[str]:
    return sorted(
        path.name
        for path in ROOT.iterdir()
        if (path / "__init__.py").is_file() or path.name == "bench"
    )


def settings_paths() -> list[ImportSite]:
    """The dotted paths the settings name (apps, middleware, backends): imported at startup."""
    from django.conf import settings

    path = ROOT / "config" / "settings.py"
    found: list[ImportSite] = []

    def walk(value: Any) -> None:
        if type(value) is str:  # not a lazy translation or other str-like object
            if DOTTED_PATH.fullmatch(value):
                found.append(ImportSite("config.settings", path, 0, value, False, False))
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple | set | frozenset):
            for item in value:
                walk(item)

    for name in dir(settings):
        if name.isupper():
            walk(getattr(settings, name))
    return found


@functools.cache
def _top_level_distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _distributions(top: str) -> frozenset[str] | None:
    found = _top_level_distributions().get(top)
    return frozenset(normalized(name) for name in found) if found else None


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def core_modules(sites: Iterable[ImportSite], modules: Iterable[str]) -> dict[str, str | None]:
    """Every shipped module outside the judge backends, and what those load with them:
    each mapped to the module that loads it (None for the first ones), to tell why."""
    eager: dict[str, set[str]] = {}
    for site in sites:
        if not (site.deferred or site.optional):
            eager.setdefault(site.importer, set()).add(site.target)
    modules = set(modules)
    loaded_by: dict[str, str | None] = {}
    todo: list[tuple[str, str | None]] = [
        (m, None) for m in sorted(modules) if not in_package(m, JUDGE_BACKENDS)
    ]
    todo.append((JUDGE_BACKENDS, None))
    while todo:
        module, parent = todo.pop(0)
        if module in loaded_by:
            continue
        loaded_by[module] = parent
        # Importing a.b.c runs a/__init__ and a/b/__init__ first.
        parts = module.split(".")
        packages = [".".join(parts[:n]) for n in range(1, len(parts))]
        todo.extend((package, module) for package in packages if package in modules)
        todo.extend(
            (target, module) for target in sorted(eager.get(module, ())) if target in modules
        )
    return loaded_by


def load_chain(module: str, loaded_by: Mapping[str, str | None]) -> str:
    chain = [module]
    while (parent := loaded_by.get(chain[-1])) is not None:
        chain.append(parent)
    return " <- ".join(chain)


@dataclass(frozen=True)
class Violation:
    site: ImportSite
    why: str

    def __str__(self) -> str:
        return f"{self.site}: {self.why}"


def shipped_violations(declared: Declared) -> list[Violation]:
    """Imports of the shipped code that a production install would not satisfy."""
    tops = [top for top in first_party_tops() if top not in DEV_ONLY]
    files = source_files(*tops)
    sites = import_sites(files) + settings_paths()
    modules = {module_name(path) for path in files}
    core = core_modules(sites, modules)
    judge = declared.extras.get(JUDGE_EXTRA, frozenset())
    problems = []
    for site in sites:
        top = site.target.split(".")[0]
        if top in sys.stdlib_module_names or top == "__future__":
            continue
        if top in first_party_tops():
            if top not in declared.shipped_packages:
                problems.append(Violation(site, f"{top!r} is not packaged (setuptools include)"))
            continue
        if site.importer not in core:
            allowed, needs = declared.runtime | judge, f"runtime or {JUDGE_EXTRA!r} dependency"
        elif site.deferred or site.optional:
            allowed, needs = declared.runtime | declared.runtime_extras(), "runtime or extra"
        else:
            allowed, needs = declared.runtime, "runtime dependency"
            if core[site.importer] is not None:
                needs += f" (the core loads {load_chain(site.importer, core)})"
        distributions = _distributions(top)
        if distributions is None:
            if site.importer == "config.settings":
                continue  # a dotted string that names no installed module: not a path
            problems.append(Violation(site, f"no installed distribution provides {top!r}"))
        elif not distributions & allowed:
            problems.append(
                Violation(site, f"{', '.join(sorted(distributions))} is not a declared {needs}")
            )
    return problems


def dev_violations(declared: Declared) -> list[Violation]:
    """Imports of the tests and benchmarks that not even ``.[dev,judge]`` would satisfy."""
    problems = []
    for site in import_sites(source_files(*DEV_ONLY)):
        top = site.target.split(".")[0]
        if top in sys.stdlib_module_names or top == "__future__" or top in first_party_tops():
            continue
        if (site.path.parent / f"{top}.py").is_file():
            continue  # a script beside it (run from its folder, e.g. the benchmarks)
        distributions = _distributions(top)
        if distributions is None or not distributions & declared.everything():
            problems.append(Violation(site, f"{top!r} is declared nowhere in pyproject.toml"))
    return problems


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_a_production_install_satisfies_every_import_of_the_shipped_code() -> None:
    problems = shipped_violations(Declared.from_pyproject(pyproject()))
    assert not problems, "\n".join(map(str, problems))


def test_the_tests_and_benchmarks_import_only_declared_packages() -> None:
    problems = dev_violations(Declared.from_pyproject(pyproject()))
    assert not problems, "\n".join(map(str, problems))


def test_the_check_sees_a_judge_import_declared_for_dev_only() -> None:
    """The bug this guards against: scikit-learn in ``dev`` but not in ``judge``."""
    data = pyproject()
    extras = data["project"]["optional-dependencies"]
    extras[JUDGE_EXTRA] = [
        item for item in extras[JUDGE_EXTRA] if normalized(item.split(">")[0]) != "scikit-learn"
    ]
    assert "scikit-learn" in requirement_names(extras[DEV_EXTRA])
    problems = shipped_violations(Declared.from_pyproject(data))
    assert {(p.site.importer, p.site.target.split(".")[0]) for p in problems} == {
        ("evaluation.judges.calibration", "sklearn")
    }, "\n".join(map(str, problems))


def test_the_core_loads_without_the_judge_extra() -> None:
    """torch is in ``judge`` alone: no module the core loads may import it at module level."""
    data = pyproject()
    assert "torch" not in requirement_names(data["project"]["dependencies"])
    files = source_files("annotate", "evaluation", "config")
    sites = import_sites(files)
    core = core_modules(sites, {module_name(path) for path in files})
    assert "evaluation.services.judge_runs" in core and JUDGE_BACKENDS in core
    assert "evaluation.judges.baseline" not in core
    assert "evaluation.judges.calibration" not in core

"""The translation catalogues in locale/: brought up to date, and checked.

    python -m config.catalogues update   # after changing a string: extract, fill English, compile
    python -m config.catalogues check    # exit 1, naming each problem, unless all is in order

"In order" means, for each domain (``django``: templates and Python; ``djangojs``: the
pages' scripts) and each language of settings.LANGUAGES:

- extracting the strings anew (``makemessages``, in a scratch copy of the sources, so a
  check never touches the tree) finds exactly the entries the catalogue has: none new,
  none gone;
- every entry is translated and none is fuzzy (English translates to itself), and
  ``msgfmt --check`` compiles it.

The ``.mo`` files are build products (``make install`` compiles them), not kept in git.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
LOCALE_DIR = BASE_DIR / "locale"
LOCALES = ("zh_Hans", "en")  # settings.LANGUAGES as gettext names them
DOMAINS = ("django", "djangojs")
# What makemessages reads (a scratch copy of it, for a check), and what it must skip there.
SOURCES = ("manage.py", "config", "annotate", "evaluation", "demo", "templates", "static")
IGNORE = ("*/migrations/*",)


@dataclass
class Entry:
    context: str | None = None
    msgid: str = ""
    plural: str | None = None
    strings: list[str] = field(default_factory=list)
    fuzzy: bool = False

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.context, self.msgid, self.plural)

    def describe(self) -> str:
        where = f" [{self.context}]" if self.context else ""
        return f"{self.msgid!r}{where}"


def _unquote(text: str) -> str:
    return ast.literal_eval(text.strip()) if text.strip() else ""


def read_po(path: Path) -> list[Entry]:
    """The live entries of a .po file (the header and obsolete entries left out)."""
    entries: list[Entry] = []
    current, target = Entry(), None

    def flush() -> None:
        nonlocal current, target
        if current.msgid or current.strings:
            entries.append(current)
        current, target = Entry(), None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#~"):
            if not line:
                flush()
            continue
        if line.startswith("#,"):
            if target is not None:
                flush()
            current.fuzzy = "fuzzy" in line
        elif line.startswith("#"):
            if target is not None:
                flush()
        elif line.startswith("msgctxt "):
            if target is not None:
                flush()
            current.context, target = _unquote(line[8:]), "context"
        elif line.startswith("msgid_plural "):
            current.plural, target = _unquote(line[13:]), "plural"
        elif line.startswith("msgid "):
            if target not in (None, "context"):
                flush()
            current.msgid, target = _unquote(line[6:]), "msgid"
        elif line.startswith("msgstr"):
            current.strings.append(_unquote(line.split(" ", 1)[1]))
            target = "msgstr"
        elif line.startswith('"'):
            text = _unquote(line)
            if target == "msgstr":
                current.strings[-1] += text
            elif target == "msgid":
                current.msgid += text
            elif target == "plural":
                current.plural = (current.plural or "") + text
            elif target == "context":
                current.context = (current.context or "") + text
    flush()
    return [entry for entry in entries if entry.msgid]


def _extracted(scratch: Path) -> Path:
    """The catalogues as extracted anew from a copy of the sources; its locale/ folder.

    A copy, so that `check` never touches the tree and `update` reads exactly what
    `check` reads (never tests, benchmarks or installed packages). Source references
    name the file only, so that moving a line leaves the catalogues alone.
    """
    for name in SOURCES:
        source = BASE_DIR / name
        if source.is_dir():
            shutil.copytree(source, scratch / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, scratch / name)
    if LOCALE_DIR.exists():
        shutil.copytree(LOCALE_DIR, scratch / "locale")
    ignores = [f"--ignore={pattern}" for pattern in IGNORE]
    for domain in DOMAINS:
        command = [sys.executable, "manage.py", "makemessages", "--domain", domain]
        command += [arg for locale in LOCALES for arg in ("--locale", locale)]
        command += ["--extension=js"] if domain == "djangojs" else []
        subprocess.run(
            [*command, *ignores, "--no-obsolete", "--add-location=file", "--keep-pot", "-v0"],
            cwd=scratch,
            check=True,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        )
    return scratch / "locale"


def _english(pot: Path, po: Path) -> None:
    """English translates to itself: made anew from the template by gettext's msginit,
    which sets every msgstr to its msgid (so no English entry is ever stale or fuzzy)."""
    subprocess.run(
        ["msginit", "--no-translator", "--locale=en", "-i", str(pot), "-o", str(po)],
        check=True,
        capture_output=True,
    )
    text = po.read_text(encoding="utf-8")
    text = text.replace("PACKAGE VERSION", "refscore").replace(
        "Automatically generated", "refscore"
    )
    po.write_text(
        "# refscore's interface in English: each string translates to itself.\n" + text,
        encoding="utf-8",
    )


def _compile(po: Path, mo: Path) -> None:
    subprocess.run(["msgfmt", "--check", "-o", str(mo), str(po)], check=True)


def update() -> None:
    """Extracts the strings into locale/, fills in English, compiles every catalogue.

    New Chinese entries are left empty (and near-matches fuzzy) for a translator;
    `check` names them until they are done.
    """
    with tempfile.TemporaryDirectory(prefix="refscore-catalogues-") as scratch:
        extracted = _extracted(Path(scratch))
        for po in sorted(extracted.glob("*/LC_MESSAGES/*.po")):
            target = LOCALE_DIR / po.relative_to(extracted)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.parent.parent.name == "en":
                _english(extracted / f"{po.stem}.pot", target)
            else:
                shutil.copyfile(po, target)
    for domain in DOMAINS:
        for locale in LOCALES:
            po = LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
            if po.exists():
                _compile(po, po.with_suffix(".mo"))


def problems() -> list[str]:
    """What is out of order in locale/, one line each; empty when all is in order."""
    found: list[str] = []
    with tempfile.TemporaryDirectory(prefix="refscore-catalogues-") as scratch:
        extracted = _extracted(Path(scratch))
        for domain in DOMAINS:
            for locale in LOCALES:
                found += _problems_of(extracted, domain, locale)
    return found


def _problems_of(extracted: Path, domain: str, locale: str) -> list[str]:
    po = LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
    fresh = extracted / locale / "LC_MESSAGES" / f"{domain}.po"
    name = f"locale/{po.relative_to(LOCALE_DIR)}"
    if not po.exists():
        return [f"{name}: missing, but the sources have strings for it"] if fresh.exists() else []
    entries = read_po(po)
    found: list[str] = []
    if "#, fuzzy" in po.read_text(encoding="utf-8").split('\nmsgid ""', 1)[0]:
        found.append(f"{name}: the header is fuzzy (msgfmt would leave out its charset)")
    if fresh.exists():
        have = {entry.key for entry in entries}
        wanted = {entry.key: entry for entry in read_po(fresh)}
        found += [
            f"{name}: not in the catalogue: {wanted[k].describe()}" for k in wanted.keys() - have
        ]
        gone = [entry for entry in entries if entry.key not in wanted]
        found += [f"{name}: no longer in the sources: {entry.describe()}" for entry in gone]
    elif entries:
        found.append(f"{name}: the sources have no string for it any more")
    for entry in entries:
        if entry.fuzzy:
            found.append(f"{name}: fuzzy: {entry.describe()}")
        elif not all(entry.strings):
            found.append(f"{name}: untranslated: {entry.describe()}")
    _compile(po, extracted / f"{locale}-{domain}.mo")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["check", "update"])
    args = parser.parse_args(argv)
    if args.action == "update":
        update()
    found = problems()
    for problem in found:
        print(problem, file=sys.stderr)
    if found:
        print(
            f"{len(found)} catalogue problem(s): run `make messages`, then translate "
            "what is new in locale/zh_Hans (no entry left empty or fuzzy).",
            file=sys.stderr,
        )
        return 1
    print("catalogues: complete and current (" + ", ".join(LOCALES) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Strings a person reads are marked for translation where no crawl of the pages sees them.

- The scripts (static/*/): a sentence in a string literal goes through i18n.js's gettext
  (or pgettext, ngettext), and no literal at all is written straight into what a reader
  sees (textContent, title, aria-label, alert…); each script that translates imports
  its helpers from i18n.js. A sentence kept out of the page (a programming error for the
  console) is named below with its reason.
- The forms of the pages: every field has its own label, since Django's default (the
  field's Python name, "Final state") is English, and refusals name fields by label.

tests/test_i18n_crawl.py reads the pages themselves.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django import forms

from tests.test_i18n_crawl import english_in

STATIC = Path(__file__).resolve().parent.parent / "static"
TRANSLATING = {"gettext", "pgettext", "ngettext", "interpolate"}
PRODUCT = "refscore"  # the same in every language
# Literals that are never shown: the calls that take them, and why.
NOT_SHOWN = {
    "RubricError": "a malformed rubric from the server is a programming error, for the console",
}
CLASS_LIST = re.compile(r"(?:\.className\s*=(?!=)|classList\.\w+\($)")
SINK_PROPERTY = re.compile(
    r"(?:\.(?:textContent|innerText|innerHTML|outerHTML|title|placeholder|alt|ariaLabel|label)"
    r"|document\.title)\s*=(?!=)"
)
SINK_CALLS = {
    "alert",
    "confirm",
    "prompt",
    "Option",
    "createTextNode",
    "append",
    "prepend",
    "replaceChildren",
    "before",
    "after",
    "insertAdjacentText",
}
SINK_ATTRIBUTE = re.compile(
    r"setAttribute\(\s*[\"'](?:title|aria-label|aria-description|aria-valuetext|placeholder|alt)"
    r"[\"']\s*,[^()]*$"
)
REGEX_MAY_FOLLOW = set("(,=:[!&|?{};+-*%<>~^") | {""}


@dataclass(frozen=True)
class Literal:
    line: int
    text: str  # a template literal's ${…} parts as spaces
    call: str  # the innermost call the literal is an argument of ("" for none)
    statement: str  # the statement up to the literal


def literals(source: str) -> list[Literal]:
    """The string literals of a script, with where each stands. A small lexer: comments,
    quotes, template literals (their ${} skipped), regular expression literals."""
    found: list[Literal] = []
    calls: list[str] = []
    i, line, last, n = 0, 1, "", len(source)
    while i < n:
        char = source[i]
        if source.startswith("//", i):
            i = source.find("\n", i) if "\n" in source[i:] else n
            continue
        if source.startswith("/*", i):
            end = source.index("*/", i + 2) + 2
            line += source.count("\n", i, end)
            i = end
            continue
        if char in "'\"`":
            j, text = i + 1, []
            while source[j] != char:
                if source[j] == "\\":
                    text.append(source[j : j + 2])
                    j += 2
                elif char == "`" and source.startswith("${", j):
                    depth, j = 1, j + 2
                    while depth:
                        depth += {"{": 1, "}": -1}.get(source[j], 0)
                        j += 1
                    text.append(" ")
                else:
                    text.append(source[j])
                    j += 1
            start = max(source.rfind(";", 0, i), source.rfind("{", 0, i), source.rfind("}", 0, i))
            statement = source[start + 1 : i]
            found.append(Literal(line, "".join(text), calls[-1] if calls else "", statement))
            line += source.count("\n", i, j)
            i, last = j + 1, "a"
            continue
        if char == "/" and last in REGEX_MAY_FOLLOW:
            j, in_class = i + 1, False
            while source[j] != "/" or in_class:
                if source[j] == "\\":
                    j += 1
                elif source[j] in "[]":
                    in_class = source[j] == "["
                j += 1
            i, last = j + 1, "a"
            continue
        if char == "(":
            name = re.search(r"([\w$.]*)\s*$", source[max(0, i - 80) : i]).group(1)
            calls.append(name)
        elif char == ")" and calls:
            calls.pop()
        elif char == "\n":
            line += 1
        if not char.isspace():
            last = "a" if char.isalnum() or char in "_$" else char
        i += 1
    return found


def untranslated(source: str) -> list[str]:
    """Each literal of `source` a reader would see in English, as 'line: text (why)'."""
    problems = []
    for literal in literals(source):
        call = literal.call.rsplit(".", 1)[-1]
        if call in TRANSLATING or call in NOT_SHOWN:
            continue
        shown_as_is = (
            SINK_PROPERTY.search(literal.statement)
            or call in SINK_CALLS
            or SINK_ATTRIBUTE.search(literal.statement)
        )
        text = literal.text.replace(PRODUCT, " ")
        words = english_in(text)
        if shown_as_is and re.search(r"[A-Za-z]{2}", text):
            problems.append(f"{literal.line}: {literal.text!r} (shown as it is)")
        elif any(" " in found for found in words) and not CLASS_LIST.search(literal.statement):
            problems.append(f"{literal.line}: {literal.text!r} (a sentence not translated)")
    return problems


def missing_import(source: str) -> list[str]:
    """The translation helpers `source` calls without importing them from i18n.js."""
    used = {name for name in ("gettext", "pgettext", "ngettext", "format") if re.search(
        rf"(?<![\w.]){name}\(", source
    )}  # fmt: skip
    imported = re.search(r"import\s*\{([^}]*)\}\s*from\s*[\"']\./i18n\.js[\"']", source)
    names = {name.strip() for name in imported.group(1).split(",")} if imported else set()
    return sorted(used - names)


SCRIPTS = sorted(path for path in STATIC.glob("*/*.js") if path.name != "i18n.js")


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_a_script_shows_only_translated_text(path):
    source = path.read_text(encoding="utf-8")
    assert untranslated(source) == []
    assert missing_import(source) == [], "call them through i18n.js"


def test_the_script_check_finds_what_it_must():
    """A made-up script: each way of showing English unmarked is reported, the marked
    text, identifiers, class lists, comments and regular expressions are not."""
    source = r"""
import { format, gettext } from "./i18n.js";
// A comment with "some words in quotes" is no literal.
const RE = /it's "not a string"/g;
box.className = done ? "tick selected" : "tick";
status.textContent = gettext("Saved.");
note.textContent = format(gettext("%(n)s of %(total)s rated"), { n, total });
if (job.status === "done") title.textContent = "Done";
button.setAttribute("aria-label", "Play the clip");
button.setAttribute("data-state", "playing now");
alert(`Could not save the rating: ${error}`);
throw new RubricError("no score for these answers");
show(format("Checking files: %(done)s", { done }));
"""
    assert untranslated(source) == [
        "8: 'Done' (shown as it is)",
        "9: 'Play the clip' (shown as it is)",
        "10: 'playing now' (a sentence not translated)",
        "11: 'Could not save the rating:  ' (shown as it is)",
        "13: 'Checking files: %(done)s' (a sentence not translated)",
    ]
    assert missing_import("el.textContent = pgettext('status', 'queued');") == ["pgettext"]
    assert missing_import(source) == []


def _form_classes() -> list[type[forms.BaseForm]]:
    for package in ("annotate", "evaluation"):
        for module in pkgutil.walk_packages(
            importlib.import_module(package).__path__, prefix=f"{package}."
        ):
            if ".views" in module.name or module.name.endswith(".forms"):
                importlib.import_module(module.name)
    found, todo = [], [forms.Form]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith(("annotate.", "evaluation.")):
            found.append(cls)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def test_every_field_of_the_pages_forms_has_its_own_label():
    forms_found = _form_classes()
    assert len(forms_found) >= 20, [cls.__qualname__ for cls in forms_found]
    unlabelled = [
        f"{cls.__module__}.{cls.__qualname__}.{name}"
        for cls in forms_found
        for name, field in cls.base_fields.items()
        if field.label is None
    ]
    assert unlabelled == []

"""The translation catalogues' check (config.catalogues): it reads .po files right, it
catches what it must, and the project's own catalogues pass it."""

from __future__ import annotations

import shutil

import pytest

from config import catalogues

needs_gettext = pytest.mark.skipif(
    not (shutil.which("msgfmt") and shutil.which("msginit")), reason="gettext's tools are missing"
)

PO = r"""# a header comment
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=1; plural=0;\n"

#: templates/a.html
msgid "Save"
msgstr "保存"

#: templates/a.html
#, fuzzy, python-format
#| msgid "Old %(n)s"
msgid "New %(n)s"
msgstr "旧 %(n)s"

msgctxt "state"
msgid "open"
msgstr ""

#, python-format
msgid "%(n)s row"
msgid_plural "%(n)s rows"
msgstr[0] "共 %(n)s 行"

msgid ""
"a long "
"message with \"quotes\""
msgstr "长消息"

#~ msgid "gone"
#~ msgstr "已删除"
"""


def test_read_po_reads_contexts_plurals_flags_and_continued_lines(tmp_path):
    path = tmp_path / "django.po"
    path.write_text(PO, encoding="utf-8")
    entries = {entry.key: entry for entry in catalogues.read_po(path)}
    assert set(entries) == {
        (None, "Save", None),
        (None, "New %(n)s", None),
        ("state", "open", None),
        (None, "%(n)s row", "%(n)s rows"),
        (None, 'a long message with "quotes"', None),
    }
    assert entries[(None, "Save", None)].strings == ["保存"]
    assert entries[(None, "New %(n)s", None)].fuzzy
    assert not entries[(None, "Save", None)].fuzzy
    assert entries[("state", "open", None)].strings == [""]
    assert entries[(None, "%(n)s row", "%(n)s rows")].strings == ["共 %(n)s 行"]


@needs_gettext
def test_the_check_names_each_kind_of_problem(tmp_path, monkeypatch):
    """A copy of locale/ spoiled four ways, checked against the real sources: each
    spoilage is reported."""
    locale = tmp_path / "locale"
    shutil.copytree(catalogues.LOCALE_DIR, locale)
    chinese = locale / "zh_Hans" / "LC_MESSAGES" / "django.po"
    text = chinese.read_text(encoding="utf-8")
    assert 'msgid "Save"\nmsgstr "保存"' in text and '\nmsgid "Log out"' in text
    # Untranslated, fuzzy, an entry no source has.
    text = text.replace('msgid "Save"\nmsgstr "保存"', 'msgid "Save"\nmsgstr ""', 1)
    text = text.replace('\nmsgid "Log out"', '\n#, fuzzy\nmsgid "Log out"', 1)
    text += '\nmsgid "A string no template has"\nmsgstr "没有模板有的字符串"\n'
    chinese.write_text(text, encoding="utf-8")
    english = locale / "en" / "LC_MESSAGES" / "django.po"
    english.write_text(
        english.read_text(encoding="utf-8").replace(
            '\nmsgid "Log out"', '\n#, fuzzy\nmsgid "Log out"', 1
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(catalogues, "LOCALE_DIR", locale)

    found = catalogues.problems()
    assert "locale/zh_Hans/LC_MESSAGES/django.po: untranslated: 'Save'" in found
    assert "locale/zh_Hans/LC_MESSAGES/django.po: fuzzy: 'Log out'" in found
    assert "locale/en/LC_MESSAGES/django.po: fuzzy: 'Log out'" in found
    assert (
        "locale/zh_Hans/LC_MESSAGES/django.po: no longer in the sources: "
        "'A string no template has'" in found
    )
    # A string the sources have and the catalogue lacks.
    text = text.replace('\nmsgid "Preview"\nmsgstr "预览"\n', "\n", 1)
    chinese.write_text(text, encoding="utf-8")
    assert "locale/zh_Hans/LC_MESSAGES/django.po: not in the catalogue: 'Preview'" in (
        catalogues.problems()
    )


@needs_gettext
@pytest.mark.slow
def test_the_projects_catalogues_are_complete_and_current():
    assert catalogues.problems() == []


@needs_gettext
def test_the_check_covers_the_scripts_catalogue(tmp_path, monkeypatch):
    """The scripts' strings (djangojs, from static/) are checked as the pages' are: an
    entry left untranslated, one the scripts no longer have, one they have and the
    catalogue lacks are each named."""
    locale = tmp_path / "locale"
    shutil.copytree(catalogues.LOCALE_DIR, locale)
    scripts = locale / "zh_Hans" / "LC_MESSAGES" / "djangojs.po"
    text = scripts.read_text(encoding="utf-8")
    assert 'msgid "Pause"\nmsgstr "暂停"' in text and '\nmsgid "Play"\nmsgstr "播放"\n' in text
    text = text.replace('msgid "Pause"\nmsgstr "暂停"', 'msgid "Pause"\nmsgstr ""', 1)
    text = text.replace('\nmsgid "Play"\nmsgstr "播放"\n', "\n", 1)
    text += '\nmsgid "A string no script has"\nmsgstr "没有脚本有的字符串"\n'
    scripts.write_text(text, encoding="utf-8")
    monkeypatch.setattr(catalogues, "LOCALE_DIR", locale)

    found = catalogues.problems()
    assert "locale/zh_Hans/LC_MESSAGES/djangojs.po: untranslated: 'Pause'" in found
    assert "locale/zh_Hans/LC_MESSAGES/djangojs.po: not in the catalogue: 'Play'" in found
    assert (
        "locale/zh_Hans/LC_MESSAGES/djangojs.po: no longer in the sources: "
        "'A string no script has'" in found
    )

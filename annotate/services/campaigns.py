"""A campaign's life: creation, options, states, tasks and the annotators' guideline.

States and what each allows (DESIGN.md, "Running a challenge"):

- draft: set up, import, plan; no rating.
- open: annotators rate and revise.
- locked: no rating, no revision; the results can be checked.
- published: locked, and the results are visible to the teams.

An organizer moves a campaign only along TRANSITIONS; going back (re-opening a locked
campaign, withdrawing a publication) needs a reason, which is recorded with the move.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from annotate.guideline import DEFAULT_GUIDELINE_EN
from annotate.models import Campaign, CampaignState, CampaignStateChange, Guideline, Task
from annotate.words import either, word

State = CampaignState

TRANSITIONS: dict[tuple[str, str], bool] = {
    # (from, to): whether the move needs a reason
    (State.DRAFT, State.OPEN): False,
    (State.OPEN, State.LOCKED): False,
    (State.LOCKED, State.OPEN): True,
    (State.LOCKED, State.PUBLISHED): False,
    (State.PUBLISHED, State.LOCKED): True,
}

# Options that shape the plan and the scores: frozen once the campaign is locked.
PLAN_OPTIONS = ("raters_per_cell", "max_clips_per_rater", "seed", "require_full_watch")

# Slugs that would collide with the organizer pages' own paths.
RESERVED_SLUGS = frozenset({"new", "tokens", "imports"})

TITLE_MAX = Task._meta.get_field("title").max_length
INSTRUCTION_MAX = 5000


class CampaignRefused(ValidationError):
    """A campaign change that cannot be made; the message says why, and nothing was written.

    Messages are in the active language (the request's), as pages and the API show them.
    """


def _too_long(limit: int, length: int) -> str:
    return _("at most %(limit)s characters, not %(length)s") % {"limit": limit, "length": length}


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _full_clean(campaign: Campaign) -> None:
    """The model's own limits (a slug's characters, a huge cap), as a refusal per field."""
    too_small = {
        field: _("at least 1, not %(value)s") % {"value": getattr(campaign, field)}
        for field in ("raters_per_cell", "max_clips_per_rater")
        if getattr(campaign, field) is not None and getattr(campaign, field) < 1
    }
    if too_small:
        raise CampaignRefused(too_small)
    try:
        campaign.full_clean()
    except ValidationError as exc:
        raise CampaignRefused(exc.message_dict) from exc


@transaction.atomic
def campaign_create(
    *,
    slug: str,
    name: str,
    description: str = "",
    raters_per_cell: int = 3,
    max_clips_per_rater: int = 10,
    seed: int = 0,
    require_full_watch: bool = True,
    reclaim_after_minutes: int = 30,
) -> Campaign:
    """A new campaign in draft, with the protocol's guideline as its English guideline."""
    if slug in RESERVED_SLUGS:
        raise CampaignRefused(
            {"slug": _("%(slug)r is reserved: choose another slug") % {"slug": slug}}
        )
    if Campaign.objects.filter(slug=slug).exists():
        raise CampaignRefused(
            {"slug": _("a campaign with the slug %(slug)r exists") % {"slug": slug}}
        )
    campaign = Campaign(
        slug=slug,
        name=name,
        description=description,
        raters_per_cell=raters_per_cell,
        max_clips_per_rater=max_clips_per_rater,
        seed=seed,
        require_full_watch=require_full_watch,
        reclaim_after_minutes=reclaim_after_minutes,
        state=State.DRAFT,
    )
    _full_clean(campaign)
    campaign.save()
    Guideline.objects.create(
        campaign=campaign, language=Guideline.Language.EN, text=DEFAULT_GUIDELINE_EN
    )
    return campaign


@transaction.atomic
def campaign_update(
    *,
    campaign: Campaign,
    name: str | None = None,
    description: str | None = None,
    raters_per_cell: int | None = None,
    max_clips_per_rater: int | None = None,
    seed: int | None = None,
    require_full_watch: bool | None = None,
    reclaim_after_minutes: int | None = None,
) -> Campaign:
    """Change the given options (None keeps one); plan options are frozen once locked."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    given = {
        "name": name,
        "description": description,
        "raters_per_cell": raters_per_cell,
        "max_clips_per_rater": max_clips_per_rater,
        "seed": seed,
        "require_full_watch": require_full_watch,
        "reclaim_after_minutes": reclaim_after_minutes,
    }
    changes = {
        field: value
        for field, value in given.items()
        if value is not None and getattr(campaign, field) != value
    }
    frozen = sorted(set(changes) & set(PLAN_OPTIONS))
    if frozen and campaign.state in (State.LOCKED, State.PUBLISHED):
        raise CampaignRefused(
            {
                field: _("the campaign is %(state)s: re-open it to change %(field)s")
                % {"state": word(campaign.state), "field": field}
                for field in frozen
            }
        )
    for field, value in changes.items():
        setattr(campaign, field, value)
    _full_clean(campaign)
    if changes:
        campaign.save(update_fields=list(changes))
    return campaign


def campaign_transitions(*, state: str) -> list[tuple[str, bool]]:
    """The states a campaign in `state` may move to, each with whether it needs a reason."""
    return [(to, needs) for (origin, to), needs in TRANSITIONS.items() if origin == state]


@transaction.atomic
def campaign_state_change(
    *,
    campaign: Campaign,
    to_state: str,
    by: AbstractBaseUser | None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> CampaignStateChange:
    """Move the campaign to `to_state` if the move is allowed, and record who, when and why.

    `campaign` is updated in place. `by=None` is the server's shell (a command).
    """
    if to_state not in State.values:
        raise CampaignRefused(
            {
                "state": _("%(state)r is not a state: one of %(states)s")
                % {"state": to_state, "states": ", ".join(State.values)}
            }
        )
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    origin = locked.state
    if origin == to_state:
        raise CampaignRefused(
            {"state": _("the campaign is already %(state)s") % {"state": word(to_state)}}
        )
    words = {"from": word(origin), "to": word(to_state)}
    if (origin, to_state) not in TRANSITIONS:
        allowed = [word(to) for to, _needs in campaign_transitions(state=origin)]
        # English needs "an open" but "a locked": one sentence each, so that a translator
        # sees whole sentences.
        refusal = (
            _("an %(from)s campaign cannot become %(to)s: it can become %(allowed)s")
            if origin == State.OPEN
            else _("a %(from)s campaign cannot become %(to)s: it can become %(allowed)s")
        )
        raise CampaignRefused({"state": refusal % {**words, "allowed": either(allowed)}})
    reason = (reason or "").strip()
    if TRANSITIONS[(origin, to_state)] and not reason:
        refusal = (
            _("moving an %(from)s campaign back to %(to)s needs a reason")
            if origin == State.OPEN
            else _("moving a %(from)s campaign back to %(to)s needs a reason")
        )
        raise CampaignRefused({"reason": refusal % words})
    locked.state = to_state
    locked.save(update_fields=["state"])
    campaign.state = to_state
    return CampaignStateChange.objects.create(
        campaign=locked,
        from_state=origin,
        to_state=to_state,
        reason=reason,
        changed_by=by,
        changed_at=_now(now),
    )


def _checked_task_text(*, title: str, instruction: str, suffix: str = "") -> tuple[str, str]:
    """Title and instruction stripped and within their lengths; `suffix` names the language's
    fields in a refusal ("" for English, "_zh_hans")."""
    title, instruction = title.strip(), instruction.strip()
    if len(title) > TITLE_MAX:
        raise CampaignRefused({f"title{suffix}": _too_long(TITLE_MAX, len(title))})
    if len(instruction) > INSTRUCTION_MAX:
        raise CampaignRefused(
            {f"instruction{suffix}": _too_long(INSTRUCTION_MAX, len(instruction))}
        )
    return title, instruction


def task_create(
    *,
    campaign: Campaign,
    number: int,
    title: str = "",
    instruction: str = "",
    title_zh_hans: str = "",
    instruction_zh_hans: str = "",
) -> Task:
    """A task known before its reference episodes arrive (key task<K>, as in the layouts).

    Its title and instruction may be given in English, in Simplified Chinese, or both.
    """
    if number < 1:
        raise CampaignRefused(
            {"number": _("a task number is positive, not %(number)s") % {"number": number}}
        )
    title, instruction = _checked_task_text(title=title, instruction=instruction)
    title_zh_hans, instruction_zh_hans = _checked_task_text(
        title=title_zh_hans, instruction=instruction_zh_hans, suffix="_zh_hans"
    )
    key = f"task{number}"
    if Task.objects.filter(campaign=campaign, key=key).exists():
        raise CampaignRefused({"number": _("the campaign already has %(task)s") % {"task": key}})
    return Task.objects.create(
        campaign=campaign,
        key=key,
        number=number,
        title=title,
        instruction=instruction,
        title_zh_hans=title_zh_hans,
        instruction_zh_hans=instruction_zh_hans,
    )


def task_update(
    *,
    task: Task,
    title: str | None = None,
    instruction: str | None = None,
    title_zh_hans: str | None = None,
    instruction_zh_hans: str | None = None,
) -> Task:
    """Change a task's title or instruction, in either language (None keeps it)."""
    checked_title, checked_instruction = _checked_task_text(
        title=task.title if title is None else title,
        instruction=task.instruction if instruction is None else instruction,
    )
    checked_title_zh, checked_instruction_zh = _checked_task_text(
        title=task.title_zh_hans if title_zh_hans is None else title_zh_hans,
        instruction=task.instruction_zh_hans
        if instruction_zh_hans is None
        else instruction_zh_hans,
        suffix="_zh_hans",
    )
    task.title, task.instruction = checked_title, checked_instruction
    task.title_zh_hans, task.instruction_zh_hans = checked_title_zh, checked_instruction_zh
    task.save(update_fields=["title", "instruction", "title_zh_hans", "instruction_zh_hans"])
    return task


TASKS_CSV_COLUMNS = ("task", "title", "instruction")
# The same texts in Simplified Chinese, in columns a file may add (a column left out keeps
# what the task has).
TASKS_CSV_ZH_COLUMNS = ("title_zh_hans", "instruction_zh_hans")
_TASK_CELL = re.compile(r"(?:task)?([0-9]+)", re.IGNORECASE)


@dataclass(frozen=True)
class TaskRow:
    line: int
    number: int
    title: str
    instruction: str
    title_zh_hans: str | None = None  # None: the file has no such column
    instruction_zh_hans: str | None = None


@dataclass(frozen=True)
class TasksImportResult:
    created: list[str]
    updated: list[str]


class TasksCsvError(CampaignRefused):
    """A tasks file that cannot be read; the message names the line and the column."""

    def __init__(self, message: str, *, line: int, column: str | None = None):
        where = {"line": line, "column": column, "message": message}
        if column:
            super().__init__(_("line %(line)s, column %(column)s: %(message)s") % where)
        else:
            super().__init__(_("line %(line)s: %(message)s") % where)
        self.line, self.column = line, column


def _tasks_csv_header(header: list[str]) -> list[str]:
    """The column names of a tasks file, checked: task, title and instruction, and either
    Chinese column, in any order, each once."""
    names = [name.strip().lower() for name in header]
    known = TASKS_CSV_COLUMNS + TASKS_CSV_ZH_COLUMNS
    if (
        not set(TASKS_CSV_COLUMNS) <= set(names)
        or not set(names) <= set(known)
        or len(set(names)) != len(names)
    ):
        raise TasksCsvError(
            _(
                "the header must be task,title,instruction, optionally with "
                "title_zh_hans,instruction_zh_hans, not %(header)s"
            )
            % {"header": ",".join(header)},
            line=1,
        )
    return names


def tasks_csv_parse(text: str) -> list[TaskRow]:
    """The rows of a `task,title,instruction[,title_zh_hans,instruction_zh_hans]` file,
    checked; the first problem is raised."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise TasksCsvError(
                _("the file is empty: it needs the header task,title,instruction"), line=1
            )
        names = _tasks_csv_header(header)
        rows: list[TaskRow] = []
        seen: dict[int, int] = {}
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(names):
                raise TasksCsvError(
                    _("%(expected)s columns expected, %(n)s found")
                    % {"expected": len(names), "n": len(cells)},
                    line=line,
                )
            row = dict(zip(names, (cell.strip() for cell in cells), strict=True))
            task = row["task"]
            match = _TASK_CELL.fullmatch(task)
            if match is None or int(match.group(1)) < 1:
                raise TasksCsvError(
                    _("%(task)r is not a task: write its number K or task<K>, K from 1")
                    % {"task": task},
                    line=line,
                    column="task",
                )
            number = int(match.group(1))
            if number in seen:
                raise TasksCsvError(
                    _("task%(number)s also appears on line %(line)s")
                    % {"number": number, "line": seen[number]},
                    line=line,
                    column="task",
                )
            seen[number] = line
            for column in names:
                limit = TITLE_MAX if column.startswith("title") else INSTRUCTION_MAX
                if column != "task" and len(row[column]) > limit:
                    raise TasksCsvError(
                        _too_long(limit, len(row[column])), line=line, column=column
                    )
            rows.append(
                TaskRow(
                    line,
                    number,
                    row["title"],
                    row["instruction"],
                    row.get("title_zh_hans"),
                    row.get("instruction_zh_hans"),
                )
            )
    except csv.Error as exc:
        raise TasksCsvError(
            _("not a readable CSV row (%(error)s)") % {"error": exc}, line=reader.line_num
        ) from exc
    return rows


def tasks_csv_decode(data: bytes) -> str:
    """The file's text, or the line that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TasksCsvError(_("the file is not UTF-8 text"), line=line) from exc


@transaction.atomic
def tasks_import(*, campaign: Campaign, data: bytes) -> TasksImportResult:
    """Create or update the campaign's tasks from a tasks CSV (:func:`tasks_csv_parse`), all
    or nothing."""
    rows = tasks_csv_parse(tasks_csv_decode(data))
    existing = {task.number: task for task in Task.objects.filter(campaign=campaign)}
    created, updated = [], []
    for row in rows:
        texts = {
            "title": row.title,
            "instruction": row.instruction,
            "title_zh_hans": row.title_zh_hans,
            "instruction_zh_hans": row.instruction_zh_hans,
        }
        task = existing.get(row.number)
        if task is None:
            given = {name: text for name, text in texts.items() if text is not None}
            task = task_create(campaign=campaign, number=row.number, **given)
            created.append(task.key)
        elif any(text is not None and text != getattr(task, name) for name, text in texts.items()):
            task_update(task=task, **texts)
            updated.append(task.key)
    return TasksImportResult(created=created, updated=updated)


GUIDELINE_MAX = 50_000


def guideline_save(
    *,
    campaign: Campaign,
    text: str,
    by: AbstractBaseUser | None,
    language: str = Guideline.Language.EN,
    now: dt.datetime | None = None,
) -> Guideline:
    """Replace the campaign's guideline in one language."""
    if language not in Guideline.Language.values:
        raise CampaignRefused(
            {
                "language": _("%(language)r is not one of %(languages)s")
                % {"language": language, "languages": ", ".join(Guideline.Language.values)}
            }
        )
    text = text.strip()
    if not text:
        raise CampaignRefused({"text": _("a guideline cannot be empty")})
    if len(text) > GUIDELINE_MAX:
        raise CampaignRefused({"text": _too_long(GUIDELINE_MAX, len(text))})
    guideline, _created = Guideline.objects.update_or_create(
        campaign=campaign,
        language=language,
        defaults={"text": text, "updated_by": by, "updated_at": _now(now)},
    )
    return guideline

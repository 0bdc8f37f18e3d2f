"""People: accounts, their role in a campaign, and one-time links to set a password.

Roles, per campaign (the import command's help and the people page say the same):

- ``organizer``: a staff account. Organizes every campaign, never rates, is in no team.
- ``annotator``: on the campaign's roster, which the planner draws raters from. With a
  team, also a member of that team, so the planner never gives them their own team's
  clips.
- ``team``: a member of the named team (required), not on the roster: someone of a
  participating team.

A person is in at most one team of a campaign: setting a team moves them out of the
other. A team the campaign does not have yet is created.

New accounts have no usable password; they get an invitation link to set their own.
The link is Django's password-reset token: it hashes the password, so it works once and
a newer link voids older ones, and it expires after ``PASSWORD_RESET_TIMEOUT``. It is
mailed when ``settings.INVITATION_EMAIL`` is on, and always returned to the caller to
show once. The token is never stored; an ``Invitation`` row records who issued which
kind of link, until when, and whether it was used.

``by`` is the organizer acting; a command run from the server's shell passes
``by=None``: shell access already outranks any web role.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from annotate.languages import stored_language
from annotate.models import Assignment, Campaign, Invitation, Team

logger = logging.getLogger(__name__)
User = get_user_model()

ROLES = ("organizer", "annotator", "team")
COLUMNS = ("username", "email", "role", "team")
MAX_USERNAME = 150
MAX_EMAIL = 254
MAX_TEAM = 100


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Django's password-reset token under its own salt, with an injectable clock."""

    key_salt = "refscore.people.InvitationTokenGenerator"

    def __init__(self, now: dt.datetime | None = None) -> None:
        super().__init__()
        self.fixed_now = now

    def _now(self) -> dt.datetime:
        # Naive UTC on both sides (make and check), whatever the server's local zone.
        now = self.fixed_now or timezone.now()
        return now.astimezone(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where (line and column of a CSV) and what."""

    column: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = {"line": self.line, "column": self.column, "message": self.message}
        if self.line:
            return _("line %(line)s, column %(column)s: %(message)s") % where
        return f"{self.column}: {self.message}" if self.column else self.message


class PeopleError(Exception):
    """Bad input or a refused change; nothing was written. Messages in the reader's language."""

    def __init__(self, problems: Sequence[Problem | str]) -> None:
        self.problems = tuple(
            p if isinstance(p, Problem) else Problem(column="", message=p) for p in problems
        )
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class InvitationLink:
    username: str
    email: str
    kind: str
    url: str
    expires_at: dt.datetime
    emailed: bool


@dataclass(frozen=True)
class PersonImported:
    line: int
    username: str
    email: str
    role: str
    team: str
    created: bool  # a new, invited account; otherwise an existing one given the role
    link: InvitationLink | None


@dataclass(frozen=True)
class PeopleImportResult:
    people: tuple[PersonImported, ...]
    teams_created: tuple[str, ...]
    dry_run: bool


@dataclass(frozen=True)
class _Row:
    line: int | None
    username: str
    email: str
    role: str
    team: str


def _longer_than(limit: int) -> str:
    return _("longer than %(limit)s characters") % {"limit": limit}


# --- permissions -----------------------------------------------------------------------


def _require_organizer(by) -> None:
    if by is not None and not (by.is_active and by.is_staff):
        raise PermissionDenied("only organizers may manage people")


def _require_may_manage(*, by, user) -> None:
    _require_organizer(by)
    # The same rule as for API tokens: an organizer must not take over an administrator.
    if by is not None and user.is_superuser and not by.is_superuser:
        raise PermissionDenied("only an administrator may manage an administrator's account")


# --- reading and checking rows -----------------------------------------------------------


def _parse_csv(text: str) -> tuple[list[_Row], list[Problem]]:
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    problems: list[Problem] = []
    rows: list[_Row] = []
    try:
        header = next(reader, None)
        if header is None:
            return [], [
                Problem(
                    "username",
                    _("the file is empty: expected the header %(header)s")
                    % {"header": ",".join(COLUMNS)},
                    line=1,
                )
            ]
        names = [name.strip().lower() for name in header]
        unknown = [name for name in names if name not in COLUMNS]
        missing = [name for name in COLUMNS if name not in names]
        if unknown or missing or len(set(names)) != len(names):
            return [], [
                Problem(
                    (unknown or missing or names)[0],
                    _("expected the header %(header)s, got %(got)s")
                    % {"header": ",".join(COLUMNS), "got": ",".join(names)},
                    line=1,
                )
            ]
        end = reader.line_num
        for record in reader:
            line, end = end + 1, reader.line_num
            if not any(field.strip() for field in record):
                continue
            if len(record) != len(names):
                problems.append(
                    Problem(
                        names[len(record)] if len(record) < len(names) else names[-1],
                        _("expected %(n)s fields, got %(got)s")
                        % {"n": len(names), "got": len(record)},
                        line=line,
                    )
                )
                continue
            values = dict(zip(names, (field.strip() for field in record), strict=True))
            rows.append(_Row(line=line, **values))
    except csv.Error as exc:
        problems.append(
            Problem(
                "username",
                _("not a readable CSV: %(error)s") % {"error": exc},
                line=reader.line_num,
            )
        )
    return rows, problems


def _check_row(row: _Row) -> tuple[_Row, list[Problem]]:
    """The row's own fields, normalized; problems name its line and column."""
    problems = []

    def problem(column: str, message: str) -> None:
        problems.append(Problem(column, message, line=row.line))

    if not row.username:
        problem("username", _("empty"))
    elif len(row.username) > MAX_USERNAME:
        problem("username", _longer_than(MAX_USERNAME))
    else:
        try:
            UnicodeUsernameValidator()(row.username)
        except ValidationError as exc:
            problem("username", f"{row.username!r}: {' '.join(exc.messages)}")
    email = BaseUserManager.normalize_email(row.email)
    if email:
        try:
            if len(email) > MAX_EMAIL:
                raise ValidationError(_longer_than(MAX_EMAIL))
            validate_email(email)
        except ValidationError as exc:
            problem("email", f"{email!r}: {' '.join(exc.messages)}")
    role = row.role.lower()
    if role not in ROLES:
        problem(
            "role",
            _("unknown role %(role)r (one of %(roles)s)")
            % {"role": row.role, "roles": ", ".join(ROLES)},
        )
    if role == "team" and not row.team:
        problem("team", _("a team member needs a team"))
    if role == "organizer" and row.team:
        problem("team", _("organizers are in no team"))
    if len(row.team) > MAX_TEAM:
        problem("team", _longer_than(MAX_TEAM))
    return _Row(row.line, row.username, email, role, row.team), problems


def _check_rows(rows: Sequence[_Row]) -> tuple[list[_Row], list[Problem]]:
    """Each row, then duplicates within the file, then the rows against existing accounts."""
    checked, problems = [], []
    for row in rows:
        row, found = _check_row(row)
        checked.append(row)
        problems.extend(found)
    seen_names: dict[str, int | None] = {}
    seen_emails: dict[str, int | None] = {}
    for row in checked:
        if row.username in seen_names:
            problems.append(
                Problem(
                    "username",
                    _("%(value)r also on line %(line)s")
                    % {"value": row.username, "line": seen_names[row.username]},
                    line=row.line,
                )
            )
        seen_names.setdefault(row.username, row.line)
        if row.email:
            if row.email.lower() in seen_emails:
                problems.append(
                    Problem(
                        "email",
                        _("%(value)r also on line %(line)s")
                        % {"value": row.email, "line": seen_emails[row.email.lower()]},
                        line=row.line,
                    )
                )
            seen_emails.setdefault(row.email.lower(), row.line)
    existing = {u.username: u for u in User.objects.filter(username__in=seen_names)}
    for row in checked:
        user = existing.get(row.username)
        if user is None:
            if row.email:
                other = User.objects.filter(email__iexact=row.email).first()
                if other is not None:
                    problems.append(
                        Problem(
                            "email",
                            _("%(email)r is already the email of %(user)r")
                            % {"email": row.email, "user": other.username},
                            line=row.line,
                        )
                    )
            continue
        problems.extend(_check_existing(row, user))
    return checked, problems


def _check_existing(row: _Row, user) -> list[Problem]:
    """An existing account is given the row's role; it is never promoted or renamed."""

    def problem(column: str, message: str) -> Problem:
        values = {"user": row.username, "email": user.email or _("none")}
        return Problem(column, message % values, line=row.line)

    if not user.is_active:
        return [problem("username", _("%(user)r exists and is deactivated: reactivate it first"))]
    if row.email and row.email.lower() != (user.email or "").lower():
        return [problem("email", _("%(user)r exists and has another email (%(email)s)"))]
    if row.role == "organizer" and not user.is_staff:
        return [
            problem(
                "role",
                _("%(user)r exists and is not an organizer: an import never promotes an account"),
            )
        ]
    if row.role in ("annotator", "team") and user.is_staff:
        return [
            problem(
                "role",
                _("%(user)r exists and is an organizer: organizers neither rate nor join teams"),
            )
        ]
    return []


# --- writing -----------------------------------------------------------------------------


def _team_set(*, campaign: Campaign, user, team_name: str) -> bool:
    """Put the user in that team of the campaign only; returns whether it was created."""
    current = Team.objects.filter(campaign=campaign, members=user)
    if team_name:
        team, created = Team.objects.get_or_create(campaign=campaign, name=team_name)
        open_work = Assignment.objects.filter(
            campaign=campaign, annotator=user, clip__submission__team=team
        ).exclude(status=Assignment.Status.DONE)
        if open_work.exists():
            raise PeopleError(
                [
                    Problem(
                        "team",
                        _(
                            "%(user)r holds %(n)s open assignments on the clips of team "
                            "%(team)r: move them to another annotator first"
                        )
                        % {"user": user.username, "n": open_work.count(), "team": team_name},
                    )
                ]
            )
        for other in current.exclude(pk=team.pk):
            other.members.remove(user)
        team.members.add(user)
        return created
    for other in current:
        other.members.remove(user)
    return False


def _apply_role(*, campaign: Campaign, user, row: _Row) -> None:
    if row.role == "annotator":
        campaign.annotators.add(user)
    if row.role in ("annotator", "team") and row.team:
        _team_set(campaign=campaign, user=user, team_name=row.team)


def _issue(*, user, kind: str, by, base_url: str, now: dt.datetime | None) -> InvitationLink:
    """A new link for the user; its mail, if any, goes out once the transaction commits."""
    issued_at = now or timezone.now()
    token = InvitationTokenGenerator(now=issued_at).make_token(user)
    path = reverse(
        "invitation-accept",
        kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": token},
    )
    emailed = bool(settings.INVITATION_EMAIL and user.email)
    invitation = Invitation.objects.create(
        user=user,
        kind=kind,
        created_by=by,
        created_at=issued_at,
        expires_at=issued_at + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
        emailed=emailed,
    )
    link = InvitationLink(
        username=user.username,
        email=user.email,
        kind=kind,
        url=base_url.rstrip("/") + path,
        expires_at=invitation.expires_at,
        emailed=emailed,
    )
    if emailed:
        chosen = stored_language(user=user)
        languages = [chosen] if chosen else MAIL_LANGUAGES
        transaction.on_commit(
            lambda: _send(invitation_id=invitation.pk, link=link, languages=languages)
        )
    return link


# A person who has not chosen a language yet reads the mail in both, English first.
MAIL_LANGUAGES = ["en", "zh-hans"]
SUBJECTS = {
    Invitation.Kind.INVITE: gettext_lazy("Your refscore account"),
    Invitation.Kind.RESET: gettext_lazy("Set a new refscore password"),
}


def invitation_mail(*, link: InvitationLink, languages: Sequence[str]) -> tuple[str, str]:
    """The subject and body of the mail that carries `link`, in each of `languages`."""
    subjects, bodies = [], []
    for language in languages:
        with translation.override(language):
            subjects.append(str(SUBJECTS[link.kind]))
            bodies.append(
                _(
                    "Hello %(user)s,\n\n"
                    "Set your password for refscore (user name %(user)s) here:\n\n"
                    "%(url)s\n\n"
                    "The link works once, until %(expires)s UTC.\n"
                )
                % {
                    "user": link.username,
                    "url": link.url,
                    "expires": f"{link.expires_at:%Y-%m-%d %H:%M}",
                }
            )
    return " / ".join(subjects), "\n\n".join(bodies)


def _send(*, invitation_id: int, link: InvitationLink, languages: Sequence[str]) -> None:
    """Mail the link; one that cannot be sent is marked so, the page still shows it."""
    subject, body = invitation_mail(link=link, languages=languages)
    message = EmailMessage(subject, body, to=[link.email], connection=get_connection())
    try:
        message.send()
    except Exception:  # noqa: BLE001 - a mail server down must not undo the accounts
        logger.exception("could not mail the %s link of %s", link.kind, link.username)
        Invitation.objects.filter(pk=invitation_id).update(emailed=False)


def _create(
    *, campaign: Campaign, row: _Row, by, base_url: str, now
) -> tuple[object, InvitationLink]:
    user = User.objects.create_user(
        username=row.username, email=row.email, is_staff=row.role == "organizer"
    )  # no password given: an unusable one until the invitation is accepted
    _apply_role(campaign=campaign, user=user, row=row)
    return user, _issue(user=user, kind=Invitation.Kind.INVITE, by=by, base_url=base_url, now=now)


@transaction.atomic
def people_import(
    *,
    campaign: Campaign,
    csv_text: str,
    by,
    base_url: str = "",
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> PeopleImportResult:
    """Create and invite the people of a CSV `username,email,role,team`, in one transaction.

    Every problem of the file is reported, each with its line and column, and then
    nothing is written. An existing account named in the file is given the row's role
    (its email, if given, must match); a new one is created and invited.
    """
    _require_organizer(by)
    rows, problems = _parse_csv(csv_text)
    rows, more = _check_rows(rows)
    problems += more
    if not problems and not rows:
        problems.append(Problem("username", _("no people in the file"), line=2))
    if problems:
        raise PeopleError(problems)
    existing_teams = set(Team.objects.filter(campaign=campaign).values_list("name", flat=True))
    teams_created = tuple(sorted({row.team for row in rows if row.team} - existing_teams))
    existing = {u.username: u for u in User.objects.filter(username__in=[r.username for r in rows])}
    people = []
    for row in rows:
        user = existing.get(row.username)
        link = None
        if not dry_run:
            if user is None:
                user, link = _create(campaign=campaign, row=row, by=by, base_url=base_url, now=now)
            else:
                try:
                    _apply_role(campaign=campaign, user=user, row=row)
                except PeopleError as exc:
                    raise PeopleError(
                        [Problem(p.column, p.message, line=row.line) for p in exc.problems]
                    ) from exc
        people.append(
            PersonImported(
                line=row.line or 0,
                username=row.username,
                email=row.email,
                role=row.role,
                team=row.team,
                created=row.username not in existing,
                link=link,
            )
        )
    return PeopleImportResult(people=tuple(people), teams_created=teams_created, dry_run=dry_run)


@transaction.atomic
def person_invite(
    *,
    campaign: Campaign,
    username: str,
    email: str,
    role: str,
    team: str = "",
    by,
    base_url: str = "",
    now: dt.datetime | None = None,
) -> InvitationLink:
    """Create one account with its role in the campaign and return its invitation link."""
    _require_organizer(by)
    row, problems = _check_row(
        _Row(None, username.strip(), email.strip(), role.strip(), team.strip())
    )
    if not problems:
        if User.objects.filter(username=row.username).exists():
            problems.append(
                Problem("username", _("%(user)r exists already") % {"user": row.username})
            )
        elif row.email and User.objects.filter(email__iexact=row.email).exists():
            problems.append(
                Problem("email", _("%(email)r is already someone's email") % {"email": row.email})
            )
    if problems:
        raise PeopleError(problems)
    _user, link = _create(campaign=campaign, row=row, by=by, base_url=base_url, now=now)
    return link


@transaction.atomic
def person_password_reset(
    *, user, by, base_url: str = "", now: dt.datetime | None = None
) -> InvitationLink:
    """Void the password and every earlier link, and issue a new one-time link."""
    _require_may_manage(by=by, user=user)
    if not user.is_active:
        raise PeopleError(
            [Problem("username", _("%(user)r is deactivated") % {"user": user.username})]
        )
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return _issue(user=user, kind=Invitation.Kind.RESET, by=by, base_url=base_url, now=now)


def person_deactivate(*, user, by) -> None:
    """Sign the person out everywhere: sessions, API token and links stop working."""
    _require_may_manage(by=by, user=user)
    if by is not None and by.pk == user.pk:
        raise PeopleError([Problem("username", _("you cannot deactivate yourself"))])
    user.is_active = False
    user.save(update_fields=["is_active"])


def person_reactivate(*, user, by) -> None:
    _require_may_manage(by=by, user=user)
    user.is_active = True
    user.save(update_fields=["is_active"])


@transaction.atomic
def person_team_set(*, campaign: Campaign, user, team: str, by) -> bool:
    """Make the person a member of that team of the campaign only ('' for none).

    Returns whether the team was created. Refused for organizers, and while the
    person holds open work on the team's clips (the planner's own-team rule).
    """
    _require_organizer(by)
    team = team.strip()
    if team and user.is_staff:
        raise PeopleError([Problem("team", _("organizers are in no team"))])
    if len(team) > MAX_TEAM:
        raise PeopleError([Problem("team", _longer_than(MAX_TEAM))])
    return _team_set(campaign=campaign, user=user, team_name=team)


@transaction.atomic
def invitation_accept(*, user, password: str, now: dt.datetime | None = None) -> None:
    """Set the password chosen through a link (already checked) and mark the link used."""
    user.set_password(password)
    user.save(update_fields=["password"])
    latest = Invitation.objects.filter(user=user, used_at__isnull=True).first()
    if latest is not None:
        latest.used_at = now or timezone.now()
        latest.save(update_fields=["used_at"])

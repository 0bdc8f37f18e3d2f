"""People: CSV import, invitations, resets, deactivation, teams, and the command."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.utils import timezone

from annotate.languages import language_store
from annotate.models import Invitation, Team
from annotate.services import (
    PeopleError,
    people_import,
    person_deactivate,
    person_invite,
    person_password_reset,
    person_reactivate,
    person_team_set,
)
from annotate.services.people import InvitationTokenGenerator
from tests.factories import AssignmentFactory, ClipFactory, SubmissionFactory, TeamFactory

pytestmark = pytest.mark.django_db
User = get_user_model()
BASE = "https://refscore.example.org"

GOOD = """username,email,role,team
olga,olga@example.org,organizer,
ann,ann@example.org,annotator,
bob,Bob@EXAMPLE.org,annotator,red
tess,,team,red
tom,tom@example.org,team,blue
"""


def messages(exc: pytest.ExceptionInfo) -> list[str]:
    return [str(problem) for problem in exc.value.problems]


def signs_in(client, username: str, password: str) -> bool:
    """Through the login form, as a person would."""
    response = client.post("/accounts/login/", {"username": username, "password": password})
    client.logout()
    return response.status_code == 302


def test_a_good_file_creates_invites_and_gives_each_role(campaign, organizer):
    TeamFactory(campaign=campaign, name="blue")
    result = people_import(campaign=campaign, csv_text=GOOD, by=organizer, base_url=BASE)

    assert [(p.line, p.username, p.created) for p in result.people] == [
        (2, "olga", True),
        (3, "ann", True),
        (4, "bob", True),
        (5, "tess", True),
        (6, "tom", True),
    ]
    assert result.teams_created == ("red",)
    users = {u.username: u for u in User.objects.exclude(pk=organizer.pk)}
    assert users["olga"].is_staff and not users["ann"].is_staff
    assert users["bob"].email == "Bob@example.org"  # the domain part normalized, as Django does
    assert set(campaign.annotators.values_list("username", flat=True)) == {"ann", "bob"}
    members = {
        t.name: set(t.members.values_list("username", flat=True)) for t in campaign.teams.all()
    }
    assert members == {"red": {"bob", "tess"}, "blue": {"tom"}}
    assert not any(user.has_usable_password() for user in users.values())
    assert [p.link.url.startswith(f"{BASE}/accounts/invitation/") for p in result.people] == [
        True
    ] * 5
    assert Invitation.objects.filter(kind="invite", created_by=organizer).count() == 5


def test_every_bad_line_is_named_with_its_column_and_nothing_is_written(campaign, organizer):
    text = (
        "username,email,role,team\n"
        "ann,ann@example.org,annotator,\n"  # fine, but not written either
        "carl,carl@example.org,admin,\n"
        "dora,not-an-email,annotator,\n"
        "eve,eve@example.org,team,\n"
        "bad name!,x@example.org,annotator,\n"
        "olga,olga@example.org,organizer,red\n"
        "short,s@example.org\n"
    )
    users_before = User.objects.count()
    with pytest.raises(PeopleError) as exc:
        people_import(campaign=campaign, csv_text=text, by=organizer, base_url=BASE)
    assert messages(exc) == [
        "line 8, column role: expected 4 fields, got 2",
        "line 3, column role: unknown role 'admin' (one of organizer, annotator, team)",
        "line 4, column email: 'not-an-email': Enter a valid email address.",
        "line 5, column team: a team member needs a team",
        "line 6, column username: 'bad name!': Enter a valid username. This value may contain "
        "only letters, numbers, and @/./+/-/_ characters.",
        "line 7, column team: organizers are in no team",
    ]
    assert User.objects.count() == users_before
    assert not Team.objects.exists() and not campaign.annotators.exists()
    assert not Invitation.objects.exists()


def test_duplicate_rows_name_both_lines(campaign, organizer):
    text = (
        "username,email,role,team\n"
        "ann,ann@example.org,annotator,\n"
        "bob,ANN@example.org,annotator,\n"
        "ann,ann2@example.org,team,red\n"
    )
    with pytest.raises(PeopleError) as exc:
        people_import(campaign=campaign, csv_text=text, by=organizer, base_url=BASE)
    assert messages(exc) == [
        "line 3, column email: 'ANN@example.org' also on line 2",
        "line 4, column username: 'ann' also on line 2",
    ]
    assert not User.objects.filter(username__in=["ann", "bob"]).exists()


def test_the_header_must_name_the_four_columns(campaign, organizer):
    with pytest.raises(PeopleError) as exc:
        people_import(
            campaign=campaign, csv_text="user,email,role,team\nann,,annotator,\n", by=organizer
        )
    assert messages(exc) == [
        "line 1, column user: expected the header username,email,role,team, got user,email,role,team"
    ]
    with pytest.raises(PeopleError) as exc:
        people_import(campaign=campaign, csv_text="username,email,role,team\n", by=organizer)
    assert messages(exc) == ["line 2, column username: no people in the file"]


def test_columns_may_come_in_any_order_and_a_record_may_span_lines(campaign, organizer):
    text = (
        "team,role,username,email\n"
        '"red",annotator,ann,ann@example.org\n'
        ',annotator,bob,"bob@\nexample.org"\n'  # one record on lines 3 and 4
        ",annotator,cy,cy\n"
    )
    with pytest.raises(PeopleError) as exc:
        people_import(campaign=campaign, csv_text=text, by=organizer)
    assert messages(exc) == [
        "line 3, column email: 'bob@\\nexample.org': Enter a valid email address.",
        "line 5, column email: 'cy': Enter a valid email address.",
    ]
    result = people_import(
        campaign=campaign, csv_text=text.split(",annotator,bob")[0], by=organizer
    )
    assert [(p.username, p.role, p.team) for p in result.people] == [("ann", "annotator", "red")]


def test_existing_accounts_get_the_role_but_are_never_promoted_or_rematched(
    campaign, organizer, annotator
):
    text = "username,email,role,team\nann1,,annotator,red\n"
    result = people_import(campaign=campaign, csv_text=text, by=organizer, base_url=BASE)
    assert [(p.username, p.created, p.link) for p in result.people] == [("ann1", False, None)]
    assert annotator in campaign.annotators.all()
    assert list(annotator.teams.values_list("name", flat=True)) == ["red"]
    assert annotator.has_usable_password()  # their password is untouched

    bad = (
        "username,email,role,team\n"
        "ann1,other@example.org,annotator,\n"
        "organizer,,annotator,\n"
        "ann1x,,organizer,\n"
    )
    User.objects.create_user("ann1x", email="x@example.org")
    with pytest.raises(PeopleError) as exc:
        people_import(campaign=campaign, csv_text=bad, by=organizer)
    assert messages(exc) == [
        "line 2, column email: 'ann1' exists and has another email (none)",
        "line 3, column role: 'organizer' exists and is an organizer: organizers neither rate "
        "nor join teams",
        "line 4, column role: 'ann1x' exists and is not an organizer: an import never promotes "
        "an account",
    ]
    assert not User.objects.get(username="ann1x").is_staff


def test_a_new_account_may_not_take_someone_elses_email(campaign, organizer, annotator):
    annotator.email = "ann1@example.org"
    annotator.save()
    with pytest.raises(PeopleError) as exc:
        people_import(
            campaign=campaign,
            csv_text="username,email,role,team\nnew,ANN1@example.org,annotator,\n",
            by=organizer,
        )
    assert messages(exc) == [
        "line 2, column email: 'ANN1@example.org' is already the email of 'ann1'"
    ]


def test_a_failure_while_writing_undoes_the_rows_written_before_it(campaign, organizer, annotator):
    """ann1 holds open work on red's clips: joining red is refused at line 3, after line 2."""
    red = TeamFactory(campaign=campaign, name="red")
    AssignmentFactory(annotator=annotator, clip=ClipFactory(submission=SubmissionFactory(team=red)))
    text = "username,email,role,team\nfresh,fresh@example.org,annotator,blue\nann1,,team,red\n"
    with pytest.raises(PeopleError) as exc:
        people_import(campaign=campaign, csv_text=text, by=organizer)
    assert messages(exc) == [
        "line 3, column team: 'ann1' holds 1 open assignments on the clips of team 'red': "
        "move them to another annotator first"
    ]
    assert not User.objects.filter(username="fresh").exists()
    assert not Team.objects.filter(name="blue").exists()
    assert not Invitation.objects.exists()


def test_a_dry_run_reports_and_writes_nothing(campaign, organizer):
    result = people_import(campaign=campaign, csv_text=GOOD, by=organizer, dry_run=True)
    assert result.dry_run and result.teams_created == ("blue", "red")
    assert [p.created for p in result.people] == [True] * 5
    assert all(p.link is None for p in result.people)
    assert User.objects.count() == 1 and not Team.objects.exists()


def test_only_organizers_import_or_invite(campaign, annotator):
    with pytest.raises(PermissionDenied):
        people_import(campaign=campaign, csv_text=GOOD, by=annotator)
    with pytest.raises(PermissionDenied):
        person_invite(campaign=campaign, username="x", email="", role="annotator", by=annotator)


def test_invite_one_checks_like_a_row(campaign, organizer, annotator):
    link = person_invite(
        campaign=campaign,
        username="zoe",
        email="zoe@example.org",
        role="annotator",
        team="red",
        by=organizer,
        base_url=BASE,
    )
    zoe = User.objects.get(username="zoe")
    assert link.username == "zoe" and link.kind == "invite" and not link.emailed
    assert zoe in campaign.annotators.all() and zoe.teams.get().name == "red"
    with pytest.raises(PeopleError) as exc:
        person_invite(campaign=campaign, username="ann1", email="", role="team", by=organizer)
    assert messages(exc) == ["team: a team member needs a team"]
    with pytest.raises(PeopleError) as exc:
        person_invite(campaign=campaign, username="ann1", email="", role="annotator", by=organizer)
    assert messages(exc) == ["username: 'ann1' exists already"]


# --- the token ---------------------------------------------------------------------------


def test_a_token_expires_after_the_timeout_and_dies_with_the_password(settings, annotator):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    issued = timezone.now()
    token = InvitationTokenGenerator(now=issued).make_token(annotator)
    at = lambda seconds: InvitationTokenGenerator(now=issued + dt.timedelta(seconds=seconds))  # noqa: E731
    assert at(3599).check_token(annotator, token)
    assert not at(3601).check_token(annotator, token)
    annotator.set_password("a-new-password")
    assert not at(10).check_token(annotator, token)


def test_an_invitation_token_is_not_a_password_reset_token(annotator):
    from django.contrib.auth.tokens import default_token_generator

    token = InvitationTokenGenerator().make_token(annotator)
    assert not default_token_generator.check_token(annotator, token)


# --- resets, deactivation, teams ---------------------------------------------------------


def test_a_reset_voids_the_password_and_earlier_links(campaign, organizer, annotator):
    first = person_password_reset(user=annotator, by=organizer, base_url=BASE)
    token = first.url.rstrip("/").rsplit("/", 1)[1]
    assert InvitationTokenGenerator().check_token(annotator, token)
    annotator.refresh_from_db()
    assert not annotator.check_password("pw-annotator-1")
    second = person_password_reset(user=annotator, by=organizer, base_url=BASE)
    annotator.refresh_from_db()
    assert second.url != first.url
    assert not InvitationTokenGenerator().check_token(annotator, token)
    assert Invitation.objects.filter(user=annotator, kind="reset").count() == 2


def test_an_organizer_may_not_reset_or_deactivate_an_administrator(organizer):
    root = User.objects.create_superuser("root", password="pw")
    with pytest.raises(PermissionDenied):
        person_password_reset(user=root, by=organizer)
    with pytest.raises(PermissionDenied):
        person_deactivate(user=root, by=organizer)
    root.refresh_from_db()
    assert root.is_active and root.check_password("pw")
    person_password_reset(user=organizer, by=root)  # an administrator may


def test_deactivation_stops_sign_in_and_an_organizer_cannot_deactivate_themselves(
    client, organizer, annotator
):
    person_deactivate(user=annotator, by=organizer)
    assert not signs_in(client, "ann1", "pw-annotator-1")
    with pytest.raises(PeopleError) as exc:
        person_deactivate(user=organizer, by=organizer)
    assert messages(exc) == ["username: you cannot deactivate yourself"]
    with pytest.raises(PeopleError):
        person_password_reset(user=annotator, by=organizer)
    person_reactivate(user=annotator, by=organizer)
    assert signs_in(client, "ann1", "pw-annotator-1")


def test_a_person_is_in_one_team_per_campaign(campaign, organizer, annotator):
    other_campaign_team = TeamFactory(name="red")
    other_campaign_team.members.add(annotator)
    assert person_team_set(campaign=campaign, user=annotator, team="red", by=organizer)
    assert not person_team_set(campaign=campaign, user=annotator, team="red", by=organizer)
    assert person_team_set(campaign=campaign, user=annotator, team="blue", by=organizer)
    assert list(Team.objects.filter(campaign=campaign, members=annotator)) == [
        Team.objects.get(campaign=campaign, name="blue")
    ]
    assert annotator in other_campaign_team.members.all()  # another campaign's team stays
    person_team_set(campaign=campaign, user=annotator, team="", by=organizer)
    assert not Team.objects.filter(campaign=campaign, members=annotator).exists()
    with pytest.raises(PeopleError):
        person_team_set(campaign=campaign, user=organizer, team="red", by=organizer)


# --- mail --------------------------------------------------------------------------------


def test_links_are_mailed_once_committed_when_mail_is_configured(
    settings, campaign, organizer, mailoutbox, django_capture_on_commit_callbacks
):
    settings.INVITATION_EMAIL = True
    with django_capture_on_commit_callbacks(execute=True):
        result = people_import(campaign=campaign, csv_text=GOOD, by=organizer, base_url=BASE)
    mailed = {p.username: p.link for p in result.people if p.link.emailed}
    assert set(mailed) == {"olga", "ann", "bob", "tom"}  # tess has no email
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        ["olga@example.org", "ann@example.org", "Bob@example.org", "tom@example.org"]
    )
    ann_mail = next(m for m in mailoutbox if m.to == ["ann@example.org"])
    # Nobody has chosen a language yet: the mail says it in both, English first.
    assert ann_mail.subject == "Your refscore account / 您的 refscore 账户"
    assert ann_mail.body.startswith("Hello ann,") and "\n\nann，您好" in ann_mail.body
    assert ann_mail.body.count(mailed["ann"].url) == 2


def test_a_reset_mail_speaks_the_language_the_person_chose(
    settings, annotator, organizer, mailoutbox, django_capture_on_commit_callbacks
):
    settings.INVITATION_EMAIL = True
    annotator.email = "ann@example.org"
    annotator.save()
    language_store(user=annotator, language="zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        link = person_password_reset(user=annotator, by=organizer, base_url=BASE)
    (mail,) = mailoutbox
    assert mail.subject == "设置新的 refscore 密码"
    assert mail.body.startswith(f"{annotator.username}，您好") and link.url in mail.body
    assert "Hello" not in mail.body


def test_no_mail_without_configuration_nor_for_a_rolled_back_import(
    settings, campaign, organizer, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = people_import(campaign=campaign, csv_text=GOOD, by=organizer)
    assert mailoutbox == [] and not any(p.link.emailed for p in result.people)
    settings.INVITATION_EMAIL = True
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PeopleError):
        people_import(campaign=campaign, csv_text=GOOD.replace("team,red", "x,red"), by=organizer)
    assert mailoutbox == []


# --- the command -------------------------------------------------------------------------


def test_the_command_imports_and_prints_the_links(tmp_path, settings, campaign):
    settings.SITE_URL = "https://rs.example.org"
    path = tmp_path / "people.csv"
    path.write_text(GOOD, encoding="utf-8")
    out = StringIO()
    call_command("people_import", "cvpr", str(path), "--dry-run", stdout=out)
    assert "would import 5 people (5 new, 0 existing)" in out.getvalue()
    assert not User.objects.exists()
    out = StringIO()
    call_command("people_import", "cvpr", str(path), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "imported 5 people (5 new, 0 existing)"
    assert lines[1] == "created teams: blue, red"
    assert lines[2].split() == ["username", "mailed", "expires", "(UTC)", "link"]
    assert [line.split()[0] for line in lines[3:]] == ["olga", "ann", "bob", "tess", "tom"]
    assert all("https://rs.example.org/accounts/invitation/" in line for line in lines[3:])


def test_the_command_names_each_bad_line_and_writes_nothing(tmp_path, campaign):
    path = tmp_path / "people.csv"
    path.write_text("username,email,role,team\nann,,annotator,\nann,,boss,\n", encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="nothing imported: 2 problem"):
        call_command("people_import", "cvpr", str(path), stderr=err)
    assert err.getvalue().splitlines() == [
        "line 3, column role: unknown role 'boss' (one of organizer, annotator, team)",
        "line 3, column username: 'ann' also on line 2",
    ]
    assert not User.objects.exists()
    with pytest.raises(CommandError, match="no campaign 'nope'"):
        call_command("people_import", "nope", str(path))


def test_a_mail_server_that_refuses_leaves_the_account_and_marks_the_link_unmailed(
    settings, campaign, organizer, django_capture_on_commit_callbacks
):
    settings.INVITATION_EMAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    with django_capture_on_commit_callbacks(execute=True):
        link = person_invite(
            campaign=campaign,
            username="zoe",
            email="zoe@example.org",
            role="annotator",
            by=organizer,
        )
    assert link.emailed  # meant to be mailed when it was issued
    assert User.objects.filter(username="zoe").exists()
    assert Invitation.objects.get(user__username="zoe").emailed is False

"""Break-point marks: checked by the server, stored with the rating and each revision,
exported as a column an analyst can read back, given and read through the page and the API,
shown to organizers on their reviews, never another rater's to an annotator."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from annotate.marks import (
    MARK_LABELS,
    MAX_MARKS,
    MarksInvalid,
    marks_clean,
    marks_parse,
    marks_text,
)
from annotate.models import Rating, RatingRevision
from annotate.services import (
    RatingOutcome,
    RatingRefused,
    rating_revise,
    rating_save,
    rating_submit,
)
from evaluation.selectors import ratings_frame
from tests.factories import AssignmentFactory, UserFactory

pytestmark = pytest.mark.django_db

WATCHED = {"watched_reference": 1.0, "watched_generated": 1.0}
DURATION = 3.0  # the factories' generated clip


# --- the rules, without a database -----------------------------------------------------


def test_marks_are_sorted_rounded_to_the_millisecond_and_labelled():
    cleaned = marks_clean(
        [{"t": 2.5, "label": "physics"}, {"t": 0.12345}, {"t": 1, "label": None}],
        duration_s=DURATION,
    )
    assert cleaned == [
        {"t": 0.123, "label": ""},
        {"t": 1.0, "label": ""},
        {"t": 2.5, "label": "physics"},
    ]
    assert marks_clean(None, duration_s=DURATION) == []
    assert marks_clean([{"t": 0}, {"t": DURATION}], duration_s=DURATION)[-1]["t"] == DURATION


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1.0:physics", "a list of"),
        ({"t": 1.0}, "a list of"),
        ([1.0], "mark 1 is not an object"),
        ([{"label": "physics"}], "mark 1 has no time"),
        (
            [{"t": 1.0}, {"t": 3.5}],
            r"mark 2: t=3\.5 s lies outside the generated clip \(0 to 3 s\)",
        ),
        ([{"t": -0.1}], "outside the generated clip"),
        ([{"t": math.nan}], "a number"),
        ([{"t": math.inf}], "a number"),
        ([{"t": True}], "a number"),
        ([{"t": "1.0"}], "a number"),
        ([{"t": 1.0, "label": "wobbly"}], "label 'wobbly' is not one of deformation"),
        ([{"t": 1.0, "note": "x"}], "unknown field"),
        ([{"t": 1.0}, {"t": 1.0004, "label": "physics"}], "two marks at 1.000 s"),
        ([{"t": i / 10} for i in range(MAX_MARKS + 1)], f"at most {MAX_MARKS}"),
    ],
)
def test_marks_that_cannot_be_stored_are_refused_naming_why(raw, message):
    with pytest.raises(MarksInvalid, match=message):
        marks_clean(raw, duration_s=DURATION)


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=int(DURATION * 1000)),
            st.sampled_from(("", *MARK_LABELS)),
        ),
        max_size=MAX_MARKS,
        unique_by=lambda pair: pair[0],
    )
)
def test_the_export_cell_reads_back_as_the_marks_it_was_written_from(pairs):
    marks = marks_clean([{"t": ms / 1000, "label": label} for ms, label in pairs], duration_s=3.0)
    text = marks_text(marks)
    assert marks_parse(text) == marks
    # Two splits read it: items by ";", time and label by ":".
    assert len([item for item in text.split(";") if item]) == len(marks)


def test_the_export_cell_format_is_the_documented_one():
    assert marks_text([{"t": 1.25, "label": "deformation"}, {"t": 3, "label": ""}]) == (
        "1.250:deformation;3.000:"
    )
    assert marks_text([]) == "" and marks_parse("") == []


# --- stored with the rating and its revisions -------------------------------------------


@pytest.fixture
def assignment():
    return AssignmentFactory(annotator=UserFactory())


def test_a_rating_and_its_first_revision_keep_the_marks_given(assignment):
    given_marks = [{"t": 2.0, "label": "object_vanished"}, {"t": 0.5, "label": "deformation"}]
    rating = rating_submit(
        assignment=assignment, user=assignment.annotator, score=2, marks=given_marks, **WATCHED
    )
    expected = [{"t": 0.5, "label": "deformation"}, {"t": 2.0, "label": "object_vanished"}]
    rating.refresh_from_db()
    assert rating.marks == expected
    assert RatingRevision.objects.get(rating=rating, revision=1).marks == expected


def test_a_revision_changing_only_the_marks_is_a_revision_and_history_keeps_both(assignment):
    user = assignment.annotator
    rating_submit(
        assignment=assignment, user=user, score=1, marks=[{"t": 1.0, "label": "physics"}], **WATCHED
    )
    saved = rating_save(
        assignment=assignment, user=user, score=1, marks=[{"t": 1.5, "label": "wrong_motion"}]
    )
    assert saved.outcome == RatingOutcome.REVISED and saved.rating.revision == 2
    history = dict(
        RatingRevision.objects.filter(rating=saved.rating).values_list("revision", "marks")
    )
    assert history == {
        1: [{"t": 1.0, "label": "physics"}],
        2: [{"t": 1.5, "label": "wrong_motion"}],
    }
    # The same marks again change nothing; leaving them out keeps them; [] removes them.
    again = rating_save(
        assignment=assignment, user=user, score=1, marks=[{"t": 1.5, "label": "wrong_motion"}]
    )
    assert again.outcome == RatingOutcome.UNCHANGED
    kept = rating_revise(assignment=assignment, user=user, score=0)
    assert kept.revision == 3 and kept.marks == [{"t": 1.5, "label": "wrong_motion"}]
    cleared = rating_revise(assignment=assignment, user=user, score=0, marks=[])
    assert cleared.revision == 4 and cleared.marks == []


def test_bad_marks_store_nothing(assignment):
    with pytest.raises(RatingRefused, match="outside the generated clip"):
        rating_submit(
            assignment=assignment,
            user=assignment.annotator,
            score=3,
            marks=[{"t": DURATION + 0.5, "label": ""}],
            **WATCHED,
        )
    assert not Rating.objects.exists()
    assignment.refresh_from_db()
    assert assignment.status != "done"


def test_marks_are_checked_against_this_clip_s_own_length():
    long_clip = AssignmentFactory(clip__asset__duration_s=10.0)
    rating = rating_submit(
        assignment=long_clip, user=long_clip.annotator, score=3, marks=[{"t": 8.0}], **WATCHED
    )
    assert rating.marks == [{"t": 8.0, "label": ""}]


# --- exported ----------------------------------------------------------------------------


def test_the_ratings_export_has_a_marks_column(assignment, staff_client):
    rating_submit(
        assignment=assignment,
        user=assignment.annotator,
        score=2,
        marks=[{"t": 0.75, "label": "deformation"}, {"t": 2.25, "label": ""}],
        **WATCHED,
    )
    other = AssignmentFactory(
        clip__submission=assignment.clip.submission,
        clip__episode__task=assignment.clip.episode.task,
    )
    rating_submit(assignment=other, user=other.annotator, score=3, **WATCHED)

    frame = ratings_frame(campaign=assignment.campaign)
    assert sorted(frame["marks"]) == ["", "0.750:deformation;2.250:"]

    slug = assignment.campaign.slug
    response = staff_client.get(f"/organize/{slug}/exports/ratings.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert "marks" in rows[0]
    parsed = sorted((marks_parse(row["marks"]) for row in rows), key=len)
    assert parsed == [[], [{"t": 0.75, "label": "deformation"}, {"t": 2.25, "label": ""}]]
    document = json.loads(staff_client.get(f"/organize/{slug}/exports/ratings.json").content)
    assert sorted(row["marks"] for row in document["rows"]) == ["", "0.750:deformation;2.250:"]


# --- the rating page --------------------------------------------------------------------


def _config(response) -> dict:
    text = response.content.decode()
    start = text.index('<script id="rate-config" type="application/json">')
    body = text[start:].split(">", 1)[1].split("</script>", 1)[0]
    return json.loads(body)


def test_the_page_posts_marks_as_json_and_shows_them_back(client, assignment):
    user = assignment.annotator
    client.force_login(user)
    page = client.get(f"/rate/{assignment.pk}/")
    config = _config(page)
    assert config["marks"] == [] and config["max_marks"] == MAX_MARKS
    assert [choice["value"] for choice in config["mark_labels"]] == ["", *MARK_LABELS]
    assert b'name="marks"' in page.content and b"mark-ticks" in page.content

    marks = [{"t": 1.2, "label": "physics"}]
    response = client.post(
        f"/rate/{assignment.pk}/submit",
        {"score": "2", "marks": json.dumps(marks), **WATCHED},
    )
    assert response.status_code == 302
    assert Rating.objects.get(assignment=assignment).marks == marks
    # Opened again (a revision), the page starts from the stored marks.
    assert _config(client.get(f"/rate/{assignment.pk}/"))["marks"] == marks


def test_the_page_refuses_unreadable_or_bad_marks_and_says_why(client, assignment):
    client.force_login(assignment.annotator)
    for marks, said in (("not json", "not readable JSON"), ('[{"t": 9}]', "outside")):
        response = client.post(
            f"/rate/{assignment.pk}/submit",
            {"score": "2", "marks": marks, **WATCHED},
            follow=True,
        )
        assert said in response.content.decode()
    assert not Rating.objects.exists()


def test_an_annotator_never_sees_another_rater_s_marks(client, assignment):
    other = AssignmentFactory(clip=assignment.clip)
    rating_submit(
        assignment=other,
        user=other.annotator,
        score=1,
        marks=[{"t": 2.345, "label": "object_vanished"}],
        **WATCHED,
    )
    client.force_login(assignment.annotator)
    page = client.get(f"/rate/{assignment.pk}/")
    assert _config(page)["marks"] == []
    assert b"2.345" not in page.content


# --- the API ----------------------------------------------------------------------------


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_api_takes_and_returns_marks_and_refuses_bad_ones(assignment):
    api = _api(assignment.annotator)
    url = f"/api/me/assignments/{assignment.pk}/rating/"
    refused = api.post(
        url, {"score": 2, "marks": [{"t": 5, "label": ""}], **WATCHED}, format="json"
    )
    assert refused.status_code == 400
    assert "outside the generated clip (0 to 3 s)" in json.dumps(refused.json())
    unknown = api.post(url, {"score": 2, "marks": [{"t": 1, "label": "melted"}]}, format="json")
    assert unknown.status_code == 400 and "marks" in unknown.json()
    too_many = [{"t": i / 10} for i in range(MAX_MARKS + 1)]
    assert api.post(url, {"score": 2, "marks": too_many}, format="json").status_code == 400

    created = api.post(
        url, {"score": 2, "marks": [{"t": 1.5, "label": "deformation"}], **WATCHED}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["marks"] == [{"t": 1.5, "label": "deformation"}]
    # A PATCH with a comment alone keeps the judgement and the marks.
    patched = api.patch(url, {"comment": "the cup melts"}, format="json")
    assert patched.status_code == 200 and patched.json()["marks"] == created.json()["marks"]
    listed = api.get("/api/me/ratings/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert rows[0]["marks"] == [{"t": 1.5, "label": "deformation"}]


def test_the_schema_describes_marks():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    marks = components["AssignmentRatingInputRequest"]["properties"]["marks"]
    assert marks["type"] == "array" and marks["maxItems"] == MAX_MARKS
    assert "marks" in components["RatingOutput"]["properties"]


# --- the organizer's reviews ------------------------------------------------------------


def test_the_reviews_carry_every_rater_s_marks_for_the_ticks(staff_client, assignment):
    rating_submit(
        assignment=assignment,
        user=assignment.annotator,
        score=2,
        marks=[{"t": 1.25, "label": "deformation"}],
        **WATCHED,
    )
    second = AssignmentFactory(clip=assignment.clip)
    rating_submit(assignment=second, user=second.annotator, score=1, marks=[{"t": 0.5}], **WATCHED)
    slug, clip = assignment.campaign.slug, assignment.clip_id
    for url in (f"/organize/{slug}/clips/{clip}/", f"/organize/{slug}/agreement/pair/{clip}/"):
        page = staff_client.get(url)
        assert page.status_code == 200, url
        ticks = _config(page)["marks"]
        assert [(mark["t"], mark["label"]) for mark in ticks] == [
            (0.5, ""),
            (1.25, "deformation"),
        ], url
        assert "1.25 s deformation" in ticks[1]["title"]
        assert "1.25 s deformation" in page.content.decode()
    review = staff_client.get(f"/organize/{slug}/clips/{clip}/").content.decode()
    assert assignment.annotator.username in review  # the clip browser names raters

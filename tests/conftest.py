from __future__ import annotations

import pytest

# The world of tests/world.py (a real small campaign, six actors), for any test to use.
pytest_plugins = ["tests.world"]


@pytest.fixture(autouse=True)
def _media_root(request, tmp_path):
    """Every test that touches Django stores media in its own folder."""
    if not request.config.pluginmanager.hasplugin("django"):
        return
    settings = request.getfixturevalue("settings")
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path / "var"
    # Password hashing is slow on purpose; tests log in often.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_language_left_behind(request):
    """A request in Chinese leaves its language active in the thread; the next test starts
    from the default, as a new process does."""
    yield
    if request.config.pluginmanager.hasplugin("django"):
        from django.utils import translation

        translation.deactivate()


@pytest.fixture
def campaign(db):
    """A campaign open for rating."""
    from annotate.models import Campaign
    from annotate.services import campaign_create, campaign_state_change

    campaign = campaign_create(slug="cvpr", name="CVPR world-model track")
    campaign_state_change(campaign=campaign, to_state=Campaign.State.OPEN, by=None)
    return campaign


@pytest.fixture
def organizer(db, django_user_model):
    return django_user_model.objects.create_user(
        "organizer", password="pw-organizer-1", is_staff=True
    )


@pytest.fixture
def staff_client(client, organizer):
    client.force_login(organizer)
    return client


@pytest.fixture
def staff_api(organizer):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(organizer)
    return api


@pytest.fixture
def annotator(db, django_user_model):
    return django_user_model.objects.create_user("ann1", password="pw-annotator-1")


SMALL_DEMO = dict(n_tasks=2, episodes_per_task=3, seconds=2.0)


@pytest.fixture(scope="session")
def demo_footage(tmp_path_factory):
    """A small demo campaign's footage, rendered once per test session."""
    from demo.render import DEFAULT_TEAMS, render_demo

    return render_demo(
        out_dir=tmp_path_factory.mktemp("demo-footage"),
        seed=7,
        teams=DEFAULT_TEAMS[:3],
        n_tasks=SMALL_DEMO["n_tasks"],
        episodes_per_task=SMALL_DEMO["episodes_per_task"],
        seconds=SMALL_DEMO["seconds"],
    )


@pytest.fixture
def demo_campaign(transactional_db, demo_footage, tmp_path):
    """A small real campaign imported through the ingest services (2 tasks x 3 episodes, 3 teams)."""
    import shutil

    from demo.campaign import demo_campaign_create
    from demo.render import DEFAULT_TEAMS

    workdir = tmp_path / "footage"
    shutil.copytree(demo_footage.root, workdir)
    return demo_campaign_create(
        workdir=workdir, seed=7, teams=DEFAULT_TEAMS[:3], render=False, **SMALL_DEMO
    ).campaign

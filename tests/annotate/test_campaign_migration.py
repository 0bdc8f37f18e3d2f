"""The move from a `locked` flag to campaign states keeps existing campaigns working."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("annotate", "0006_ingest_integrity")]
AFTER = [("annotate", "0007_campaign_operations")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_locked_campaigns_stay_locked_others_open_and_task_descriptions_become_instructions():
    old = _migrate(BEFORE)
    Campaign, Task = old.get_model("annotate", "Campaign"), old.get_model("annotate", "Task")
    locked = Campaign.objects.create(slug="old-locked", name="Old locked", locked=True)
    running = Campaign.objects.create(slug="old-open", name="Old open", locked=False)
    Task.objects.create(campaign=running, key="task3", number=3, description="Put the banana in.")
    try:
        new = _migrate(AFTER)
        Campaign, Task = new.get_model("annotate", "Campaign"), new.get_model("annotate", "Task")
        assert Campaign.objects.get(pk=locked.pk).state == "locked"
        assert Campaign.objects.get(pk=running.pk).state == "open"
        task = Task.objects.get(campaign_id=running.pk)
        assert (task.title, task.instruction) == ("", "Put the banana in.")
        # And back: a locked or published campaign is locked, any other is not.
        old = _migrate(BEFORE)
        Campaign = old.get_model("annotate", "Campaign")
        assert Campaign.objects.get(pk=locked.pk).locked is True
        assert Campaign.objects.get(pk=running.pk).locked is False
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

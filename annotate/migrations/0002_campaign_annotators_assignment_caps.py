"""Campaign roster, and a PostgreSQL guard that refuses assignment rows over the caps.

The guard is a BEFORE INSERT / UPDATE trigger on annotate_assignment. A cell is one
submission's clips of one task (the rated unit: team x task, for the team's rated
submission). It refuses:

- a row whose clip belongs to another campaign than the row;
- a row that would give its annotator more than campaign.max_clips_per_rater rows in
  the cell;
- an INSERT that would bring a new, extra distinct rater into a cell that already has
  campaign.raters_per_cell raters. Moving pending work (an UPDATE of annotator_id) may
  add one, by design: the alternative is leaving the work undone.

It first locks the campaign row (FOR NO KEY UPDATE, which does not block inserts that
merely reference the campaign), so concurrent writers queue up and, under READ
COMMITTED, each count runs on a snapshot taken after the previous writer committed.
On other databases the migration adds nothing: the services' own row lock is the guard.
"""

from django.conf import settings
from django.db import migrations, models

CREATE_GUARD = r"""
CREATE OR REPLACE FUNCTION annotate_assignment_caps() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    cap_raters integer;
    cap_clips integer;
    cell_submission bigint;
    cell_task bigint;
    clip_campaign bigint;
    held integer;
    raters integer;
BEGIN
    SELECT raters_per_cell, max_clips_per_rater INTO cap_raters, cap_clips
      FROM annotate_campaign WHERE id = NEW.campaign_id FOR NO KEY UPDATE;

    SELECT c.submission_id, e.task_id, t.campaign_id
      INTO cell_submission, cell_task, clip_campaign
      FROM annotate_clip c
      JOIN annotate_episode e ON e.id = c.episode_id
      JOIN annotate_task t ON t.id = e.task_id
     WHERE c.id = NEW.clip_id;

    IF clip_campaign IS DISTINCT FROM NEW.campaign_id THEN
        RAISE EXCEPTION 'assignment %: clip % belongs to campaign %, not %',
            NEW.id, NEW.clip_id, clip_campaign, NEW.campaign_id
            USING ERRCODE = 'check_violation';
    END IF;

    SELECT count(*) INTO held
      FROM annotate_assignment a
      JOIN annotate_clip c ON c.id = a.clip_id
      JOIN annotate_episode e ON e.id = c.episode_id
     WHERE a.annotator_id = NEW.annotator_id
       AND c.submission_id = cell_submission
       AND e.task_id = cell_task
       AND a.id <> NEW.id;

    IF held >= cap_clips THEN
        RAISE EXCEPTION 'annotator % already has % clips of submission %, task % (cap %)',
            NEW.annotator_id, held, cell_submission, cell_task, cap_clips
            USING ERRCODE = 'check_violation';
    END IF;

    IF TG_OP = 'INSERT' AND held = 0 THEN
        SELECT count(DISTINCT a.annotator_id) INTO raters
          FROM annotate_assignment a
          JOIN annotate_clip c ON c.id = a.clip_id
          JOIN annotate_episode e ON e.id = c.episode_id
         WHERE c.submission_id = cell_submission
           AND e.task_id = cell_task;
        IF raters >= cap_raters THEN
            RAISE EXCEPTION 'submission %, task % already has % raters (cap %)',
                cell_submission, cell_task, raters, cap_raters
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;

    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS annotate_assignment_caps ON annotate_assignment;
CREATE TRIGGER annotate_assignment_caps
    BEFORE INSERT OR UPDATE OF annotator_id, clip_id, campaign_id ON annotate_assignment
    FOR EACH ROW EXECUTE FUNCTION annotate_assignment_caps();
"""

DROP_GUARD = """
DROP TRIGGER IF EXISTS annotate_assignment_caps ON annotate_assignment;
DROP FUNCTION IF EXISTS annotate_assignment_caps();
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="annotators",
            field=models.ManyToManyField(
                blank=True,
                help_text="The roster the assignment planner draws raters from.",
                related_name="annotator_of",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(_on_postgresql(CREATE_GUARD), _on_postgresql(DROP_GUARD)),
    ]

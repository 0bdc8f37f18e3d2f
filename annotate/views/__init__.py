"""Pages of the annotate app, one module per area, in the order of the work:
campaigns, imports (ingest), assignments (plan), queue and rating (rate), media, people,
teams, tokens, clips."""

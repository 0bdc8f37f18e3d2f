"""Pages of the evaluation app, one module per area: leaderboard and exports (score),
judge, agreement, teams (a team's own results and the public leaderboard)."""

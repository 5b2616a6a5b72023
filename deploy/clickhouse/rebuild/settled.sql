-- Forget the settled counts of one month (`govlisten retag` and `govlisten
-- erase` run it, with the rollups' files, for every month they touched).
-- Not applied by migrate. {{.DB}} is the database, {{.Month}} the
-- partition (YYYYMM).
--
-- Dropping the settlings first makes the dashboard read the month's days
-- from the rebuilt rollups at once; serve (or `govlisten settle`) counts
-- them again from mentions FINAL, as it does any unsettled day. A re-tag
-- alone would not need it (re-tagged mentions are stored with a newer
-- processed_at, which makes their days' settlings stale); an erase does:
-- deleting mentions leaves no newer processed_at behind.

ALTER TABLE {{.DB}}.{{.Table "mentions_daily_settled"}}{{.OnCluster}} DROP PARTITION {{.Month}};

ALTER TABLE {{.DB}}.{{.Table "mentions_daily_counts"}}{{.OnCluster}} DROP PARTITION {{.Month}};

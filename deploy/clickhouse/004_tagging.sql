-- govlisten schema, part 4: tagging columns added after the first release.
--
-- Tables created by an earlier 001_mentions.sql lack these; new tables have
-- them already. ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS, so
-- `govlisten migrate` skips an ADD COLUMN whose column exists (it reads
-- system.columns first). MODIFY COLUMN of an Enum to add values changes only
-- metadata and is a no-op when the type is already this one. On a cluster
-- they change the shards' mentions_local; migrate then recreates the
-- Distributed mentions over them to match (see 001_mentions.sql).

ALTER TABLE {{.DB}}.{{.Table "mentions"}}{{.OnCluster}} ADD COLUMN taxonomy String COMMENT 'the taxonomy that tagged the row, as name@content-hash' AFTER matched;

ALTER TABLE {{.DB}}.{{.Table "mentions"}}{{.OnCluster}} MODIFY COLUMN sentiment_label Enum8('negative' = -1, 'neutral' = 0, 'positive' = 1, 'unsupported' = 2) COMMENT 'negative, neutral or positive; unsupported when the language cannot be scored (score 0)';

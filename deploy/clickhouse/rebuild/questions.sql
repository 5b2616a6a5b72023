-- Rebuild one month of table questions from mentions FINAL (`govlisten
-- retag` and `govlisten erase` run it, with the rollups' files, for every
-- month they touched). Not applied by migrate. {{.DB}} is the database,
-- {{.Month}} the partition (YYYYMM).
--
-- A re-tag alone would not need it: the materialized view stores each
-- re-tagged mention again with a newer processed_at, which replaces its
-- older row. An erase does: its mentions are deleted from mentions, and
-- this drops their rows here too. From FINAL, so the month holds exactly
-- the questions and own mentions that mentions holds now. Between the two
-- statements the month has no questions for as long as the INSERT takes;
-- mentions stored meanwhile by a processor reach the table through the
-- materialized view as well as through this INSERT, which ReplacingMergeTree
-- makes one row.

ALTER TABLE {{.DB}}.{{.Table "questions"}}{{.OnCluster}} DROP PARTITION {{.Month}};

INSERT INTO {{.DB}}.questions (day, platform, id, own, thread_id, parent_id, created_at, departments, topics, source_department, processed_at)
SELECT
    day, platform, id, own, thread_id, parent_id, created_at, departments, topics, source_department, processed_at
FROM {{.DB}}.mentions FINAL
WHERE toYYYYMM(day) = {{.Month}}
    AND (own = 1 OR position(text, '?') > 0 OR match(text, '(?i)^\\s*(@\\w+[\\s,:]*)*(who|what|when|where|why|how|which|whose|can|could|will|would|should|shall|is|are|am|was|were|do|does|did|has|pam|beth|sut|pryd|ble|pwy)\\b'));

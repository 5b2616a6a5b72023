-- govlisten schema, part 8: the questions table behind response times.
--
-- The dashboard's response times and unanswered questions need, for a
-- range, the public questions and the departments' own mentions that may
-- answer them. Finding the questions in mentions means reading the text
-- of every mention of the range (30 days of 10 million mentions: 1.8 s
-- and more; 0.6 s from this table).
-- This table holds them without their text, filled at insert time by the
-- materialized view below: in the benchmark data a quarter of the rows of
-- mentions and a twelfth of its bytes.
--
-- One row per version of:
--   - a public mention (own = 0) that is a question: its text has a '?',
--     or matches analytics.QuestionStart (the pattern below is that
--     constant written as a SQL string; analytics' tests fail when they
--     differ);
--   - a department's own mention (own = 1), whatever its text: the
--     possible answers, and the posts a question may reply to.
-- with only the columns the response-time queries need.
--
-- Redelivery and re-tagging: the view fires on every insert into
-- mentions, so a redelivered or re-tagged mention reaches this table again
-- with the same key and its new processed_at, and
-- ReplacingMergeTree(processed_at) keeps the newest row, as in mentions;
-- exact queries read it with FINAL, which is cheap here (narrow rows, no
-- text). Whether a mention is a question depends on its text and own
-- alone, which a re-tag does not change; `govlisten retag` and `govlisten
-- erase` still rebuild the months they touched (rebuild/questions.sql),
-- which drops the rows of erased mentions too.
--
-- Cost on insert: the view reads own, text and ten narrow columns of each
-- inserted block, tests the text (position and an anchored regular
-- expression: about 30 ms per 300,000 mentions) and writes a part of
-- about a fifth of the block's rows; docs/performance.md gives the
-- measured share of the insert.
--
-- Existing data: on a database whose mentions predate this file, migrate
-- copies the questions of the stored mentions once (4 to 5 s per 10
-- million mentions). The view is created first, so that nothing inserted
-- meanwhile is missed (a mention that the view and the copy both write is
-- one row after FINAL); then the INSERT ... SELECT copies; only when it
-- has completed is questions_backfilled created. Migrate runs an INSERT of
-- a schema file only while the view created by the statement after it
-- does not exist: an interrupted copy is made again in full by the next
-- migrate, a completed one never. To copy again, drop questions_backfilled
-- and run migrate.

CREATE TABLE IF NOT EXISTS {{.DB}}.{{.Table "questions"}}{{.OnCluster}} (
    day Date COMMENT 'UTC day the mention was posted (the partition and first key column)',
    platform Enum8('twitter' = 1, 'youtube' = 2, 'facebook' = 3) COMMENT 'where it was posted',
    id String COMMENT 'the platform''s own id; (platform, id) identifies a mention, as in mentions',
    own UInt8 COMMENT '0: a public question; 1: a department''s own mention (a possible answer)',
    thread_id String COMMENT 'the conversation, video or post it belongs to',
    parent_id String COMMENT 'id of what it answers; empty for a post',
    created_at DateTime('UTC') COMMENT 'when it was posted, UTC',
    departments Array(String) COMMENT 'department slugs the taxonomy tagged (may be empty)',
    topics Array(String) COMMENT 'topic slugs the taxonomy tagged (may be empty)',
    source_department String COMMENT 'the department the source collects for, if any',
    processed_at DateTime('UTC') COMMENT 'the processed_at of the mention''s row; the newest row per mention wins'
) ENGINE = {{.Engine "questions" "ReplacingMergeTree(processed_at)"}}
PARTITION BY toYYYYMM(day)
ORDER BY (day, platform, id);
{{- if .Cluster}}

-- On a cluster: the table everyone reads, over the shards' questions_local.
-- Sharded as mentions is, so a row copied or rebuilt through it lands on
-- the shard whose materialized view writes the same mention's rows.
CREATE TABLE IF NOT EXISTS {{.DB}}.questions{{.OnCluster}} AS {{.DB}}.{{.Table "questions"}}
ENGINE = {{.Distributed "questions" "cityHash64(platform, id)"}};
{{- end}}

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.questions_mv{{.OnCluster}} TO {{.DB}}.{{.Table "questions"}} AS
SELECT
    day, platform, id, own, thread_id, parent_id, created_at, departments, topics, source_department, processed_at
FROM {{.DB}}.{{.Table "mentions"}}
WHERE own = 1 OR position(text, '?') > 0 OR match(text, '(?i)^\\s*(@\\w+[\\s,:]*)*(who|what|when|where|why|how|which|whose|can|could|will|would|should|shall|is|are|am|was|were|do|does|did|has|pam|beth|sut|pryd|ble|pwy)\\b');

-- The copy of the mentions stored before questions_mv existed: the same
-- SELECT over every row of mentions (without FINAL: each row, as the view
-- would have seen it).
INSERT INTO {{.DB}}.questions (day, platform, id, own, thread_id, parent_id, created_at, departments, topics, source_department, processed_at)
SELECT
    day, platform, id, own, thread_id, parent_id, created_at, departments, topics, source_department, processed_at
FROM {{.DB}}.mentions
WHERE own = 1 OR position(text, '?') > 0 OR match(text, '(?i)^\\s*(@\\w+[\\s,:]*)*(who|what|when|where|why|how|which|whose|can|could|will|would|should|shall|is|are|am|was|were|do|does|did|has|pam|beth|sut|pryd|ble|pwy)\\b');

-- Exists once the copy above has completed (see the top of this file).
CREATE VIEW IF NOT EXISTS {{.DB}}.questions_backfilled{{.OnCluster}} (
    backfilled UInt8 COMMENT '1: migrate has copied the questions of the mentions stored before questions_mv existed'
) AS SELECT toUInt8(1) AS backfilled;

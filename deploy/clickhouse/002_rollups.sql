-- govlisten schema, part 2: the daily rollup behind the dashboard.
--
-- One row per day, platform and *combination* of department and topic tags
-- (the arrays as they are on the mention), holding aggregate states. The
-- materialized view groups inserted mentions by their tag arrays without
-- exploding them, which costs ClickHouse a few percent of the insert; the
-- view mentions_daily_tags explodes the (few) rollup rows at query time
-- into one row per department and topic. Exploding every mention in the
-- materialized view instead (arrayJoin of the cross product) doubled the
-- server's insert work for the same answers (measured on 200,000 mentions,
-- 3.2 department-topic pairs each: 0.97 s against 0.49 s for the insert).
--
-- Redelivery: a materialized view fires on every insert, so a plain count()
-- would count a redelivered mention twice. The rollup keeps distinct-mention
-- states (uniq over the mention id), which a second delivery of the same
-- mention does not change, and merging them across rows stays distinct.
-- avg(sentiment) weighs a mention delivered twice twice; redelivery is rare
-- (a crash between insert and ack), so the mean is right to well within a
-- rounding. A re-tag (new taxonomy) stores the mention under its new tags
-- as well as its old ones: `govlisten retag` therefore rebuilds every month
-- it touched from mentions FINAL, with rebuild/mentions_daily.sql (after
-- changing tags any other way, run that file by hand with the database and
-- the month filled in).
-- Queries that must be exact use mentions FINAL.

CREATE TABLE IF NOT EXISTS {{.DB}}.{{.Table "mentions_daily"}}{{.OnCluster}} (
    day Date COMMENT 'UTC day posted',
    platform Enum8('twitter' = 1, 'youtube' = 2, 'facebook' = 3) COMMENT 'platform',
    departments Array(String) COMMENT 'the department slugs of these mentions (all the same combination)',
    topics Array(String) COMMENT 'the topic slugs of these mentions (all the same combination)',
    mentions AggregateFunction(uniq, String) COMMENT 'distinct mentions: uniqMerge(mentions)',
    negative AggregateFunction(uniqIf, String, UInt8) COMMENT 'distinct negative mentions: uniqIfMerge(negative)',
    neutral AggregateFunction(uniqIf, String, UInt8) COMMENT 'distinct neutral mentions: uniqIfMerge(neutral)',
    positive AggregateFunction(uniqIf, String, UInt8) COMMENT 'distinct positive mentions: uniqIfMerge(positive)',
    sentiment AggregateFunction(avg, Float32) COMMENT 'mean sentiment score: avgMerge(sentiment)',
    engagement AggregateFunction(max, UInt64) COMMENT 'largest likes + shares + replies of one mention: maxMerge(engagement)'
) ENGINE = {{.Engine "mentions_daily" "AggregatingMergeTree()"}}
PARTITION BY toYYYYMM(day)
ORDER BY (day, platform, departments, topics);
{{- if .Cluster}}

-- On a cluster: the rollup everyone reads, over the shards'
-- mentions_daily_local. The materialized view below writes each shard's
-- own mentions into its local table; reading merges the shards' states,
-- and uniq states stay distinct across shards (a mention lives on one
-- shard). rand() spreads rebuild inserts; which shard holds a state does
-- not change any answer.
CREATE TABLE IF NOT EXISTS {{.DB}}.mentions_daily{{.OnCluster}} AS {{.DB}}.{{.Table "mentions_daily"}}
ENGINE = {{.Distributed "mentions_daily" "rand()"}};
{{- end}}

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.mentions_daily_mv{{.OnCluster}} TO {{.DB}}.{{.Table "mentions_daily"}} AS
SELECT
    day,
    platform,
    departments,
    topics,
    uniqState(id) AS mentions,
    uniqIfState(id, toUInt8(sentiment_label = 'negative')) AS negative,
    uniqIfState(id, toUInt8(sentiment_label = 'neutral')) AS neutral,
    uniqIfState(id, toUInt8(sentiment_label = 'positive')) AS positive,
    avgState(sentiment) AS sentiment,
    maxState(likes + shares + replies) AS engagement
FROM {{.DB}}.{{.Table "mentions"}}
GROUP BY day, platform, departments, topics;

-- The rollup with one row per department and topic ('' stands for none):
--   SELECT day, department, uniqMerge(mentions) AS mentions,
--          uniqIfMerge(negative) / mentions AS negative_share
--   FROM govlisten.mentions_daily_tags
--   WHERE day >= today() - 7 GROUP BY day, department ORDER BY day, department
CREATE VIEW IF NOT EXISTS {{.DB}}.mentions_daily_tags{{.OnCluster}} AS
SELECT
    day,
    platform,
    arrayJoin(if(empty(departments), [''], departments)) AS department,
    arrayJoin(if(empty(topics), [''], topics)) AS topic,
    mentions, negative, neutral, positive, sentiment, engagement
FROM {{.DB}}.mentions_daily;

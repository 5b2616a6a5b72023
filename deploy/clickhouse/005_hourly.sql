-- govlisten schema, part 5: the hourly rollup behind spike detection and the
-- dashboard's charts of the last days.
--
-- The same shape and the same distinct-mention states as mentions_daily
-- (see 002_rollups.sql for why uniq states keep it true under redelivery),
-- by hour of posting instead of day. `govlisten retag` rebuilds it with
-- rebuild/mentions_hourly.sql for every month it touched.

CREATE TABLE IF NOT EXISTS {{.DB}}.{{.Table "mentions_hourly"}}{{.OnCluster}} (
    hour DateTime('UTC') COMMENT 'UTC hour posted (start of the hour)',
    platform Enum8('twitter' = 1, 'youtube' = 2, 'facebook' = 3) COMMENT 'platform',
    departments Array(String) COMMENT 'the department slugs of these mentions (all the same combination)',
    topics Array(String) COMMENT 'the topic slugs of these mentions (all the same combination)',
    mentions AggregateFunction(uniq, String) COMMENT 'distinct mentions: uniqMerge(mentions)',
    negative AggregateFunction(uniqIf, String, UInt8) COMMENT 'distinct negative mentions: uniqIfMerge(negative)',
    neutral AggregateFunction(uniqIf, String, UInt8) COMMENT 'distinct neutral mentions: uniqIfMerge(neutral)',
    positive AggregateFunction(uniqIf, String, UInt8) COMMENT 'distinct positive mentions: uniqIfMerge(positive)',
    sentiment AggregateFunction(avg, Float32) COMMENT 'mean sentiment score: avgMerge(sentiment)',
    engagement AggregateFunction(max, UInt64) COMMENT 'largest likes + shares + replies of one mention: maxMerge(engagement)'
) ENGINE = {{.Engine "mentions_hourly" "AggregatingMergeTree()"}}
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, platform, departments, topics);
{{- if .Cluster}}

-- On a cluster: the rollup everyone reads, over the shards'
-- mentions_hourly_local. The materialized view below writes each shard's
-- own mentions into its local table; reading merges the shards' states,
-- and uniq states stay distinct across shards (a mention lives on one
-- shard). rand() spreads rebuild inserts; which shard holds a state does
-- not change any answer.
CREATE TABLE IF NOT EXISTS {{.DB}}.mentions_hourly{{.OnCluster}} AS {{.DB}}.{{.Table "mentions_hourly"}}
ENGINE = {{.Distributed "mentions_hourly" "rand()"}};
{{- end}}

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.mentions_hourly_mv{{.OnCluster}} TO {{.DB}}.{{.Table "mentions_hourly"}} AS
SELECT
    toStartOfHour(created_at) AS hour,
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
GROUP BY hour, platform, departments, topics;

-- One row per hour, platform, department and topic ('' stands for none).
CREATE VIEW IF NOT EXISTS {{.DB}}.mentions_hourly_tags{{.OnCluster}} AS
SELECT
    hour,
    platform,
    arrayJoin(if(empty(departments), [''], departments)) AS department,
    arrayJoin(if(empty(topics), [''], topics)) AS topic,
    mentions, negative, neutral, positive, sentiment, engagement
FROM {{.DB}}.mentions_hourly;

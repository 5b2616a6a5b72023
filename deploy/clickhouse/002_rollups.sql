-- govlisten schema, part 2: the daily rollup behind the dashboard.
--
-- A materialized view fires on every insert, so a plain count() would count
-- a redelivered mention twice. The rollup therefore keeps distinct-mention
-- states (uniq over the mention id), which a second delivery of the same
-- mention does not change. avg(sentiment) weighs a mention delivered twice
-- twice; redelivery is rare (a crash between insert and ack), so the mean is
-- right to well within a rounding, and exact after a rebuild of the day
-- from mentions FINAL. A re-tag (new taxonomy) also changes departments and
-- topics: rebuild the days it touched (docs/schema.md shows how).
--
-- One row per day, platform, department and topic; a mention with several
-- departments and topics counts once in each pair (arrayJoin is the cross
-- product, the only form of multiple array joins 18.16 accepts); '' stands
-- for "none".

CREATE TABLE IF NOT EXISTS {{.DB}}.mentions_daily (
    day Date COMMENT 'UTC day posted',
    platform Enum8('twitter' = 1, 'youtube' = 2, 'facebook' = 3) COMMENT 'platform',
    department String COMMENT 'department slug; empty: no department',
    topic String COMMENT 'topic slug; empty: no topic',
    mentions AggregateFunction(uniq, String) COMMENT 'distinct mentions: uniqMerge(mentions)',
    negative AggregateFunction(uniqIf, String, UInt8) COMMENT 'distinct negative mentions: uniqIfMerge(negative)',
    neutral AggregateFunction(uniqIf, String, UInt8) COMMENT 'distinct neutral mentions: uniqIfMerge(neutral)',
    positive AggregateFunction(uniqIf, String, UInt8) COMMENT 'distinct positive mentions: uniqIfMerge(positive)',
    sentiment AggregateFunction(avg, Float32) COMMENT 'mean sentiment score: avgMerge(sentiment)',
    engagement AggregateFunction(max, UInt64) COMMENT 'largest likes + shares + replies of one mention: maxMerge(engagement)'
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (day, department, topic, platform);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.mentions_daily_mv TO {{.DB}}.mentions_daily AS
SELECT
    day,
    platform,
    arrayJoin(if(empty(departments), [''], departments)) AS department,
    arrayJoin(if(empty(topics), [''], topics)) AS topic,
    uniqState(id) AS mentions,
    uniqIfState(id, toUInt8(sentiment_label = 'negative')) AS negative,
    uniqIfState(id, toUInt8(sentiment_label = 'neutral')) AS neutral,
    uniqIfState(id, toUInt8(sentiment_label = 'positive')) AS positive,
    avgState(sentiment) AS sentiment,
    maxState(likes + shares + replies) AS engagement
FROM {{.DB}}.mentions
GROUP BY day, platform, department, topic;

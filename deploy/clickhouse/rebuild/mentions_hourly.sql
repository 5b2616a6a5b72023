-- Rebuild one month of the hourly rollup from mentions FINAL, after a
-- re-tag; see mentions_daily.sql beside it. {{.DB}} is the database,
-- {{.Month}} the partition (YYYYMM).

ALTER TABLE {{.DB}}.{{.Table "mentions_hourly"}}{{.OnCluster}} DROP PARTITION {{.Month}};

INSERT INTO {{.DB}}.mentions_hourly
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
FROM {{.DB}}.mentions FINAL
WHERE toYYYYMM(hour) = {{.Month}}
GROUP BY hour, platform, departments, topics;

-- Rebuild one month of the daily rollup from mentions FINAL, after a re-tag
-- (`govlisten retag` runs it for every month it touched). Not applied by
-- migrate. A Go text/template: {{.DB}} is the database, {{.Month}} the
-- partition (YYYYMM). Between the two statements the dashboard sees the
-- month empty for as long as the INSERT takes; mentions stored meanwhile by
-- a processor reach the rollup through the materialized view as well as
-- through this INSERT, which the distinct-mention states count once.

ALTER TABLE {{.DB}}.{{.Table "mentions_daily"}}{{.OnCluster}} DROP PARTITION {{.Month}};

INSERT INTO {{.DB}}.mentions_daily
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
FROM {{.DB}}.mentions FINAL
WHERE toYYYYMM(day) = {{.Month}}
GROUP BY day, platform, departments, topics;

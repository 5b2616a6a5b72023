-- govlisten schema, part 6: spike alerts.
--
-- One row per spike found: a department or topic whose volume in an hour
-- (against the previous 12 hours) or a day (against the previous 14 days)
-- is well above its own baseline. The id is made of what identifies the
-- spike (period, scope, slug, period start), so finding it again replaces
-- the row instead of adding one, and notified_at records that the webhook
-- was told, so no spike is posted twice.

CREATE TABLE IF NOT EXISTS {{.DB}}.{{.Table "alerts"}}{{.OnCluster}} (
    id String COMMENT 'period:scope:slug:period start (RFC 3339), e.g. hour:department:dwp:2026-11-26T09:00:00Z',
    period Enum8('hour' = 1, 'day' = 2) COMMENT 'hour: against the previous 12 hours; day: against the previous 14 days',
    scope Enum8('department' = 1, 'topic' = 2) COMMENT 'what the slug is',
    slug String COMMENT 'the department or topic slug',
    period_start DateTime('UTC') COMMENT 'start of the hour or day that spiked',
    mentions UInt64 COMMENT 'distinct mentions in the period',
    baseline Float64 COMMENT 'mean mentions per period over the baseline window',
    stddev Float64 COMMENT 'standard deviation of the baseline window',
    negative_share Float64 COMMENT 'share of negative mentions in the period',
    baseline_negative_share Float64 COMMENT 'share of negative mentions over the baseline window',
    top_terms Array(String) COMMENT 'words most over-represented in the period against the baseline',
    mention_ids Array(String) COMMENT 'the most-engaged mentions of the period (platform:id)',
    explanation String COMMENT 'one paragraph a person can read',
    detected_at DateTime('UTC') COMMENT 'when it was found; the newest row per id wins',
    notified_at DateTime('UTC') COMMENT 'when the webhook accepted it; 1970-01-01 when not (yet) sent'
) ENGINE = {{.Engine "alerts" "ReplacingMergeTree(detected_at)"}}
PARTITION BY toYYYYMM(period_start)
ORDER BY (period_start, period, scope, slug);
{{- if .Cluster}}

-- On a cluster: the alerts everyone reads and writes, over the shards'
-- alerts_local. Sharded by id, so finding a spike again replaces its row on
-- the shard that holds it.
CREATE TABLE IF NOT EXISTS {{.DB}}.alerts{{.OnCluster}} AS {{.DB}}.{{.Table "alerts"}}
ENGINE = {{.Distributed "alerts" "cityHash64(id)"}};
{{- end}}

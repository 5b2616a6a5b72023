-- govlisten schema, part 3: the completeness ledger.
--
-- One row per collection run of one source, written by the collector when
-- the run ends: what window it covered, what it fetched and published, what
-- it cost, and whether it stopped short (quota, error, stop) — so an analyst
-- can see exactly what was and was not collected, and when.

CREATE TABLE IF NOT EXISTS {{.DB}}.{{.Table "collection_runs"}}{{.OnCluster}} (
    run_id String COMMENT 'unique id of the run',
    source String COMMENT 'the configured source',
    platform Enum8('twitter' = 1, 'youtube' = 2, 'facebook' = 3) COMMENT 'platform',
    kind String COMMENT 'the source kind (search, mentions, channel_comments, video_comments, page_posts, page_tagged)',
    department String COMMENT 'the department the source collects for, if any',
    collector String COMMENT 'the collector replica that ran it (host-pid-random)',
    started_at DateTime('UTC') COMMENT 'when the run started',
    finished_at DateTime('UTC') COMMENT 'when the run ended',
    window_from DateTime('UTC') COMMENT 'the time the run collected from (its checkpoint), 1970 when unset',
    window_from_id String COMMENT 'the id the run collected after (X since_id), if any',
    window_to DateTime('UTC') COMMENT 'the time the run collected up to (its new checkpoint)',
    window_to_id String COMMENT 'the newest id the run collected (X), if any',
    pages UInt32 COMMENT 'pages fetched and published',
    items_fetched UInt32 COMMENT 'items the API returned',
    items_published UInt32 COMMENT 'items new to the stream',
    items_duplicate UInt32 COMMENT 'items the stream already had (re-collected, unchanged)',
    api_calls UInt32 COMMENT 'API requests made',
    quota_units UInt32 COMMENT 'quota units spent (YouTube)',
    complete UInt8 COMMENT '1 when the run reached the newest item',
    truncated UInt8 COMMENT '1 when the run stopped short',
    truncated_by String COMMENT 'why it stopped short: quota, error or stopped',
    error String COMMENT 'the error that ended the run, if any (never a secret)'
) ENGINE = {{.Engine "collection_runs" "MergeTree()"}}
PARTITION BY toYYYYMM(started_at)
ORDER BY (source, started_at);
{{- if .Cluster}}

-- On a cluster: the ledger everyone reads and collectors write, over the
-- shards' collection_runs_local; a source's runs stay on one shard.
CREATE TABLE IF NOT EXISTS {{.DB}}.collection_runs{{.OnCluster}} AS {{.DB}}.{{.Table "collection_runs"}}
ENGINE = {{.Distributed "collection_runs" "cityHash64(source)"}};
{{- end}}

-- govlisten schema, part 1: the mentions table.
--
-- Applied by `govlisten migrate` (and `govlisten up`), idempotently, in file
-- name order. This is a Go text/template: {{.DB}} is the database, {{.Codec}}
-- is "CODEC(ZSTD(3))" on servers that have column codecs (20.1 and later)
-- and empty on older ones such as Debian's 18.16, where the server-wide LZ4
-- compression applies instead. Features checked on 18.16: column COMMENTs,
-- Enum8, Array(String), ReplacingMergeTree with a version column. Not used:
-- TTL, LowCardinality, DateTime64 (all newer).
--
{{/*
-- One file, two shapes. `govlisten migrate` renders every file for one host
-- (clickhouse.cluster empty: plain SQL, as if the helpers below were not
-- there) or, with `--cluster NAME`, for a replicated cluster. Every file
-- under deploy/clickhouse (and rebuild/) follows this pattern:
--
--   {{.OnCluster}}         after the object's name in every CREATE, ALTER
--                          and DROP: " ON CLUSTER NAME", or nothing.
--   {{.Table "t"}}         the table that stores the rows: t_local on a
--                          cluster, t on one host. Materialized views read
--                          FROM and write TO these; nothing else does.
--   {{.Engine "t" "E(a)"}} the engine of table t: E(a) on one host,
--                          ReplicatedE('/clickhouse/tables/{shard}/DB/t',
--                          '{replica}', a) on a cluster (the 18.16 form; the
--                          {shard} and {replica} macros come from each
--                          server's config, deploy/clickhouse/config/).
--   {{.Distributed "t" "key"}}  Distributed(NAME, DB, t_local, key).
--
-- and, after each stored table, a block that exists only on a cluster:
--
--   ) ENGINE = {{.Engine "t" "ReplacingMergeTree(v)"}} ... ORDER BY (...);
--   {{- if .Cluster}}
--
--   CREATE TABLE IF NOT EXISTS {{.DB}}.t{{.OnCluster}} AS {{.DB}}.{{.Table "t"}}
--   ENGINE = {{.Distributed "t" "cityHash64(k)"}};
--   {{- end}}
--
-- so that the public name t is, on a cluster, a Distributed table over the
-- shards' t_local, and every query, the processor's inserts and the
-- analysts' SQL stay the same on both shapes. The sharding key is what
-- identifies a row, so a re-delivered or replaced row lands on the shard
-- that holds the old one and ReplacingMergeTree can collapse them. Plain
-- views read the public (Distributed) names, and take {{.OnCluster}} too.
-- An ALTER is written for {{.Table "t"}} only: on a cluster, migrate then
-- recreates (DROP and CREATE ON CLUSTER) each Distributed table whose
-- columns no longer match its local table's, because 18.16 refuses an
-- ALTER ON CLUSTER of a Distributed table when shards are replicated.
-- `{{- ` trims the newline before it, so the one-host rendering is byte
-- for byte the plain SQL. Migrate refuses, on a cluster, a CREATE, ALTER
-- or DROP without ON CLUSTER, and a MergeTree engine that is not
-- Replicated.
--
-- On 18.16 (before 20.1) clusters, migrate leaves out the COMMENTs of
-- stored tables' columns: 18.16 cannot create a replicated table with
-- them ("Table structure in ZooKeeper is too different").
--
-- (This paragraph is a Go template comment, so the helpers it names are
-- shown, not run.)
*/ -}}

CREATE DATABASE IF NOT EXISTS {{.DB}}{{.OnCluster}};

-- One row per mention. ReplacingMergeTree keeps, per sorting key, the row
-- with the greatest processed_at: a redelivered or re-tagged mention
-- replaces the older row at merge time. Queries that must be exact use FINAL
-- (or argMax by processed_at). The key starts with the day, so time-range
-- queries read only the days asked for; created_at never changes for a
-- mention, so a re-delivery always lands on the same key and partition.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{.Table "mentions"}}{{.OnCluster}} (
    day Date DEFAULT toDate(created_at) COMMENT 'UTC day the mention was posted (the partition and first key column)',
    platform Enum8('twitter' = 1, 'youtube' = 2, 'facebook' = 3) COMMENT 'where it was posted',
    id String COMMENT 'the platform''s own id (a string: X ids exceed 2^53)',
    kind Enum8('post' = 1, 'comment' = 2, 'reply' = 3) COMMENT 'post, comment or reply',
    parent_id String COMMENT 'id of what it answers; empty for a post',
    thread_id String COMMENT 'the conversation, video or post it belongs to',
    author_id String COMMENT 'the platform''s author id; empty where the platform hides it',
    author_handle String COMMENT 'the author''s handle (@name) where given',
    author_name String COMMENT 'the author''s display name where given',
    text String COMMENT 'plain text, as posted (never HTML)',
    lang String COMMENT 'ISO 639-1 language code: the platform''s where trustworthy, else detected from the text; und when unknown',
    url String COMMENT 'permalink',
    created_at DateTime('UTC') COMMENT 'when it was posted, UTC',
    collected_at DateTime('UTC') COMMENT 'when a collector fetched it, UTC',
    likes UInt64 COMMENT 'likes or reactions when collected',
    replies UInt64 COMMENT 'replies when collected',
    shares UInt64 COMMENT 'shares or retweets when collected',
    quotes UInt64 COMMENT 'quotes when collected',
    views UInt64 COMMENT 'views or impressions when collected, where given',
    source String COMMENT 'the configured source that found it',
    source_department String COMMENT 'the department the source collects for, if any',
    own UInt8 COMMENT '1 when the author is one of the department''s own accounts (its replies), else 0',
    departments Array(String) COMMENT 'department slugs the taxonomy tagged (may be empty)',
    topics Array(String) COMMENT 'topic slugs the taxonomy tagged (may be empty)',
    sentiment Float32 COMMENT 'sentiment score in [-1, 1]',
    sentiment_label Enum8('negative' = -1, 'neutral' = 0, 'positive' = 1, 'unsupported' = 2) COMMENT 'negative, neutral or positive; unsupported when the language cannot be scored (score 0)',
    matched Array(String) COMMENT 'the taxonomy rules that fired, as slug:rule',
    taxonomy String COMMENT 'the taxonomy that tagged the row, as name@content-hash',
    raw String {{.Codec}} COMMENT 'the platform''s original JSON for this item, untouched',
    v UInt8 COMMENT 'schema version of the record on the bus',
    processed_at DateTime('UTC') COMMENT 'when a processor stored this row; the newest row per mention wins'
) ENGINE = {{.Engine "mentions" "ReplacingMergeTree(processed_at)"}}
PARTITION BY toYYYYMM(day)
ORDER BY (day, platform, id);
{{- if .Cluster}}

-- On a cluster: the table everyone reads and the processors insert into,
-- over the shards' mentions_local. Sharded by the mention, so a redelivered
-- or re-tagged mention lands on the shard (and key) of its older row.
CREATE TABLE IF NOT EXISTS {{.DB}}.mentions{{.OnCluster}} AS {{.DB}}.{{.Table "mentions"}}
ENGINE = {{.Distributed "mentions" "cityHash64(platform, id)"}};
{{- end}}

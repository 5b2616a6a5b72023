-- govlisten schema, part 1: the mentions table.
--
-- Applied by `govlisten migrate` (and `govlisten up`), idempotently, in file
-- name order. This is a Go text/template: {{.DB}} is the database, {{.Codec}}
-- is "CODEC(ZSTD(3))" on servers that have column codecs (20.1 and later)
-- and empty on older ones such as Debian's 18.16, where the server-wide LZ4
-- compression applies instead. Features checked on 18.16: column COMMENTs,
-- Enum8, Array(String), ReplacingMergeTree with a version column. Not used:
-- TTL, LowCardinality, DateTime64 (all newer).

CREATE DATABASE IF NOT EXISTS {{.DB}};

-- One row per mention. ReplacingMergeTree keeps, per sorting key, the row
-- with the greatest processed_at: a redelivered or re-tagged mention
-- replaces the older row at merge time. Queries that must be exact use FINAL
-- (or argMax by processed_at). The key starts with the day, so time-range
-- queries read only the days asked for; created_at never changes for a
-- mention, so a re-delivery always lands on the same key and partition.
CREATE TABLE IF NOT EXISTS {{.DB}}.mentions (
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
) ENGINE = ReplacingMergeTree(processed_at)
PARTITION BY toYYYYMM(day)
ORDER BY (day, platform, id);

-- govlisten schema, part 9: exact counts of settled days, for long ranges.
--
-- The daily rollup (002_rollups.sql) holds distinct-mention states, so that
-- a redelivered mention is counted once. Reading them costs a hash per
-- mention: 30 days of 10 million mentions are some 5 million hashes to
-- merge, 0.3 to 0.4 s for each of the dashboard's series, top lists and
-- spikes (docs/performance.md). Most of those days no longer change.
--
-- A mention lies in exactly one rollup row (its day, platform and
-- combination of tags), so plain per-row counts add up exactly across
-- rows, days, departments and topics. Once a day has settled (it is over
-- and no mention of it has been stored for a while), `govlisten serve`
-- (every rollups.settle_every) and `govlisten settle` count each of its
-- rows from mentions FINAL into mentions_daily_counts, and record the
-- settling in mentions_daily_settled. The dashboard, the briefing and the
-- alerts then sum those integers for settled days and merge states only
-- for the others (analytics.Analytics): a month is a few hundred thousand
-- integers instead of millions of hashes.
--
-- A settling is current while no mention of its day has a processed_at
-- later than its `through` (the day's newest processed_at when it was
-- counted): a late mention, a redelivery or a re-tag stores a newer
-- processed_at, and the day is read from the states again until it is
-- settled anew. A day is settled only when its newest processed_at is at
-- least 15 minutes old, longer than an insert can stay open (a batch is
-- sent within process.batch_timeout, at most 5 minutes, of its first
-- mention), so no mention stamped before `through` can still be on its
-- way. `govlisten retag` and `govlisten erase` drop the months they
-- rebuild from both tables (rebuild/settled.sql); retention drops them
-- with the other tables' months.
--
-- Each settling of a day writes its rows under its own settled_at; only
-- the newest settling of a day is read, so readers never see a day half
-- rewritten. The rows of older settlings are deleted afterwards.

CREATE TABLE IF NOT EXISTS {{.DB}}.{{.Table "mentions_daily_counts"}}{{.OnCluster}} (
    day Date COMMENT 'UTC day posted',
    settled_at DateTime('UTC') COMMENT 'the settling that wrote this row; read only the rows of the newest settling of a day that is still current (mentions_daily_settled)',
    platform Enum8('twitter' = 1, 'youtube' = 2, 'facebook' = 3) COMMENT 'platform',
    departments Array(String) COMMENT 'the department slugs of these mentions (all the same combination)',
    topics Array(String) COMMENT 'the topic slugs of these mentions (all the same combination)',
    mentions UInt64 COMMENT 'mentions of this day, platform and tag combination (after FINAL: each once)',
    negative UInt64 COMMENT 'of which labelled negative',
    neutral UInt64 COMMENT 'of which labelled neutral',
    positive UInt64 COMMENT 'of which labelled positive',
    sentiment_sum Float64 COMMENT 'the sum of their sentiment scores: sum(sentiment_sum) / sum(mentions) is the mean',
    engagement UInt64 COMMENT 'largest likes + shares + replies of one of them'
) ENGINE = {{.Engine "mentions_daily_counts" "MergeTree()"}}
PARTITION BY toYYYYMM(day)
ORDER BY (day, settled_at, platform, departments, topics);

CREATE TABLE IF NOT EXISTS {{.DB}}.{{.Table "mentions_daily_settled"}}{{.OnCluster}} (
    day Date COMMENT 'UTC day settled',
    settled_at DateTime('UTC') COMMENT 'when it was settled: the settled_at of its rows in mentions_daily_counts',
    through DateTime('UTC') COMMENT 'the day''s newest processed_at when it was counted; a mention of the day with a later one makes this settling stale',
    mentions UInt64 COMMENT 'the day''s mentions, after FINAL'
) ENGINE = {{.Engine "mentions_daily_settled" "ReplacingMergeTree(settled_at)"}}
PARTITION BY toYYYYMM(day)
ORDER BY day;
{{- if .Cluster}}

-- On a cluster: the tables everyone reads, over the shards' _local
-- tables. A settling counts the day across all shards and writes its rows
-- wherever rand() puts them; sums do not care which shard holds a row.
CREATE TABLE IF NOT EXISTS {{.DB}}.mentions_daily_counts{{.OnCluster}} AS {{.DB}}.{{.Table "mentions_daily_counts"}}
ENGINE = {{.Distributed "mentions_daily_counts" "rand()"}};

CREATE TABLE IF NOT EXISTS {{.DB}}.mentions_daily_settled{{.OnCluster}} AS {{.DB}}.{{.Table "mentions_daily_settled"}}
ENGINE = {{.Distributed "mentions_daily_settled" "rand()"}};
{{- end}}

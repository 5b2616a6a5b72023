-- govlisten schema, part 7: views for analysts.
--
-- Plain (not materialized) views: they store nothing and cost nothing until
-- queried, and then cost what their SELECT costs. docs/schema.md lists every
-- column and what each view costs; docs/queries.md has examples.
--
--   mentions_tagged          one row per mention x department x topic, over mentions FINAL
--   daily_departments        daily rollup per platform and department, plain numbers
--   daily_topics             daily rollup per platform and topic, plain numbers
--   daily_department_topics  daily rollup per platform, department and topic, plain numbers
--   authors                  one row per author handle: activity, tone, platforms
--   responses                one row per public question or complaint x department
--                            it is addressed to: was it answered by the department's
--                            own account, by whom, how fast
--   responses_daily          per day and department: answered share, median and p90
--                            time to first reply, share answered within a day
--   thread_sentiment         per thread a department replied in: mean sentiment of
--                            the public before and after the department's first reply
--
-- Every view declares its columns with a COMMENT, so DESCRIBE and
-- system.columns explain them (checked on 18.16; current releases accept the
-- same syntax and convert the SELECT's result to the declared types, which
-- the tests keep identical to what the SELECT produces). 18.16 has no
-- table-level COMMENT; what each view is for is written here and in
-- docs/schema.md.
--
-- Joins name their strictness (ANY LEFT / ALL INNER JOIN ... USING) as 18.16
-- requires, and keep the small side (the departments' own posts) on the
-- right, where ClickHouse builds its hash table. On 18.16 a WHERE on a view
-- is not pushed into the view's SELECT (enable_optimize_predicate_expression
-- is 0 there, and left so: its early implementation is not trusted here), so
-- a view over mentions FINAL reads the whole table whatever the WHERE says;
-- docs/schema.md gives the measured cost and the cheaper ways.

-- One row per mention x department x topic ('' stands for none), after FINAL.
-- Count mentions with uniqExact(platform, id), not count(): a mention with
-- two departments and three topics has six rows.
CREATE VIEW IF NOT EXISTS {{.DB}}.mentions_tagged{{.OnCluster}} (
    day Date COMMENT 'UTC day the mention was posted',
    platform Enum8('twitter' = 1, 'youtube' = 2, 'facebook' = 3) COMMENT 'where it was posted',
    id String COMMENT 'the platform''s own id; (platform, id) identifies a mention',
    kind Enum8('post' = 1, 'comment' = 2, 'reply' = 3) COMMENT 'post, comment or reply',
    parent_id String COMMENT 'id of what it answers; empty for a post',
    thread_id String COMMENT 'the conversation, video or post it belongs to',
    author_id String COMMENT 'the platform''s author id; empty where the platform hides it',
    author_handle String COMMENT 'the author''s handle where given',
    author_name String COMMENT 'the author''s display name where given',
    text String COMMENT 'plain text, as posted',
    lang String COMMENT 'ISO 639-1 language code; und when unknown',
    url String COMMENT 'permalink',
    created_at DateTime('UTC') COMMENT 'when it was posted, UTC',
    collected_at DateTime('UTC') COMMENT 'when a collector fetched it, UTC',
    likes UInt64 COMMENT 'likes or reactions when collected',
    replies UInt64 COMMENT 'replies when collected',
    shares UInt64 COMMENT 'shares or retweets when collected',
    quotes UInt64 COMMENT 'quotes when collected',
    views UInt64 COMMENT 'views or impressions when collected, where given',
    engagement UInt64 COMMENT 'likes + shares + replies, as the rollups count it',
    source String COMMENT 'the configured source that found it',
    source_department String COMMENT 'the department the source collects for, if any',
    own UInt8 COMMENT '1 when posted by one of the department''s own accounts',
    department String COMMENT 'one of the mention''s department slugs; empty when it has none',
    topic String COMMENT 'one of the mention''s topic slugs; empty when it has none',
    departments Array(String) COMMENT 'all department slugs of the mention',
    topics Array(String) COMMENT 'all topic slugs of the mention',
    sentiment Float32 COMMENT 'sentiment score in [-1, 1]',
    sentiment_label Enum8('negative' = -1, 'neutral' = 0, 'positive' = 1, 'unsupported' = 2) COMMENT 'negative, neutral, positive; unsupported when the language cannot be scored',
    matched Array(String) COMMENT 'the taxonomy rules that fired, as slug:rule',
    taxonomy String COMMENT 'the taxonomy that tagged the row, as name@content-hash'
) AS
SELECT
    day, platform, id, kind, parent_id, thread_id, author_id, author_handle, author_name,
    text, lang, url, created_at, collected_at, likes, replies, shares, quotes, views,
    likes + shares + replies AS engagement,
    source, source_department, own,
    arrayJoin(if(empty(departments), [''], departments)) AS department,
    arrayJoin(if(empty(topics), [''], topics)) AS topic,
    departments, topics, sentiment, sentiment_label, matched, taxonomy
FROM {{.DB}}.mentions FINAL;

-- The daily rollup per platform and department, as plain numbers. Built on
-- mentions_daily exploding only the departments, so that avgMerge weighs
-- each mention once (over mentions_daily_tags a mention with three topics
-- would weigh three times in its department's mean). Numbers add up across
-- days and platforms, not across departments (a mention can have several).
CREATE VIEW IF NOT EXISTS {{.DB}}.daily_departments{{.OnCluster}} (
    day Date COMMENT 'UTC day posted',
    platform Enum8('twitter' = 1, 'youtube' = 2, 'facebook' = 3) COMMENT 'platform',
    department String COMMENT 'department slug; empty for mentions with no department',
    mentions UInt64 COMMENT 'distinct mentions',
    negative UInt64 COMMENT 'distinct negative mentions',
    neutral UInt64 COMMENT 'distinct neutral mentions',
    positive UInt64 COMMENT 'distinct positive mentions',
    negative_share Float64 COMMENT 'negative / mentions',
    mean_sentiment Float64 COMMENT 'mean sentiment score (a redelivered mention weighs twice, see 002_rollups.sql)',
    max_engagement UInt64 COMMENT 'largest likes + shares + replies of one mention'
) AS
SELECT
    day, platform, department,
    uniqMerge(mentions_state) AS mentions,
    uniqIfMerge(negative_state) AS negative,
    uniqIfMerge(neutral_state) AS neutral,
    uniqIfMerge(positive_state) AS positive,
    negative / mentions AS negative_share,
    avgMerge(sentiment_state) AS mean_sentiment,
    maxMerge(engagement_state) AS max_engagement
FROM (
    SELECT
        day, platform,
        arrayJoin(if(empty(departments), [''], departments)) AS department,
        mentions AS mentions_state, negative AS negative_state, neutral AS neutral_state,
        positive AS positive_state, sentiment AS sentiment_state, engagement AS engagement_state
    FROM {{.DB}}.mentions_daily
)
GROUP BY day, platform, department;

-- The daily rollup per platform and topic, as plain numbers; see
-- daily_departments.
CREATE VIEW IF NOT EXISTS {{.DB}}.daily_topics{{.OnCluster}} (
    day Date COMMENT 'UTC day posted',
    platform Enum8('twitter' = 1, 'youtube' = 2, 'facebook' = 3) COMMENT 'platform',
    topic String COMMENT 'topic slug; empty for mentions with no topic',
    mentions UInt64 COMMENT 'distinct mentions',
    negative UInt64 COMMENT 'distinct negative mentions',
    neutral UInt64 COMMENT 'distinct neutral mentions',
    positive UInt64 COMMENT 'distinct positive mentions',
    negative_share Float64 COMMENT 'negative / mentions',
    mean_sentiment Float64 COMMENT 'mean sentiment score (a redelivered mention weighs twice, see 002_rollups.sql)',
    max_engagement UInt64 COMMENT 'largest likes + shares + replies of one mention'
) AS
SELECT
    day, platform, topic,
    uniqMerge(mentions_state) AS mentions,
    uniqIfMerge(negative_state) AS negative,
    uniqIfMerge(neutral_state) AS neutral,
    uniqIfMerge(positive_state) AS positive,
    negative / mentions AS negative_share,
    avgMerge(sentiment_state) AS mean_sentiment,
    maxMerge(engagement_state) AS max_engagement
FROM (
    SELECT
        day, platform,
        arrayJoin(if(empty(topics), [''], topics)) AS topic,
        mentions AS mentions_state, negative AS negative_state, neutral AS neutral_state,
        positive AS positive_state, sentiment AS sentiment_state, engagement AS engagement_state
    FROM {{.DB}}.mentions_daily
)
GROUP BY day, platform, topic;

-- The daily rollup per platform, department and topic, as plain numbers
-- (mentions_daily_tags with the *Merge functions applied).
CREATE VIEW IF NOT EXISTS {{.DB}}.daily_department_topics{{.OnCluster}} (
    day Date COMMENT 'UTC day posted',
    platform Enum8('twitter' = 1, 'youtube' = 2, 'facebook' = 3) COMMENT 'platform',
    department String COMMENT 'department slug; empty for mentions with no department',
    topic String COMMENT 'topic slug; empty for mentions with no topic',
    mentions UInt64 COMMENT 'distinct mentions',
    negative UInt64 COMMENT 'distinct negative mentions',
    neutral UInt64 COMMENT 'distinct neutral mentions',
    positive UInt64 COMMENT 'distinct positive mentions',
    negative_share Float64 COMMENT 'negative / mentions',
    mean_sentiment Float64 COMMENT 'mean sentiment score (a redelivered mention weighs twice, see 002_rollups.sql)',
    max_engagement UInt64 COMMENT 'largest likes + shares + replies of one mention'
) AS
SELECT
    day, platform, department, topic,
    uniqMerge(mentions_state) AS mentions,
    uniqIfMerge(negative_state) AS negative,
    uniqIfMerge(neutral_state) AS neutral,
    uniqIfMerge(positive_state) AS positive,
    negative / mentions AS negative_share,
    avgMerge(sentiment_state) AS mean_sentiment,
    maxMerge(engagement_state) AS max_engagement
FROM (
    SELECT
        day, platform, department, topic,
        mentions AS mentions_state, negative AS negative_state, neutral AS neutral_state,
        positive AS positive_state, sentiment AS sentiment_state, engagement AS engagement_state
    FROM {{.DB}}.mentions_daily_tags
)
GROUP BY day, platform, department, topic;

-- One row per author handle (mentions without a handle are left out), over
-- mentions FINAL. The same handle on two platforms is one row: handles are
-- not proof of one person, so check author_ids before concluding that.
CREATE VIEW IF NOT EXISTS {{.DB}}.authors{{.OnCluster}} (
    author_handle String COMMENT 'the handle, as the platforms give it',
    author_name String COMMENT 'the display name on the author''s latest mention',
    author_ids Array(String) COMMENT 'the platform author ids seen with this handle',
    platforms Array(String) COMMENT 'the platforms the handle posted on, sorted',
    mentions UInt64 COMMENT 'mentions by this handle',
    first_seen DateTime('UTC') COMMENT 'when the first of them was posted',
    last_seen DateTime('UTC') COMMENT 'when the latest of them was posted',
    negative UInt64 COMMENT 'negative mentions by this handle',
    negative_share Float64 COMMENT 'negative / mentions',
    mean_sentiment Float64 COMMENT 'mean sentiment score of scored mentions (unsupported left out); nan when none',
    engagement UInt64 COMMENT 'total likes + shares + replies of the mentions',
    own UInt8 COMMENT '1 when the handle is one of a department''s own accounts',
    departments Array(String) COMMENT 'the department slugs of the mentions, sorted',
    topics Array(String) COMMENT 'the topic slugs of the mentions, sorted'
) AS
SELECT
    author_handle,
    argMax(author_name, created_at) AS author_name,
    arraySort(groupUniqArray(author_id)) AS author_ids,
    arraySort(groupUniqArray(toString(platform))) AS platforms,
    count() AS mentions,
    min(created_at) AS first_seen,
    max(created_at) AS last_seen,
    countIf(sentiment_label = 'negative') AS negative,
    negative / mentions AS negative_share,
    avgIf(sentiment, sentiment_label != 'unsupported') AS mean_sentiment,
    sum(likes + shares + replies) AS engagement,
    max(own) AS own,
    arraySort(groupUniqArrayArray(departments)) AS departments,
    arraySort(groupUniqArrayArray(topics)) AS topics
FROM {{.DB}}.mentions FINAL
WHERE author_handle != ''
GROUP BY author_handle;

-- Response tracking: one row per public mention (own = 0) that is a
-- question or a complaint, for each department it is addressed to (tagged
-- with, or collected for: source_department). A question has a '?' or starts
-- (after any @handles) with a question word; a complaint is labelled
-- negative. It counts as answered by the first later mention of the
-- department's own account (own = 1, department = its source_department, or
-- its tags when the source has none) on the same platform that replies to it
-- (parent_id = its id) or is in the same thread after it. A reply to another
-- question of the thread therefore answers this one too.
--
-- How: the department's own mentions are gathered per platform, thread and
-- department into arrays sorted by time (then id), joined to each question
-- (ANY LEFT JOIN: one row each, nothing to group afterwards), and
-- arrayFirstIndex finds the first that answers it. This is three times
-- faster than joining every own mention and grouping by question, which
-- carries each text through the join. The question's columns are passed to
-- the lambda with replicate() rather than captured: 18.16 drops a subquery
-- column that only a lambda uses ("Unknown identifier").
CREATE VIEW IF NOT EXISTS {{.DB}}.responses{{.OnCluster}} (
    day Date COMMENT 'UTC day the question or complaint was posted',
    platform Enum8('twitter' = 1, 'youtube' = 2, 'facebook' = 3) COMMENT 'platform',
    id String COMMENT 'the question or complaint''s id',
    department String COMMENT 'the department it is addressed to (one row per department)',
    thread_id String COMMENT 'the thread it belongs to',
    created_at DateTime('UTC') COMMENT 'when it was posted',
    author_handle String COMMENT 'who posted it',
    text String COMMENT 'its text',
    url String COMMENT 'its permalink',
    engagement UInt64 COMMENT 'its likes + shares + replies',
    sentiment Float32 COMMENT 'its sentiment score',
    is_question UInt8 COMMENT '1 when it contains ? or starts with a question word',
    is_complaint UInt8 COMMENT '1 when its sentiment label is negative',
    answered UInt8 COMMENT '1 when the department''s own account replied after it',
    first_reply_id String COMMENT 'id of the department''s first reply; empty when unanswered',
    first_reply_at Nullable(DateTime('UTC')) COMMENT 'when the first reply was posted; NULL when unanswered',
    answered_by String COMMENT 'author_handle of the first reply; empty when unanswered',
    response_seconds Nullable(Int64) COMMENT 'seconds from the mention to the first reply; NULL when unanswered',
    answered_within_day UInt8 COMMENT '1 when the first reply came within 24 hours'
) AS
SELECT
    day, platform, id, department, thread_id, created_at, author_handle, text, url, engagement, sentiment,
    is_question, is_complaint,
    toUInt8(reply_index > 0) AS answered,
    reply_ids[reply_index] AS first_reply_id,
    if(reply_index > 0, reply_ats[reply_index], NULL) AS first_reply_at,
    reply_handles[reply_index] AS answered_by,
    if(reply_index > 0, toInt64(reply_ats[reply_index]) - toInt64(created_at), NULL) AS response_seconds,
    toUInt8(reply_index > 0 AND toInt64(reply_ats[reply_index]) - toInt64(created_at) <= 86400) AS answered_within_day
FROM (
    SELECT
        day, platform, id, department, thread_id, created_at, author_handle, text, url, engagement, sentiment,
        is_question, is_complaint, reply_ids, reply_ats, reply_handles,
        arrayFirstIndex((at, parent, q_id, q_at, q_thread) -> parent = q_id OR (q_thread != '' AND at > q_at),
            reply_ats, reply_parents, replicate(id, reply_ats), replicate(created_at, reply_ats), replicate(thread_id, reply_ats)) AS reply_index
    FROM (
        SELECT
            day, platform, id, thread_id, department, created_at, author_handle, text, url,
            likes + shares + replies AS engagement, sentiment,
            toUInt8(position(text, '?') > 0 OR match(lowerUTF8(text), '^\\s*(@\\w+[\\s,:]*)*(who|what|when|where|why|how|which|whose|can|could|will|would|should|shall|is|are|am|was|were|do|does|did|has|pam|beth|sut|pryd|ble|pwy)\\b')) AS is_question,
            toUInt8(sentiment_label = 'negative') AS is_complaint
        FROM {{.DB}}.mentions FINAL
        ARRAY JOIN arrayDistinct(arrayConcat(departments, if(source_department = '', emptyArrayString(), [source_department]))) AS department
        WHERE own = 0 AND (is_question = 1 OR is_complaint = 1)
    )
    ANY LEFT JOIN (
        SELECT
            platform, thread_id, department,
            arrayMap(r -> tupleElement(r, 1), replies) AS reply_ats,
            arrayMap(r -> tupleElement(r, 2), replies) AS reply_ids,
            arrayMap(r -> tupleElement(r, 3), replies) AS reply_parents,
            arrayMap(r -> tupleElement(r, 4), replies) AS reply_handles
        FROM (
            SELECT
                platform, thread_id, department,
                arraySort(groupArray((created_at, id, parent_id, author_handle))) AS replies
            FROM {{.DB}}.mentions FINAL
            ARRAY JOIN if(source_department != '', [source_department], departments) AS department
            WHERE own = 1
            GROUP BY platform, thread_id, department
        )
    ) USING (platform, thread_id, department)
);

-- Per UTC day (of the question or complaint) and department: how much was
-- answered, and how fast. The median and p90 are over answered mentions
-- only, with linear interpolation between values (quantile; exact up to
-- 8,192 answered mentions per day and department, sampled beyond). Recent
-- days are not final: a mention of today may still be answered tomorrow.
CREATE VIEW IF NOT EXISTS {{.DB}}.responses_daily{{.OnCluster}} (
    day Date COMMENT 'UTC day the questions and complaints were posted',
    department String COMMENT 'the department they are addressed to',
    addressed UInt64 COMMENT 'questions and complaints addressed to the department',
    questions UInt64 COMMENT 'of which questions',
    complaints UInt64 COMMENT 'of which complaints (a negative question is both)',
    answered UInt64 COMMENT 'of which answered by the department''s own account',
    unanswered UInt64 COMMENT 'addressed - answered',
    answered_share Float64 COMMENT 'answered / addressed',
    median_response_seconds Nullable(Float64) COMMENT 'median seconds to the first reply, over answered ones; NULL when none',
    p90_response_seconds Nullable(Float64) COMMENT '90th percentile of seconds to the first reply; NULL when none',
    answered_within_day_share Float64 COMMENT 'share of addressed ones answered within 24 hours'
) AS
SELECT
    day,
    department,
    count() AS addressed,
    countIf(question = 1) AS questions,
    countIf(complaint = 1) AS complaints,
    countIf(was_answered = 1) AS answered,
    countIf(was_answered = 0) AS unanswered,
    answered / addressed AS answered_share,
    quantile(0.5)(seconds) AS median_response_seconds,
    quantile(0.9)(seconds) AS p90_response_seconds,
    countIf(within_day = 1) / addressed AS answered_within_day_share
FROM (
    SELECT
        day, department, is_question AS question, is_complaint AS complaint,
        answered AS was_answered, response_seconds AS seconds, answered_within_day AS within_day
    FROM {{.DB}}.responses
)
GROUP BY day, department;

-- Per thread a department replied in (its first own mention in the thread):
-- the public's mentions in that thread before and after that reply. Scored
-- mentions only (sentiment_label unsupported is left out); a public mention
-- posted in the same second as the reply counts in neither.
CREATE VIEW IF NOT EXISTS {{.DB}}.thread_sentiment{{.OnCluster}} (
    day Date COMMENT 'UTC day of the department''s first reply in the thread',
    platform Enum8('twitter' = 1, 'youtube' = 2, 'facebook' = 3) COMMENT 'platform',
    thread_id String COMMENT 'the thread',
    department String COMMENT 'the department that replied',
    first_reply_id String COMMENT 'id of the department''s first reply in the thread',
    first_reply_at DateTime('UTC') COMMENT 'when it was posted',
    replied_by String COMMENT 'author_handle of the first reply',
    before_mentions UInt64 COMMENT 'public mentions in the thread before the reply',
    after_mentions UInt64 COMMENT 'public mentions in the thread after the reply',
    before_sentiment Nullable(Float64) COMMENT 'their mean sentiment score before; NULL when none',
    after_sentiment Nullable(Float64) COMMENT 'their mean sentiment score after; NULL when none',
    sentiment_change Nullable(Float64) COMMENT 'after_sentiment - before_sentiment; NULL unless both exist',
    before_negative_share Nullable(Float64) COMMENT 'share of negative public mentions before; NULL when none',
    after_negative_share Nullable(Float64) COMMENT 'share of negative public mentions after; NULL when none'
) AS
SELECT
    toDate(first_reply_at) AS day,
    platform,
    thread_id,
    department,
    first_reply_id,
    first_reply_at,
    replied_by,
    countIf(created_at < first_reply_at) AS before_mentions,
    countIf(created_at > first_reply_at) AS after_mentions,
    if(before_mentions > 0, avgIf(toFloat64(sentiment), created_at < first_reply_at), NULL) AS before_sentiment,
    if(after_mentions > 0, avgIf(toFloat64(sentiment), created_at > first_reply_at), NULL) AS after_sentiment,
    after_sentiment - before_sentiment AS sentiment_change,
    if(before_mentions > 0, countIf(created_at < first_reply_at AND sentiment_label = 'negative') / before_mentions, NULL) AS before_negative_share,
    if(after_mentions > 0, countIf(created_at > first_reply_at AND sentiment_label = 'negative') / after_mentions, NULL) AS after_negative_share
FROM (
    SELECT platform, thread_id, created_at, sentiment, sentiment_label
    FROM {{.DB}}.mentions FINAL
    WHERE own = 0 AND thread_id != '' AND sentiment_label != 'unsupported'
)
ALL INNER JOIN (
    SELECT
        platform, thread_id, department,
        min(created_at) AS first_reply_at,
        argMin(id, (created_at, id)) AS first_reply_id,
        argMin(author_handle, (created_at, id)) AS replied_by
    FROM {{.DB}}.mentions FINAL
    ARRAY JOIN if(source_department != '', [source_department], departments) AS department
    WHERE own = 1 AND thread_id != ''
    GROUP BY platform, thread_id, department
) USING (platform, thread_id)
GROUP BY platform, thread_id, department, first_reply_id, first_reply_at, replied_by;

-- Announcements and their delivery ledger.

-- Hard failures counted towards Mail:BounceAfter.
ALTER TABLE subscribers ADD COLUMN hard_bounces INTEGER NOT NULL DEFAULT 0;

-- Facts the store keeps about itself, such as whether posts were ever looked at (the first-start guard).
CREATE TABLE store_state (
    key     TEXT PRIMARY KEY,
    value   TEXT NOT NULL
);

-- Every published post ever looked at, by its stable item id: a post is announced at most once,
-- whatever happens later to its title, body, file name or the site's address.
CREATE TABLE posts_seen (
    post_id         TEXT PRIMARY KEY,
    -- A webinar's video (provider:id): the same recording is never announced twice, even when its
    -- post's id changes (a renamed file, a new Site:BaseUrl).
    video           TEXT,
    seen_at         {time} NOT NULL,
    published_at    {time} NOT NULL,
    announced       INTEGER NOT NULL CHECK (announced IN (0, 1))
);

CREATE INDEX posts_seen_video ON posts_seen (video);

CREATE TABLE announcements (
    id              {id},
    post_id         TEXT NOT NULL UNIQUE,
    -- The post's file name (Post.Key) and title when it was announced: to find it again and to list it.
    post_key        TEXT NOT NULL,
    title           TEXT NOT NULL,
    -- scheduled: waits for the next firing; sending: rows are being sent or wait for a retry; done: none left.
    state           TEXT NOT NULL CHECK (state IN ('scheduled', 'sending', 'done')),
    created_at      {time} NOT NULL,
    started_at      {time},
    done_at         {time},
    -- One process at a time sends an announcement: the service's job, or `announce send-now`.
    lease_owner     TEXT,
    lease_until     {time}
);

-- The ledger: one row per subscriber, taken when sending starts. A row is pending until its
-- message's outcome is known, and that outcome is committed before the connection takes another
-- row: after a crash, only messages that were on the wire can go twice.
CREATE TABLE deliveries (
    announcement_id     {ref} NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    subscriber_id       {ref} NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'deferred', 'failed', 'skipped')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    first_attempt_at    {time},
    next_attempt_at     {time},
    last_reply          TEXT,
    message_id          TEXT,
    -- Sent again after a connection dropped past the final dot: the subscriber may have two.
    possible_duplicates INTEGER NOT NULL DEFAULT 0,
    updated_at          {time},
    PRIMARY KEY (announcement_id, subscriber_id)
);

-- No index on status: every outcome would rewrite it. The primary key serves the reads (one
-- announcement's rows in subscriber order), which filter status as they go.

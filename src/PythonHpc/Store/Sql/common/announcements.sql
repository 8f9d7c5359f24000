-- Announcements, the posts seen, and the delivery ledger, in the SQL both providers speak (what
-- differs is in sqlite/ and postgres/announcements.sql). Times are UTC.

-- name: state-get
SELECT value FROM store_state WHERE key = @key;

-- name: state-set
INSERT INTO store_state (key, value) VALUES (@key, @value)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- name: see-post
INSERT INTO posts_seen (post_id, video, seen_at, published_at, announced) VALUES (@post_id, @video, @now, @published_at, @announced)
ON CONFLICT (post_id) DO NOTHING;

-- name: create-announcement
INSERT INTO announcements (post_id, post_key, title, state, created_at) VALUES (@post_id, @post_key, @title, 'scheduled', @now)
ON CONFLICT (post_id) DO NOTHING;

-- name: announcement-by-post
SELECT * FROM announcements WHERE post_id = @post_id;

-- name: announcement-by-id
SELECT * FROM announcements WHERE id = @id;

-- Everything not done, oldest first: what a firing sends.
-- name: announcements-open
SELECT * FROM announcements WHERE state <> 'done' ORDER BY id;

-- name: announcements-all
SELECT * FROM announcements ORDER BY id;

-- Sending has begun (a firing, a retry, or another node helping).
-- name: start-announcement
UPDATE announcements SET state = CASE WHEN state = 'scheduled' THEN 'sending' ELSE state END, started_at = COALESCE(started_at, @now)
WHERE id = @id;

-- One row per confirmed subscriber not in the ledger yet: at the start of a run, and again at its
-- end for those who confirmed meanwhile.
-- name: add-deliveries
INSERT INTO deliveries (announcement_id, subscriber_id, status, updated_at)
SELECT @id, id, 'pending', @now FROM subscribers WHERE status = 'confirmed'
ON CONFLICT (announcement_id, subscriber_id) DO NOTHING;

-- Whether any row is due now and free to claim: what a node that is not sending looks for.
-- name: claimable-delivery
SELECT 1 FROM deliveries
WHERE announcement_id = @id
  AND (status = 'pending' OR (status = 'deferred' AND next_attempt_at <= @now))
  AND (claimed_until IS NULL OR claimed_until < @now)
LIMIT 1;

-- What a run leaves unsent (it was stopped) goes back at once rather than when the claim lapses.
-- name: release-claims
UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL WHERE announcement_id = @id AND claimed_by = @owner;

-- name: claim-owners
SELECT DISTINCT claimed_by FROM deliveries WHERE announcement_id = @id AND claimed_by IS NOT NULL;

-- name: record-delivery
UPDATE deliveries SET status = @status, attempts = @attempts, first_attempt_at = COALESCE(first_attempt_at, @first_attempt_at),
    next_attempt_at = @next_attempt_at, last_reply = @last_reply, message_id = @message_id,
    possible_duplicates = @possible_duplicates, updated_at = @now, claimed_by = NULL, claimed_until = NULL
WHERE announcement_id = @id AND subscriber_id = @subscriber_id;

-- name: count-hard-bounce
UPDATE subscribers SET hard_bounces = hard_bounces + 1,
    status = CASE WHEN hard_bounces + 1 >= @threshold AND status = 'confirmed' THEN 'bounced' ELSE status END
WHERE id = @subscriber_id;

-- name: delivery-counts
SELECT status, COUNT(*), COALESCE(SUM(possible_duplicates), 0) FROM deliveries WHERE announcement_id = @id GROUP BY status;

-- When to come back: when the earliest deferred row is due or, for a row another process holds, when
-- its claim lapses (in case that process died).
-- name: next-retry
SELECT MIN(CASE WHEN claimed_until IS NOT NULL THEN claimed_until ELSE next_attempt_at END) FROM deliveries
WHERE announcement_id = @id AND (status = 'deferred' OR (status = 'pending' AND claimed_until IS NOT NULL));

-- name: finish-announcement
UPDATE announcements SET state = 'done', done_at = @now
WHERE id = @id AND NOT EXISTS (SELECT 1 FROM deliveries WHERE announcement_id = @id AND status IN ('pending', 'deferred'));

-- `announce retry ID`: the failed rows get another chance.
-- name: retry-failed
UPDATE deliveries SET status = 'pending', next_attempt_at = NULL, first_attempt_at = NULL, updated_at = @now
WHERE announcement_id = @id AND status = 'failed';

-- name: reopen-announcement
UPDATE announcements SET state = 'sending', done_at = NULL WHERE id = @id AND state = 'done';

-- name: sent-since
SELECT updated_at FROM deliveries WHERE status = 'sent' AND updated_at > @since ORDER BY updated_at;

-- name: seen-ids
SELECT post_id, video FROM posts_seen;

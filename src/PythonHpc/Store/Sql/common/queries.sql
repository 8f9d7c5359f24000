-- Every statement the store runs, by name, in the SQL both providers speak. All are loaded and
-- checked at start, so a missing one stops start-up instead of failing a request. Parameters are
-- @named; times are UTC. What differs between SQLite and PostgreSQL is in sqlite/ and postgres/,
-- under the same file and statement names.

-- name: migrations-version
SELECT COALESCE(MAX(version), 0) FROM schema_migrations;

-- name: migration-applied
INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @now);

-- name: subscriber-by-email
SELECT * FROM subscribers WHERE email_key = @email_key;

-- name: subscriber-by-id
SELECT * FROM subscribers WHERE id = @id;

-- The CAST gives PostgreSQL the type of a parameter that may be null.
-- name: subscribers-by-status
SELECT * FROM subscribers WHERE (CAST(@status AS text) IS NULL OR status = @status) ORDER BY id;

-- name: subscriber-counts
SELECT status, COUNT(*) FROM subscribers GROUP BY status;

-- A subscription request (the form, or `subscribers add` without --confirmed). A confirmed subscriber
-- stays as they are, name included: the form has no login, so it must not change anyone's data.
-- Anyone else becomes pending with this request as their consent: an unsubscribed address that
-- subscribes again is confirmed again.
-- name: subscribe
INSERT INTO subscribers (email, email_key, name, status, source, created_at, consent_at, consent_ip, consent_user_agent)
VALUES (@email, @email_key, @name, 'pending', @source, @now, @now, @ip, @user_agent)
ON CONFLICT (email_key) DO UPDATE SET
    name               = CASE WHEN subscribers.status = 'confirmed' OR excluded.name = '' THEN subscribers.name ELSE excluded.name END,
    status             = CASE WHEN subscribers.status = 'confirmed' THEN 'confirmed' ELSE 'pending' END,
    consent_at         = CASE WHEN subscribers.status = 'confirmed' THEN subscribers.consent_at ELSE excluded.consent_at END,
    consent_ip         = CASE WHEN subscribers.status = 'confirmed' THEN subscribers.consent_ip ELSE excluded.consent_ip END,
    consent_user_agent = CASE WHEN subscribers.status = 'confirmed' THEN subscribers.consent_user_agent ELSE excluded.consent_user_agent END,
    -- Coming back after leaving starts a new subscription: its confirmation goes at once.
    confirmation_sent_at = CASE WHEN subscribers.status IN ('pending', 'confirmed') THEN subscribers.confirmation_sent_at END
RETURNING *;

-- Takes the right to mail a confirmation: once per @resend_after window, so that repeated requests
-- for one address send it one message, not one each.
-- name: claim-confirmation
UPDATE subscribers SET confirmation_sent_at = @now
WHERE id = @id AND status = 'pending' AND (confirmation_sent_at IS NULL OR confirmation_sent_at <= @resend_after);

-- A confirmation that could not be sent gives its claim back.
-- name: release-confirmation
UPDATE subscribers SET confirmation_sent_at = NULL WHERE id = @id;

-- Subscribed by the owner (`subscribers add --confirmed`): confirmed at once, whatever they were.
-- name: add-confirmed
INSERT INTO subscribers (email, email_key, name, status, source, created_at, confirmed_at, consent_at)
VALUES (@email, @email_key, @name, 'confirmed', @source, @now, @now, @now)
ON CONFLICT (email_key) DO UPDATE SET
    name            = CASE WHEN excluded.name = '' THEN subscribers.name ELSE excluded.name END,
    status          = 'confirmed',
    confirmed_at    = CASE WHEN subscribers.status = 'confirmed' THEN subscribers.confirmed_at ELSE excluded.confirmed_at END,
    unsubscribed_at = NULL
RETURNING *;

-- name: confirm
UPDATE subscribers SET status = 'confirmed', confirmed_at = @now, unsubscribed_at = NULL, confirm_ip = @ip, confirm_user_agent = @user_agent
WHERE id = @id AND status = 'pending';

-- Bounced and complained addresses keep their status: it says more than "unsubscribed".
-- name: unsubscribe
UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = @now
WHERE id = @id AND status IN ('pending', 'confirmed');

-- Erasure: the row and with it every piece of personal data.
-- name: remove
DELETE FROM subscribers WHERE email_key = @email_key;

-- An imported row. Status only ever moves towards "less mail": an import can confirm a pending
-- address and record an opt-out, but never re-subscribes an address that left, bounced or complained.
-- name: import
INSERT INTO subscribers (email, email_key, name, status, source, created_at, confirmed_at, unsubscribed_at, consent_at)
VALUES (@email, @email_key, @name, @status, 'import', @now,
        CASE WHEN @status = 'confirmed' THEN @now END,
        CASE WHEN @status = 'unsubscribed' THEN @now END,
        @now)
ON CONFLICT (email_key) DO UPDATE SET
    name            = CASE WHEN excluded.name = '' THEN subscribers.name ELSE excluded.name END,
    status          = CASE
                        WHEN subscribers.status IN ('unsubscribed', 'bounced', 'complained') THEN subscribers.status
                        WHEN excluded.status = 'pending' THEN subscribers.status
                        ELSE excluded.status END,
    confirmed_at    = CASE WHEN subscribers.status = 'pending' AND excluded.status = 'confirmed' THEN excluded.confirmed_at ELSE subscribers.confirmed_at END,
    unsubscribed_at = CASE WHEN subscribers.status IN ('pending', 'confirmed') AND excluded.status = 'unsubscribed' THEN excluded.unsubscribed_at ELSE subscribers.unsubscribed_at END;

-- The addresses that asked for less mail: an import reports how many of its rows they kept out.
-- name: left-email-keys
SELECT email_key FROM subscribers WHERE status IN ('unsubscribed', 'bounced', 'complained');

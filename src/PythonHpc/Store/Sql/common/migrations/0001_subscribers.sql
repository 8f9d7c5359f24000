-- Subscribers and their consent. The migrations are shared by the providers; the column types that
-- differ are placeholders in braces, given by each provider's queries.sql (type-time for time). Times are UTC:
-- SQLite keeps them as ISO 8601 text, which sorts in time order; PostgreSQL as timestamptz.
CREATE TABLE subscribers (
    -- An id is never reused (AUTOINCREMENT, or PostgreSQL's sequence), so a token minted for an
    -- erased subscriber can never name someone else.
    id                      {id},
    -- As given (local part's case kept, domain lower-cased and IDN-encoded) ...
    email                   TEXT NOT NULL,
    -- ... and the key it is known by: all lower-case, so Alice@Example.org is alice@example.org.
    email_key               TEXT NOT NULL UNIQUE,
    name                    TEXT NOT NULL DEFAULT '',
    status                  TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed', 'bounced', 'complained')),
    source                  TEXT NOT NULL CHECK (source IN ('web', 'import', 'cli')),
    created_at              {time} NOT NULL,
    confirmed_at            {time},
    unsubscribed_at         {time},
    -- Proof of consent: the request that asked for the subscription ...
    consent_at              {time},
    consent_ip              TEXT,
    consent_user_agent      TEXT,
    -- ... and the one that confirmed it (the click on the emailed link).
    confirm_ip              TEXT,
    confirm_user_agent      TEXT,
    -- When a confirmation was last mailed: the form cannot be used to flood an inbox.
    confirmation_sent_at    {time}
);

CREATE INDEX subscribers_status ON subscribers (status, id);

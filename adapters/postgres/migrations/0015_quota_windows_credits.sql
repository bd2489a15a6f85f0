-- Quotas beyond the hourly window (issue 16): a minute and a day window beside the
-- hour on each subject's quota_windows row, and the credits being spent. NULL: the
-- subject has no such window, or is not metered. Their logic is functions/quota.sql.
ALTER TABLE quota_windows
    ADD COLUMN minute_head       bigint,
    ADD COLUMN minute_counts     integer[],
    ADD COLUMN day_head          bigint,
    ADD COLUMN day_counts        integer[],
    -- The key's credits_version the count started from (domain/credits.py).
    ADD COLUMN credits_version   bigint,
    ADD COLUMN credits_remaining integer,
    -- The refill period (days or months since 1970) the count belongs to.
    ADD COLUMN credits_period    integer;

-- Credits an admin set on a key: the number, its refill, and a version raised on every
-- set, so a store holding an older count starts again from the new number.
ALTER TABLE api_keys
    ADD COLUMN credits_remaining     integer CHECK (credits_remaining >= 0),
    ADD COLUMN credits_refill        text CHECK (credits_refill IN ('daily', 'monthly')),
    ADD COLUMN credits_refill_amount integer CHECK (credits_refill_amount >= 0),
    ADD COLUMN credits_version       bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT api_keys_refill_whole CHECK (
        (credits_refill IS NULL) = (credits_refill_amount IS NULL)
        AND (credits_refill IS NULL OR credits_remaining IS NOT NULL));

-- Which keygate database this is, so counters kept outside it (Redis) are namespaced
-- per database: two deployments, or a database dropped and made again, never share.
INSERT INTO keygate_secrets VALUES ('deployment', replace(gen_random_uuid()::text, '-', ''));

-- Its successor, quota_bucket_expiry (functions/quota.sql), knows every window's length.
DROP FUNCTION IF EXISTS quota_seconds_until_expiry(bigint, double precision);

-- Dashboard sessions live on the server (issue 14 #7): the sealed cookie names a row
-- here, every signed-in page checks the row by its primary key, and sign-out deletes
-- it, so a copy of the cookie ends with the session on every instance. Rows past
-- expires_at are deleted by each serve worker's periodic purge.
CREATE TABLE dashboard_sessions (
    id         text PRIMARY KEY,
    user_id    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX dashboard_sessions_expires_at_idx ON dashboard_sessions (expires_at);

-- Per-category resource counts, so that the list's `total` needs no count(*). The
-- triggers that keep them and the compaction are functions/counts.sql.
CREATE TABLE resource_counts (
    category text,          -- NULL: the resources without a category
    n        bigint NOT NULL
);
CREATE INDEX resource_counts_category_idx ON resource_counts (category);

-- Writers wait while the table is counted once and the triggers appear: migrate.py
-- creates them (functions/counts.sql) in this same transaction.
LOCK TABLE resources IN SHARE MODE;

INSERT INTO resource_counts SELECT category, count(*) FROM resources GROUP BY category;


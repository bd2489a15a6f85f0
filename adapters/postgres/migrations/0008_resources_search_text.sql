-- Search without ILIKE: ILIKE folds the case of every row it reads, about 5x the
-- cost of LIKE here (340 vs 65 ms to count "cloud" in 120k rows). A stored lowercase
-- copy of name and description lets a search be a plain LIKE on lower(term).
-- chr(31) (unit separator) stands between the two, so a term without it cannot
-- match across them; the adapter searches the old way when a term contains it.
ALTER TABLE resources ADD COLUMN search_text text
    GENERATED ALWAYS AS (lower(name) || chr(31) || lower(coalesce(description, ''))) STORED;

-- One trigram index on the copy replaces the two on the original columns.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX resources_search_trgm_idx ON resources USING gin (search_text gin_trgm_ops);
        DROP INDEX IF EXISTS resources_name_trgm_idx;
        DROP INDEX IF EXISTS resources_description_trgm_idx;
    END IF;
END $$;

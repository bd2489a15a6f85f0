-- A category filter sorted by category is ordered by id alone (see list_sql).
CREATE INDEX resources_category_id_idx ON resources (category, id);

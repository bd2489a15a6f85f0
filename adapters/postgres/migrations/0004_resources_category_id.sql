-- A category filter sorted by category is ordered by id alone (see adapters/postgres/resource_list.py).
CREATE INDEX resources_category_id_idx ON resources (category, id);

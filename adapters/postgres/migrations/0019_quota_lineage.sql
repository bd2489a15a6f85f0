-- A rotated key's successor counts on its predecessor's quota (windows and credits):
-- a rotation changes the secret, never what is left to spend. NULL: the key counts on
-- its own id (every key issued, not rotated).
ALTER TABLE api_keys ADD COLUMN quota_key_id bigint;

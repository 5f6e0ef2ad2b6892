-- Error text with ids and numbers taken out, so one kind of failure groups together:
-- UUIDs, prefixed ids (obj_0012, raysubmit_81), long hex runs -> <id>; numbers -> <n>.
CREATE OR REPLACE MACRO normalize_error(message) AS
trim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
    message,
    '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}', '<id>', 'g'),
    '\b[A-Za-z][A-Za-z0-9]*[_-][A-Za-z0-9_-]*[0-9][A-Za-z0-9_-]*', '<id>', 'g'),
    '\b[0-9A-Fa-f]{8,}\b', '<id>', 'g'),
    '[0-9]+([.,][0-9]+)*', '<n>', 'g'),
    '\s+', ' ', 'g'));

-- The stuck-task threshold the views were last built with.
SELECT stuck_after_hours FROM analytics_settings;

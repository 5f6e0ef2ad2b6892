-- Settings the views read; a view cannot take parameters, and BI tools only see views.
CREATE OR REPLACE TABLE analytics_settings AS
SELECT CAST($stuck_after_hours AS DOUBLE) AS stuck_after_hours;

# Every stored date is UTC, and Django's admin shows dates in TIME_ZONE (UTC): say so
# (the admin's History, read-only dates), unambiguously ordered.
DATETIME_FORMAT = "Y-m-d H:i:s T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"

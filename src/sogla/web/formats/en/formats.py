"""English dates in one unambiguous form, "3 Dec 2026" (not "12/03/2026", which
reads as 12 March in most of the world, nor "Dec. 3, 2026"). Other names fall back
to Django's English formats."""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j F"
TIME_FORMAT = "H:i"

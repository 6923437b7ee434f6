"""The domain's numbers, each with one home. Models (database checks), forms (validators), services, templates
(the `rules` global) and page scripts (`rules` in their JSON data) all read them from here."""

# The 0-10 numeric pain scale; perceived stress uses the same scale.
PAIN_RANGE = (0, 10)
# What the database and the forms accept.
LENGTH_RANGE = (5, 240)  # session length, minutes
PRESSURE_RANGE = (1, 600)  # a hold, seconds
HEART_RATE_RANGE = (30, 220)  # beats per minute
SYSTOLIC_RANGE = (60, 260)  # mmHg
DIASTOLIC_RANGE = (30, 160)  # mmHg
VITAL_RANGES = {
    "stress": PAIN_RANGE,
    "heart_rate": HEART_RATE_RANGE,
    "systolic": SYSTOLIC_RANGE,
    "diastolic": DIASTOLIC_RANGE,
}
MAX_RECORD_ID = (
    2**31 - 1
)  # the largest id a record can have (PostgreSQL's integer); ids and numbers in URLs are checked against it
MAX_POINTS_PER_SESSION = 60  # far more than one session treats; a bound on what one request can store

# Advice, not limits: digital pressure is held 30-90 s (shorter can irritate, longer can bruise), and
# therapists aim for about 7/10 during compression. A hold outside the range, or pain above the target,
# earns a warning.
ADVISED_PRESSURE = (30, 90)
COMPRESSION_PAIN_TARGET = 7

# A change a client notices: at least 2 points and at least 30% below the baseline (the first session's
# pain before treatment). Both, so that 1/10 -> 0/10 (100%) and 9/10 -> 7/10 (22%) do not count.
MEANINGFUL_DROP_POINTS = 2
MEANINGFUL_DROP_FRACTION = 0.30

# Two sessions of one client this close together are probably one session logged twice: ask before saving.
NEAR_SESSION_MINUTES = 30
# The hours offered as one-tap start times when sessions are logged at the end of the day.
QUICK_HOURS = tuple(range(8, 20))

SUGGESTIONS = 6  # muscles suggested on the session form from the reported pain regions
SUMMARY_MUSCLES = 12  # rows in the physician summary's muscle table
SUMMARY_FINDINGS = 3  # an objective or assessment finding on the physician summary: its latest wording, two before
RECENT_SESSIONS = (
    100  # a client page without a period shows the days of this many latest sessions ("All time" shows all)
)


def pressure_outside_advice(seconds: int) -> bool:
    return not ADVISED_PRESSURE[0] <= seconds <= ADVISED_PRESSURE[1]


def pain_above_target(pain: int) -> bool:
    return pain > COMPRESSION_PAIN_TARGET


def meaningful_threshold(baseline: int) -> float:
    """The pain at or below which a client counts as meaningfully improved from this baseline."""
    return baseline - max(MEANINGFUL_DROP_POINTS, MEANINGFUL_DROP_FRACTION * baseline)


def is_meaningful_improvement(baseline: int, pain: int) -> bool:
    return baseline > 0 and pain <= meaningful_threshold(baseline)


def is_worsening(baseline: int | None, latest: int | None) -> bool:
    """Pain on arrival above the first visit's: any rise is flagged, in words, on the summary and client page."""
    return baseline is not None and latest is not None and latest > baseline


def meaningful_rule() -> str:
    percent = round(MEANINGFUL_DROP_FRACTION * 100)
    return f"a drop of at least {MEANINGFUL_DROP_POINTS} points and at least {percent}% from the first visit's pain"


def for_pages() -> dict:
    """The advice page scripts repeat on the client side (warnings as a number is typed, the suggestion count)."""
    return {
        "advisedPressure": list(ADVISED_PRESSURE),
        "compressionPainTarget": COMPRESSION_PAIN_TARGET,
        "suggestions": SUGGESTIONS,
    }


# The appointment book.
APPOINTMENT_LENGTH_RANGE = LENGTH_RANGE  # an appointment is booked for as long as a session may last
DEFAULT_APPOINTMENT_MINUTES = 60
APPOINTMENT_NOTE_MAX = 200  # a short note ("prefers the left room"); clinical notes belong in the session
BOOK_HOURS = (8, 20)  # the day view offers free slots from 08:00 to 20:00, clinic time
SLOT_MINUTES = 30  # free time is offered in steps of this many minutes
REBOOK_DAYS = 7  # "book the next visit" suggests this many days after the last session, unless the plan says
FEED_PAST_DAYS = 30  # the calendar feed carries appointments from this many days back
FEED_AHEAD_DAYS = 366  # ... to this many days ahead

# Client intake before the visit (DESIGN 11).
INTAKE_LINK_HOURS = 72  # a one-time intake link works this long after it is made
INTAKE_TOKEN_BYTES = 32  # 256 bits of randomness (DESIGN 11 asks for at least 128)
INTAKE_MISSES_PER_ADDRESS = 20  # wrong intake links from one address within the window before it is refused
INTAKE_MISS_WINDOW_MINUTES = 15
PSFS_ACTIVITIES = 3  # the Patient-Specific Functional Scale: up to three activities, each 0-10
INTAKE_TEXT_MAX = 2000  # characters in a free-text answer on the intake form
# Minimal detectable change of the PSFS: about 2 points for the mean of the activity scores and about 3 for
# a single activity (Stratford P, Gill C, Westaway M, Binkley J. Assessing disability and change on individual
# patients: a report of a patient specific measure. Physiotherapy Canada 1995;47:258-263; reviewed in Horn KK
# et al. The Patient-Specific Functional Scale: psychometrics, clinimetrics, and application as a clinical
# outcome measure. J Orthop Sports Phys Ther 2012;42(1):30-42). A smaller change may be measurement noise.
PSFS_MDC_MEAN = 2.0
PSFS_MDC_SOURCE = "Stratford et al., Physiotherapy Canada 1995; Horn et al., JOSPT 2012"
# Trigger point status from the compression pain of its treatments (the 0-10 scale): below this it is no
# longer tender.
TENDER_FROM = 3
RESOLVED_VISITS = 2  # resolved: neither tender nor reproducing the referral across this many last visits

# Accounts (DESIGN 9).
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 200
# Failed logins slow down, they never lock: within the window, the failures beyond the free ones make each
# next attempt wait 2^(n - free) seconds after the last failure, at most the cap. One account gets few free
# failures; an address (perhaps a whole clinic behind one router) many more.
LOGIN_FAILURE_WINDOW_MINUTES = 60
LOGIN_FREE_FAILURES_PER_ACCOUNT = 5
LOGIN_FREE_FAILURES_PER_ADDRESS = 50
LOGIN_MAX_DELAY_SECONDS = 60
# A browser that completed a login to an account is known to it for this long (a signed cookie): strangers'
# failures for that email do not slow it down, only its own do.
LOGIN_DEVICE_DAYS = 180
# Two-factor login (TOTP, RFC 6238): 6 digits every 30 s; a code of the step before or after is accepted.
TOTP_DIGITS = 6
TOTP_VALID_WINDOW = 1
RECOVERY_CODES = 10
TWO_FACTOR_STEP_MINUTES = 5  # between the password and the code; then the password is asked again
# A login lasts at most this long however active it is (the idle timeout is the config's 30 minutes).
SESSION_ABSOLUTE_HOURS = 12
SESSION_TOUCH_SECONDS = 60  # how stale a session's "last seen" may get before it is written again

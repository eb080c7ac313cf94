"""Constants of the demo city the test run loads."""

DEMO_UNITS = 3000
DEMO_SEED = 7

"""What an object id in an API URL or filter may be: the one range every database here stores.

Ids are positive 64-bit integers; routes take 1-18 digits without a leading zero (so no value can
overflow SQLite's or PostgreSQL's bigint), and anything else is simply not a route: a JSON 404.
"""

MAX_ID = 10**18 - 1
ID_ROUTE_REGEX = r"[1-9][0-9]{0,17}"

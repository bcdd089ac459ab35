"""How REST API callers prove who they are.

Token first: DRF answers an anonymous caller from the first class's challenge, so a script
without credentials gets 401 with `WWW-Authenticate: Token` (session-first would give 403).
Browsers keep using their session (with CSRF) for the browsable API and the docs page.
"""

from rest_framework.authentication import SessionAuthentication, TokenAuthentication

API_AUTHENTICATION_CLASSES = [TokenAuthentication, SessionAuthentication]

"""`awslogin emulator`: a local AWS Sign-In service (and STS GetCallerIdentity) for tests, CI
and demos. It meets the client over HTTP only and imports nothing of it.
"""

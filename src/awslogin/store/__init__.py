"""Files awslogin keeps: the shared config file, the token cache, and the refresh locks.

Nothing here imports botocore, cryptography or an HTTP client: `credential-process` loads
`store.config` and `store.cache` on its hot path.
"""

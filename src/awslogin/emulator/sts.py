"""STS GetCallerIdentity at `POST /` (query protocol), to prove issued credentials work."""

from __future__ import annotations

import hmac
import uuid
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response

from awslogin.emulator.bodies import MAX_BODY, BodyTooLarge, read_capped
from awslogin.emulator.identities import parse_identity
from awslogin.emulator.sigv4 import SignatureError, parse_authorization, verify
from awslogin.emulator.state import Store

XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"


def _xml(body: str, request_id: str, status: int = 200) -> Response:
    return Response(
        f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n',
        status_code=status,
        media_type="text/xml",
        headers={"x-amzn-RequestId": request_id},
    )


def sts_error(code: str, message: str, status: int = 403) -> Response:
    """An STS `ErrorResponse`."""
    kind = "Sender" if status < 500 else "Receiver"
    request_id = str(uuid.uuid4())
    return _xml(
        f'<ErrorResponse xmlns="{XMLNS}">\n'
        f"  <Error>\n    <Type>{kind}</Type>\n    <Code>{escape(code)}</Code>\n"
        f"    <Message>{escape(message)}</Message>\n  </Error>\n"
        f"  <RequestId>{request_id}</RequestId>\n</ErrorResponse>",
        request_id,
        status,
    )


def caller_identity(arn: str) -> Response:
    """A GetCallerIdentity success response for *arn*."""
    identity = parse_identity(arn)
    request_id = str(uuid.uuid4())
    return _xml(
        f'<GetCallerIdentityResponse xmlns="{XMLNS}">\n'
        "  <GetCallerIdentityResult>\n"
        f"    <Arn>{escape(identity.arn)}</Arn>\n"
        f"    <UserId>{escape(identity.user_id)}</UserId>\n"
        f"    <Account>{identity.account}</Account>\n"
        "  </GetCallerIdentityResult>\n"
        f"  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n"
        "  </ResponseMetadata>\n</GetCallerIdentityResponse>",
        request_id,
    )


class StsEndpoint:
    """The Starlette handler for POST / (STS query protocol, GetCallerIdentity only)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def __call__(self, request: Request) -> Response:
        """Verify the SigV4 signature and answer with the caller's identity."""
        try:
            raw = await read_capped(request, MAX_BODY)
        except BodyTooLarge:
            return sts_error("ValidationError", "The request body is too large.", 400)
        try:
            params = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8")).items()}
        except UnicodeDecodeError:
            return sts_error("MalformedInput", "The request body is not a valid form.", 400)
        action = params.get("Action") or request.query_params.get("Action")
        if action != "GetCallerIdentity":
            return sts_error(
                "InvalidAction", "The emulator only implements STS GetCallerIdentity.", 400
            )
        try:
            return caller_identity(self._check(request, raw))
        except SignatureError as exc:
            request.state.log_note = exc.code
            return sts_error(exc.code, str(exc))

    def _check(self, request: Request, raw: bytes) -> str:
        """The caller's ARN; SignatureError with the STS error code otherwise."""
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]]
        auth = parse_authorization(request.headers.get("authorization"))
        with self.store.lock:
            key = self.store.access_keys.get(auth.access_key_id)
            now = self.store.now()
        invalid_token = "The security token included in the request is invalid."
        if key is None:
            raise SignatureError("InvalidClientTokenId", invalid_token)
        sent_token = request.headers.get("x-amz-security-token", "")
        if not hmac.compare_digest(sent_token.encode(), key.session_token.encode()):
            raise SignatureError("InvalidClientTokenId", invalid_token)
        if key.expires < now:
            raise SignatureError(
                "ExpiredToken", "The security token included in the request is expired"
            )
        verify(
            method=request.method,
            raw_path=request.scope.get("raw_path", b"/").decode("latin-1"),
            raw_query=request.scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=raw,
            auth=auth,
            secret=key.secret,
            service="sts",
            now=now,
        )
        return key.identity

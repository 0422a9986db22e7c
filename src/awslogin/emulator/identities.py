"""The console sessions a user can pick: assumed roles, IAM users and root users."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_PARTITIONS = "aws|aws-cn|aws-us-gov"
_NAME = r"[\w+=,.@-]{1,128}"
_ROLE = re.compile(
    rf"^arn:(?P<partition>{_PARTITIONS}):sts::(?P<account>\d{{12}}):assumed-role/"
    rf"(?P<role>{_NAME})/(?P<session>[\w+=,.@-]{{2,64}})\Z"
)
_USER = re.compile(
    rf"^arn:(?P<partition>{_PARTITIONS}):iam::(?P<account>\d{{12}}):user/"
    rf"(?P<path>(?:{_NAME}/)*)(?P<user>[\w+=,.@-]{{1,64}})\Z"
)
_ROOT = re.compile(rf"^arn:(?P<partition>{_PARTITIONS}):iam::(?P<account>\d{{12}}):root\Z")
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@dataclass(frozen=True)
class Identity:
    """One console session: its ARN and what the session page shows about it."""

    arn: str
    account: str
    name: str
    kind: str  # "Assumed role", "IAM user" or "Root user"

    @property
    def account_display(self) -> str:
        """The account id grouped the way the console shows it (1111-2222-3333)."""
        a = self.account
        return f"{a[0:4]}-{a[4:8]}-{a[8:12]}"

    @property
    def user_id(self) -> str:
        """A stable, AWS-looking UserId for STS GetCallerIdentity."""
        if self.kind == "Root user":
            return self.account
        digest = hashlib.sha256(self.arn.encode()).digest()
        unique = "".join(_ID_ALPHABET[b % 32] for b in digest[:17])
        if self.kind == "Assumed role":
            return f"AROA{unique}:{self.name.split('/', 1)[1]}"
        return f"AIDA{unique}"


def parse_identity(arn: str) -> Identity:
    """Validate *arn* as a console-session ARN; ValueError with a plain sentence otherwise."""
    if m := _ROLE.match(arn):
        return Identity(arn, m["account"], f"{m['role']}/{m['session']}", "Assumed role")
    if m := _USER.match(arn):
        return Identity(arn, m["account"], m["user"], "IAM user")
    if m := _ROOT.match(arn):
        return Identity(arn, m["account"], "root", "Root user")
    raise ValueError(
        f"'{arn}' is not an assumed-role, IAM user or root ARN "
        "(e.g. arn:aws:sts::111122223333:assumed-role/Developer/alice)"
    )

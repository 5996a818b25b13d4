from __future__ import annotations

from collections.abc import Collection

from bot.slack.authz import Authorizer, GroupLookupError

ADMIN, MEMBER, OTHER = "U0ADMIN01", "U0MEMBER1", "U0OTHER01"


class Groups:
    """members_of stand-in: counts lookups, can fail."""

    def __init__(self, groups: dict[str, list[str]]) -> None:
        self.groups = groups
        self.lookups: list[str] = []
        self.error: str | None = None

    def __call__(self, group: str) -> Collection[str]:
        self.lookups.append(group)
        if self.error:
            raise GroupLookupError(f"{group}: {self.error}")
        return self.groups.get(group, [])


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def make(
    *,
    admins: Collection[str] = (),
    groups: Collection[str] = (),
    channels: Collection[str] = (),
    members: Groups | None = None,
    clock: Clock | None = None,
) -> Authorizer:
    return Authorizer(
        admins=admins,
        admin_groups=groups,
        channels=channels,
        members_of=members or Groups({}),
        ttl_s=60,
        clock=clock or Clock(),
    )


def test_deny_by_default() -> None:
    decision = make().may_close(ADMIN, "C0OPS0001")
    assert not decision.allowed and "no qlocks admins are configured" in decision.reason


def test_listed_admin_allowed_others_denied() -> None:
    authz = make(admins=[ADMIN])
    assert authz.may_close(ADMIN, "C0ANY0001").allowed
    denied = authz.may_close(OTHER, "C0ANY0001")
    assert not denied.allowed and "only qlocks admins" in denied.reason
    assert not authz.may_close(None, "C0ANY0001").allowed
    assert not authz.may_close("", "C0ANY0001").allowed


def test_channel_restriction_applies_to_search_and_close() -> None:
    authz = make(admins=[ADMIN], channels=["C0OPS0001"])
    assert authz.may_use("C0OPS0001").allowed
    assert not authz.may_use("C0RANDOM1").allowed
    assert not authz.may_use(None).allowed
    assert "<#C0OPS0001>" in authz.may_use("C0RANDOM1").reason
    assert not authz.may_close(ADMIN, "C0RANDOM1").allowed
    assert authz.may_close(ADMIN, "C0OPS0001").allowed
    assert make().may_use("C0ANYWHERE").allowed  # empty = anywhere


def test_group_membership_is_cached_for_ttl() -> None:
    groups, clock = Groups({"S0ADMINS1": [MEMBER]}), Clock()
    authz = make(groups=["S0ADMINS1"], members=groups, clock=clock)
    assert authz.may_close(MEMBER, "C1").allowed
    assert not authz.may_close(OTHER, "C1").allowed
    assert groups.lookups == ["S0ADMINS1"]
    groups.groups["S0ADMINS1"] = [OTHER]  # membership changes in Slack
    assert authz.may_close(MEMBER, "C1").allowed  # still cached
    clock.t += 61
    assert not authz.may_close(MEMBER, "C1").allowed
    assert authz.may_close(OTHER, "C1").allowed
    assert groups.lookups == ["S0ADMINS1", "S0ADMINS1"]


def test_group_lookup_failure_denies_and_is_not_cached() -> None:
    groups = Groups({"S0ADMINS1": [MEMBER]})
    groups.error = "plan_upgrade_required"
    authz = make(groups=["S0ADMINS1"], members=groups)
    denied = authz.may_close(MEMBER, "C1")
    assert not denied.allowed and "plan_upgrade_required" in denied.reason
    groups.error = None
    assert authz.may_close(MEMBER, "C1").allowed


def test_listed_admin_needs_no_group_lookup() -> None:
    groups = Groups({})
    assert make(admins=[ADMIN], groups=["S0ADMINS1"], members=groups).may_close(ADMIN, "C1").allowed
    assert groups.lookups == []

"""Which session holds a handle, when the cluster says so: location linkage, checked per cluster at run time.

Qumulo documents no handle <-> session key (qumulo-rest.md §9). Real handle locations look like
``4.676543750958.39903``; if a handle's location *extends* its session's location (session ``4.676543750958``),
the session -- and with it the client IP, node, open and idle time -- is known exactly. That is undocumented, so
qlocks never assumes it: it measures it. For every handle whose location extends exactly one known session's
location (longest dotted prefix), it checks the other, independent join: handle ``owner`` == that session's
``user.auth_id``. The linkage is trusted for a cluster only when

- at least ``MIN_LINKED`` (20) such handles were seen: if the prefix meant something else, owner and user would
  agree only by chance (at most 1 in 2 per handle even with two users), so 20 agreements in a row by chance are
  below one in a million; and
- at least ``AGREEMENT`` (99 %) of them agree: on a cluster where the linkage holds, every one agrees except a
  handle listed across a session's close and reopen; the 1 % absorbs that churn, nothing more.

Anything else (opaque locations, too few linked handles, disagreement) falls back to the owner/grant heuristics of
``join.py``. When the two joins disagree, neither can be relied on, and the search says so.

Client addresses are compared normalised (``normalize_address``): ``::ffff:10.1.2.3`` is ``10.1.2.3``, IPv6 in
any spelling is its compressed form, brackets and zone IDs are dropped.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.qumulo.models import FileHandle, SmbSession

MIN_LINKED = 20
AGREEMENT = 0.99
#: Handles measured (against a session list) after which "fewer than MIN_LINKED linked" means the locations do
#: not extend session locations on this cluster: decided, no probe needed.
DECIDED_AFTER = 50

CONTRADICTED_NOTE = (
    "client unknown where the locks leave several possibilities: handle locations on this cluster look like "
    "extensions of session locations, but {bad} of {n} such handles belong to another user than that session's, "
    "so the cluster does not say which session holds a handle. To find a holder's client, search the file's full "
    "path, or list that user's sessions (qq smb_list_sessions)"
)


def normalize_address(address: str) -> str:
    """One spelling per client address: IPv4-mapped IPv6 -> IPv4, IPv6 compressed lower case, no brackets or
    zone; anything that is not an IP address is returned stripped and lower-cased."""
    text = address.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    text = text.split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return address.strip().lower()
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def address_forms(address: str) -> tuple[str, ...]:
    """The spellings a cluster may use in an ``owner_address`` filter for this client (normalised first)."""
    norm = normalize_address(address)
    forms = [norm]
    try:
        ip = ipaddress.ip_address(norm)
    except ValueError:
        return tuple(forms)
    if isinstance(ip, ipaddress.IPv4Address):
        forms.append(f"::ffff:{norm}")
    else:
        forms.append(ip.exploded)
    return tuple(dict.fromkeys(forms))


def index_locations(sessions: Iterable[SmbSession]) -> dict[str, SmbSession]:
    """session location -> session; a location listed for two different sessions is left out (ambiguous)."""
    out: dict[str, SmbSession] = {}
    clash: set[str] = set()
    for s in sessions:
        if not s.location:
            continue
        seen = out.get(s.location)
        if seen is not None and (seen.auth_id, seen.originator) != (s.auth_id, s.originator):
            clash.add(s.location)
        out[s.location] = s
    for location in clash:
        del out[location]
    return out


def session_of(location: str, by_location: Mapping[str, SmbSession]) -> SmbSession | None:
    """The session whose location is the longest dotted proper prefix of ``location``, if any."""
    end = location.rfind(".")
    while end > 0:
        s = by_location.get(location[:end])
        if s is not None:
            return s
        end = location.rfind(".", 0, end)
    return None


@dataclass(frozen=True, slots=True)
class Linkage:
    """Evidence for "a handle's location extends its session's location" on one cluster."""

    linked: int = 0  # handles (owner known) whose location extends a known session's (user known) location
    agreed: int = 0  # ... whose owner is that session's user
    measured: int = 0  # handles (owner known) looked at, linked or not

    @property
    def disagreed(self) -> int:
        return self.linked - self.agreed

    @property
    def trusted(self) -> bool:
        return self.linked >= MIN_LINKED and self.agreed >= AGREEMENT * self.linked

    @property
    def contradicted(self) -> bool:
        """Enough linked handles to judge, and too many of them disagree."""
        return self.linked >= MIN_LINKED and not self.trusted

    @property
    def decided(self) -> bool:
        """Enough evidence either way: trusted, contradicted, or many handles and too few linked."""
        return self.trusted or self.contradicted or self.measured >= DECIDED_AFTER

    def __add__(self, other: Linkage) -> Linkage:
        return Linkage(self.linked + other.linked, self.agreed + other.agreed, self.measured + other.measured)

    def note(self) -> str | None:
        if not self.contradicted:
            return None
        return CONTRADICTED_NOTE.format(bad=self.disagreed, n=self.linked)


def measure(handles: Iterable[FileHandle], by_location: Mapping[str, SmbSession]) -> Linkage:
    """Count, over ``handles``, the linked ones and those whose owner agrees with the linked session's user."""
    linked = agreed = measured = 0
    if not by_location:
        return Linkage()
    for h in handles:
        if not h.owner:
            continue
        measured += 1
        s = session_of(h.location, by_location)
        if s is None or not s.auth_id:
            continue
        linked += 1
        agreed += s.auth_id == h.owner
    return Linkage(linked, agreed, measured)


__all__ = [
    "AGREEMENT",
    "DECIDED_AFTER",
    "MIN_LINKED",
    "Linkage",
    "address_forms",
    "index_locations",
    "measure",
    "normalize_address",
    "session_of",
]

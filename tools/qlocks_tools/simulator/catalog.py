"""Word lists for the seeded generator: plausible departments, projects, file names and hosts.

Some names are deliberately hostile to naive code: spaces, Unicode, ``&``, ``<``, ``>``, ``*``, backticks, ``%``,
``?``, ``#``, ``+``, Slack control sequences such as ``<!channel>``, and very long names.
"""

from __future__ import annotations

DEFAULT_SHARES = (
    ("Finance", "/finance", "Finance department"),
    ("Projects", "/projects", "Engineering and customer projects"),
    ("Media", "/media", "Video and design production"),
    ("CAD", "/cad", "CAD and BIM models"),
    ("Home", "/home", "User home directories"),
    ("Q3-Close", "/finance/2026/Q3", "Quarter close workspace"),
    ("Archive$", "/archive", "Hidden archive share"),
)

FIRST_USERS = (
    "dana",
    "alex",
    "priya",
    "marco",
    "zoë",
    "li.wei",
    "sam",
    "josé",
    "björn",
    "aisha",
    "tomás",
    "mei",
)
GIVEN = (
    "anna",
    "ben",
    "carla",
    "david",
    "elena",
    "farid",
    "greta",
    "hiro",
    "ines",
    "jonas",
    "kofi",
    "lena",
    "mateo",
    "nina",
    "omar",
    "paula",
    "quinn",
    "rosa",
    "sven",
    "tara",
    "umar",
    "vera",
    "will",
    "xin",
    "yara",
    "zane",
    "åsa",
    "chloé",
    "dmitri",
    "ewa",
    "françois",
    "gül",
    "håkon",
    "ilse",
    "jürgen",
    "kasia",
    "łukasz",
    "noémie",
)
FAMILY = (
    "smith",
    "garcia",
    "müller",
    "nguyen",
    "okafor",
    "rossi",
    "kowalski",
    "tanaka",
    "silva",
    "dubois",
    "kim",
    "larsen",
    "novak",
    "patel",
    "ahmed",
    "o'brien",
    "van-dijk",
    "cohen",
    "haddad",
    "ivanova",
)
SERVICE_USERS = ("svc-render", "r&d-build", "svc-backup")

DEPARTMENTS = ("finance", "projects", "media", "cad")
HOST_PREFIX = {"finance": "FIN-LT", "projects": "ENG-WS", "media": "MEDIA-MAC", "cad": "CAD-WS"}

FINANCE_DIRS = (
    "2024",
    "2025",
    "2026",
    "2026/Q1",
    "2026/Q2",
    "2026/Q3",
    "2026/Q4",
    "audit",
    "payroll",
    "AP & AR",
)
FINANCE_NAMES = (
    "budget",
    "forecast",
    "Q3 forecast",
    "P&L",
    "headcount plan",
    "report",
    "board deck",
    "cash flow",
    "expenses",
    "invoice register",
    "tax provision",
    "reconciliation",
    "capex <draft>",
    "variance analysis",
    "KPI dashboard",
)
FINANCE_EXT = (".xlsx", ".xlsx", ".xlsx", ".xlsm", ".csv", ".docx", ".pdf", ".pptx")

PROJECTS = (
    "apollo",
    "zephyr",
    "Kestrel Bridge",
    "Müller GmbH",
    "R&D",
    "client <acme>",
    "orion",
    "北京 office",
)
PROJECT_SUBDIRS = ("specs", "meetings", "deliverables", "drafts", "contracts", "design reviews")
PROJECT_NAMES = (
    "report",
    "requirements",
    "status update",
    "timeline",
    "risk register",
    "minutes",
    "proposal",
    "SOW",
    "architecture",
    "test plan",
    "roadmap",
    "handover notes",
    "budget & staffing",
)
PROJECT_EXT = (".docx", ".docx", ".pptx", ".xlsx", ".vsdx", ".mpp", ".pdf", ".one")

SHOWS = ("promo 2026", "Brand film", "🎬 trailer", "Campaign & launch", "customer stories", "social cuts")
MEDIA_SUBDIRS = ("edit", "vfx", "audio", "footage/A-cam", "footage/B-cam", "graphics", "exports")
MEDIA_NAMES = (
    "final cut",
    "rough cut",
    "interview",
    "b-roll",
    "title card",
    "sound mix",
    "color grade",
    "lower third",
)
MEDIA_EXT = (".prproj", ".aep", ".mov", ".mp4", ".psd", ".wav", ".braw", ".drp", ".mxf")

CAD_PROJECTS = ("Kestrel Bridge", "Harbor Tower", "Plant 7 retrofit", "Ørestad housing", "metro line <B>")
CAD_SUBDIRS = ("architectural", "structural", "MEP", "site", "xrefs", "issued")
CAD_NAMES = (
    "deck",
    "floor plan L1",
    "floor plan L2",
    "section A-A",
    "foundation",
    "elevations",
    "site plan",
    "detail",
)
CAD_EXT = (".dwg", ".dwg", ".rvt", ".ipt", ".iam", ".sldprt", ".sldasm", ".step", ".nwd")

HOME_SUBDIRS = ("Documents", "Desktop", "Downloads", "Documents/notes")
HOME_NAMES = ("notes", "todo", "cv", "expenses", "scratch", "meeting prep", "draft")
HOME_EXT = (".docx", ".txt", ".xlsx", ".pdf", ".md", ".pptx")

ARCHIVE_DIRS = ("2019", "2020", "2021", "legacy/projects", "legacy/finance")
ARCHIVE_EXT = (".zip", ".pdf", ".xlsx", ".docx", ".tar")

# File names that trip up escaping, URL-encoding, Markdown and Slack mrkdwn.
HOSTILE_NAMES = (
    "Q3 budget & forecast.xlsx",
    "<draft> plan & notes.docx",
    "résumé – Zoë.docx",
    "日本語レポート.xlsx",
    "*final* v2.pptx",
    "`rm -rf` notes.txt",
    "<!channel> all hands.pptx",
    "<@U024BE7LH> review.docx",
    "a > b comparison.xlsx",
    "100% done?.xlsx",
    "hash#tag + plus.docx",
    "%2F looks encoded.txt",
    "_under_ and ~strike~.md",
    "emoji 🎉 party.pptx",
    "semi;colon & 'quote'.csv",
    "x" * 120 + " very long name.xlsx",
)

# Paths that always exist (in this order) so docs, demos and tests have stable examples.
# (path, [(user, client slot, kind)]); client slot 0 = the user's own workstation, 1 = their laptop.
ANCHORS: tuple[tuple[str, tuple[tuple[str, int, str], ...]], ...] = (
    ("/finance/2026/Q3/Q3 forecast.xlsx", (("dana", 0, "write"), ("priya", 0, "read"), ("marco", 0, "read"))),
    ("/finance/2026/Q3/~$Q3 forecast.xlsx", (("dana", 0, "exclusive"),)),
    ("/projects/apollo/report.xlsx", (("alex", 0, "write"), ("alex", 1, "read"))),
    ("/finance/2026/report.xlsx", (("zoë", 0, "write"),)),
    ("/cad/Kestrel Bridge/structural/deck v2.dwg", (("li.wei", 0, "exclusive"),)),
    ("/media/promo 2026/edit/final cut.prproj", (("sam", 0, "write"), ("svc-render", 0, "preview"))),
    ("/projects/R&D/<draft> plan & notes.docx", (("josé", 0, "write"), ("dana", 1, "read"))),
    ("/home/dana/Documents/résumé – Zoë.docx", (("dana", 0, "write"),)),
    ("/media/🎬 trailer/`teaser` *v3*.mov", (("björn", 0, "read"), ("aisha", 0, "read"))),
    ("/projects/client <acme>/<!channel> all hands.pptx", (("tomás", 0, "write"),)),
    ("/finance/2026/100% done?.xlsx", (("mei", 0, "write"), ("priya", 1, "read"))),
)

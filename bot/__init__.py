"""qlocks: find and close SMB file locks on Qumulo clusters from Slack."""

__version__ = "0.1.0"

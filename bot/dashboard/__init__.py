"""The clinicians' web dashboard, served by `guidebot run` when GUIDEBOT_DASHBOARD_LISTEN is set."""

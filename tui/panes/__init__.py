"""The four panes. Each one is a consumer of engine events (``apply_event``), so a live
Trainer and a recorded session drive the same widgets the same way."""

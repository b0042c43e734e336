"""Run the desktop client with `python -m hms_desktop`."""

from hms_desktop.app import main

raise SystemExit(main())

import sys

from hms_server.cli import main

sys.exit(main())

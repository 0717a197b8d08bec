"""``python -m avrobridge.registry serve ...`` (same as ``avrobridge registry serve ...``)."""

import sys

from .cli import main

sys.exit(main())

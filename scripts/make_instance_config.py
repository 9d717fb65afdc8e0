"""Write instance/config.py with a random SECRET_KEY for local development."""

import secrets
import sys
from pathlib import Path

target = Path(sys.argv[1])
target.write_text(
    "# Local development settings (git-ignored). Production reads SECRET_KEY and DATABASE_URL\n"
    "# from the environment instead.\n"
    f'SECRET_KEY = "{secrets.token_hex(32)}"\n',
    encoding="utf-8",
)
print(f"created {target}")

"""A stand-in for mpremote: records each command line and keeps copied files in a folder."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    log = Path(os.environ["FAKE_MPREMOTE_LOG"])
    board_fs = Path(os.environ["FAKE_MPREMOTE_FS"])
    with log.open("a") as out:
        out.write(json.dumps(argv) + "\n")
    if os.environ.get("FAKE_MPREMOTE_FAIL") in argv:
        print("mpremote: failed to access the device", file=sys.stderr)
        return 1
    if argv[:1] != ["connect"] or len(argv) < 3:
        return 2
    action = argv[2:]
    if action[:2] == ["fs", "cp"] and len(action) == 4 and action[3].startswith(":"):
        board_fs.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(action[2], board_fs / action[3][1:])
        return 0
    if action == ["reset"]:
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

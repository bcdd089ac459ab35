"""python -m localcluster build|start|stop|status

build   compile the pinned binaries (a no-op when current) and write the image archives
start   bring the management cluster up, or find it up; prints the admin kubeconfig path last
stop    take it down and remove everything it put on the machine; exit 1 if anything is left
status  daemons, apiserver readiness, nodes (JSON); exit 0 only when the cluster is up
"""

import json
import subprocess
import sys


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "build":
        from . import build, images

        build.build_all()
        written = images.write_archives()
        print(f"image archives: {len(written)} written, {len(images.all_images()) - len(written)} current")
        return 0
    if command == "start":
        from . import cluster

        print(cluster.start())
        return 0
    if command == "stop":
        from . import cluster

        left = cluster.stop()
        if left:
            print(json.dumps(left, indent=1), file=sys.stderr)
        return 1 if left else 0
    if command == "status":
        from . import cluster

        info = cluster.status()
        print(json.dumps(info, indent=1))
        return 0 if info["running"] else 3
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(f"{exc.cmd[0]} failed:\n{exc.stderr or ''}")
        sys.exit(exc.returncode or 1)
    except RuntimeError as exc:  # cluster.StartError and cleanup's "could not remove"
        sys.stderr.write(f"{exc}\n")
        sys.exit(1)

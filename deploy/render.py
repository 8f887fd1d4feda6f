"""Render the nginx configuration from the templates in deploy/nginx/.

    python -m deploy.render site --servers 127.0.0.1:8001-8004 --listen 80 > tabour.conf
    python -m deploy.render standalone --prefix DIR --site DIR/tabour.conf > DIR/nginx.conf

Placeholders are ``{{name}}`` (nginx's own ``$variables`` stay as they are); a
placeholder left unfilled is an error, never a silently broken config.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SITE_TEMPLATE = HERE / "nginx" / "tabour.conf.template"
STANDALONE_TEMPLATE = HERE / "nginx" / "standalone.conf.template"
EXAMPLE_SITE = HERE / "nginx" / "tabour.conf"
# what the rendered example in deploy/nginx/tabour.conf is made from
EXAMPLE = {"servers": ["127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003", "127.0.0.1:8004"],
           "listen": ["80", "[::]:80"], "server_name": "_",
           "access_log": "/var/log/nginx/tabour.access.log"}


def fill(template: str, **values) -> str:
    def sub(m: re.Match) -> str:
        if m.group(1) not in values:
            raise KeyError(f"no value for {{{{{m.group(1)}}}}}")
        return str(values[m.group(1)])
    return re.sub(r"\{\{(\w+)\}\}", sub, template)


def expand_servers(specs: list[str]) -> list[str]:
    """'127.0.0.1:8001-8004' -> four addresses; 'host:port' stays one."""
    out = []
    for spec in specs:
        host, _, ports = spec.rpartition(":")
        if "-" in ports:
            first, last = (int(p) for p in ports.split("-"))
            out += [f"{host}:{p}" for p in range(first, last + 1)]
        else:
            out.append(spec)
    return out


def site(servers: list[str], listen: list[str], server_name: str = "_",
         access_log: str = "/var/log/nginx/tabour.access.log", max_fails: int = 3,
         fail_timeout: str = "10s") -> str:
    if not servers:
        raise ValueError("at least one server process")
    upstream = "\n".join(f"    server {s} max_fails={max_fails} fail_timeout={fail_timeout};"
                         for s in servers)
    return fill(SITE_TEMPLATE.read_text(), upstream_servers=upstream,
                listen="\n".join(f"    listen {x};" for x in listen),
                server_name=server_name, access_log=access_log,
                max_fails=max_fails, fail_timeout=fail_timeout)


def standalone(prefix: Path, site_path: Path, mime_types: str = "/etc/nginx/mime.types") -> str:
    # as root, nginx would hand its workers to "nobody", who cannot write under a
    # private prefix (pytest's folders are 0700): keep them as the user who started it
    user = "user root;" if os.geteuid() == 0 else "# (started by an ordinary user: no 'user')"
    return fill(STANDALONE_TEMPLATE.read_text(), user=user, prefix=prefix, site=site_path,
                mime_types=mime_types)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.render", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("site", help="the Tabour site (upstream + server), for sites-enabled/")
    s.add_argument("--servers", nargs="+", default=EXAMPLE["servers"],
                   help="host:port of each process, or host:FIRST-LAST")
    s.add_argument("--listen", nargs="+", default=EXAMPLE["listen"],
                   help="what nginx listens on, e.g. 80 or 10.0.0.5:80")
    s.add_argument("--server-name", default=EXAMPLE["server_name"])
    s.add_argument("--access-log", default=EXAMPLE["access_log"])
    s.add_argument("--max-fails", type=int, default=3)
    s.add_argument("--fail-timeout", default="10s")
    st = sub.add_parser("standalone", help="a whole nginx.conf for an unprivileged nginx")
    st.add_argument("--prefix", type=Path, required=True)
    st.add_argument("--site", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.what == "site":
        sys.stdout.write(site(expand_servers(args.servers), args.listen, args.server_name,
                              args.access_log, args.max_fails, args.fail_timeout))
    else:
        sys.stdout.write(standalone(args.prefix.resolve(), args.site.resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: MIT
"""Reads the daemons' INI configuration files (user/lib/runtime/config.c:
"[section]", "key = value", '#' and ';' start comments)."""
import re


def parse_ini(text):
    """{section: {key: value}}; keys before any section go to ''."""
    out = {}
    sec = ''
    for raw in text.split('\n'):
        line = raw.strip()
        if not line or line[0] in '#;':
            continue
        m = re.fullmatch(r'\[([^\]]+)\]', line)
        if m:
            sec = m.group(1)
            out.setdefault(sec, {})
            continue
        key, eq, value = line.partition('=')
        if eq and key.strip():
            out.setdefault(sec, {})[key.strip()] = value.strip()
    return out


def host_port(s):
    """"0.0.0.0:9101" / "[::]:7100" -> (host, port), or None."""
    m = re.fullmatch(r'\[?([^\]]*)\]?:(\d+)', s or '')
    return (m.group(1), int(m.group(2))) if m else None


def seconds(s):
    """"10s", "500ms", "2m" -> seconds, or None when not a duration."""
    m = re.fullmatch(r'(\d+)(ms|s|m|h|d)?', s or '')
    if not m:
        return None
    unit = {'ms': 0.001, 's': 1, 'm': 60, 'h': 3600, 'd': 86400}[m.group(2) or 's']
    return int(m.group(1)) * unit

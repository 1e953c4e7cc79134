#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""compare.py KUSTOMIZATION_DIR KUBECTL_OUTPUT.yaml: prints nothing when
k8slib/render.py and `kubectl kustomize` render the same objects (generated
ConfigMap names compared without their hash suffix: the hashes differ by
design, see render.name_hash), else the first differences."""
import json
import re
import sys

import yaml

from k8slib import render


def strip(name):
    """A generated name without its hash suffix."""
    return re.sub(r'-[a-z0-9]{10}$', '-<hash>', name)


def key(o):
    return f"{o['kind']}/{strip(o['metadata']['name'])}"


def main(d, kubectl_out):
    ours, _ = render.render(d)
    generated = {strip(o['metadata']['name']) for o in ours if '__generatedFrom' in o}

    def norm(v):
        """v without bookkeeping keys, generated names without their hash."""
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items() if not k.startswith('__')}
        if isinstance(v, list):
            return [norm(x) for x in v]
        if isinstance(v, str) and strip(v) in generated:
            return strip(v)
        return v

    with open(kubectl_out, encoding='utf-8') as f:
        theirs = [o for o in yaml.safe_load_all(f) if o]
    a = {key(o): norm(o) for o in ours}
    b = {key(o): norm(o) for o in theirs}
    out = []
    for k in list(a) + [k for k in b if k not in a]:
        if k not in a or k not in b:
            out.append(f"{k}: only in {'render.py' if k in a else 'kubectl'}")
        elif json.dumps(a[k], sort_keys=True) != json.dumps(b[k], sort_keys=True):
            out.append(f'{k}: differs')
    if out:
        print('\n'.join(out[:5]))


if __name__ == '__main__':
    main(*sys.argv[1:3])
